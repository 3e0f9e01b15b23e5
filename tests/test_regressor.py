"""Tests of LSTMSequenceRegressor: many-to-one regression on sequences.

The shared behaviour (input forms, bad inputs, determinism, persistence) is
tested for every estimator through its record in ``estimator_cases.py``; these
tests cover what is the regressor's own: targets, their scaling, outputs.
"""

import warnings

import numpy as np
import pytest
from estimator_cases import CASES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import _expected_failed_checks

from sklearn_lstm import LSTMSequenceRegressor
from sklearn_lstm.forecasting import make_windows

# Short fits (a few epochs, enough for what a test checks) stop at max_iter on
# purpose, with a ConvergenceWarning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_size": 8, "max_iter": 40, "random_state": 0}


def _sum_data(n_samples=200, n_timesteps=5, seed=0):
    """Targets that need the whole sequence: a scaled sum of its steps."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, 2))
    return X, X[:, :, 0].sum(axis=1) - 0.5 * X[:, -1, 1]


@pytest.fixture(scope="module")
def data():
    return _sum_data()


@pytest.fixture(scope="module")
def reg(data):
    return LSTMSequenceRegressor(**FAST).fit(*data)


def test_learns_the_sum(reg, data):
    X, y = data
    X_test, y_test = _sum_data(100, seed=1)
    assert reg.score(X, y) > 0.95
    assert reg.score(X_test, y_test) > 0.9


def test_1d_y_gives_1d_predictions(reg, data):
    X, y = data
    assert reg.predict(X).shape == (len(y),)
    assert reg.n_outputs_ == 1
    column = LSTMSequenceRegressor(**{**FAST, "max_iter": 2}).fit(X, y[:, None])
    assert column.predict(X).shape == (len(y), 1)


def test_multi_output(data):
    X, y = data
    Y = np.column_stack([y, X[:, 0, 1]])
    reg = LSTMSequenceRegressor(**FAST).fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == (len(y), 2)
    # both directions' last states, 8 units each, then the skip (5 steps of
    # 2 features), to two outputs
    assert reg.output_weights_.shape == (16 + 5 * 2, 2)
    assert r2_score(Y, pred, multioutput="raw_values").min() > 0.9


def test_targets_are_standardized(data):
    X, y = data
    sample_weight = np.linspace(0.5, 2, len(y))
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 1})
    reg.fit(X, 3 + 7 * y, sample_weight=sample_weight)
    mean = np.average(3 + 7 * y, weights=sample_weight)
    std = np.sqrt(np.average((3 + 7 * y - mean) ** 2, weights=sample_weight))
    assert_allclose(reg.target_mean_, [mean])
    assert_allclose(reg.target_scale_, [std])


@pytest.mark.parametrize("scale, shift", [(1e6, 1e8), (1e-6, -3.0)])
def test_scale_of_the_targets_does_not_matter(reg, data, scale, shift):
    """An affine map of the targets gives the same network: predictions map
    alike and R² is unchanged (up to rounding)."""
    X, y = data
    # the network alone: with the linear model, exact on these targets, the
    # network would learn rounding
    reg = LSTMSequenceRegressor(**FAST, linear=False).fit(X, y)
    other = LSTMSequenceRegressor(**FAST, linear=False).fit(X, shift + scale * y)
    for p, q in zip(reg._params, other._params):
        assert_allclose(p, q, rtol=1e-6, atol=1e-9)
    assert_allclose(other.predict(X), shift + scale * reg.predict(X), rtol=1e-6)
    assert other.score(X, shift + scale * y) == pytest.approx(reg.score(X, y))
    reg = LSTMSequenceRegressor(**FAST).fit(X, y)
    other = LSTMSequenceRegressor(**FAST).fit(X, shift + scale * y)
    assert_allclose(other.predict(X), shift + scale * reg.predict(X), rtol=1e-6)


def test_constant_target_is_predicted(data):
    X, _ = data
    reg = LSTMSequenceRegressor(**FAST).fit(X, np.full(len(X), 42.0))
    assert_array_equal(reg.target_scale_, [1.0])
    assert_allclose(reg.predict(X), 42.0, rtol=1e-2)


def test_partial_fit_keeps_the_first_scaling(data):
    X, y = data
    reg = LSTMSequenceRegressor(**FAST).partial_fit(X[:100], y[:100])
    mean, scale = reg.target_mean_.copy(), reg.target_scale_.copy()
    reg.partial_fit(X[100:], 10 * y[100:])
    assert_array_equal(reg.target_mean_, mean)
    assert_array_equal(reg.target_scale_, scale)
    assert reg.n_iter_ == 2


def test_warm_start_keeps_the_scaling(data):
    X, y = data
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 2, "warm_start": True})
    reg.fit(X, y)
    scale = reg.target_scale_.copy()
    reg.fit(X, 5 * y)
    assert_array_equal(reg.target_scale_, scale)


def test_early_stopping_scores_r2(data):
    X, y = data
    reg = LSTMSequenceRegressor(**FAST, early_stopping=True, linear=False).fit(X, y)
    assert reg.best_loss_ is None
    assert max(reg.validation_scores_) == reg.best_validation_score_
    assert -1 < reg.best_validation_score_ <= 1
    assert reg.best_validation_score_ > 0.8
    # with the linear model (exact here: a sum), the R² of the model, the
    # linear model alone (epoch 0) a candidate of the best
    reg = LSTMSequenceRegressor(**FAST, early_stopping=True, linear=True).fit(X, y)
    assert reg.best_validation_score_ >= max(reg.validation_scores_)
    assert reg.best_validation_score_ > 0.999


def test_zero_weight_samples_do_not_count(data):
    X, y = data
    y_noisy = y.copy()
    y_noisy[::4] = 1e3  # outliers, weighted out
    sample_weight = np.ones(len(y))
    sample_weight[::4] = 0
    reg = LSTMSequenceRegressor(**FAST).fit(X, y_noisy, sample_weight=sample_weight)
    keep = sample_weight > 0
    assert reg.score(X[keep], y[keep]) > 0.9


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("readout", ["last", "mean", "max", "mean_max"])
def test_transform_is_what_the_output_layer_reads(data, readout, bidirectional):
    X, y = data
    reg = LSTMSequenceRegressor(
        hidden_size=4,
        readout=readout,
        bidirectional=bidirectional,
        max_iter=2,
        skip=0,
    ).fit(X, y)
    Z = reg.transform(X)
    width = (8 if bidirectional else 4) * (2 if readout == "mean_max" else 1)
    assert Z.shape == (len(X), width)
    pred = reg.target_mean_ + reg.target_scale_ * (
        Z @ reg.output_weights_ + reg.output_bias_
    )
    assert_allclose(reg.predict(X), pred[:, 0], rtol=1e-10)
    names = reg.get_feature_names_out()
    assert len(names) == Z.shape[1]
    assert names[0] == "lstmsequenceregressor0"


def test_dropout_trains_and_predicts_deterministically(data):
    X, y = data
    reg = LSTMSequenceRegressor(**{**FAST, "dropout": 0.2, "weight_drop": 0.2}).fit(
        X, y
    )
    assert_array_equal(reg.predict(X), reg.predict(X))
    assert reg.score(X, y) > 0.8


def test_float32_predictions_are_float32(data):
    X, y = data
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 2}).fit(X.astype(np.float32), y)
    assert reg.predict(X).dtype == np.float32
    assert reg.transform(X).dtype == np.float32


# -- window normalization (RevIN) and the skip (highway) ----------------------


def _trending_windows(n=300, window=12, seed=0):
    """Windows of a random walk with drift and the value after each."""
    rng = np.random.RandomState(seed)
    series = np.cumsum(0.5 + rng.normal(size=n))
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    return X, series[window:]


def test_window_norm_auto_follows_the_targets():
    X, y = _trending_windows()
    reg = LSTMSequenceRegressor(**FAST, window_norm="auto")
    assert reg.fit(X, y).window_norm_ == "last"
    rng = np.random.RandomState(0)
    noise = rng.normal(size=len(y))
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 2}, window_norm="auto")
    reg.fit(X, noise)
    assert reg.window_norm_ is None


def test_early_stopping_holds_out_the_last_windows_of_a_series():
    """Windows of a series are held out in time order (a random draw
    overlaps the training windows), with or without window_norm; the same
    sequences in another order at random."""
    X, y = _trending_windows()
    n_val = int(np.ceil(0.2 * len(X)))
    last = np.arange(len(X) - n_val, len(X))
    for window_norm in ("last", None):
        reg = LSTMSequenceRegressor(**FAST, window_norm=window_norm)
        train, val = reg.fit(X, y)._validation_split(len(X), None)
        assert_array_equal(val, last)
        assert_array_equal(train, np.arange(len(X) - n_val))
    order = np.random.RandomState(0).permutation(len(X))
    reg = LSTMSequenceRegressor(**FAST, window_norm=None, early_stopping=True)
    _, val = reg.fit(X[order], y[order])._validation_split(len(X), None)
    assert len(val) == n_val and not np.array_equal(np.sort(val), last)


def test_held_out_windows_leave_out_the_windows_sharing_their_targets():
    """With h targets per window (a direct forecast), the h - 1 windows
    before the held-out ones share targets with them: out of training."""
    series = np.sin(np.arange(300) / 5) + np.arange(300) / 50
    X, y = make_windows(series, 12, 5)
    reg = LSTMSequenceRegressor(**FAST).fit(X, y)
    train, val = reg._validation_split(len(X), None)
    n_val = int(np.ceil(0.2 * len(X)))
    assert_array_equal(val, np.arange(len(X) - n_val, len(X)))
    assert_array_equal(train, np.arange(len(X) - n_val - 4))


@pytest.mark.parametrize("window_norm", ["last", "mean"])
def test_window_norm_is_affine_equivariant(window_norm):
    # each window is normalized by its own location and scale: a series
    # shifted and scaled gives the same network and the mapped predictions
    X, y = _trending_windows()
    params = {**FAST, "max_iter": 5, "window_norm": window_norm}
    reg = LSTMSequenceRegressor(**params).fit(X, y)
    moved = LSTMSequenceRegressor(**params).fit(3 * X + 100, 3 * y + 100)
    assert_allclose(moved.predict(3 * X + 100), 3 * reg.predict(X) + 100, rtol=1e-6)


def test_window_norm_forecasts_beyond_the_training_range():
    X, y = _trending_windows(400)
    train, test = slice(0, 250), slice(250, None)
    errors = {}
    for window_norm in [None, "last"]:
        # the network alone: a linear model extrapolates a random walk too
        reg = LSTMSequenceRegressor(
            hidden_size=8,
            max_iter=60,
            window_norm=window_norm,
            linear=False,
            random_state=0,
        ).fit(X[train], y[train])
        errors[window_norm] = np.sqrt(np.mean((reg.predict(X[test]) - y[test]) ** 2))
    assert errors["last"] < 0.5 * errors[None]


def test_skip_auto_reads_every_step():
    X, y = _trending_windows()
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 2}).fit(X, y)
    assert reg._network.skip == X.shape[1]
    assert reg.output_weights_.shape == (2 * 8 + X.shape[1], 1)
    assert reg.transform(X).shape == (len(X), 2 * 8 + X.shape[1])
    off = LSTMSequenceRegressor(**{**FAST, "max_iter": 2, "skip": 0}).fit(X, y)
    assert off.output_weights_.shape == (16, 1)


@pytest.mark.parametrize("window_norm", ["last", "mean", None])
def test_window_and_skip_gradients_match_finite_differences(window_norm):
    from sklearn_lstm._testing import numerical_gradient

    rng = np.random.RandomState(0)
    X = rng.normal(size=(6, 4, 2)) + 5
    X[0, 3:] = np.nan  # one shorter sequence
    y = rng.normal(size=(6, 2))
    reg = LSTMSequenceRegressor(
        hidden_size=3, window_norm=window_norm, skip=3, max_iter=1, random_state=0
    ).fit(X, y)
    Xe, mask, targets, weights = reg._prepare_fit_data(X, y, None, False, None, False)
    loss, grads = reg._loss_grad(Xe, mask, targets, weights)
    for param, grad in zip(reg._params, grads):
        num = numerical_gradient(
            lambda: reg._loss_grad(Xe, mask, targets, weights)[0], param, 1.0, h=1e-6
        )
        assert_allclose(grad, num, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("params", [{"window_norm": None, "skip": 0}, {}])
def test_options_off_is_the_previous_network(params):
    X, y = _sum_data()
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 2, **params}).fit(X, y)
    if params:
        assert reg.window_norm_ is None and reg._network.skip == 0


@pytest.mark.parametrize("window_norm", ["last", "mean"])
@pytest.mark.parametrize(
    "x_scale, y_scale", [(1e306, 1e306), (1e-300, 1e-300), (1.0, 1e300)]
)
def test_window_norm_reads_windows_near_the_float_limits(window_norm, x_scale, y_scale):
    """Window statistics and the targets relative to the windows are
    computed in units of their magnitude: no overflow, no underflow, no
    warning, predictions in the units of y."""
    rng = np.random.RandomState(0)
    series = np.cumsum(rng.normal(size=(60, 10)), axis=1)
    X, y = series * x_scale, (series[:, -1] + rng.normal(size=60)) * y_scale
    reg = LSTMSequenceRegressor(hidden_size=4, max_iter=3, window_norm=window_norm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        pred = reg.set_params(random_state=0).fit(X, y).predict(X)
    assert np.isfinite(pred).all()
    assert 0.1 < np.abs(pred).max() / np.abs(y).max() < 10


def test_window_norm_refuses_targets_far_outside_their_windows():
    """Targets whose distance to their windows, over the windows' spread,
    overflows float64 get a ValueError that says so."""
    rng = np.random.RandomState(0)
    X = np.sign(rng.normal(size=(60, 10))) * 5e-324
    y = rng.normal(size=60)
    reg = LSTMSequenceRegressor(hidden_size=4, max_iter=3, window_norm="last")
    with pytest.raises(ValueError, match="relative to their windows"):
        reg.fit(X, y)
    assert not hasattr(reg, "n_iter_")


@pytest.mark.parametrize("scale", [1e100, 1e150, 1e200])
def test_unstandardized_skip_path_near_the_float_limits(scale):
    """With standardize=False the skip path reads the inputs linearly: up to
    the square root of the largest float they train without a warning
    (the gradients clipped in units of their magnitude); beyond it, a
    ValueError, not an overflow."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6, 2)) * scale
    y = X[:, -1, 0] / scale
    reg = LSTMSequenceRegressor(hidden_size=4, max_iter=3, standardize=False)
    reg.set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        if scale > 1e154:
            with pytest.raises(ValueError, match="skip path reads them linearly"):
                reg.fit(X, y)
            assert not hasattr(reg, "n_iter_")
        else:
            assert np.isfinite(reg.fit(X, y).predict(X)).all()


