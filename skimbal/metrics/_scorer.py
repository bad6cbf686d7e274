"""Scorers that evaluate a scikit-learn metric at a stated class prior."""

import inspect

from sklearn.metrics import get_scorer, make_scorer

from ._prior import _check_class_prior_form, class_prior_weights

__all__ = ["make_prior_scorer"]


def _scorer_parts(scoring):
    """(metric, response_method, kwargs, sign) of a scorer name or object.

    Returns None when ``scoring`` is neither a scorer name nor an object made
    by :func:`sklearn.metrics.make_scorer` (a plain metric function).

    scikit-learn has no public way to take a scorer apart, so this reads the
    private attributes ``_score_func``, ``_response_method``, ``_kwargs`` and
    ``_sign`` (the same ones ``TunedThresholdClassifierCV`` reads, scikit-learn
    1.5 to 1.9). If a release renames them, scorer names stop working in
    :func:`make_prior_scorer` with the TypeError below, while metric functions
    keep working; fix it here, in this one place.
    """
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    try:
        return (
            scorer._score_func,
            scorer._response_method,
            dict(scorer._kwargs),
            scorer._sign,
        )
    except AttributeError as exc:
        if isinstance(scoring, str):
            raise TypeError(
                f"scoring={scoring!r}: this scikit-learn version does not expose "
                "the metric of its scorers as skimbal expects; pass the metric "
                "function instead, e.g. make_prior_scorer(f1_score, ...)."
            ) from exc
        return None


def _metric_name(metric):
    return getattr(metric, "__name__", None) or repr(metric)


class _MetricAtPrior:
    """``metric`` with ``sample_weight`` multiplied by class-prior weights.

    A class rather than a closure so that scorers pickle (joblib workers) and
    print which prior they use: ``make_scorer``'s repr shows ``__name__``.
    """

    def __init__(self, metric, class_prior, pos_label):
        self.metric = metric
        self.class_prior = class_prior
        self.pos_label = pos_label
        self.__name__ = f"{_metric_name(metric)} at class_prior={class_prior!r}"

    def __call__(self, y_true, y_pred, *, sample_weight=None, **kwargs):
        # At "train" nothing changes, so the score equals scikit-learn's exactly.
        if not (isinstance(self.class_prior, str) and self.class_prior == "train"):
            sample_weight = class_prior_weights(
                y_true,
                self.class_prior,
                pos_label=self.pos_label,
                sample_weight=sample_weight,
            )
        return self.metric(y_true, y_pred, sample_weight=sample_weight, **kwargs)

    def __repr__(self):
        return self.__name__


def make_prior_scorer(scoring, *, class_prior, pos_label=None, **kwargs):
    """A scorer that evaluates a metric as if the classes had a stated prior.

    Each time it scores, the scorer weights the samples of the test data by
    :func:`class_prior_weights` (times any ``sample_weight`` passed to it,
    with the class shares taken from the weighted totals), so
    F1, precision or average precision come out as they would on data with
    the class shares of ``class_prior``. It is an ordinary
    :func:`sklearn.metrics.make_scorer` object: use it as ``scoring=`` in
    ``cross_val_score``, ``GridSearchCV`` or ``TunedThresholdClassifierCV``.

    Parameters
    ----------
    scoring : str or callable
        A scikit-learn scorer name (``"f1"``, ``"average_precision"``,
        ``"f1_macro"``, ...; see :func:`sklearn.metrics.get_scorer_names`), a
        scorer made by :func:`~sklearn.metrics.make_scorer`, or a metric
        function ``f(y_true, y_pred, *, sample_weight=None, ...)``.
    class_prior : "train", "balanced", float or dict
        The class shares to evaluate at, as in :func:`class_prior_weights`.
        ``"train"`` leaves the metric unchanged: the scorer then equals
        scikit-learn's exactly.
    pos_label : int, float, bool or str, default=None
        The positive class: passed to binary metrics that take it (F1,
        precision, recall, average precision, Jaccard) and used by a float
        ``class_prior``. ``None`` keeps the metric's default (1).
    **kwargs
        Passed to the metric (``average="macro"``, ``zero_division=0.0``);
        ``response_method`` and ``greater_is_better`` go to ``make_scorer``
        (a metric function defaults to ``"predict"`` and ``True``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, sample_weight=None)``, made by
        :func:`sklearn.metrics.make_scorer`.

    Raises
    ------
    TypeError, ValueError
        When ``class_prior`` is malformed (an unknown string, a bool, a share
        outside (0, 1), dict shares that do not sum to 1): checked here; its
        labels can only be checked when the scorer sees ``y_true``. When
        ``scoring`` is not a scorer name or callable, or its metric takes no
        ``sample_weight``.

    See Also
    --------
    class_prior_weights : The weights applied to each test set.
    describe_class_prior : Words for the prior, for table captions.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skimbal.metrics import make_prior_scorer
    >>> X, y = make_classification(n_samples=600, weights=[0.9], flip_y=0,
    ...                            random_state=1)
    >>> f1_balanced = make_prior_scorer("f1", class_prior="balanced")
    >>> f1_balanced
    make_scorer(f1_score at class_prior='balanced', response_method='predict',
                average=binary, pos_label=1)

    The same folds and models, F1 at the data's 59 : 541 and as if balanced:

    >>> model = LogisticRegression()
    >>> round(float(cross_val_score(model, X, y, scoring="f1").mean()), 3)
    0.628
    >>> round(float(cross_val_score(model, X, y, scoring=f1_balanced).mean()), 3)
    0.686
    """
    _check_class_prior_form(class_prior)
    response_method = kwargs.pop("response_method", None)
    greater_is_better = kwargs.pop("greater_is_better", None)
    if not isinstance(scoring, str) and not callable(scoring):
        raise TypeError(
            f"scoring={scoring!r} is neither a scikit-learn scorer name nor a "
            "callable; pass e.g. 'f1' or a metric function such as f1_score."
        )
    try:
        parts = _scorer_parts(scoring)
    except ValueError as exc:  # get_scorer's unknown name
        raise ValueError(
            f"scoring={scoring!r} is not a scikit-learn scorer name; see "
            "sklearn.metrics.get_scorer_names(), or pass a metric function."
        ) from exc
    if parts is None:
        metric, default_response_method, metric_kwargs, sign = scoring, "predict", {}, 1
    else:
        metric, default_response_method, metric_kwargs, sign = parts
    if response_method is None:
        response_method = default_response_method
    if greater_is_better is None:
        greater_is_better = sign > 0
    metric_kwargs.update(kwargs)

    parameters = inspect.signature(metric).parameters
    takes_any_keyword = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
    if "sample_weight" not in parameters and not takes_any_keyword:
        raise TypeError(
            f"scoring={scoring!r}: {_metric_name(metric)} takes no sample_weight, "
            "so it cannot be evaluated at a class prior; pass a metric that "
            "accepts sample_weight."
        )
    if "pos_label" in parameters:
        # Averaged metrics ignore (and warn about) pos_label; binary ones need
        # it, and the scorer itself reads it to pick the positive column of
        # predict_proba, so it is always set explicitly, as scikit-learn would.
        if pos_label is not None and metric_kwargs.get("average", "binary") == "binary":
            metric_kwargs["pos_label"] = pos_label
        elif parameters["pos_label"].default is not inspect.Parameter.empty:
            metric_kwargs.setdefault("pos_label", parameters["pos_label"].default)
    return make_scorer(
        _MetricAtPrior(metric, class_prior, pos_label),
        response_method=response_method,
        greater_is_better=greater_is_better,
        **metric_kwargs,
    )
