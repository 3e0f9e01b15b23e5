"""LSTMSequenceRegressor on real regression data sets, against Ridge and MLP.

Two problems of the Monash/UEA time series extrinsic regression archive that
ship inside installed packages (no download):

* Covid3Month (``aeon``): 201 countries' daily confirmed Covid-19 cases over
  84 days (140 train, 61 test, univariate); the target is the country's
  death rate after the three months;
* Tecator (``sktime``): 215 near-infrared absorbance spectra of meat, 100
  wavelengths each (172 train, 43 test, univariate); the target is the fat
  content.

Every model uses its default parameters (``random_state`` aside), in one run:

* ``LSTMSequenceRegressor`` reads each series as a sequence ``(n, T, 1)``;
* ``Ridge`` and ``MLPRegressor`` read it flattened, ``(n, T)``;
* ``DummyRegressor`` predicts the training mean: the bar to clear.

Twice: on the raw values and with every value divided by the training
series' global standard deviation (one number for all time steps, fitted on
the training set: the usual scaling of a series).

Run: ``python benchmarks/bench_regression.py [--seeds 3] [--data NAME ...]``
in an environment with ``aeon`` and ``sktime`` installed.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.neural_network import MLPRegressor

from sklearn_lstm import LSTMSequenceRegressor


def _load_covid():
    """Covid3Month's train and test sets as ``(n, T, 1)`` arrays and
    targets."""
    from aeon.datasets import load_covid_3month

    X, y = load_covid_3month(split="train")
    X_test, y_test = load_covid_3month(split="test")
    # aeon's layout is (n_cases, n_channels, n_timepoints)
    return X.transpose(0, 2, 1), y, X_test.transpose(0, 2, 1), y_test


def _load_tecator():
    """Tecator's train and test sets as ``(n, T, 1)`` arrays and targets."""
    from sktime.datasets import load_tecator

    def load(split):
        X, y = load_tecator(split=split, return_X_y=True, return_type="numpy3D")
        return X.transpose(0, 2, 1).astype(float), np.asarray(y, dtype=float)

    return *load("train"), *load("test")


DATA = {"Covid3Month": _load_covid, "Tecator": _load_tecator}


def _models(seed):
    return {
        "DummyRegressor (mean)": (DummyRegressor(), True),
        "Ridge": (Ridge(), True),
        "MLPRegressor": (MLPRegressor(random_state=seed), True),
        "LSTMSequenceRegressor": (LSTMSequenceRegressor(random_state=seed), False),
    }


def _run(X, y, X_test, y_test, seeds):
    """RMSE and fit time of each model, mean and spread over the seeds."""
    results = {}
    for seed in seeds:
        for name, (model, flat) in _models(seed).items():
            Xf, Xf_test = (X[:, :, 0], X_test[:, :, 0]) if flat else (X, X_test)
            start = time.perf_counter()
            model.fit(Xf, y)
            fit_time = time.perf_counter() - start
            rmse = root_mean_squared_error(y_test, model.predict(Xf_test))
            results.setdefault(name, []).append((rmse, fit_time))
    return results


def _print(title, results):
    print(f"\n{title}")
    print(f"{'model':<24} {'RMSE (mean)':>12} {'min':>9} {'max':>9} {'fit s':>7}")
    for name, runs in results.items():
        rmse, fit_time = np.array(runs).T
        print(
            f"{name:<24} {rmse.mean():>12.5f} {rmse.min():>9.5f} {rmse.max():>9.5f}"
            f" {fit_time.mean():>7.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="random_state 0..N-1")
    parser.add_argument("--data", nargs="*", default=list(DATA), choices=list(DATA))
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    seeds = range(args.seeds)
    for name in args.data:
        X, y, X_test, y_test = DATA[name]()
        print(
            f"\n{name}: {X.shape[0]} train, {X_test.shape[0]} test series of "
            f"{X.shape[1]} steps; target mean {y.mean():.4f}, std {y.std():.4f}"
        )
        _print(f"{name}, raw values", _run(X, y, X_test, y_test, seeds))
        scale = X.std()
        _print(
            f"{name}, divided by the training std ({scale:.4g})",
            _run(X / scale, y, X_test / scale, y_test, seeds),
        )


if __name__ == "__main__":
    main()
