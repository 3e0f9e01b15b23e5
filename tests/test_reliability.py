"""Reliability: messy inputs, extreme numbers, determinism, threads and memory.

Users feed the estimators messy data, long sequences and untrusted model
files. Nothing may crash with the wrong error, give a silently wrong answer or
lose a trained model:

* every bad input raises ``ValueError`` or ``TypeError`` naming the problem,
  and the estimator that raised is left exactly as it was;
* extreme magnitudes, very long sequences and diverging learning rates end
  with finite answers or a clear error;
* the same ``random_state`` gives bit-identical models, in one process or in
  parallel workers, and concurrent predictions are exact;
* training memory grows linearly with the sequence length.

Every test runs on every public estimator (``estimator_case`` in
``conftest.py``). Inputs that only make sense for one estimator live in the
tables below, keyed by the case name: a new estimator joins by adding its line
to each table, and ``test_tables_cover_every_estimator`` fails until it does.
"""

import concurrent.futures
import copy
import pickle
import threading
import tracemalloc
import warnings
from collections import namedtuple

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

import sklearn_lstm
from sklearn_lstm import InconsistentVersionWarning

# Short fits on purpose stop at max_iter; the tests of the warning itself use
# pytest.warns or record warnings, which see it regardless of this filter.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # RNNBinaryAdder's batch_size=32 is clipped on the tiny valid inputs.
    pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_FITTED = {}


def _fitted(case):
    """A fitted copy of the case's estimator (fitted once per module)."""
    if case.name not in _FITTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _FITTED[case.name] = case.make_estimator().fit(case.X, case.y)
    return copy.deepcopy(_FITTED[case.name])


def _outputs(est, X, case_name):
    """Every prediction method of the estimator on ``X``, by method name."""
    return {m: getattr(est, m)(X) for m in OUTPUT_METHODS[case_name]}


def _assert_same_outputs(got, expected):
    assert set(got) == set(expected)
    for method, value in expected.items():
        assert got[method].dtype == value.dtype, method
        _assert_identical(got[method], value, method)


def _assert_identical(a, b, path):
    """``a`` and ``b`` hold the same values, bit for bit for numeric arrays."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        if a.dtype.kind == "O":
            assert_array_equal(a, b, err_msg=path)
        else:
            assert a.tobytes() == b.tobytes(), path
    elif isinstance(a, np.random.RandomState):
        _assert_identical(a.get_state(), b.get_state(), path + ".get_state()")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _assert_identical(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for k, (u, v) in enumerate(zip(a, b)):
            _assert_identical(u, v, f"{path}[{k}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _assert_identical(vars(a), vars(b), path)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _set(X, index, value, dtype=float):
    """A copy of ``X`` as ``dtype`` with ``X[index] = value``."""
    X = np.array(X, dtype=dtype)
    X[index] = value
    return X


# ---------------------------------------------------------------------------
# Per-estimator tables
# ---------------------------------------------------------------------------

CLF, ADDER = "LSTMSequenceClassifier", "RNNBinaryAdder"

OUTPUT_METHODS = {
    CLF: ["predict", "predict_proba", "predict_log_proba", "transform"],
    ADDER: ["predict", "predict_bit_proba", "hidden_states"],
}
"""Every method that predicts from ``X`` alone."""

PROBA_METHOD = {CLF: "predict_proba", ADDER: "predict_bit_proba"}

Bad = namedtuple(
    "Bad",
    ["make", "match", "methods", "error", "params", "kwargs", "starts"],
    defaults=[("fit", "predict"), ValueError, {}, {}, None],
)
"""A bad input: ``make(X, y)`` gives the bad ``(X, y)`` from the case's data.

