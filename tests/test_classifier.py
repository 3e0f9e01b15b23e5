"""Tests of LSTMSequenceClassifier: a complete scikit-learn classifier.

Most tests use the easy task of ``tests/conftest.py``: the class is the sign of
the first feature at the *first* time step, so a one-direction LSTM read at its
last step (``PLAIN`` below) has to carry it to the end of the sequence; the
default bidirectional network, read by the mean and the maximum of its
states, sees it more directly. Tests of
what holds for every configuration use the defaults. The convergence tests
at the end (marked slow) read the digits data set row by row and remember one
number over 30 steps of noise.
"""

import copy
import re
import warnings

import numpy as np
import pytest
from estimator_cases import CASES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import _expected_failed_checks

from sklearn_lstm import LSTMSequenceClassifier
from sklearn_lstm._activations import softmax
from sklearn_lstm._network import Network
from sklearn_lstm._optimizers import AdamOptimizer, RMSpropOptimizer, SGDOptimizer

# Short fits on purpose stop at max_iter; the test of the warning itself uses
# pytest.warns, which records it regardless of this filter.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# A small, fast model that learns the easy task in a few dozen epochs.
FAST = {"hidden_size": 8, "learning_rate": 0.05, "batch_size": 20, "random_state": 0}
# The shared fitted models wait 10 epochs for an improvement, the patience
# that 'auto' gives a thousand sequences, not these few hundred.
PATIENCE = {"n_iter_no_change": 10}
N_TIMESTEPS, N_FEATURES = 6, 2
# The default network is bidirectional and read by the mean and the maximum of
# its states: what the softmax layer reads (and transform returns) has both
# directions' states twice, 4 * hidden_size features.
N_OUT = 4 * FAST["hidden_size"]
# The former defaults' network and training, for the tests of what holds only
# there (the shapes of a one-direction network, the state after the last step,
# exact losses and steps): one direction, the softmax on the last state, raw
# inputs without normal scores, no noise or dropout in training, a constant
# learning rate.
PLAIN = {
    "bidirectional": False,
    "readout": "last",
    "standardize": False,
    "normal_scores": False,
    "input_noise": 0.0,
    "dropout": 0.0,
    "learning_rate_schedule": "constant",
}


