"""Sample weights that evaluate a metric as if the classes had a stated prior.

F1, precision and average precision depend on how common the positive class is
in the data they are measured on. Weighting every sample of class ``c`` by
``share_c * n / n_c`` makes the weighted data have the class shares
``share_c`` while keeping every prediction, so any metric that takes
``sample_weight`` is then evaluated at that prior (Siblini et al., 2020).
"""

import math
import numbers

import numpy as np
from sklearn.utils.validation import column_or_1d

__all__ = ["check_class_prior", "class_prior_weights", "describe_class_prior"]

_PRIOR_NAMES = ("train", "balanced")
_ACCEPTED = (
    '"train", "balanced", a float in the open interval (0, 1) (the positive '
    "class's share, binary labels only) or a dict {label: share} with every "
    "share in (0, 1) and the shares summing to 1"
)
_SUM_TOLERANCE = 1e-6


def _check_share(share, name):
    """Refuse a share that is not a real number in the open interval (0, 1)."""
    if isinstance(share, bool | np.bool_) or not isinstance(share, numbers.Real):
        raise TypeError(
            f"{name}={share!r} is a {type(share).__name__}, not a share; "
            f"class_prior must be {_ACCEPTED}."
        )
    # `not 0 < share < 1` also catches NaN.
    if not 0 < share < 1:
        raise ValueError(
            f"{name}={share!r} is not a share in the open interval (0, 1); "
            f"class_prior must be {_ACCEPTED}."
        )


def _check_class_prior_form(class_prior):
    """The checks that need no labels: type, known names, shares and their sum."""
    if isinstance(class_prior, bool | np.bool_) or not isinstance(
        class_prior, str | numbers.Real | dict
    ):
        raise TypeError(
            f"class_prior={class_prior!r} has the wrong type "
            f"({type(class_prior).__name__}); class_prior must be {_ACCEPTED}."
        )
    if isinstance(class_prior, str):
        if class_prior not in _PRIOR_NAMES:
            raise ValueError(
                f"class_prior={class_prior!r} is not a known prior; "
                f"class_prior must be {_ACCEPTED}."
            )
    elif isinstance(class_prior, numbers.Real):
        _check_share(class_prior, "class_prior")
    else:
        if not class_prior:
            raise ValueError(
                f"class_prior={class_prior!r} is an empty dict; "
                f"class_prior must be {_ACCEPTED}."
            )
        for label, share in class_prior.items():
            _check_share(share, f"class_prior[{label!r}]")
        total = math.fsum(class_prior.values())
        if abs(total - 1) > _SUM_TOLERANCE:
            raise ValueError(
                f"class_prior={class_prior!r} has shares that sum to {total:.6g}, "
                "not 1; give every class its share of the data, summing to 1."
            )


