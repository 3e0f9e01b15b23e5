"""One record per public estimator: everything the shared tests need to know.

``CASES`` drives the common checks (``test_common.py``), persistence and the
reliability battery. A new estimator joins all of them with one
:class:`EstimatorCase` in ``CASES``: how to build a fast instance and its data,
which methods predict, and the inputs that only make sense for it.
"""

from collections import namedtuple

import numpy as np
import pandas as pd
from scipy import sparse

from sklearn_lstm import (
    LSTMLanguageModel,
    LSTMSequenceClassifier,
    LSTMSequenceRegressor,
    LSTMSequenceTagger,
    RNNBinaryAdder,
    SequenceNormalizer,
    SequenceStandardScaler,
)
from sklearn_lstm.datasets import make_addition


def _set(X, index, value, dtype=float):
    """A copy of ``X`` as ``dtype`` with ``X[index] = value``."""
    X = np.array(X, dtype=dtype)
    X[index] = value
    return X


# ---------------------------------------------------------------------------
# Inputs: the bad ones every estimator must refuse, and each estimator's own
# ---------------------------------------------------------------------------


Bad = namedtuple(
    "Bad",
    ["make", "match", "methods", "error", "params", "kwargs", "starts"],
    defaults=[("fit", "predict"), ValueError, {}, {}, None],
)
"""A bad input: ``make(X, y)`` gives the bad ``(X, y)`` from the case's data.

Each of ``methods`` is tried: ``"fit"`` (from an unfitted and from a fitted
estimator unless ``starts`` says otherwise), ``"partial_fit"`` and ``"score"``
(fitted), ``"predict"`` (every method of the case's ``output_methods``,
fitted). Each call must raise ``error`` with a message matching ``match``.
``params`` are set before the call (bad hyper-parameters), ``kwargs`` (or
``kwargs(X, y)``) passed to it.
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


def _weights(value, index=None):
    """``sample_weight`` of ones, as an object array, with ``value`` at
    ``index`` (everywhere if None)."""

    def kwargs(X, y):
        sw = np.ones(len(y), dtype=object)
        sw[slice(None) if index is None else index] = value
        return {"sample_weight": sw}

    return kwargs


# Weights: each problem has its own message.
_WEIGHT_BAD = {}
for _method in ("fit", "score"):
    _WEIGHT_BAD.update(
        {
            f"{_method}_sample_weight_{name}": Bad(
                lambda X, y: (X, y), match, methods=(_method,), error=error, kwargs=kw
            )
            for name, match, error, kw in [
                ("nan", "sample_weight contains NaN", ValueError, _weights(np.nan, 0)),
                (
                    "inf",
                    "sample_weight contains infinity",
                    ValueError,
                    _weights(np.inf, 1),
                ),
                ("none", "sample_weight contains None", ValueError, _weights(None, 2)),
                ("string", "must hold numbers", TypeError, _weights("heavy", 0)),
                (
                    "negative",
                    "Negative values in sample_weight",
                    ValueError,
                    _weights(-1e-300, 3),
                ),
                ("all_zero", "at least one non-zero", ValueError, _weights(0.0)),
                (
                    "wrong_length",
                    r"sample_weight\.shape",
                    ValueError,
                    lambda X, y: {"sample_weight": np.ones(len(y) + 1)},
                ),
                (
                    "2d",
                    r"sample_weight\.shape",
                    ValueError,
                    lambda X, y: {"sample_weight": np.ones((len(y), 1))},
                ),
            ]
        }
    )
COMMON_BAD.update({k: v for k, v in _WEIGHT_BAD.items() if k.startswith("fit_")})
# The scores of every estimator check their weights as fit does
# (scikit-learn's accuracy gives -1.0 for negative weights, its R² a number).
SCORE_WEIGHT_BAD = {k: v for k, v in _WEIGHT_BAD.items() if k.startswith("score_")}
ADDER_SCORE_BAD = SCORE_WEIGHT_BAD

# Integer parameters refuse booleans and sizes that cannot be allocated; every
# message names the parameter.
COMMON_BAD.update(
    {
        f"{param}={value!r}": Bad(
            lambda X, y: (X, y), param, methods=("fit",), params={param: value}
        )
        for param, value in [
            ("hidden_size", True),
            ("n_layers", True),
            ("max_iter", True),
            ("batch_size", True),
            ("n_iter_no_change", np.True_),
            ("hidden_size", 2.0),
            ("hidden_size", 10**12),
            ("n_layers", 10**9),
        ]
    }
)


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


# The classes of a first partial_fit, checked as the labels of fit are.
CLASSES_BAD = {
    f"partial_fit_classes_{name}": Bad(
        lambda X, y: (X, y),
        match,
        methods=("partial_fit",),
        error=error,
        kwargs={"classes": classes},
        starts=("unfitted",),
    )
    for name, classes, match, error in [
        ("strings_and_ints", ["neg", 1, "pos"], "classes mixes labels", ValueError),
        ("none", ["neg", None, "pos"], "classes contains None", ValueError),
        ("nan", [0.0, np.nan, 1.0], "classes contains NaN", ValueError),
        ("2d", [["neg", "pos"]], "classes must be 1-D", ValueError),
        ("single_string", "negpos", "got a single str", TypeError),
        (
            "int_beyond_int64",
            np.array([0, 1, 2**70], dtype=object),
            "neither int64 nor float64",
            ValueError,
        ),
    ]
}

CLASSES_BAD["partial_fit_empty_classes"] = Bad(
    lambda X, y: (X, y),
    "classes is empty",
    methods=("partial_fit",),
    kwargs={"classes": []},
    starts=("unfitted",),
)

CLASSIFIER_BAD = {
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
    "empty_list": Bad(
        lambda X, y: ([], None if y is None else y[:0]), "X is an empty list: 0 sample"
    ),
    "generator_of_sequences": Bad(
        lambda X, y: ((x for x in X), y), "got a generator", error=TypeError
    ),
    "dict": Bad(lambda X, y: ({"X": X}, y), "got a dict", error=TypeError),
    **(
        {  # where long doubles reach beyond float64 (x86)
            "longdouble_1e400": Bad(
                lambda X, y: (
                    _set(X, (0, 0), np.longdouble("1e400"), np.longdouble),
                    y,
                ),
                "too large for float64",
            )
        }
        if np.finfo(np.longdouble).max > np.finfo(np.float64).max
        else {}
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
        lambda X, y: (X, _set(y == "pos", 3, np.nan)),
        "y contains NaN",
        ("fit", "score"),
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
    "2d_other_n_timesteps": Bad(
        lambda X, y: (X[:, :-1, 0], y),
        "time steps",
        methods=("predict", "partial_fit"),
    ),
    "scalar_among_sequences": Bad(
        lambda X, y: ([X[0], 3.0, *X[2:]], y), r"X\[1\] is 3.0, not a sequence"
    ),
    "ragged_steps_in_a_sequence": Bad(
        lambda X, y: ([[[1.0, 2.0], [3.0]], *X[1:]], y),
        r"X\[0\] is not a rectangular array",
    ),
    "sparse_sequences": Bad(
        lambda X, y: ([sparse.csr_matrix(x) for x in X], y),
        r"Sparse data was passed for X\[0\]",
        error=TypeError,
    ),
    "y_strings_and_ints": Bad(
        lambda X, y: (X, _set(y, 0, 1, object)),
        "mixes labels",
        methods=("fit", "score"),
    ),
    "y_none": Bad(
        lambda X, y: (X, _set(y, 1, None, object)),
        "y contains None",
        methods=("fit", "partial_fit", "score"),
    ),
    "y_int_beyond_int64": Bad(
        lambda X, y: (X, _set(y == "pos", 0, 2**70, object)),
        "neither int64 nor float64",
        methods=("fit", "partial_fit", "score"),
    ),
    # score checks y as fit does (accuracy_score would count mixed or NaN
    # labels as wrong predictions, and blame y_true for None)
    "score_y_is_none": Bad(lambda X, y: (X, None), "score needs y", ("score",)),
    "score_ragged_y": Bad(
        lambda X, y: (X, [["pos"]] + [["pos", "neg"]] * (len(y) - 1)),
        "y is not a rectangular array",
        ("score",),
    ),
    "score_y_2d": Bad(
        lambda X, y: (X, np.column_stack([y, y])), "y must be 1-D", ("score",)
    ),
    **{
        f"class_weight_{name}": Bad(
            lambda X, y: (X, y),
            match,
            methods=("fit", "partial_fit"),
            error=error,
            params={"class_weight": {"pos": value, "neg": 1.0}},
        )
        for name, value, match, error in [
            ("negative", -1.0, "Negative values in class_weight", ValueError),
            ("nan", np.nan, "class_weight contains NaN", ValueError),
            ("inf", np.inf, "class_weight contains infinity", ValueError),
            ("none", None, "class_weight contains None", ValueError),
            ("string", "2", "class_weight must hold numbers", TypeError),
        ]
    },
    "class_weight_unknown_label": Bad(
        lambda X, y: (X, y),
        "not classes",
        methods=("fit",),
        params={"class_weight": {"pos": 2.0, "typo": 1.0}},
    ),
    **CLASSES_BAD,
    **SCORE_WEIGHT_BAD,
}

ADDER_BAD = {
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
        lambda X, y: (X, y.astype(str)), "numbers", ("fit", "score"), TypeError
    ),
    **ADDER_SCORE_BAD,
    "score_y_none": Bad(lambda X, y: (X, None), "needs y", methods=("score",)),
    "score_ragged_y": Bad(
        lambda X, y: (X, [[1]] + [[1, 2]] * (len(y) - 1)),
        "y is not a rectangular array",
        methods=("score",),
    ),
    "score_y_nan": Bad(
        lambda X, y: (X, _set(y, 0, np.nan)), "y contains NaN", methods=("score",)
    ),
    "fraction_bits=True": Bad(
        lambda X, y: (X, y),
        "fraction_bits",
        methods=("fit",),
        params={"fraction_bits": True},
    ),
    # The range of operands is [-2**63, 2**63) for ints and floats alike.
    "float_2.0**63": Bad(
        lambda X, y: (_set(X, (0, 0), 2.0**63), y),
        "too large for int64",
        methods=("predict",),
    ),
    "float_2.0**60_with_3_fraction_bits": Bad(
        lambda X, y: (_set(X, (0, 0), 2.0**60), y),
        "too large for int64",
        methods=("predict",),
        params={"fraction_bits": 3},
    ),
}


def _trailing_nan(X):
    """``X`` with the last steps of some sequences set to NaN (padding)."""
    X = np.array(X, dtype=float)
    for i in range(0, len(X), 2):
        X[i, 1 + i % (X.shape[1] - 1) :] = np.nan
    return X


def _object_array(seqs):
    """A 1-D object array holding one sequence per element."""
    out = np.empty(len(seqs), dtype=object)
    for i, x in enumerate(seqs):
        out[i] = x
    return out


CLASSIFIER_VALID = {
    "trailing_nan_padding": lambda X, y: (_trailing_nan(X), y),
    "ragged_list": lambda X, y: (_ragged(X), y),
    "ragged_univariate_list": lambda X, y: ([x[:, 0] for x in _ragged(X)], y),
    "one_step_sequences": lambda X, y: (X[:, :1], y),
    "univariate_2d": lambda X, y: (X[:, :, 0], y),
    "float32": lambda X, y: (X.astype(np.float32), y),
    "integers": lambda X, y: ((10 * X).astype(np.int64), y),
    "tuple_of_lists": lambda X, y: (tuple(x.tolist() for x in X), y),
    "pandas_series_of_sequences": lambda X, y: (pd.Series(_ragged(X)), y),
    "object_array_of_sequences": lambda X, y: (_object_array(_ragged(X)), y),
    "object_array_of_equal_sequences": lambda X, y: (_object_array(list(X)), y),
    "steps_of_1e308": lambda X, y: (np.sign(X) * 1e308, y),
}

ADDER_VALID = {
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
    "int_-2**63": lambda X, y: (_set(X, (0, 0), -(2**63), np.int64), y),
    "float_-2.0**63": lambda X, y: (_set(X, (0, 0), -(2.0**63)), y),
}


# Labels of an object array of numbers (a pandas column of objects):
# scikit-learn reads them as of an "unknown" type.
LABEL_VALID = {
    "object_int_labels": lambda X, y: (X, (y == "pos").astype(int).astype(object)),
    "object_bool_labels": lambda X, y: (X, (y == "pos").astype(object)),
}

CLASSIFIER_EXTREME = {
    "1e6": lambda X, y: (X * 1e6, y),
    "1e-6": lambda X, y: (X * 1e-6, y),
}

ADDER_EXTREME = {
    "2**40": lambda X, y: (X * 2**40, y * 2**40),
    "2**-20": lambda X, y: (X * 2.0**-20, y * 2.0**-20),
}


RHYMES = [
    "humpty dumpty sat on a wall,\nhumpty dumpty had a great fall.",
    "twinkle, twinkle, little star,\nhow I wonder what you are.",
    "baa, baa, black sheep,\nhave you any wool?",
    "jack and jill went up the hill\nto fetch a pail of water.",
    "hickory, dickory, dock,\nthe mouse ran up the clock.",
    "little bo-peep has lost her sheep,\nand can't tell where to find them.",
]


def _rhymes():
    """Six short rhymes, as a language model reads them (no ``y``)."""
    return list(RHYMES), None


def _one_long_text():
    """One text of 20,000 characters: many windows of truncated BPTT."""
    return [" ".join(RHYMES * 60)[:20_000]], None


def _with_text(index, value):
    """The texts with text ``index`` replaced by ``value``."""

    def make(X, y):
        X = list(X)
        X[index] = value
        return X, y

    return make


LM_BAD = {
    "single_string": Bad(
        lambda X, y: (X[0], y),
        "got a single str",
        methods=("fit", "predict", "partial_fit", "score"),
        error=TypeError,
    ),
    "empty": Bad(lambda X, y: ([], y), "0 texts", ("fit", "predict", "score")),
    "numbers": Bad(lambda X, y: ([1.5, 2.5], y), r"X\[0\] is a float", error=TypeError),
    "none_text": Bad(_with_text(2, None), r"X\[2\] is a NoneType", error=TypeError),
    "nan_text": Bad(_with_text(1, np.nan), r"X\[1\] is a float", error=TypeError),
    "bytes_text": Bad(_with_text(0, b"abc"), r"X\[0\] is a bytes", error=TypeError),
    "token_list_with_int": Bad(
        _with_text(0, ["a", 1]), "sequence holding a int", error=TypeError
    ),
    "2d_array": Bad(lambda X, y: (np.array([X[:2], X[2:4]]), y), "1-D list of texts"),
    "not_iterable": Bad(lambda X, y: (5, y), "got int", error=TypeError),
    "all_texts_empty": Bad(lambda X, y: (["", ""], y), "no tokens", ("fit",)),
    "dtype_int": Bad(
        lambda X, y: (X, y), "dtype must be", ("fit",), params={"dtype": np.int64}
    ),
    "tokenizer_returns_str": Bad(
        lambda X, y: (X, y),
        "tokenizer must return a list",
        ("fit",),
        TypeError,
        params={"tokenizer": str.strip},
    ),
    "bptt_zero": Bad(lambda X, y: (X, y), "bptt", ("fit",), params={"bptt": 0}),
    "unknown_level": Bad(
        lambda X, y: (X, y), "level", ("fit",), params={"level": "sentence"}
    ),
    **{
        name: COMMON_BAD[name]
        for name in ["hidden_size_zero", "hidden_size_negative", "unknown_solver"]
    },
    # Integer parameters refuse booleans, as everywhere in the package.
    **{
        f"{param}=True": Bad(
            lambda X, y: (X, y), param, methods=("fit",), params={param: True}
        )
        for param in ["min_count", "max_vocab", "embedding_size", "bptt", "batch_size"]
    },
    # The embedding table counts: 2**26 rows of ~30 tokens are 2e9 weights,
    # though the network (hidden_size=1) is small.
    "embedding_table_too_large": Bad(
        lambda X, y: (X, y),
        "embedding_size=67108864",
        methods=("fit",),
        params={"embedding_size": 2**26, "hidden_size": 1},
    ),
    "embedding_size=2**40": Bad(
        lambda X, y: (X, y),
        "embedding_size",
        methods=("fit",),
        params={"embedding_size": 2**40},
    ),
}

LM_VALID = {
    "token_lists": lambda X, y: ([list(x) for x in X], y),
    "tuple_of_texts": lambda X, y: (tuple(X), y),
    "numpy_str_array": lambda X, y: (np.array(X), y),
    "some_empty_texts": lambda X, y: (X + ["", ""], y),
    "unicode": lambda X, y: (X + ["\u00e9t\u00e9 \u00e0 l'\u00eele \u2603"], y),
    "one_character": lambda X, y: (["a"], y),
}


def _long_sequences():
    rng = np.random.RandomState(0)
    return rng.normal(size=(4, 10_000, 2)), np.array(["a", "b", "a", "b"])


def _widest_operands():
    rng = np.random.RandomState(0)
    X = rng.randint(-(2**61), 2**61, size=(8, 2), dtype=np.int64)
    return X, X.sum(axis=1)


def _sequences(n_samples=60, n_timesteps=6, n_features=2, seed=0):
    """Sequences whose class is the sign of the first feature at the first step."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    return X, np.where(X[:, 0, 0] > 0, "pos", "neg")


