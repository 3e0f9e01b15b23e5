"""Tests of RNNBinaryAdder: it learns to add and generalizes to any bit width.

Trained on the 8-bit sums of ``make_addition``, the adder must be *exactly*
right on every pair of 7-bit operands and on 32-bit, 62-bit and 64-bit
operands it never saw; the same network learns signed addition, fixed-point
fractions, subtraction and sums of three numbers.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_lstm import RNNBinaryAdder
from sklearn_lstm._activations import sigmoid
from sklearn_lstm.datasets import make_addition

# Short fits (a few epochs, enough for what a test checks) stop at max_iter on
# purpose, with a ConvergenceWarning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _all_pairs(low, high):
    """Every pair ``(a, b)`` with ``low <= a, b < high``."""
    a = np.arange(low, high)
    return np.array(np.meshgrid(a, a)).reshape(2, -1).T


def _python_sums(X):
    """Exact sums as Python integers, whatever their size."""
    return [sum(int(v) for v in row) for row in X]


def _decode_bits(bits):
    """Two's complement, least significant bit first, as Python integers."""
    n = bits.shape[1]
    return [
        sum(int(b) << t for t, b in enumerate(row)) - (int(row[-1]) << n)
        for row in bits
    ]


@pytest.fixture(scope="module")
def adder():
    """The tutorial's adder: trained on 1000 sums of 7-bit numbers."""
    return RNNBinaryAdder(random_state=0).fit(*make_addition(1000, random_state=0))


@pytest.fixture(scope="module")
def signed_adder():
    rng = np.random.RandomState(0)
    X = rng.randint(-64, 64, size=(1000, 2))
    return RNNBinaryAdder(random_state=0).fit(X, X.sum(axis=1))


@pytest.fixture(scope="module")
def fraction_adder():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2**7, size=(1000, 2)) / 4.0  # multiples of 0.25 in [0, 32)
    return RNNBinaryAdder(random_state=0).fit(X, X.sum(axis=1))


# ---------------------------------------------------------------------------
# It adds, at any width
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=range(10), ids=lambda s: f"seed{s}")
def seeded_adder(request):
    seed = request.param
    X, y = make_addition(1000, n_bits=8, random_state=seed)
    return seed, RNNBinaryAdder(random_state=seed).fit(X, y)


@pytest.mark.slow
def test_every_seed_adds_7_bit_numbers(seeded_adder):
    _, est = seeded_adder
    X = _all_pairs(0, 2**7)
    assert len(X) == 128 * 128
    pred = est.predict(X)
    assert pred.dtype == np.int64
    assert_array_equal(pred, X.sum(axis=1))
    assert est.score(X, X.sum(axis=1)) == 1.0


@pytest.mark.slow
def test_every_seed_adds_32_bit_numbers(seeded_adder):
    seed, est = seeded_adder
    rng = np.random.RandomState(100 + seed)
    X = rng.randint(0, 2**31, size=(1000, 2))
    assert est.score(X, X.sum(axis=1)) == 1.0
    assert_array_equal(est.predict(X), X.sum(axis=1))


def test_tutorial_adder(adder):
    assert adder.n_iter_ < adder.max_iter  # converged
    X = _all_pairs(0, 2**7)
    assert_array_equal(adder.predict(X), X.sum(axis=1))
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2**31, size=(1000, 2))
    assert_array_equal(adder.predict(X), X.sum(axis=1))
    # The docstring's example.
    assert adder.predict([[2**31 - 1, 2**31 + 12345]])[0] == 4294979640


