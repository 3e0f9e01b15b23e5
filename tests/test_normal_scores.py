"""The normal scores the networks read next to their input features
(``normal_scores``): the map of each feature, which features get one, and
what the network reads."""

import statistics
import warnings

import numpy as np
import pytest
from estimator_cases import CASES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import _expected_failed_checks

from sklearn_lstm import (
    LSTMSequenceClassifier,
    LSTMSequenceRegressor,
    LSTMSequenceTagger,
)
from sklearn_lstm._encoder import SCORE_LEVELS, normal_score_knots
from sklearn_lstm._encoder import normal_scores as encode_scores

# the scores of the lowest and the highest quantile level
LOWEST, HIGHEST = (statistics.NormalDist().inv_cdf(p) for p in SCORE_LEVELS[[0, -1]])


def _scores(X, normal_scores=True, sample_weight=None, X_scored=None):
    """The scores of ``X_scored`` (default ``X``) under the map fitted on
    ``X``, with the scored features."""
    weights = np.ones(len(X)) if sample_weight is None else sample_weight
    features, knots = normal_score_knots(X, None, weights, normal_scores)
    return encode_scores(X if X_scored is None else X_scored, features, knots), features


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_scores_of_a_heavy_tail_are_standard_normal():
    # Values over six orders of magnitude, as in PLAID's series: standardized,
    # almost all are squeezed near the smallest; their scores are N(0, 1).
    X = np.random.RandomState(0).lognormal(sigma=3.0, size=(200, 50, 1))
    scores, _ = _scores(X)
    assert abs(scores.mean()) < 0.01
    assert 0.95 < scores.std() < 1.0  # the two 0.5 % tails are cut
    assert scores.min() == pytest.approx(LOWEST) and LOWEST == pytest.approx(
        -2.576, abs=1e-3
    )
    assert scores.max() == pytest.approx(HIGHEST) and HIGHEST == -LOWEST
    # Increasing with the value: the order of the values is kept.
    order = np.argsort(X.ravel())
    assert np.all(np.diff(scores.ravel()[order]) >= 0)
    # The standardized values of the lower half all lie within 0.13 standard
    # deviations; their scores spread over half the normal's range.
    lower = X.ravel() <= np.median(X)
    assert np.ptp(X.ravel()[lower]) / X.std() < 0.13
    assert np.ptp(scores.ravel()[lower]) > 2.5


def test_scores_do_not_depend_on_the_units():
    X = np.random.RandomState(1).normal(size=(40, 10, 2))
    scores, _ = _scores(X)
    affine, _ = _scores(1e3 * X - 7.0)
    assert_allclose(affine, scores, atol=1e-12)
    # A monotone map keeps the quantiles: the knots' scores are the same and
    # the values between two knots move a little within their segment.
    cubed, _ = _scores(X**3)
    assert_allclose(cubed, scores, atol=0.05)


def test_auto_scores_the_features_of_many_values():
    rng = np.random.RandomState(0)
    continuous = rng.normal(size=(60, 8))
    binary = rng.randint(0, 2, size=(60, 8))
    pixels = rng.randint(0, 17, size=(60, 8)) / 16  # 17 levels, as the digits
    counts = rng.poisson(40, size=(60, 8))  # about 40 levels
    X = np.stack([continuous, binary, pixels, counts], axis=2).astype(float)
    assert_array_equal(_scores(X, "auto")[1], [0, 3])
    assert_array_equal(_scores(X, True)[1], [0, 1, 2, 3])
    assert_array_equal(_scores(X, False)[1], [])
    y = continuous[:, 0] > 0
    for normal_scores, n_inputs in [("auto", 6), (True, 8), (False, 4)]:
        est = LSTMSequenceClassifier(
            hidden_size=3, max_iter=2, normal_scores=normal_scores, random_state=0
        )
        assert _fit(est, X, y).input_weights_[0].shape == (n_inputs, 12)