def check_class_prior(class_prior, classes, *, pos_label=None):
    """Validate a class prior against the known classes and normalise it.

    Call it before any training to fail early: the same checks run again
    when the prior is applied, but only once labels are at hand.

    Parameters
    ----------
    class_prior : "train", "balanced", float or dict
        ``"train"``: the data's own class proportions. ``"balanced"``: every
        class equally frequent. A float in the open interval (0, 1): the
        positive class's share, for two classes only. A dict ``{label:
        share}``: a share in (0, 1) for every class, summing to 1 (within
        1e-6).
    classes : array-like of shape (n_classes,)
        All class labels.
    pos_label : int, float, bool or str, default=None
        The positive class of a float ``class_prior``. ``None`` means
        scikit-learn's default positive label, 1.

    Returns
    -------
    class_prior : "train", "balanced" or dict
        The strings unchanged; a float or dict as a dict ``{label: share}``
        over all ``classes`` (sorted, as plain Python values), the shares
        rescaled to sum to exactly 1.

    Raises
    ------
    TypeError
        When ``class_prior`` or one of its shares has the wrong type (a bool
        included).
    ValueError
        Naming ``class_prior`` (or ``pos_label``), the bad value and what is
        accepted: an unknown string, a share outside (0, 1), shares that do not
        sum to 1, a dict that misses a class or names an unknown one, a float
        for more than two classes, a positive label that is not a class.

    Examples
    --------
    >>> from skimbal.metrics import check_class_prior
    >>> check_class_prior("balanced", ["cat", "dog"])
    'balanced'
    >>> check_class_prior(0.1, ["cat", "dog"], pos_label="cat")
    {'cat': 0.1, 'dog': 0.9}
    >>> check_class_prior({0: 0.25, 1: 0.75}, [0, 1])
    {0: 0.25, 1: 0.75}
    >>> check_class_prior(0.1, ["cat", "dog"])
    Traceback (most recent call last):
    ...
    ValueError: pos_label=None means the positive class is 1, which is not ...
    >>> check_class_prior({"cat": 0.5, "bird": 0.5}, ["cat", "dog"])
    Traceback (most recent call last):
    ...
    ValueError: class_prior has classes ['bird'] that are not among the labels ...
    """
    _check_class_prior_form(class_prior)
    classes = np.unique(column_or_1d(np.asarray(classes), warn=False))
    if classes.size == 0:
        raise ValueError("classes is empty; a class prior needs at least one class.")
    if isinstance(class_prior, str):
        return class_prior
    labels = classes.tolist()  # plain Python values, also in messages
    if isinstance(class_prior, numbers.Real):
        if len(labels) != 2:
            raise ValueError(
                f"class_prior={class_prior!r} is the positive class's share, which "
                f"needs exactly two classes; there are {len(labels)}: {labels!r}. "
                'Use "balanced" or a dict {label: share} instead.'
            )
        positive = 1 if pos_label is None else pos_label
        if positive not in labels:
            meaning = (
                "pos_label=None means the positive class is 1, which is"
                if pos_label is None
                else f"pos_label={pos_label!r} is"
            )
            raise ValueError(
                f"{meaning} not one of the labels {labels!r}; class_prior="
                f"{class_prior!r} is the positive class's share, so pass "
                "pos_label= one of the labels."
            )
        shares = {label: 1.0 - class_prior for label in labels}
        shares[labels[labels.index(positive)]] = float(class_prior)
        return shares
    unknown = [label for label in class_prior if label not in labels]
    if unknown:
        raise ValueError(
            f"class_prior has classes {unknown!r} that are not among the labels "
            f"{labels!r}; class_prior={class_prior!r} must give a share to each "
            "label and to nothing else."
        )
    missing = [label for label in labels if label not in class_prior]
    if missing:
        raise ValueError(
            f"class_prior={class_prior!r} gives no share to the classes "
            f"{missing!r}; it must give a share to every label of {labels!r}."
        )
    total = math.fsum(class_prior.values())
    return {label: float(class_prior[label]) / total for label in labels}


