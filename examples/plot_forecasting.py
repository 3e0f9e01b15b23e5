"""
==============================================
Forecasting the next value of a chaotic series
==============================================

One-step-ahead forecasting as sequence regression: every window of ``w``
consecutive values of a series is a sequence, and the value that follows it is
the target. :class:`~sklearn_lstm.LSTMSequenceRegressor` reads the window step
by step; a :class:`~sklearn.linear_model.Ridge` regression on the same ``w``
lagged values is the classical baseline.

The series is the Mackey-Glass delay equation with ``tau = 17``, a standard
benchmark of chaotic time series forecasting (Mackey and Glass, 1977),
integrated here deterministically, so the example needs no download.
"""

# %%
# The series and its windows
# --------------------------
# We integrate ``dx/dt = 0.2 x(t - 17) / (1 + x(t - 17)**10) - 0.1 x(t)`` with
# steps of 0.1 and keep one value every 6 time units. The first 700 windows train
# the models, the next 300 test them.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error

from sklearn_lstm import LSTMSequenceRegressor


def mackey_glass(n_values, tau=17, dt=0.1, sample_every=60, x0=1.2):
    """The Mackey-Glass series, one value per ``sample_every * dt`` time units."""
    delay = int(tau / dt)
    n_steps = n_values * sample_every + delay
    x = np.full(n_steps, x0)
    for t in range(delay, n_steps - 1):
        lagged = x[t - delay]
        x[t + 1] = x[t] + dt * (0.2 * lagged / (1 + lagged**10) - 0.1 * x[t])
    return x[delay::sample_every][:n_values]


series = mackey_glass(1100)[100:]  # drop the transient
window = 8
X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
y = series[window:]
n_train = 700
X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
print(f"{len(X_train)} training windows, {len(X_test)} test windows of {window}")

# %%
# Ridge on lag features, and the LSTM
# -----------------------------------
# A 2-D ``X`` of shape ``(n_windows, window)`` is read by the LSTM as
# univariate sequences: the same array serves both models. With
# ``early_stopping=True`` the LSTM holds out 10% of the training windows and
# stops when their R² stops improving.
ridge = Ridge(alpha=1e-3).fit(X_train, y_train)
start = time.perf_counter()
lstm = LSTMSequenceRegressor(hidden_size=16, early_stopping=True, random_state=0)
lstm.fit(X_train, y_train)
fit_time = time.perf_counter() - start

rmse = {
    "Ridge on lags": root_mean_squared_error(y_test, ridge.predict(X_test)),
    "LSTMSequenceRegressor": root_mean_squared_error(y_test, lstm.predict(X_test)),
}
for name, value in rmse.items():
    print(f"{name:<22} test RMSE {value:.4f}")
print(f"The LSTM trained for {lstm.n_iter_} epochs in {fit_time:.1f} s")

# %%
# The forecasts
# -------------
# The linear model extrapolates the recent slope; the LSTM learns the
# nonlinear delay feedback of the series and follows its peaks more closely.
fig, ax = plt.subplots(figsize=(8, 3.5))
t = np.arange(n_train, n_train + 150)
ax.plot(t, y_test[:150], color="black", lw=2, label="series")
ax.plot(
    t, ridge.predict(X_test[:150]), "--", label=f"Ridge ({rmse['Ridge on lags']:.4f})"
)
ax.plot(
    t,
    lstm.predict(X_test[:150]),
    ":",
    lw=2,
    label=f"LSTM ({rmse['LSTMSequenceRegressor']:.4f})",
)
ax.set_xlabel("time step")
ax.set_ylabel("x(t)")
ax.set_title("One-step-ahead forecasts on the test windows (RMSE)")
ax.legend()
plt.tight_layout()
plt.show()
