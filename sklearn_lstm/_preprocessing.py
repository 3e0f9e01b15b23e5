"""Preprocessing of sequences: standardization over all real time steps, or
over each sequence's own."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils.validation import check_is_fitted

from ._encoder import merge_moments, moments
from ._validation import _is_ragged, check_sequences, restore_on_error, to_dtype


class SequenceStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize each feature of sequences over all their real time steps.

    The mean and the standard deviation of each feature are computed over
    every real time step of every sequence (padding excluded), and each step
    is then scaled as ``z = (x - mean_) / scale_``, as
    :class:`~sklearn.preprocessing.StandardScaler` does for rows. Unlike
    :class:`~sklearn.preprocessing.StandardScaler`, it takes the input forms
    of the estimators of this package, so that
    ``make_pipeline(SequenceStandardScaler(), LSTMSequenceClassifier())`` works:
    3-D arrays, 2-D arrays of univariate sequences, arrays padded with trailing
    NaN time steps and lists of sequences of different lengths.

    The output has the form of the input: an array stays an array of the same
    shape with its NaN padding kept; a list of arrays, or of sequences of
    different lengths, stays a list of arrays of the lengths and shapes of its
    sequences. (A nested list of numbers of one shape is read as an array, as
    in scikit-learn, and gives an array.)

    Parameters
    ----------
    with_mean : bool, default=True
        Whether to center each feature before scaling.

    with_std : bool, default=True
        Whether to scale each feature to unit variance.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        Mean of each feature over all real time steps; None when
        ``with_mean=False``.

    var_ : ndarray of shape (n_features,) or None
        Variance of each feature over all real time steps; None when
        ``with_std=False``. (It rounds to zero for a feature whose standard
        deviation is below 1e-154; ``scale_`` does not.)

    scale_ : ndarray of shape (n_features,) or None
        Scaling factor of each feature, its standard deviation, or 1 where the
        variance is zero (the feature is constant); None when
        ``with_std=False``.

    n_steps_seen_ : int
        Number of real time steps seen by :meth:`fit` and :meth:`partial_fit`.
        The statistics of :meth:`partial_fit` are those of all steps seen.

    n_features_in_ : int
        Number of time steps of ``X`` in its array form, as
        :func:`~sklearn.utils.validation.validate_data` records it (the number
        of columns of 2-D ``X``), as for the estimators of this package. 2-D
        input to ``transform`` must have this many columns; 3-D and list input
        may have any number of time steps. The number of features per time
        step is ``len(mean_)`` or ``len(scale_)``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only set when they are all strings.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same on 2-D data, row by row.
    LSTMSequenceClassifier : A classifier that reads the same input forms.

    Notes
    -----
    The variance is the biased one (``ddof=0``), as in
    :class:`~sklearn.preprocessing.StandardScaler`. :meth:`partial_fit`
    combines the mean and variance of each batch with those seen before by
    the pairwise update of Chan, Golub and LeVeque (1979), in float64, in
    units of each feature's largest magnitude, so that values near the float
    limits (1e300) neither overflow nor underflow (1e-200). A feature whose
    variance float64 cannot hold (a standard deviation above 1e154) raises a
    ``ValueError``; a failed :meth:`fit` or :meth:`partial_fit` leaves the
    scaler as it was.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm import SequenceStandardScaler
    >>> X = [np.array([[0.0, 10.0], [2.0, 10.0]]), np.array([[4.0, 30.0]])]
    >>> scaler = SequenceStandardScaler().fit(X)
    >>> scaler.mean_, scaler.scale_
    (array([ 2.        , 16.66666667]), array([1.63299316, 9.42809042]))
    >>> [x.round(2) for x in scaler.transform(X)]
    [array([[-1.22, -0.71],
           [ 0.  , -0.71]]), array([[1.22, 1.41]])]
    >>> X_padded = np.array([[[0.0], [2.0]], [[4.0], [np.nan]]])
    >>> scaler.fit_transform(X_padded).round(2)
    array([[[-1.22],
            [ 0.  ]],
    <BLANKLINE>
           [[ 1.22],
            [  nan]]])
    """

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
    }

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the mean and standard deviation of each feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences. 2-D input holds univariate sequences. Sequences of
            different lengths are given as a list of arrays of shape
            ``(n_timesteps_i, n_features)`` or ``(n_timesteps_i,)``, or padded
            with trailing NaN time steps.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        with restore_on_error(self):
            for name in ("mean_", "var_", "scale_", "n_steps_seen_"):
                if hasattr(self, name):
                    delattr(self, name)
            return self._partial_fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the mean and standard deviation with a batch of sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences, as in :meth:`fit`.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated scaler.
        """
        with restore_on_error(self):
            return self._partial_fit(X)

    def _partial_fit(self, X):
        """Add the real steps of ``X`` to the statistics (fit when first).

        The statistics are the :func:`moments` of the steps seen, merged by
        :func:`merge_moments`, kept in units of each feature's largest
        magnitude seen (``_unit``): ``_mean`` is the mean, ``_m2`` the sum of
        squared deviations over ``_unit ** 2``."""
        first_call = not hasattr(self, "n_steps_seen_")
        X, mask = check_sequences(self, X, reset=first_call)
        if not first_call:
            _check_step_features(self, X, len(self._mean))
        steps = _real_steps(X, mask).astype(np.float64)
        if first_call:
            n, mean, m2, unit = moments(steps)
        else:
            # pickles of 0.2 hold _m2 in the units of X
            unit_old = getattr(self, "_unit", np.ones_like(self._mean))
            seen = (self.n_steps_seen_, self._mean / unit_old, self._m2, unit_old)
            # the batch in the units seen (its own where larger), so that
            # merge_moments rescales only the moments seen
            n, mean, m2, unit = merge_moments(seen, moments(steps, unit=unit_old))
        var = m2 / n  # in units of unit ** 2
        std = np.sqrt(var) * unit
        with np.errstate(over="ignore", under="ignore"):
            var_x = std * std
        if self.with_std and np.isinf(var_x).any():
            j = int(np.flatnonzero(np.isinf(var_x))[0])
            raise ValueError(
                f"The variance of feature {j} overflows float64: its standard "
                f"deviation is {std[j]:.4g} (at most 1.34e+154). Divide X by a "
                "constant first, or set with_std=False."
            )
        self._mean, self._m2, self._unit = mean * unit, m2, unit
        self.n_steps_seen_ = n
        self.mean_ = self._mean if self.with_mean else None
        if self.with_std:
            self.var_ = var_x
            # A constant feature is left unscaled. Rounding leaves it a tiny
            # variance instead of zero: the bound is StandardScaler's.
            self.scale_ = np.where(_is_constant(var, mean, n), 1.0, std)
        else:
            self.var_ = self.scale_ = None
        return self

    def transform(self, X):
        """Standardize each time step: ``(x - mean_) / scale_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences, as in :meth:`fit`.

        Returns
        -------
        X_tr : ndarray of the shape of ``X``, or list of ndarray
            Standardized sequences in the form of ``X``: padded steps stay
            NaN; a list of sequences gives a list of arrays of the sequences'
            own shapes.
        """
        return self._apply(X, inverse=False)

    def inverse_transform(self, X):
        """Undo the standardization: ``x * scale_ + mean_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Standardized sequences, as :meth:`transform` returns them.

        Returns
        -------
        X_original : ndarray of the shape of ``X``, or list of ndarray
            Sequences in the original units, in the form of ``X``.
        """
        return self._apply(X, inverse=True)

    def _apply(self, X, *, inverse):
        """Scale (or unscale) the real steps; give the result the form of ``X``."""
        check_is_fitted(self)
        shapes = _sequence_shapes(X)
        Xv, mask = check_sequences(self, X, reset=False, keep_steps=True)
        _check_step_features(self, Xv, len(self._mean))
        mean = 0.0 if self.mean_ is None else self.mean_
        scale = 1.0 if self.scale_ is None else self.scale_
        with np.errstate(over="ignore", invalid="ignore"):
            # x / scale - mean / scale: no overflow in x - mean near the limits
            out = Xv * scale + mean if inverse else Xv / scale - mean / scale
        what = "unscaled values" if inverse else "standardized values"
        return _in_form_of(X, to_dtype(out, Xv.dtype, what=what), mask, shapes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SequenceNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize each sequence on its own, feature by feature.

    Each feature of each sequence is centered on its mean over the
    sequence's real time steps and scaled by its standard deviation over
    them: ``z = (x - x.mean(axis=0)) / x.std(axis=0)`` per sequence, the
    z-normalization of the UCR time-series archive. No statistic is learned
    in ``fit``, as with :class:`~sklearn.preprocessing.Normalizer`, which
    normalizes each row of 2-D data on its own; ``fit`` records the number of
    features per time step that ``transform`` must then get.

    Use it when what tells the sequences apart is their shape and their
    levels or scales differ over orders of magnitude: scaled together, as
    :class:`SequenceStandardScaler` and the estimators' ``standardize=True``
    scale them, the small ones then read as almost constant. Where the level
    or the scale itself tells the classes apart, this throws it away.

    The input forms and the output forms are those of
    :class:`SequenceStandardScaler`: 3-D arrays, 2-D arrays of univariate
    sequences, arrays padded with trailing NaN time steps (the padding stays
    NaN) and lists of sequences of different lengths (a list of arrays of the
    same shapes comes out).

    Parameters
    ----------
    with_mean : bool, default=True
        Whether to center each feature of each sequence.

    with_std : bool, default=True
        Whether to scale each feature of each sequence to unit variance; a
        feature constant over a sequence is left unscaled.

    Attributes
    ----------
    n_step_features_ : int
        Number of features per time step seen in :meth:`fit`.

    n_features_in_ : int
        Number of time steps of ``X`` in its array form, as for
        :class:`SequenceStandardScaler`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only set when they are all strings.

    See Also
    --------
    SequenceStandardScaler : One mean and scale per feature, over all sequences.
    sklearn.preprocessing.Normalizer : Each row of 2-D data on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm import SequenceNormalizer
    >>> X = [np.array([[0.0], [2.0]]), np.array([[100.0], [300.0], [200.0]])]
    >>> [x.round(2) for x in SequenceNormalizer().fit_transform(X)]
    [array([[-1.],
           [ 1.]]), array([[-1.22],
           [ 1.22],
           [ 0.  ]])]
    """

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
    }

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record its number of features per time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences, in the forms :class:`SequenceStandardScaler` takes.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted normalizer.
        """
        with restore_on_error(self):
            X, _ = check_sequences(self, X, reset=True)
            self.n_step_features_ = X.shape[2]
        return self

    def transform(self, X):
        """Standardize each feature of each sequence over its real steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences, as in :meth:`fit`.

        Returns
        -------
        X_tr : ndarray of the shape of ``X``, or list of ndarray
            Standardized sequences in the form of ``X``.
        """
        check_is_fitted(self)
        shapes = _sequence_shapes(X)
        Xv, mask = check_sequences(self, X, reset=False, keep_steps=True)
        _check_step_features(self, Xv, self.n_step_features_)
        N, T, _ = Xv.shape
        weights = np.ones((N, T, 1)) if mask is None else mask[:, :, None]
        weights = weights.astype(Xv.dtype)
        # in units of each sequence's largest magnitude: no overflow
        n, mean, m2, largest = (a[:, None] for a in moments(Xv, weights, axis=1))
        out = Xv / largest
        if self.with_mean:
            out -= mean
        if self.with_std:
            var = m2 / n
            # a constant feature is left unscaled: back to the units of X
            # (times largest: 1 / largest overflows for subnormal values)
            constant = np.broadcast_to(_is_constant(var, mean, n), out.shape)
            scaled = np.divide(out, np.sqrt(var), where=~constant, out=out.copy())
            out = np.multiply(out, largest, where=constant, out=scaled)
        else:
            # centred in the units of X: beyond the largest float for values
            # of opposite signs near it, which raise
            with np.errstate(over="ignore"):
                out *= largest
            out = to_dtype(
                np.where(weights > 0, out, 0), Xv.dtype, what="centred values"
            )
        return _in_form_of(X, out, mask, shapes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _is_constant(var, mean, n):
    """Whether a variance computed from ``n`` values of mean ``mean`` is zero
    up to rounding (which leaves a tiny one): the bound of StandardScaler."""
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


def _check_step_features(estimator, X, n_features):
    """Raise if ``X`` has not the number of features per step seen in fit."""
    if X.shape[2] != n_features:
        raise ValueError(
            f"X has {X.shape[2]} features per time step, but "
            f"{type(estimator).__name__} was fitted with {n_features}."
        )


def _in_form_of(X, out, mask, shapes):
    """``out`` (3-D, from ``X`` as :func:`check_sequences` read it) in the form
    of ``X``: padded steps NaN, a list for a list, 2-D for univariate 2-D."""
    if mask is not None:
        out[~mask] = np.nan
    if shapes is not None:  # a list in, a list out
        return [out[i, : s[0]].reshape(s) for i, s in enumerate(shapes)]
    ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
    return out[:, :, 0] if ndim == 2 else out  # 2-D: univariate sequences


def _real_steps(X, mask):
    """The real time steps of all sequences, as rows of a 2-D array."""
    return X.reshape(-1, X.shape[2]) if mask is None else X[mask]


def _sequence_shapes(X):
    """Shape of each sequence of a list of sequences, or None for an array-like.

    A list or tuple of arrays, or of sequences of different lengths, is a list
    of sequences; a nested list of numbers of one shape is an array-like, as
    in scikit-learn.
    """
    # _is_ragged is True for any list of sequences (check_sequences pads them
    # all), not only for sequences of different lengths.
    if not _is_ragged(X):
        return None
    try:
        shapes = [np.shape(x) for x in X]
    except ValueError:  # ragged steps in a sequence: check_sequences says which
        return None
    if len(set(shapes)) == 1 and not any(isinstance(x, np.ndarray) for x in X):
        return None  # nested lists of numbers of one shape: an array-like
    if any(len(shape) not in (1, 2) for shape in shapes):
        return None  # not a list of sequences: check_sequences says what it is
    return shapes
