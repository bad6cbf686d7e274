"""FoldEnsembleClassifier: the fold models compare_strategies hands back."""

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skimbal.model_selection import FoldEnsembleClassifier
from skimbal.model_selection._ensemble import EPS, fitted_fold_ensemble


@parametrize_with_checks([FoldEnsembleClassifier(LogisticRegression(), cv=3)])
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@pytest.fixture
def data():
    return make_classification(n_samples=120, weights=[0.8], random_state=0)


def test_one_member_per_training_fold(data):
    X, y = data
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    model = FoldEnsembleClassifier(LogisticRegression(), cv=folds).fit(X, y)
    assert len(model.estimators_) == 4
    for member, (train, _) in zip(model.estimators_, folds, strict=True):
        expected = LogisticRegression().fit(X[train], y[train])
        np.testing.assert_allclose(member.coef_, expected.coef_)


def test_binary_probability_is_the_mean_log_odds(data):
    X, y = data
    model = FoldEnsembleClassifier(LogisticRegression(C=0.1), cv=3).fit(X, y)
    logits = [logit(m.predict_proba(X)[:, 1]) for m in model.estimators_]
    np.testing.assert_allclose(
        model.predict_proba(X)[:, 1], expit(np.mean(logits, axis=0)), rtol=1e-9
    )
    np.testing.assert_array_equal(
        model.predict(X), model.classes_[model.predict_proba(X).argmax(axis=1)]
    )


def test_multiclass_probability_is_the_normalised_geometric_mean():
    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, random_state=0
    )
    model = FoldEnsembleClassifier(LogisticRegression(), cv=3).fit(X, y)
    geometric = np.exp(
        np.mean([np.log(m.predict_proba(X)) for m in model.estimators_], axis=0)
    )
    np.testing.assert_allclose(
        model.predict_proba(X), geometric / geometric.sum(axis=1, keepdims=True)
    )


def test_a_member_that_says_zero_does_not_veto_the_others(data):
    X, y = data
    sure = DummyClassifier(strategy="constant", constant=0).fit(X, y)  # proba 0 / 1
    unsure = DummyClassifier(strategy="prior").fit(X, y)
    model = fitted_fold_ensemble(unsure, [], [sure, unsure])
    p1 = model.predict_proba(X[:1])[0, 1]
    prior = y.mean()
    expected = expit((logit(EPS) + logit(prior)) / 2)
    assert p1 == pytest.approx(expected, rel=1e-6)
    assert p1 > 0


def test_members_must_share_their_classes(data):
    X, y = data
    one = LogisticRegression().fit(X, y)
    other = LogisticRegression().fit(X, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="Every member must know the same classes"):
        fitted_fold_ensemble(one, [], [one, other])
    with pytest.raises(ValueError, match="needs at least one member"):
        fitted_fold_ensemble(one, [], [])
