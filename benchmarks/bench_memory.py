"""Peak memory of one LSTM forward + backward pass, against the cache it needs.

Backpropagation through time keeps, for every time step, what the backward
pass reads. For ``lstm_forward`` (see its Notes) that is, per step:

* the four gate values, ``N * 4H`` numbers;
* ``h``, ``c`` and ``tanh(c)``, ``3 * N * H``;
* the input, ``N * D`` (plus a column of ones for the bias),

so the forward cache is ``itemsize * N * (7H + D)`` bytes per step. The
backward pass adds, per step, the gradient of the gate pre-activations
(``N * 4H``) and the upstream gradient ``dh`` (``N * H``, which a many-to-one
model allocates with zeros but for the last step), about
``itemsize * N * 5H`` bytes more. Both grow linearly with the sequence length
``T``: ten times the steps should take about ten times the memory.

For each dtype and ``T`` the script prints the peak that :mod:`tracemalloc`
traces (NumPy reports its allocations to it) over one ``lstm_forward`` plus
``lstm_backward`` (``dh`` is allocated inside the measurement, as
training does), the cache actually returned by ``lstm_forward``, the
theoretical totals above, and the ratio of the peaks at the longest and the
shortest ``T``.

Run: ``python benchmarks/bench_memory.py [--steps 1000 10000] [--shape N D H]``.
"""

import argparse
import platform
import time
import tracemalloc

import numpy as np
from bench_cells import make_problem  # the same LSTM layer as the speed benchmark

from sklearn_lstm._cells import lstm_backward, lstm_forward

DTYPES = [np.float32, np.float64]
MIB = 2**20


def forward_cache_per_step(N, D, H, itemsize):
    """Bytes per time step of the forward cache: gates, h, c, tanh(c), input."""
    return itemsize * N * (7 * H + D)


def backward_extra_per_step(N, H, itemsize):
    """Bytes per time step the backward pass adds: gate gradients and ``dh``."""
    return itemsize * N * (4 * H + H)


def cache_nbytes(cache):
    """Bytes of the arrays held by a cache (a nested tuple)."""
    total = 0
    for item in cache:
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, tuple | list):
            total += cache_nbytes(item)
    return total


def forward_backward(x, h0, c0, params):
    """One forward and backward pass; the bytes of the forward cache."""
    N, T, _ = x.shape
    h, _, cache = lstm_forward(x, h0, c0, *params)
    dh = np.zeros_like(h)  # many-to-one: only the last step gets a gradient
    dh[:, -1] = 1.0 / N
    grads = lstm_backward(dh, cache)
    assert all(np.isfinite(g).all() for g in grads)
    return cache_nbytes(cache)


def measure(N, T, D, H, dtype):
    """Peak traced bytes, forward-cache bytes and seconds of one pass."""
    x, h0, c0, params, _, _ = make_problem(N, T, D, H, dtype)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        cache = forward_backward(x, h0, c0, params)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, cache, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument(
        "--shape", type=int, nargs=3, default=[16, 8, 64], metavar=("N", "D", "H")
    )
    args = parser.parse_args(argv)
    N, D, H = args.shape
    steps = sorted(args.steps)

    print(f"NumPy {np.__version__}, Python {platform.python_version()}")
    print(f"lstm_forward + lstm_backward, N={N}, D={D}, H={H}")
    print("theory: forward cache itemsize*N*(7H+D) per step, backward adds N*5H")
    header = (
        f"{'dtype':>8} {'T':>7} {'peak MiB':>10} {'cache MiB':>10} "
        f"{'theory fwd':>11} {'theory all':>11} {'peak/theory':>12} "
        f"{'B/step':>8} {'s':>6}"
    )
    print(header)
    print("-" * len(header))
    for dtype in DTYPES:
        itemsize = np.dtype(dtype).itemsize
        fwd = forward_cache_per_step(N, D, H, itemsize)
        bwd = backward_extra_per_step(N, H, itemsize)
        peaks = {}
        for T in steps:
            peak, cache, seconds = measure(N, T, D, H, dtype)
            peaks[T] = peak
            theory = (fwd + bwd) * T
            print(
                f"{np.dtype(dtype).name:>8} {T:>7} {peak / MIB:>10.2f} "
                f"{cache / MIB:>10.2f} {fwd * T / MIB:>11.2f} "
                f"{theory / MIB:>11.2f} {peak / theory:>12.3f} "
                f"{peak / T:>8.0f} {seconds:>6.2f}"
            )
        lo, hi = steps[0], steps[-1]
        print(
            f"{np.dtype(dtype).name:>8} peak({hi:,}) / peak({lo:,}) = "
            f"{peaks[hi] / peaks[lo]:.3f} (linear: {hi / lo:g})"
        )
    for dtype in DTYPES:
        itemsize = np.dtype(dtype).itemsize
        print(
            f"per-step theory, {np.dtype(dtype).name}: forward cache "
            f"{forward_cache_per_step(N, D, H, itemsize)} B + backward "
            f"{backward_extra_per_step(N, H, itemsize)} B"
        )


if __name__ == "__main__":
    main()