def test_ridge_gcv_weights_are_repeats_and_fits_ridge():
    """Closed-form ridge with each target's penalty chosen by generalized
    cross-validation: integer weights give what repeated samples give, the
    coefficients are Ridge's at the chosen penalty, and the noisier target
    is penalized more."""
    from sklearn.linear_model import Ridge

    from sklearn_lstm._regressor import ridge_gcv

    rng = np.random.RandomState(0)
    A = rng.normal(size=(80, 6))
    Y = A @ rng.normal(size=(6, 2)) + rng.normal(size=(80, 2)) * [0.1, 3.0]
    w = rng.randint(1, 4, size=80)
    coef, intercept, alpha, toward = ridge_gcv(A, Y, w)
    assert not toward.any()
    repeated = ridge_gcv(
        np.repeat(A, w, axis=0), np.repeat(Y, w, axis=0), np.ones(w.sum())
    )
    for got, expected in zip((coef, intercept, alpha, toward), repeated):
        assert_allclose(got, expected, rtol=1e-8, atol=1e-12)
    for j in range(2):
        # Ridge's penalty is against the sum of weighted squares, ours the mean
        ref = Ridge(alpha=alpha[j] * w.sum()).fit(A, Y[:, j], sample_weight=w)
        assert_allclose(coef[:, j], ref.coef_, rtol=1e-6, atol=1e-9)
        assert_allclose(intercept[j], ref.intercept_, rtol=1e-6, atol=1e-9)
    assert alpha[1] > alpha[0]


