"""Pickling: plain data only, stamped with the package version."""

import warnings

from ._optimizers import OPTIMIZERS
from ._version import __version__


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a model saved by another sklearn_lstm version is loaded."""


class PersistenceMixin:
    """Pickle support for the estimators: ``joblib``, ``pickle`` and ``skops``.

    The optimizer is saved as its class name and attributes (floats and
    arrays), so that ``skops.io`` finds no type to trust but the estimator's
    own; loading a model saved by another version of the package warns.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())  # may be self.__dict__ itself
        state["_sklearn_lstm_version"] = __version__
        optimizer = state.pop("_optimizer", None)
        if optimizer is not None:
            state["_optimizer_state"] = (type(optimizer).__name__, vars(optimizer))
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_sklearn_lstm_version", "unknown")
        if version != __version__:
            warnings.warn(
                f"Loading a {type(self).__name__} saved by sklearn_lstm {version} "
                f"into sklearn_lstm {__version__}: the model may not work or may "
                "give different results. Refit it with this version.",
                InconsistentVersionWarning,
            )
        optimizer_state = state.pop("_optimizer_state", None)
        super().__setstate__(state)
        if optimizer_state is not None:
            name, attributes = optimizer_state
            self._optimizer = object.__new__(OPTIMIZERS[name])
            self._optimizer.__dict__.update(attributes)
