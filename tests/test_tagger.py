"""Tests of LSTMSequenceTagger: a label at every time step.

The shared behaviour (input forms, bad inputs, determinism, persistence) is
tested for every estimator through its record in ``estimator_cases.py``; these
tests cover the tagger's own: label forms, output shapes, masks, the weighting
of ``score``, and a task that needs memory, where a per-step logistic
regression stays at chance.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from sklearn_lstm import LSTMSequenceTagger

# Short fits (a few epochs, enough for what a test checks) stop at max_iter on
# purpose, with a ConvergenceWarning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _parity_data(n_samples, n_timesteps, seed):
    """Bits, labelled at each step by the parity of the bits so far."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 2, size=(n_samples, n_timesteps))
    return X, np.cumsum(X, axis=1) % 2


def _ragged(X, y):
    """Lists of sequences and of their labels, of lengths 1 to T."""
    lengths = 1 + np.arange(len(X)) % X.shape[1]
    return [x[:n] for x, n in zip(X, lengths)], [t[:n] for t, n in zip(y, lengths)]


@pytest.fixture(scope="module")
def parity():
    X, y = _parity_data(300, 20, seed=0)
    tagger = LSTMSequenceTagger(hidden_size=16, max_iter=60, random_state=0)
    return tagger.fit(X, y), X, y


def test_parity_needs_memory(parity):
    """Label at step t = parity of the inputs up to t: the LSTM gets every
    step right on new, longer sequences; logistic regression on the current
    input is at chance."""
    tagger, X, y = parity
    X_test, y_test = _parity_data(200, 40, seed=1)
    lstm = tagger.score(X_test[:, :, None], y_test)  # 3-D: any length
    logistic = LogisticRegression().fit(X.reshape(-1, 1), y.ravel())
    baseline = logistic.score(X_test.reshape(-1, 1), y_test.ravel())
    assert lstm >= 0.99
    assert baseline < 0.6


def test_output_shapes_follow_the_input(parity):
    tagger, X, y = parity
    assert tagger.predict(X[:5]).shape == (5, 20)
    assert tagger.predict_proba(X[:5]).shape == (5, 20, 2)
    assert tagger.predict(X[:5, :, None]).shape == (5, 20)
    seqs, labels = _ragged(X[:5], y[:5])
    pred = tagger.predict(seqs)
    assert isinstance(pred, list)
    assert [len(p) for p in pred] == [len(s) for s in seqs]
    proba = tagger.predict_proba(seqs)
    assert [p.shape for p in proba] == [(len(s), 2) for s in seqs]
    assert_allclose(
        np.exp(tagger.predict_log_proba(X[:5])), tagger.predict_proba(X[:5])
    )


