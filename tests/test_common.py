"""scikit-learn's own estimator checks, run on every skimbal estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skimbal import CNNClassifier


def _estimators():
    # Small settings: the checks fit dozens of times on tiny data sets.
    return [CNNClassifier(max_epochs=20, min_steps=0, lr=0.01, random_state=0)]


@parametrize_with_checks(_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
