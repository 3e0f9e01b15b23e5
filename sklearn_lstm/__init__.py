"""Recurrent neural networks in plain NumPy with the scikit-learn API."""

from . import datasets
from ._binary_adder import RNNBinaryAdder
from ._classifier import LSTMSequenceClassifier

__version__ = "0.1.0"
__all__ = ["LSTMSequenceClassifier", "RNNBinaryAdder", "datasets", "__version__"]
