"""corrected_ttest: scikit-learn's example, reproduced, and its edge cases."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
from sklearn.svm import SVC

from skimbal.model_selection import corrected_ttest


def test_reproduces_scikit_learns_statistical_comparison_example():
    # "Statistical comparison of models using grid search": rbf against linear
    # SVC, 10 x 10-fold repeated CV; its output reads
    # "Corrected t-value: 0.750, Corrected p-value: 0.227".
    X, y = make_moons(noise=0.352, random_state=1, n_samples=100)
    param_grid = [
        {"kernel": ["linear"]},
        {"kernel": ["poly"], "degree": [2, 3]},
        {"kernel": ["rbf"]},
    ]
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=10, random_state=0)
    search = GridSearchCV(SVC(random_state=0), param_grid, scoring="roc_auc", cv=cv)
    search.fit(X, y)
    results = pd.DataFrame(search.cv_results_).sort_values("rank_test_score")
    scores = results.filter(like="split").to_numpy()
    assert [p["kernel"] for p in results["params"][:2]] == ["rbf", "linear"]
    differences = scores[0] - scores[1]
    train, test = next(cv.split(X, y))
    t, p = corrected_ttest(differences, n_train=len(train), n_test=len(test))
    assert round(t, 3) == 0.750
    assert round(p, 3) == 0.227
    # The example's own formula, to full precision.
    k = len(differences)
    std = np.sqrt(np.var(differences, ddof=1) * (1 / k + len(test) / len(train)))
    assert t == pytest.approx(differences.mean() / std, rel=1e-12)
    assert p == pytest.approx(stats.t.sf(abs(t), k - 1), rel=1e-12)


def test_one_sided_and_degenerate_cases():
    d = np.array([0.02, 0.03, 0.01, 0.02, 0.04])
    t, p = corrected_ttest(d, n_train=80, n_test=20)
    t_neg, p_neg = corrected_ttest(-d, n_train=80, n_test=20)
    assert t > 0 and t_neg == -t
    assert p + p_neg == pytest.approx(1.0)  # one-sided: A better than B
    # The correction only ever widens the interval of the naive paired t-test.
    naive = stats.ttest_1samp(d, 0.0, alternative="greater")
    assert p > naive.pvalue
    assert corrected_ttest(np.zeros(5), n_train=80, n_test=20) == (0.0, 0.5)
    t, p = corrected_ttest(np.full(5, 0.1), n_train=80, n_test=20)
    assert t == np.inf and p == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"differences": [0.1]}, "at least 2 paired scores"),
        ({"differences": [0.1, np.nan]}, "must be finite"),
        ({"differences": [0.1, 0.2], "n_train": 0}, "must be positive"),
    ],
)
def test_bad_input(kwargs, message):
    kwargs = {"n_train": 10, "n_test": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        corrected_ttest(**kwargs)
