"""Equal training budgets: every strategy gets the same optimisation steps."""

import math

__all__ = ["step_budget"]


def step_budget(estimator, n_samples):
    """Parameters that give ``estimator`` a budget in steps, not epochs.

    Oversampling multiplies the rows of an epoch, undersampling divides
    them, so at a fixed number of epochs the strategies also differ in how
    many optimisation steps they take (see the pitfalls in the user guide).
    This turns the estimator's own epoch budget, ``max_epochs`` passes over
    ``n_samples`` un-resampled rows (at least ``min_steps`` steps), into a
    number of steps that every strategy then trains for: ``min_steps=S``
    with ``max_epochs=1``, so that a fit runs ``ceil(S / batches)`` epochs
    over whatever rows its sampler leaves.

    Parameters
    ----------
    estimator : classifier
        Needs ``max_epochs``, ``min_steps`` and ``batch_size`` parameters
        (as :class:`~skimbal.CNNClassifier` has) and no early stopping;
        otherwise no budget is set.
    n_samples : int
        Rows one fit receives before any sampler.

    Returns
    -------
    params : dict
        ``{"max_epochs": 1, "min_steps": S}``, or ``{}``.

    Examples
    --------
    >>> from skimbal import CNNClassifier
    >>> from skimbal.model_selection._budget import step_budget
    >>> step_budget(CNNClassifier(max_epochs=10, batch_size=64), 2000)
    {'max_epochs': 1, 'min_steps': 320}
    >>> step_budget(CNNClassifier(max_epochs=10, batch_size=64), 100)
    {'max_epochs': 1, 'min_steps': 200}
    """
    params = estimator.get_params(deep=False)
    if not {"max_epochs", "min_steps", "batch_size"} <= params.keys():
        return {}
    if params.get("early_stopping"):
        return {}  # early stopping decides how long each fit trains
    batch_size = params["batch_size"]
    batches = 1 if batch_size == -1 else math.ceil(n_samples / batch_size)
    steps = max(params["min_steps"], params["max_epochs"] * batches)
    return {"max_epochs": 1, "min_steps": int(steps)}