def test_fitted_attributes(adder):
    # Operands below 2**7 take 8 bits with the sign bit, sums below 2**8 take 9.
    assert adder.n_bits_ == 9
    assert adder.extra_bits_ == 1
    assert adder.fraction_bits_ == 0
    assert adder.n_features_in_ == 2
    H = adder.hidden_size
    assert [W.shape for W in adder.input_weights_] == [(2, H)]
    assert [W.shape for W in adder.recurrent_weights_] == [(H, H)]
    assert [b.shape for b in adder.biases_] == [(H,)]
    assert adder.output_weights_.shape == (H, 1)
    assert adder.output_bias_.shape == (1,)
    assert len(adder.loss_curve_) == adder.n_iter_
    assert adder.t_ == adder.n_iter_ * 1000
    assert adder.best_loss_ == min(adder.loss_curve_)
    assert adder.loss_curve_[-1] < 0.25 * adder.loss_curve_[0]


def test_stops_once_every_training_bit_is_sure(adder):
    X, y = make_addition(1000, random_state=0)
    assert adder.n_iter_ <= 12  # the loss-based rule alone trains ~60 epochs
    assert adder.score(X, y) == 1.0
    assert (np.abs(adder.predict_bit_proba(X) - 0.5) >= 0.3).all()
    # One epoch fewer, some bit is not yet that sure: it stopped at the first chance.
    earlier = RNNBinaryAdder(random_state=0, max_iter=adder.n_iter_ - 1).fit(X, y)
    assert (np.abs(earlier.predict_bit_proba(X) - 0.5) < 0.3).any()
    # partial_fit does not check: it always runs its epoch.
    before = adder.n_iter_
    clone_ = RNNBinaryAdder(random_state=0).fit(X, y)
    clone_.partial_fit(X, y)
    assert clone_.n_iter_ == before + 1


@pytest.mark.parametrize(
    "X, expected",
    [
        ([[2**62, 2**62]], [2**63]),  # just beyond int64
        ([[2**63 - 1, 2**63 - 1]], [2**64 - 2]),  # the widest operands
        ([[2**63 - 1, 1], [1, 2]], [2**63, 3]),  # one beyond: all Python ints
        ([[-(2**63) + 1, -(2**62)]], [-(2**63) - 2**62 + 1]),
    ],
)
def test_results_beyond_int64_are_python_ints(adder, X, expected):
    pred = adder.predict(X)
    assert pred.dtype == object
    assert all(type(v) is int for v in pred)
    assert pred.tolist() == expected


@pytest.mark.parametrize(
    "X",
    [
        [[2**62, 1]],
        [[2**62 - 1, 2**62 - 1]],  # 2**63 - 2: the top of int64
        [[2**62, -(2**62)]],
        [[-(2**62), -(2**62)]],  # -2**63: the bottom of int64
        [[2**62 + 5, 7], [1, 2]],
    ],
)
def test_results_within_int64_are_int64(adder, X):
    pred = adder.predict(X)
    assert pred.dtype == np.int64
    assert pred.tolist() == _python_sums(X)


def test_random_operands_near_2_to_62(adder):
    rng = np.random.RandomState(0)
    X = rng.randint(2**62 - 2**40, 2**62, size=(200, 2)) + rng.randint(
        0, 2, size=(200, 2)
    ) * (2**62 - 2**41)  # some near 2**62, some near 2**63
    pred = adder.predict(X)
    assert pred.tolist() == _python_sums(X)
    assert adder.predict_bit_proba(X).shape == (200, 65)


def test_the_most_negative_int64_is_an_operand(adder):
    assert adder.predict([[-(2**63), 0]]).tolist() == [-(2**63)]
    assert adder.predict([[-(2**63), -1]]).tolist() == [-(2**63) - 1]