Each of ``methods`` is tried: ``"fit"`` (from an unfitted and from a fitted
estimator unless ``starts`` says otherwise), ``"partial_fit"`` and ``"score"``
(fitted), ``"predict"`` (every method of ``OUTPUT_METHODS``, fitted). Each call
must raise ``error`` with a message matching ``match``. ``params`` are set
before the call (bad hyper-parameters), ``kwargs`` (or ``kwargs(X, y)``)
passed to it.
"""

NUMBER_ERRORS = (ValueError, TypeError)

COMMON_BAD = {
    "inf": Bad(lambda X, y: (_set(X, (0, 0), np.inf), y), "infinity"),
    "minus_inf": Bad(lambda X, y: (_set(X, (1, 1), -np.inf), y), "infinity"),
    "empty": Bad(lambda X, y: (X[:0], y[:0]), "0 sample"),
    "4d_array": Bad(
        lambda X, y: (X.reshape(X.shape + (1,) * (4 - X.ndim)), y), "4-D|dim 4"
    ),
    "strings": Bad(
        lambda X, y: (np.full(X.shape, "abc"), y),
        "string|numbers",
        error=NUMBER_ERRORS,
    ),
    "objects": Bad(
        lambda X, y: (_set(X, (0, 0), {}, object), y), "dict", error=TypeError
    ),
    "complex": Bad(lambda X, y: (X + 1j, y), "Complex data not supported"),
    "y_wrong_length": Bad(
        lambda X, y: (X, y[:-1]),
        "inconsistent numbers of samples",
        methods=("fit", "score"),
    ),
    "wrong_n_features": Bad(
        lambda X, y: (np.concatenate([X, X[..., :1]], axis=-1), y),
        r"X has \d+ features",
        methods=("predict", "partial_fit"),
    ),
    "negative_sample_weight": Bad(
        lambda X, y: (X, y),
        "Negative values",
        methods=("fit",),
        kwargs=lambda X, y: {"sample_weight": -np.ones(len(y))},
    ),
    "zero_sample_weights": Bad(
        lambda X, y: (X, y),
        "at least one non-zero",
        methods=("fit",),
        kwargs=lambda X, y: {"sample_weight": np.zeros(len(y))},
    ),
    "nan_sample_weight": Bad(
        lambda X, y: (X, y),
        "sample_weight contains NaN",
        methods=("fit",),
        kwargs=lambda X, y: {"sample_weight": _set(np.ones(len(y)), 0, np.nan)},
    ),
    "sample_weight_wrong_length": Bad(
        lambda X, y: (X, y),
        "sample_weight.shape",
        methods=("fit",),
        kwargs=lambda X, y: {"sample_weight": np.ones(len(y) - 1)},
    ),
    "hidden_size_zero": Bad(
        lambda X, y: (X, y), "hidden_size", methods=("fit",), params={"hidden_size": 0}
    ),
    "hidden_size_negative": Bad(
        lambda X, y: (X, y), "hidden_size", methods=("fit",), params={"hidden_size": -3}
    ),
    "unknown_solver": Bad(
        lambda X, y: (X, y), "solver", methods=("fit",), params={"solver": "lbfgs"}
    ),
}


def _ragged(X, empty=None):
    """``X`` as a list of sequences of lengths ``3 + i % 3``, sequence ``empty``
    (if given) of length 0."""
    seqs = [x[: 3 + i % 3] for i, x in enumerate(X)]
    if empty is not None:
        seqs[empty] = seqs[empty][:0]
    return seqs


def _mixed_n_features(X):
    """``X`` as a list of equal-length sequences, the first with one feature."""
    return [x[:, :1] if i == 0 else x for i, x in enumerate(X)]


def _one_class(X, y):
    return X, np.full(len(y), y[0])


def _unseen_label(X, y):
    y = y.copy().astype(object)
    y[0] = "never seen"
    return X, y


def _big_ints(value):
    """Operands with one Python int ``value`` beyond int64, as an object array."""
    return lambda X, y: (_set(X, (0, 0), value, object), y)


BAD_INPUTS = {
    CLF: {
        **COMMON_BAD,
        "nan_in_some_features": Bad(
            lambda X, y: (_set(X, (0, 2, 0), np.nan), y),
            "NaN in some but not all features",
        ),
        "nan_step_inside": Bad(
            lambda X, y: (_set(X, (0, 2), np.nan), y), "NaN before the end"
        ),
        "nan_first_step": Bad(
            lambda X, y: (_set(X, (1, 0), np.nan), y), "NaN before the end"
        ),
        "all_nan_sequence": Bad(
            lambda X, y: (_set(X, 0, np.nan), y), "zero-length sequences"
        ),
        "empty_sequence_in_list": Bad(
            lambda X, y: (_ragged(X, empty=0), y), r"X\[0\] has zero length"
        ),
        "zero_timesteps": Bad(lambda X, y: (X[:, :0], y), "time step|timestep"),
        "list_mixed_n_features": Bad(
            lambda X, y: (_mixed_n_features(X), y),
            "features|inhomogeneous",
        ),
        "ragged_mixed_n_features": Bad(
            lambda X, y: ([x[:, :1] if i else x for i, x in enumerate(_ragged(X))], y),
            "same number of features",
        ),
        "one_sample": Bad(
            lambda X, y: (X[:1], y[:1]), "at least 2 classes", methods=("fit",)
        ),
        "y_nan": Bad(
            lambda X, y: (X, _set(y == "pos", 3, np.nan)), "y contains NaN", ("fit",)
        ),
        "one_class": Bad(_one_class, "at least 2 classes", methods=("fit",)),
        "continuous_y": Bad(
            lambda X, y: (X, X[:, 0, 0]), "Unknown label type", methods=("fit",)
        ),
        "unseen_label_partial_fit": Bad(
            _unseen_label, "not seen in classes_", methods=("partial_fit",)
        ),
        "partial_fit_classes_miss_a_label": Bad(
            lambda X, y: (X, y),
            "not seen in classes_",
            methods=("partial_fit",),
            kwargs={"classes": ["pos"]},
            starts=("unfitted",),
        ),
        "partial_fit_without_classes": Bad(
            lambda X, y: (X, y),
            "classes must be passed",
            methods=("partial_fit",),
            starts=("unfitted",),
        ),
    },
    ADDER: {
        **COMMON_BAD,
        "nan": Bad(lambda X, y: (_set(X, (0, 1), np.nan), y), "NaN"),
        "y_nan": Bad(lambda X, y: (X, _set(y, 3, np.nan)), "y contains NaN", ("fit",)),
        "python_int_2**70": Bad(_big_ints(2**70), "too large for int64"),
        "python_int_-2**70": Bad(_big_ints(-(2**70)), "too large for int64"),
        "list_with_2**70": Bad(
            lambda X, y: ([[2**70, 1]] + X[1:].tolist(), y), "too large for int64"
        ),
        "uint64_above_int64": Bad(
            lambda X, y: (_set(X, (0, 0), 2**63 + 5, np.uint64), y),
            "too large for int64",
        ),
        "float_too_large": Bad(
            lambda X, y: (_set(X, (0, 0), 1e300), y), "too large for int64"
        ),
        "y_too_large": Bad(
            lambda X, y: (X, _set(y, 0, 2**70, object)),
            "too large for int64",
            methods=("fit",),
        ),
        "ragged_operands": Bad(
            lambda X, y: ([[1, 2], [3]] * (len(y) // 2), y[: len(y) // 2 * 2]),
            "inhomogeneous",
        ),
        "zero_operands": Bad(lambda X, y: (X[:, :0], y), "0 feature"),
        "string_targets": Bad(
            lambda X, y: (X, y.astype(str)), "numbers", ("fit",), TypeError
        ),
    },
}


def _sequences_of(X, lengths):
    """Rows of ``X`` cut to ``lengths``, as a list."""
    return [x[:n] for x, n in zip(X, lengths)]


def _trailing_nan(X):
    """``X`` with the last steps of some sequences set to NaN (padding)."""
    X = np.array(X, dtype=float)
    for i in range(0, len(X), 2):
        X[i, 1 + i % (X.shape[1] - 1) :] = np.nan
    return X


VALID_INPUTS = {
    CLF: {
        "trailing_nan_padding": lambda X, y: (_trailing_nan(X), y),
        "ragged_list": lambda X, y: (_ragged(X), y),
        "ragged_univariate_list": lambda X, y: ([x[:, 0] for x in _ragged(X)], y),
        "one_step_sequences": lambda X, y: (X[:, :1], y),
        "univariate_2d": lambda X, y: (X[:, :, 0], y),
        "float32": lambda X, y: (X.astype(np.float32), y),
        "integers": lambda X, y: ((10 * X).astype(np.int64), y),
        "tuple_of_lists": lambda X, y: (tuple(x.tolist() for x in X), y),
    },
    ADDER: {
        "one_sample": lambda X, y: (X[:1], y[:1]),
        "python_ints": lambda X, y: (X.tolist(), y.tolist()),
        "negative": lambda X, y: (-X, -y),
        "uint64": lambda X, y: (X.astype(np.uint64), y.astype(np.uint64)),
        "int64_extremes": lambda X, y: (
            np.array([[2**62, -(2**62)], [2**63 - 1, 0]] * 3),
            np.array([0, 2**63 - 1] * 3),
        ),
        "fractions": lambda X, y: (X / 4, y / 4),
        "float32": lambda X, y: (X.astype(np.float32), y),
        "booleans": lambda X, y: (X > 10, (X > 10).sum(axis=1)),
    },
}
"""Messy inputs that are valid: fit and every prediction method must work."""

EXTREME_INPUTS = {
    CLF: {
        "1e6": lambda X, y: (X * 1e6, y),
        "1e-6": lambda X, y: (X * 1e-6, y),
    },
    ADDER: {
        "2**40": lambda X, y: (X * 2**40, y * 2**40),
        "2**-20": lambda X, y: (X * 2.0**-20, y * 2.0**-20),
    },
}
"""Inputs of extreme magnitude that must train without overflow."""


def _long_sequences():
    rng = np.random.RandomState(0)
    return rng.normal(size=(4, 10_000, 2)), np.array(["a", "b", "a", "b"])


def _widest_operands():
    rng = np.random.RandomState(0)
    X = rng.randint(-(2**61), 2**61, size=(8, 2), dtype=np.int64)
    return X, X.sum(axis=1)


LONGEST_INPUTS = {CLF: _long_sequences, ADDER: _widest_operands}
"""The longest sequences each estimator reads (the adder reads int64 bits)."""

DIVERGING = {
    CLF: ({"solver": "sgd", "clip_norm": None}, lambda X, y: (X * 1e3, y)),
    ADDER: ({"solver": "sgd", "clip_norm": None}, lambda X, y: (X, y)),
}
"""Settings and data on which a huge ``learning_rate`` makes training diverge."""

READS_VARIABLE_LENGTH = {CLF: True, ADDER: False}
"""Whether ``X`` may hold sequences of different lengths (lists, NaN padding)."""

GRID = {
    CLF: {"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]},
    ADDER: {"hidden_size": [4, 8], "learning_rate": [0.05, 0.2]},
}

TABLES = {
    "OUTPUT_METHODS": OUTPUT_METHODS,
    "PROBA_METHOD": PROBA_METHOD,
    "BAD_INPUTS": BAD_INPUTS,
    "VALID_INPUTS": VALID_INPUTS,
    "EXTREME_INPUTS": EXTREME_INPUTS,
    "LONGEST_INPUTS": LONGEST_INPUTS,
    "DIVERGING": DIVERGING,
    "GRID": GRID,
    "READS_VARIABLE_LENGTH": READS_VARIABLE_LENGTH,
}


def test_tables_cover_every_estimator(estimator_case):
    missing = [
        name for name, table in TABLES.items() if estimator_case.name not in table
    ]
    assert not missing, f"add {estimator_case.name} to {missing}"


# ---------------------------------------------------------------------------
# Bad inputs: the right error, and the estimator left as it was
# ---------------------------------------------------------------------------

_DEFAULT_STARTS = {
    "fit": ("unfitted", "fitted"),
    "partial_fit": ("fitted",),
    "predict": ("fitted",),
    "score": ("fitted",),
}


def _battery():
    for case_name, table in BAD_INPUTS.items():
        for bad_name, bad in table.items():
            for method in bad.methods:
                for start in bad.starts or _DEFAULT_STARTS[method]:
                    yield pytest.param(
                        case_name,
                        bad_name,
                        method,
                        start,
                        id=f"{case_name}-{bad_name}-{method}-{start}",
                    )


@pytest.mark.parametrize(
    "estimator_case, bad_name, method, start",
    list(_battery()),
    indirect=["estimator_case"],
)
def test_bad_input_raises_and_leaves_estimator_alone(
    estimator_case, bad_name, method, start
):
    case = estimator_case
    bad = BAD_INPUTS[case.name][bad_name]
    X_bad, y_bad = bad.make(case.X, case.y)
    fitted = start == "fitted"
    est = _fitted(case) if fitted else case.make_estimator()
    if fitted:
        expected = _outputs(est, case.X, case.name)
    params = est.get_params()
    est.set_params(**bad.params)
    before = copy.deepcopy(est.__dict__)

    if method == "predict":  # every prediction method must raise, each alone
        for name in OUTPUT_METHODS[case.name]:
            with pytest.raises(bad.error, match=bad.match):
                getattr(est, name)(X_bad)
    else:
        kwargs = bad.kwargs(X_bad, y_bad) if callable(bad.kwargs) else bad.kwargs
        with pytest.raises(bad.error, match=bad.match):
            getattr(est, method)(X_bad, y_bad, **kwargs)

    _assert_identical(est.__dict__, before, "est.__dict__")
    if fitted:
        est.set_params(**params)
        _assert_same_outputs(_outputs(est, case.X, case.name), expected)
    else:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)


@pytest.mark.parametrize(
    "estimator_case, valid_name",
    [(case, valid) for case, table in VALID_INPUTS.items() for valid in table],
    indirect=["estimator_case"],
)
def test_messy_but_valid_input_works(estimator_case, valid_name):
    case = estimator_case
    X, y = VALID_INPUTS[case.name][valid_name](case.X, case.y)
    est = case.make_estimator().fit(X, y)
    for name, out in _outputs(est, X, case.name).items():
        assert len(out) == len(y), name
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), name


def test_trailing_nan_padding_equals_ragged_list(estimator_case):
    """Padding is read as the end of the sequence, in fit and in predict."""
    case = estimator_case
    if not READS_VARIABLE_LENGTH[case.name]:
        pytest.skip(f"{case.name} does not read variable-length sequences")
    lengths = [3 + i % 3 for i in range(len(case.X))]
    seqs = _sequences_of(case.X, lengths)
    padded = np.full(case.X.shape, np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    a = case.make_estimator().fit(padded, case.y)
    b = case.make_estimator().fit(seqs, case.y)
    for p, q in zip(a._params, b._params):
        _assert_identical(p, q, "params")
    _assert_same_outputs(_outputs(a, seqs, case.name), _outputs(a, padded, case.name))


def test_predict_ignores_hyperparameters_changed_after_fit(estimator_case):
    """``predict`` reads the fitted weights, not ``hidden_size``/``n_layers``."""
    est = _fitted(estimator_case)
    expected = _outputs(est, estimator_case.X, estimator_case.name)
    est.set_params(hidden_size=0, n_layers=0)  # as a bad grid point would
    _assert_same_outputs(_outputs(est, estimator_case.X, estimator_case.name), expected)


@pytest.mark.parametrize("change", [{"hidden_size": 3}, {"n_layers": 2}])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_continued_training_refuses_another_architecture(
    estimator_case, change, method
):
    """``warm_start`` and ``partial_fit`` never train weights of another shape
    than the parameters ask for: they raise and leave the model alone."""
    case = estimator_case
    est = _fitted(case).set_params(warm_start=True, **change)
    before = copy.deepcopy(est.__dict__)
    with pytest.raises(ValueError, match="Cannot continue training a network"):
        getattr(est, method)(case.X, case.y)
    _assert_identical(est.__dict__, before, "est.__dict__")
    est.set_params(warm_start=False).fit(case.X, case.y)
    assert len(est.input_weights_) == est.n_layers
    assert est.recurrent_weights_[0].shape[0] == est.hidden_size


# ---------------------------------------------------------------------------
# Numerics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator_case, magnitude",
    [(case, m) for case, table in EXTREME_INPUTS.items() for m in table],
    indirect=["estimator_case"],
)
def test_extreme_magnitudes_train_without_overflow(estimator_case, magnitude):
    case = estimator_case
    X, y = EXTREME_INPUTS[case.name][magnitude](case.X, case.y)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        est = case.make_estimator().fit(X, y)
        outputs = _outputs(est, X, case.name)
    assert all(np.isfinite(p).all() for p in est._params)
    assert np.isfinite(est.loss_curve_).all()
    for name, out in outputs.items():
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), name
    proba = outputs[PROBA_METHOD[case.name]]
    assert ((proba >= 0) & (proba <= 1)).all()


def test_longest_sequences_train_and_predict(estimator_case):
    """10,000 time steps for the classifier; 64-bit operands for the adder."""
    case = estimator_case
    X, y = LONGEST_INPUTS[case.name]()
    est = case.make_estimator().set_params(hidden_size=4, max_iter=2)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        est.fit(X, y)
        proba = getattr(est, PROBA_METHOD[case.name])(X)
    assert est.n_iter_ >= 1
    assert all(np.isfinite(p).all() for p in est._params)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert len(est.predict(X)) == len(y)


@pytest.mark.parametrize("learning_rate", [1e6, 1e300])
@pytest.mark.parametrize("start", ["unfitted", "fitted"])
def test_diverging_training_raises_or_warns(estimator_case, learning_rate, start):
    """A diverging fit ends with a ValueError (estimator left as it was) or a
    ConvergenceWarning (finite predictions), never with NaN."""
    case = estimator_case
    params, make_data = DIVERGING[case.name]
    X, y = make_data(case.X, case.y)
    est = _fitted(case) if start == "fitted" else case.make_estimator()
    est.set_params(**params, learning_rate=learning_rate, max_iter=5)
    before = copy.deepcopy(est.__dict__)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert "diverged" in str(exc) or "not finite" in str(exc), str(exc)
            _assert_identical(est.__dict__, before, "est.__dict__")
            if start == "unfitted":
                with pytest.raises(NotFittedError):
                    check_is_fitted(est)
            return
    assert any(issubclass(w.category, ConvergenceWarning) for w in record)
    assert all(np.isfinite(p).all() for p in est._params)
    for name, out in _outputs(est, case.X, case.name).items():
        if out.dtype.kind == "f":
            assert not np.isnan(out).any(), name


def test_diverging_training_stopped_by_patience_is_reported(estimator_case):
    """When patience (``n_iter_no_change``) stops a diverged fit, the user is
    still told: a loss far above that of one sane epoch is no converged model."""
    case = estimator_case
    params, make_data = DIVERGING[case.name]
    X, y = make_data(case.X, case.y)
    sane_loss = case.make_estimator().set_params(max_iter=1).fit(X, y).loss_
    est = case.make_estimator().set_params(**params, learning_rate=1e6, max_iter=200)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert "diverged" in str(exc) or "not finite" in str(exc), str(exc)
            return
    assert est.n_iter_ < 200, "patience did not stop it: not the case tested here"
    assert est.loss_ > 1000 * sane_loss, "it did not diverge: not the case tested here"
    assert any(issubclass(w.category, ConvergenceWarning) for w in record), (
        f"the loss went from {est.loss_curve_[0]:.3g} to {est.loss_:.3g} "
        f"(one sane epoch: {sane_loss:.3g}) and fit said nothing"
    )


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_random_state_gives_identical_models(estimator_case, dtype):
    case = estimator_case
    X = case.X.astype(dtype)
    a = case.make_estimator().fit(X, case.y)
    b = case.make_estimator().fit(X, case.y)
    assert len(a._params) == len(b._params)
    for p, q in zip(a._params, b._params):
        assert p.dtype == dtype
        _assert_identical(p, q, "params")
    assert a.loss_curve_ == b.loss_curve_
    _assert_same_outputs(_outputs(a, X, case.name), _outputs(b, X, case.name))


def test_grid_search_is_the_same_in_parallel(estimator_case):
    case = estimator_case
    results = {}
    for n_jobs in (1, 2):
        search = GridSearchCV(
            case.make_estimator(), GRID[case.name], cv=2, n_jobs=n_jobs
        ).fit(case.X, case.y)
        results[n_jobs] = search
    serial, parallel = results[1], results[2]
    assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.best_params_ == parallel.best_params_
    for p, q in zip(serial.best_estimator_._params, parallel.best_estimator_._params):
        _assert_identical(p, q, "best_estimator_ params")


# ---------------------------------------------------------------------------
# Thread safety
# ---------------------------------------------------------------------------


def test_small_recurrent_products_run_blas_on_one_thread():
    """Small products stay on one BLAS thread (a busy second core would stall
    each of them); large ones keep BLAS's own thread count."""
    from threadpoolctl import threadpool_info

    from sklearn_lstm._base import _blas_threads

    def blas_threads():
        return {
            lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
        }

    default = blas_threads()
    with _blas_threads(200, [np.zeros((32, 128))]):  # digits-sized
        assert blas_threads() == {1}
    with _blas_threads(128, [np.zeros((256, 1024))]):
        assert blas_threads() == default
    assert blas_threads() == default


