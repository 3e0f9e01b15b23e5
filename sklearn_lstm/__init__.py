"""Recurrent neural networks in plain NumPy with the scikit-learn API."""

from . import datasets, forecasting
from ._binary_adder import RNNBinaryAdder
from ._classifier import LSTMSequenceClassifier
from ._config import config_context, get_config, set_config
from ._language_model import LSTMLanguageModel
from ._persistence import InconsistentVersionWarning
from ._preprocessing import SequenceNormalizer, SequenceStandardScaler
from ._regressor import LSTMSequenceRegressor
from ._show_versions import show_versions
from ._tagger import LSTMSequenceTagger
from ._version import __version__

__all__ = [
    "InconsistentVersionWarning",
    "LSTMLanguageModel",
    "LSTMSequenceClassifier",
    "LSTMSequenceRegressor",
    "LSTMSequenceTagger",
    "RNNBinaryAdder",
    "SequenceNormalizer",
    "SequenceStandardScaler",
    "config_context",
    "datasets",
    "forecasting",
    "get_config",
    "set_config",
    "show_versions",
    "__version__",
]
