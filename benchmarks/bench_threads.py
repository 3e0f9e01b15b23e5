"""One BLAS thread or two: an LSTM training step, on an idle and on a busy machine.

OpenBLAS splits every matrix product between its threads. The products of a
recurrent step are small, and on a machine whose other core is busy each one
waits for the second thread to be scheduled. ``sklearn_lstm`` therefore runs
BLAS on one thread when one step's recurrent products are below
``BLAS_THREADING_MIN_WORK`` multiply-adds (``sklearn_lstm._parallel``). This
script times ``lstm_forward`` + ``lstm_backward`` at shapes on both sides of
that threshold, with one BLAS thread and with BLAS's default, first on the
machine as it is, then with one busy-looping process per core but one.

Run: ``python benchmarks/bench_threads.py``.
"""

import multiprocessing
import os
import time

import numpy as np
from bench_cells import make_problem  # the same LSTM layer as the speed benchmark
from threadpoolctl import threadpool_limits

from sklearn_lstm._cells import lstm_backward, lstm_forward
from sklearn_lstm._parallel import BLAS_THREADING_MIN_WORK

SHAPES = [(32, 20, 8, 32), (200, 8, 8, 32), (200, 8, 8, 64), (32, 500, 4, 64),
          (64, 50, 16, 128), (200, 20, 32, 128), (128, 100, 32, 256)]  # fmt: skip


def step_time(N, T, D, H, dtype, repeats=5):
    """Median seconds of one forward + backward pass."""
    x, h0, c0, params, _, _ = make_problem(N, T, D, H, dtype)

    def run():
        h, _, cache = lstm_forward(x, h0, c0, *params)
        lstm_backward(np.ones_like(h), cache)

    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _busy():
    while True:
        pass


def table(title):
    print(f"\n{title}")
    print(
        f"{'(N, T, D, H)':>20} {'dtype':>8} {'1 thread ms':>12} {'default ms':>11}"
        f" {'1 thr speed-up':>15}  sklearn_lstm uses"
    )
    for N, T, D, H in SHAPES:
        for dtype in (np.float32, np.float64):
            with threadpool_limits(1, "blas"):
                one = step_time(N, T, D, H, dtype)
            default = step_time(N, T, D, H, dtype)
            uses = "1 thread" if N * H * 4 * H < BLAS_THREADING_MIN_WORK else "default"
            shape = str((N, T, D, H))
            print(
                f"{shape:>20} {dtype.__name__:>8} {one * 1e3:>12.2f} "
                f"{default * 1e3:>11.2f} {default / one:>14.2f}x  {uses}"
            )


def main():
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    table("Machine as it is")
    n_busy = max(1, (os.cpu_count() or 2) - 1)
    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(n_busy)]
    for p in busy:
        p.start()
    try:
        table(f"With {n_busy} busy-looping process(es)")
    finally:
        for p in busy:
            p.terminate()


if __name__ == "__main__":
    main()