def _additions(n_samples=200, seed=0):
    return make_addition(n_samples, n_bits=6, random_state=seed)


# Inputs of the sequences every LSTM estimator reads, whatever its targets.
SEQUENCE_BAD = {
    name: CLASSIFIER_BAD[name]
    for name in [
        "nan_in_some_features",
        "nan_step_inside",
        "nan_first_step",
        "all_nan_sequence",
        "empty_sequence_in_list",
        "empty_list",
        "generator_of_sequences",
        "dict",
        *(["longdouble_1e400"] if "longdouble_1e400" in CLASSIFIER_BAD else []),
        "zero_timesteps",
        "list_mixed_n_features",
        "ragged_mixed_n_features",
    ]
}

REGRESSOR_BAD = {
    "y_nan": Bad(
        lambda X, y: (X, _set(y, 3, np.nan)), "y contains NaN", ("fit", "score")
    ),
    "y_inf": Bad(
        lambda X, y: (X, _set(y, 3, np.inf)), "y contains inf", ("fit", "score")
    ),
    "y_strings": Bad(
        lambda X, y: (X, np.full(len(y), "abc")),
        "string",
        ("fit", "score"),
        NUMBER_ERRORS,
    ),
    "y_3d": Bad(lambda X, y: (X, y.reshape(-1, 1, 1)), "y", ("fit",)),
    "partial_fit_other_n_outputs": Bad(
        lambda X, y: (X, np.column_stack([y, y])),
        "y has 2 targets",
        methods=("partial_fit",),
    ),
    "y_object_strings": Bad(
        lambda X, y: (X, _set(y, 2, "abc", object)),
        "y must hold numbers",
        ("fit", "partial_fit"),
        TypeError,
    ),
    "y_unicode_strings": Bad(
        lambda X, y: (X, y.astype(str)), "y must hold numbers", ("fit",), TypeError
    ),
    "y_none": Bad(
        lambda X, y: (X, _set(y, 1, None, object)),
        "y contains None",
        ("fit", "partial_fit"),
    ),
    "y_ragged_list": Bad(
        lambda X, y: (X, [[1.0, 2.0]] * (len(y) - 1) + [[1.0]]),
        "y is not a rectangular array",
        ("fit",),
    ),
    "y_complex": Bad(lambda X, y: (X, y + 1j), "Complex data not supported", ("fit",)),
    # Targets the model's dtype cannot hold: the predictions would be inf or 0.
    "float32_model_y_1e50": Bad(
        lambda X, y: (X.astype(np.float32), y * 1e50),
        "cannot represent.*float64",
        ("fit",),
    ),
    "float32_model_y_1e-50": Bad(
        lambda X, y: (X.astype(np.float32), y * 1e-50), "cannot represent", ("fit",)
    ),
    "y_subnormal": Bad(lambda X, y: (X, y * 1e-315), "cannot represent", ("fit",)),
    # Targets of 1/16 of the largest float and beyond: the predictions of a
    # model fitted on ±1.8e308 overflow.
    "y_largest_float": Bad(
        lambda X, y: (X, np.sign(y) * np.finfo(np.float64).max),
        "cannot represent",
        ("fit",),
    ),
    "y_constant_1e308": Bad(
        lambda X, y: (X, np.full(len(y), 1e308)), "cannot represent", ("fit",)
    ),
    "float32_model_y_3e38": Bad(
        lambda X, y: (X.astype(np.float32), np.sign(y) * 3e38),
        "cannot represent",
        ("fit",),
    ),
    # Continued training keeps the scaling of the first fit: targets 1e300
    # times larger would overflow in the squared error.
    "partial_fit_y_1e300": Bad(
        lambda X, y: (X, y * 1e300),
        "standardized by the fitted scaling",
        methods=("partial_fit",),
    ),
    "warm_start_y_1e300": Bad(
        lambda X, y: (X, y * 1e300),
        "standardized by the fitted scaling",
        methods=("fit",),
        params={"warm_start": True},
        starts=("fitted",),
    ),
    **SCORE_WEIGHT_BAD,
}

