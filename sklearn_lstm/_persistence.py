"""Pickling: plain data only, stamped with the package version."""

import warnings

from ._encoder import InputEncoder
from ._network import Network
from ._ngrams import KneserNey
from ._optimizers import OPTIMIZERS
from ._version import __version__

# The package's own objects an estimator holds, saved as their class name and
# attributes (numbers, strings, arrays and lists of them), so that a loader
# such as ``skops.io`` finds no type to trust but the estimator's own.
_PLAIN_OBJECTS = {
    "_optimizer": OPTIMIZERS,
    "_network": {"Network": Network},
    "_encoder": {"InputEncoder": InputEncoder},
    "_ngram": {"KneserNey": KneserNey},
}


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a model saved by another sklearn_lstm version is loaded."""


class PersistenceMixin:
    """Pickle support for the estimators: ``joblib``, ``pickle`` and ``skops``.

    The optimizer, the network, the input encoder and the n-gram model are
    saved as their class names and attributes; loading a model saved by
    another version of the package warns.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())  # may be self.__dict__ itself
        state["_sklearn_lstm_version"] = __version__
        for name in _PLAIN_OBJECTS:
            obj = state.pop(name, None)
            if obj is not None:
                state[name + "_state"] = (type(obj).__name__, dict(vars(obj)))
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
        saved = {name: state.pop(name + "_state", None) for name in _PLAIN_OBJECTS}
        super().__setstate__(state)
        for name, classes in _PLAIN_OBJECTS.items():
            if saved[name] is not None:
                class_name, attributes = saved[name]
                obj = object.__new__(classes[class_name])
                obj.__dict__.update(attributes)
                setattr(self, name, obj)