def test_untrained_model_is_the_linear_model():
    """With ``linear``, the output layer starts at zero: before training the
    predictions are the linear model's, and early stopping keeps them when
    no epoch beats them on the held-out windows."""
    series = np.sin(np.arange(300) / 5) + np.arange(300) / 50
    X, y = make_windows(series, 12, 3)
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 1}).fit(X, y)
    assert reg.linear_coef_.shape == (12, 3) and reg.linear_alpha_.shape == (3,)
    untrained = LSTMSequenceRegressor(**{**FAST, "max_iter": 1})
    untrained.fit(X, y)
    untrained.output_weights_[:] = 0
    untrained.output_bias_[:] = 0
    lags = X[:, ::-1]
    mean, std = lags.mean(), lags.std()
    A = (lags - mean) / std
    Z = (y - y.mean(axis=0)) / y.std(axis=0)
    from sklearn_lstm._regressor import ridge_gcv

    prior = np.zeros((12, 3))
    prior[0] = std / y.std(axis=0)  # the naive forecast, in these units
    coef, intercept, _, toward = ridge_gcv(A, Z, np.ones(len(X)), prior)
    names = np.array(["mean", "last", "differences"])
    assert_array_equal(untrained.linear_toward_, names[toward])
    expected = y.mean(axis=0) + y.std(axis=0) * (A @ coef + intercept)
    assert_allclose(untrained.predict(X), expected, rtol=1e-6, atol=1e-8)


