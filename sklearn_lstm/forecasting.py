"""Forecasting by reduction to regression on windows of a series.

A series (an array of shape ``(n_timesteps,)``, or ``(n_timesteps,
n_features)`` whose column ``target`` is forecast and the others are
covariates) becomes a regression problem: each window of ``window_length``
consecutive time steps is a sample, and the values of the target that follow
it are its targets. This is the "reduction" of sktime and skforecast:

* :func:`make_windows` turns one or several series into the arrays ``X``
  (the windows) and ``y`` (the next ``horizon`` values of the target);
* :class:`ReductionForecaster` fits any regressor on them and forecasts
  ``horizon`` steps ahead, either **direct** (one model predicts all
  ``horizon`` values at once, as a multi-output ``y``) or **recursive**
  (a model of the next value, its predictions fed back as the last values
  of the next window).

Univariate windows are 2-D ``(n_windows, window_length)`` arrays, which
every scikit-learn regressor reads as ``window_length`` lag features and
:class:`~sklearn_lstm.LSTMSequenceRegressor` as univariate sequences; windows
with covariates are 3-D ``(n_windows, window_length, n_features)`` and are
flattened for regressors that do not take 3-D input.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["ReductionForecaster", "make_windows"]


def _check_series(series, name="series"):
    """The series as a list of float arrays of shape (n_timesteps, n_features),
    and whether they were given as one series. A list (or tuple) of arrays
    (objects with a ``shape``, such as NumPy arrays and pandas objects) is
    several series; anything else is one."""
    if (
        isinstance(series, (list, tuple))
        and len(series) > 0
        and all(hasattr(s, "shape") for s in series)
    ):
        arrays = [_as_2d(s, name) for s in series]
        if len({a.shape[1] for a in arrays}) > 1:
            raise ValueError(f"Every {name} must have the same number of features.")
        return arrays, False
    return [_as_2d(series, name)], True


def _as_2d(series, name):
    array = check_array(
        series, ensure_2d=False, dtype=np.float64, input_name=name, copy=False
    )
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"A {name} must be 1-D or 2-D (n_timesteps, n_features), got "
            f"{array.ndim}-D."
        )
    return array


def _windows_of(array, window_length, horizon, target):
    """The windows of one series ``(n_timesteps, n_features)`` that are
    followed by ``horizon`` steps, and those steps' target values."""
    n_windows = len(array) - window_length - horizon + 1
    if n_windows <= 0:
        return (
            np.empty((0, window_length, array.shape[1])),
            np.empty((0, horizon)),
        )
    view = np.lib.stride_tricks.sliding_window_view(array, window_length, axis=0)
    X = view[:n_windows].transpose(0, 2, 1)
    targets = np.lib.stride_tricks.sliding_window_view(array[:, target], horizon)
    y = targets[window_length : window_length + n_windows]
    return X, y


def make_windows(series, window_length, horizon=1, *, target=0):
    """Turn one or several series into windows and the values that follow.

    Each window of ``window_length`` consecutive time steps is a sample; its
    targets are the ``horizon`` values of the ``target`` column right after
    it. Windows never straddle two series.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,) or (n_timesteps, n_features), \
            or list of such arrays
        One series, or several (of equal ``n_features``). In a 2-D series,
        column ``target`` is forecast and the others are covariates.

    window_length : int
        Number of past time steps each window holds.

    horizon : int, default=1
        Number of future values of the target per window.

    target : int, default=0
        The column of the series that is forecast.

    Returns
    -------
    X : ndarray of shape (n_windows, window_length) or \
            (n_windows, window_length, n_features)
        The windows, oldest step first: 2-D (lag features) for univariate
        series, 3-D with covariates.

    y : ndarray of shape (n_windows,) or (n_windows, horizon)
        The next value of the target after each window (1-D when
        ``horizon=1``), or the next ``horizon`` values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm.forecasting import make_windows
    >>> X, y = make_windows(np.arange(6.0), window_length=3)
    >>> X
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y
    array([3., 4., 5.])
    """
    arrays, _ = _check_series(series)
    _check_window_args(window_length, horizon, target, arrays[0].shape[1])
    parts = [_windows_of(a, window_length, horizon, target) for a in arrays]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    if arrays[0].shape[1] == 1:
        X = X[:, :, 0]
    return X, (y[:, 0] if horizon == 1 else y)


def _check_window_args(window_length, horizon, target, n_features):
    for name, value in (("window_length", window_length), ("horizon", horizon)):
        if not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if not isinstance(target, Integral) or not -n_features <= target < n_features:
        raise ValueError(
            f"target must be the index of a column of the series ({n_features} "
            f"features), got {target!r}."
        )


