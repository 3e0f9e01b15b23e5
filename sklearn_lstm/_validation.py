"""Input validation shared by every estimator.

* :func:`check_sequences` accepts every input form the estimators document and
  returns one: a float array of shape ``(n_samples, n_timesteps, n_features)``
  and a boolean mask of real steps (``None`` when every sequence is full
  length).
* :func:`check_weights` validates ``sample_weight`` and ``class_weight``
  together, with one message per problem.
* :func:`check_labels` refuses class labels that mix types or hold None;
  :func:`check_true_labels` checks the labels given to ``score`` as ``fit``
  checks them, :func:`check_classes` the ``classes`` of ``partial_fit``.
* :class:`Integers` is ``Interval(Integral, ...)`` that refuses booleans, for
  the ``_parameter_constraints`` of counts and sizes; :func:`check_network_size`
  refuses networks too large to allocate, naming the parameters.
* :func:`check_targets` turns regression targets into a float64 array, with
  one message per problem; :func:`target_scaling` gives their mean and
  scale, computed in units of their largest magnitude.
* :func:`regression_score` is the R² of a regressor's ``score``, its targets
  and weights checked, computed in units of the largest magnitude.
* :func:`network_inputs` is what a network reads of validated sequences:
  encoded, and bounded so that no product of the network overflows.
* :func:`restore_on_error` leaves an estimator exactly as it was when the
  call it wraps raises.
"""

import contextlib
import copy
import math
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_array, check_X_y, validate_data

FLOAT_DTYPES = (np.float64, np.float32)

# The most weights a network may have: 2**30 weights are 8 GiB in float64,
# before the optimizer's state (two more copies for Adam) and the gradients.
MAX_WEIGHTS = 2**30

# Regression targets are at most the largest float over this: predictions up
# to this many times the largest target stay finite (see target_scaling).
_TARGET_HEADROOM = 16.0

# Sample weights whose mean is outside [2**-_WEIGHT_RANGE, 2**_WEIGHT_RANGE]
# are rescaled to mean 1 (see check_weights).
_WEIGHT_RANGE = 32