def test_ridge_gcv_prior_is_ridge_toward_it():
    """With a prior, a target whose coefficients are near it is shrunk toward
    it: Ridge of ``Y - A @ prior``, plus the prior; a target far from it is
    shrunk toward zero as without one."""
    from sklearn.linear_model import Ridge

    from sklearn_lstm._regressor import ridge_gcv

    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 8))
    near = np.full(8, 2.0)
    Y = np.column_stack([A @ (near + 0.05 * rng.normal(size=8)), A[:, 0]])
    Y += 0.5 * rng.normal(size=Y.shape)
    prior = np.column_stack([near, near])
    coef, intercept, alpha, toward = ridge_gcv(A, Y, np.ones(60), prior)
    assert_array_equal(toward, [1, 0])
    ref = Ridge(alpha=alpha[0] * 60).fit(A, Y[:, 0] - A @ near)
    assert_allclose(coef[:, 0], ref.coef_ + near, rtol=1e-6, atol=1e-9)
    assert_allclose(intercept[0], ref.intercept_, rtol=1e-6, atol=1e-9)
    alone = ridge_gcv(A, Y[:, 1:], np.ones(60))
    assert_allclose(coef[:, 1:], alone[0], rtol=1e-10)
    assert_allclose(alpha[1:], alone[2], rtol=1e-10)