def test_a_mass_point_gets_the_mean_score_of_its_levels():
    # 40 % zeros, then continuous values: zero takes the first 40 levels.
    rng = np.random.RandomState(0)
    X = np.where(
        rng.uniform(size=(100, 10, 1)) < 0.4, 0.0, rng.exponential(size=(100, 10, 1))
    )
    features, knots = normal_score_knots(X, None, np.ones(100), True)
    values, scores = knots[0]
    assert values[0] == 0.0
    n_zero = np.searchsorted(np.sort(X.ravel()), 0.0, side="right") / X.size
    levels = SCORE_LEVELS[SCORE_LEVELS <= n_zero]
    inv_cdf = statistics.NormalDist().inv_cdf
    assert scores[0] == pytest.approx(np.mean([inv_cdf(p) for p in levels]))
    assert np.all(np.diff(values) > 0) and np.all(np.diff(scores) > 0)


def test_integer_weights_act_as_repeated_sequences():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 5, 2)).round(1)  # ties within and across sequences
    weights = rng.randint(0, 4, size=12).astype(float)
    repeated = np.repeat(X, weights.astype(int), axis=0)
    features, knots = normal_score_knots(X, None, weights, True)
    features_rep, knots_rep = normal_score_knots(
        repeated, None, np.ones(len(repeated)), True
    )
    assert_array_equal(features, features_rep)
    for (v, s), (v_rep, s_rep) in zip(knots, knots_rep):
        assert_array_equal(v, v_rep)
        assert_array_equal(s, s_rep)
    # Weights of one magnitude, however extreme, act alike.
    for scale in [1e-300, 1e300]:
        _, knots_scaled = normal_score_knots(X, None, scale * weights, True)
        for (v, s), (v_scaled, s_scaled) in zip(knots, knots_scaled):
            assert_array_equal(v, v_scaled)
            assert_array_equal(s, s_scaled)


def test_values_beyond_the_training_range_get_the_extreme_scores():
    X = np.random.RandomState(0).normal(size=(30, 6, 1))
    beyond = np.array([[[-1e300], [-50.0], [50.0], [1e300]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores, _ = _scores(X, X_scored=beyond)
    assert_allclose(scores.ravel(), [LOWEST, LOWEST, HIGHEST, HIGHEST])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_network_reads_the_features_then_their_scores(dtype):
    rng = np.random.RandomState(0)
    X = [rng.lognormal(size=(n, 2)).astype(dtype) for n in rng.randint(2, 9, 40)]
    y = np.arange(40) % 2
    est = _fit(LSTMSequenceClassifier(hidden_size=3, max_iter=2, random_state=0), X, y)
    Xv, mask = est._validate_X(X)
    assert Xv.dtype == dtype and Xv.shape[2] == 4
    padded = np.full(mask.shape + (2,), 0.0)
    padded[mask] = np.concatenate(X)
    raw = np.concatenate(X)
    assert_allclose(
        Xv[mask][:, :2],
        (raw - est._encoder.mean) / est._encoder.std,
        rtol=1e-5,
        atol=1e-6,
    )
    scores = encode_scores(
        padded.astype(dtype), est._encoder.scored_features, est._encoder.score_knots
    )
    assert_array_equal(Xv[mask][:, 2:], scores[mask])
    assert np.all(Xv[~mask] == 0)  # padded steps stay zero


@pytest.mark.parametrize(
    "Estimator", [LSTMSequenceClassifier, LSTMSequenceRegressor, LSTMSequenceTagger]
)
def test_every_sequence_estimator_scores_a_heavy_tail(Estimator):
    # the classifier's default, an option of the regressor and the tagger
    rng = np.random.RandomState(0)
    X = rng.lognormal(sigma=3.0, size=(30, 5, 1))
    y = {
        LSTMSequenceClassifier: np.arange(30) % 2,
        LSTMSequenceRegressor: rng.normal(size=30),
        LSTMSequenceTagger: rng.randint(0, 2, size=(30, 5)),
    }[Estimator]
    est = Estimator(hidden_size=3, max_iter=1, normal_scores="auto", random_state=0)
    est = _fit(est, X, y)
    assert_array_equal(est._encoder.scored_features, [0])
    assert est.input_weights_[0].shape[0] == 2
    with pytest.raises(ValueError, match="2 features per time step.*fitted with 1"):
        est.predict(np.concatenate([X, X], axis=2))


# The seeded instances of test_common with every feature scored, constant ones
# included, not only the classifier's default 'auto'.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        CASES[name].make_estimator().set_params(normal_scores=True)
        for name in ["LSTMSequenceClassifier", "LSTMSequenceRegressor"]
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_with_every_feature_scored(estimator, check):
    check(estimator)
