"""
=====================================================
Forecasting a real series two years ahead, with seeds
=====================================================

:class:`~sklearn_lstm.forecasting.ReductionForecaster` turns a series into
windows of its last values and forecasts the next ``horizon`` values at once
(the "direct" strategy), with any regressor. Here it forecasts the monthly
CO2 concentration at Mauna Loa (the series that ships with statsmodels, no
download) 24 months ahead, with :class:`~sklearn_lstm.LSTMSequenceRegressor`
and, as the baseline, :class:`~sklearn.linear_model.Ridge` on the same lags.

A neural network's forecast depends on its random initialization: the
spread of a few seeds is the simplest honest picture of that uncertainty.
"""

# %%
# The series
# ----------
# Weekly measurements averaged by month (gaps interpolated), 1958-2001. The
# last 24 months are the test period; everything before trains.
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error

from sklearn_lstm import LSTMSequenceRegressor
from sklearn_lstm.forecasting import ReductionForecaster

co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
series = co2.to_numpy(float)
horizon = 24
train, test = series[:-horizon], series[-horizon:]
print(f"{len(train)} training months, {len(test)} to forecast")

# %%
# Forecasts
# ---------
# Windows of the last 36 months. The series trends upward, so every test
# window lies above the values seen in training. The default
# ``window_norm='auto'`` sees that the targets continue the series and reads
# each window relative to its own last value, mapping the forecast back
# (reversible per-window normalization, ``window_norm_ == 'last'``): the
# network sees windows like those it trained on. Three seeds of the LSTM;
# Ridge has none.
ridge = ReductionForecaster(Ridge(), window_length=36, horizon=horizon)
forecasts = {"Ridge": ridge.fit(train).predict(train)}
lstm_runs = []
for seed in range(3):
    model = ReductionForecaster(
        LSTMSequenceRegressor(random_state=seed), window_length=36, horizon=horizon
    )
    lstm_runs.append(model.fit(train).predict(train))
print(f"window_norm_ of the last fit: {model.estimator_.window_norm_!r}")
lstm_runs = np.array(lstm_runs)
forecasts["LSTM (mean of 3 seeds)"] = lstm_runs.mean(axis=0)

for name, forecast in forecasts.items():
    rmse = root_mean_squared_error(test, forecast)
    print(f"{name:<24} RMSE over the 24 months {rmse:.3f}")
spread = lstm_runs.max(axis=0) - lstm_runs.min(axis=0)
print(
    f"LSTM seeds: widest spread {spread.max():.3f} ppm, at month {spread.argmax() + 1}"
)

# %%
# The picture
# -----------
# The band is the range of the three LSTM forecasts. On this smooth,
# strongly seasonal series a linear model of the lags is hard to beat, and
# Ridge's forecast is as close as the LSTM's; the forecasting benchmark of
# the documentation compares both on six real series.
months = np.arange(len(series))
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(months[-96:], series[-96:], color="black", lw=1.5, label="observed")
future = months[-horizon:]
ax.plot(future, forecasts["Ridge"], "--", label="Ridge on lags")
ax.plot(future, forecasts["LSTM (mean of 3 seeds)"], lw=2, label="LSTM, mean")
ax.fill_between(
    future, lstm_runs.min(axis=0), lstm_runs.max(axis=0), alpha=0.3, label="LSTM, seeds"
)
ax.axvline(months[-horizon] - 0.5, color="grey", lw=0.8)
ax.set_xlabel("month")
ax.set_ylabel("CO2 (ppm)")
ax.set_title("Mauna Loa CO2: 24 months forecast at once")
ax.legend(loc="upper left")
plt.tight_layout()
plt.show()
