"""skimbal: imbalanced image classification with CNNs, the scikit-learn way."""

from ._classifier import CNNClassifier

__version__ = "0.1.0.dev0"

__all__ = ["CNNClassifier", "__version__"]
