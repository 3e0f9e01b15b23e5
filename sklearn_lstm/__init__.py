"""Recurrent neural networks in plain NumPy with the scikit-learn API."""

from ._classifier import LSTMSequenceClassifier

__version__ = "0.1.0"
__all__ = ["LSTMSequenceClassifier", "__version__"]