class ReductionForecaster(BaseEstimator):
    """Forecast a series with a regressor fitted on its windows.

    The series is cut into windows of ``window_length`` steps
    (:func:`make_windows`); the regressor learns what follows each window.
    With ``strategy='direct'`` it predicts the next ``horizon`` values at
    once (a multi-output ``y``); with ``strategy='recursive'`` it predicts
    the next value, and a forecast of ``horizon`` steps feeds each
    prediction back as the last step of the next window.

    The first argument of :meth:`fit`, :meth:`predict` and :meth:`score` is
    the series itself, its rows the time steps, so that
    :class:`~sklearn.model_selection.TimeSeriesSplit` splits it in time and
    :class:`~sklearn.model_selection.GridSearchCV` tunes the forecaster (or
    its regressor, ``estimator__<name>``) on later data than it trained on.

    Parameters
    ----------
    estimator : regressor, default=None
        The regressor of the windows; None means
        ``LSTMSequenceRegressor()``. Regressors that do not take 3-D input
        read the windows of a series with covariates flattened, as
        ``window_length * n_features`` lag features.

    window_length : int, default=24
        Number of past time steps the regressor reads.

    horizon : int, default=1
        Number of steps forecast ahead.

    strategy : {'direct', 'recursive'}, default='direct'
        One multi-output model of the ``horizon`` next values, or a model of
        the next value applied ``horizon`` times to its own predictions.

    target : int, default=0
        The column of a 2-D series that is forecast; the other columns are
        covariates, read in the windows (past values) only.

    Attributes
    ----------
    estimator_ : regressor
        The fitted clone of ``estimator``.

    n_features_in_ : int
        Number of columns of the series (1 for a 1-D series).

    See Also
    --------
    make_windows : The windows and targets the regressor is fitted on.
    LSTMSequenceRegressor : The default regressor.

    Notes
    -----
    A recursive forecast of a series with covariates needs their values over
    the horizon: pass them to :meth:`predict` as ``future_covariates``.
    :meth:`score` evaluates rolling forecasts from every window of the
    series it is given, so its first ``window_length`` steps serve as
    context only.

    References
    ----------
    Bontempi, G., Ben Taieb, S. and Le Borgne, Y.-A. (2013). Machine learning
    strategies for time series forecasting. Business Intelligence, 62-77.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_lstm.forecasting import ReductionForecaster
    >>> series = np.sin(np.arange(200) / 4)
    >>> forecaster = ReductionForecaster(Ridge(alpha=1e-3), window_length=8,
    ...                                  horizon=3).fit(series)
    >>> forecaster.predict(series).round(2)
    array([-0.26, -0.02,  0.23])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "window_length": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"direct", "recursive"})],
        "target": [Integral],
    }

    def __init__(
        self,
        estimator=None,
        *,
        window_length=24,
        horizon=1,
        strategy="direct",
        target=0,
    ):
        self.estimator = estimator
        self.window_length = window_length
        self.horizon = horizon
        self.strategy = strategy
        self.target = target

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the regressor on the windows of one or several series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_features), \
                or list of such arrays
            The series (several: a list), oldest step first.

        y : None
            Ignored: the targets are the series' own future values.

        **fit_params : dict
            Passed to the regressor's ``fit``.

        Returns
        -------
        self : object
            The fitted forecaster.
        """
        arrays, _ = _check_series(X, "X")
        n_features = arrays[0].shape[1]
        _check_window_args(self.window_length, 1, self.target, n_features)
        n_ahead = self.horizon if self.strategy == "direct" else 1
        windows, targets = make_windows(
            arrays, self.window_length, n_ahead, target=self.target
        )
        if len(windows) < 2:
            raise ValueError(
                f"The series are too short for windows of {self.window_length} "
                f"steps followed by {n_ahead}: {len(windows)} window(s)."
            )
        if self.estimator is None:
            from ._regressor import LSTMSequenceRegressor

            estimator = LSTMSequenceRegressor()
        else:
            estimator = clone(self.estimator)
        self.n_features_in_ = n_features
        self._flatten = windows.ndim == 3 and not _reads_3d(estimator)
        self.estimator_ = estimator.fit(self._shape(windows), targets, **fit_params)
        return self

    def _shape(self, windows):
        """Windows as the regressor reads them."""
        if self._flatten:
            return windows.reshape(len(windows), -1)
        return windows

    def _check_X(self, X):
        check_is_fitted(self)
        arrays, one = _check_series(X, "X")
        if arrays[0].shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {arrays[0].shape[1]} features, but {type(self).__name__} "
                f"was fitted with {self.n_features_in_}."
            )
        return arrays, one

    def _forecast(self, windows, future):
        """Forecasts ``(n_windows, horizon)`` from ``windows`` (n, L, D);
        ``future`` (n, horizon, D) holds the covariates over the horizon
        (recursive strategy only)."""
        if self.strategy == "direct":
            pred = self.estimator_.predict(self._shape(_squeeze(windows)))
            return np.asarray(pred, dtype=np.float64).reshape(len(windows), -1)
        windows = windows.copy()
        forecasts = np.empty((len(windows), self.horizon))
        for k in range(self.horizon):
            pred = self.estimator_.predict(self._shape(_squeeze(windows)))
            forecasts[:, k] = np.asarray(pred, dtype=np.float64).reshape(-1)
            if k + 1 < self.horizon:
                step = future[:, k].copy() if future is not None else None
                if step is None:
                    step = np.empty((len(windows), windows.shape[2]))
                step[:, self.target] = forecasts[:, k]
                windows = np.concatenate([windows[:, 1:], step[:, None]], axis=1)
        return forecasts

    def predict(self, X, future_covariates=None):
        """Forecast the ``horizon`` values that follow the end of each series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_features), \
                or list of such arrays
            The series; only the last ``window_length`` steps of each are
            read.

        future_covariates : array-like of shape (horizon - 1, n_features) \
                or list of such arrays, default=None
            Values of every column over the first ``horizon - 1`` forecast
            steps (the target column is ignored), one array per series.
            Needed by ``strategy='recursive'`` with covariates only.

        Returns
        -------
        y_pred : ndarray of shape (horizon,) or (n_series, horizon)
            The forecasts, one row per series of a list.
        """
        arrays, one = self._check_X(X)
        L = self.window_length
        if any(len(a) < L for a in arrays):
            raise ValueError(f"Every series needs at least {L} time steps.")
        windows = np.stack([a[-L:] for a in arrays])
        future = None
        if (
            self.strategy == "recursive"
            and self.n_features_in_ > 1
            and self.horizon > 1
        ):
            if future_covariates is None:
                raise ValueError(
                    "A recursive forecast with covariates needs their values over "
                    "the horizon: pass future_covariates."
                )
            futures, _ = _check_series(future_covariates, "future_covariates")
            if len(futures) != len(arrays) or any(
                f.shape != (self.horizon - 1, self.n_features_in_) for f in futures
            ):
                raise ValueError(
                    "future_covariates must hold, per series, an array of shape "
                    f"({self.horizon - 1}, {self.n_features_in_})."
                )
            future = np.stack(futures)
        forecasts = self._forecast(windows, future)
        return forecasts[0] if one else forecasts

    def predict_windows(self, X):
        """Rolling forecasts from every window of the series that has the
        ``horizon`` following steps, and those steps' true values.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_features), \
                or list of such arrays
            The series.

        Returns
        -------
        y_pred : ndarray of shape (n_windows, horizon)
            The forecasts from each window, in the order of
            :func:`make_windows`.

        y_true : ndarray of shape (n_windows, horizon)
            The values that followed each window.
        """
        arrays, _ = self._check_X(X)
        L, h = self.window_length, self.horizon
        preds, trues = [], []
        for a in arrays:
            windows, y = _windows_of(a, L, h, self.target)
            if not len(windows):
                continue
            future = None
            if self.strategy == "recursive" and h > 1:
                future = np.lib.stride_tricks.sliding_window_view(a, h - 1, axis=0)
                future = future[L : L + len(windows)].transpose(0, 2, 1)
            preds.append(self._forecast(windows, future))
            trues.append(y)
        if not preds:
            raise ValueError(
                f"X is too short for a window of {L} steps followed by {h}."
            )
        return np.concatenate(preds), np.concatenate(trues)

    def score(self, X, y=None):
        """Negative root mean squared error of the rolling forecasts of ``X``.

        Every window of ``X`` followed by ``horizon`` steps is forecast (see
        :meth:`predict_windows`), and the error is taken over all their
        steps; higher is better, as scikit-learn's scorers expect.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_features), \
                or list of such arrays
            The series.

        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-sqrt(mean((y_pred - y_true) ** 2))``.
        """
        y_pred, y_true = self.predict_windows(X)
        return -float(np.sqrt(np.mean((y_pred - y_true) ** 2)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        tags.target_tags.required = False
        tags.non_deterministic = (
            self.estimator is None or get_tags(self.estimator).non_deterministic
        )
        return tags


def _reads_3d(estimator):
    """Whether the regressor takes 3-D input (sequences of feature vectors)."""
    try:
        return bool(get_tags(estimator).input_tags.three_d_array)
    except Exception:  # an estimator without scikit-learn's tags
        return False


def _squeeze(windows):
    """Univariate windows as 2-D lag features."""
    return windows[:, :, 0] if windows.shape[2] == 1 else windows