def check_sequences(
    estimator,
    X,
    y="no_validation",
    *,
    reset,
    dtype=FLOAT_DTYPES,
    model_dtype=None,
    keep_steps=False,
    **y_params,
):
    """Validate sequences and return them as ``(X, mask)`` or ``(X, mask, y)``.

    Parameters
    ----------
    estimator : estimator instance
        Passed to :func:`~sklearn.utils.validation.validate_data`, which
        records ``n_features_in_`` (the number of time steps of the array
        form) and ``feature_names_in_`` when ``reset=True``.
    X : array-like of shape (n_samples, n_timesteps) or \
            (n_samples, n_timesteps, n_features), or list of array-like
        Sequences. 2-D input holds univariate sequences. A list of arrays of
        shape ``(n_timesteps_i,)`` or ``(n_timesteps_i, n_features)`` holds
        sequences of different lengths, and so does a pandas Series or a 1-D
        object array of such arrays. Trailing time steps that are NaN in every
        feature are padding.
    y : array-like of shape (n_samples,), default="no_validation"
        Targets, checked for consistent length with ``X``. The default skips
        them; None raises, as an estimator that needs ``y`` must.
    reset : bool
        Whether to record ``n_features_in_``. When False, a 2-D array must
        have the number of columns (time steps) seen in the first ``fit``;
        3-D arrays and lists of sequences may have any number of time steps,
        in ``predict`` as in ``partial_fit`` and ``warm_start``.
    dtype : type or tuple of type, default=(np.float64, np.float32)
        Accepted dtypes; other input is converted to the first.
    model_dtype : type, default=None
        The dtype of the fitted weights, to which ``X`` is cast. Values that
        this dtype cannot represent are refused here, so that the checks apply
        to what is computed.
    keep_steps : bool, default=False
        Whether trailing steps that are padding in every sequence are kept
        (masked), for outputs with one row per step of the input; by default
        they are dropped, so that the array is the one the list of the same
        sequences gives.
    **y_params : dict
        Passed to ``validate_data`` when ``y`` is given.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Padded steps are set to zero.
    mask : ndarray of shape (n_samples, n_timesteps) of bool, or None
        True at real steps; None when there is no padding.
    y : ndarray of shape (n_samples,)
        Only when ``y`` is given.
    """
    if (isinstance(X, dict | set | frozenset) and not sparse.issparse(X)) or (
        hasattr(X, "__next__") and not hasattr(X, "__len__")
    ):
        raise TypeError(
            "X must be an array of sequences or a list of them (array-like of "
            f"shape (n_samples, n_timesteps[, n_features])); got a "
            f"{type(X).__name__}."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.dtype.itemsize > 8:
        # long doubles beyond float64 would become inf with a warning
        X = _cast(X, np.float64, what="the dtype the estimators compute in")
    X = _as_list_of_sequences(X)
    if isinstance(X, list | tuple) and len(X) == 0:
        # check_array would say "Expected 2D array, got 1D array instead"
        raise ValueError(
            f"X is an empty {type(X).__name__}: 0 sample(s), while at least one "
            "sequence is required."
        )
    if _is_ragged(X):
        X = _pad_ragged(X, dtype)
    params = {
        "accept_sparse": False,
        "allow_nd": True,
        "dtype": dtype,
        # _mask_padding checks finiteness element-wise: check_array's fast
        # check sums X, which warns for values near the largest float.
        "ensure_all_finite": False,
        "ensure_min_samples": 1,
        "ensure_min_features": 1,
    }
    no_y = isinstance(y, str) and y == "no_validation"
    two_d = getattr(X, "ndim", None) == 2  # an array or a DataFrame
    # check_array's fast finiteness check of y sums it, which warns for
    # targets near the largest float (1e308 next to -1e308); it then checks
    # element by element, which is right.
    quiet = np.errstate(over="ignore", invalid="ignore")
    if reset or two_d:
        try:
            with quiet:
                if no_y:
                    X = validate_data(estimator, X, reset=reset, **params)
                else:
                    X, y = validate_data(
                        estimator, X, y, reset=reset, **params, **y_params
                    )
        except ValueError as exc:
            if "features, but" not in str(exc):
                raise
            raise ValueError(
                f"{exc} The features of 2-D input (univariate sequences) are its "
                f"time steps: 2-D input must have the {estimator.n_features_in_} "
                "time steps seen in fit. Pass a 3-D array or a list of sequences "
                "for sequences of another length."
            ) from None
    elif no_y:  # a list of sequences, or 3-D: a network reads any length
        with quiet:
            X = check_array(X, **params)
    else:
        with quiet:
            X, y = check_X_y(X, y, **params, **y_params)
    if X.ndim == 2:
        X = X[:, :, np.newaxis]
    elif X.ndim != 3:
        raise ValueError(
            "X must be 2-D (n_samples, n_timesteps) or 3-D (n_samples, "
            f"n_timesteps, n_features); got a {X.ndim}-D array of shape {X.shape}."
        )
    if X.shape[1] == 0:
        raise ValueError(f"X has 0 time steps (shape={X.shape}).")
    if X.shape[2] == 0:
        raise ValueError(f"X has 0 features per time step (shape={X.shape}).")
    if model_dtype is not None:
        X = _cast(X, model_dtype)
    X, mask = _mask_padding(X, keep_steps)
    return (X, mask) if no_y else (X, mask, y)


def _cast(X, dtype, *, name="X", what="the dtype of the fitted model"):
    """``X`` as ``dtype``; values too large for it raise, naming ``what``
    the dtype is."""
    dtype = np.dtype(dtype)
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    overflow = np.isinf(cast) & ~np.isinf(X)
    if overflow.any():
        raise ValueError(
            f"Input {name} contains values too large for {dtype.name}, {what} "
            f"(largest: {np.finfo(dtype).max:.4g}); the largest magnitude in "
            f"{name} is "
            f"{np.format_float_scientific(np.nanmax(np.abs(X[overflow])), 3)}."
        )
    return cast


def _as_list_of_sequences(X):
    """A pandas Series or a 1-D object array of sequences, as a list; other
    input unchanged."""
    if getattr(X, "ndim", None) != 1:
        return X
    if hasattr(X, "iloc"):  # a pandas Series
        X = X.to_numpy()
    if X.dtype == object and not all(np.ndim(x) == 0 for x in X):
        return list(X)
    return X


def _is_ragged(X):
    """True for a list or tuple of sequences: each element one sequence.

    A list of numbers is left to :func:`~sklearn.utils.check_array`, which
    refuses 1-D input; a list that mixes numbers and sequences raises.
    """
    if not isinstance(X, list | tuple) or len(X) == 0:
        return False
    scalar = [_is_scalar(x) for x in X]
    if all(scalar):
        return False
    if any(scalar):
        i = scalar.index(True)
        raise ValueError(
            f"X[{i}] is {X[i]!r}, not a sequence, while other elements of the list "
            "are sequences: each element of a list must be one sequence of shape "
            "(n_timesteps,) or (n_timesteps, n_features)."
        )
    return True


def _is_scalar(x):
    """Whether ``x`` cannot be a sequence: a number, a string, a mapping."""
    if isinstance(x, str | bytes | dict) or x is None:
        return True
    try:
        return np.ndim(x) == 0
    except ValueError:  # ragged nested lists: a sequence, badly formed
        return False


def _pad_ragged(X, dtype):
    """Stack sequences of different lengths into one NaN-padded 3-D array."""
    seqs = []
    for i, x in enumerate(X):
        if isinstance(x, list | tuple):
            try:
                np.asarray(x)
            except ValueError:
                raise ValueError(
                    f"X[{i}] is not a rectangular array: its time steps have "
                    "different numbers of features. Each sequence must have shape "
                    "(n_timesteps,) or (n_timesteps, n_features)."
                ) from None
        x = check_array(
            x,
            accept_sparse=False,
            ensure_2d=False,
            dtype=dtype,
            ensure_all_finite=False,
            ensure_min_samples=0,
            input_name=f"X[{i}]",
        )
        if x.ndim == 1:
            x = x[:, np.newaxis]
        if x.ndim != 2:
            raise ValueError(
                f"Each sequence in a list must be 1-D (n_timesteps,) or 2-D "
                f"(n_timesteps, n_features); X[{i}] is {x.ndim}-D."
            )
        if x.shape[0] == 0:
            raise ValueError(f"Sequence X[{i}] has zero length.")
        seqs.append(x)
    n_features = {x.shape[1] for x in seqs}
    if len(n_features) > 1:
        raise ValueError(
            "All sequences must have the same number of features per time step; "
            f"got {sorted(n_features)}."
        )
    out_dtype = np.result_type(*seqs)
    out = np.full((len(seqs), max(len(x) for x in seqs), n_features.pop()), np.nan)
    out = out.astype(out_dtype, copy=False)
    for i, x in enumerate(seqs):
        out[i, : len(x)] = x
    return out


def _mask_padding(X, keep_steps=False):
    """Turn trailing all-NaN time steps into a mask; reject any other NaN or
    inf. Steps that are padding in every sequence are dropped unless
    ``keep_steps``."""
    if np.isinf(X).any():
        raise ValueError("Input X contains infinity (inf).")
    nan = np.isnan(X)
    if not nan.any():
        return X, None
    padded = nan.all(axis=2)
    if (nan.any(axis=2) & ~padded).any():
        raise ValueError(
            "Input X contains NaN in some but not all features of a time step. "
            "Only whole time steps of NaN at the end of a sequence are read as "
            "padding."
        )
    if (padded[:, :-1] & ~padded[:, 1:]).any():
        raise ValueError(
            "Input X contains NaN before the end of a sequence. Only trailing "
            "NaN time steps are read as padding of a variable-length sequence."
        )
    if padded[:, 0].any():
        empty = np.flatnonzero(padded[:, 0])
        raise ValueError(
            f"Input X contains NaN in every time step of sequence(s) "
            f"{empty[:5].tolist()}: zero-length sequences cannot be read."
        )
    # Steps that are padding in every sequence are dropped: the array is then
    # the one a list of the same sequences gives.
    if not keep_steps:
        n_timesteps = int((~padded).sum(axis=1).max())
        X, padded = X[:, :n_timesteps], padded[:, :n_timesteps]
    X = np.where(padded[:, :, np.newaxis], 0, X).astype(X.dtype, copy=False)
    return X, (None if not padded.any() else ~padded)


def check_weights(
    sample_weight,
    n_samples,
    *,
    dtype=np.float64,
    class_weight=None,
    y=None,
    classes=None,
):
    """Validated ``sample_weight`` times the ``class_weight`` of each label.

    Each problem has its own message: weights that are not numbers, None, NaN,
    infinite or negative (in ``sample_weight`` or in a ``class_weight``
    dict), of the wrong shape, or all zero. The losses are weighted means, so
    scaling every weight by one factor changes nothing but their rounding:
    weights whose mean is beyond ``2**±32`` are rescaled to mean 1, so that
    1e308 or 5e-324 neither overflow nor underflow (the L2 penalty, divided
    by the total weight, then acts as for weights of mean 1). Other weights
    are kept as they are, so that integer weights stay equivalent to repeated
    samples, the L2 penalty included (as in MLP).

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        None means 1 for every sample; a number is given to every sample.
    n_samples : int
    dtype : dtype, default=np.float64
        dtype of the returned weights (the model's).
    class_weight : dict, 'balanced' or None, default=None
        Weights of the labels of ``y``; labels missing from a dict weigh 1.
    y : ndarray of shape (n_samples,), default=None
        The labels, when ``class_weight`` is given.
    classes : ndarray, default=None
        Every label the estimator knows: keys of a ``class_weight`` dict must
        be among them.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
    """
    sw = _as_weights(sample_weight, "sample_weight", n_samples)
    if class_weight is not None:
        if isinstance(class_weight, dict):
            labels = list(class_weight)
            values = _as_weights(
                [class_weight[label] for label in labels], "class_weight", len(labels)
            )
            cw = _class_weight_of(y, dict(zip(labels, values)), classes)
        else:
            cw = compute_sample_weight(class_weight, y)
        if np.isfinite(float(sw.max()) * float(cw.max())):
            sw = sw * cw
        else:  # the product of two huge weights: scale each factor first
            sw = _to_unit_max(sw) * _to_unit_max(cw)
    if not sw.any():
        raise ValueError(
            "sample_weight must contain at least one non-zero weight"
            + (" (times class_weight)" if class_weight is not None else "")
            + ": all samples weigh 0, there is nothing to fit."
        )
    mean = float(np.mean(_to_unit_max(sw))) * float(sw.max())
    if not 2.0**-_WEIGHT_RANGE <= mean <= 2.0**_WEIGHT_RANGE:
        unit = _to_unit_max(sw)  # exact, and no overflow in the mean
        sw = unit / np.mean(unit)
    return sw.astype(dtype)


def _to_unit_max(w):
    """``w`` scaled by a power of two (exactly) to a largest value in
    [0.5, 1), or ``w`` if it is all zero."""
    top = float(w.max())
    if top == 0:
        return w
    return np.ldexp(w, -int(np.frexp(top)[1]))


def _as_weights(weights, name, n_samples):
    """``weights`` as a float64 array of shape (n_samples,): finite,
    non-negative numbers, or a ValueError/TypeError saying what is wrong."""
    if weights is None:
        return np.ones(n_samples)
    if isinstance(weights, Real) and not isinstance(weights, bool | np.bool_):
        weights = np.full(n_samples, weights, dtype=np.float64)
    elif isinstance(weights, str | bytes):
        raise TypeError(f"{name} must be an array of numbers; got {weights!r}.")
    w = np.asarray(weights)
    if w.shape != (n_samples,):
        raise ValueError(
            f"{name}.shape == {w.shape}, expected {(n_samples,)}: one weight per "
            f"{'sample' if name == 'sample_weight' else 'class'}."
        )
    if w.dtype.kind in "OUSV":
        for i, v in enumerate(w):
            if v is None:
                raise ValueError(f"{name} contains None (at index {i}).")
            if not isinstance(v, Real) or isinstance(v, bool | np.bool_):
                raise TypeError(
                    f"{name} must hold numbers; got {v!r} of type "
                    f"{type(v).__name__} at index {i}."
                )
        w = w.astype(np.float64)
    elif w.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} must hold real numbers; got {w.dtype}."
        )
    w = w.astype(np.float64)
    if np.isnan(w).any():
        raise ValueError(
            f"{name} contains NaN (at index {np.flatnonzero(np.isnan(w))[0]})."
        )
    if np.isinf(w).any():
        raise ValueError(
            f"{name} contains infinity (at index {np.flatnonzero(np.isinf(w))[0]})."
        )
    if (w < 0).any():
        i = np.flatnonzero(w < 0)[0]
        raise ValueError(
            f"Negative values in {name} (at index {i}: {w[i]}); weights must be "
            "non-negative."
        )
    return w