def test_nan_padding_gives_lists_like_a_list(parity):
    tagger, X, y = parity
    seqs, _ = _ragged(X[:6], y[:6])
    padded = np.full((6, 20), np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    for got, expected in zip(tagger.predict(padded), tagger.predict(seqs)):
        assert_array_equal(got, expected)
    # Unidirectional, a step's label depends only on the steps before it.
    forward = LSTMSequenceTagger(hidden_size=4, bidirectional=False, max_iter=2)
    forward.fit(X[:20], y[:20])
    for p, full in zip(forward.predict_proba(seqs), forward.predict_proba(X[:6])):
        assert_allclose(p, full[: len(p)], rtol=1e-12)


@pytest.mark.parametrize("form", ["list", "2d", "padded_2d"])
def test_label_forms_train_the_same_network(form):
    X, y = _parity_data(40, 6, seed=2)
    seqs, labels = _ragged(X, y)
    reference = LSTMSequenceTagger(hidden_size=4, max_iter=3, random_state=0)
    reference.fit(seqs, labels)
    if form == "list":
        Xf, yf = seqs, labels
    elif form == "2d":  # list X, a 2-D y whose extra columns are padding
        Xf, yf = seqs, y
    else:  # NaN padding in X, anything in y at padded steps
        Xf = np.where(np.arange(6) < (1 + np.arange(40) % 6)[:, None], X, np.nan)
        yf = np.where(np.isnan(Xf), -1, y)
    tagger = LSTMSequenceTagger(hidden_size=4, max_iter=3, random_state=0)
    tagger.fit(Xf, yf)
    assert_array_equal(tagger.classes_, [0, 1])
    for p, q in zip(tagger._params, reference._params):
        assert_array_equal(p, q)


def test_one_label_per_sequence_is_replicated():
    X, y = _parity_data(30, 5, seed=3)
    a = LSTMSequenceTagger(hidden_size=4, batch_size=10, max_iter=2, random_state=0)
    a.fit(X, y[:, -1])
    b = LSTMSequenceTagger(hidden_size=4, batch_size=10, max_iter=2, random_state=0)
    b.fit(X, np.repeat(y[:, -1:], 5, axis=1))
    for p, q in zip(a._params, b._params):
        assert_array_equal(p, q)


def test_string_labels(parity):
    _, X, y = parity
    names = np.array(["even", "odd"])[y]
    tagger = LSTMSequenceTagger(hidden_size=4, max_iter=2, random_state=0)
    tagger.fit(X[:50], names[:50])
    assert_array_equal(tagger.classes_, ["even", "odd"])
    assert tagger.predict(X[:2]).dtype == names.dtype


def test_score_counts_every_real_step_once(parity):
    tagger, X, y = parity
    seqs, labels = _ragged(X[:12], y[:12])
    pred = tagger.predict(seqs)
    flipped = [1 - t if i % 3 == 0 else t for i, t in enumerate(labels)]
    right = np.concatenate([p == t for p, t in zip(pred, flipped)])
    assert tagger.score(seqs, flipped) == pytest.approx(right.mean())
    weights = np.arange(1, 13, dtype=float)
    step_weights = np.repeat(weights, [len(s) for s in seqs])
    assert tagger.score(seqs, flipped, sample_weight=weights) == pytest.approx(
        np.average(right, weights=step_weights)
    )


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_float_labels_not_finite_raise_without_other_warnings(bad):
    X, y = _parity_data(10, 4, seed=0)
    y = y.astype(float)
    y[2, 1] = bad
    with pytest.raises(ValueError, match="y contains (NaN|infinity)"):
        LSTMSequenceTagger(hidden_size=2, max_iter=1).fit(X, y)


def test_partial_fit_classes(parity):
    _, X, y = parity
    tagger = LSTMSequenceTagger(hidden_size=4, batch_size=10, random_state=0)
    tagger.partial_fit(X[:10], np.zeros_like(y[:10]), classes=[0, 1, 2])
    assert_array_equal(tagger.classes_, [0, 1, 2])
    tagger.partial_fit(X[10:20], 2 * y[10:20])
    other = LSTMSequenceTagger(hidden_size=4, random_state=0).partial_fit(X, y)
    assert_array_equal(other.classes_, [0, 1])  # the first batch's labels
    with pytest.raises(ValueError, match="not seen in classes_"):
        other.partial_fit(X, 2 * y)


def test_bidirectional_reads_the_future():
    """Label at step t = the input at step t + 1: only the backward direction
    can know it."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2, size=(200, 8))
    y = np.concatenate([X[:, 1:], np.zeros((200, 1), dtype=int)], axis=1)
    params = {"hidden_size": 8, "max_iter": 40, "random_state": 0}
    forward = LSTMSequenceTagger(**params, bidirectional=False).fit(X, y)
    both = LSTMSequenceTagger(**params).fit(X, y)  # bidirectional by default
    assert both.score(X, y) > 0.99
    assert forward.score(X, y) < 0.8


def test_y_of_another_length_raises(parity):
    tagger, X, y = parity
    with pytest.raises(ValueError, match="1 labels, but sequence 0 of X has 2"):
        tagger.score([X[0, :2], X[1, :3]], [y[0, :1], y[1, :3]])
    with pytest.raises(ValueError, match="longest sequence of X has 3"):
        tagger.score([X[0, :2], X[1, :3]], y[:2, :2])


@pytest.mark.parametrize("skip", [0, 1, 3])
def test_skip_is_the_head_reading_the_recent_inputs(skip):
    """With ``skip`` the softmax layer has rows for the inputs of the
    ``skip`` steps up to each step; a 0 skip reads the states only. Warm
    starts keep it: another skip is another architecture."""
    X, y = _parity_data(20, 5, seed=4)
    tagger = LSTMSequenceTagger(hidden_size=4, skip=skip, max_iter=2, random_state=0)
    tagger.fit(X[:, :, None], y)
    assert tagger.output_weights_.shape == (2 * 4 + skip, 2)
    tagger.set_params(warm_start=True, skip=skip + 1)
    with pytest.raises(ValueError, match="Cannot continue training"):
        tagger.fit(X[:, :, None], y)


def test_skip_alone_is_a_per_step_linear_model():
    """With the recurrent rows of the head at zero, the tagger's logits are a
    linear function of the current step's encoded inputs."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 6, 3))
    tagger = LSTMSequenceTagger(hidden_size=4, max_iter=2, random_state=0)
    tagger.fit(X, (X[:, :, 0] > 0).astype(int))
    tagger.output_weights_[: 2 * 4] = 0
    W, b = tagger.output_weights_[2 * 4 :], tagger.output_bias_
    encoded = tagger._encoder.transform(X, None)
    expected = np.exp(encoded @ W + b)
    assert_allclose(tagger.predict_proba(X), expected / expected.sum(-1, keepdims=True))