def test_concurrent_predictions_are_exact(estimator_case):
    case = estimator_case
    est = _fitted(case)
    X = case.X[: len(case.X) // 2]
    expected = _outputs(est, X, case.name)
    before = copy.deepcopy(est.__dict__)
    n_threads, n_rounds = 8, 15
    barrier = threading.Barrier(n_threads)

    def work():
        barrier.wait()  # start together
        return [_outputs(est, X, case.name) for _ in range(n_rounds)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(work) for _ in range(n_threads)]
        results = [f.result() for f in futures]
    for rounds in results:
        for outputs in rounds:
            _assert_same_outputs(outputs, expected)
    _assert_identical(est.__dict__, before, "est.__dict__")


# ---------------------------------------------------------------------------
# Persistence corner cases
# ---------------------------------------------------------------------------


def test_pickle_from_another_version_warns_and_still_predicts(
    estimator_case, monkeypatch
):
    est = _fitted(estimator_case)
    monkeypatch.setattr(sklearn_lstm._persistence, "__version__", "0.0.1")
    data = pickle.dumps(est)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        loaded = pickle.loads(data)
    X = estimator_case.X
    _assert_same_outputs(
        _outputs(loaded, X, estimator_case.name), _outputs(est, X, estimator_case.name)
    )


def test_skops_lists_only_this_package_types(estimator_case):
    skops_io = pytest.importorskip("skops.io")
    est = _fitted(estimator_case)
    untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(est))
    assert untrusted
    assert all(name.startswith("sklearn_lstm.") for name in untrusted), untrusted


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------