REGRESSOR_VALID = {
    **CLASSIFIER_VALID,
    "one_sample": lambda X, y: (X[:1], y[:1]),
    "constant_y": lambda X, y: (X, np.full(len(y), 3.0)),
    "two_targets": lambda X, y: (X, np.column_stack([y, -2 * y])),
    "integer_y": lambda X, y: (X, np.rint(10 * y).astype(np.int64)),
    "y_column": lambda X, y: (X, y[:, None]),
}

REGRESSOR_EXTREME = {
    **CLASSIFIER_EXTREME,
    "y_1e9": lambda X, y: (X, y * 1e9),
    "y_1e-9": lambda X, y: (X, y * 1e-9),
    "y_1e200": lambda X, y: (X, y * 1e200),
    "y_1e300": lambda X, y: (X, y * 1e300),
    "y_1e-200": lambda X, y: (X, y * 1e-200),
    "y_1e300_shifted": lambda X, y: (X, 1e300 + 1e299 * y),
    "float32_y_1e30": lambda X, y: (X.astype(np.float32), y * 1e30),
    # constant up to rounding, but for deviations of 1e291: divided by their
    # standard deviation, not by 1 (their squares would overflow)
    "y_1e307_nearly_constant": lambda X, y: (X, 1e307 + 1e291 * y),
    # the largest targets accepted: predictions 16 times larger are finite
    "y_1e307": lambda X, y: (X, 1e307 * y / abs(y).max()),
}

