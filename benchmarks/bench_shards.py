"""Epoch time of ``LSTMSequenceClassifier.fit`` by number of shards per batch.

Each minibatch of 200 is split into 1, 2 or 4 shards (``MAX_SHARDS``), run on
as many threads as there are cores, BLAS on one thread each (1 shard: the
package's usual BLAS threading). Runs are interleaved; medians of the epoch
time, and each count's ratio to 1 shard.

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_shards.py
[--repeat 5] [--dtype float32]`` (without it, an installed copy is imported).
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import sklearn_lstm
from sklearn_lstm import LSTMSequenceClassifier, _parallel

SHAPES = [(900, 8, 8, 64), (300, 150, 1, 32), (1000, 50, 12, 64), (2000, 30, 32, 128)]


def epoch_time(X, y, H, n_shards, epochs=2):
    _parallel.MAX_SHARDS = n_shards
    model = LSTMSequenceClassifier(
        hidden_size=H, max_iter=epochs, tol=0, n_iter_no_change=10**6, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--counts", default="1,2,4")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(f"sklearn_lstm from {sklearn_lstm.__file__}")
    print(f"{'(N, T, D, H)':<20}" + "".join(f"{c:>3} shards s" for c in counts))
    for N, T, D, H in SHAPES:
        rng = np.random.RandomState(0)
        X = rng.standard_normal((N, T, D)).astype(args.dtype)
        y = rng.randint(0, 5, N)
        times = {c: [] for c in counts}
        for c in counts:
            epoch_time(X, y, H, c, epochs=1)  # warm-up
        for _ in range(args.repeat):
            for c in counts:
                times[c].append(epoch_time(X, y, H, c))
        med = {c: statistics.median(t) for c, t in times.items()}
        row = f"{str((N, T, D, H)):<20}" + "".join(f"{med[c]:>12.4f}" for c in counts)
        row += "   ratios to 1: " + " ".join(f"{med[c] / med[1]:.2f}" for c in counts)
        print(row, flush=True)


if __name__ == "__main__":
    main()
