"""Property-based tests of input handling, over random shapes, lengths and masks.

* :func:`check_sequences` turns every accepted form of a batch of sequences
  (ragged lists, trailing-NaN padding) into one 3-D float array and a mask that
  agrees with the lengths, and rejects every other NaN pattern;
* a fitted classifier gives the same predictions for a ragged list, for the
  same data NaN-padded as a 3-D array, and for each sequence alone;
* a well-trained adder adds any int64 operands exactly.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_lstm import LSTMSequenceClassifier, RNNBinaryAdder
from sklearn_lstm._validation import check_sequences
from sklearn_lstm.datasets import make_addition

SETTINGS = settings(max_examples=30, deadline=None)
N_FEATURES = 2  # of the fitted classifier

values = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@st.composite
def ragged_lists(draw, n_features=None, max_len=8):
    """A list of 1 to 6 sequences of lengths 1 to ``max_len``, as arrays of
    shape ``(n_i, n_features)``, or ``(n_i,)`` for some univariate draws."""
    if n_features is None:
        n_features = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    lengths = draw(st.lists(st.integers(1, max_len), min_size=1, max_size=6))
    univariate = n_features == 1 and draw(st.booleans())
    seqs = [
        draw(arrays(dtype, (n,) if univariate else (n, n_features), elements=values))
        for n in lengths
    ]
    return seqs, lengths, n_features, dtype


def _pad(seqs, n_timesteps, n_features):
    """The sequences NaN-padded into one array of shape (n, n_timesteps, D)."""
    out = np.full((len(seqs), n_timesteps, n_features), np.nan)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s.reshape(len(s), n_features)
    return out


@SETTINGS
@given(ragged_lists())
def test_check_sequences_of_a_ragged_list(drawn):
    seqs, lengths, n_features, dtype = drawn
    X, mask = check_sequences(LSTMSequenceClassifier(), seqs, reset=True)
    n_timesteps = max(lengths)
    assert X.shape == (len(seqs), n_timesteps, n_features)
    assert X.dtype in (np.float32, np.float64)
    assert X.dtype == dtype or dtype == np.float32  # float64 is never downcast
    assert np.isfinite(X).all()
    if len(set(lengths)) == 1:
        assert mask is None
        mask = np.ones(X.shape[:2], dtype=bool)
    assert mask.dtype == bool and mask.shape == X.shape[:2]
    for i, (s, n) in enumerate(zip(seqs, lengths)):
        assert_array_equal(mask[i], np.arange(n_timesteps) < n)
        assert_array_equal(X[i, :n], s.reshape(n, n_features))
        assert (X[i, n:] == 0).all()  # padded steps are zeroed


@st.composite
def nan_patterns(draw):
    """A 3-D array with whole trailing NaN steps per sequence (lengths 0 to T),
    sometimes with a few more NaN cells anywhere."""
    n, T, D = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (n, T, D), elements=values))
    lengths = draw(st.lists(st.integers(0, T), min_size=n, max_size=n))
    if draw(st.booleans()):  # mostly valid draws
        lengths = [max(1, n_i) for n_i in lengths]
    for i, n_i in enumerate(lengths):
        X[i, n_i:] = np.nan
    for _ in range(draw(st.integers(0, 2))):
        index = tuple(draw(st.integers(0, s - 1)) for s in X.shape)
        X[index] = np.nan
    return X


def _expected_mask(X):
    """The mask of real steps, or None when the NaN pattern is not padding."""
    nan = np.isnan(X)
    padded = nan.all(axis=2)
    if (nan.any(axis=2) & ~padded).any():
        return None  # NaN in some but not all features of a step
    for row in padded:
        n = int((~row).sum())
        if n == 0 or row[:n].any():  # empty, or NaN before the end
            return None
    return ~padded


@SETTINGS
@given(nan_patterns())
def test_check_sequences_reads_only_trailing_nan_steps_as_padding(X):
    expected = _expected_mask(X)
    if expected is None:
        with pytest.raises(ValueError, match="NaN"):
            check_sequences(LSTMSequenceClassifier(), X, reset=True)
        return
    X_out, mask = check_sequences(LSTMSequenceClassifier(), X, reset=True)
    # Steps that are padding in every sequence are dropped.
    n_timesteps = expected.sum(axis=1).max()
    assert not expected[:, n_timesteps:].any()
    expected = expected[:, :n_timesteps]
    if expected.all():
        assert mask is None
    else:
        assert_array_equal(mask, expected)
    assert X_out.shape == (X.shape[0], n_timesteps, X.shape[2])
    assert_array_equal(X_out[expected], X[:, :n_timesteps][expected])
    assert (X_out[~expected] == 0).all()


@pytest.fixture(scope="module")
def classifier():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, N_FEATURES))
    y = (X[:, 0, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LSTMSequenceClassifier(
            hidden_size=4, learning_rate=0.05, max_iter=10, random_state=0
        ).fit(X, y)


def _outputs(clf, X):
    return {
        "predict": clf.predict(X),
        "predict_proba": clf.predict_proba(X),
        "transform": clf.transform(X),
    }


@SETTINGS
@given(ragged_lists(n_features=N_FEATURES, max_len=10), st.integers(1, 3))
def test_ragged_padded_and_alone_predict_the_same(classifier, drawn, extra_padding):
    seqs, lengths, _, _ = drawn
    from_list = _outputs(classifier, seqs)
    # The same array once validated: bit-identical outputs.
    padded = _pad(seqs, max(lengths), N_FEATURES)
    for method, out in _outputs(classifier, padded).items():
        assert_array_equal(from_list[method], out, err_msg=method)
    # Longer padding, or one sequence at a time, changes the shapes of the
    # matrix products, hence the rounding: equal to a few ulps.
    longer = _pad(seqs, max(lengths) + extra_padding, N_FEATURES)
    alone = [_outputs(classifier, s[np.newaxis]) for s in seqs]
    for method in ["predict_proba", "transform"]:
        assert_allclose(
            _outputs(classifier, longer)[method],
            from_list[method],
            rtol=1e-12,
            atol=1e-15,
            err_msg=method,
        )
        assert_allclose(
            np.vstack([a[method] for a in alone]),
            from_list[method],
            rtol=1e-12,
            atol=1e-15,
            err_msg=method,
        )
    # Labels agree wherever the probabilities are not tied to a few ulps.
    proba = from_list["predict_proba"]
    clear = np.abs(proba[:, 1] - proba[:, 0]) > 1e-9
    labels_alone = np.concatenate([a["predict"] for a in alone])
    assert_array_equal(labels_alone[clear], from_list["predict"][clear])


@pytest.fixture(scope="module")
def adder():
    """The documented adder: trained on 8-bit sums, it adds exactly."""
    X, y = make_addition(1000, random_state=0)
    adder = RNNBinaryAdder(random_state=0).fit(X, y)
    assert adder.score(X, y) == 1.0
    return adder


operands = st.integers(-(2**40), 2**40 - 1)


@SETTINGS
@given(st.lists(st.tuples(operands, operands), min_size=1, max_size=20))
def test_adder_adds_int64_operands_exactly(adder, pairs):
    X = np.array(pairs, dtype=np.int64)
    pred = adder.predict(X)
    assert pred.dtype == np.int64
    assert_array_equal(pred, X.sum(axis=1))
