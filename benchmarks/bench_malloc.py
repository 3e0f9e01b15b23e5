"""Fit time with glibc's default allocator settings and with trimming off.

A minibatch needs the same large arrays as the one before (the gates, the
states and their gradients: hundreds of kB each at batch 64). Allocated afresh
with glibc's default settings, the freed memory at the top of the heap is given
back to the system (``M_TRIM_THRESHOLD``) and large blocks are mapped afresh
(``M_MMAP_THRESHOLD``), so the next batch pays page faults to get it back.
Raising both thresholds in the environment keeps the memory in the process::

    MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_THRESHOLD_=1073741824 python ...

The package reuses those arrays from one batch to the next (a workspace per
fit, see ``sklearn_lstm/_workspace.py``), so the variables should no longer
change much. This script fits the same models in fresh processes with and
without those two variables, interleaved, and prints the median times of the
second fit of each process, by a new estimator (the first warms the heap up,
as earlier fits do in a session or a grid search), their ratio and the page
faults of that fit. With ``--against DIR`` it also times the package found in ``DIR``
(a checkout of another commit, e.g. from ``git worktree add``) with the default
settings, in the same interleaved loop, and prints ``this / DIR``. glibc
(Linux) only; elsewhere the variables do nothing.

Run: ``python benchmarks/bench_malloc.py [--repeat 5] [--against DIR]``.
"""

import argparse
import os
import statistics
import subprocess
import sys

CASES = {
    # name: LSTMSequenceClassifier parameters and data shape (N, T, D)
    "digits-size, defaults": ({}, (898, 8, 8)),
    "digits-size, hidden 64, batch 64": (
        {"hidden_size": 64, "batch_size": 64},
        (898, 8, 8),
    ),
    "(1000, 50, 12), batch 200": (
        {"hidden_size": 64, "batch_size": 200},
        (1000, 50, 12),
    ),
    # arrays over glibc's largest mmap threshold (32 MB): mapped at each batch
    "(600, 400, 4), patch 1, batch 200": (
        {"hidden_size": 64, "batch_size": 200, "patch_size": 1},
        (600, 400, 4),
    ),
}
NO_TRIM = {
    "MALLOC_TRIM_THRESHOLD_": "1073741824",
    "MALLOC_MMAP_THRESHOLD_": "1073741824",
}
EPOCHS = 3

CHILD = f"""
import resource, sys, time, warnings
import numpy as np
from sklearn_lstm import LSTMSequenceClassifier
params, shape = eval(sys.argv[1]), eval(sys.argv[2])
rng = np.random.RandomState(0)
X = rng.standard_normal(shape)
y = rng.randint(0, 10, shape[0])
def model():
    return LSTMSequenceClassifier(random_state=0, max_iter={EPOCHS}, tol=0, **params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model().fit(X, y)  # the process has trained before, as in a session or a search
    clf = model()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    clf.fit(X, y)
    elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
"""


def fit_time(params, shape, env, package_dir=None):
    """Seconds and minor page faults of one fit in a fresh process, importing
    the package from ``package_dir`` (this checkout if None)."""
    package_dir = package_dir or os.path.dirname(os.path.dirname(__file__)) or "."
    package_dir = os.path.abspath(package_dir)
    out = subprocess.run(  # run from package_dir: `-c` imports from the cwd first
        [sys.executable, "-c", CHILD, repr(params), repr(shape)],
        cwd=package_dir,
        env={**os.environ, **env, "PYTHONPATH": package_dir},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, faults = out.stdout.split()
    return float(seconds), int(faults)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--against", metavar="DIR", help="a checkout of another commit to time too"
    )
    args = parser.parse_args()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    os.environ.clear()
    os.environ.update(clean)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"{EPOCHS} epochs per fit, {args.repeat} interleaved repeats, medians")
    print("kfaults: thousands of minor page faults during the fit (default settings)\n")
    header = f"{'case':36s} {'default s':>10s} {'no trim s':>10s} {'ratio':>7s}"
    header += f" {'kfaults':>8s}"
    if args.against:
        print(f"DIR: {args.against}")
        header += f" {'DIR s':>8s} {'this/DIR':>9s} {'kfaults':>8s}"
    print(header)
    for name, (params, shape) in CASES.items():
        runs = {"default": [], "no trim": [], "against": []}
        for _ in range(args.repeat):
            runs["default"].append(fit_time(params, shape, {}))
            runs["no trim"].append(fit_time(params, shape, NO_TRIM))
            if args.against:
                runs["against"].append(fit_time(params, shape, {}, args.against))
        seconds = {k: statistics.median(s for s, _ in v) for k, v in runs.items() if v}
        kfaults = {
            k: statistics.median(f for _, f in v) / 1e3 for k, v in runs.items() if v
        }
        default, no_trim = seconds["default"], seconds["no trim"]
        row = f"{name:36s} {default:10.3f} {no_trim:10.3f} {no_trim / default:6.2f}x"
        row += f" {kfaults['default']:8.1f}"
        if args.against:
            against = seconds["against"]
            row += f" {against:8.3f} {default / against:8.2f}x"
            row += f" {kfaults['against']:8.1f}"
        print(row, flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
