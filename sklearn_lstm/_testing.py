"""Helpers for the tests: numerical gradients by centred differences, the
batches that ``_loss_grad`` reads."""

import numpy as np


def numerical_gradient(f, x, dout, h=1e-6):
    """Centred differences of ``sum(f() * dout)`` w.r.t. ``x`` (perturbed in place)."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(), copy=True)
        x[ix] = old - h
        neg = np.array(f(), copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * dout) / (2 * h)
    return grad


def relative_error(x, y):
    """Largest elementwise relative error, as in the CS231n gradient checks."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def network_batch(estimator, X, y):
    """``(X, mask, targets, sample_weight)`` of a fitted ``estimator``'s
    training data as ``_loss_grad`` reads them: ``X`` standardized and with
    its normal scores, as ``fit`` gives it to the network."""
    X, mask, targets, sample_weight = estimator._validate_fit_data(
        X, y, None, reset=False, incremental=True, classes=None
    )
    return estimator._encoder.transform(X, mask), mask, targets, sample_weight
