"""Grid search on a dask.distributed cluster through joblib equals a local one."""

import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_lstm import LSTMSequenceClassifier

distributed = pytest.importorskip("distributed")

# One BLAS thread per worker process: each worker runs one fit at a time, and
# the workers share the cores. The nanny sets these before the worker starts.
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=WORKER_ENV,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _blas_threads():
    """The number of threads of each BLAS and OpenMP library of this process."""
    from threadpoolctl import threadpool_info

    return {info["internal_api"]: info["num_threads"] for info in threadpool_info()}


def test_workers_run_blas_on_one_thread(client):
    per_worker = client.run(_blas_threads)
    assert len(per_worker) == 2
    for threads in per_worker.values():
        assert threads and set(threads.values()) == {1}


def _search():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    y = X[:, 0, 0] > 0
    grid = {"hidden_size": [3, 6], "learning_rate": [1e-3, 3e-2]}
    estimator = LSTMSequenceClassifier(batch_size=10, max_iter=4, random_state=0)
    return GridSearchCV(estimator, grid, cv=2), X, y


def test_grid_search_on_dask_equals_the_local_one(client):
    search, X, y = _search()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = search.fit(X, y)
        local_scores = local.cv_results_["mean_test_score"].copy()
        local_best = local.best_params_
        search, X, y = _search()
        with (
            distributed.get_task_stream(client) as tasks,
            joblib.parallel_config(backend="dask"),
        ):
            on_dask = search.fit(X, y)
    assert_array_equal(on_dask.cv_results_["mean_test_score"], local_scores)
    assert on_dask.best_params_ == local_best
    # The fits ran on the cluster's workers.
    assert tasks.data
    assert {task["worker"] for task in tasks.data} <= set(client.run(_blas_threads))