def test_linear_model_of_a_random_walk_is_a_model_of_its_differences():
    """On windows of a random walk (a unit root) the linear model is
    translation-equivariant, shrunk toward the naive forecast: after a
    shift of the level beyond the training range it forecasts about as well
    as the naive forecast, where a model shrunk toward the mean (or toward
    the naive forecast without the constraint) is pulled back."""
    walk = np.cumsum(np.random.RandomState(0).normal(size=400))
    walk[300:] += 40 - walk[300] + walk.max()  # above anything in training
    X, y = make_windows(walk, 24, 1)
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 1}).fit(X[:276], y[:276])
    assert_array_equal(reg.linear_toward_, ["differences"])
    reg.output_weights_[:] = 0
    reg.output_bias_[:] = 0
    test = slice(300, None)
    linear = np.sqrt(np.mean((reg.predict(X[test]) - y[test]) ** 2))
    naive = np.sqrt(np.mean((X[test, -1] - y[test]) ** 2))
    assert linear < 1.1 * naive
    # equivariant: the forecast of a shifted window is shifted
    assert_allclose(reg.predict(X[test] + 100.0), reg.predict(X[test]) + 100.0)
    # the rule's other choice, on the same windows, is far worse here
    import sklearn_lstm._regressor as module

    old = module._has_unit_root
    module._has_unit_root = lambda x: False
    try:
        other = LSTMSequenceRegressor(**{**FAST, "max_iter": 1}).fit(X[:276], y[:276])
    finally:
        module._has_unit_root = old
    assert other.linear_toward_[0] in ("mean", "last")
    other.output_weights_[:] = 0
    other.output_bias_[:] = 0
    pulled = np.sqrt(np.mean((other.predict(X[test]) - y[test]) ** 2))
    assert pulled > 1.2 * linear