def _class_weight_of(y, class_weight, classes):
    """The weight of each label of ``y``: ``class_weight[label]``, else 1."""
    if classes is not None:
        known = set(np.asarray(classes).tolist())
        unknown = [c for c in class_weight if c not in known]
        if unknown:
            raise ValueError(
                f"class_weight has labels that are not classes: {unknown}; the "
                f"classes are {sorted(known, key=str)}."
            )
    labels, inverse = np.unique(np.asarray(y), return_inverse=True)
    weights = np.array([class_weight.get(c, 1.0) for c in labels.tolist()])
    return weights[inverse].astype(np.float64)


def check_labels(y, *, name="y"):
    """Refuse labels that mix types or hold None, with a message that says so
    (scikit-learn's says "Unknown label type: unknown").

    A list is read element by element, before NumPy would turn a mix of
    numbers and strings into strings.

    Returns
    -------
    y : the labels as given, except that an object array of numbers (as a
        pandas column of objects gives) becomes an array of ints or floats:
        scikit-learn reads an object array of numbers as labels of an
        "unknown" type.
    """
    given = y
    if not isinstance(y, np.ndarray):
        y = as_array(y, name, dtype=object)
    if y.dtype != object:
        return given
    for i, label in enumerate(y.ravel()):
        if label is None:
            raise ValueError(
                f"{name} contains None (at index {i}): every label is needed."
            )
    kinds = {_label_kind(label) for label in y.ravel()}
    if len(kinds) > 1:
        raise ValueError(
            f"{name} mixes labels of different types ({', '.join(sorted(kinds))}); "
            "labels must be all strings or all numbers."
        )
    if kinds == {"number"} and isinstance(given, np.ndarray):
        return _numeric_labels(given, name)
    return given


