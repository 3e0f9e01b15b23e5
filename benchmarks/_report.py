"""What the benchmarks print about the machine and the code they ran on."""

import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import sklearn

import sklearn_lstm


def git_version():
    """The commit of the working tree, and whether it holds changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_line():
    """The processor, CPUs, load and versions, in one line for the docs."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {load:.2f}; Python {platform.python_version()}, NumPy "
        f"{np.__version__}, scikit-learn {sklearn.__version__}, sklearn_lstm "
        f"{sklearn_lstm.__version__} (git {git_version()})"
    )
