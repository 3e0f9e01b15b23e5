"""Tests of sklearn_lstm.forecasting: windows of series, direct and recursive
forecasts, and the forecaster in scikit-learn's model selection tools."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_lstm import LSTMSequenceRegressor
from sklearn_lstm.forecasting import ReductionForecaster, make_windows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _ar_series(n=300, seed=0):
    """A noiseless linear recursion: Ridge on its lags forecasts it exactly."""
    t = np.arange(n)
    return np.sin(t / 5) + 0.5 * np.cos(t / 3) + 0.01 * t


def test_make_windows_univariate():
    X, y = make_windows(np.arange(10.0), window_length=4, horizon=2)
    assert X.shape == (5, 4) and y.shape == (5, 2)
    assert_array_equal(X[0], [0, 1, 2, 3])
    assert_array_equal(y[0], [4, 5])
    assert_array_equal(y[-1], [8, 9])
    X1, y1 = make_windows(np.arange(10.0), 4)
    assert X1.shape == (6, 4) and y1.shape == (6,)


def test_make_windows_covariates_and_several_series():
    a = np.column_stack([np.arange(10.0), -np.arange(10.0)])
    X, y = make_windows(a, 3, target=1)
    assert X.shape == (7, 3, 2)
    assert_array_equal(y, -np.arange(3.0, 10.0))
    X, y = make_windows([a, a[:5]], 3, horizon=2)
    assert X.shape == (6 + 1, 3, 2)  # no window straddles the two series
    assert_array_equal(X[-1, :, 0], [0, 1, 2])
    assert_array_equal(y[-1], [3, 4])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window_length": 0}, "window_length"),
        ({"horizon": 0}, "horizon"),
        ({"target": 2}, "target"),
    ],
)
def test_make_windows_errors(kwargs, match):
    args = {"window_length": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_windows(np.ones((10, 2)), **args)


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_forecasts_a_linear_recursion(strategy):
    series = _ar_series()
    f = ReductionForecaster(
        Ridge(alpha=1e-8), window_length=12, horizon=5, strategy=strategy
    ).fit(series[:250])
    assert_allclose(f.predict(series[:250]), series[250:255], atol=1e-3)
    y_pred, y_true = f.predict_windows(series[250:])
    assert y_pred.shape == y_true.shape == (50 - 12 - 5 + 1, 5)
    assert_allclose(y_pred, y_true, atol=1e-3)
    assert f.score(series[250:]) > -1e-3


def test_several_series_give_one_row_each():
    series = _ar_series()
    f = ReductionForecaster(Ridge(), window_length=6, horizon=3).fit(
        [series[:100], series[100:]]
    )
    assert f.predict([series[:50], series[:60]]).shape == (2, 3)
    assert f.predict(series[:50]).shape == (3,)


def test_recursive_with_covariates_needs_their_future():
    series = _ar_series()
    data = np.column_stack([series, np.roll(series, -1)])  # next value known
    f = ReductionForecaster(
        Ridge(alpha=1e-8), window_length=6, horizon=3, strategy="recursive"
    ).fit(data[:200])
    with pytest.raises(ValueError, match="future_covariates"):
        f.predict(data[:200])
    pred = f.predict(data[:200], future_covariates=data[200:202])
    assert_allclose(pred, series[200:203], atol=1e-2)
    direct = ReductionForecaster(Ridge(), window_length=6, horizon=3).fit(data)
    assert direct.predict(data).shape == (3,)
    assert direct._flatten  # Ridge reads 3-D windows flattened


def test_lstm_reads_windows_as_sequences():
    series = _ar_series(120)
    data = np.column_stack([series, series**2])
    lstm = LSTMSequenceRegressor(hidden_size=4, max_iter=3, random_state=0)
    f = ReductionForecaster(lstm, window_length=8, horizon=2).fit(data)
    assert not f._flatten
    assert f.estimator_.n_outputs_ == 2
    assert f.predict(data).shape == (2,)
    assert f.estimator is lstm and not hasattr(lstm, "n_outputs_")  # a clone


def test_default_estimator_is_the_lstm():
    f = ReductionForecaster(window_length=5)
    assert f.estimator is None
    f.set_params(estimator=LSTMSequenceRegressor(hidden_size=2, max_iter=2))
    f.fit(_ar_series(60))
    assert isinstance(f.estimator_, LSTMSequenceRegressor)


def test_model_selection_in_time():
    series = _ar_series()
    f = ReductionForecaster(Ridge(), window_length=8, horizon=2)
    scores = cross_val_score(f, series, cv=TimeSeriesSplit(3))
    assert scores.shape == (3,) and np.all(scores < 0)
    search = GridSearchCV(
        f,
        {"window_length": [2, 12], "estimator__alpha": [1e-6, 10.0]},
        cv=TimeSeriesSplit(3),
    ).fit(series)
    assert search.best_params_ == {"window_length": 12, "estimator__alpha": 1e-6}
    pipe = make_pipeline(StandardScaler(), clone(f)).fit(series[:, None])
    assert pipe.predict(series[:, None]).shape == (2,)


def test_parameters_are_validated_in_fit():
    f = ReductionForecaster(Ridge(), strategy="sideways")
    assert f.strategy == "sideways"  # stored unchanged
    with pytest.raises(ValueError, match="strategy"):
        f.fit(_ar_series())
    with pytest.raises(ValueError, match="too short"):
        ReductionForecaster(Ridge(), window_length=50).fit(np.arange(20.0))
    fitted = ReductionForecaster(Ridge(), window_length=4).fit(np.ones((30, 2)))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.ones((30, 3)))


def test_predict_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ReductionForecaster(Ridge()).predict(np.arange(30.0))