def _numeric_labels(y, name):
    """An object array of numbers as an array of ints or floats, or a
    ValueError for NaN and for numbers neither holds (ints beyond 64 bits)."""
    flat = y.ravel().tolist()
    for i, label in enumerate(flat):
        if np.asarray(label).dtype == object:
            raise ValueError(
                f"{name}[{i}] is {label!r:.40}, a number that neither int64 nor "
                "float64 holds: pass such labels as strings."
            )
    out = np.asarray(flat)
    if out.dtype == object:  # ints of int64 next to ints of uint64 only
        out = np.asarray(flat, dtype=np.float64)
    if out.dtype.kind == "f" and np.isnan(out).any():
        raise ValueError(
            f"Input {name} contains NaN (at index {np.flatnonzero(np.isnan(out))[0]})."
        )
    return out.reshape(y.shape)


def check_classes(classes):
    """The ``classes`` of ``partial_fit`` as a 1-D array (None stays None),
    refused when empty, a single string, of another shape, or holding labels
    that :func:`check_labels` refuses or NaN, before scikit-learn's messages
    about samples and label types (an object array of ints would be of an
    "unknown" type)."""
    if classes is None:
        return None
    if isinstance(classes, str | bytes):
        raise TypeError(
            f"classes must be a list of every label, got a single "
            f"{type(classes).__name__} {classes!r:.40}."
        )
    array = as_array(classes, "classes")
    if array.size == 0:
        raise ValueError(
            "classes is empty: the first call to partial_fit needs every label "
            "that will ever appear."
        )
    if array.ndim != 1:
        raise ValueError(
            f"classes must be 1-D, one entry per label; got an array of shape "
            f"{array.shape}."
        )
    check_labels(classes, name="classes")  # a list element by element
    array = check_labels(array, name="classes")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError("classes contains NaN: every label must be a value.")
    return array


