"""Versions of the package, its dependencies and its compiled extension,
for bug reports (after :func:`sklearn.show_versions`)."""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from . import _backend
from ._config import get_config
from ._version import __version__

_DEPENDENCIES = ["numpy", "scipy", "scikit-learn", "joblib", "threadpoolctl"]


def _system_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _dependency_info():
    info = {"sklearn_lstm": __version__}
    for name in _DEPENDENCIES:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = None
    return info


def _extension_info():
    """Whether the compiled extension is built, its CPU variant, and which
    backend the configuration runs."""
    module = _backend.compiled_module()
    info = {"built": module is not None}
    if module is None:
        try:
            _backend.compiled_module(required=True)
        except ImportError as exc:
            info["import error"] = str(exc.__cause__ or exc)
    else:
        info["cpu variant"] = module.cpu_variant()
        info["cpu variants supported"] = ", ".join(module._supported_cpu_variants())
    info["backend (set_config)"] = get_config()["backend"]
    try:
        info["backend in use"] = _backend.backend_in_use()
    except (ImportError, ValueError) as exc:
        info["backend in use"] = f"none: {exc}"
    return info


def show_versions():
    """Print useful debugging information: the versions of Python, of
    sklearn_lstm and its dependencies, whether its compiled extension is
    built, which CPU variant of its kernels runs, and which backend the
    configuration (:func:`sklearn_lstm.set_config`) selects.

    Examples
    --------
    >>> import sklearn_lstm
    >>> sklearn_lstm.show_versions()  # doctest: +SKIP
    """
    sections = [
        ("System", _system_info()),
        ("Python dependencies", _dependency_info()),
        ("Compiled extension (sklearn_lstm._fused)", _extension_info()),
    ]
    for title, info in sections:
        print(f"\n{title}:")
        for key, value in info.items():
            print(f"{key:>24}: {value}")
