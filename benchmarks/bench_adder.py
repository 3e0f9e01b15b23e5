"""Time to learn 7-bit binary addition: RNNBinaryAdder next to the tutorial's loop.

The tutorial (Trask, "Anyone can learn to code an LSTM-RNN in Python", 2015)
trains a 2-16-1 sigmoid RNN by plain SGD on one random pair of 7-bit numbers at
a time, with learning rate 0.1, for 10,000 updates. This script runs a faithful
port of that loop and ``RNNBinaryAdder().fit`` in the same process, and reports
for each the time until the network first adds all 128 x 128 pairs of 7-bit
numbers exactly (checked between updates/epochs, check time excluded). It also
times one whole default ``RNNBinaryAdder().fit`` (with its own stopping rule)
and compares it with the tutorial's time to its first 100% (``fit speed-up``).

Run: ``python benchmarks/bench_adder.py [--seeds 5]``.
"""

import argparse
import itertools
import time
import warnings

import numpy as np

from sklearn_lstm import RNNBinaryAdder
from sklearn_lstm.datasets import make_addition

ALL_PAIRS = np.array(list(itertools.product(range(128), repeat=2)))
ALL_SUMS = ALL_PAIRS.sum(axis=1)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _tutorial_all_correct(synapse_0, synapse_1, synapse_h):
    """Does the tutorial network add every pair of 7-bit numbers exactly?"""
    bits = (ALL_PAIRS[:, :, None] >> np.arange(8)) & 1  # LSB first
    h = np.zeros((len(ALL_PAIRS), synapse_h.shape[0]))
    out = np.zeros((len(ALL_PAIRS), 8), dtype=np.int64)
    for t in range(8):
        h = _sigmoid(bits[:, :, t] @ synapse_0 + h @ synapse_h)
        out[:, t] = np.round(_sigmoid(h @ synapse_1))[:, 0]
    return np.array_equal(out @ (1 << np.arange(8)), ALL_SUMS)


def tutorial(seed, n_updates=10_000, check_every=100):
    """The tutorial's training loop, one example per update (as published).

    Returns the training seconds until all pairs are right (None if never)
    and the number of updates it took.
    """
    np.random.seed(seed)
    alpha, input_dim, hidden_dim, output_dim, binary_dim = 0.1, 2, 16, 1, 8
    int2binary = {
        i: np.unpackbits(np.array([[i]], dtype=np.uint8).T, axis=1)[0]
        for i in range(2**binary_dim)
    }
    synapse_0 = 2 * np.random.random((input_dim, hidden_dim)) - 1
    synapse_1 = 2 * np.random.random((hidden_dim, output_dim)) - 1
    synapse_h = 2 * np.random.random((hidden_dim, hidden_dim)) - 1
    synapse_0_update = np.zeros_like(synapse_0)
    synapse_1_update = np.zeros_like(synapse_1)
    synapse_h_update = np.zeros_like(synapse_h)
    elapsed = 0.0
    for j in range(n_updates):
        start = time.perf_counter()
        a_int = np.random.randint(2**binary_dim / 2)
        a = int2binary[a_int]
        b_int = np.random.randint(2**binary_dim / 2)
        b = int2binary[b_int]
        c = int2binary[a_int + b_int]
        d = np.zeros_like(c)
        layer_2_deltas = []
        layer_1_values = [np.zeros(hidden_dim)]
        for position in range(binary_dim):
            X = np.array([[a[binary_dim - position - 1], b[binary_dim - position - 1]]])
            y = np.array([[c[binary_dim - position - 1]]]).T
            layer_1 = _sigmoid(X @ synapse_0 + layer_1_values[-1] @ synapse_h)
            layer_2 = _sigmoid(layer_1 @ synapse_1)
            layer_2_error = y - layer_2
            layer_2_deltas.append(layer_2_error * layer_2 * (1 - layer_2))
            d[binary_dim - position - 1] = np.round(layer_2[0][0])
            layer_1_values.append(layer_1.copy())
        future_layer_1_delta = np.zeros(hidden_dim)
        for position in range(binary_dim):
            X = np.array([[a[position], b[position]]])
            layer_1 = layer_1_values[-position - 1]
            prev_layer_1 = layer_1_values[-position - 2]
            layer_2_delta = layer_2_deltas[-position - 1]
            layer_1_delta = (
                future_layer_1_delta @ synapse_h.T + layer_2_delta @ synapse_1.T
            ) * (layer_1 * (1 - layer_1))
            synapse_1_update += np.atleast_2d(layer_1).T @ layer_2_delta
            synapse_h_update += np.atleast_2d(prev_layer_1).T @ layer_1_delta
            synapse_0_update += X.T @ layer_1_delta
            future_layer_1_delta = layer_1_delta
        synapse_0 += synapse_0_update * alpha
        synapse_1 += synapse_1_update * alpha
        synapse_h += synapse_h_update * alpha
        synapse_0_update *= 0
        synapse_1_update *= 0
        synapse_h_update *= 0
        elapsed += time.perf_counter() - start
        if (j + 1) % check_every == 0 and _tutorial_all_correct(
            synapse_0, synapse_1, synapse_h
        ):
            return elapsed, j + 1
    return None, n_updates


