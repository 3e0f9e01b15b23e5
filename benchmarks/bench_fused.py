"""Epoch time of the compiled cells against the NumPy cells, and against torch.

For each shape ``(N, T, D, H)`` and dtype, two networks are trained by
``LSTMSequenceClassifier.fit`` with ``config_context(backend='numpy')`` and
``backend='compiled'``, and reproduced by a torch loop on 1 and 2 torch
threads:

* **classic**: one unidirectional LSTM layer read at its last step by a
  softmax head, no patches, no input noise, no dropout, no standardization;
* **default**: the classifier's default network (``bidirectional=True``,
  ``readout='mean_max'``, ``patch_size='auto'``, ``input_noise=0.5``,
  ``dropout=0.3``, inputs standardized once per fit), in torch a
  bidirectional ``nn.LSTM`` on the same patches with the same noise and the
  same dropout masks (one per sequence and feature), then the mean and the
  max over the steps (see :func:`make_torch_loop`).

Both with Adam, minibatches of 200 (the classifier's default is 32),
gradients clipped to norm 5 alike, ``alpha=0``, ``normal_scores=False``.
The runs are interleaved (numpy, compiled, torch 1, torch 2, numpy, ...),
so that the load of the machine hits all alike, and the script prints the
medians of seconds per epoch and their ratios.

``OMP_WAIT_POLICY=PASSIVE`` is set before torch is imported: torch's idle
OpenMP threads would otherwise spin and slow the NumPy runs next to them.

Run: ``python benchmarks/bench_fused.py [--quick] [--shapes 0,2]
[--dtype float32] [--repeat 3] [--no-torch] [--network default]``.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import sklearn_lstm  # noqa: E402
from sklearn_lstm import LSTMSequenceClassifier, config_context  # noqa: E402
from sklearn_lstm._network import resolve_patch_size  # noqa: E402

SHAPES = [  # name, (N, T, D, H), classes
    ("digits-like", (900, 8, 8, 64), 10),
    ("univariate", (300, 150, 1, 32), 2),
    ("multivariate", (1000, 50, 12, 64), 5),
    ("wide", (2000, 30, 32, 128), 10),
]
DTYPES = {"float32": np.float32, "float64": np.float64}
BATCH_SIZE, CLIP_NORM, LEARNING_RATE = 200, 5.0, 1e-3


def make_data(N, T, D, K, dtype, seed=0):
    """Random sequences with labels that depend on them."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N, T, D)).astype(dtype)
    score = X.mean(axis=(1, 2)) + 0.1 * rng.standard_normal(N)
    y = np.searchsorted(np.quantile(score, np.linspace(0, 1, K + 1)[1:-1]), score)
    return X, y


# The two networks timed: the classic one, and the classifier's default one
# (two directions, patches, input noise, dropout, the masked mean and max
# readout), each with the same training options on both sides.
CLASSIC = {
    "bidirectional": False,
    "readout": "last",
    "patch_size": 1,
    "standardize": False,
    "input_noise": 0.0,
    "dropout": 0.0,
}
DEFAULT = {}  # LSTMSequenceClassifier's own: bidirectional, readout='mean_max', ...
NETWORKS = {"classic": CLASSIC, "default": DEFAULT}


def time_ours(X, y, H, epochs, backend, network="classic"):
    """Seconds per epoch of ``fit`` of ``network`` on ``backend``."""
    model = LSTMSequenceClassifier(
        hidden_size=H,
        **NETWORKS[network],
        normal_scores=False,
        solver="adam",
        learning_rate=LEARNING_RATE,
        learning_rate_schedule="constant",
        alpha=0.0,
        batch_size=BATCH_SIZE,
        clip_norm=CLIP_NORM,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=10**6,
        random_state=0,
    )
    with warnings.catch_warnings(), config_context(backend=backend):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
    assert model.n_iter_ == epochs
    return elapsed / epochs


