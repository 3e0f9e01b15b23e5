"""Dispatch of the LSTM and vanilla RNN sequence functions (and of the
optimizers' updates and the 'max' readout) to the compiled extension or to
NumPy, per call, as :func:`sklearn_lstm.set_config` says.

The functions here have the signatures of :mod:`sklearn_lstm._cells`'s
sequence functions, and are what its ``CELLS`` table holds. The two
implementations return the same cache, so that a backward pass consumes the
cache of either forward pass, whatever the configuration in between.
"""

import importlib

from . import _config

_FUSED = "sklearn_lstm._fused"
_CELLS = "sklearn_lstm._cells"

# The compiled module, or the ImportError its import raised; imported on first
# use, so that this module and _cells import each other freely.
_compiled = None


def compiled_module(required=False):
    """The compiled extension module, or None if it is not built.

    Parameters
    ----------
    required : bool, default=False
        Raise instead of returning None.

    Returns
    -------
    module : module or None

    Raises
    ------
    ImportError
        If ``required`` and the extension is not built (or does not import).
    """
    global _compiled
    if _compiled is None:
        try:
            _compiled = importlib.import_module(_FUSED)
        except ImportError as exc:
            _compiled = exc
    if isinstance(_compiled, ImportError):
        if required:
            raise ImportError(
                "backend='compiled' needs the compiled extension "
                f"{_FUSED}, which is not built or does not import "
                f"({_compiled}); reinstall sklearn_lstm with a C compiler "
                "available (pip install -e .), or use backend='numpy'."
            ) from _compiled
        return None
    return _compiled


def backend_in_use():
    """``'compiled'`` or ``'numpy'``: what the configuration runs now."""
    return "compiled" if _implementation().__name__ == _FUSED else "numpy"


def _implementation():
    """The module whose sequence functions run now."""
    backend = _config._global_config["backend"]
    if backend != "numpy":
        if backend not in _config.BACKENDS:
            _config._check_backend(backend, "SKLEARN_LSTM_BACKEND")
        module = compiled_module(required=backend == "compiled")
        if module is not None:
            return module
    return importlib.import_module(_CELLS)


def compiled_function(name):
    """The compiled extension's function ``name`` when the configured backend
    runs compiled code, else None (for what has no counterpart of that name in
    :mod:`sklearn_lstm._cells`: the optimizers' updates and the 'max'
    readout, whose NumPy code is where they are called from)."""
    module = _implementation()
    return getattr(module, name) if module.__name__ == _FUSED else None


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None, workspace=None):
    """:func:`sklearn_lstm._cells.lstm_forward` on the configured backend."""
    return _implementation().lstm_forward(
        x, h0, c0, Wx, Wh, b, mask=mask, workspace=workspace
    )


def lstm_backward(dh, cache, need_dx=True):
    """:func:`sklearn_lstm._cells.lstm_backward` on the configured backend."""
    return _implementation().lstm_backward(dh, cache, need_dx=need_dx)


def rnn_forward(x, h0, Wx, Wh, b, mask=None, activation="tanh", workspace=None):
    """:func:`sklearn_lstm._cells.rnn_forward` on the configured backend."""
    return _implementation().rnn_forward(
        x, h0, Wx, Wh, b, mask=mask, activation=activation, workspace=workspace
    )


def rnn_backward(dh, cache, need_dx=True):
    """:func:`sklearn_lstm._cells.rnn_backward` on the configured backend."""
    return _implementation().rnn_backward(dh, cache, need_dx=need_dx)
