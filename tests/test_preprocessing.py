"""SequenceStandardScaler and SequenceNormalizer: statistics over real steps,
input forms, pipelines; the moments they share with the input encoder."""

import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lstm import (
    LSTMSequenceClassifier,
    SequenceNormalizer,
    SequenceStandardScaler,
)
from sklearn_lstm._encoder import merge_moments, moments

# Checks that cannot pass, with the reason: none.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [
        SequenceStandardScaler(),
        SequenceStandardScaler(with_mean=False),
        SequenceStandardScaler(with_std=False),
        SequenceNormalizer(),
        SequenceNormalizer(with_mean=False),
        SequenceNormalizer(with_std=False),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _ragged(seed=0, n_samples=7, n_features=3):
    """Sequences of lengths 1..6 whose features have different means and scales."""
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, 7, size=n_samples)
    loc, scale = np.arange(n_features) * 10.0, np.arange(1, n_features + 1)
    return [rng.normal(loc, scale, size=(n, n_features)) for n in lengths]


def _nan_padded(seqs):
    out = np.full((len(seqs), max(map(len, seqs)), seqs[0].shape[1]), np.nan)
    for i, x in enumerate(seqs):
        out[i, : len(x)] = x
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_statistics_are_those_of_all_real_steps(seed):
    seqs = _ragged(seed)
    reference = StandardScaler().fit(np.concatenate(seqs))
    for X in (seqs, tuple(seqs), _nan_padded(seqs)):
        scaler = SequenceStandardScaler().fit(X)
        assert_allclose(scaler.mean_, reference.mean_)
        assert_allclose(scaler.var_, reference.var_)
        assert_allclose(scaler.scale_, reference.scale_)
        assert scaler.n_steps_seen_ == sum(map(len, seqs))


def test_3d_array_equals_standard_scaler_on_the_steps():
    X = np.random.RandomState(0).normal(3, 2, size=(5, 4, 3))
    X_tr = SequenceStandardScaler().fit_transform(X)
    assert X_tr.shape == X.shape
    expected = StandardScaler().fit_transform(X.reshape(-1, 3)).reshape(X.shape)
    assert_allclose(X_tr, expected)


def test_2d_input_holds_univariate_sequences():
    X = np.random.RandomState(0).normal(3, 2, size=(5, 4))
    X_tr = SequenceStandardScaler().fit_transform(X)
    assert X_tr.shape == X.shape
    assert_allclose(X_tr, (X - X.mean()) / X.std())


def test_standard_scaler_refuses_3d_input_that_the_sequence_scaler_takes():
    X = np.zeros((4, 3, 2))
    with pytest.raises(ValueError, match="dim"):
        StandardScaler().fit(X)
    SequenceStandardScaler().fit(X)


def test_list_in_list_out_with_each_sequence_shape():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=3), rng.normal(size=5), rng.normal(size=(2, 1))]
    scaler = SequenceStandardScaler().fit(X)
    for out in (scaler.transform(X), scaler.inverse_transform(scaler.transform(X))):
        assert isinstance(out, list)
        assert [x.shape for x in out] == [(3,), (5,), (2, 1)]
    steps = np.concatenate([x.ravel() for x in X])
    assert_allclose(
        np.concatenate([x.ravel() for x in scaler.transform(X)]),
        (steps - steps.mean()) / steps.std(),
    )


def test_nested_list_of_numbers_of_one_shape_is_an_array():
    """As in scikit-learn, ``X.tolist()`` transforms like ``X``; lists of
    ragged lists, or of arrays, stay lists."""
    X = np.random.RandomState(0).normal(size=(5, 4))
    scaler = SequenceStandardScaler().fit(X.tolist())
    out = scaler.transform(X.tolist())
    assert isinstance(out, np.ndarray)
    assert_allclose(out, scaler.transform(X))
    assert isinstance(scaler.transform([x.tolist() for x in X[:, :3]] + [[1.0]]), list)
    assert isinstance(scaler.transform(list(X)), list)


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_inverse_transform_restores_every_input_form(with_mean, with_std):
    seqs = _ragged()
    scaler = SequenceStandardScaler(with_mean=with_mean, with_std=with_std)
    for X in (seqs, _nan_padded(seqs), np.stack([x[:1] for x in seqs])):
        X_tr = scaler.fit_transform(X)
        X_back = scaler.inverse_transform(X_tr)
        if isinstance(X, list):
            assert isinstance(X_back, list)
            for x, x_back in zip(X, X_back):
                assert_allclose(x_back, x)
        else:
            assert isinstance(X_back, np.ndarray)
            assert_array_equal(np.isnan(X_tr), np.isnan(X))  # padding kept
            assert_allclose(X_back, X)


