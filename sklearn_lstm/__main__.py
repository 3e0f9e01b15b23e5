"""Command line entry point: ``python -m sklearn_lstm`` or ``sklearn-lstm demo``.

The demo trains the two estimators on small data sets and prints what they
learned, in about ten seconds. It needs only the package's own dependencies.
"""

import argparse
import itertools
import sys
import time

import numpy as np

from ._version import __version__


def _print_sum(a, b, total, width):
    """Print a sum in decimal and in binary, most significant bit first, the
    binary numbers ``width`` digits wide."""
    mark = "ok" if total == a + b else f"WRONG, expected {a + b}"
    print(f"    {a:>11} = {a:0{width}b}")
    print(f"  + {b:>11} = {b:0{width}b}")
    print(f"  = {total:>11} = {total:0{width}b}  {mark}")


def _demo_adder(random_state):
    """Train RNNBinaryAdder on 8-bit sums and test it on 7-bit and 32-bit ones."""
    from ._binary_adder import RNNBinaryAdder
    from .datasets import make_addition

    print("1. RNNBinaryAdder: a 16-unit sigmoid RNN learns to add, bit by bit")
    X, y = make_addition(1000, n_bits=8, random_state=random_state)
    start = time.perf_counter()
    adder = RNNBinaryAdder(random_state=random_state).fit(X, y)
    print(
        f"   trained on 1,000 sums of 7-bit numbers in "
        f"{time.perf_counter() - start:.2f} s ({adder.n_iter_} epochs)"
    )

    pairs = np.array(list(itertools.product(range(128), repeat=2)))
    start = time.perf_counter()
    score_7 = adder.score(pairs, pairs.sum(axis=1))
    rng = np.random.RandomState(random_state)
    wide = rng.randint(0, 2**32, size=(10_000, 2), dtype=np.int64)
    score_32 = adder.score(wide, wide.sum(axis=1))
    print(f"   exact on all 128 x 128 pairs of 7-bit numbers:   {score_7:.4f}")
    print(f"   exact on 10,000 random pairs of 32-bit numbers: {score_32:.4f}")
    print(f"   ({time.perf_counter() - start:.2f} s to check)")
    print("   a few 32-bit sums, never seen in training:")
    examples = [(2**32 - 1, 1), (3_141_592_653, 1_123_581_321), *wide[:2].tolist()]
    predicted = adder.predict(examples)
    # One width for every sum, so that the columns line up.
    width = max(
        max(int(t).bit_length(), (int(a) + int(b)).bit_length())
        for (a, b), t in zip(examples, predicted)
    )
    for (a, b), total in zip(examples, predicted):
        _print_sum(int(a), int(b), int(total), width)
    return score_7, score_32


def _demo_classifier(random_state):
    """Train LSTMSequenceClassifier on the digits, each read row by row."""
    from sklearn.datasets import load_digits
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import train_test_split

    from ._classifier import LSTMSequenceClassifier

    print("\n2. LSTMSequenceClassifier: 8x8 digits read as 8 rows of 8 pixels")
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.images / 16.0,
        digits.target,
        test_size=0.25,
        stratify=digits.target,
        random_state=random_state,
    )
    clf = LSTMSequenceClassifier(
        hidden_size=64,
        learning_rate=1e-2,
        batch_size=64,
        early_stopping=True,
        random_state=random_state,
    )
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    print(
        f"   trained on {len(X_train):,} digits in {time.perf_counter() - start:.2f} s "
        f"({clf.n_iter_} epochs, early stopping; best validation accuracy "
        f"{clf.best_validation_score_:.3f})"
    )
    y_pred = clf.predict(X_test)
    accuracy = float(np.mean(y_pred == y_test))
    print(f"   test accuracy on {len(X_test)} digits: {accuracy:.3f}")
    print("   confusion matrix (rows: true digit, columns: predicted):")
    print("         " + " ".join(f"{d:>3}" for d in clf.classes_))
    for digit, row in zip(clf.classes_, confusion_matrix(y_test, y_pred)):
        print(f"     {digit:>3} " + " ".join(f"{n:>3}" for n in row))
    return accuracy


def demo(random_state=0):
    """Run the demo; return the scores it printed."""
    start = time.perf_counter()
    print(f"sklearn_lstm {__version__} demo: recurrent networks in plain NumPy\n")
    score_7, score_32 = _demo_adder(random_state)
    accuracy = _demo_classifier(random_state)
    print(f"\nTotal time: {time.perf_counter() - start:.1f} s")
    return {"adder_7bit": score_7, "adder_32bit": score_32, "digits": accuracy}


def main(argv=None):
    """Parse the command line and run the chosen command; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="sklearn-lstm",
        description="LSTM and RNN estimators in plain NumPy with the scikit-learn API.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sklearn_lstm {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="{demo}")
    demo_parser = commands.add_parser(
        "demo",
        help="train the binary adder and a digit classifier, print what they "
        "learned (the default)",
        description="Train RNNBinaryAdder on 8-bit sums and LSTMSequenceClassifier "
        "on the digits read row by row; print their scores and timings.",
    )
    demo_parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the data and the models (default: 0)",
    )
    args = parser.parse_args(argv)
    demo(random_state=getattr(args, "random_state", 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
