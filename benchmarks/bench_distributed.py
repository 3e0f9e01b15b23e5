"""Speed-up of a grid search on a dask.distributed cluster: 1 vs 2 workers.

A search of 8 candidates (``hidden_size`` x ``learning_rate``) x 3 folds on
the digits read row by row, run through joblib's dask backend on a
``LocalCluster`` of 1 and then 2 worker processes (one thread each, BLAS on
one thread), and once with the default backend and ``n_jobs=None`` for
reference. The cluster's start-up is timed apart from the search. The
searches must give the same ``cv_results_``.

The same search on joblib's default backend with ``n_jobs=2`` (two loky
processes, one BLAS thread each) is timed too: it is what two processes on
this machine can do at best, without a scheduler, so the dask speed-up is
read against it. On a machine whose two cores are hyperthreads of one
physical core, that ceiling is well below 2x.

Needs the ``distributed`` extra: ``pip install -e ".[distributed]"``.

    python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --max-iter 5   # shorter fits
"""

import argparse
import os
import time
import warnings

import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_lstm import LSTMSequenceClassifier

WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
GRID = {"hidden_size": [16, 32], "learning_rate": [1e-3, 3e-3, 1e-2, 3e-2]}


def search(X, y, max_iter):
    estimator = LSTMSequenceClassifier(max_iter=max_iter, batch_size=64, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        result = GridSearchCV(estimator, GRID, cv=3).fit(X, y)
    return time.perf_counter() - start, result.cv_results_["mean_test_score"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--n-samples", type=int, default=900)
    args = parser.parse_args()
    digits = load_digits()
    X, y = digits.images[: args.n_samples] / 16.0, digits.target[: args.n_samples]
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"X: {X.shape}, 8 candidates x 3 folds, max_iter={args.max_iter}")

    with joblib.parallel_config(backend="loky", n_jobs=None):
        t_local, reference = search(X, y, args.max_iter)
    print(f"default backend, n_jobs=None: {t_local:7.2f} s")
    with (
        joblib.parallel_config(backend="loky", n_jobs=2, inner_max_num_threads=1),
    ):
        t_loky, scores = search(X, y, args.max_iter)
    assert np.array_equal(scores, reference), "the loky search differs"
    print(f"default backend, n_jobs=2:    {t_loky:7.2f} s")
    times = {}
    for n_workers in (1, 2):
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=WORKER_ENV,
            ) as cluster,
            Client(cluster),
        ):
            startup = time.perf_counter() - start
            with joblib.parallel_config(backend="dask"):
                times[n_workers], scores = search(X, y, args.max_iter)
        assert np.array_equal(scores, reference), "the dask search differs"
        print(
            f"dask, {n_workers} worker(s):          {times[n_workers]:7.2f} s "
            f"(cluster start-up {startup:.1f} s, not counted)"
        )
    print(f"speed-up of 2 workers over 1: {times[1] / times[2]:.2f}x")
    print(f"ceiling, loky 2 processes over 1: {t_local / t_loky:.2f}x")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
