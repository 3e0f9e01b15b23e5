"""Global configuration: which implementation of the recurrent cells runs.

The LSTM and vanilla RNN cells have two implementations with the same
results: the NumPy functions of :mod:`sklearn_lstm._cells` (the readable
reference) and the compiled extension ``sklearn_lstm._fused``, built by
``pip install`` when a C compiler is available, which runs the loop over time
in compiled code. The same switch chooses who runs the optimizers' updates and
the 'max' readout (compiled: one pass per array, NumPy's numbers to the bit).
``backend`` chooses between them:

- ``'auto'`` (the default): the compiled extension if it is built, else NumPy;
- ``'compiled'``: the compiled extension (an error if it is not built);
- ``'numpy'``: the NumPy functions.

The default comes from the environment variable ``SKLEARN_LSTM_BACKEND`` when
it is set. Unlike scikit-learn's configuration, this one is shared by all
threads: a fit computes the shards of its minibatches in threads of its own,
and they must run what the fit was asked to run.
"""

import os
from contextlib import contextmanager

BACKENDS = ("auto", "compiled", "numpy")

_ENVIRONMENT_VARIABLE = "SKLEARN_LSTM_BACKEND"


def _check_backend(backend, source="backend"):
    """``backend`` if valid (and built, for 'compiled'), else raise."""
    if backend not in BACKENDS:
        raise ValueError(f"{source} must be one of {BACKENDS}, got {backend!r}")
    if backend == "compiled":
        from ._backend import compiled_module

        compiled_module(required=True)  # raises ImportError if not built
    return backend


_global_config = {"backend": os.environ.get(_ENVIRONMENT_VARIABLE, "auto") or "auto"}


def get_config():
    """Retrieve the current values of the configuration set by
    :func:`set_config`.

    Returns
    -------
    config : dict
        Keys are parameter names that can be passed to :func:`set_config`.

    See Also
    --------
    config_context : Context manager for the configuration.
    set_config : Set the configuration.

    Examples
    --------
    >>> import sklearn_lstm
    >>> sorted(sklearn_lstm.get_config())
    ['backend']
    """
    return dict(_global_config)


def set_config(backend=None):
    """Set the configuration of sklearn_lstm, for every thread.

    Parameters
    ----------
    backend : {'auto', 'compiled', 'numpy'}, default=None
        Which implementation of the LSTM and vanilla RNN cells (and of the
        optimizers' updates and the 'max' readout) runs: ``'compiled'`` the
        compiled extension, ``'numpy'`` the NumPy functions, ``'auto'`` the
        compiled extension if it is built, else NumPy. Both give the same
        results (to rounding). None leaves it
        unchanged. The initial value is the environment variable
        ``SKLEARN_LSTM_BACKEND``, or ``'auto'``.

    Raises
    ------
    ImportError
        If ``backend='compiled'`` and the extension is not built.

    See Also
    --------
    config_context : Context manager for the configuration.
    get_config : Retrieve the current configuration.

    Examples
    --------
    >>> import sklearn_lstm
    >>> previous = sklearn_lstm.get_config()["backend"]
    >>> sklearn_lstm.set_config(backend="numpy")
    >>> sklearn_lstm.get_config()["backend"]
    'numpy'
    >>> sklearn_lstm.set_config(backend=previous)
    """
    if backend is not None:
        _global_config["backend"] = _check_backend(backend)


@contextmanager
def config_context(*, backend=None):
    """Context manager for the configuration of :func:`set_config`.

    The previous configuration is restored on leaving the context,
    exceptions included.

    Parameters
    ----------
    backend : {'auto', 'compiled', 'numpy'}, default=None
        See :func:`set_config`. None leaves it unchanged.

    Yields
    ------
    None

    See Also
    --------
    get_config : Retrieve the current configuration.
    set_config : Set the configuration.

    Examples
    --------
    >>> import sklearn_lstm
    >>> with sklearn_lstm.config_context(backend="numpy"):
    ...     sklearn_lstm.get_config()["backend"]
    'numpy'
    """
    old = get_config()
    set_config(backend=backend)
    try:
        yield
    finally:
        _global_config.update(old)
