"""Fit time with glibc's default allocator settings and with trimming off.

Each minibatch allocates and frees the same arrays again (the gates, the states
and their gradients: hundreds of kB each at batch 64). With glibc's default
settings the freed memory at the top of the heap is given back to the system
(``M_TRIM_THRESHOLD``) and large blocks are mapped afresh (``M_MMAP_THRESHOLD``),
so the next batch pays page faults to get it back. Raising both thresholds in
the environment keeps the memory in the process::

    MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_THRESHOLD_=1073741824 python ...

This script fits the same models in fresh processes with and without those two
variables, interleaved, and prints the median fit times and their ratio. glibc
(Linux) only; elsewhere the variables do nothing.

Run: ``python benchmarks/bench_malloc.py [--repeat 5]``.
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
}
NO_TRIM = {
    "MALLOC_TRIM_THRESHOLD_": "1073741824",
    "MALLOC_MMAP_THRESHOLD_": "1073741824",
}
EPOCHS = 3

CHILD = f"""
import sys, time, warnings
import numpy as np
from sklearn_lstm import LSTMSequenceClassifier
params, shape = eval(sys.argv[1]), eval(sys.argv[2])
rng = np.random.RandomState(0)
X = rng.standard_normal(shape)
y = rng.randint(0, 10, shape[0])
clf = LSTMSequenceClassifier(random_state=0, max_iter={EPOCHS}, tol=0, **params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    clf.fit(X, y)
print(time.perf_counter() - start)
"""


def fit_time(params, shape, env):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(params), repr(shape)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    os.environ.clear()
    os.environ.update(clean)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"{EPOCHS} epochs per fit, {args.repeat} interleaved repeats, medians\n")
    print(f"{'case':36s} {'default s':>10s} {'no trim s':>10s} {'ratio':>7s}")
    for name, (params, shape) in CASES.items():
        times = {"default": [], "no trim": []}
        for _ in range(args.repeat):
            times["default"].append(fit_time(params, shape, {}))
            times["no trim"].append(fit_time(params, shape, NO_TRIM))
        default, no_trim = (statistics.median(t) for t in times.values())
        print(f"{name:36s} {default:10.3f} {no_trim:10.3f} {no_trim / default:6.2f}x")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