def test_linear_model_of_a_stationary_series_is_not_equivariant():
    """On windows of a stationary AR(2) series the linear model reverts to
    the mean (it is not the model of the differences), and 12 steps ahead it
    beats both the naive forecast and the model of the differences."""
    from sklearn_lstm._regressor import ridge_gcv

    rng = np.random.RandomState(0)
    series = np.zeros(600)
    for t in range(2, 600):
        series[t] = 1.3 * series[t - 1] - 0.6 * series[t - 2] + rng.normal()
    series += 10.0
    X, y = make_windows(series, 24, 12)
    y = y.reshape(len(y), -1)
    train, test = slice(0, 400), slice(450, None)
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 1}).fit(X[train], y[train])
    assert "differences" not in reg.linear_toward_
    reg.output_weights_[:] = 0
    reg.output_bias_[:] = 0

    def rmse(pred):
        return np.sqrt(np.mean((pred - y[test, -1]) ** 2))

    model = rmse(reg.predict(X[test])[:, -1])
    assert model < 0.9 * rmse(X[test, -1])
    # the model of the differences, fitted on the same windows
    lags = X[train, ::-1]
    mean, std = lags.mean(), lags.std()
    target = y[train, -1]
    prior = np.array([[std / target.std()]] + [[0.0]] * 23)
    coef, intercept, _, toward = ridge_gcv(
        (lags - mean) / std,
        ((target - target.mean()) / target.std())[:, None],
        np.ones(len(lags)),
        prior,
        np.arange(24),
    )
    assert_array_equal(toward, [2])
    Z = ((X[test, ::-1] - mean) / std) @ coef + intercept
    assert model < 0.95 * rmse(target.mean() + target.std() * Z[:, 0])


def test_ridge_gcv_differences_is_constrained_ridge():
    """With ``differences``, the coefficients of those columns sum to the
    prior's, the others are free: Ridge of ``Y - A @ prior`` on the
    differences of the older lags to the most recent one, mapped back."""
    from sklearn.linear_model import Ridge

    from sklearn_lstm._regressor import ridge_gcv

    rng = np.random.RandomState(0)
    A = rng.normal(size=(80, 8))  # 4 steps of 2 features, most recent first
    Y = A @ rng.normal(size=(8, 2)) + 0.3 * rng.normal(size=(80, 2))
    prior = np.zeros((8, 2))
    prior[0] = [0.5, 2.0]
    lags = np.arange(0, 8, 2)
    coef, intercept, alpha, toward = ridge_gcv(A, Y, np.ones(80), prior, lags)
    assert_array_equal(toward, [2, 2])
    assert_allclose(coef[lags].sum(axis=0), prior[0], rtol=1e-10)
    others = [c for c in range(8) if c not in lags]
    B = np.column_stack([A[:, lags[1:]] - A[:, :1], A[:, others]])
    for j in range(2):
        ref = Ridge(alpha=alpha[j] * 80).fit(B, Y[:, j] - A @ prior[:, j])
        assert_allclose(coef[lags[1:], j], ref.coef_[:3], rtol=1e-6, atol=1e-9)
        assert_allclose(coef[others, j], ref.coef_[3:], rtol=1e-6, atol=1e-9)
        assert_allclose(intercept[j], ref.intercept_, rtol=1e-6, atol=1e-9)


