"""A comparison's frozen-body features: computed once, used by every fit.

When the compared classifier has a frozen body (see ``feature_cache`` of
:class:`~skimbal.CNNClassifier`), every candidate and fold would compute the
body's output for the same images. :func:`shared_feature_table` computes it
once per distinct image of the data set, without labels, before any fit;
each fit then finds its rows in that table (copies made by a sampler
included) and trains, and predicts its test fold, with the head alone.
"""

from sklearn.base import clone

__all__ = ["shared_feature_table"]


def shared_feature_table(estimator, X, classes, memory=None):
    """Compute the frozen-body features of every distinct row of X, once.

    Parameters
    ----------
    estimator : classifier
        The comparison's classifier (the pipeline's ``clf`` step), not
        modified. Anything but a :class:`~skimbal.CNNClassifier` whose
        network has a frozen body and ``feature_cache`` not ``False`` gets
        ``None``.
    X : array-like
        All the comparison's samples, pixels or image paths.
    classes : ndarray
        The labels; only their number is used (to build the network as the
        fits do). The body never sees a label.
    memory : joblib.Memory or None, default=None
        Where a table computed before for the same body and rows is read
        from, and this one is written.

    Returns
    -------
    table : FeatureTable or None
        ``None`` when there is nothing to share, or when building the
        network fails here (each fit then reports its own error).
    """
    compute = getattr(estimator, "_feature_table", None)
    if compute is None:
        return None
    feature_cache = estimator.get_params().get("feature_cache", "auto")
    if feature_cache is False or (
        not isinstance(feature_cache, str) and not bool(feature_cache)
    ):
        return None
    net = clone(estimator)
    try:
        return net._feature_table(X, classes, memory=memory)
    except Exception:  # the fits report it, one per candidate and fold
        return None
