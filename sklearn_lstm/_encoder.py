"""The input encoder: what the network reads of each time step.

An :class:`InputEncoder` is fitted once, on the first fit's training steps,
and then used by training, prediction and the ONNX export alike:

* **standardization** (``standardize=True``): each feature less its mean,
  over its standard deviation, weighted by ``sample_weight`` over the real
  steps;
* **normal scores** (``normal_scores``): next to the features, the normal
  score of each scored feature: the value's quantile among the training
  steps, read on the standard normal's scale (what
  ``QuantileTransformer(output_distribution='normal')`` computes), which
  spreads heavy tails without depending on the feature's units;
* **window normalization** (``window_norm``, the "reversible instance
  normalization" of forecasting models): each sequence less its own
  location (its last real value, or its mean), over its own spread (the
  standard deviation of its real steps, at least ``WINDOW_SCALE_FLOOR``
  times the feature's training standard deviation), feature by feature, in
  place of the standardization; the regressor maps its predictions back
  with the same two numbers (:func:`window_stats`);
* the **noise scale** of each encoded feature, which input noise is
  relative to.

Padded steps stay zero. The moments of the features (:func:`moments`, merged
by :func:`merge_moments`) are those the public scalers compute too.
"""

import statistics

import numpy as np

# The normal-score map of a feature is piecewise linear between the values at
# these quantiles of the training steps, sent to the standard normal's
# quantiles of the same levels (from -2.58 to 2.58).
SCORE_LEVELS = (np.arange(100) + 0.5) / 100
SCORE_NORMALS = np.array([statistics.NormalDist().inv_cdf(p) for p in SCORE_LEVELS])

# normal_scores='auto' scores the features with at least this many distinct
# values: not binary, one-hot or coded features, nor 4-bit pixels.
MIN_DISTINCT_VALUES = 32

# window_norm divides each sequence by its own spread, but by at least this
# fraction of the feature's spread over the training steps: a flat window
# (a run of zeros) must not turn a small change into a huge one.
WINDOW_SCALE_FLOOR = 0.1

WINDOW_NORMS = ("last", "mean")


class InputEncoder:
    """Standardization and normal scores of the features of each time step.

    Parameters
    ----------
    standardize : bool, default=False
        Whether the features are standardized.
    normal_scores : bool or 'auto', default=False
        Which features get a normal score: all, none, or those with at least
        ``MIN_DISTINCT_VALUES`` distinct training values.
    window_norm : {'last', 'mean'} or None, default=None
        Whether each sequence is centred on its own last real value or mean
        and scaled by its own spread (see :func:`window_stats`), in place of
        the standardization.

    Attributes
    ----------
    mean, std : ndarray of shape (n_features,)
        Weighted mean and standard deviation of each feature over the real
        training steps (1 for a constant feature), set by :meth:`fit`.
    scored_features : ndarray of int
        The features that get a normal score.
    score_knots : list of tuple of ndarray
        Per scored feature, the knots ``(values, scores)`` of its map.
    """

    def __init__(self, standardize=False, normal_scores=False, window_norm=None):
        self.standardize = standardize
        self.normal_scores = normal_scores
        self.window_norm = window_norm

    def fit(self, X, mask, sample_weight):
        """Fit the statistics to the real steps of ``X`` (N, T, D)."""
        self.mean, self.std = feature_stats(X, mask, sample_weight)
        self.scored_features, self.score_knots = normal_score_knots(
            X, mask, sample_weight, self.normal_scores
        )
        return self

    @property
    def n_features(self):
        """Features per step of the input."""
        return len(self.mean)

    @property
    def n_outputs(self):
        """Features per step of the output: the features, then the scores."""
        return self.n_features + len(self.scored_features)

    def window_stats(self, X, mask):
        """Location and scale ``(N, D)`` of each sequence's features, as
        ``window_norm`` normalizes them (see :func:`window_stats`)."""
        return window_stats(X, mask, self.window_norm, WINDOW_SCALE_FLOOR * self.std)

    def transform(self, X, mask):
        """``X`` as the network reads it: window-normalized (if
        ``window_norm``) or standardized (if ``standardize``), then the
        normal scores of the scored features of the raw values; padded steps
        are zero. ``X`` itself when there is nothing to do."""
        scored = len(self.scored_features) > 0
        window_norm = getattr(self, "window_norm", None)  # pickles of 0.2
        if not (scored or self.standardize or window_norm):
            return X
        if scored:
            scores = normal_scores(X, self.scored_features, self.score_knots)
        if window_norm:
            loc, scale = self.window_stats(X, mask)
            X = (X - loc[:, None]) / scale[:, None]
        elif self.standardize:
            # X / std - mean / std, not (X - mean) / std: no overflow near the
            # float limits
            X = X / self.std - self.mean / self.std
        if scored:
            X = np.concatenate([X, scores], axis=2)
        if mask is not None:
            X[~mask] = 0
        return X

    def noise_std(self):
        """Standard deviation of each output feature, which input noise is a
        fraction of: 1 for standardized features and for the scores (about
        1), each raw feature's own otherwise."""
        std = np.ones(self.n_outputs)
        if not (self.standardize or getattr(self, "window_norm", None)):
            std[: self.n_features] = self.std
        return std