def check_true_labels(y, n_samples, *, name="y"):
    """The true labels given to a classifier's ``score``, as a 1-D array of
    ``n_samples``, refused as :meth:`fit` refuses them: None, labels that mix
    types or hold None, NaN, a ragged list, another shape."""
    if y is None:
        raise ValueError(
            f"score needs {name}, the true labels of the sequences X; got None."
        )
    check_labels(y, name=name)  # a list element by element, before NumPy
    y = check_labels(as_array(y, name), name=name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one label per sequence); got an array of shape "
            f"{y.shape}."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"Input {name} contains NaN (at index {np.flatnonzero(np.isnan(y))[0]})."
        )
    if y.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} is {y.dtype}.")
    if len(y) != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {len(y)}] (X, {name})."
        )
    return y


def as_array(values, name, dtype=None):
    """``np.asarray(values, dtype)``, or a ValueError naming ``name`` when
    ``values`` is ragged (nested sequences of different lengths)."""
    try:
        return np.asarray(values, dtype=dtype)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc) and "sequence" not in str(exc):
            raise
        raise ValueError(
            f"{name} is not a rectangular array: it holds sequences of different "
            "lengths (or numbers next to sequences)."
        ) from None


def _label_kind(label):
    """'string' or 'number' or the type's name, for :func:`check_labels`."""
    if isinstance(label, str | np.str_):
        return "string"
    if isinstance(label, Real):
        return "number"
    return type(label).__name__


