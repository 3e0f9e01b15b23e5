"""Fit and predict time on sequences of unequal lengths: trimmed against padded.

Training shuffles sequences of unequal lengths into minibatches of similar
lengths and computes each up to its longest sequence; prediction sorts the
sequences by length into chunks, each cut to its longest sequence
(``minibatch_indices`` and ``batch_rows`` in ``sklearn_lstm/_training.py``). The
network's outputs for the real steps are the same either way
(``tests/test_reliability.py`` checks it); only the work on padded steps goes.
This script times the default :class:`~sklearn_lstm.LSTMSequenceClassifier`
both ways on synthetic ragged data whose lengths spread like two real
datasets':

* ``plaid-like``: 537 univariate series of 100 to 1,344 steps, log-uniform
  (PLAID's lengths span the same range, median about 300);
* ``vowels-like``: 270 series of 7 to 29 steps of 12 features, uniform
  (JapaneseVowels).

"padded" runs the same code with ``_rows`` keeping every step, padded to the
longest sequence of all: what every minibatch cost before. The runs alternate
(trimmed, padded, trimmed, ...) so that the load of the machine hits both
alike; the script prints medians and their ratio. Epochs are fixed
(``max_iter``, ``tol=0``).

Run: ``python benchmarks/bench_ragged.py [--repeats 3] [--epochs 3]``
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import sklearn_lstm._base as base
import sklearn_lstm._training as training
from sklearn_lstm import LSTMSequenceClassifier

TRIMMED = training.batch_rows


def plaid_like(rng):
    lengths = np.round(100 * 2 ** rng.uniform(0, np.log2(13.44), size=537))
    return [rng.normal(size=(int(n), 1)) for n in lengths], rng.randint(11, size=537)


def vowels_like(rng):
    lengths = rng.randint(7, 30, size=270)
    return [rng.normal(size=(n, 12)) for n in lengths], rng.randint(9, size=270)


DATASETS = {"plaid-like": plaid_like, "vowels-like": vowels_like}


def use_trimming(on):
    """Trimmed batches (the package) or batches padded to the longest."""
    trim = TRIMMED if on else padded_rows
    training.batch_rows = base.batch_rows = trim


def padded_rows(X, mask, targets, rows):
    """``batch_rows`` as it was: every step, padded to the longest sequence."""
    take = None if targets is None else targets[rows]
    return X[rows], None if mask is None else mask[rows], take


def time_once(X, y, epochs):
    clf = LSTMSequenceClassifier(
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        fit = (time.perf_counter() - start) / epochs
    start = time.perf_counter()
    clf.predict_proba(X)
    return fit, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    header = (
        f"{'data':<12} {'real/padded steps':>17} {'epoch s trim':>12} "
        f"{'padded':>7} {'ratio':>6} {'predict s trim':>14} {'padded':>7} "
        f"{'ratio':>6}"
    )
    print(header)
    for name, make in DATASETS.items():
        X, y = make(np.random.RandomState(0))
        lengths = np.array([len(x) for x in X])
        times = {True: ([], []), False: ([], [])}
        for _ in range(args.repeats):
            for on in (True, False):
                use_trimming(on)
                fit, predict = time_once(X, y, args.epochs)
                times[on][0].append(fit)
                times[on][1].append(predict)
        use_trimming(True)
        fit_t, fit_p = (statistics.median(times[on][0]) for on in (True, False))
        pred_t, pred_p = (statistics.median(times[on][1]) for on in (True, False))
        share = lengths.sum() / (len(lengths) * lengths.max())
        print(
            f"{name:<12} {share:>17.2f} {fit_t:>12.3f} {fit_p:>7.3f} "
            f"{fit_t / fit_p:>6.2f} {pred_t:>14.3f} {pred_p:>7.3f} "
            f"{pred_t / pred_p:>6.2f}"
        )


if __name__ == "__main__":
    main()
