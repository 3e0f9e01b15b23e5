"""Tests of the toy data set generators."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_lstm.datasets import make_addition


@pytest.mark.parametrize("n_samples, n_bits", [(1, 1), (7, 2), (500, 8), (50, 62)])
def test_make_addition_shapes_dtypes_and_sums(n_samples, n_bits):
    X, y = make_addition(n_samples, n_bits=n_bits, random_state=0)
    assert X.shape == (n_samples, 2)
    assert y.shape == (n_samples,)
    assert X.dtype == np.int64
    assert y.dtype == np.int64
    assert_array_equal(y, X.sum(axis=1))
    # Operands have n_bits - 1 bits, so that their sum fits in n_bits bits.
    assert X.min() >= 0
    assert X.max() < 2 ** (n_bits - 1)
    assert y.max() < 2**n_bits


def test_make_addition_covers_the_operand_range():
    X, _ = make_addition(2000, n_bits=4, random_state=0)
    assert_array_equal(np.unique(X), np.arange(8))


def test_make_addition_sums_exact_at_62_bits():
    X, y = make_addition(1000, n_bits=62, random_state=0)
    assert X.max() > 2**60  # the draw does reach the top of the range
    assert [int(v) for v in y] == [int(a) + int(b) for a, b in X]


def test_make_addition_defaults():
    X, y = make_addition(random_state=0)
    assert X.shape == (1000, 2)
    assert X.max() < 2**7
    assert_array_equal(y, X.sum(axis=1))


def test_make_addition_random_state():
    X1, y1 = make_addition(100, random_state=42)
    X2, y2 = make_addition(100, random_state=42)
    assert_array_equal(X1, X2)
    assert_array_equal(y1, y2)
    X3, _ = make_addition(100, random_state=43)
    assert not np.array_equal(X1, X3)
    # A RandomState instance is accepted and advanced.
    rng = np.random.RandomState(42)
    X4, _ = make_addition(100, random_state=rng)
    assert_array_equal(X4, X1)
    X5, _ = make_addition(100, random_state=rng)
    assert not np.array_equal(X5, X4)


def test_make_addition_doctest_values():
    X, y = make_addition(3, n_bits=8, random_state=0)
    assert_array_equal(X, [[44, 47], [117, 64], [67, 123]])
    assert_array_equal(y, [91, 181, 190])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": -3}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_bits": 0}, "n_bits"),
        ({"n_bits": 63}, "n_bits"),
        ({"n_bits": "8"}, "n_bits"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_make_addition_invalid_params(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_addition(**params)
    # InvalidParameterError is a ValueError, so plain callers can catch that.
    with pytest.raises(ValueError, match=match):
        make_addition(**params)