def estimator(seed, max_epochs=200):
    """``RNNBinaryAdder`` with default parameters on 1,000 random pairs.

    Trained one epoch per ``partial_fit`` so that the time until all pairs are
    right can be read between epochs; each call is the same epoch ``fit`` runs.
    Also returns the time and epochs of one plain ``fit`` (which stops once
    every training bit is right with probability >= 0.8) and the fraction of
    1,000 random 32-bit pairs and of all 7-bit pairs that model adds exactly.
    """
    X, y = make_addition(1000, n_bits=8, random_state=seed)
    model = RNNBinaryAdder(random_state=seed)
    elapsed, reached = 0.0, None
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.partial_fit(X, y)
        elapsed += time.perf_counter() - start
        if model.score(ALL_PAIRS, ALL_SUMS) == 1.0:
            reached = epoch
            break
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = RNNBinaryAdder(random_state=seed).fit(X, y)
    fit_time = time.perf_counter() - start
    rng = np.random.RandomState(seed)
    wide = rng.randint(0, 2**31, size=(1000, 2))
    return (
        elapsed if reached else None,
        reached,
        fit_time,
        fitted.n_iter_,
        fitted.score(wide, wide.sum(axis=1)),
        fitted.score(ALL_PAIRS, ALL_SUMS),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'seed':>4} | {'tutorial s':>10} {'updates':>8} | {'adder s':>8} "
        f"{'epochs':>6} | {'speed-up':>8} | {'fit() s':>7} {'epochs':>6} "
        f"{'7-bit':>6} {'32-bit':>6} | {'fit speed-up':>12}"
    )
    ratios, fit_ratios = [], []
    for seed in range(args.seeds):
        t_time, t_updates = tutorial(seed)
        e_time, e_epochs, fit_time, fit_epochs, wide, narrow = estimator(seed)
        ratio = t_time / e_time if t_time and e_time else float("nan")
        ratios.append(ratio)
        fit_ratio = t_time / fit_time if t_time else float("nan")
        fit_ratios.append(fit_ratio)
        print(
            f"{seed:>4} | {t_time or float('nan'):>10.3f} {t_updates:>8} | "
            f"{e_time or float('nan'):>8.3f} {e_epochs or 0:>6} | {ratio:>7.1f}x | "
            f"{fit_time:>7.3f} {fit_epochs:>6} {narrow:>6.3f} {wide:>6.3f} | "
            f"{fit_ratio:>11.1f}x"
        )
    print(f"median speed-up to 100% on all 7-bit pairs: {np.nanmedian(ratios):.1f}x")
    print(
        "median speed-up of the whole default fit() over the tutorial's time "
        f"to 100%: {np.nanmedian(fit_ratios):.1f}x (min {np.nanmin(fit_ratios):.1f}x)"
    )


if __name__ == "__main__":
    main()
