"""skimbal: imbalanced image classification with CNNs, the scikit-learn way.

The public names are imported on first use (PEP 562), so that ``import
skimbal`` and the ``skimbal`` command line's help do not pay for PyTorch;
``from skimbal import CNNClassifier`` works as usual.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_names

__version__ = "0.1.0.dev0"

#: Public name -> the private module that defines it.
_LAZY = {
    "BackboneFeatures": "._backbone_features",
    "CNNClassifier": "._classifier",
    "ModelFormatError": "._persistence",
    "load_model": "._persistence",
    "save_model": "._persistence",
}

__all__ = [
    "BackboneFeatures",
    "CNNClassifier",
    "ModelFormatError",
    "__version__",
    "load_model",
    "save_model",
]

if TYPE_CHECKING:  # static analysers and IDEs see the names as plain imports
    from ._backbone_features import BackboneFeatures
    from ._classifier import CNNClassifier
    from ._persistence import ModelFormatError, load_model, save_model


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
