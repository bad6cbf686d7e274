"""Which differences between cross-validated scores are real: corrected t-tests."""

import numpy as np
from scipy import stats

__all__ = ["corrected_ttest"]


def corrected_ttest(differences, *, n_train, n_test):
    """One-sided corrected resampled t-test on paired cross-validation scores.

    Scores of two models on the same folds are not independent samples: the
    training sets overlap, so the plain paired t-test finds differences that
    are not there. Nadeau & Bengio's correction inflates the variance by
    ``n_test / n_train``; Bouckaert & Frank showed it also holds for
    repeated k-fold cross-validation, with one difference per fold and
    repeat. This is the test of scikit-learn's example "Statistical
    comparison of models using grid search".

    Parameters
    ----------
    differences : array-like of shape (n_splits,)
        Score of model A minus score of model B on each split (all folds of
        all repeats), the same splits for both.
    n_train : int
        Training samples per split.
    n_test : int
        Test samples per split.

    Returns
    -------
    t_statistic : float
        Mean difference over its corrected standard error. ``0.0`` when
        every difference is 0; ``±inf`` when they are all equal and not 0.
    p_value : float
        One-sided: the chance of a mean difference at least this large if
        A were not better than B (``scipy.stats.t.sf`` with
        ``n_splits - 1`` degrees of freedom). Small values say A is better.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the generalization
       error", Machine Learning 52, 2003.
    .. [2] R. R. Bouckaert and E. Frank, "Evaluating the replicability of
       significance tests for comparing learning algorithms", PAKDD 2004.

    Examples
    --------
    Ten folds of two models, where A is ahead by 0.02 on average:

    >>> import numpy as np
    >>> from skimbal.model_selection import corrected_ttest
    >>> d = np.array([0.03, 0.01, 0.02, 0.04, 0.00, 0.02, 0.03, 0.01, 0.02, 0.02])
    >>> t, p = corrected_ttest(d, n_train=90, n_test=10)
    >>> round(t, 2), round(p, 4)
    (3.77, 0.0022)
    """
    differences = np.asarray(differences, dtype=float).ravel()
    k = differences.size
    if k < 2:
        raise ValueError(f"differences must hold at least 2 paired scores; got {k}.")
    if not np.all(np.isfinite(differences)):
        raise ValueError("differences must be finite; got NaN or infinity.")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(
            f"n_train and n_test must be positive; got n_train={n_train!r}, "
            f"n_test={n_test!r}."
        )
    mean = differences.mean()
    variance = differences.var(ddof=1) * (1 / k + n_test / n_train)
    if variance == 0:
        if mean == 0:
            return 0.0, 0.5
        t_statistic = np.copysign(np.inf, mean)
    else:
        t_statistic = mean / np.sqrt(variance)
    return float(t_statistic), float(stats.t.sf(t_statistic, k - 1))