# Steps near the float limits, given to predict of a model fitted on the
# case's data: finite outputs without an overflow warning (the network reads
# them bounded, see sklearn_lstm._validation.network_inputs).
SEQUENCE_PREDICT_INPUTS = {
    "steps_of_1e308": lambda X: np.sign(X) * 1e308,
    "all_1e308": lambda X: np.full(X.shape, 1e308),
    "all_-1e308": lambda X: np.full(X.shape, -1e308),
    "largest_float": lambda X: np.full(X.shape, np.finfo(np.float64).max),
    "alternating_1e308": lambda X: (
        np.where(np.arange(X.shape[2]) % 2, -1e308, 1e308) * np.ones(X.shape)
    ),
    "tiny": lambda X: X * 5e-324,
}

# Targets of these scales give the model of the unscaled targets, and
# predictions in their units (the scale is relative to their magnitude).
REGRESSOR_TARGET_SCALES = (1e-200, 1e-9, 1e200, 1e300)


def _label_list(X, y):
    """``X`` as a ragged list and ``y`` as one label array per sequence."""
    seqs = _ragged(X)
    return seqs, [labels[: len(x)] for x, labels in zip(seqs, y)]


TAGGER_BAD = {
    **SEQUENCE_BAD,
    "y_nan": Bad(
        lambda X, y: (X, _set(y == "pos", (3, 1), np.nan)),
        "y contains NaN",
        ("fit", "score"),
    ),
    "one_class": Bad(
        lambda X, y: (X, np.full(y.shape, "pos")), "at least 2 classes", ("fit",)
    ),
    "continuous_y": Bad(lambda X, y: (X, X[:, :, 0]), "Unknown label type", ("fit",)),
    "y_too_few_steps": Bad(
        lambda X, y: (X, y[:, :-1]), "labels for 5 time steps, but X has 6", ("fit",)
    ),
    "y_list_wrong_lengths": Bad(
        lambda X, y: (_ragged(X), [labels[:2] for labels in y[:-1]] + [y[-1]]),
        r"y\[0\] has 2 labels, but sequence 0 of X has 3",
        methods=("fit", "score"),
    ),
    "y_3d": Bad(lambda X, y: (X, y[:, :, None]), "got a 3-D array", ("fit",)),
    "unseen_label_partial_fit": Bad(
        _unseen_label, "not seen in classes_", methods=("partial_fit",)
    ),
    "y_strings_and_ints": Bad(
        lambda X, y: (X, _set(y, (0, 2), 1, object)),
        "mixes labels",
        methods=("fit", "score"),
    ),
    "y_list_strings_and_ints": Bad(
        lambda X, y: (
            X,
            [
                [1, *labels[1:]] if i == 3 else labels
                for i, labels in enumerate(y.tolist())
            ],
        ),
        "mixes labels",
        methods=("fit", "partial_fit", "score"),
    ),
    "y_ragged_list_strings_and_ints": Bad(
        lambda X, y: (
            _label_list(X, y)[0],
            [
                [0, *b[1:].tolist()] if i == 1 else b
                for i, b in enumerate(_label_list(X, y)[1])
            ],
        ),
        "mixes labels",
        methods=("fit",),
    ),
    "y_none": Bad(
        lambda X, y: (X, _set(y, (1, 0), None, object)),
        "y contains None",
        methods=("fit", "partial_fit", "score"),
    ),
    "y_int_beyond_int64": Bad(
        lambda X, y: (X, _set(y == "pos", (2, 1), 2**70, object)),
        "neither int64 nor float64",
        methods=("fit", "partial_fit", "score"),
    ),
    "y_list_tuple_label": Bad(
        lambda X, y: (
            X,
            [
                [(1, 2), *labels[1:]] if i == 0 else labels
                for i, labels in enumerate(y.tolist())
            ],
        ),
        "y is not a rectangular array",
        methods=("fit", "score"),
    ),
    "y_list_none": Bad(
        lambda X, y: (
            X,
            [
                [None, *labels[1:]] if i == 2 else labels
                for i, labels in enumerate(y.tolist())
            ],
        ),
        "y contains None",
        methods=("fit",),
    ),
    **CLASSES_BAD,
    "score_y_is_none": CLASSIFIER_BAD["score_y_is_none"],
    **SCORE_WEIGHT_BAD,
}