def test_with_mean_and_with_std_switch_each_part_off():
    X = np.random.RandomState(0).normal(5, 3, size=(6, 4, 2))
    flat = X.reshape(-1, 2)
    X_tr = SequenceStandardScaler(with_mean=False).fit_transform(X)
    assert_allclose(X_tr.reshape(-1, 2), flat / flat.std(axis=0))
    X_tr = SequenceStandardScaler(with_std=False).fit_transform(X)
    assert_allclose(X_tr.reshape(-1, 2), flat - flat.mean(axis=0))
    scaler = SequenceStandardScaler(with_mean=False, with_std=False).fit(X)
    assert scaler.mean_ is None and scaler.scale_ is None and scaler.var_ is None
    assert_array_equal(scaler.transform(X), X)


def test_partial_fit_equals_fit_on_all_steps():
    seqs = _ragged(n_samples=12)
    scaler = SequenceStandardScaler()
    for start in range(0, 12, 5):
        scaler.partial_fit(seqs[start : start + 5])
    full = SequenceStandardScaler().fit(seqs)
    assert scaler.n_steps_seen_ == full.n_steps_seen_
    assert_allclose(scaler.mean_, full.mean_)
    assert_allclose(scaler.var_, full.var_)
    # fit forgets what partial_fit saw
    assert scaler.fit(seqs[:2]).n_steps_seen_ == len(seqs[0]) + len(seqs[1])


def _uneven_batches(scales):
    """Three batches of 2, 9 and 4 ragged sequences, each with other means
    and larger magnitudes than the one before, features times ``scales``."""
    batches = []
    for k, size in enumerate([2, 9, 4]):
        seqs = _ragged(seed=k, n_samples=size)
        batches.append([(x * (1 + 2 * k) + k) * scales for x in seqs])
    return batches


@pytest.mark.parametrize(
    "scales, with_std",
    [([1.0, 1e150, 1e-200], True), ([1e300, 1.0, 1e-200], False)],
    ids=["1e150", "1e300"],
)
def test_partial_fit_over_uneven_batches_equals_fit(scales, with_std):
    """Each batch raises the magnitude seen: the moments seen are rescaled
    before they are merged."""
    batches = _uneven_batches(scales)
    scaler = SequenceStandardScaler(with_std=with_std)
    for seqs in batches:
        scaler.partial_fit(seqs)
    full = SequenceStandardScaler(with_std=with_std).fit(sum(batches, []))
    assert scaler.n_steps_seen_ == full.n_steps_seen_
    assert_allclose(scaler.mean_, full.mean_, rtol=1e-12)
    if with_std:
        assert_allclose(scaler.var_, full.var_, rtol=1e-12)
        assert_allclose(scaler.scale_, full.scale_, rtol=1e-12)


