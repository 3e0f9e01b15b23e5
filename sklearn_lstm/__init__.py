"""Recurrent neural networks in plain NumPy with the scikit-learn API."""

from . import datasets
from ._binary_adder import RNNBinaryAdder
from ._classifier import LSTMSequenceClassifier
from ._language_model import LSTMLanguageModel
from ._persistence import InconsistentVersionWarning
from ._preprocessing import SequenceNormalizer, SequenceStandardScaler
from ._regressor import LSTMSequenceRegressor
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
    "datasets",
    "__version__",
]
