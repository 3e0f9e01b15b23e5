"""Load a module of ``benchmarks/`` (no package) from its file, for the tests
of the benchmarks' helpers."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(filename, name):
    """The module of ``benchmarks/filename``, registered as ``name``."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