def test_moments_are_the_weighted_mean_and_variance():
    rng = np.random.RandomState(0)
    X = rng.normal([0.0, 10.0, -3.0], [1.0, 5.0, 0.1], size=(40, 3))
    w = rng.uniform(0.1, 3.0, size=40)
    n, mean, m2, unit = moments(X, w[:, None])
    assert_allclose(n, w.sum(), rtol=1e-12)
    assert_allclose(unit, np.abs(X).max(axis=0), rtol=0)
    assert_allclose(mean * unit, np.average(X, axis=0, weights=w), rtol=1e-12)
    var = np.average((X - np.average(X, axis=0, weights=w)) ** 2, axis=0, weights=w)
    assert_allclose(m2 * unit**2 / n, var, rtol=1e-12)
    # along the steps of each sequence, padded steps of weight 0
    seqs = _ragged(n_samples=5)
    padded = np.nan_to_num(_nan_padded(seqs))
    mask = ~np.isnan(_nan_padded(seqs))[:, :, :1]
    n, mean, m2, unit = moments(padded, mask, axis=1)
    assert_array_equal(n[:, 0], [len(x) for x in seqs])
    assert_allclose(mean * unit, [x.mean(axis=0) for x in seqs], rtol=1e-12)
    assert_allclose(m2 * unit**2 / n, [x.var(axis=0) for x in seqs], rtol=1e-12)


def test_merged_moments_are_those_of_all_values():
    """Weighted moments of three uneven batches near the float limits, merged
    in either order, are those of all the values at once."""
    steps = [np.concatenate(seqs) for seqs in _uneven_batches([1e300, 1.0, 1e-200])]
    rng = np.random.RandomState(0)
    weights = [rng.uniform(0.1, 3.0, size=(len(x), 1)) for x in steps]
    expected = moments(np.concatenate(steps), np.concatenate(weights))
    parts = [moments(x, w) for x, w in zip(steps, weights)]
    for merged in (
        merge_moments(merge_moments(parts[0], parts[1]), parts[2]),
        merge_moments(parts[2], merge_moments(parts[1], parts[0])),
    ):
        for got, want in zip(merged, expected):
            assert np.isfinite(got).all()
            assert_allclose(got, want, rtol=1e-12)