def test_unit_root_test_is_the_augmented_dickey_fuller_test():
    """The statistic is statsmodels' (one lagged difference, with a constant
    and with a trend); a random walk has a unit root, a stationary AR(1)
    and a trend-stationary series do not, nor does a constant one."""
    from sklearn_lstm._regressor import _has_unit_root, adf_statistic

    rng = np.random.RandomState(0)
    walk = np.cumsum(rng.normal(size=300))
    ar = np.zeros(300)
    for t in range(1, 300):
        ar[t] = 0.5 * ar[t - 1] + rng.normal()
    trend = 0.1 * np.arange(300) + ar
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    for x in (walk, ar, trend):
        for trend_term, name in ((False, "c"), (True, "ct")):
            with warnings.catch_warnings():  # its result type is changing
                warnings.simplefilter("ignore", FutureWarning)
                ref = stattools.adfuller(x, maxlag=1, regression=name, autolag=None)
            ref = ref[0]
            assert_allclose(adf_statistic(x, trend=trend_term), ref, rtol=1e-8)
    assert _has_unit_root(walk)
    assert not _has_unit_root(ar) and not _has_unit_root(trend)
    assert not _has_unit_root(np.ones(50)) and not _has_unit_root(np.zeros(3))
    assert _has_unit_root(1e300 * walk) == _has_unit_root(walk)


def test_residual_weight_is_least_squares_on_the_held_out_windows():
    """The network's residual of each target is weighted in [0, 1] on the
    held-out windows: there the model is no worse than its linear model,
    and the weight is the least-squares one (1 is no better, 0 no better)."""
    # a noisy logistic map: a nonlinear series, where the network helps
    rng = np.random.RandomState(0)
    series = np.full(300, 0.3)
    for t in range(1, 300):
        step = 3.7 * series[t - 1] * (1 - series[t - 1]) + 0.05 * rng.normal()
        series[t] = np.clip(step, 0.01, 0.99)
    X, y = make_windows(series, 6, 2)
    reg = LSTMSequenceRegressor(**FAST, window_norm=None).fit(X, y)
    w = reg.residual_weight_
    assert w.shape == (2,) and np.all((w > 0) & (w < 1))
    _, val = reg._validation_split(len(X), None)
    full = reg.predict(X[val])
    net = reg.output_weights_.copy(), reg.output_bias_.copy()
    reg.output_weights_[:] = 0
    reg.output_bias_[:] = 0
    linear = reg.predict(X[val])

    def sse(scale):
        return np.sum((linear + scale * (full - linear) - y[val]) ** 2, axis=0)

    best = sse(1.0)
    assert np.all(best <= sse(0.0) * (1 + 1e-6))
    for j in range(2):  # the minimum over [0, 1] / w of the scale on w
        for scale in (0.0, 0.9, 1.1, 1 / max(w[j], 1e-3)):
            if 0 <= scale * w[j] <= 1:
                assert best[j] <= sse(scale)[j] * (1 + 1e-6)
    reg.output_weights_[:], reg.output_bias_[:] = net
    unweighted = LSTMSequenceRegressor(**FAST, window_norm=None, early_stopping=False)
    assert unweighted.fit(X, y).residual_weight_ is None


