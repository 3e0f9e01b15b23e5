"""ONNX export: onnxruntime gives predict_proba and predict of the estimator."""

import itertools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_lstm import LSTMSequenceClassifier
from sklearn_lstm.onnx import onnx_inputs, register_converters, to_onnx

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


VARIANTS = list(itertools.product(["last", "mean", "max"], [False, True], [1, 2]))


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


@pytest.mark.parametrize("readout", ["mean", "max"])
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


def test_variants_without_a_converter_say_so():
    X, y = _data(n_samples=20)
    clf = LSTMSequenceClassifier(hidden_size=4, patch_size=2, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(NotImplementedError, match="patch_size=2"):
        to_onnx(clf)


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
