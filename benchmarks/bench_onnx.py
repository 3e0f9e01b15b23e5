"""Inference speed: onnxruntime on the exported graph vs ``predict_proba``.

Trains nothing: the weights are random (the speed does not depend on them).
For each shape, prints the best of ``--repeat`` timings of
``clf.predict_proba(X)`` or ``reg.predict(X)`` (NumPy, float64) and of the
onnxruntime session on the same sequences (float32, inputs built beforehand
by ``onnx_inputs``), the ratio, and the largest absolute difference of the
probabilities, or of the regressor's predictions divided by its
``target_scale_``.

Needs the ``onnx`` extra: ``pip install -e ".[onnx]"``.

    python benchmarks/bench_onnx.py             # a few shapes
    python benchmarks/bench_onnx.py --threads 2 # onnxruntime on 2 threads
"""

import argparse
import os
import time
import warnings

import numpy as np
import onnxruntime as ort

from sklearn_lstm import LSTMSequenceClassifier, LSTMSequenceRegressor
from sklearn_lstm.onnx import onnx_inputs, to_onnx

# (estimator, n_samples, n_timesteps, n_features, hidden_size, n_layers,
#  bidirectional, readout)
SHAPES = [
    ("clf", 1, 20, 8, 32, 1, False, "last"),
    ("clf", 100, 20, 8, 32, 1, False, "last"),
    ("clf", 1000, 20, 8, 32, 1, False, "last"),
    ("clf", 1000, 20, 8, 32, 2, False, "last"),
    ("clf", 1000, 50, 8, 128, 1, False, "last"),
    ("clf", 1000, 20, 8, 32, 1, False, "mean"),
    ("clf", 1000, 20, 8, 32, 1, False, "max"),
    ("clf", 1000, 20, 8, 32, 2, True, "last"),
    ("clf", 1000, 20, 8, 32, 2, True, "mean"),
    ("reg", 1, 20, 8, 32, 1, False, "last"),
    ("reg", 1000, 20, 8, 32, 1, False, "last"),
    ("reg", 1000, 20, 8, 32, 2, True, "mean"),
]


def random_classifier(
    n_features, hidden_size, n_layers, bidirectional, readout, n_classes=5, seed=0
):
    """A 'fitted' classifier with random weights, from a one-epoch fit."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(2 * n_classes, 3, n_features))
    y = np.arange(2 * n_classes) % n_classes
    clf = LSTMSequenceClassifier(
        hidden_size,
        n_layers=n_layers,
        bidirectional=bidirectional,
        readout=readout,
        max_iter=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clf.fit(X, y)


def random_regressor(
    n_features, hidden_size, n_layers, bidirectional, readout, n_outputs=3, seed=0
):
    """A 'fitted' regressor with random weights, from a one-epoch fit."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(10, 3, n_features))
    y = 100 + 10 * rng.normal(size=(10, n_outputs))
    reg = LSTMSequenceRegressor(
        hidden_size,
        n_layers=n_layers,
        bidirectional=bidirectional,
        readout=readout,
        patch_size=1,
        max_iter=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reg.fit(X, y)


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=1, help="onnxruntime intra-op threads"
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"onnxruntime {ort.__version__}, {args.threads} thread(s)")
    header = (
        f"{'est':>3} {'N':>5} {'T':>4} {'D':>3} {'H':>4} {'L':>2} {'bi':>2} "
        f"{'readout':>7} | {'NumPy':>13} "
        f"{'onnxruntime':>11} {'speed-up':>8} | {'max |d|':>8}"
    )
    print(header)
    print("-" * len(header))
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    for est, N, T, D, H, L, bi, readout in SHAPES:
        if est == "clf":
            model = random_classifier(D, H, L, bi, readout)
            predict, output, scale = model.predict_proba, 1, 1.0
        else:
            model = random_regressor(D, H, L, bi, readout)
            predict, output, scale = model.predict, 0, model.target_scale_
        rng = np.random.RandomState(1)
        # sequences of lengths T/2..T, as a list: the ragged case
        X = [rng.normal(size=(rng.randint(T // 2, T + 1), D)) for _ in range(N)]
        session = ort.InferenceSession(
            to_onnx(model).SerializeToString(),
            options,
            providers=["CPUExecutionProvider"],
        )
        inputs = onnx_inputs(X)
        expected = predict(X)
        got = session.run(None, inputs)[output]
        t_np = best_time(lambda: predict(X), args.repeat)
        t_ort = best_time(lambda: session.run(None, inputs), args.repeat)
        error = (np.abs(expected - got) / scale).max()
        print(
            f"{est:>3} {N:>5} {T:>4} {D:>3} {H:>4} {L:>2} {'y' if bi else 'n':>2} "
            f"{readout:>7} | {t_np * 1e3:>10.2f} ms "
            f"{t_ort * 1e3:>8.2f} ms {t_np / t_ort:>7.1f}x | {error:.1e}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
