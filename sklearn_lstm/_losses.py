"""Loss functions on logits, with the gradient of their weighted sum.

Each function takes ``logits`` and ``targets`` of shape ``(..., K)`` and
``weights`` of shape ``logits.shape[:-1]`` (sample weights, times the mask for
per-step outputs) and returns ``(loss_sum, dlogits)``: the weighted sum of the
per-output losses and its gradient with respect to ``logits``. Working on
logits keeps both stable: no ``log(0)`` and no overflow.
"""

import numpy as np

from ._activations import log_sigmoid, log_softmax, sigmoid


def log_loss(logits, targets, weights):
    """Softmax cross-entropy; ``targets`` are one-hot (or probability) rows."""
    log_proba = log_softmax(logits)
    loss = -np.sum(weights * np.sum(targets * log_proba, axis=-1))
    dlogits = np.exp(log_proba)
    dlogits -= targets  # d(loss) / d(logits) = softmax(logits) - targets
    dlogits *= weights[..., None]
    return float(loss), dlogits


def binary_log_loss(logits, targets, weights):
    """Sigmoid cross-entropy for independent binary outputs."""
    # -[y log p + (1 - y) log(1 - p)], with log(1 - p) = log_sigmoid(-z)
    losses = -(targets * log_sigmoid(logits) + (1 - targets) * log_sigmoid(-logits))
    loss = np.sum(weights * np.sum(losses, axis=-1))
    dlogits = sigmoid(logits)
    dlogits -= targets
    dlogits *= weights[..., None]
    return float(loss), dlogits


def squared_error(predictions, targets, weights):
    """Half the squared error, summed over the outputs."""
    dpredictions = predictions - targets
    loss = 0.5 * np.sum(weights * np.sum(dpredictions * dpredictions, axis=-1))
    dpredictions *= weights[..., None]
    return float(loss), dpredictions


LOSS_FUNCTIONS = {
    "log_loss": log_loss,
    "binary_log_loss": binary_log_loss,
    "squared_error": squared_error,
}
