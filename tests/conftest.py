"""Shared fixtures: every public estimator with small data it can learn from.

A new estimator joins every estimator-wide test (common checks aside) with one
line in ``ESTIMATOR_CASES``.
"""

from collections import namedtuple

import numpy as np
import pytest

from sklearn_lstm import LSTMSequenceClassifier, RNNBinaryAdder
from sklearn_lstm.datasets import make_addition


def _sequences(n_samples=60, n_timesteps=6, n_features=2, seed=0):
    """Sequences whose class is the sign of the first feature at the first step."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    return X, np.where(X[:, 0, 0] > 0, "pos", "neg")


def _additions(n_samples=200, seed=0):
    return make_addition(n_samples, n_bits=6, random_state=seed)


Case = namedtuple("Case", ["name", "make_estimator", "X", "y"])
"""``make_estimator()`` gives a fresh, fast estimator; ``X, y`` fit it."""

ESTIMATOR_CASES = {
    "LSTMSequenceClassifier": (
        lambda: LSTMSequenceClassifier(
            hidden_size=8, learning_rate=0.02, max_iter=15, random_state=0
        ),
        _sequences,
    ),
    "RNNBinaryAdder": (lambda: RNNBinaryAdder(max_iter=5, random_state=0), _additions),
}


@pytest.fixture(params=list(ESTIMATOR_CASES))
def estimator_case(request):
    """One public estimator at a time, as a :data:`Case`."""
    make_estimator, make_data = ESTIMATOR_CASES[request.param]
    X, y = make_data()
    return Case(request.param, make_estimator, X, y)