# ---------------------------------------------------------------------------
# Bits, hidden states, score
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "high, n_bits",
    [(2**7, 9), (2**20, 22), (2**31, 33), (2**62, 64)],
)
def test_predict_bit_proba_grows_with_the_operands(adder, high, n_bits):
    rng = np.random.RandomState(0)
    X = rng.randint(high // 2, high, size=(50, 2))  # as wide as `high`
    proba = adder.predict_bit_proba(X)
    # The operands' width, sign bit included, plus extra_bits_ for the carry.
    assert proba.shape == (50, n_bits)
    assert proba.dtype == np.float64
    assert ((proba >= 0) & (proba <= 1)).all()
    # Thresholded and decoded, the bits are the prediction.
    assert _decode_bits(proba > 0.5) == adder.predict(X).tolist()
    # Confident: every bit far from 0.5.
    assert (np.abs(proba - 0.5) > 0.3).all()


def test_small_operands_use_the_training_width(adder):
    assert adder.predict_bit_proba([[0, 1]]).shape == (1, adder.n_bits_)


def test_hidden_states(adder):
    X = make_addition(20, random_state=1)[0]
    h = adder.hidden_states(X)
    assert h.shape == (20, adder.n_bits_, adder.hidden_size)
    assert ((h > 0) & (h < 1)).all()  # sigmoid units
    # The output layer reads every step's state.
    logits = h @ adder.output_weights_ + adder.output_bias_
    # (``@`` and the package's row-by-row product may round differently.)
    assert_allclose(sigmoid(logits[:, :, 0]), adder.predict_bit_proba(X), rtol=1e-12)
    wide = adder.hidden_states([[2**40, 3]])
    assert wide.shape == (1, 42 + 1, adder.hidden_size)


def test_score_is_the_exact_match_fraction(adder):
    X = _all_pairs(0, 8)
    y = X.sum(axis=1)
    assert adder.score(X, y) == 1.0
    assert adder.score(X, y + 1) == 0.0  # R² would be close to 1
    wrong = y.copy()
    wrong[::2] += 1
    assert adder.score(X, wrong) == 0.5
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 3.0)
    assert adder.score(X, wrong, sample_weight=weights) == 0.75
    # y as a column, as a list, or as Python integers beyond int64.
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        assert adder.score(X, y[:, np.newaxis]) == 1.0
    assert adder.score(X.tolist(), y.tolist()) == 1.0


def test_score_beyond_int64(adder):
    X = [[2**63 - 1, 1], [2**62, 2**62], [1, 2]]
    y = np.array([2**63, 2**63, 3], dtype=object)
    assert adder.predict(X).tolist() == y.tolist()
    assert adder.score(X, y) == 1.0
    assert adder.score(X, adder.predict(X)) == 1.0
    # NumPy reads 2**63 in a list as uint64.
    assert adder.score([[2**62, 2**62]], [2**63]) == 1.0
    assert adder.score([[2**62, 2**62]], np.array([2**63], dtype=np.uint64)) == 1.0
    assert adder.score([[2**62, 2**62]], [2**63 + 1]) == 0.0


# ---------------------------------------------------------------------------
# Signed numbers, fractions, other functions
# ---------------------------------------------------------------------------


def test_signed_addition(signed_adder):
    # [-64, 64) takes 7 bits with the sign; the sums [-128, 126] take 8.
    assert signed_adder.n_bits_ == 8
    assert signed_adder.extra_bits_ == 1
    X = _all_pairs(-64, 64)
    assert_array_equal(signed_adder.predict(X), X.sum(axis=1))
    rng = np.random.RandomState(0)
    X = rng.randint(-(2**40), 2**40, size=(1000, 2))
    assert_array_equal(signed_adder.predict(X), X.sum(axis=1))
    X = np.array([[-(2**62), -(2**62) + 3], [2**62, 2**62]])
    assert signed_adder.predict(X).tolist() == _python_sums(X)


def test_fractions(fraction_adder):
    assert fraction_adder.fraction_bits_ == 2
    # Operands below 32 * 4 = 2**7 fixed point: 8 bits; sums: 9.
    assert fraction_adder.n_bits_ == 9
    assert fraction_adder.extra_bits_ == 1
    rng = np.random.RandomState(1)
    for scale, low, high in [(4, 0, 2**7), (4, 0, 2**30), (4, -(2**30), 2**30)]:
        X = rng.randint(low, high, size=(500, 2)) / scale
        pred = fraction_adder.predict(X)
        assert pred.dtype == np.float64
        assert_array_equal(pred, X.sum(axis=1))  # exact: binary fractions
    # 'auto' reads the three fraction bits that eighths need at predict.
    X = rng.randint(0, 2**20, size=(500, 2)) / 8
    # Fixed point below 2**20: 20 bits, a sign bit and a carry bit.
    assert fraction_adder.predict_bit_proba(X).shape[1] == 20 + 1 + 1
    assert_array_equal(fraction_adder.predict(X), X.sum(axis=1))
    # Integers still come back as floats: the model reads fractions.
    assert fraction_adder.predict([[1, 2]]).dtype == np.float64