def _first_step_data(n_samples, seed, n_classes=2, labels=None, n_timesteps=6):
    """Sequences whose class is set by ``X[:, 0, 0]``: its sign for two classes,
    its tercile for three. ``labels[k]`` names class ``k``."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, N_FEATURES))
    edges = {2: [0.0], 3: [-0.4307, 0.4307]}[n_classes]  # N(0, 1) quantiles
    k = np.digitize(X[:, 0, 0], edges)
    labels = np.arange(n_classes) if labels is None else np.asarray(labels)
    return X, labels[k]


def _ragged_data(n_samples, seed, univariate=False):
    """A list of sequences of lengths 1 to 9 and its NaN-padded array form."""
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, 10, size=n_samples)
    lengths[:2] = [9, 1]
    shape = (lambda n: (n,)) if univariate else (lambda n: (n, N_FEATURES))
    seqs = [rng.normal(size=shape(n)) for n in lengths]
    y = np.array(["neg", "pos"])[[int(s.flat[0] > 0) for s in seqs]]
    padded = np.full((n_samples, 9) + shape(1)[1:], np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    return seqs, padded, y


def _assert_same_weights(a, b):
    assert len(a._params) == len(b._params)
    for p, q in zip(a._params, b._params):
        assert p.dtype == q.dtype
        assert_array_equal(p, q)


def _initial_params(est, n_features, n_outputs, dtype=np.float64):
    """The weights ``fit`` starts from: ``_initialize`` with a fresh random state."""
    init = clone(est)
    init._random_state = check_random_state(est.random_state)
    # a fitted network also reads the normal scores of its scored features
    encoder = getattr(est, "_encoder", None)
    n_inputs = n_features + (0 if encoder is None else len(encoder.scored_features))
    init._initialize(init._make_network(n_inputs, n_outputs, N_TIMESTEPS), dtype)
    return init


@pytest.fixture(scope="module")
def binary_data():
    X, y = _first_step_data(400, seed=0, labels=["neg", "pos"])
    return X[:200], X[200:], y[:200], y[200:]


@pytest.fixture(scope="module")
def clf(binary_data):
    X, _, y, _ = binary_data
    return LSTMSequenceClassifier(max_iter=60, **FAST, **PATIENCE).fit(X, y)


@pytest.fixture(scope="module")
def plain_clf(binary_data):
    X, _, y, _ = binary_data
    return LSTMSequenceClassifier(max_iter=30, **FAST, **PLAIN, **PATIENCE).fit(X, y)


@pytest.fixture(scope="module")
def multiclass_data():
    # Class names out of sorted order, so that classes_ reorders them.
    X, y = _first_step_data(600, seed=1, n_classes=3, labels=["cat", "ant", "bee"])
    return X[:300], X[300:], y[:300], y[300:]


@pytest.fixture(scope="module")
def multi_clf(multiclass_data):
    X, _, y, _ = multiclass_data
    return LSTMSequenceClassifier(max_iter=40, **FAST, **PATIENCE).fit(X, y)


# ---------------------------------------------------------------------------
# Input forms
# ---------------------------------------------------------------------------


def test_learns_the_easy_task(clf, binary_data):
    X, X_test, y, y_test = binary_data
    assert clf.score(X, y) >= 0.95
    assert clf.score(X_test, y_test) >= 0.95
    assert clf.n_features_in_ == N_TIMESTEPS  # the number of time steps, 3-D form


def test_2d_input_is_univariate_3d():
    X, y = _first_step_data(60, seed=0)
    X2 = X[:, :, 0]
    est = LSTMSequenceClassifier(max_iter=5, **FAST)
    est2 = clone(est).fit(X2, y)
    est3 = clone(est).fit(X2[:, :, np.newaxis], y)
    _assert_same_weights(est2, est3)
    # the feature and its normal score
    assert est2.input_weights_[0].shape == (2, 4 * FAST["hidden_size"])
    assert est2.n_features_in_ == est3.n_features_in_ == N_TIMESTEPS
    assert_array_equal(est2.predict_proba(X2), est3.predict_proba(X2[:, :, None]))
    # Either form predicts with either model.
    assert_array_equal(est2.predict_proba(X2[:, :, None]), est3.predict_proba(X2))


@pytest.mark.parametrize("univariate", [False, True], ids=["2d-arrays", "1d-arrays"])
def test_list_of_sequences_equals_nan_padding(univariate):
    seqs, padded, y = _ragged_data(50, seed=0, univariate=univariate)
    est = LSTMSequenceClassifier(max_iter=5, **FAST)
    from_list = clone(est).fit(seqs, y)
    from_padded = clone(est).fit(padded, y)
    assert from_list.n_features_in_ == from_padded.n_features_in_ == 9  # longest
    _assert_same_weights(from_list, from_padded)
    assert_array_equal(from_list.predict_proba(seqs), from_list.predict_proba(padded))
    assert_array_equal(from_list.transform(seqs), from_list.transform(padded))
    if univariate:  # a list of 1-D arrays is a list of (n_timesteps, 1) arrays
        from_2d = clone(est).fit([s[:, np.newaxis] for s in seqs], y)
        _assert_same_weights(from_list, from_2d)


def test_padding_does_not_change_a_sequence(clf):
    """A short sequence gives the same output alone as padded in a batch."""
    rng = np.random.RandomState(0)
    seqs = [rng.normal(size=(n, N_FEATURES)) for n in [9, 3, 5, 3, 1, 9, 2]]
    proba = clf.predict_proba(seqs)
    hidden = clf.transform(seqs)
    # The two sequences of length 3 as an unpadded batch of their own.
    short = np.stack([seqs[1], seqs[3]])
    assert_array_equal(clf.predict_proba(short), proba[[1, 3]])
    assert_array_equal(clf.transform(short), hidden[[1, 3]])
    # One at a time: equal up to rounding (a batch of one takes another BLAS
    # path), and the same predicted class.
    for i, s in enumerate(seqs):
        alone = clf.predict_proba(s[np.newaxis])
        assert_allclose(alone, proba[[i]], rtol=1e-12, atol=1e-15)
        assert_allclose(clf.transform(s[np.newaxis]), hidden[[i]], atol=1e-15)
        assert clf.predict([s])[0] == clf.predict(seqs)[i]
    # In a NaN-padded array the trailing NaN steps are not read; steps that
    # are not NaN are real and are read.
    padded = np.full((2, 9, N_FEATURES), np.nan)
    padded[0], padded[1, :3] = seqs[0], seqs[1]
    assert_array_equal(clf.predict_proba(padded), proba[[0, 1]])
    padded[1, 3:] = 0.0  # real steps now: the output changes
    assert not np.array_equal(clf.predict_proba(padded)[1], proba[1])


def test_n_features_in_per_input_form():
    X, y = _first_step_data(40, seed=0, n_timesteps=7)
    seqs, _, y_ragged = _ragged_data(40, seed=0)
    est = LSTMSequenceClassifier(max_iter=1, **FAST)
    assert clone(est).fit(X, y).n_features_in_ == 7  # 3-D: X.shape[1]
    assert clone(est).fit(X[:, :, 0], y).n_features_in_ == 7  # 2-D: columns
    assert clone(est).fit(seqs, y_ragged).n_features_in_ == 9  # list: longest
    assert clone(est).fit(list(X), y).n_features_in_ == 7  # list of equal length


def test_2d_input_of_another_width_raises():
    X, y = _first_step_data(40, seed=0)
    est = LSTMSequenceClassifier(max_iter=2, **FAST).fit(X[:, :, 0], y)
    with pytest.raises(ValueError, match="expecting 6 features"):
        est.predict(X[:, :5, 0])
    with pytest.raises(ValueError, match="expecting 6 features"):
        est.predict_proba(np.hstack([X[:, :, 0], X[:, :2, 0]]))
    # 3-D input of the same sequences, any length, is fine.
    assert est.predict(X[:, :3, :1]).shape == (40,)
    assert est.predict(np.concatenate([X, X], axis=1)[:, :, :1]).shape == (40,)
    # So is a list of sequences, even when they happen to share one length.
    short = list(X[:, :4, 0])
    assert_array_equal(est.predict(short), est.predict(X[:, :4, :1]))
    assert_array_equal(est.predict([x.tolist() for x in short]), est.predict(short))


@pytest.mark.parametrize("n_timesteps", [1, 3, 6, 11])
def test_3d_input_of_any_length_predicts(clf, n_timesteps):
    rng = np.random.RandomState(n_timesteps)
    X = rng.normal(size=(10, n_timesteps, N_FEATURES))
    proba = clf.predict_proba(X)
    assert proba.shape == (10, 2)
    assert_allclose(proba.sum(axis=1), 1)
    assert clf.transform(X).shape == (10, N_OUT)
    assert clf.n_features_in_ == N_TIMESTEPS  # predict does not reset it


def test_wrong_number_of_features_per_step_raises(clf):
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(5, N_TIMESTEPS, 3))
    msg = re.escape("X has 3 features per time step, but LSTMSequenceClassifier")
    for method in ["predict", "predict_proba", "predict_log_proba", "transform"]:
        with pytest.raises(ValueError, match=msg + ".* 2"):
            getattr(clf, method)(X3)
    with pytest.raises(ValueError, match="3 features per time step"):
        clf.predict(list(X3))
    # 2-D input is one feature per step.
    with pytest.raises(ValueError, match="1 features per time step"):
        clf.predict(X3[:, :, 0])


def test_partial_fit_with_wrong_number_of_features_raises():
    X, y = _first_step_data(40, seed=0)
    est = LSTMSequenceClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    before = [p.copy() for p in est._params]
    with pytest.raises(ValueError, match="3 features per time step"):
        est.partial_fit(np.concatenate([X, X[:, :, :1]], axis=2), y)
    assert est.n_iter_ == 1  # left as it was
    for p, q in zip(est._params, before):
        assert_array_equal(p, q)


def test_mixed_feature_counts_in_a_list_raise():
    X, y = _first_step_data(4, seed=0)
    seqs = [X[0], X[1, :3], X[2, :4, :1], X[3]]
    with pytest.raises(ValueError, match="same number of features"):
        LSTMSequenceClassifier(**FAST).fit(seqs, y)


def test_dataframe_input_records_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _first_step_data(60, seed=0)
    df = pd.DataFrame(X[:, :, 0], columns=[f"t{i}" for i in range(N_TIMESTEPS)])
    est = LSTMSequenceClassifier(max_iter=3, **FAST).fit(df, y)
    assert_array_equal(est.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = est.predict_proba(X[:, :, 0])
    assert_array_equal(est.predict_proba(df), from_array)


def test_not_fitted_raises():
    est = LSTMSequenceClassifier()
    X = np.zeros((2, 3, 1))
    for method in ["predict", "predict_proba", "predict_log_proba", "transform"]:
        with pytest.raises(NotFittedError):
            getattr(est, method)(X)


# ---------------------------------------------------------------------------
# Labels and outputs
# ---------------------------------------------------------------------------

LABELS = {
    "int-binary": [0, 1],
    "str-binary": ["yes", "no"],
    "int-multiclass": [3, -1, 7],
    "str-multiclass": ["cat", "ant", "bee"],
    "float-binary": [1.0, 0.0],
    "bool-binary": [True, False],
}


@pytest.mark.parametrize("labels", list(LABELS.values()), ids=list(LABELS))
def test_labels(labels):
    X, y = _first_step_data(400, seed=2, n_classes=len(labels), labels=labels)
    # The middle of three classes is X[:, 0, 0] in [-0.43, 0.43]: the default
    # input_noise (0.5 std) blurs it, and the model rightly learns to give it
    # about 0.53 on average, below the 0.6 asserted at the end.
    noise = {} if len(labels) == 2 else {"input_noise": 0.0}
    est = LSTMSequenceClassifier(max_iter=15, **FAST, **noise).fit(X[:250], y[:250])
    assert_array_equal(est.classes_, np.sort(labels))
    X_test, y_test = X[250:], y[250:]
    pred = est.predict(X_test)
    assert pred.dtype == y.dtype
    assert set(pred) <= set(labels)
    assert est.score(X_test, y_test) >= 0.85

    proba = est.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(labels))
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert (proba >= 0).all()
    assert_array_equal(pred, est.classes_[proba.argmax(axis=1)])
    assert_allclose(
        est.predict_log_proba(X_test), np.log(proba), rtol=1e-10, atol=1e-15
    )
    # Column k is the probability of classes_[k]: it is high on that class.
    for k, label in enumerate(est.classes_):
        assert proba[y_test == label, k].mean() > 0.6, label


def test_predict_log_proba_is_finite_where_proba_underflows(clf):
    X = np.random.RandomState(0).normal(size=(20, N_TIMESTEPS, N_FEATURES)) * 50
    assert np.isfinite(clf.predict_log_proba(X)).all()


def test_multiclass_outputs(multi_clf, multiclass_data):
    _, X_test, _, y_test = multiclass_data
    assert_array_equal(multi_clf.classes_, ["ant", "bee", "cat"])
    assert multi_clf.score(X_test, y_test) >= 0.85
    assert multi_clf.output_weights_.shape == (N_OUT, 3)


@pytest.mark.parametrize(
    "config, width",
    [({}, N_OUT), (PLAIN, FAST["hidden_size"])],
    ids=["defaults", "plain"],  # mean and max of both directions; the last state
)
@pytest.mark.parametrize("n_layers", [1, 2])
def test_transform_is_the_state_read_by_the_output_layer(
    n_layers, config, width, binary_data
):
    X, X_test, y, _ = binary_data
    est = LSTMSequenceClassifier(n_layers=n_layers, max_iter=5, **FAST, **config)
    est.fit(X, y)
    h = est.transform(X_test)
    assert h.shape == (len(X_test), width)
    assert h.dtype == np.float64
    assert (np.abs(h) < 1).all()  # h = o * tanh(c)
    logits = h @ est.output_weights_ + est.output_bias_
    assert_allclose(softmax(logits), est.predict_proba(X_test), rtol=1e-12)
    assert_array_equal(est.fit_transform(X, y), est.transform(X))


def test_get_feature_names_out(clf):
    names = clf.get_feature_names_out()
    assert_array_equal(names, [f"lstmsequenceclassifier{i}" for i in range(N_OUT)])
    assert len(names) == clf.transform(np.zeros((1, 2, N_FEATURES))).shape[1]


def test_single_class_raises():
    X, _ = _first_step_data(20, seed=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LSTMSequenceClassifier(**FAST).fit(X, np.ones(20))


def test_continuous_targets_raise():
    X, _ = _first_step_data(20, seed=0)
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMSequenceClassifier(**FAST).fit(X, np.linspace(0, 1, 20))


# ---------------------------------------------------------------------------
# Fitted attributes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_weight_shapes(n_layers, n_classes, bidirectional):
    X, y = _first_step_data(30, seed=0, n_classes=n_classes)
    X = np.concatenate([X, X[:, :, :1]], axis=2)  # D = 3, distinct from H and K
    H = 5
    est = LSTMSequenceClassifier(
        hidden_size=H,
        n_layers=n_layers,
        bidirectional=bidirectional,
        batch_size=30,
        max_iter=1,
        random_state=0,
    ).fit(X, y)
    # One entry per layer and direction, layer by layer; the first layer reads
    # the 3 features and their normal scores, a layer above the first both
    # directions' states of the layer below.
    n_dir = 2 if bidirectional else 1
    assert_array_equal(est._encoder.scored_features, [0, 1, 2])
    assert [W.shape for W in est.input_weights_] == [(6, 4 * H)] * n_dir + [
        (n_dir * H, 4 * H)
    ] * n_dir * (n_layers - 1)
    assert [W.shape for W in est.recurrent_weights_] == [(H, 4 * H)] * (
        n_dir * n_layers
    )
    assert [b.shape for b in est.biases_] == [(4 * H,)] * n_dir * n_layers
    # the mean and the max of the top layer's states; two columns for binary
    assert est.output_weights_.shape == (2 * n_dir * H, n_classes)
    assert est.output_bias_.shape == (n_classes,)
    assert len(est._params) == 3 * n_dir * n_layers + 2


@pytest.mark.parametrize("bidirectional", [True, False])
def test_initialization(bidirectional):
    H, D = 6, 3
    est = _initial_params(
        LSTMSequenceClassifier(hidden_size=H, n_layers=2, bidirectional=bidirectional),
        D,
        4,
    )
    n_dir = 2 if bidirectional else 1
    layers = zip(est.input_weights_, est.recurrent_weights_, est.biases_, strict=True)
    assert len(est.input_weights_) == 2 * n_dir
    for k, (Wx, Wh, b) in enumerate(layers):
        layer = k // n_dir  # entries: layer 0 (both directions), then layer 1
        n_in = D if layer == 0 else n_dir * H
        assert Wx.shape == (n_in, 4 * H)
        # Gates (i, f, g, o): the forget gate's bias starts at 1, the rest at 0.
        assert_array_equal(b[H : 2 * H], 1.0)
        assert_array_equal(np.delete(b, np.s_[H : 2 * H]), 0.0)
        # Glorot-uniform input weights.
        assert np.abs(Wx).max() <= np.sqrt(6 / (n_in + H))
        # One orthogonal block per gate.
        for g in range(4):
            block = Wh[:, g * H : (g + 1) * H]
            assert_allclose(block.T @ block, np.eye(H), atol=1e-12)
    assert_array_equal(est.output_bias_, 0.0)
    assert est.n_iter_ == 0 and est.t_ == 0 and est.loss_curve_ == []


def test_forget_bias_starts_at_one_after_fit():
    X, y = _first_step_data(30, seed=0)
    H = 4
    est = LSTMSequenceClassifier(
        hidden_size=H, learning_rate=1e-9, batch_size=10, max_iter=1, random_state=0
    ).fit(X, y)
    b = est.biases_[0]
    assert_allclose(b[H : 2 * H], 1.0, atol=1e-6)
    assert_allclose(np.delete(b, np.s_[H : 2 * H]), 0.0, atol=1e-6)
    # And fit starts from _initialize's weights, drawn from random_state.
    init = _initial_params(est, N_FEATURES, 2)
    for p, q in zip(est._params, init._params):
        assert_allclose(p, q, atol=1e-6)


@pytest.mark.parametrize("fitted", ["clf", "plain_clf"])
def test_training_attributes(fitted, binary_data, request):
    clf = request.getfixturevalue(fitted)
    X = binary_data[0]
    assert clf.n_iter_ == len(clf.loss_curve_) <= clf.max_iter
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_ == clf.loss_curve_[-1]
    if fitted == "plain_clf":
        assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 4
    else:  # the loss of inputs with noise and dropout: it falls less far
        assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 1.5
    assert all(np.isfinite(clf.loss_curve_))
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None
    assert isinstance(clf._optimizer, AdamOptimizer)


def test_stops_when_the_loss_stops_improving():
    X, y = _first_step_data(60, seed=0)
    # Every epoch after the first improves by less than tol. The constant
    # schedule stops at the first plateau ('adaptive' lowers the rate instead).
    est = LSTMSequenceClassifier(
        tol=10.0,
        n_iter_no_change=3,
        max_iter=50,
        learning_rate_schedule="constant",
        **FAST,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    # The first epoch sets best_loss_; the next n_iter_no_change + 1 do not
    # improve by tol, and the count must exceed n_iter_no_change.
    assert est.n_iter_ == 3 + 2
    assert len(est.loss_curve_) == est.n_iter_


def _no_improvement_counts(losses, window, tol=0.01):
    """The patience count after each epoch of ``losses`` when the plateau
    test averages the last ``window`` epochs."""
    est = LSTMSequenceClassifier(tol=tol)
    est._start_patience(early_stopping=False)
    est._loss_window, est.loss_curve_, counts = window, [], []
    for loss in losses:
        est.loss_curve_.append(loss)
        est._update_no_improvement_count(False, None)
        counts.append(est._no_improvement_count)
    return counts, est.best_loss_


def test_plateau_test_averages_epochs_of_few_minibatches():
    """A lucky epoch does not stop training that still improves on average:
    with one or two minibatches per epoch, the plateau test compares the mean
    of the last epochs (at least 20 minibatch updates in all) with the best
    such mean; best_loss_ stays the lowest loss of one epoch, as in MLP."""
    # a downward trend of 0.02 per epoch with a noise of +-0.15, and one
    # lucky epoch (0.3) early on
    trend = 1.0 - 0.02 * np.arange(25)
    noise = 0.15 * np.where(np.arange(25) % 2, 1, -1)
    losses = list(trend + noise)
    losses[3] = 0.3
    single, best = _no_improvement_counts(losses, window=1)
    assert single[-1] == 21  # one epoch at a time: stuck behind the lucky one
    assert best == 0.3
    # the mean is held back while the lucky epoch is in its window, then
    # improves again
    smoothed, best = _no_improvement_counts(losses, window=10)
    assert max(smoothed) == 13 and smoothed[-8:] == [0] * 8
    assert best == 0.3


def test_plateau_window_covers_twenty_minibatch_updates():
    X, y = _first_step_data(60, seed=0)
    for batch_size, window in [(20, 7), (60, 20), (3, 1)]:
        est = LSTMSequenceClassifier(max_iter=2, **{**FAST, "batch_size": batch_size})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert est._loss_window == window


@pytest.mark.parametrize("schedule", ["constant", "adaptive", "anneal"])
def test_input_noise_decays_with_the_learning_rate(schedule, monkeypatch):
    """Each division of the learning rate by 5 divides the noise by 5; the
    annealing rate turns it off; the constant schedule keeps it."""
    X, y = _first_step_data(60, seed=0)  # 3 minibatches of 20 per epoch
    drawn = []  # the noise std each minibatch asks for
    draw = Network.draw

    def recording_draw(self, shape, dtype, random_state, noise_scale=1.0):
        drawn.append(self.input_noise[0] * noise_scale)
        return draw(self, shape, dtype, random_state, noise_scale)

    monkeypatch.setattr(Network, "draw", recording_draw)
    # No epoch after the first improves by tol: the adaptive rate drops after
    # epochs 3 and 5, and after epoch 7 it would fall below 1/100 of the
    # initial rate; the annealed one is halved for epoch 4 (without noise),
    # then reaches 0.
    est = LSTMSequenceClassifier(
        input_noise=0.3,
        tol=1e9,
        n_iter_no_change=1,
        max_iter=20,
        learning_rate_schedule=schedule,
        **FAST,
    ).fit(X, y)
    if schedule == "constant":  # stops at the first plateau
        expected = [0.3] * 3 * 3
    elif schedule == "anneal":  # no noise while the rate decays
        expected = [0.3] * 3 * 3 + [0.0] * 3
    else:
        expected = [0.3] * 3 * 3 + [0.3 / 5] * 2 * 3 + [0.3 / 25] * 2 * 3
    assert est.n_iter_ == len(expected) // 3
    assert_allclose(drawn, expected, rtol=1e-12)


def test_partial_fit_after_an_annealed_fit_goes_on_training():
    """The decay of 'anneal' ends at its last rate, not at 0: a later
    partial_fit still changes the weights."""
    X, y = _first_step_data(60, seed=0)
    est = LSTMSequenceClassifier(
        learning_rate_schedule="anneal", n_iter_no_change=2, max_iter=50, **FAST
    ).fit(X, y)
    assert est._optimizer.annealed and est.n_iter_ < 50
    assert est._optimizer.learning_rate == pytest.approx(FAST["learning_rate"] / 3)
    before = est.output_weights_.copy()
    est.partial_fit(X, y)
    assert not np.array_equal(before, est.output_weights_)


def test_early_stopping_restores_the_best_weights():
    X, y = _first_step_data(300, seed=3)
    flip = np.random.RandomState(3).rand(300) < 0.1  # noisy labels: the
    y = np.where(flip, 1 - y, y)  # validation score goes up and down
    est = LSTMSequenceClassifier(
        hidden_size=8,
        learning_rate=0.1,
        batch_size=20,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=100,
        learning_rate_schedule="constant",  # stops at the first plateau
        random_state=0,
    ).fit(X, y)
    assert est.n_iter_ < 100  # stopped early
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    # The best epoch is not the last one, so the restore is visible; training
    # stopped n_iter_no_change + 1 epochs after it.
    assert est.validation_scores_[-1] < est.best_validation_score_
    assert est.validation_scores_.index(est.best_validation_score_) == (
        est.n_iter_ - 3 - 2
    )

    # Rebuild the split fit made: same random state, used in the same order.
    rebuilt = _initial_params(est, N_FEATURES, 2)
    targets = np.eye(2)[np.searchsorted(est.classes_, y)]
    idx_train, idx_val = rebuilt._validation_split(len(X), targets)
    assert len(idx_val) == 60
    assert est.t_ == est.n_iter_ * len(idx_train)  # trained on the rest only
    # _validation_score reads inputs standardized, as fit passes them.
    val_score = est._validation_score(
        (
            est._encoder.transform(X[idx_val], None),
            None,
            targets[idx_val],
            np.ones(len(idx_val)),
        )
    )
    assert val_score == est.best_validation_score_
    assert est.score(X[idx_val], y[idx_val]) == est.best_validation_score_


def test_early_stopping_validation_split_is_stratified():
    X, y = _first_step_data(200, seed=0, n_classes=3)
    est = LSTMSequenceClassifier(
        early_stopping=True, validation_fraction=0.3, max_iter=2, **FAST
    ).fit(X, y)
    rebuilt = _initial_params(est, N_FEATURES, 3)
    targets = np.eye(3)[y]
    _, idx_val = rebuilt._validation_split(len(X), targets)
    assert_allclose(
        np.bincount(y[idx_val]) / len(idx_val), np.bincount(y) / len(y), atol=0.02
    )


def test_early_stopping_with_too_small_validation_set_raises():
    X, y = _first_step_data(10, seed=0)
    est = LSTMSequenceClassifier(early_stopping=True, validation_fraction=0.1, **FAST)
    # 1 validation sample: too few to stratify (scikit-learn says so first) and
    # too few to score.
    with pytest.raises(ValueError, match="validation set is too small|test_size"):
        est.fit(X, y)
    assert not hasattr(est, "output_weights_")


def test_convergence_warning_at_max_iter():
    X, y = _first_step_data(40, seed=0)
    est = LSTMSequenceClassifier(max_iter=3, **FAST)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        est.fit(X, y)
    assert est.n_iter_ == 3


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = _first_step_data(40, seed=0)
    est = LSTMSequenceClassifier(max_iter=4, verbose=1, **FAST).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 4
    for i, (line, loss) in enumerate(zip(lines, est.loss_curve_), start=1):
        assert line.startswith(f"Iteration {i}, loss = {loss:.8f}")

    est = LSTMSequenceClassifier(max_iter=4, verbose=0, **FAST).fit(X, y)
    assert capsys.readouterr().out == ""


def test_verbose_with_early_stopping_prints_validation_score(capsys):
    X, y = _first_step_data(60, seed=0)
    est = LSTMSequenceClassifier(
        max_iter=2, verbose=1, early_stopping=True, validation_fraction=0.2, **FAST
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    for line, score in zip(lines, est.validation_scores_):
        assert f"validation score = {score:.6f}" in line


# ---------------------------------------------------------------------------
# Training options
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, learning_rate, optimizer",
    [
        ("sgd", 0.1, SGDOptimizer),
        ("adam", 0.05, AdamOptimizer),
        ("rmsprop", 0.01, RMSpropOptimizer),
    ],
)
def test_each_solver_learns(solver, learning_rate, optimizer, binary_data):
    X, X_test, y, y_test = binary_data
    est = LSTMSequenceClassifier(
        hidden_size=8,
        solver=solver,
        learning_rate=learning_rate,
        batch_size=20,
        max_iter=40,
        random_state=0,
        **PLAIN,  # the loss of the inputs themselves, without noise or dropout
    ).fit(X, y)
    assert isinstance(est._optimizer, optimizer)
    assert est.score(X_test, y_test) >= 0.9
    assert est.loss_curve_[-1] < est.loss_curve_[0] / 2


@pytest.fixture(scope="module")
def imbalanced_data():
    rng = np.random.RandomState(4)
    X = rng.normal(size=(200, 5, N_FEATURES))
    y = np.where(X[:, 0, 0] > 0.8, "rare", "common")  # about 21% rare
    return X, y


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5])
def test_label_smoothing_sets_the_training_targets(label_smoothing, multiclass_data):
    """(1 - eps) on the true class plus eps / n_classes on each, as
    torch.nn.CrossEntropyLoss(label_smoothing=eps) reads its targets."""
    from sklearn_lstm._testing import network_batch

    X, _, y, _ = multiclass_data
    clf = LSTMSequenceClassifier(
        hidden_size=2, max_iter=1, label_smoothing=label_smoothing, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    targets = network_batch(clf, X, y)[2]
    one_hot = (y[:, None] == clf.classes_).astype(float)
    assert len(clf.classes_) == 3
    assert_allclose(targets, (1 - label_smoothing) * one_hot + label_smoothing / 3)
    assert_allclose(targets.sum(axis=1), 1.0)


# The seeded instance of test_common with smoothed targets.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [CASES["LSTMSequenceClassifier"].make_estimator().set_params(label_smoothing=0.1)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_with_label_smoothing(estimator, check):
    check(estimator)


def test_class_weight_balanced_equals_sample_weight(imbalanced_data):
    X, y = imbalanced_data
    est = LSTMSequenceClassifier(max_iter=5, **FAST)
    balanced = clone(est).set_params(class_weight="balanced").fit(X, y)
    weighted = clone(est).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    _assert_same_weights(balanced, weighted)
    plain = clone(est).fit(X, y)
    assert not np.array_equal(plain.output_bias_, balanced.output_bias_)


def test_class_weight_dict(imbalanced_data):
    X, y = imbalanced_data
    est = LSTMSequenceClassifier(max_iter=10, **FAST)
    cw = {"rare": 5.0, "common": 1.0}
    by_dict = clone(est).set_params(class_weight=cw).fit(X, y)
    weighted = clone(est).fit(X, y, sample_weight=np.where(y == "rare", 5.0, 1.0))
    _assert_same_weights(by_dict, weighted)
    # class_weight multiplies sample_weight.
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    both = clone(est).set_params(class_weight=cw).fit(X, y, sample_weight=sw)
    product = clone(est).fit(X, y, sample_weight=sw * np.where(y == "rare", 5.0, 1.0))
    _assert_same_weights(both, product)
    # Weighting the rare class up raises its predicted probability.
    plain = clone(est).fit(X, y)
    k = list(plain.classes_).index("rare")
    assert by_dict.predict_proba(X)[:, k].mean() > plain.predict_proba(X)[:, k].mean()


def test_class_weight_balanced_unavailable_in_partial_fit(imbalanced_data):
    X, y = imbalanced_data
    est = LSTMSequenceClassifier(class_weight="balanced", **FAST)
    with pytest.raises(ValueError, match="class_weight='balanced'.*partial_fit"):
        est.partial_fit(X, y, classes=["common", "rare"])
    assert not hasattr(est, "classes_")
    # A dict works.
    est.set_params(class_weight={"rare": 2.0}).partial_fit(
        X, y, classes=["common", "rare"]
    )
    assert est.n_iter_ == 1


def test_zero_sample_weight_class_is_never_predicted(multi_clf, multiclass_data):
    X, X_test, y, y_test = multiclass_data
    sample_weight = np.where(y == "bee", 0.0, 1.0)
    plain = multi_clf  # the same classifier, fitted without weights
    weighted = clone(plain).fit(X, y, sample_weight=sample_weight)
    assert "bee" in weighted.classes_  # still a class: it is in y
    k = list(weighted.classes_).index("bee")
    proba = weighted.predict_proba(X_test)
    assert "bee" not in weighted.predict(X_test)
    assert "bee" in plain.predict(X_test)
    assert proba[:, k].max() < 0.2
    assert proba[:, k].mean() < plain.predict_proba(X_test)[:, k].mean() / 3


@pytest.mark.parametrize("standardize", [False, True])
def test_sample_weight_equal_to_repeating_samples(standardize):
    """Integer weights act like repeated samples (one batch, no shuffling).

    Without input noise or dropout: their random draws depend on the number
    of rows, which repeating samples changes."""
    X, y = _first_step_data(30, seed=0)
    sw = np.random.RandomState(0).randint(1, 4, size=30)
    params = dict(
        FAST,
        batch_size="auto",  # one batch
        shuffle=False,
        max_iter=3,
        input_noise=0.0,
        dropout=0.0,
        standardize=standardize,
    )
    weighted = LSTMSequenceClassifier(**params).fit(X, y, sample_weight=sw)
    repeated = LSTMSequenceClassifier(**params).fit(
        np.repeat(X, sw, 0), np.repeat(y, sw)
    )
    for p, q in zip(weighted._params, repeated._params):
        assert_allclose(p, q, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "sample_weight, match",
    [(np.zeros(20), "non-zero|sum to zero"), (-np.ones(20), "[Nn]egative")],
    ids=["zeros", "negative"],
)
def test_invalid_sample_weight_raises(sample_weight, match):
    X, y = _first_step_data(20, seed=0)
    with pytest.raises(ValueError, match=match):
        LSTMSequenceClassifier(**FAST).fit(X, y, sample_weight=sample_weight)


def test_warm_start_continues_training():
    X, y = _first_step_data(60, seed=0)
    est = LSTMSequenceClassifier(max_iter=5, **FAST).fit(X, y)
    first_curve = list(est.loss_curve_)
    weights = [p.copy() for p in est._params]

    # warm_start: one epoch at a negligible step starts from the fitted weights.
    est.set_params(warm_start=True, max_iter=1, learning_rate=1e-9).fit(X, y)
    assert est.n_iter_ == 6
    assert est.t_ == 6 * len(X)
    assert est.loss_curve_[:5] == first_curve
    for p, q in zip(est._params, weights):
        assert_allclose(p, q, atol=1e-6)
    assert est.loss_curve_[5] < first_curve[0]

    # More epochs at the original rate keep improving.
    est.set_params(max_iter=10, learning_rate=FAST["learning_rate"]).fit(X, y)
    assert est.n_iter_ == 16
    assert est.loss_curve_[-1] < first_curve[-1]

    # Without warm_start, fit starts over.
    est.set_params(warm_start=False, max_iter=1, learning_rate=1e-9).fit(X, y)
    assert est.n_iter_ == 1
    init = _initial_params(est, N_FEATURES, 2)
    for p, q in zip(est._params, init._params):
        assert_allclose(p, q, atol=1e-6)


def test_partial_fit_requires_classes_on_first_call():
    X, y = _first_step_data(20, seed=0)
    est = LSTMSequenceClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    assert not hasattr(est, "classes_")


def test_partial_fit_keeps_training(binary_data):
    X, X_test, y, y_test = binary_data
    est = LSTMSequenceClassifier(**FAST, **PLAIN)  # losses without noise or dropout
    for i in range(30):
        est.partial_fit(X, y, classes=["neg", "pos"] if i == 0 else None)
        assert est.n_iter_ == i + 1
    assert len(est.loss_curve_) == 30
    assert est.t_ == 30 * len(X)
    assert est.loss_curve_[-1] < est.loss_curve_[0] / 2
    assert est.loss_curve_[-1] < est.loss_curve_[9] < est.loss_curve_[0]
    assert est.score(X_test, y_test) >= 0.9


def test_partial_fit_on_minibatches_learns(binary_data):
    X, X_test, y, y_test = binary_data
    est = LSTMSequenceClassifier(**FAST)
    for epoch in range(30):
        for start in range(0, len(X), 50):
            batch = slice(start, start + 50)
            est.partial_fit(X[batch], y[batch], classes=["neg", "pos"])
    assert est.n_iter_ == 30 * 4
    assert est.score(X_test, y_test) >= 0.9


def test_partial_fit_after_fit_continues(clf, binary_data):
    X, _, y, _ = binary_data
    est = clone(clf).fit(X[:50], y[:50])  # fresh copy, not the shared fixture
    n_iter, optimizer = est.n_iter_, est._optimizer
    est.partial_fit(X, y)
    assert est.n_iter_ == n_iter + 1
    assert est._optimizer is optimizer  # the optimizer state goes on


def test_partial_fit_classes_may_exceed_the_batch():
    X, y = _first_step_data(40, seed=0, labels=["neg", "pos"])
    est = LSTMSequenceClassifier(**FAST).partial_fit(
        X, y, classes=["neg", "pos", "zero"]
    )
    assert_array_equal(est.classes_, ["neg", "pos", "zero"])
    assert est.predict_proba(X).shape == (40, 3)
    # Later batches may hold any subset of the classes.
    est.partial_fit(X[y == "pos"], y[y == "pos"])
    assert est.n_iter_ == 2


def test_partial_fit_unseen_label_raises_and_leaves_the_model(binary_data):
    X, _, y, _ = binary_data
    est = LSTMSequenceClassifier(**FAST).partial_fit(X, y, classes=["neg", "pos"])
    weights = [p.copy() for p in est._params]
    y_bad = y.astype(object)
    y_bad[:3] = ["zebra", "yak", "zebra"]
    with pytest.raises(ValueError, match=r"not seen.*\['yak', 'zebra'\]"):
        est.partial_fit(X, y_bad)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 1
    for p, q in zip(est._params, weights):
        assert_array_equal(p, q)
    # Changing `classes` after the first call is refused too.
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y, classes=["neg", "pos", "zebra"])


def test_partial_fit_unavailable_with_early_stopping():
    est = LSTMSequenceClassifier(early_stopping=True)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit(np.zeros((2, 3, 1)), [0, 1], classes=[0, 1])
    assert hasattr(LSTMSequenceClassifier(early_stopping=False), "partial_fit")


@pytest.mark.parametrize("clip_norm", [None, 1e-3, 0.5])
def test_clip_norm_bounds_the_update(clip_norm):
    """One plain SGD step over one batch moves the weights by exactly
    ``learning_rate * min(clip_norm, ||gradient||)``."""
    X, y = _first_step_data(40, seed=0)
    lr = 0.1
    est = LSTMSequenceClassifier(
        hidden_size=4,
        solver="sgd",
        momentum=0.0,
        learning_rate=lr,
        alpha=0.0,
        batch_size=40,
        max_iter=1,
        clip_norm=clip_norm,
        random_state=0,
        **PLAIN,  # the gradient computed here: no noise or dropout in it
    )
    init = _initial_params(est, N_FEATURES, 2)
    Xv, mask, targets, sw = init._validate_fit_data(
        X, y, None, reset=True, incremental=False, classes=None
    )
    _, grads = init._loss_grad(Xv, mask, targets, sw)
    grad_norm = np.sqrt(sum(np.vdot(g, g) for g in grads))
    est.fit(X, y)
    step = np.sqrt(sum(np.sum((p - q) ** 2) for p, q in zip(est._params, init._params)))
    expected = lr * (grad_norm if clip_norm is None else min(clip_norm, grad_norm))
    assert step == pytest.approx(expected, rel=1e-6)
    if clip_norm == 1e-3:
        assert grad_norm > 10 * clip_norm  # the clipping did act


def test_clip_norm_none_learns(binary_data):
    X, X_test, y, y_test = binary_data
    est = LSTMSequenceClassifier(clip_norm=None, max_iter=30, **FAST).fit(X, y)
    assert all(np.isfinite(p).all() for p in est._params)
    assert est.score(X_test, y_test) >= 0.9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype, clf, binary_data):
    X, X_test, y, y_test = binary_data
    if dtype == np.float64:  # the shared classifier; partial_fit below changes it
        est = copy.deepcopy(clf)
    else:
        est = clone(clf).fit(X.astype(dtype), y)
    for p in est._params:
        assert p.dtype == dtype
    for X_pred in [X_test.astype(dtype), X_test]:  # float64 input is cast
        assert est.predict_proba(X_pred).dtype == dtype
        assert est.predict_log_proba(X_pred).dtype == dtype
        assert est.transform(X_pred).dtype == dtype
    assert est.score(X_test, y_test) >= 0.9
    for m in est._optimizer.ms + est._optimizer.vs:
        assert m.dtype == dtype
    est.partial_fit(X, y)  # float64 input into a float32 model stays float32
    assert all(p.dtype == dtype for p in est._params)


def test_integer_input_is_float64():
    X, y = _first_step_data(30, seed=0)
    est = LSTMSequenceClassifier(max_iter=2, **FAST).fit((X > 0).astype(int), y)
    assert est.output_weights_.dtype == np.float64


def test_float32_and_float64_fits_agree(binary_data):
    X, X_test, y, _ = binary_data
    est = LSTMSequenceClassifier(max_iter=3, **FAST)
    p32 = clone(est).fit(X.astype(np.float32), y).predict_proba(X_test)
    p64 = clone(est).fit(X, y).predict_proba(X_test)
    assert_allclose(p32, p64, atol=1e-3)


def test_same_random_state_is_bit_identical(binary_data):
    X, X_test, y, _ = binary_data
    est = LSTMSequenceClassifier(max_iter=5, **FAST)
    a, b = clone(est).fit(X, y), clone(est).fit(X, y)
    _assert_same_weights(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    assert_array_equal(a.predict(X_test), b.predict(X_test))
    c = clone(est).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(a.output_weights_, c.output_weights_)
    # Fitting does not change the random_state parameter.
    assert a.get_params()["random_state"] == 0


def test_predict_on_subsets_and_permutations_is_exact(clf):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, N_TIMESTEPS, N_FEATURES))
    outputs = {
        m: getattr(clf, m)(X)
        for m in ["predict", "predict_proba", "predict_log_proba", "transform"]
    }
    perm = rng.permutation(64)
    subsets = [perm, perm[:2], perm[:5], perm[:33], np.arange(10, 40)]
    for idx in subsets:
        for method, expected in outputs.items():
            assert_array_equal(getattr(clf, method)(X[idx]), expected[idx], method)
    for i in range(3):  # a batch of one too
        for method, expected in outputs.items():
            assert_array_equal(getattr(clf, method)(X[i : i + 1]), expected[[i]])


def test_predict_is_exact_per_sample_with_many_classes():
    """Ten classes and 32 hidden units: each row's probabilities are the same
    bits whatever the rows around it (BLAS alone would round them differently)."""
    digits = load_digits()
    X, y = digits.data.reshape(-1, 8, 8) / 16, digits.target
    clf = LSTMSequenceClassifier(hidden_size=32, learning_rate=1e-2, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(random_state=0).fit(X[:300], y[:300])
    X = X[300:750]
    expected = clf.predict_proba(X)
    perm = np.random.RandomState(0).permutation(len(X))
    for idx in [perm, perm[:7], perm[:17], perm[:-1]]:
        assert_array_equal(clf.predict_proba(X[idx]), expected[idx])
    for i in range(0, len(X), 50):
        assert_array_equal(clf.predict_proba(X[i : i + 1]), expected[[i]])
        assert_array_equal(clf.transform(X[i : i + 1]), clf.transform(X)[[i]])


@pytest.mark.parametrize(
    "lengths, expected",
    [
        ([64] * 10, 1),
        ([65] * 10, 2),
        ([200] * 10, 4),
        ([100] * 9 + [1000], 2),  # one long outlier in ten: patches for the nine
        ([100] * 8 + [1000] * 2, 16),  # two in ten
    ],
)
def test_auto_patch_size_fits_nine_in_ten_sequences_in_64_steps(lengths, expected):
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 1)) for n in lengths]
    y = np.arange(len(X)) % 2
    clf = LSTMSequenceClassifier(hidden_size=2, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.patch_size_ == expected


def test_large_batch_is_predicted_in_chunks(clf, monkeypatch):
    """Prediction splits big inputs into chunks; the result does not depend on it."""
    import sklearn_lstm._base as base

    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, N_TIMESTEPS, N_FEATURES))
    expected = clf.predict_proba(X)
    # A cache budget of about 3 sequences: 17 chunks.
    monkeypatch.setattr(base, "_PREDICT_CACHE_SIZE", 3 * N_TIMESTEPS * 4 * 8)
    assert_array_equal(clf.predict_proba(X), expected)


def test_fit_failure_leaves_the_estimator_unchanged(clf, binary_data):
    X, _, y, _ = binary_data
    est = copy.deepcopy(clf)  # not the shared fixture itself
    weights = [p.copy() for p in est._params]
    n_iter = est.n_iter_
    X_nan = X.copy()
    X_nan[0, 2] = np.nan  # NaN before the end of a sequence: not padding
    with pytest.raises(ValueError, match="NaN before the end"):
        est.set_params(warm_start=True).fit(X_nan, y)
    assert est.n_iter_ == n_iter
    for p, q in zip(est._params, weights):
        assert_array_equal(p, q)


def _interrupt_at_epoch(monkeypatch, epoch):
    """Make the next fits raise KeyboardInterrupt during epoch ``epoch``."""
    run_epoch = LSTMSequenceClassifier._run_epoch
    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return run_epoch(self, *args)

    monkeypatch.setattr(LSTMSequenceClassifier, "_run_epoch", interrupted)


def test_ctrl_c_keeps_the_last_finished_epoch(binary_data, monkeypatch):
    X, X_test, y, _ = binary_data
    est = LSTMSequenceClassifier(max_iter=10, **FAST)
    with pytest.warns(ConvergenceWarning):
        two_epochs = clone(est).set_params(max_iter=2).fit(X, y)
    _interrupt_at_epoch(monkeypatch, 3)
    with pytest.warns(UserWarning, match="interrupted by user"):
        est.fit(X, y)
    assert est.n_iter_ == 2
    _assert_same_weights(est, two_epochs)
    assert_array_equal(est.predict_proba(X_test), two_epochs.predict_proba(X_test))


def test_ctrl_c_in_the_first_epoch_leaves_no_model(binary_data, monkeypatch):
    """No epoch finished: the interrupt propagates and nothing was fitted."""
    X, _, y, _ = binary_data
    est = LSTMSequenceClassifier(max_iter=10, **FAST)
    _interrupt_at_epoch(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_warm_start_early_stopping_keeps_the_best_of_this_fit(binary_data):
    """Each fit keeps its own best weights, and best_validation_score_ is theirs."""
    X, _, y, _ = binary_data
    est = LSTMSequenceClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=30, **FAST
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        first = list(est.validation_scores_)
        est.set_params(warm_start=True, learning_rate=5.0, max_iter=3).fit(X, y)
    second = est.validation_scores_[len(first) :]
    assert est.validation_scores_[: len(first)] == first
    assert len(second) == est.n_iter_ - len(first)
    assert est.best_validation_score_ == max(second)
    assert est.best_loss_ is None


def test_short_noisy_fits_do_not_claim_divergence():
    """Minibatch noise is no divergence: no 'diverged' warning on sane fits."""
    for seed in range(20):
        X, y = _first_step_data(40, seed=seed)
        est = LSTMSequenceClassifier(max_iter=2, batch_size=10, random_state=seed)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            est.fit(X, y)
        assert not [w for w in record if "diverged" in str(w.message)], seed


# ---------------------------------------------------------------------------
# Integration with scikit-learn
# ---------------------------------------------------------------------------


def test_pipeline_with_scaler_on_univariate_input():
    X, y = _first_step_data(300, seed=5)
    X2 = 10 * X[:, :, 0] + 3  # univariate 2-D, badly scaled
    pipe = make_pipeline(StandardScaler(), LSTMSequenceClassifier(max_iter=30, **FAST))
    pipe.fit(X2[:200], y[:200])
    assert pipe.score(X2[200:], y[200:]) >= 0.9
    assert pipe.predict_proba(X2[200:]).shape == (100, 2)
    assert pipe[-1].n_features_in_ == N_TIMESTEPS


def test_grid_search(binary_data):
    # Serial: test_reliability.py checks that a parallel search (n_jobs=2)
    # gives the same results, for every estimator.
    X, _, y, _ = binary_data
    grid = {"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]}
    search = GridSearchCV(
        LSTMSequenceClassifier(batch_size=20, max_iter=10, random_state=0),
        param_grid=grid,
        cv=3,
    ).fit(X[:120], y[:120])
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["hidden_size"] in grid["hidden_size"]
    assert search.best_params_["learning_rate"] in grid["learning_rate"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ >= 0.7
    # The refitted best model has the best parameters.
    assert search.best_estimator_.hidden_size == search.best_params_["hidden_size"]
    assert (
        search.best_estimator_.output_weights_.shape[0]
        == 4 * search.best_params_["hidden_size"]  # bidirectional, mean and max
    )


def test_cross_val_score(binary_data):
    X, _, y, _ = binary_data
    scores = cross_val_score(LSTMSequenceClassifier(max_iter=30, **FAST), X, y, cv=3)
    assert scores.shape == (3,)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores.mean() >= 0.85


def test_feature_extractor_in_pipeline(binary_data):
    X, X_test, y, y_test = binary_data
    pipe = Pipeline(
        [
            ("lstm", LSTMSequenceClassifier(max_iter=30, **FAST)),
            ("lr", LogisticRegression()),
        ]
    ).fit(X, y)
    assert pipe.score(X_test, y_test) >= 0.9
    assert pipe["lr"].n_features_in_ == N_OUT
    # The LSTM was fitted on the labels, then read as features.
    assert pipe["lstm"].score(X_test, y_test) >= 0.9
    assert_array_equal(pipe["lr"].coef_.shape, (1, N_OUT))


def test_clone_of_fitted_is_unfitted(clf):
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "output_weights_")


# ---------------------------------------------------------------------------
# Real learning
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_digits_read_row_by_row():
    digits = load_digits()
    X = digits.data.reshape(-1, 8, 8) / 16  # 8 time steps of 8 pixels
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, random_state=0, stratify=digits.target
    )
    est = LSTMSequenceClassifier(
        hidden_size=64,
        learning_rate=1e-2,
        max_iter=40,
        n_iter_no_change=40,  # run all 40 epochs
        random_state=0,
    ).fit(X_train, y_train)
    assert_array_equal(est.classes_, np.arange(10))
    assert est.score(X_test, y_test) >= 0.95


@pytest.mark.slow
def test_remembers_the_first_step_over_30_steps():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1500, 30, 1))
    y = (X[:, 0, 0] > 0).astype(int)
    X_train, X_test, y_train, y_test = X[:1000], X[1000:], y[:1000], y[1000:]
    est = LSTMSequenceClassifier(
        hidden_size=16,
        learning_rate=0.01,
        batch_size=25,
        # The loss stays on a plateau at chance until the network finds the
        # first step; how long depends on the seed: with this one, more than
        # 40 epochs (0.51 test accuracy after 40, 0.97 after 80).
        max_iter=80,
        n_iter_no_change=100,  # do not stop on the plateau before it learns
        random_state=0,
        # One direction, read after the last step: the first step's sign has
        # to be carried over 30 steps (a backward direction, or the mean of
        # the states, would read it straight away).
        bidirectional=False,
        readout="last",
    ).fit(X_train, y_train)
    assert est.score(X_test, y_test) >= 0.9
    # The last step alone says nothing about the class.
    last_step = LogisticRegression().fit(X_train[:, -1], y_train)
    assert abs(last_step.score(X_test[:, -1], y_test) - 0.5) < 0.1


def test_default_batch_size_on_fewer_samples_trains_quietly():
    # The default batch_size (32) is clipped to the 10 sequences with no
    # warning: the user did not choose it. One update per epoch shows it.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(10, 4, 2)), np.tile([0, 1], 5)
    clf = LSTMSequenceClassifier(hidden_size=3, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.t_ == 2 * 10
    assert clf._optimizer.t == 2  # one minibatch of 10 per epoch