def weighted_steps(X, mask, sample_weight):
    """The real steps of ``X``, ``(n_steps, n_features)``, and the weight of
    each: its sequence's ``sample_weight``, so that weights act like repeated
    sequences."""
    if mask is None:
        return X.reshape(-1, X.shape[2]), np.repeat(sample_weight, X.shape[1])
    return X[mask], np.broadcast_to(sample_weight[:, None], mask.shape)[mask]


def feature_stats(X, mask, sample_weight):
    """Weighted mean and standard deviation of each feature over the real
    steps of ``X``; a constant feature gets a standard deviation of 1.
    Computed in float64 by :func:`moments`, so that steps near the float
    limits do not overflow."""
    steps, weights = weighted_steps(X, mask, sample_weight)
    n, mean, m2, unit = moments(steps.astype(np.float64), weights[:, None])
    std = np.sqrt(m2 / n)
    std = np.where(std > 0, std * unit, 1.0)
    return (mean * unit).astype(X.dtype), std.astype(X.dtype)


def moments(X, weights=None, axis=0, unit=None):
    """Weight sum, mean and sum of squared deviations of ``X`` along ``axis``.

    The mean and the squared deviations are in units of each feature's
    largest magnitude along ``axis``, so that values near the float limits
    neither overflow nor underflow in the sums and squares.

    Parameters
    ----------
    X : ndarray of float
        The values, in the dtype the moments are computed in. Values of
        weight 0 count in the largest magnitude: padded steps must be zero.
    weights : ndarray or None, default=None
        Weight of each value, broadcast against ``X``; None weighs them all
        1, and the weight sum is then the number of values along ``axis``.
    axis : int, default=0
        The axis the moments are computed along.
    unit : ndarray or None, default=None
        A smallest unit for each feature, such as the unit of moments that
        these are to be merged with by :func:`merge_moments`.

    Returns
    -------
    n : int or ndarray
        Sum of the weights along ``axis``, the axis dropped.
    mean, m2, unit : ndarray
        Weighted mean, in units of ``unit``; weighted sum of squared
        deviations from it, in units of ``unit ** 2``; and the unit: the
        largest magnitude (or the ``unit`` given, where larger), 1 where both
        are 0. The shape of ``X`` without ``axis``.
    """
    largest = np.abs(X).max(axis=axis, keepdims=True)
    if unit is not None:
        largest = np.maximum(largest, np.expand_dims(unit, axis))
    largest[~(largest > 0)] = 1
    if weights is None:
        weights, n = 1, X.shape[axis]
    else:
        n = weights.sum(axis=axis, keepdims=True, dtype=X.dtype)
    scaled = X / largest
    mean = np.multiply(scaled, weights, dtype=X.dtype).sum(axis, keepdims=True) / n
    squares = np.multiply((scaled - mean) ** 2, weights, dtype=X.dtype)
    m2 = squares.sum(axis, keepdims=True)
    if not np.isscalar(n):
        n = np.squeeze(n, axis)
    return n, *(np.squeeze(a, axis) for a in (mean, m2, largest))


