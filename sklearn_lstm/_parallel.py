"""Threads and BLAS: shards of a minibatch side by side, BLAS thread limits,
and the row padding that keeps predictions independent of the batch.

Everything here is about *how* the arithmetic runs, never *what* it
computes: a fit gives the same model with one shard or two, with BLAS on
one thread or many (up to the last bits of the sums of shards, which are
added in a fixed order).
"""

import contextlib
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

import numpy as np
from threadpoolctl import ThreadpoolController

from ._workspace import Workspace

# Below this many multiply-adds in one time step's recurrent products, BLAS
# runs on one thread: at such sizes a second thread gains little on idle
# cores and costs much on a busy machine, where each small product waits for
# it to be scheduled (benchmarks/bench_threads.py).
BLAS_THREADING_MIN_WORK = 2**22

# A minibatch is split into shards of at least this many sequences, at most
# MAX_SHARDS of them, computed side by side in threads (NumPy releases the GIL
# in ufuncs and BLAS) with BLAS on one thread each. The number of shards
# depends on the batch size only, never on the machine, so that a fit gives
# the same model wherever it runs with the same NumPy and BLAS
# (benchmarks/bench_shards.py).
SHARD_MIN_ROWS = 50
MAX_SHARDS = 2

# Sequences are predicted in chunks of a multiple of this many rows (see
# ``padded_rows``): a multiple of the row blocks of OpenBLAS's kernels.
ROW_BLOCK = 48


class Shards:
    """Splits of the minibatches of a fit into contiguous shards, whose
    losses and gradients are computed side by side in a thread pool.

    A batch of ``n`` sequences has ``min(MAX_SHARDS, n // SHARD_MIN_ROWS)``
    shards (at least 1), whatever the machine; the pool has one thread per
    shard up to the number of usable cores, and none on one core (the shards
    then run one after the other, with the same result). Use as a context
    manager: the pool is shut down on leaving it, exceptions included.

    Each shard has its own :class:`~sklearn_lstm._workspace.Workspace`, which
    the minibatches of the fit reuse (shards computed side by side never
    share one).

    Parameters
    ----------
    batch_size : int
        The largest batch the fit trains on.
    """

    def __init__(self, batch_size):
        self.n_shards = _n_shards(batch_size)
        self.workspaces = [Workspace() for _ in range(self.n_shards)]
        n_workers = min(self.n_shards, usable_cores())
        self.parallel = n_workers > 1
        self._pool = None
        if self.parallel:
            self._pool = ThreadPoolExecutor(
                n_workers, thread_name_prefix="sklearn_lstm"
            )

    def map_sum(self, fn, n_rows):
        """Sum of ``fn(rows, workspace)`` over the shards of a batch of
        ``n_rows``, each shard with its own workspace.

        ``fn`` returns ``(loss, grads)``; the losses and gradients are added
        in the order of the shards (the first shard's gradients are updated in
        place), so that the sum is the same at every run.
        """
        n_shards = _n_shards(n_rows)
        bounds = [round(k * n_rows / n_shards) for k in range(n_shards + 1)]
        parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        workspaces = self.workspaces[:n_shards]
        if self._pool is None or n_shards == 1:
            results = [fn(part, ws) for part, ws in zip(parts, workspaces)]
        else:
            futures = [
                self._pool.submit(fn, part, ws) for part, ws in zip(parts, workspaces)
            ]
            wait_futures(futures)  # none still runs when one of them raised
            results = [future.result() for future in futures]
        loss, grads = results[0]
        for shard_loss, shard_grads in results[1:]:
            loss += shard_loss
            for g, shard_g in zip(grads, shard_grads):
                g += shard_g
        return loss, grads

    def blas_threads(self, n_rows, recurrent_weights):
        """The BLAS limit of a batch of ``n_rows`` split by these shards: one
        thread per shard when they run side by side, else
        :func:`blas_threads`."""
        if self.parallel:
            return _threadpool_controller().limit(limits=1, user_api="blas")
        return blas_threads(n_rows, recurrent_weights)

    def close(self):
        """Shut the thread pool down, waiting for its threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _n_shards(n_rows):
    """Number of shards of a batch of ``n_rows`` sequences."""
    return max(1, min(MAX_SHARDS, n_rows // SHARD_MIN_ROWS))


def usable_cores():
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.cache
def _threadpool_controller():
    """The BLAS libraries loaded in this process (found once)."""
    return ThreadpoolController()


def blas_threads(n_rows, recurrent_weights):
    """Context limiting BLAS to one thread when the recurrent products of
    ``n_rows`` sequences are too small to share between threads."""
    work = n_rows * sum(Wh.size for Wh in recurrent_weights)
    if work >= BLAS_THREADING_MIN_WORK:
        return contextlib.nullcontext()
    return _threadpool_controller().limit(limits=1, user_api="blas")


def padded_rows(n_rows):
    """Row indices ``0 .. n_rows - 1`` followed by copies of row 0, up to a
    multiple of ``ROW_BLOCK`` rows.

    BLAS computes the rows of a product that do not fill a block of its
    kernel with another routine that rounds differently, so a chunk of
    sequences padded this way gives each sequence the same result, bit for
    bit, whatever else is in the chunk.
    """
    return np.concatenate(
        [np.arange(n_rows), np.zeros(-n_rows % ROW_BLOCK, dtype=np.intp)]
    )
