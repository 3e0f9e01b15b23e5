"""Generators of toy sequence data sets."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_addition"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_bits": [Interval(Integral, 1, 62, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_addition(n_samples=1000, n_bits=8, random_state=None):
    """Pairs of random ``n_bits``-bit non-negative integers and their sums.

    The training data of the classic "carry the one" tutorial: each operand
    is drawn uniformly from ``[0, 2**(n_bits - 1))`` so that the sum still
    fits in ``n_bits`` bits.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs.
    n_bits : int, default=8
        Width of the sums in bits; the operands have ``n_bits - 1`` bits.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype=int64
        The operands.
    y : ndarray of shape (n_samples,), dtype=int64
        Their sums.

    Examples
    --------
    >>> from sklearn_lstm.datasets import make_addition
    >>> X, y = make_addition(3, n_bits=8, random_state=0)
    >>> X
    array([[ 44,  47],
           [117,  64],
           [ 67, 123]])
    >>> y
    array([ 91, 181, 190])
    """
    rng = check_random_state(random_state)
    X = rng.randint(0, 2 ** (n_bits - 1), size=(n_samples, 2)).astype(np.int64)
    return X, X.sum(axis=1)
