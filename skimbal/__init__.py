"""skimbal: imbalanced image classification with CNNs, the scikit-learn way."""

from ._classifier import CNNClassifier
from ._persistence import ModelFormatError, load_model, save_model

__version__ = "0.1.0.dev0"

__all__ = [
    "CNNClassifier",
    "ModelFormatError",
    "__version__",
    "load_model",
    "save_model",
]