TAGGER_VALID = {
    **CLASSIFIER_VALID,
    **LABEL_VALID,
    "one_step_sequences": lambda X, y: (X[:, :1], y[:, :1]),
    "list_of_label_arrays": _label_list,
    "tuple_of_label_lists": lambda X, y: tuple(
        tuple(a.tolist() for a in part) for part in _label_list(X, y)
    ),
    "one_label_per_sequence": lambda X, y: (X, y[:, 0]),
    "integer_labels": lambda X, y: (X, (y == "pos").astype(int)),
    "padded_labels_are_ignored": lambda X, y: (
        _trailing_nan(X),
        np.where(np.isnan(_trailing_nan(X)[:, :, 0]), None, y),
    ),
}


def _regression_sequences(n_samples=60, n_timesteps=6, n_features=2, seed=0):
    """Sequences whose target is set by the first and the last steps."""
    X, _ = _sequences(n_samples, n_timesteps, n_features, seed)
    return X, 2 * X[:, 0, 0] - X[:, -1, 1]


def _tagged_sequences(n_samples=60, n_timesteps=6, n_features=2, seed=0):
    """Sequences labelled at each step by the sign of the running sum of the
    first feature: the tagger must carry a sum along."""
    X, _ = _sequences(n_samples, n_timesteps, n_features, seed)
    return X, np.where(np.cumsum(X[:, :, 0], axis=1) > 0, "pos", "neg")