def test_auto_fraction_bits_beyond_32_warns(fraction_adder):
    with pytest.warns(UserWarning, match="more than 32 binary fraction bits"):
        pred = fraction_adder.predict([[0.1, 0.2]])
    # Each operand is rounded to a multiple of 2**-32, then added exactly.
    assert pred[0] == (np.rint(0.1 * 2**32) + np.rint(0.2 * 2**32)) / 2**32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fraction_adder.predict([[0.5, 0.125]])  # exact: no warning


def test_auto_fraction_bits_beyond_32_warns_at_fit():
    X = np.array([[0.1, 1.0], [0.5, 2.0], [1 / 3, 0.0]])
    est = RNNBinaryAdder(max_iter=1, batch_size=3, random_state=0)
    with pytest.warns(
        UserWarning, match=r"rounded to the nearest multiple of 2\*\*-32"
    ):
        est.fit(X, X.sum(axis=1))
    assert est.fraction_bits_ == 32


def test_explicit_fraction_bits_round_with_a_warning():
    X = np.array([[0.1, 0.3], [1.0, 2.0], [0.5, 0.25]])
    est = RNNBinaryAdder(fraction_bits=2, max_iter=1, batch_size=3, random_state=0)
    with pytest.warns(UserWarning, match="more than 2 binary fraction bits"):
        est.fit(X, X.sum(axis=1))
    assert est.fraction_bits_ == 2
    # Fixed point with 2 fraction bits: 0.1 -> 0, 0.3 -> 0.25, 0.4 -> 0.5.
    with pytest.warns(UserWarning, match="more than 2 binary fraction bits"):
        bits = est._validate_fit_data(
            X, X.sum(axis=1), None, reset=False, incremental=True, classes=None
        )[2]
    assert _decode_bits(bits[:, :, 0] > 0.5) == [2, 12, 3]  # in quarters


def test_explicit_fraction_bits_for_integers():
    X = np.random.RandomState(0).randint(0, 2**5, size=(1000, 2))
    est = RNNBinaryAdder(fraction_bits=2, random_state=0).fit(X, X.sum(axis=1))
    assert est.fraction_bits_ == 2
    assert est.n_bits_ == 2 + 7  # integer part 5 bits + carry + sign
    pred = est.predict(np.array([[3, 4], [17, 31]]))
    assert pred.dtype == np.float64
    assert_array_equal(pred, [7.0, 48.0])


