"""Quick start: a CNN on the digit 3 versus the rest, plain vs class-weighted.

Run with ``python examples/quickstart.py``; takes about a minute on 2 cores.
"""

from imblearn.datasets import make_imbalance
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skimbal import CNNClassifier

X, y = load_digits(return_X_y=True)
y = (y == 3).astype(int)
# Make the digit 3 rare: 1 positive for every 50 negatives in training.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
n_negative = int((y_train == 0).sum())
X_train, y_train = make_imbalance(
    X_train, y_train, sampling_strategy={1: n_negative // 50}, random_state=0
)

for class_weight in [None, "balanced"]:
    clf = CNNClassifier(
        input_shape=(1, 8, 8),
        class_weight=class_weight,
        max_epochs=15,
        random_state=0,
    )
    clf.fit(X_train, y_train)
    f1 = f1_score(y_test, clf.predict(X_test))
    print(f"class_weight={class_weight!s:9}  test F1 = {f1:.3f}")