def _long_regression_sequences():
    X, _ = _long_sequences()
    return X, X[:, 0, 0]


def _long_tagged_sequences():
    X, _ = _long_sequences()
    return X, np.where(X[:, :, 0] > 0, "pos", "neg")


EstimatorCase = namedtuple(
    "EstimatorCase",
    [
        "name",
        "make_estimator",
        "make_data",
        "output_methods",
        "proba_method",
        "variable_length",
        "bad_inputs",
        "valid_inputs",
        "extreme_inputs",
        "longest_input",
        "diverging",
        "grid",
        "array_input",
        "with_dtype",
        "sample_weight",
        "step_targets",
        "predict_inputs",
        "target_scales",
    ],
    defaults=[True, None, True, False, {}, ()],
)
"""Everything the shared tests know of one estimator.

name : the class name.
make_estimator : a fresh, fast, seeded instance.
make_data : ``() -> (X, y)``, small data it can learn from.
output_methods : every method that predicts from ``X`` alone.
proba_method : the one that gives probabilities (in [0, 1]).
variable_length : whether ``X`` may hold sequences of different lengths.
bad_inputs : ``{name: Bad}``, inputs it must refuse (``COMMON_BAD`` and its own).
valid_inputs : ``{name: make(X, y)}``, messy inputs that must work.
extreme_inputs : ``{name: make(X, y)}``, magnitudes that must train without overflow.
longest_input : ``() -> (X, y)``, the longest sequences it reads.
diverging : ``(params, make(X, y))`` on which a huge learning rate diverges.
grid : a small ``GridSearchCV`` grid over ``hidden_size`` and ``learning_rate``.
array_input : whether ``X`` is an array of numbers (False for texts): the tests
    of NaN padding and of ``n_features_in_`` apply only then.
with_dtype : ``(estimator, X, dtype) -> (estimator, X)`` that makes it compute
    in ``dtype``; None casts ``X`` with ``X.astype(dtype)``.
sample_weight : whether ``fit`` takes a ``sample_weight`` (False for the
    language model, whose samples are the windows it cuts from the texts).
step_targets : whether ``y`` holds one target per time step (its second axis
    follows the steps of ``X``), so that cutting or lengthening the sequences
    of ``X`` must do the same to ``y``.
predict_inputs : ``{name: make(X) -> X}``, inputs to predict with the model
    fitted on the case's data: finite outputs, no warning.
target_scales : factors of ``y`` that must give the model of ``y`` itself,
    with predictions in the units of ``y`` (a regressor's).
"""