def make_torch_loop(X, y, H, K, threads, network="classic"):
    """A function training ``network`` with torch for some epochs on
    ``threads`` threads, returning seconds per epoch; None without torch.

    The default network in torch: the inputs plus Gaussian noise (0.5 of
    their standard deviation, 1 here), cut into patches of
    ``resolve_patch_size('auto', T)`` steps, a bidirectional ``nn.LSTM``,
    dropout 0.3 on its outputs with one mask per sequence and feature
    (the same at every step, as ours), the mean and the max over the steps,
    a linear head."""
    try:
        import torch
    except ImportError:
        return None
    N, T, D = X.shape
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    default = network == "default"
    patch = resolve_patch_size("auto", T) if default else 1
    n_patches = -(-T // patch)
    if patch > 1:  # zeros after the last step, as _patches pads
        Xt = torch.nn.functional.pad(Xt, (0, 0, 0, n_patches * patch - T))
        Xt = Xt.reshape(N, n_patches, patch * D)
    noise = 0.5 * float(X.std())
    keep = 1 - 0.3

    def run(epochs):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(patch * D, H, batch_first=True, bidirectional=default).to(
            dtype
        )
        head = torch.nn.Linear(4 * H if default else H, K).to(dtype)
        params = [*lstm.parameters(), *head.parameters()]
        optimizer = torch.optim.Adam(params, lr=LEARNING_RATE)
        loss_fn = torch.nn.CrossEntropyLoss()
        start = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(N)
            for first in range(0, N, BATCH_SIZE):
                b = perm[first : first + BATCH_SIZE]
                if default:
                    x = Xt[b] + noise * torch.randn_like(Xt[b])
                    out, _ = lstm(x)
                    mask = torch.bernoulli(
                        torch.full((len(b), 1, 2 * H), keep, dtype=dtype)
                    )
                    out = out * mask / keep
                    z = torch.cat([out.mean(dim=1), out.amax(dim=1)], dim=1)
                else:
                    out, _ = lstm(Xt[b])
                    z = out[:, -1]
                loss = loss_fn(head(z), yt[b])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
                optimizer.step()
        return (time.perf_counter() - start) / epochs

    return run


def bench_shape(name, shape, K, dtype, repeat, epochs, use_torch, network="classic"):
    """Interleaved medians for one shape and dtype; prints one row."""
    N, T, D, H = shape
    X, y = make_data(N, T, D, K, dtype)
    runs = {
        "numpy": lambda e: time_ours(X, y, H, e, "numpy", network),
        "compiled": lambda e: time_ours(X, y, H, e, "compiled", network),
    }
    if use_torch:
        for threads in (1, 2):
            loop = make_torch_loop(X, y, H, K, threads, network)
            if loop is not None:
                runs[f"torch{threads}"] = loop
    for run in runs.values():  # warm-up: allocations, BLAS kernels, threads
        run(1)
    times = {key: [] for key in runs}
    for _ in range(repeat):
        for key, run in runs.items():
            times[key].append(run(epochs))
    med = {key: statistics.median(values) for key, values in times.items()}
    row = f"{name:<13} {str(shape):<19} {np.dtype(dtype).name:<8}"
    row += f" {med['numpy']:>8.4f} {med['compiled']:>8.4f}"
    row += f" {med['compiled'] / med['numpy']:>8.2f}x"
    for threads in (1, 2):
        key = f"torch{threads}"
        if key in med:
            row += f" {med[key]:>8.4f} {med['compiled'] / med[key]:>9.2f}x"
    print(row, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch per run")
    parser.add_argument("--shapes", default=None, help="indices, e.g. 0,2")
    parser.add_argument("--dtype", choices=list(DTYPES), default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument(
        "--network",
        choices=[*NETWORKS, "both"],
        default="both",
        help="the classic network, the classifier's default one, or both",
    )
    args = parser.parse_args()
    shapes = SHAPES
    if args.shapes:
        shapes = [SHAPES[int(i)] for i in args.shapes.split(",")]
    dtypes = [DTYPES[args.dtype]] if args.dtype else list(DTYPES.values())
    repeat = args.repeat or (3 if args.quick else 5)
    epochs = 1 if args.quick else 3

    sklearn_lstm.show_versions()
    print(f"\nmedians of {repeat} interleaved runs of {epochs} epoch(s), batch 200")
    header = (
        f"{'shape':<13} {'(N, T, D, H)':<19} {'dtype':<8} {'numpy s':>8} "
        f"{'compiled':>8} {'comp/np':>9}"
    )
    if not args.no_torch:
        header += f" {'torch1 s':>8} {'comp/t1':>10} {'torch2 s':>8} {'comp/t2':>10}"
    networks = list(NETWORKS) if args.network == "both" else [args.network]
    for network in networks:
        print(f"\n{network} network")
        print(header)
        for dtype in dtypes:
            for name, shape, K in shapes:
                bench_shape(
                    name, shape, K, dtype, repeat, epochs, not args.no_torch, network
                )


if __name__ == "__main__":
    main()