def class_prior_weights(
    y_true, class_prior="balanced", *, pos_label=None, labels=None, sample_weight=None
):
    """Sample weights that make ``y_true`` have the class shares of a prior.

    A sample of class ``c`` gets the weight ``share_c * n / n_c``, where
    ``n_c`` is the number of samples of class ``c`` in ``y_true`` and
    ``n = len(y_true)``, so the weights sum to ``n`` and the weighted classes
    have the shares of ``class_prior``. With ``sample_weight``, the counts
    become weighted totals: sample ``i`` gets ``sample_weight_i * share_c * W
    / W_c``, with ``W_c`` the total weight of class ``c`` and ``W`` that of
    all samples. Any metric that takes
    ``sample_weight`` then gives the value it would have on data with that
    prior and the same per-class behaviour of the classifier: recall and the
    false-positive rate do not change, precision, F1 and average precision do
    (Siblini et al., 2020). On data whose classes have integer ratios it
    equals duplicating the rows of the rarer classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of the data the metric is computed on.
    class_prior : "train", "balanced", float or dict, default="balanced"
        ``"train"``: the data's own proportions (all weights 1).
        ``"balanced"``: every class present in ``y_true`` equally frequent.
        A float in the open interval (0, 1): the positive class's share
        (binary labels only). A dict ``{label: share}``: a share in (0, 1)
        for every class, summing to 1.
    pos_label : int, float, bool or str, default=None
        The positive class of a float ``class_prior``; ``None`` means 1, as in
        scikit-learn's binary metrics.
    labels : array-like of shape (n_classes,), default=None
        All class labels, when ``y_true`` may lack some (a small test fold).
        The prior is checked against them; a class the prior gives a share
        must still have samples in ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights the samples already carry. They are multiplied
        in, and the class shares are taken from the weighted totals, so a
        weight of 2 still counts like two copies of the sample. Returned
        unchanged for ``"train"``.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        Non-negative float64 weights summing to ``n_samples``, or to the sum
        of ``sample_weight`` when given.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_class_prior`; and a ValueError when the prior gives a
        share to a class with no samples (or a total weight of 0) in
        ``y_true``, or ``y_true`` holds a label that is not in ``labels``, or
        ``sample_weight`` is not a non-negative array of one weight per
        sample.

    See Also
    --------
    check_class_prior : The validation, before any labels are seen.
    make_prior_scorer : A scorer that applies these weights to each test fold.
    sklearn.utils.class_weight.compute_sample_weight : ``"balanced"`` gives the
        same weights.

    References
    ----------
    .. [1] W. Siblini, J. Fréry, L. He-Guelton, F. Oblé, Y.-Q. Wang,
       "Master your Metrics with Calibration", IDA 2020, arXiv:1909.02827.

    Examples
    --------
    The lecture's validation set: 1,500 cats (the positive class) and 1,500
    dogs; the network finds 821 cats and calls 11 dogs cats.

    >>> import numpy as np
    >>> from sklearn.metrics import f1_score, precision_score, recall_score
    >>> from skimbal.metrics import class_prior_weights
    >>> y_true = np.array(["dog"] * 1500 + ["cat"] * 1500)
    >>> y_pred = np.array(["dog"] * 1489 + ["cat"] * 11 + ["dog"] * 679 + ["cat"] * 821)
    >>> def recall_precision_f1(sample_weight=None):
    ...     return [
    ...         round(float(metric(y_true, y_pred, pos_label="cat",
    ...                            sample_weight=sample_weight)), 3)
    ...         for metric in (recall_score, precision_score, f1_score)
    ...     ]
    >>> recall_precision_f1()
    [0.547, 0.987, 0.704]

    The same predictions where one animal in 23 is a cat (cat 1 : dog 22):
    each cat counts 2/23, each dog 44/23. Recall stays, precision and F1 drop.

    >>> weights = class_prior_weights(y_true, 1 / 23, pos_label="cat")
    >>> weights[0].round(4), weights[-1].round(4), weights.sum().round(6)
    (np.float64(1.913), np.float64(0.087), np.float64(3000.0))
    >>> recall_precision_f1(weights)
    [0.547, 0.772, 0.641]

    ``"balanced"`` weights 90 negatives and 10 positives like 50 and 50:

    >>> np.unique(class_prior_weights([0] * 90 + [1] * 10, "balanced")).round(4)
    array([0.5556, 5.    ])
    """
    y = column_or_1d(np.asarray(y_true), warn=False)
    if y.size == 0:
        raise ValueError("y_true is empty; class prior weights need labels.")
    present, inverse = np.unique(y, return_inverse=True)
    if labels is None:
        classes = present
    else:
        classes = np.unique(column_or_1d(np.asarray(labels), warn=False))
        extra = np.setdiff1d(present, classes)
        if extra.size:
            raise ValueError(
                f"y_true has the labels {extra.tolist()!r} that are not in "
                f"labels={classes.tolist()!r}."
            )
    prior = check_class_prior(class_prior, classes, pos_label=pos_label)
    if sample_weight is None:
        weights = np.ones(y.size, dtype=np.float64)
    else:
        weights = np.array(sample_weight, dtype=np.float64)
        if weights.shape != y.shape or not np.all(
            np.isfinite(weights) & (weights >= 0)
        ):
            raise ValueError(
                "sample_weight must hold one finite non-negative weight per sample "
                f"of y_true ({y.size}); got shape {weights.shape} "
                f"with values from {float(weights.min(initial=np.inf))} to "
                f"{float(weights.max(initial=-np.inf))}."
            )
    if prior == "train":
        return weights
    totals = np.bincount(inverse, weights=weights, minlength=present.size)
    present_labels = present.tolist()
    # A class with a share needs weight to carry it: samples, and a positive
    # total of their sample weights.
    if prior == "balanced":
        shares = np.full(present.size, 1.0 / present.size)
        absent = present[totals == 0].tolist()
    else:
        absent = [
            label
            for label in prior
            if label not in present_labels or totals[present_labels.index(label)] == 0
        ]
        shares = np.array([prior[label] for label in present_labels])
    if absent:
        raise ValueError(
            f"class_prior={class_prior!r} gives a share to the classes "
            f"{absent!r}, but y_true has no samples of them (or only samples of "
            "weight 0); a prior can only reweight classes that are present."
        )
    return weights * (shares * weights.sum() / totals)[inverse]


