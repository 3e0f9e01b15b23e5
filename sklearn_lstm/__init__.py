"""Recurrent neural networks in plain NumPy with the scikit-learn API."""

__version__ = "0.1.0"
