"""Epoch time of ``LSTMSequenceClassifier.fit`` next to a ``torch.nn.LSTM`` loop.

For each shape ``(N, T, D, H)`` and dtype, the same model is trained both ways:
a 1-layer LSTM read at the last step by a linear softmax head, cross-entropy,
Adam (learning rate 1e-3), minibatches of 200 drawn from a fresh shuffle each
epoch, gradients clipped to norm 5, no L2 penalty, a fixed number of epochs.
The runs are interleaved (ours, torch, reference product, ours, ...) so that
the load of the machine hits both alike; the script prints medians.

* ``ours s``: seconds per epoch, ``fit`` time divided by ``max_iter`` (``tol=0``
  and unbounded patience, so every epoch runs).
* ``ours/torch``: the ratio of the medians (the target is <= 0.8).
* ``GFLOP/s``: ``3 * 2 N T 4H (D + H)`` per epoch (the recurrent layer's matrix
  products, forward once and backward twice; the head and element-wise work
  are not counted) over the epoch time.
* ``% peak``: that throughput against NumPy's ``(1024, 1024) @ (1024, 1024)``
  in the same dtype with its default threads, timed in the same run.

Threads: torch runs on ``torch.set_num_threads(2)``; NumPy's BLAS keeps its own
default (here 2), and the package itself limits BLAS to one thread for small
recurrent products (``blas_threads`` in ``sklearn_lstm/_parallel.py``).

Last, the digits target: the wall time of ``LSTMSequenceClassifier()`` (default
parameters) on ``load_digits().images / 16`` read row by row as 8 steps of 8
features, first half train, second half test, next to ``MLPClassifier()`` on
the flattened images, with the test accuracies.

Run: ``python benchmarks/bench_fit.py [--quick] [--shapes 0,2] [--dtype float32]``
(PyTorch is optional; without it only the ``% peak`` column is printed).
"""

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_lstm import LSTMSequenceClassifier

SHAPES = [
    ("digits-like", (900, 8, 8, 64), 10),
    ("univariate", (300, 150, 1, 32), 2),
    ("multivariate", (1000, 50, 12, 64), 5),
    ("wide", (2000, 30, 32, 128), 10),
]
DTYPES = {"float32": np.float32, "float64": np.float64}
BATCH_SIZE, CLIP_NORM, LEARNING_RATE, THREADS = 200, 5.0, 1e-3, 2
TARGET_RATIO = 0.8


def epoch_flops(N, T, D, H):
    """Matrix-product flops of one epoch: forward (1x) plus backward (2x)."""
    return 3 * 2 * N * T * 4 * H * (D + H)


def make_data(N, T, D, K, dtype, seed=0):
    """Random sequences with labels that depend on them (a learnable task)."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N, T, D)).astype(dtype)
    score = X.mean(axis=(1, 2)) + 0.1 * rng.standard_normal(N)
    y = np.searchsorted(np.quantile(score, np.linspace(0, 1, K + 1)[1:-1]), score)
    return X, y


def time_ours(X, y, H, epochs):
    """Seconds per epoch of ``LSTMSequenceClassifier.fit``."""
    model = LSTMSequenceClassifier(
        hidden_size=H,
        solver="adam",
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        clip_norm=CLIP_NORM,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=10**6,
        alpha=0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
    assert model.n_iter_ == epochs
    return elapsed / epochs


def make_torch_loop(X, y, H, K):
    """A function training the same model with PyTorch for some epochs, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    N, T, D = X.shape
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))

    def run(epochs):
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(D, H, batch_first=True).to(dtype)
        head = torch.nn.Linear(H, K).to(dtype)
        params = [*lstm.parameters(), *head.parameters()]
        optimizer = torch.optim.Adam(params, lr=LEARNING_RATE)
        loss_fn = torch.nn.CrossEntropyLoss()
        start = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(N)
            for first in range(0, N, BATCH_SIZE):
                b = perm[first : first + BATCH_SIZE]
                out, _ = lstm(Xt[b])
                loss = loss_fn(head(out[:, -1]), yt[b])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
                optimizer.step()
        return (time.perf_counter() - start) / epochs

    return run


def gemm_peak(dtype, n=1024, min_time=0.1):
    """GFLOP/s of NumPy's ``(n, n) @ (n, n)`` with BLAS's default threads."""
    rng = np.random.RandomState(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    out = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=out)
    loops, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_time or loops < 2:
        np.matmul(a, b, out=out)
        loops += 1
    return 2 * n**3 * loops / elapsed / 1e9