CASES = {
    case.name: case
    for case in [
        EstimatorCase(
            name="LSTMSequenceClassifier",
            make_estimator=lambda: LSTMSequenceClassifier(
                hidden_size=4, learning_rate=0.05, max_iter=5, random_state=0
            ),
            make_data=_sequences,
            output_methods=[
                "predict",
                "predict_proba",
                "predict_log_proba",
                "transform",
            ],
            proba_method="predict_proba",
            variable_length=True,
            bad_inputs={**COMMON_BAD, **CLASSIFIER_BAD},
            valid_inputs={**CLASSIFIER_VALID, **LABEL_VALID},
            extreme_inputs=CLASSIFIER_EXTREME,
            longest_input=_long_sequences,
            diverging=({"solver": "sgd", "clip_norm": None}, lambda X, y: (X * 1e3, y)),
            grid={"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]},
            predict_inputs=SEQUENCE_PREDICT_INPUTS,
        ),
        EstimatorCase(
            name="RNNBinaryAdder",
            make_estimator=lambda: RNNBinaryAdder(max_iter=3, random_state=0),
            make_data=_additions,
            output_methods=["predict", "predict_bit_proba", "hidden_states"],
            proba_method="predict_bit_proba",
            variable_length=False,
            bad_inputs={**COMMON_BAD, **ADDER_BAD},
            valid_inputs=ADDER_VALID,
            extreme_inputs=ADDER_EXTREME,
            longest_input=_widest_operands,
            diverging=({"solver": "sgd", "clip_norm": None}, lambda X, y: (X, y)),
            grid={"hidden_size": [4, 8], "learning_rate": [0.05, 0.2]},
        ),
        EstimatorCase(
            name="LSTMSequenceRegressor",
            make_estimator=lambda: LSTMSequenceRegressor(
                hidden_size=16, learning_rate=0.03, max_iter=20, random_state=0
            ),
            make_data=_regression_sequences,
            output_methods=["predict", "transform"],
            proba_method=None,
            variable_length=True,
            bad_inputs={**COMMON_BAD, **SEQUENCE_BAD, **REGRESSOR_BAD},
            valid_inputs=REGRESSOR_VALID,
            extreme_inputs=REGRESSOR_EXTREME,
            longest_input=_long_regression_sequences,
            diverging=({"solver": "sgd", "clip_norm": None}, lambda X, y: (X * 1e3, y)),
            grid={"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]},
            predict_inputs=SEQUENCE_PREDICT_INPUTS,
            target_scales=REGRESSOR_TARGET_SCALES,
        ),
        EstimatorCase(
            name="LSTMSequenceTagger",
            make_estimator=lambda: LSTMSequenceTagger(
                hidden_size=4, max_iter=10, random_state=0
            ),
            make_data=_tagged_sequences,
            output_methods=["predict", "predict_proba", "predict_log_proba"],
            proba_method="predict_proba",
            variable_length=True,
            bad_inputs={**COMMON_BAD, **TAGGER_BAD},
            valid_inputs=TAGGER_VALID,
            extreme_inputs=CLASSIFIER_EXTREME,
            longest_input=_long_tagged_sequences,
            diverging=({"solver": "sgd", "clip_norm": None}, lambda X, y: (X * 1e3, y)),
            grid={"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]},
            step_targets=True,
            predict_inputs=SEQUENCE_PREDICT_INPUTS,
        ),
        EstimatorCase(
            name="LSTMLanguageModel",
            make_estimator=lambda: LSTMLanguageModel(
                hidden_size=8,
                level="char",
                embedding_size=4,
                bptt=8,
                batch_size=4,
                learning_rate=0.02,
                max_iter=5,
                min_count=1,
                dropout=0.0,
                early_stopping=False,
                random_state=0,
            ),
            make_data=_rhymes,
            output_methods=["predict_next", "predict_proba_next"],
            proba_method="predict_proba_next",
            variable_length=True,
            bad_inputs=LM_BAD,
            valid_inputs=LM_VALID,
            extreme_inputs={},  # token indices: no magnitudes to scale
            longest_input=_one_long_text,
            diverging=({"solver": "sgd", "clip_norm": None}, lambda X, y: (X, y)),
            grid={"hidden_size": [4, 8], "learning_rate": [0.01, 0.05]},
            array_input=False,
            with_dtype=lambda est, X, dtype: (est.set_params(dtype=dtype), X),
            sample_weight=False,
        ),
    ]
}


# ---------------------------------------------------------------------------
# Transformers: the scalers read the sequences the estimators read
# ---------------------------------------------------------------------------


def _scaler_data():
    """Sequences whose features have different levels and scales; no ``y``."""
    X, _ = _sequences(n_samples=20)
    return X * [1.0, 50.0] + [0.0, 1000.0], None


def _features_apart(big, small):
    """``X`` with feature 0 of magnitude ``big`` and feature 1 of ``small``."""
    return lambda X, y: (X * [big, small], y)


def _padded_everywhere(X):
    """``X`` with one more step, NaN in every sequence (padding)."""
    return np.concatenate([X, np.full((len(X), 1, X.shape[2]), np.nan)], axis=1)


# Inputs every transformer refuses: the sequences' own problems.
TRANSFORMER_BAD = {
    **{
        name: COMMON_BAD[name]._replace(methods=("fit", "predict"))
        for name in ["inf", "minus_inf", "4d_array", "strings", "objects", "complex"]
    },
    "empty": Bad(lambda X, y: (X[:0], y), "0 sample"),
    "wrong_n_features": COMMON_BAD["wrong_n_features"]._replace(methods=("predict",)),
    **SEQUENCE_BAD,
    "all_nan_feature": Bad(
        lambda X, y: (_set(X, (slice(None), slice(None), 1), np.nan), y),
        "NaN in some but not all features",
        methods=("fit",),
    ),
    "all_nan": Bad(
        lambda X, y: (np.full(X.shape, np.nan), y), "zero-length sequences", ("fit",)
    ),
}

STANDARD_SCALER_BAD = {
    **TRANSFORMER_BAD,
    "wrong_n_features_partial_fit": COMMON_BAD["wrong_n_features"]._replace(
        methods=("partial_fit",)
    ),
    "all_nan_partial_fit": Bad(
        lambda X, y: (np.full(X.shape, np.nan), y),
        "zero-length sequences",
        ("partial_fit",),
    ),
    # The variance of these features is beyond float64 (their scale_ is not).
    "values_near_1e308": Bad(
        lambda X, y: (np.sign(X) * 1.7e308, y),
        "variance of feature 0 overflows",
        methods=("fit", "partial_fit"),
    ),
    "1e200_next_to_1e-200": Bad(
        _features_apart(1e200, 1e-200),
        "variance of feature 0 overflows",
        methods=("fit", "partial_fit"),
    ),
}

NORMALIZER_BAD = {
    **TRANSFORMER_BAD,
    # centred only, in the units of X: ±1.8e308 less a mean of the other sign
    "centred_beyond_the_largest_float": Bad(
        lambda X, y: (np.sign(X) * np.finfo(np.float64).max, y),
        "centred values of sample",
        methods=("predict",),
        params={"with_std": False},
    ),
}

TRANSFORMER_VALID = {
    "trailing_nan_padding": lambda X, y: (_trailing_nan(X), y),
    "padding_in_every_sequence": lambda X, y: (_padded_everywhere(X), y),
    "ragged_list": lambda X, y: (_ragged(X), y),
    "ragged_univariate_list": lambda X, y: ([x[:, 0] for x in _ragged(X)], y),
    "univariate_2d": lambda X, y: (X[:, :, 0], y),
    "univariate_2d_padding_in_every_sequence": lambda X, y: (
        _padded_everywhere(X)[:, :, 0],
        y,
    ),
    "float32": lambda X, y: (X.astype(np.float32), y),
    "integers": lambda X, y: ((10 * X).astype(np.int64), y),
    "one_step_sequences": lambda X, y: (X[:, :1], y),
    "1e150": lambda X, y: (X * 1e150, y),
    "1e-200": lambda X, y: (X * 1e-200, y),
    "1e100_next_to_1e-200": _features_apart(1e100, 1e-200),
    "subnormal": lambda X, y: (X * 5e-324, y),
    "constant_feature": lambda X, y: (_set(X, (slice(None), slice(None), 0), 3.0), y),
}

NORMALIZER_VALID = {
    **TRANSFORMER_VALID,
    "steps_of_1e308": lambda X, y: (np.sign(X) * 1e308, y),
    "largest_float": lambda X, y: (
        np.where(X > 0, 1.0, -1.0) * np.finfo(np.float64).max,
        y,
    ),
    "1e200_next_to_1e-200": _features_apart(1e200, 1e-200),
}

TransformerCase = namedtuple(
    "TransformerCase",
    [
        "name",
        "make_estimator",
        "make_data",
        "output_methods",
        "bad_inputs",
        "valid_inputs",
        "standardizes",
    ],
)
"""What the reliability battery knows of a transformer of sequences, the
fields of :class:`EstimatorCase` it shares (``make_data`` gives ``y=None``),
and ``standardizes``: ``'all'`` if its output has mean 0 and standard
deviation 1 over all real steps, ``'each'`` over each sequence's.
"""

TRANSFORMER_CASES = {
    case.name: case
    for case in [
        TransformerCase(
            name="SequenceStandardScaler",
            make_estimator=lambda: SequenceStandardScaler(),
            make_data=_scaler_data,
            output_methods=["transform", "inverse_transform"],
            bad_inputs=STANDARD_SCALER_BAD,
            valid_inputs=TRANSFORMER_VALID,
            standardizes="all",
        ),
        TransformerCase(
            name="SequenceNormalizer",
            make_estimator=lambda: SequenceNormalizer(),
            make_data=_scaler_data,
            output_methods=["transform"],
            bad_inputs=NORMALIZER_BAD,
            valid_inputs=NORMALIZER_VALID,
            standardizes="each",
        ),
    ]
}