def merge_moments(a, b):
    """The moments ``(n, mean, m2, unit)`` of two sets of values together,
    from those of each as :func:`moments` gives them: the pairwise update of
    Chan, Golub and LeVeque (1979), in the larger of the two units."""
    n_a, mean_a, m2_a, unit_a = a
    n_b, mean_b, m2_b, unit_b = b
    unit = np.maximum(unit_a, unit_b)
    ratio_a, ratio_b = unit_a / unit, unit_b / unit  # at most 1: no overflow
    mean_a, mean_b = mean_a * ratio_a, mean_b * ratio_b
    with np.errstate(under="ignore"):
        m2_a, m2_b = m2_a * ratio_a**2, m2_b * ratio_b**2
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / n)
    m2 = m2_a + m2_b + delta**2 * (n_a * n_b / n)
    return n, mean, m2, unit


def window_stats(X, mask, window_norm, floor):
    """Location and scale of each sequence's features, ``(N, D)`` each.

    The location is the value at the last real step (``window_norm='last'``)
    or the mean of the real steps (``'mean'``); the scale is the standard
    deviation of the real steps, or ``floor`` (one number per feature) where
    that is larger (1 where both are 0). Both are data, not weights: the
    gradient does not flow through them, as in RevIN.
    """
    if mask is None:
        real, weights, last = X, None, X[:, -1]
    else:
        real = np.where(mask[:, :, None], X, 0)
        weights = mask[:, :, None]
        ends = np.maximum(mask.sum(axis=1) - 1, 0)
        last = X[np.arange(len(X)), ends]
    # in units of each sequence's largest magnitude per feature, so that the
    # sums and squares neither overflow (1e308) nor underflow (1e-300)
    with np.errstate(under="ignore"):
        n, mean, m2, unit = moments(real, weights, axis=1)
        std = np.sqrt(m2 / n) * unit
        mean = mean * unit
    scale = np.maximum(std, np.asarray(floor, dtype=X.dtype))
    # a constant window (or one whose spread underflows) is only centred
    scale[~(scale > 0)] = 1
    loc = last if window_norm == "last" else mean
    return loc.astype(X.dtype, copy=False), scale.astype(X.dtype, copy=False)


def normal_score_knots(X, mask, sample_weight, normal_scores):
    """The features to score (``normal_scores`` True, False or 'auto') and
    the knots ``(values, scores)`` of each one's map, from the real steps of
    ``X``.

    The values are the feature's weighted quantiles at ``SCORE_LEVELS``
    (inverted CDF: weights act exactly as repeated sequences, and are
    divided by their largest first, so that weights of any magnitude act
    alike); a value that several levels share (a mass point, such as many
    zeros) gets the mean of their normal quantiles, so the map stays
    continuous and increasing.
    """
    if normal_scores != "auto" and not normal_scores:
        return np.empty(0, dtype=np.intp), []
    steps, weights = weighted_steps(X, mask, sample_weight)
    steps, weights = steps[weights > 0], weights[weights > 0]
    weights = weights / weights.max()
    features, knots = [], []
    for j in range(steps.shape[1]):
        order = np.argsort(steps[:, j], kind="stable")
        values = steps[order, j]
        if (
            normal_scores == "auto"
            and np.count_nonzero(values[1:] != values[:-1]) + 1 < MIN_DISTINCT_VALUES
        ):
            continue
        cumulative = np.cumsum(weights[order], dtype=np.float64)
        at = np.searchsorted(cumulative, SCORE_LEVELS * cumulative[-1])
        values, first = np.unique(
            values[np.minimum(at, len(values) - 1)], return_index=True
        )
        scores = np.add.reduceat(SCORE_NORMALS, first) / np.diff(
            first, append=len(SCORE_NORMALS)
        )
        features.append(j)
        knots.append((values.astype(X.dtype), scores.astype(X.dtype)))
    return np.array(features, dtype=np.intp), knots


def normal_scores(X, features, knots):
    """The normal scores ``(n_samples, n_timesteps, len(features))`` of the
    scored ``features`` of ``X``: each value's place among the training
    steps (see :func:`normal_score_knots`), read on the standard normal's
    scale; values beyond the training range get the extreme scores."""
    scores = np.empty(X.shape[:2] + (len(features),), dtype=X.dtype)
    for k, (j, (values, score)) in enumerate(zip(features, knots)):
        scores[:, :, k] = np.interp(X[:, :, j], values, score)
    return scores