def _percent(share):
    """0.043478 -> '4.3%', 0.5 -> '50%', 0.001 -> '0.1%', 0.999 -> '99.9%'."""
    percent = 100.0 * share
    # Two significant digits of the share or of its complement, whichever is
    # smaller, but never fewer than one decimal before trailing zeros go.
    closest = min(percent, 100.0 - percent)
    decimals = max(1, 1 - math.floor(math.log10(closest)))
    return f"{percent:.{decimals}f}".rstrip("0").rstrip(".") + "%"


def _label_words(label):
    """A class label as a reader sees it: 'cat', 'class 1'."""
    return label if isinstance(label, str) else f"class {label}"


def describe_class_prior(class_prior, classes, *, pos_label=None):
    """Say in words at which class prior a figure is.

    For table captions and console output: every F1 or precision should say
    at which prevalence it was measured.

    Parameters
    ----------
    class_prior : "train", "balanced", float or dict
        As in :func:`check_class_prior`.
    classes : array-like of shape (n_classes,)
        All class labels.
    pos_label : int, float, bool or str, default=None
        The positive class of a float ``class_prior``; ``None`` means 1.

    Returns
    -------
    description : str
        A phrase such as ``"as if cat made up 10% of the data"``.

    Examples
    --------
    >>> from skimbal.metrics import describe_class_prior
    >>> describe_class_prior("balanced", ["cat", "dog"])
    'as if cat and dog were equally frequent'
    >>> describe_class_prior("balanced", range(10))
    'as if all 10 classes were equally frequent'
    >>> describe_class_prior("train", ["cat", "dog"])
    "at the training data's own class proportions"
    >>> describe_class_prior(1 / 23, ["cat", "dog"], pos_label="cat")
    'as if cat made up 4.3% of the data'
    >>> describe_class_prior({"cat": 0.1, "dog": 0.9}, ["cat", "dog"])
    'as if cat were 10% and dog 90% of the data'
    """
    prior = check_class_prior(class_prior, classes, pos_label=pos_label)
    if prior == "train":
        return "at the training data's own class proportions"
    labels = np.unique(column_or_1d(np.asarray(classes), warn=False)).tolist()
    if prior == "balanced":
        if len(labels) == 1:
            return f"as if {_label_words(labels[0])} were the only class"
        if len(labels) == 2:
            first, second = map(_label_words, labels)
            return f"as if {first} and {second} were equally frequent"
        return f"as if all {len(labels)} classes were equally frequent"
    if isinstance(class_prior, numbers.Real):
        positive = 1 if pos_label is None else pos_label
        return (
            f"as if {_label_words(positive)} made up {_percent(prior[positive])} "
            "of the data"
        )
    items = list(prior.items())
    first_label, first_share = items[0]
    parts = [f"{_label_words(first_label)} were {_percent(first_share)}"]
    parts += [f"{_label_words(label)} {_percent(share)}" for label, share in items[1:]]
    # A dict prior has at least two classes: every share is below 1.
    return f"as if {', '.join(parts[:-1])} and {parts[-1]} of the data"