@pytest.fixture(scope="module")
def quarter_adder():
    """Trained with fraction_bits=2 fixed, on multiples of 0.25."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2**7, size=(1000, 2)) / 4.0
    return RNNBinaryAdder(fraction_bits=2, random_state=0).fit(X, X.sum(axis=1))


def test_explicit_fraction_bits_round_at_predict(quarter_adder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pred = quarter_adder.predict([[0.3, 0.26], [1.1, 0.0], [0.75, 0.5]])
    assert_array_equal(pred, [0.5, 1.0, 1.25])  # 0.25 + 0.25, 1.0 + 0, exact


def test_explicit_fraction_bits_warn_when_rounding_at_predict(quarter_adder):
    with pytest.warns(UserWarning, match="more than 2 binary fraction bits"):
        quarter_adder.predict([[0.3, 0.26]])


def test_invalid_fraction_bits():
    with pytest.raises(InvalidParameterError, match="fraction_bits"):
        RNNBinaryAdder(fraction_bits=33).fit([[1, 2]], [3])
    with pytest.raises(InvalidParameterError, match="fraction_bits"):
        RNNBinaryAdder(fraction_bits=-1).fit([[1, 2]], [3])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_subtraction(seed):
    rng = np.random.RandomState(seed)
    X = rng.randint(-64, 64, size=(1000, 2))
    est = RNNBinaryAdder(random_state=seed).fit(X, X[:, 0] - X[:, 1])
    P = _all_pairs(-64, 64)
    assert_array_equal(est.predict(P), P[:, 0] - P[:, 1])
    W = rng.randint(-(2**30), 2**30, size=(1000, 2))
    assert_array_equal(est.predict(W), W[:, 0] - W[:, 1])


@pytest.mark.slow
def test_three_operands():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 64, size=(1000, 3))
    est = RNNBinaryAdder(random_state=0).fit(X, X.sum(axis=1))
    assert est.extra_bits_ == 2  # carries of up to 2
    assert est.n_features_in_ == 3
    W = rng.randint(0, 2**30, size=(1000, 3))
    assert_array_equal(est.predict(W), W.sum(axis=1))


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((2, 3, 2)), ValueError, "dim 3"),
        ([[1, 2, 3]], ValueError, "expecting 2 features"),
        (np.array([[2**64 - 1, 1]], dtype=np.uint64), ValueError, "too large"),
        (np.array([[2**64, 1]], dtype=object), ValueError, "too large for int64"),
        ([[np.nan, 1.0]], ValueError, "NaN"),
        ([[np.inf, 1.0]], ValueError, "infinity"),
        (np.array([["a", "b"]]), TypeError, "must hold numbers"),
    ],
    ids=["3d", "n_operands", "uint64", "bigint", "nan", "inf", "str"],
)
def test_invalid_operands_raise(adder, X, error, match):
    with pytest.raises(error, match=match):
        adder.predict(X)


def test_other_integer_kinds_are_read(adder):
    X = np.array([[100, 27], [3, 4]])
    expected = [127, 7]
    for Xk in [X.astype(np.uint8), X.astype(np.int32), X.astype(object)]:
        assert adder.predict(Xk).tolist() == expected
    assert adder.predict([[True, True]]).tolist() == [2]


def test_not_fitted_raises():
    from sklearn.exceptions import NotFittedError

    for method in ["predict", "predict_bit_proba", "hidden_states"]:
        with pytest.raises(NotFittedError):
            getattr(RNNBinaryAdder(), method)([[1, 2]])


# ---------------------------------------------------------------------------
# Training options and integration
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_data():
    return make_addition(200, n_bits=6, random_state=0)


def test_same_random_state_is_bit_identical(small_data):
    X, y = small_data
    a = RNNBinaryAdder(max_iter=3, random_state=0).fit(X, y)
    b = RNNBinaryAdder(max_iter=3, random_state=0).fit(X, y)
    for p, q in zip(a._params, b._params):
        assert_array_equal(p, q)
    assert a.loss_curve_ == b.loss_curve_


def test_float32_operands_give_float32_weights():
    X = np.array([[1.5, 2.25], [3.0, 0.5], [0.75, 1.0]], dtype=np.float32)
    est = RNNBinaryAdder(max_iter=2, batch_size=3, random_state=0)
    est.fit(X, X.sum(axis=1))
    assert all(p.dtype == np.float32 for p in est._params)
    assert est.predict_bit_proba(X).dtype == np.float32
    assert est.predict(X).dtype == np.float64  # results are exact numbers


def test_warm_start_continues(small_data):
    X, y = small_data
    est = RNNBinaryAdder(max_iter=5, random_state=0).fit(X, y)
    curve = list(est.loss_curve_)
    weights = [p.copy() for p in est._params]
    est.set_params(warm_start=True, max_iter=1, learning_rate=1e-9).fit(X, y)
    assert est.n_iter_ == 6
    assert est.loss_curve_[:5] == curve
    for p, q in zip(est._params, weights):
        np.testing.assert_allclose(p, q, atol=1e-6)  # not reinitialized
    est.set_params(max_iter=20, learning_rate=0.1).fit(X, y)
    assert est.n_iter_ == 26
    assert est.loss_curve_[-1] < curve[-1]


def test_partial_fit_keeps_training(small_data):
    X, y = small_data
    est = RNNBinaryAdder(random_state=0)
    for i in range(15):
        est.partial_fit(X, y)  # no classes: it is not a classifier
        assert est.n_iter_ == i + 1
    assert est.t_ == 15 * len(X)
    curve = est.loss_curve_
    assert len(curve) == 15
    assert curve[-1] < 0.8 * curve[0]
    assert np.mean(curve[-5:]) < np.mean(curve[5:10]) < np.mean(curve[:5])


def test_partial_fit_with_wider_numbers_widens_the_model(small_data):
    X, y = small_data
    est = RNNBinaryAdder(batch_size=2, random_state=0).partial_fit(X, y)
    assert est.n_bits_ == 7
    wide = np.array([[2**20, 3], [5, 2**19]])
    est.partial_fit(wide, wide.sum(axis=1))
    assert est.n_bits_ == 22  # 2**20 + 3 takes 21 bits and a sign bit
    assert est.extra_bits_ == 1
    assert est.n_iter_ == 2
    quarters = np.array([[0.25, 0.5], [1.0, 2.75]])
    est.partial_fit(quarters, quarters.sum(axis=1))
    assert est.fraction_bits_ == 2


def test_partial_fit_unavailable_with_early_stopping():
    assert not hasattr(RNNBinaryAdder(early_stopping=True), "partial_fit")
    assert hasattr(RNNBinaryAdder(), "partial_fit")


def test_early_stopping(small_data):
    X, y = small_data
    est = RNNBinaryAdder(
        early_stopping=True, validation_fraction=0.2, max_iter=4, random_state=0
    ).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert all(0 <= s <= 1 for s in est.validation_scores_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.t_ == est.n_iter_ * 160


def test_early_stopping_with_too_small_validation_set_raises():
    X, y = make_addition(10, random_state=0)
    est = RNNBinaryAdder(early_stopping=True, validation_fraction=0.1, batch_size=5)
    with pytest.raises(ValueError, match="validation set is too small"):
        est.fit(X, y)


def test_sample_weight_zeros_raise(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        RNNBinaryAdder().fit(X, y, sample_weight=np.zeros(len(y)))


def test_pipeline_adds_selected_columns(adder):
    rng = np.random.RandomState(0)
    X3 = rng.randint(0, 2**7, size=(1000, 3))
    pick = ColumnTransformer([("operands", "passthrough", [0, 2])])
    pipe = make_pipeline(pick, clone(adder)).fit(X3, X3[:, 0] + X3[:, 2])
    W = rng.randint(0, 2**30, size=(200, 3))
    assert_array_equal(pipe.predict(W), W[:, 0] + W[:, 2])
    assert pipe.score(W, W[:, 0] + W[:, 2]) == 1.0


def test_grid_search(small_data):
    # Serial: test_reliability.py checks that a parallel search (n_jobs=2)
    # gives the same results, for every estimator.
    X, y = small_data
    grid = {"hidden_size": [8, 16], "learning_rate": [0.05, 0.1]}
    search = GridSearchCV(
        RNNBinaryAdder(batch_size=16, max_iter=10, random_state=0),
        param_grid=grid,
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["hidden_size"] in grid["hidden_size"]
    assert search.best_params_["learning_rate"] in grid["learning_rate"]
    scores = search.cv_results_["mean_test_score"]
    assert ((scores >= 0) & (scores <= 1)).all()
    assert search.best_score_ == scores.max()
    assert search.best_estimator_.hidden_size == search.best_params_["hidden_size"]