class Integers(Interval):
    """``Interval(Integral, left, right, closed=...)`` that refuses booleans:
    ``hidden_size=True`` is a mistake, not a network of one unit."""

    def __init__(self, left, right=None, *, closed="left"):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


def check_network_size(
    hidden_size,
    n_layers,
    n_inputs,
    n_outputs,
    *,
    weight_shapes,
    n_directions=1,
    n_readout=None,
    n_embeddings=None,
):
    """Raise when the network these sizes ask for has more than
    :data:`MAX_WEIGHTS` weights, naming ``hidden_size`` and ``n_layers``.

    Counted by formula, not from the network's list of weights, which would
    take as long to build as ``n_layers`` is large. ``weight_shapes`` is the
    cell's (``Cell.weight_shapes``); ``n_readout`` is the width the head
    reads (default: the top layer's, ``n_directions * hidden_size``). With
    ``n_embeddings``, the inputs are rows of an embedding table of
    ``n_embeddings * n_inputs`` weights, counted too, and the message names
    ``embedding_size`` (``n_inputs``) as well."""

    def layer_size(n_in):
        return sum(math.prod(shape) for shape in weight_shapes(n_in, hidden_size))

    width = n_directions * hidden_size
    n_weights = (
        n_directions * layer_size(n_inputs)
        + (n_layers - 1) * n_directions * layer_size(width)
        + (width if n_readout is None else n_readout) * n_outputs
        + n_outputs
    )
    if n_embeddings is not None:
        n_weights += n_embeddings * n_inputs
        if n_weights > MAX_WEIGHTS:
            raise ValueError(
                f"embedding_size={n_inputs}, hidden_size={hidden_size} and "
                f"n_layers={n_layers} ask for {n_weights:.3g} weights (an "
                f"embedding table of {n_embeddings} tokens x {n_inputs}, and the "
                f"network), more than the {MAX_WEIGHTS:,} this package allocates. "
                "Lower embedding_size, hidden_size or n_layers."
            )
    if n_weights > MAX_WEIGHTS:
        raise ValueError(
            f"hidden_size={hidden_size} and n_layers={n_layers} ask for a network "
            f"of {n_weights:.3g} weights ({n_inputs} inputs per step, {n_outputs} "
            f"outputs), more than the {MAX_WEIGHTS:,} this package allocates. "
            "Lower hidden_size or n_layers."
        )