def _loss_grad_peak(est, n_timesteps, n_samples=4, seed=0):
    """Peak bytes traced during one ``_loss_grad`` on random sequences."""
    rng = np.random.RandomState(seed)
    dtype = est.output_weights_.dtype
    n_inputs, n_outputs = est.input_weights_[0].shape[0], est.output_weights_.shape[1]
    X = rng.normal(size=(n_samples, n_timesteps, n_inputs)).astype(dtype)
    shape = (n_samples,) if est._net.readout else (n_samples, n_timesteps)
    if n_outputs == 1:
        targets = rng.randint(0, 2, size=shape + (1,)).astype(dtype)
    else:
        targets = np.eye(n_outputs, dtype=dtype)[rng.randint(0, n_outputs, shape)]
    sample_weight = np.ones(n_samples, dtype=dtype)
    est._loss_grad(X, None, targets, sample_weight)  # warm up
    tracemalloc.start()
    try:
        est._loss_grad(X, None, targets, sample_weight)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_training_memory_grows_linearly_with_sequence_length(estimator_case):
    est = _fitted(estimator_case)
    peak = {T: _loss_grad_peak(est, T) for T in (200, 400, 800)}
    assert 1.5 < peak[400] / peak[200] < 2.5, peak
    assert 3 < peak[800] / peak[200] < 5, peak