def test_constant_feature_is_left_unscaled():
    X = np.random.RandomState(0).normal(size=(4, 3, 2))
    X[:, :, 1] = 0.1
    scaler = SequenceStandardScaler().fit(X)
    assert scaler.scale_[1] == 1.0
    assert_allclose(scaler.transform(X)[:, :, 1], 0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    seqs = [x.astype(dtype) for x in _ragged()]
    scaler = SequenceStandardScaler().fit(seqs)
    assert {x.dtype for x in scaler.transform(seqs)} == {np.dtype(dtype)}
    assert scaler.transform(_nan_padded(seqs).astype(dtype)).dtype == dtype


def test_clear_errors_on_bad_input():
    X = np.random.RandomState(0).normal(size=(4, 5, 2))
    scaler = SequenceStandardScaler().fit(X)
    X_hole = X.copy()
    X_hole[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN before the end of a sequence"):
        scaler.transform(X_hole)
    with pytest.raises(ValueError, match="NaN before the end of a sequence"):
        SequenceStandardScaler().fit(X_hole)
    X_inf = X.copy()
    X_inf[1, 1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        scaler.transform(X_inf)
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        scaler.transform(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        scaler.inverse_transform([np.zeros((4, 3))])
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        scaler.partial_fit(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="same number of features"):
        scaler.transform([np.zeros((2, 2)), np.zeros((3, 1))])


@pytest.fixture(scope="module")
def sequences():
    """Classes set by the first step of features of very different scales."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5, 2)) * [1000.0, 0.001] + [5000.0, -1.0]
    return X, np.where(X[:, 0, 0] > 5000.0, "pos", "neg")


def _pipeline(**params):
    clf = LSTMSequenceClassifier(
        hidden_size=4, learning_rate=0.05, batch_size=15, max_iter=8, random_state=0
    )
    return make_pipeline(SequenceStandardScaler(), clf).set_params(**params)


def test_pipeline_in_grid_search_and_joblib_round_trip(sequences, tmp_path):
    X, y = sequences
    grid = {
        "lstmsequenceclassifier__hidden_size": [4, 8],
        "lstmsequenceclassifier__learning_rate": [1e-3, 5e-2],
    }
    search = GridSearchCV(_pipeline(), grid, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.score(X, y) > 0.8  # scaled inputs: the raw ones saturate the gates

    path = tmp_path / "pipeline.joblib"
    joblib.dump(best, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.predict(X), best.predict(X))
    assert_array_equal(loaded.predict_proba(X), best.predict_proba(X))
    assert_array_equal(loaded[0].transform(X), best[0].transform(X))


def test_pipeline_reads_ragged_lists(sequences):
    X, y = sequences
    seqs = [x[: 2 + i % 4] for i, x in enumerate(X)]
    pipe = _pipeline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(seqs, y)
    scaled = pipe[0].transform(seqs)
    assert_array_equal(pipe.predict(seqs), pipe[1].predict(scaled))
    assert_allclose(pipe[0].mean_, np.concatenate(seqs).mean(axis=0))


# ---------------------------------------------------------------------------
# SequenceNormalizer
# ---------------------------------------------------------------------------


def _each_on_its_own(seqs, with_mean=True, with_std=True):
    """Each sequence through its own StandardScaler."""
    scaler = StandardScaler(with_mean=with_mean, with_std=with_std)
    return [scaler.fit_transform(x) for x in seqs]


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_normalizer_standardizes_each_sequence_on_its_own(with_mean, with_std):
    seqs = _ragged(n_samples=9)
    seqs[0][:, 1] = 7.0  # constant over this sequence: left unscaled
    expected = _each_on_its_own(seqs, with_mean, with_std)
    normalizer = SequenceNormalizer(with_mean=with_mean, with_std=with_std)
    out = normalizer.fit_transform(seqs)
    assert isinstance(out, list)
    for x, x_tr, x_exp in zip(seqs, out, expected):
        assert x_tr.shape == x.shape
        assert_allclose(x_tr, x_exp, atol=1e-12)
    padded = normalizer.transform(_nan_padded(seqs))
    assert_allclose(padded, _nan_padded(expected), atol=1e-12)  # NaN kept
    assert normalizer.n_step_features_ == 3


def test_normalizer_forgets_level_and_scale():
    """What the normalizer is for: a sequence and the same one shifted and
    scaled by a million (or near the float limits) come out the same."""
    x = np.random.RandomState(0).normal(size=(6, 2))
    X = np.stack([x, 1e6 * x - 3e6, 1e300 * x, 1e-300 * x])
    out = SequenceNormalizer().fit_transform(X)
    assert np.isfinite(out).all()
    for x_tr in out[1:]:
        assert_allclose(x_tr, out[0], rtol=1e-9)


def test_normalizer_keeps_2d_input_and_dtype():
    X = np.random.RandomState(0).normal(3, 2, size=(5, 4)).astype(np.float32)
    out = SequenceNormalizer().fit_transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    expected = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    assert_allclose(out, expected, rtol=1e-5)


def test_normalizer_clear_errors_on_bad_input():
    X = np.random.RandomState(0).normal(size=(4, 5, 2))
    normalizer = SequenceNormalizer().fit(X)
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        normalizer.transform(np.zeros((2, 5, 3)))
    X_hole = X.copy()
    X_hole[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN before the end of a sequence"):
        normalizer.transform(X_hole)


def test_normalizer_in_front_of_the_classifier_reads_shapes_at_any_scale():
    """Rising against falling sequences, each scaled by 10**-4 to 10**4: the
    classifier's own standardization leaves the small ones almost flat; the
    normalizer gives it every sequence at one scale."""
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 80)
    ramp = np.linspace(-1, 1, 6)
    X = np.where(y[:, None] == 1, ramp, -ramp) + 0.3 * rng.normal(size=(80, 6))
    X *= 10.0 ** rng.uniform(-4, 4, size=(80, 1))
    params = {"hidden_size": 4, "max_iter": 30, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(SequenceNormalizer(), LSTMSequenceClassifier(**params))
        plain = LSTMSequenceClassifier(**params)
        pipe_score = pipe.fit(X[:40], y[:40]).score(X[40:], y[40:])
        plain_score = plain.fit(X[:40], y[:40]).score(X[40:], y[40:])
    assert pipe_score >= 0.9
    assert plain_score < pipe_score