def test_linear_auto_and_early_stopping_auto_follow_windows_of_a_series():
    """'auto' fits the linear model and holds out for windows of a series
    (each the one before shifted by a step); for other sequences it fits
    the linear model when it reads at most AUTO_LINEAR_INPUTS numbers of
    each, shrunk toward the mean, and does not hold out; partial_fit stays
    available."""
    from sklearn_lstm._regressor import AUTO_LINEAR_INPUTS

    X, y = _trending_windows()
    reg = LSTMSequenceRegressor(**FAST, window_norm=None).fit(X, y)
    assert reg.linear_coef_ is not None and reg.validation_scores_ is not None
    assert reg.early_stopping == "auto"
    order = np.random.RandomState(0).permutation(len(X))
    reg = LSTMSequenceRegressor(**FAST, window_norm=None).fit(X[order], y[order])
    assert reg.linear_coef_ is not None and reg.validation_scores_ is None
    assert_array_equal(reg.linear_toward_, ["mean"])
    reg.partial_fit(X, y)
    wide = np.repeat(X[order][:, :, None], AUTO_LINEAR_INPUTS // X.shape[1] + 1, 2)
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 1}, window_norm=None)
    assert reg.fit(wide[:40], y[order][:40]).linear_coef_ is None
    assert reg.set_params(skip=1).fit(wide[:40], y[order][:40]).linear_coef_ is not None
    # after a fit that held out, partial_fit trains on everything
    reg = LSTMSequenceRegressor(**FAST, window_norm=None).fit(X, y)
    n_scores = len(reg.validation_scores_)
    reg.partial_fit(X, y)
    assert len(reg.validation_scores_) == n_scores
    assert reg.best_loss_ == reg.loss_ and np.isfinite(reg.predict(X)).all()
    assert not hasattr(LSTMSequenceRegressor(early_stopping=True), "partial_fit")


def test_shifted_share_tells_windows_of_one_series_from_others():
    """The share of sequences that are the one before shifted by a step: 1
    for the windows of one series (whose linear model may be the model of
    the differences), at least 0.5 for the windows of two series side by
    side (windows of a series, but not of one), low for shuffled windows,
    0 for ragged or too few sequences."""
    from sklearn_lstm._regressor import _shifted_share

    rng = np.random.RandomState(0)
    X, _ = make_windows(rng.normal(size=60), 12, 1)
    assert _shifted_share(X[:, :, None], None) == 1.0
    X2, _ = make_windows(rng.normal(size=60), 12, 1)
    both = np.concatenate([X, X2])[:, :, None]
    assert 0.5 <= _shifted_share(both, None) < 1.0
    assert _shifted_share(X[rng.permutation(len(X))][:, :, None], None) < 0.5
    assert _shifted_share(X[:2, :, None], None) == 0.0
    assert _shifted_share(X[:, :, None], np.ones(X.shape, dtype=bool)) == 0.0


def test_linear_model_gives_each_sequence_its_own_result():
    """With a linear model, a ragged sequence gets, bit for bit, what it gets
    alone, and partial_fit on sequences of another number of features says
    so before the linear model reads them."""
    rng = np.random.RandomState(0)
    seqs = [rng.normal(size=(rng.randint(2, 9), 3)) for _ in range(40)]
    y = np.array([s[:, 0].sum() for s in seqs])
    reg = LSTMSequenceRegressor(**{**FAST, "max_iter": 3}, linear=True).fit(seqs, y)
    alone = np.array([reg.predict([s])[0] for s in seqs])
    assert_array_equal(reg.predict(seqs), alone)
    with pytest.raises(ValueError, match="2 features per time step"):
        reg.partial_fit([s[:, :2] for s in seqs], y)


# Every value of the regressor's forecasting options passes scikit-learn's
# checks, not only the 'auto' of the common instances (which the checks'
# random data resolve to window_norm=None and no early stopping): the three
# instances together take each explicit value of window_norm, skip, linear
# and early_stopping.
@parametrize_with_checks(
    [
        CASES["LSTMSequenceRegressor"].make_estimator().set_params(**params)
        for params in [
            {"window_norm": "last", "linear": True, "early_stopping": True},
            {
                "window_norm": "mean",
                "skip": 3,
                "linear": False,
                "early_stopping": False,
            },
            {"window_norm": None, "skip": 0},
        ]
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_with_each_forecasting_option(estimator, check):
    check(estimator)