def check_targets(y, *, name="y"):
    """Regression targets as a float64 array of shape (n_samples,) or
    (n_samples, n_outputs), with one message per problem: None, a ragged
    list, strings or other non-numbers, complex numbers, NaN, infinity, or
    another number of dimensions."""
    if y is None:
        raise ValueError(
            f"This estimator requires {name} to be passed, but the target {name} "
            "is None."
        )
    if hasattr(y, "to_numpy"):  # pandas
        y = y.to_numpy()
    y = as_array(y, name)
    if y.dtype.kind in "USV":
        raise TypeError(
            f"{name} must hold numbers (regression targets); got strings, an "
            f"array of {y.dtype} (first value: {y.ravel()[:1].tolist()})."
        )
    if y.dtype.kind == "O":
        flat = y.ravel()
        for i, v in enumerate(flat):
            if v is None:
                raise ValueError(
                    f"{name} contains None (at index {i}): every target is needed."
                )
            if isinstance(v, str | bytes) or not isinstance(v, Real):
                raise TypeError(
                    f"{name} must hold numbers (regression targets); got {v!r:.40} "
                    f"of type {type(v).__name__} at index {i}."
                )
        y = flat.astype(np.float64).reshape(y.shape)
    elif y.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} must hold real numbers; got {y.dtype}."
        )
    if y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); got "
            f"a {y.ndim}-D array of shape {y.shape}."
        )
    y = y.astype(np.float64, copy=False)
    if np.isnan(y).any():
        raise ValueError(f"Input {name} contains NaN.")
    if np.isinf(y).any():
        raise ValueError(f"Input {name} contains infinity (inf).")
    return y


def target_scaling(Y, sample_weight, dtype, *, name="y"):
    """Weighted mean and scale (float64, one per column of ``Y``) that
    standardize regression targets for a model computing in ``dtype``.

    Computed in units of each column's largest magnitude, so that targets
    near the float limits (1e300) neither overflow nor underflow (1e-200):
    the scale is the standard deviation, or for a constant column the
    magnitude of its value if below 1, else 1. Targets whose largest
    magnitude ``dtype`` cannot represent raise, as predictions would be inf
    or 0: below its smallest normal value, or beyond 1/16 of its largest,
    which leaves room for predictions up to 16 times the largest target (a
    model fitted on targets of ±1.7e308 would predict inf).
    """
    finfo = np.finfo(dtype)
    highest = float(finfo.max) / _TARGET_HEADROOM
    largest = np.abs(Y).max(axis=0)
    for j, top in enumerate(largest):
        if top > highest or 0 < top < finfo.smallest_normal:
            raise ValueError(
                f"{name} holds values of magnitude {top:.4g}"
                + (f" (column {j})" if len(largest) > 1 else "")
                + f", which {finfo.dtype.name}, the dtype of the model (that of "
                f"X), cannot represent: targets must be from "
                f"{finfo.smallest_normal:.4g} to {highest:.4g} in magnitude "
                f"(1/{_TARGET_HEADROOM:g} of its largest value, {finfo.max:.4g}, "
                f"to leave room for the predictions). Rescale {name}"
                + (", or pass X as float64." if finfo.dtype.itemsize < 8 else ".")
            )
    unit = np.where(largest > 0, largest, 1.0)
    scaled = Y / unit
    mean = np.average(scaled, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((scaled - mean) ** 2, axis=0, weights=sample_weight))
    # A constant target (up to rounding) is only centred: divided by 1, or by
    # its magnitude if below 1, unless its deviations are larger still (1e292
    # around 1.7e308), which are then divided by their standard deviation.
    constant = ~(std > 10 * np.finfo(np.float64).eps * np.abs(mean))
    magnitude = np.abs(mean) * unit
    small = (magnitude > 0) & (magnitude < 1)
    spread = std * unit
    scale = np.where(
        constant, np.maximum(spread, np.where(small, magnitude, 1.0)), spread
    )
    return mean * unit, scale


def standardize_targets(Y, mean, scale, dtype, *, name="y"):
    """``(Y - mean) / scale`` in ``dtype``, computed in units of the largest
    magnitude of each column (of ``Y`` and ``mean``), so that targets near
    the float limits do not overflow.

    Standardized targets beyond ``sqrt(max) / 2**20`` of ``dtype`` (1.3e148
    in float64, 1.8e13 in float32) raise: their squares, in the loss and in
    the optimizer's moments, would overflow. Only continued training
    (``partial_fit``, ``warm_start``) on targets of another scale than the
    first fit's reaches them."""
    unit = np.maximum(np.abs(Y).max(axis=0), np.abs(mean))
    unit = np.where(unit > 0, unit, 1.0)
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        Z = (Y / unit - mean / unit) / (scale / unit)
    Z = to_dtype(Z, dtype, what=f"targets {name} standardized by the fitted scaling")
    bound = np.sqrt(np.finfo(dtype).max) * 2.0**-20
    top = float(np.abs(Z).max()) if Z.size else 0.0
    if top > bound:
        raise ValueError(
            f"The targets {name} standardized by the fitted scaling (target_mean_ "
            f"and target_scale_) reach {top:.4g}, beyond the {bound:.4g} that "
            f"training in {np.dtype(dtype).name} can square: continued training "
            "(partial_fit, warm_start) keeps the scaling of the first fit. Fit "
            f"from scratch for targets of another scale, or rescale {name}."
        )
    return Z