def bench_shape(name, shape, K, dtype, repeat, epochs):
    """Interleaved medians for one shape and dtype; prints one row."""
    N, T, D, H = shape
    X, y = make_data(N, T, D, K, dtype)
    torch_run = make_torch_loop(X, y, H, K)
    # warm-up: first calls allocate, load BLAS kernels, start threads
    time_ours(X, y, H, 1)
    if torch_run:
        torch_run(1)
    ours, theirs, peaks = [], [], []
    for _ in range(repeat):
        ours.append(time_ours(X, y, H, epochs))
        if torch_run:
            theirs.append(torch_run(epochs))
        peaks.append(gemm_peak(dtype))
    ours_s, peak = statistics.median(ours), statistics.median(peaks)
    gflops = epoch_flops(N, T, D, H) / ours_s / 1e9
    row = (
        f"{name:<13} {str(shape):<19} {np.dtype(dtype).name:<8} {ours_s:>8.4f} "
        f"{gflops:>7.1f} {100 * gflops / peak:>6.1f}% {peak:>6.1f}"
    )
    ratio = None
    if torch_run:
        theirs_s = statistics.median(theirs)
        ratio = ours_s / theirs_s
        row += f" {theirs_s:>8.4f} {ratio:>6.2f}x"
    print(row, flush=True)
    return ratio


def bench_digits():
    """Default LSTMSequenceClassifier against default MLPClassifier on digits."""
    digits = load_digits()
    X = digits.images / 16.0
    n_train = len(X) // 2
    X_train, X_test = X[:n_train], X[n_train:]
    y_train, y_test = digits.target[:n_train], digits.target[n_train:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        lstm = LSTMSequenceClassifier().fit(X_train, y_train)
        lstm_time = time.perf_counter() - start
        start = time.perf_counter()
        mlp = MLPClassifier().fit(X_train.reshape(n_train, -1), y_train)
        mlp_time = time.perf_counter() - start
    lstm_acc = lstm.score(X_test, y_test)
    mlp_acc = mlp.score(X_test.reshape(len(X_test), -1), y_test)
    print(f"\ndigits (train {n_train}, test {len(X_test)}), default parameters:")
    print(
        f"  LSTMSequenceClassifier()  {lstm_time:7.2f} s  {lstm.n_iter_:>4} epochs"
        f"  test accuracy {lstm_acc:.4f}"
    )
    print(
        f"  MLPClassifier()           {mlp_time:7.2f} s  {mlp.n_iter_:>4} epochs"
        f"  test accuracy {mlp_acc:.4f}"
    )
    print(f"  time ratio LSTM / MLP: {lstm_time / mlp_time:.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats of 2 epochs")
    parser.add_argument(
        "--shapes", default=None, help="comma-separated indices into SHAPES, e.g. 0,3"
    )
    parser.add_argument("--dtype", choices=[*DTYPES, "both"], default="both")
    parser.add_argument("--no-digits", action="store_true")
    args = parser.parse_args()
    repeat, epochs = (3, 2) if args.quick else (7, 3)
    shapes = SHAPES
    if args.shapes:
        shapes = [SHAPES[int(k)] for k in args.shapes.split(",")]
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]

    try:
        import torch

        torch.set_num_threads(THREADS)
        torch_version = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_version = None
    print(f"numpy {np.__version__}, torch: {torch_version or 'not importable'}")
    print(f"load average at start: {os.getloadavg()}")
    print(f"{repeat} interleaved repeats of {epochs} epochs, medians\n")
    header = (
        f"{'shape':<13} {'(N, T, D, H)':<19} {'dtype':<8} {'ours s':>8} "
        f"{'GFLOP/s':>7} {'% peak':>7} {'peak':>6}"
    )
    if torch_version:
        header += f" {'torch s':>8} {'ours/torch':>7}"
    print(header)
    ratios = []
    for dtype_name in dtypes:
        for name, shape, K in shapes:
            ratios.append(
                bench_shape(name, shape, K, DTYPES[dtype_name], repeat, epochs)
            )
    if torch_version:
        worst = max(ratios)
        print(f"\nworst ours/torch {worst:.2f}x (target <= {TARGET_RATIO}x)")
    if not args.no_digits:
        bench_digits()
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
