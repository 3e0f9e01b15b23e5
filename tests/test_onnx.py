"""ONNX export: onnxruntime gives predict_proba and predict of the estimators."""

import itertools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_lstm import (
    LSTMLanguageModel,
    LSTMSequenceClassifier,
    LSTMSequenceRegressor,
    LSTMSequenceTagger,
)
from sklearn_lstm.forecasting import make_windows
from sklearn_lstm.onnx import onnx_inputs, register_converters, to_onnx, unpad

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
onnx = pytest.importorskip("onnx")


def _data(n_samples=120, n_timesteps=7, n_features=3, seed=0):
    """Classes set by the sign of the first step's first feature."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    return X, np.where(X[:, 0, 0] > 0, "pos", "neg")


def _ragged(X):
    """The sequences of X cut to lengths 1..T."""
    return [x[: 1 + i % X.shape[1]] for i, x in enumerate(X)]


@pytest.fixture(scope="module", params=[1, 2], ids=["1-layer", "2-layer"])
def fitted(request):
    X, y = _data()
    clf = LSTMSequenceClassifier(
        hidden_size=8,
        n_layers=request.param,
        learning_rate=0.02,
        max_iter=15,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(_ragged(X), y)
    return clf


VARIANTS = list(
    itertools.product(["last", "mean", "max", "mean_max"], [False, True], [1, 2])
)


def _fit(X, y, **params):
    clf = LSTMSequenceClassifier(learning_rate=0.05, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


@pytest.fixture(
    scope="module",
    params=VARIANTS,
    ids=[
        f"{readout}-{'bi' if bidirectional else 'uni'}-{n_layers}-layer"
        for readout, bidirectional, n_layers in VARIANTS
    ],
)
def variant(request):
    """Every readout, uni- and bidirectional, 1 and 2 layers: tiny and short."""
    readout, bidirectional, n_layers = request.param
    X, y = _data(n_samples=60, n_timesteps=6)
    return _fit(
        _ragged(X),
        y,
        hidden_size=4,
        n_layers=n_layers,
        bidirectional=bidirectional,
        readout=readout,
        max_iter=5,
    )


def _session(model):
    return ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


@pytest.mark.parametrize("form", ["3-D", "ragged list", "nan-padded"])
def test_onnxruntime_matches_predict_proba_and_predict(fitted, form):
    X, _ = _data(n_samples=80, seed=1)  # a test set
    if form == "ragged list":
        X = _ragged(X)
    elif form == "nan-padded":
        X = X.copy()
        X[::2, 4:] = np.nan
    session = _session(to_onnx(fitted))
    label, proba = session.run(None, onnx_inputs(X))
    assert proba.dtype == np.float32
    assert_allclose(proba, fitted.predict_proba(X), rtol=0, atol=1e-5)
    assert_array_equal(label, fitted.predict(X))


def test_every_readout_and_direction_matches_on_ragged_input(variant):
    X = _ragged(_data(n_samples=80, n_timesteps=6, seed=1)[0])
    model = to_onnx(variant)
    lstm_nodes = [node for node in model.graph.node if node.op_type == "LSTM"]
    assert len(lstm_nodes) == variant.n_layers
    direction = b"bidirectional" if variant.bidirectional else b"forward"
    for node in lstm_nodes:
        attributes = {
            a.name: onnx.helper.get_attribute_value(a) for a in node.attribute
        }
        assert attributes["direction"] == direction
    label, proba = _session(model).run(None, onnx_inputs(X))
    assert_allclose(proba, variant.predict_proba(X), rtol=0, atol=1e-5)
    assert_array_equal(label, variant.predict(X))


def test_every_readout_and_direction_without_sequence_lens(variant):
    X, _ = _data(n_samples=20, n_timesteps=6, seed=3)
    session = _session(to_onnx(variant, sequence_lens=False))
    _, proba = session.run(None, {"X": X.astype(np.float32)})
    assert_allclose(proba, variant.predict_proba(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("normal_scores", ["auto", True, False])
def test_normal_scores_match(normal_scores):
    """A heavy-tailed feature, a binary one (scored only with True) and a
    constant one (a single knot with True); values beyond the training range
    too."""
    X, y = _data(n_samples=60, seed=6)
    rng = np.random.RandomState(6)
    X = np.stack(
        [
            np.exp(3 * X[:, :, 0]),
            rng.randint(0, 2, X.shape[:2]),
            np.full(X.shape[:2], 2.0),
        ],
        axis=2,
    )
    clf = _fit(_ragged(X), y, hidden_size=3, max_iter=3, normal_scores=normal_scores)
    assert (
        len(clf._encoder.scored_features)
        == {"auto": 1, True: 3, False: 0}[normal_scores]
    )
    X_test = _ragged(X * rng.choice([0.5, 1.0, 4.0], size=X.shape))
    _, proba = _session(to_onnx(clf)).run(None, onnx_inputs(X_test))
    assert_allclose(proba, clf.predict_proba(X_test), rtol=0, atol=1e-5)


@pytest.mark.parametrize("readout", ["mean", "max", "mean_max"])
def test_readouts_before_opset_18(readout):
    """Before opset 18, ReduceMean and ReduceMax take ``axes`` as an attribute."""
    X, y = _data(n_samples=30, seed=5)
    clf = _fit(
        _ragged(X), y, hidden_size=3, bidirectional=True, readout=readout, max_iter=3
    )
    model = to_onnx(clf, target_opset=13)
    assert model.opset_import[0].version <= 13
    _, proba = _session(model).run(None, onnx_inputs(_ragged(X)))
    assert_allclose(proba, clf.predict_proba(_ragged(X)), rtol=0, atol=1e-5)


def test_float32_model_matches_too(fitted):
    X, y = _data(n_samples=60, seed=2)
    clf = LSTMSequenceClassifier(hidden_size=5, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X.astype(np.float32), y)
    assert clf.output_weights_.dtype == np.float32
    _, proba = _session(to_onnx(clf)).run(None, onnx_inputs(_ragged(X)))
    assert_allclose(proba, clf.predict_proba(_ragged(X)), rtol=0, atol=1e-5)


def test_weights_are_reordered_to_onnx_gates():
    """ONNX packs (i, o, f, c) in rows; the estimator (i, f, g, o) in columns."""
    from sklearn_lstm.onnx import _onnx_lstm_weights

    H, D = 2, 3
    Wx = np.repeat(np.arange(4), H)[np.newaxis, :] * np.ones((D, 1))  # gate ids
    Wh = np.repeat(np.arange(4), H)[np.newaxis, :] * np.ones((H, 1))
    b = np.repeat(np.arange(4), H).astype(float)
    W, R, B = _onnx_lstm_weights([(Wx, Wh, b)])
    assert W.shape == (1, 4 * H, D) and R.shape == (1, 4 * H, H)
    assert B.shape == (1, 8 * H)
    i, f, g, o = 0, 1, 2, 3
    assert_array_equal(W[0, :, 0], np.repeat([i, o, f, g], H))
    assert_array_equal(R[0, :, 0], np.repeat([i, o, f, g], H))
    assert_array_equal(B[0], np.r_[np.repeat([i, o, f, g], H), np.zeros(4 * H)])


def test_graph_inputs_outputs_and_native_lstm_nodes(fitted):
    model = to_onnx(fitted)
    inputs = {i.name: i for i in model.graph.input}
    assert list(inputs) == ["X", "sequence_lens"]
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("LSTM") == fitted.n_layers
    assert {"Gemm", "Softmax", "ArgMax"} <= set(ops)


def test_without_sequence_lens_every_sequence_is_full_length(fitted):
    X, _ = _data(n_samples=10, seed=3)
    session = _session(to_onnx(fitted, sequence_lens=False))
    assert [i.name for i in session.get_inputs()] == ["X"]
    _, proba = session.run(None, {"X": X.astype(np.float32)})
    assert_allclose(proba, fitted.predict_proba(X), rtol=0, atol=1e-5)


def test_skl2onnx_to_onnx_knows_the_classifier(fitted):
    X, _ = _data(n_samples=10, seed=3)
    register_converters()
    model = skl2onnx.to_onnx(fitted, X[:1].astype(np.float32))
    label, proba = _session(model).run(None, {"X": X.astype(np.float32)})
    assert_array_equal(label, fitted.predict(X))
    # skl2onnx's default for classifiers: probabilities as a ZipMap
    assert proba[0].keys() == set(fitted.classes_)
    assert_allclose(
        [[p[c] for c in fitted.classes_] for p in proba],
        fitted.predict_proba(X),
        atol=1e-5,
    )


@pytest.mark.parametrize("y_kind, label_dtype", [("int", np.int64), ("str", object)])
def test_labels_of_every_kind(y_kind, label_dtype):
    X, y = _data(n_samples=40, seed=4)
    y = np.unique(y, return_inverse=True)[1] * 7 - 3 if y_kind == "int" else y
    clf = LSTMSequenceClassifier(hidden_size=3, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    label, _ = _session(to_onnx(clf)).run(None, onnx_inputs(X))
    assert label.dtype == label_dtype
    assert_array_equal(label, clf.predict(X))


def test_float64_input_is_refused_with_the_reason(fitted):
    register_converters()
    X, _ = _data(n_samples=4)
    with pytest.raises(TypeError, match="float32.*no float64"):
        skl2onnx.to_onnx(fitted, X)


@pytest.mark.parametrize("patch_size", [2, 3])
@pytest.mark.parametrize("readout", ["last", "mean_max"])
def test_patches_of_steps_match(patch_size, readout):
    """Patches of ``k`` steps (padded steps inside the last real patch read as
    zeros), on ragged input whose lengths are and are not multiples of k."""
    X, y = _data(n_samples=40, n_timesteps=7)
    clf = _fit(
        _ragged(X),
        y,
        hidden_size=4,
        patch_size=patch_size,
        readout=readout,
        max_iter=5,
    )
    assert clf.patch_size_ == patch_size
    X_test = _data(n_samples=30, n_timesteps=7, seed=1)[0]
    label, proba = _session(to_onnx(clf)).run(None, onnx_inputs(_ragged(X_test)))
    assert_allclose(proba, clf.predict_proba(_ragged(X_test)), rtol=0, atol=1e-5)
    assert_array_equal(label, clf.predict(_ragged(X_test)))
    session = _session(to_onnx(clf, sequence_lens=False))
    for X_full in [X_test, X_test[:, :6]]:  # 7 steps, and 6: a multiple of k
        _, proba = session.run(None, {"X": X_full.astype(np.float32)})
        assert_allclose(proba, clf.predict_proba(X_full), rtol=0, atol=1e-5)


def test_onnx_inputs_of_every_form():
    seqs = [np.arange(3.0), np.arange(1.0)]
    expected_X = np.array([[0, 1, 2], [0, 0, 0]], dtype=np.float32)[:, :, None]
    padded = np.array([[0, 1, 2], [0, np.nan, np.nan]])
    for X in (seqs, padded, padded[:, :, None]):
        inputs = onnx_inputs(X)
        assert_array_equal(inputs["X"], expected_X)
        assert inputs["X"].dtype == np.float32
        assert_array_equal(inputs["sequence_lens"], [3, 1])
        assert inputs["sequence_lens"].dtype == np.int32
    full = onnx_inputs(np.ones((2, 4, 3)))
    assert_array_equal(full["sequence_lens"], [4, 4])
    with pytest.raises(ValueError, match="NaN before the end"):
        onnx_inputs(np.array([[0, np.nan, 2.0]]))


# -- the regressor -------------------------------------------------------------

# Parity of the regressor: |onnx - predict| <= 1e-5 * target_scale_ + 1e-5 *
# |predict|, that is 1e-5 absolute on the standardized targets that the network
# predicts, plus 1e-5 relative for the float32 rounding of values far from 0.
REGRESSION_TOL = 1e-5


def _regression_data(n_samples=60, n_timesteps=6, n_features=3, seed=0):
    """Ragged sequences; targets of mean about 100 and scale about 10 (and a
    second target of another scale and sign), so that a graph that forgot to
    map the standardized outputs back would be far off."""
    rng = np.random.RandomState(seed)
    X = _ragged(rng.normal(size=(n_samples, n_timesteps, n_features)))
    y = 100 + 10 * np.array([x[:, 0].sum() for x in X])
    return X, np.c_[y, 7 - 3 * y]


def _assert_regression_parity(reg, predicted, X):
    expected = reg.predict(X)
    assert predicted.dtype == np.float32
    assert predicted.shape == expected.shape
    atol = REGRESSION_TOL * reg.target_scale_
    if expected.ndim == 1:
        atol = atol[0]
    assert np.all(
        np.abs(predicted - expected) <= atol + REGRESSION_TOL * np.abs(expected)
    ), np.abs(predicted - expected).max(axis=0)


REGRESSOR_VARIANTS = list(
    itertools.product(
        ["last", "mean", "max", "mean_max"], [False, True], [1, 2], [1, 2]
    )
)


@pytest.fixture(
    scope="module",
    params=REGRESSOR_VARIANTS,
    ids=[
        f"{readout}-{'bi' if bidirectional else 'uni'}-{n_layers}-layer-"
        f"{n_outputs}-output"
        for readout, bidirectional, n_layers, n_outputs in REGRESSOR_VARIANTS
    ],
)
def regressor(request):
    """Every readout, uni- and bidirectional, 1 and 2 layers, 1-D and 2-D y."""
    readout, bidirectional, n_layers, n_outputs = request.param
    X, Y = _regression_data()
    reg = LSTMSequenceRegressor(
        hidden_size=4,
        n_layers=n_layers,
        bidirectional=bidirectional,
        readout=readout,
        learning_rate=0.05,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, Y[:, 0] if n_outputs == 1 else Y)


def test_regressor_onnxruntime_matches_predict_on_ragged_input(regressor):
    X, _ = _regression_data(n_samples=80, seed=1)
    model = to_onnx(regressor)
    assert [o.name for o in model.graph.output] == ["variable"]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("LSTM") == regressor.n_layers
    (predicted,) = _session(model).run(None, onnx_inputs(X))
    _assert_regression_parity(regressor, predicted, X)


def test_regressor_without_sequence_lens(regressor):
    X = np.random.RandomState(3).normal(size=(20, 6, 3))
    (predicted,) = _session(to_onnx(regressor, sequence_lens=False)).run(
        None, {"X": X.astype(np.float32)}
    )
    _assert_regression_parity(regressor, predicted, X)


@pytest.mark.parametrize("form", ["3-D", "2-D univariate", "nan-padded"])
def test_regressor_input_forms(form):
    rng = np.random.RandomState(4)
    X = rng.normal(size=(40, 5))
    y = 50 + 5 * X.sum(axis=1)
    if form == "3-D":
        X = X[:, :, None]
    elif form == "nan-padded":
        X = X.copy()
        X[::2, 3:] = np.nan
        y = 50 + 5 * np.nansum(X, axis=1)
    reg = LSTMSequenceRegressor(hidden_size=3, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    (predicted,) = _session(to_onnx(reg)).run(None, onnx_inputs(X))
    _assert_regression_parity(reg, predicted, X)


def test_regressor_before_opset_13():
    """ReduceSum takes ``axes`` as an attribute before opset 13."""
    X, Y = _regression_data(n_samples=30, seed=5)
    reg = LSTMSequenceRegressor(
        hidden_size=3, bidirectional=True, readout="mean", max_iter=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y)
    model = to_onnx(reg, target_opset=12)
    assert model.opset_import[0].version <= 12
    (predicted,) = _session(model).run(None, onnx_inputs(X))
    _assert_regression_parity(reg, predicted, X)


def test_regressor_float32_model():
    X, Y = _regression_data(n_samples=40, seed=6)
    reg = LSTMSequenceRegressor(hidden_size=4, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit([x.astype(np.float32) for x in X], Y.astype(np.float32))
    assert reg.output_weights_.dtype == np.float32
    (predicted,) = _session(to_onnx(reg)).run(None, onnx_inputs(X))
    _assert_regression_parity(reg, predicted, X)


def test_regressor_graph_maps_back_to_the_units_of_y(regressor):
    """The graph multiplies by ``target_scale_`` and adds ``target_mean_``."""
    model = to_onnx(regressor)
    constants = {
        init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer
    }
    nodes = {node.op_type: node for node in model.graph.node}
    assert_allclose(constants[nodes["Mul"].input[1]], regressor.target_scale_)
    assert_allclose(constants[nodes["Add"].input[1]], regressor.target_mean_)


def test_skl2onnx_to_onnx_knows_the_regressor(regressor):
    X = np.random.RandomState(3).normal(size=(10, 6, 3))
    register_converters()
    model = skl2onnx.to_onnx(regressor, X[:1].astype(np.float32))
    (predicted,) = _session(model).run(None, {"X": X.astype(np.float32)})
    _assert_regression_parity(regressor, predicted, X)


def test_regressor_with_default_patches_matches():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(10, 70)), rng.normal(size=10)
    reg = LSTMSequenceRegressor(hidden_size=2, max_iter=1)  # patch_size='auto'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.patch_size_ == 2
    X_test = [x[: 30 + i] for i, x in enumerate(rng.normal(size=(8, 70)))]
    for opset in [None, 12]:  # Pad takes its pads as an input from opset 11
        model = to_onnx(reg, target_opset=opset)
        (predicted,) = _session(model).run(None, onnx_inputs(X_test))
        _assert_regression_parity(reg, predicted, X_test)


def test_zipmap_is_refused_for_a_regressor():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(10, 5)), rng.normal(size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = LSTMSequenceRegressor(hidden_size=2, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="zipmap applies to classifiers only"):
        to_onnx(reg, zipmap=True)


def test_other_estimators_are_refused():
    with pytest.raises(TypeError, match="to_onnx converts .*got LSTMLanguageModel"):
        to_onnx(LSTMLanguageModel())


# -- the tagger ----------------------------------------------------------------


def _tagging_data(n_samples=60, n_timesteps=6, n_features=2, seed=0):
    """Ragged sequences; each step's label is the count of positive first
    features so far, modulo 3."""
    rng = np.random.RandomState(seed)
    X = _ragged(rng.normal(size=(n_samples, n_timesteps, n_features)))
    return X, [np.cumsum(x[:, 0] > 0) % 3 for x in X]


TAGGER_VARIANTS = list(itertools.product([False, True], [1, 2]))


@pytest.fixture(
    scope="module",
    params=TAGGER_VARIANTS,
    ids=[
        f"{'bi' if bidirectional else 'uni'}-{n_layers}-layer"
        for bidirectional, n_layers in TAGGER_VARIANTS
    ],
)
def tagger(request):
    bidirectional, n_layers = request.param
    X, y = _tagging_data()
    tagger = LSTMSequenceTagger(
        hidden_size=4,
        n_layers=n_layers,
        bidirectional=bidirectional,
        learning_rate=0.05,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return tagger.fit(X, y)


def _assert_tagger_parity(tagger, label, proba, X, lengths):
    """Probabilities within 1e-5 absolute and identical labels at the real
    steps; at the padded steps, probabilities 0 and label ``classes_[0]``."""
    assert proba.dtype == np.float32
    assert proba.shape == label.shape + (len(tagger.classes_),)
    expected_proba = tagger.predict_proba(X)
    expected_label = tagger.predict(X)
    if isinstance(expected_proba, list):
        for p, e in zip(unpad(proba, lengths), expected_proba):
            assert_allclose(p, e, rtol=0, atol=1e-5)
        for lab, e in zip(unpad(label, lengths), expected_label):
            assert_array_equal(lab, e)
    else:
        assert_allclose(proba, expected_proba, rtol=0, atol=1e-5)
        assert_array_equal(label, expected_label)
    padded = np.arange(label.shape[1]) >= np.asarray(lengths)[:, None]
    assert_array_equal(proba[padded], 0)
    assert np.all(label[padded] == tagger.classes_[0])


def test_tagger_onnxruntime_matches_predict_proba_on_ragged_input(tagger):
    X, _ = _tagging_data(n_samples=80, seed=1)
    model = to_onnx(tagger)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("LSTM") == tagger.n_layers
    inputs = onnx_inputs(X)
    label, proba = _session(model).run(None, inputs)
    assert label.shape == (80, 6)
    _assert_tagger_parity(tagger, label, proba, X, inputs["sequence_lens"])


@pytest.mark.parametrize("form", ["3-D", "nan-padded"])
def test_tagger_array_input(tagger, form):
    X = np.random.RandomState(2).normal(size=(30, 6, 2))
    if form == "nan-padded":
        X[::2, 4:] = np.nan
    inputs = onnx_inputs(X)
    label, proba = _session(to_onnx(tagger)).run(None, inputs)
    _assert_tagger_parity(tagger, label, proba, X, inputs["sequence_lens"])


def test_tagger_without_sequence_lens(tagger):
    X = np.random.RandomState(3).normal(size=(20, 6, 2))
    session = _session(to_onnx(tagger, sequence_lens=False))
    assert [i.name for i in session.get_inputs()] == ["X"]
    label, proba = session.run(None, {"X": X.astype(np.float32)})
    _assert_tagger_parity(tagger, label, proba, X, np.full(len(X), 6))


def test_tagger_before_opset_13(tagger):
    """Softmax read its input as 2-D before opset 13: the same on the last axis."""
    X, _ = _tagging_data(n_samples=20, seed=4)
    model = to_onnx(tagger, target_opset=12)
    assert model.opset_import[0].version <= 12
    inputs = onnx_inputs(X)
    label, proba = _session(model).run(None, inputs)
    _assert_tagger_parity(tagger, label, proba, X, inputs["sequence_lens"])


@pytest.mark.parametrize("y_kind, label_dtype", [("int", np.int64), ("str", object)])
def test_tagger_labels_of_every_kind(y_kind, label_dtype):
    X, y = _tagging_data(n_samples=30, seed=5)
    if y_kind == "str":
        y = [np.array(["a", "b", "c"])[labels] for labels in y]
    else:
        y = [labels * 7 - 3 for labels in y]
    tagger = LSTMSequenceTagger(hidden_size=3, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger.fit(X, y)
    inputs = onnx_inputs(X)
    label, proba = _session(to_onnx(tagger)).run(None, inputs)
    assert label.dtype == label_dtype
    _assert_tagger_parity(tagger, label, proba, X, inputs["sequence_lens"])


def test_skl2onnx_to_onnx_knows_the_tagger(tagger):
    X = np.random.RandomState(3).normal(size=(10, 6, 2))
    register_converters()
    model = skl2onnx.to_onnx(tagger, X[:1].astype(np.float32))
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    label, proba = _session(model).run(None, {"X": X.astype(np.float32)})
    _assert_tagger_parity(tagger, label, proba, X, np.full(len(X), 6))


def test_unpad_gives_the_real_steps():
    outputs = np.arange(12).reshape(3, 4)
    pieces = unpad(outputs, np.array([4, 1, 0], dtype=np.int32))
    assert [p.tolist() for p in pieces] == [[0, 1, 2, 3], [4], []]


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_gru_weights_give_onnx_gru_the_numbers_of_gru_forward(direction):
    """A one-node ONNX ``GRU`` graph (``linear_before_reset=1``, a ragged batch
    given by ``sequence_lens``) with weights from ``_onnx_gru_weights`` gives
    the outputs of ``gru_forward``: ``Y`` at the real steps and ``Y_h``; the
    reverse direction is ``gru_forward`` over each sequence reversed."""
    from onnx import TensorProto, helper, numpy_helper

    from sklearn_lstm._cells import CELLS, gru_forward
    from sklearn_lstm.onnx import _onnx_gru_weights

    N, T, D, H = 5, 6, 3, 4
    n_dir = 2 if direction == "bidirectional" else 1
    rng = np.random.RandomState(0)
    lengths = np.array([6, 1, 4, 3, 6], dtype=np.int32)
    mask = np.arange(T) < lengths[:, None]
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    x[~mask] = 0  # zero padding, as onnx_inputs gives it
    h0 = rng.normal(scale=0.5, size=(n_dir, N, H)).astype(np.float32)
    directions = [
        tuple(
            rng.normal(scale=0.5, size=shape).astype(np.float32)
            for shape in CELLS["gru"].weight_shapes(D, H)
        )
        for _ in range(n_dir)
    ]
    W, R, B = _onnx_gru_weights(directions)
    assert (W.shape, R.shape, B.shape) == (
        (n_dir, 3 * H, D),
        (n_dir, 3 * H, H),
        (n_dir, 6 * H),
    )

    node = helper.make_node(
        "GRU",
        ["X", "W", "R", "B", "sequence_lens", "initial_h"],
        ["Y", "Y_h"],
        hidden_size=H,
        direction=direction,
        linear_before_reset=1,
    )
    graph = helper.make_graph(
        [node],
        "gru",
        [
            helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, N, D]),
            helper.make_tensor_value_info("sequence_lens", TensorProto.INT32, [N]),
            helper.make_tensor_value_info(
                "initial_h", TensorProto.FLOAT, [n_dir, N, H]
            ),
        ],
        [
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [T, n_dir, N, H]),
            helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [n_dir, N, H]),
        ],
        initializer=[
            numpy_helper.from_array(a, name)
            for a, name in [(W, "W"), (R, "R"), (B, "B")]
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    Y, Y_h = _session(model).run(
        None,
        {"X": x.transpose(1, 0, 2), "sequence_lens": lengths, "initial_h": h0},
    )
    assert Y.shape == (T, n_dir, N, H) and Y_h.shape == (n_dir, N, H)

    h, (h_last,), _ = gru_forward(x, h0[0], *directions[0], mask=mask)
    Y_fw = Y[:, 0].transpose(1, 0, 2)
    assert_allclose(Y_fw[mask], h[mask], rtol=0, atol=1e-5)
    assert_allclose(Y_h[0], h_last, rtol=0, atol=1e-5)
    if n_dir == 2:  # each sequence read from its last real step to step 0
        x_rev = np.zeros_like(x)
        for n, length in enumerate(lengths):
            x_rev[n, :length] = x[n, length - 1 :: -1]
        h_rev, (h_rev_last,), _ = gru_forward(x_rev, h0[1], *directions[1], mask=mask)
        Y_bw = Y[:, 1].transpose(1, 0, 2)
        for n, length in enumerate(lengths):
            assert_allclose(Y_bw[n, :length], h_rev[n, length - 1 :: -1], atol=1e-5)
        assert_allclose(Y_h[1], h_rev_last, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------
# GRU networks: native ONNX GRU nodes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("readout", ["last", "mean_max"])
def test_gru_classifier_matches_on_ragged_input(bidirectional, readout):
    X, y = _data(n_samples=60, n_timesteps=6)
    clf = _fit(
        _ragged(X),
        y,
        cell="gru",
        hidden_size=4,
        n_layers=2,
        bidirectional=bidirectional,
        readout=readout,
        max_iter=5,
    )
    model = to_onnx(clf)
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("GRU") == 2 and "LSTM" not in ops
    X_test = _ragged(_data(n_samples=40, n_timesteps=6, seed=1)[0])
    label, proba = _session(model).run(None, onnx_inputs(X_test))
    assert_allclose(proba, clf.predict_proba(X_test), rtol=0, atol=1e-5)
    assert_array_equal(label, clf.predict(X_test))


def test_gru_regressor_and_tagger_match():
    X, Y = _regression_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = LSTMSequenceRegressor(
            cell="gru", hidden_size=4, max_iter=5, random_state=0
        ).fit(X, Y[:, 0])
        Xt, yt = _tagging_data()
        tagger = LSTMSequenceTagger(
            cell="gru", hidden_size=4, bidirectional=True, max_iter=5, random_state=0
        ).fit(Xt, yt)
    (out,) = _session(to_onnx(reg)).run(None, onnx_inputs(X))
    assert_allclose(out, reg.predict(X), rtol=1e-4, atol=1e-4 * np.abs(Y).max())
    inputs = onnx_inputs(Xt)
    label, proba = _session(to_onnx(tagger)).run(None, inputs)
    _assert_tagger_parity(tagger, label, proba, Xt, inputs["sequence_lens"])


# ---------------------------------------------------------------------------
# Argument checks of the helpers (issue 26)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1e39, -1e39, np.finfo(np.float64).max])
def test_onnx_inputs_refuse_values_float32_cannot_hold(value):
    X = np.zeros((2, 3, 1))
    X[1, 2, 0] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="too large for float32.*3.403e\\+38"):
            onnx_inputs(X)
    assert np.isfinite(onnx_inputs(X, dtype=np.float64)["X"]).all()


@pytest.mark.parametrize(
    "outputs, lens, error, match",
    [
        (np.zeros((2, 3)), [-1, 2], ValueError, r"sequence_lens\[0\] == -1"),
        (np.zeros((2, 3)), [4, 2], ValueError, r"sequence_lens\[0\] == 4"),
        (np.zeros((2, 3)), [1], ValueError, r"sequence_lens\.shape"),
        (np.zeros((2, 3)), [1, 2, 3], ValueError, r"sequence_lens\.shape"),
        (np.zeros((2, 3)), [[1, 2]], ValueError, r"sequence_lens\.shape"),
        (np.zeros((2, 3)), [1.5, 2], TypeError, "must hold integers"),
        (np.zeros((2, 3)), [True, False], TypeError, "must hold integers"),
        (np.zeros((2, 3)), [[1], [2, 3]], ValueError, "not a rectangular"),
        (np.zeros(2), [1, 1], ValueError, "one row per time step"),
        ([[1, 2], [3]], [1, 1], ValueError, "outputs is not a rectangular array"),
    ],
)
def test_unpad_refuses_lengths_that_do_not_fit_the_outputs(outputs, lens, error, match):
    with pytest.raises(error, match=match):
        unpad(outputs, lens)


def test_unpad_keeps_lengths_from_zero_to_all_steps():
    out = unpad(np.arange(6).reshape(2, 3), np.array([0, 3], dtype=np.int32))
    assert [o.tolist() for o in out] == [[], [3, 4, 5]]


@pytest.mark.parametrize(
    "target_opset, error, match",
    [
        (1, ValueError, "target_opset=1 is not supported"),
        (10, ValueError, "target_opset=10 is not supported"),
        (10**6, ValueError, "is not supported"),
        ("x", TypeError, "target_opset must be an int"),
        (True, TypeError, "target_opset must be an int"),
        (15.0, TypeError, "target_opset must be an int"),
        ({"": 1}, ValueError, "target_opset=1 is not supported"),
        ({"": "x"}, TypeError, "target_opset must be an int"),
        ({"": {"": 12}}, TypeError, "target_opset must be an int"),
        ({1: 12}, TypeError, "got the key 1"),
        ({"": 12, "ai.onnx.ml": "x"}, TypeError, r"target_opset\['ai.onnx.ml'\]"),
        ({"": 12, "ai.onnx.ml": 0}, ValueError, r"target_opset\['ai.onnx.ml'\]"),
    ],
)
def test_to_onnx_refuses_target_opsets_it_cannot_build(target_opset, error, match):
    X, y = _regression_data()
    reg = LSTMSequenceRegressor(hidden_size=3, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    with pytest.raises(error, match=match):
        to_onnx(reg, target_opset=target_opset)


def test_to_onnx_lowest_opset_runs_in_onnxruntime():
    from sklearn_lstm.onnx import MIN_OPSET

    X, y = _regression_data()
    reg = LSTMSequenceRegressor(hidden_size=3, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    session = ort.InferenceSession(
        to_onnx(reg, target_opset=MIN_OPSET).SerializeToString()
    )
    (got,) = session.run(None, onnx_inputs(X))
    assert_allclose(got, reg.predict(X), rtol=1e-4, atol=1e-4 * reg.target_scale_[0])


@pytest.mark.parametrize("skip", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_skip_matches(skip, bidirectional):
    """The per-step skip (the inputs of the ``skip`` steps up to each step
    next to the top layer's states) exports, on ragged, 3-D and unpadded
    input."""
    X, y = _tagging_data()
    tagger = LSTMSequenceTagger(
        hidden_size=4,
        bidirectional=bidirectional,
        skip=skip,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger.fit(X, y)
    assert tagger.output_weights_.shape[0] == 4 * (1 + bidirectional) + 2 * skip
    inputs = onnx_inputs(X)
    label, proba = _session(to_onnx(tagger)).run(None, inputs)
    _assert_tagger_parity(tagger, label, proba, X, inputs["sequence_lens"])
    X3 = np.random.RandomState(2).normal(size=(20, 6, 2))
    session = _session(to_onnx(tagger, sequence_lens=False, target_opset=12))
    label, proba = session.run(None, {"X": X3.astype(np.float32)})
    _assert_tagger_parity(tagger, label, proba, X3, np.full(len(X3), 6))


@pytest.mark.parametrize("readout, patch_size", [("last", 1), ("mean_max", 3)])
@pytest.mark.parametrize("sequence_lens", [True, False])
def test_many_to_one_skip_matches(readout, patch_size, sequence_lens):
    """A many-to-one network's skip (the inputs of the last real steps, read
    before patching) exports: a fitted classifier given a skip of 3 steps
    and random head rows for it."""
    X, y = _data(n_timesteps=7)
    clf = _fit(
        _ragged(X),
        y,
        hidden_size=4,
        readout=readout,
        patch_size=patch_size,
        max_iter=5,
    )
    rng = np.random.RandomState(0)
    n_inputs = clf._network.n_inputs
    clf._network.skip = 3
    clf.output_weights_ = np.vstack(
        [clf.output_weights_, rng.normal(size=(3 * n_inputs, 2))]
    )
    X_test = _ragged(_data(n_samples=40, seed=1)[0]) if sequence_lens else X[:30]
    session = _session(to_onnx(clf, sequence_lens=sequence_lens))
    inputs = onnx_inputs(X_test)
    if not sequence_lens:
        del inputs["sequence_lens"]
    label, proba = session.run(None, inputs)
    assert_allclose(proba, clf.predict_proba(X_test), rtol=0, atol=1e-5)
    assert_array_equal(label, clf.predict(X_test))


@pytest.mark.parametrize("target_opset", [{"ai.onnx.ml": 1}, {"": None}, {}])
def test_to_onnx_dict_without_main_opset_uses_the_default(target_opset):
    """skl2onnx fails on a dict without the domain '' ("'>=' not supported
    between NoneType and int"); it gets skl2onnx's default, as None does."""
    X, y = _regression_data()
    reg = LSTMSequenceRegressor(hidden_size=3, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    model = to_onnx(reg, target_opset=target_opset)
    assert model.opset_import[0].version == skl2onnx.get_latest_tested_opset_version()
    (got,) = ort.InferenceSession(model.SerializeToString()).run(None, onnx_inputs(X))
    assert_allclose(got, reg.predict(X), rtol=1e-4, atol=1e-4 * reg.target_scale_[0])


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex64, None, "x", bool])
def test_onnx_inputs_refuse_a_dtype_that_is_not_a_float(dtype):
    """An integer dtype would truncate the steps (and 1e10 to int32 would
    warn "invalid value encountered in cast")."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TypeError, match="dtype must be a floating-point dtype"):
            onnx_inputs(np.full((2, 3), 1e10), dtype=dtype)


def test_unpad_reads_no_lengths_and_object_arrays_of_ints():
    assert unpad(np.zeros((0, 3)), []) == []
    out = unpad(np.arange(6).reshape(2, 3), np.array([1, 2], dtype=object))
    assert [o.tolist() for o in out] == [[0], [3, 4]]
    with pytest.raises(ValueError, match="beyond int64"):
        unpad(np.zeros((2, 3)), np.array([2**70, 1], dtype=object))
    with pytest.raises(TypeError, match="must hold integers"):
        unpad(np.zeros((2, 3)), np.array([None, 1], dtype=object))


def _fitted_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: (LSTMSequenceRegressor(), X, y * 1e300), "target_mean_"),
        (lambda X, y: (LSTMSequenceRegressor(), X, y * 1e-300), "target_scale_"),
        (lambda X, y: (LSTMSequenceRegressor(), X * 1e300, y), r"_encoder\.mean"),
        (lambda X, y: (LSTMSequenceRegressor(), X * 1e-300, y), r"_encoder\.std"),
        (
            lambda X, y: (LSTMSequenceClassifier(), X * 1e-300, y > 0),
            r"_encoder\.std",
        ),
        (
            lambda X, y: (LSTMSequenceTagger(), X * 1e-300, X[:, :, 0] > 0),
            r"_encoder\.std",
        ),
    ],
)
def test_to_onnx_refuses_models_float32_cannot_hold(make, match):
    """The graph computes in float32: a model fitted on steps or targets of
    1e300 or 1e-300 would give inf, NaN or 0 (probabilities 0.4 off)."""
    X = np.random.RandomState(0).normal(size=(30, 5, 2))
    est, X, y = make(X, X[:, 0, 0] - X[:, -1, 1])
    _fitted_quietly(est.set_params(hidden_size=3, max_iter=1, random_state=0), X, y)
    with pytest.raises(ValueError, match=f"float32 graph.*{match}.*cannot represent"):
        to_onnx(est)


@pytest.mark.parametrize("window_norm", ["last", "mean"])
def test_window_norm_graph_reads_steps_of_1e19(window_norm):
    """The window's standard deviation is computed in units of its largest
    deviation: their squares (beyond 1.8e19) overflow float32."""
    X = np.random.RandomState(0).normal(size=(30, 5, 2))
    reg = LSTMSequenceRegressor(
        hidden_size=3, window_norm=window_norm, max_iter=2, random_state=0
    )
    _fitted_quietly(reg, X, X[:, 0, 0] - X[:, -1, 1])
    session = _session(to_onnx(reg))
    for scale in [1.0, 1e19, 1e30]:
        X_big = X * scale
        (got,) = session.run(None, onnx_inputs(X_big))
        assert np.isfinite(got).all()
        assert_allclose(got, reg.predict(X_big), rtol=1e-4)


@pytest.mark.parametrize("window_norm", ["last", None])
@pytest.mark.parametrize("form", ["3-D", "ragged list"])
def test_linear_model_matches(window_norm, form):
    """The regressor's linear model (``linear``), read from the raw inputs
    of the last steps, zeros before the first step of a short sequence; two
    targets (a direct forecast)."""
    series = np.sin(np.arange(200) / 4) + np.arange(200) / 40
    X, y = make_windows(series, 10, 2)
    reg = LSTMSequenceRegressor(
        hidden_size=3, window_norm=window_norm, linear=True, max_iter=3, random_state=0
    )
    _fitted_quietly(reg, X, y)
    assert reg.linear_coef_ is not None
    X_test = X[::7, :, None]
    if form == "ragged list":
        X_test = [x[-(4 + i % 7) :] for i, x in enumerate(X_test)]
    (got,) = _session(to_onnx(reg)).run(None, onnx_inputs(X_test))
    assert_allclose(got, reg.predict(X_test), rtol=1e-4, atol=1e-4)