def regression_score(y, pred, sample_weight=None, *, name="y"):
    """R² of the predictions ``pred`` of targets ``y``, what a regressor's
    ``score`` gives, with ``y`` checked as :func:`check_targets` does and
    ``sample_weight`` as :func:`check_weights` does (r2_score takes negative
    weights, and reads None in ``y`` as NaN).

    R² does not change with the unit of a target: each column is divided
    by its largest magnitude (of the targets and the predictions) first, so
    that targets near the float limits (1e300) do not overflow in the sums
    of squares.
    """
    Y = check_targets(y, name=name)
    P = np.asarray(pred, dtype=np.float64)
    if len(Y) != len(P):
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{len(P)}, {len(Y)}] (X, {name})."
        )
    Y2, P2 = Y.reshape(len(Y), -1), P.reshape(len(P), -1)
    if Y2.shape[1] != P2.shape[1]:
        raise ValueError(
            f"{name} has {Y2.shape[1]} target(s) per sample, but the model "
            f"predicts {P2.shape[1]}."
        )
    sample_weight = check_weights(sample_weight, len(Y))
    unit = np.maximum(np.abs(Y2).max(axis=0), np.abs(P2).max(axis=0))
    unit = np.where(unit > 0, unit, 1.0)
    with np.errstate(under="ignore"):
        Y2, P2 = Y2 / unit, P2 / unit
    return float(r2_score(Y2, P2, sample_weight=sample_weight))


def to_dtype(values, dtype, *, what):
    """``values`` (computed in float64) as ``dtype``, or a ValueError when
    some are not finite there, saying ``what`` they are."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(values).astype(dtype, copy=False)
    if not np.isfinite(out).all():
        bad = np.flatnonzero(~np.isfinite(out).reshape(len(out), -1).all(axis=1))
        raise ValueError(
            f"The {what} of sample(s) {bad[:5].tolist()} overflow "
            f"{np.dtype(dtype).name} (largest: {np.finfo(dtype).max:.4g})."
        )
    return out


def network_inputs(encoder, X, mask, *, clip=True):
    """What a network reads of validated sequences ``X``: ``X`` encoded by
    ``encoder`` (an :class:`~sklearn_lstm._encoder.InputEncoder`), each
    value bounded by the square root of the dtype's largest value.

    The gates of a recurrent cell saturate long before that bound (1.3e154
    in float64, 1.8e19 in float32), so the bound changes no result; it keeps
    the products of the network (``x @ Wx``) from overflowing on steps near
    the float limits, which the encoding (divided by a small standard
    deviation) may also push there. A skip path reads the inputs linearly:
    for training it, ``clip=False`` refuses values beyond the bound, whose
    squared errors would overflow, instead of changing them.
    """
    with np.errstate(over="ignore"):
        X = encoder.transform(X, mask)
    bound = np.sqrt(np.finfo(X.dtype).max)
    if X.size and (X.max() > bound or X.min() < -bound):
        if not clip:
            raise ValueError(
                f"X holds values of magnitude {np.abs(X).max():.4g} as the "
                f"network reads them, beyond {bound:.4g}: the skip path reads "
                "them linearly, and its squared errors would overflow "
                f"{X.dtype.name}. Set standardize=True (or window_norm), or "
                "rescale X."
            )
        X = np.clip(X, -bound, bound)
    return X


@contextlib.contextmanager
def restore_on_error(estimator, keep=()):
    """Leave ``estimator`` exactly as it was if the body raises: its
    ``__dict__`` is copied on entry and put back on an exception. The
    attributes named in ``keep`` (the user's objects, such as callbacks) are
    kept as they are, not copied."""
    saved = {
        key: value if key in keep else copy.deepcopy(value)
        for key, value in estimator.__dict__.items()
    }
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise
