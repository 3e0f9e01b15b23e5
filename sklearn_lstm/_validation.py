"""Input validation shared by every estimator.

* :func:`check_sequences` accepts every input form the estimators document and
  returns one: a float array of shape ``(n_samples, n_timesteps, n_features)``
  and a boolean mask of real steps (``None`` when every sequence is full
  length).
* :func:`check_weights` validates ``sample_weight`` and ``class_weight``
  together, with one message per problem.
* :func:`check_labels` refuses class labels that mix types or hold None.
* :class:`Integers` is ``Interval(Integral, ...)`` that refuses booleans, for
  the ``_parameter_constraints`` of counts and sizes; :func:`check_network_size`
  refuses networks too large to allocate, naming the parameters.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_array, check_X_y, validate_data

FLOAT_DTYPES = (np.float64, np.float32)

# The most weights a network may have: 2**30 weights are 8 GiB in float64,
# before the optimizer's state (two more copies for Adam) and the gradients.
MAX_WEIGHTS = 2**30

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
    X = _as_list_of_sequences(X)
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
    if reset or two_d:
        try:
            if no_y:
                X = validate_data(estimator, X, reset=reset, **params)
            else:
                X, y = validate_data(estimator, X, y, reset=reset, **params, **y_params)
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
        X = check_array(X, **params)
    else:
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
    X, mask = _mask_padding(X)
    return (X, mask) if no_y else (X, mask, y)


def _cast(X, dtype):
    """``X`` as ``dtype``; values too large for it raise."""
    dtype = np.dtype(dtype)
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    overflow = np.isinf(cast) & ~np.isinf(X)
    if overflow.any():
        raise ValueError(
            f"Input X contains values too large for {dtype.name}, the dtype of the "
            f"fitted model (largest: {np.finfo(dtype).max:.4g}); the largest "
            f"magnitude in X is {np.nanmax(np.abs(X[overflow])):.4g}."
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


def _mask_padding(X):
    """Turn trailing all-NaN time steps into a mask; reject any other NaN or inf."""
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
        raise TypeError(f"{name} must hold real numbers; got complex {w.dtype}.")
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


def check_labels(y):
    """Refuse labels that mix types or hold None, with a message that says so
    (scikit-learn's says "Unknown label type: unknown")."""
    y = np.asarray(y)
    if y.dtype != object:
        return
    for i, label in enumerate(y.ravel()):
        if label is None:
            raise ValueError(f"y contains None (at index {i}): every label is needed.")
    kinds = {_label_kind(label) for label in y.ravel()}
    if len(kinds) > 1:
        raise ValueError(
            f"y mixes labels of different types ({', '.join(sorted(kinds))}); "
            "labels must be all strings or all numbers."
        )


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
):
    """Raise when the network these sizes ask for has more than
    :data:`MAX_WEIGHTS` weights, naming ``hidden_size`` and ``n_layers``.

    Counted by formula, not from the network's list of weights, which would
    take as long to build as ``n_layers`` is large. ``weight_shapes`` is the
    cell's (``Cell.weight_shapes``); ``n_readout`` is the width the head
    reads (default: the top layer's, ``n_directions * hidden_size``)."""

    def layer_size(n_in):
        return sum(math.prod(shape) for shape in weight_shapes(n_in, hidden_size))

    width = n_directions * hidden_size
    n_weights = (
        n_directions * layer_size(n_inputs)
        + (n_layers - 1) * n_directions * layer_size(width)
        + (width if n_readout is None else n_readout) * n_outputs
        + n_outputs
    )
    if n_weights > MAX_WEIGHTS:
        raise ValueError(
            f"hidden_size={hidden_size} and n_layers={n_layers} ask for a network "
            f"of {n_weights:.3g} weights ({n_inputs} inputs per step, {n_outputs} "
            f"outputs), more than the {MAX_WEIGHTS:,} this package allocates. "
            "Lower hidden_size or n_layers."
        )
