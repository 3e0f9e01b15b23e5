"""Input validation for sequences.

:func:`check_sequences` accepts every input form the estimators document and
returns one: a float array of shape ``(n_samples, n_timesteps, n_features)``
and a boolean mask of real steps (``None`` when every sequence is full length).
"""

import numpy as np
from sklearn.utils.validation import check_array, validate_data

FLOAT_DTYPES = (np.float64, np.float32)


def check_sequences(
    estimator, X, y="no_validation", *, reset, dtype=FLOAT_DTYPES, **y_params
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
        sequences of different lengths. Trailing time steps that are NaN in
        every feature are padding.
    y : array-like of shape (n_samples,), default="no_validation"
        Targets, checked for consistent length with ``X``. The default skips
        them; None raises, as an estimator that needs ``y`` must.
    reset : bool
        Whether to record ``n_features_in_``. When False, a 2-D array must
        have the number of columns seen in ``fit``; 3-D arrays and lists of
        sequences may have any number of time steps.
    dtype : type or tuple of type, default=(np.float64, np.float32)
        Accepted dtypes; other input is converted to the first.
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
    if _is_ragged(X):
        X = _pad_ragged(X, dtype)
    params = {
        "accept_sparse": False,
        "allow_nd": True,
        "dtype": dtype,
        "ensure_all_finite": "allow-nan",
        "ensure_min_samples": 1,
        "ensure_min_features": 1,
    }
    no_y = isinstance(y, str) and y == "no_validation"
    if not no_y:
        X, y = validate_data(estimator, X, y, reset=reset, **params, **y_params)
    elif reset or getattr(X, "ndim", None) == 2:  # an array or a DataFrame
        X = validate_data(estimator, X, reset=reset, **params)
    else:  # a list of sequences, or 3-D: a network reads sequences of any length
        X = check_array(X, **params)
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
    X, mask = _mask_padding(X)
    return (X, mask) if no_y else (X, mask, y)


def _is_ragged(X):
    """True for a list or tuple of sequences that do not all have one shape."""
    if not isinstance(X, list | tuple) or len(X) == 0:
        return False
    try:
        shapes = {np.shape(x) for x in X}
    except ValueError:  # an element is itself ragged: let _pad_ragged say which
        return True
    if any(len(shape) == 0 for shape in shapes) or any(isinstance(x, str) for x in X):
        return False
    return len(shapes) > 1


def _pad_ragged(X, dtype):
    """Stack sequences of different lengths into one NaN-padded 3-D array."""
    seqs = []
    for i, x in enumerate(X):
        x = check_array(
            x,
            ensure_2d=False,
            dtype=dtype,
            ensure_all_finite="allow-nan",
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
