"""Time to a good model: a default fit on the digits next to ``MLPClassifier``.

The digits (``load_digits().images / 16``, read row by row as 8 steps of 8
features; first half train, second half test) are fitted by
``LSTMSequenceClassifier()`` and by ``MLPClassifier()`` on the flattened
images, default parameters plus ``random_state`` on both sides, interleaved
seed by seed in one run; the script prints each fit's wall time, epochs and
test accuracy, and the ratio of the mean fit times (the target is <= 3x at an
accuracy >= 0.96).

The time of one epoch, the same network on both sides (the classic one and
the classifier's default one, reproduced in torch), is
``benchmarks/bench_fused.py``'s; ``--epochs`` runs it from here for the
default network. The time to accuracy on the UCR/UEA datasets, next to
aeon's ``MiniRocketClassifier``, is ``benchmarks/bench_ucr.py``'s.

Run: ``python benchmarks/bench_fit.py [--seeds 0 1 2] [--epochs]``.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_lstm import LSTMSequenceClassifier


def bench_digits(seeds):
    """Default LSTMSequenceClassifier against default MLPClassifier on digits."""
    digits = load_digits()
    X = digits.images / 16.0
    n_train = len(X) // 2
    X_train, X_test = X[:n_train], X[n_train:]
    y_train, y_test = digits.target[:n_train], digits.target[n_train:]
    flat_train, flat_test = X_train.reshape(n_train, -1), X_test.reshape(-1, 64)
    print(f"digits (train {n_train}, test {len(X_test)}), default parameters:")
    times = {"LSTM": [], "MLP": []}
    accuracies = {"LSTM": [], "MLP": []}
    for seed in seeds:
        models = {
            "LSTM": (LSTMSequenceClassifier(random_state=seed), X_train, X_test),
            "MLP": (MLPClassifier(random_state=seed), flat_train, flat_test),
        }
        for name, (model, train, test) in models.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                model.fit(train, y_train)
                elapsed = time.perf_counter() - start
            converged = not any(
                issubclass(w.category, ConvergenceWarning) for w in caught
            )
            accuracy = model.score(test, y_test)
            times[name].append(elapsed)
            accuracies[name].append(accuracy)
            print(
                f"  seed {seed} {name:<4} {elapsed:7.2f} s {model.n_iter_:>4} epochs"
                f"  test accuracy {accuracy:.4f}"
                + ("" if converged else "  (ConvergenceWarning)"),
                flush=True,
            )
    for name in times:
        print(
            f"  {name:<4} mean {np.mean(times[name]):6.2f} s, accuracy "
            f"{np.mean(accuracies[name]):.4f}"
        )
    ratio = np.mean(times["LSTM"]) / np.mean(times["MLP"])
    print(f"  time ratio LSTM / MLP: {ratio:.1f}x (target <= 3x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--epochs",
        action="store_true",
        help="also the default network's epoch time against torch (bench_fused)",
    )
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    bench_digits(args.seeds)
    if args.epochs:
        import bench_fused

        print("\ndefault network, seconds per epoch (medians, see bench_fused.py)")
        for dtype in bench_fused.DTYPES.values():
            for name, shape, K in bench_fused.SHAPES:
                bench_fused.bench_shape(name, shape, K, dtype, 5, 3, True, "default")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
