"""Workspaces: the minibatches of a fit reuse their arrays.

Reusing memory must change no number: a loss and its gradients computed in a
workspace that earlier batches wrote into equal, bit for bit, those computed
in fresh arrays, and a fit equals a fit that allocates every array afresh.
"""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_lstm import LSTMSequenceClassifier, RNNBinaryAdder, _parallel
from sklearn_lstm._cells import CELLS
from sklearn_lstm._network import Network
from sklearn_lstm._workspace import Workspace
from sklearn_lstm.datasets import make_addition

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, T, D, H, K = 6, 5, 3, 4, 3

CASES = [
    # cell, readout, bidirectional, masked, dropout, n_layers
    *itertools.product(list(CELLS), ["last"], [False, True], [False, True], [0.0], [2]),
    ("lstm", "mean", True, True, 0.3, 2),
    ("lstm", "max", False, True, 0.3, 2),
    ("lstm", None, True, False, 0.3, 1),
    ("rnn_tanh", "mean", False, False, 0.3, 1),
]


def _batch(seed, masked):
    """Inputs (zero at padded steps), mask, one-hot targets, sample weights."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N, T, D))
    mask = None
    if masked:
        mask = np.arange(T) < rng.randint(1, T + 1, size=N)[:, None]
        X[~mask] = 0
    return X, mask, rng.uniform(0.5, 2.0, N)


@pytest.mark.parametrize(
    "cell, readout, bidirectional, masked, dropout, n_layers",
    CASES,
    ids=[f"{c}-{r}-bi{int(b)}-mask{int(m)}-drop{d}-L{n}" for c, r, b, m, d, n in CASES],
)
def test_workspace_gives_the_numbers_of_fresh_arrays(
    cell, readout, bidirectional, masked, dropout, n_layers
):
    net = Network(
        cell,
        D,
        H,
        n_layers,
        K,
        "softmax",
        readout,
        bidirectional,
        dropout=dropout,
        weight_drop=dropout,
        input_noise=np.full(D, dropout) if dropout else None,
    )
    params = net.initialize(np.random.RandomState(0), np.float64)
    rng = np.random.RandomState(1)
    targets = np.eye(K)[rng.randint(0, K, (N,) if readout else (N, T))]

    def loss_grad(seed, workspace):
        X, mask, sample_weight = _batch(seed, masked)
        loss, grads = net.loss_grad(
            params,
            X,
            mask,
            targets,
            sample_weight,
            draws=net.draw(X.shape, X.dtype, np.random.RandomState(seed)),
            workspace=workspace,
        )
        return loss, [g.copy() for g in grads]

    workspace = Workspace()
    for seed in [2, 3, 2]:  # a batch, another one, the first one again
        fresh_loss, fresh_grads = loss_grad(seed, None)
        loss, grads = loss_grad(seed, workspace)
        assert loss == fresh_loss
        for g, fresh in zip(grads, fresh_grads):
            assert_array_equal(g, fresh)


def test_workspace_keeps_the_largest_memory_of_each_name():
    workspace = Workspace()
    a = workspace.empty("a", (2, 3), np.float64)
    assert np.shares_memory(workspace.empty("a", (2, 3), np.float64), a)
    assert np.shares_memory(workspace.empty("a", (3, 2), np.float64), a)
    small = workspace.empty("a", (1, 3), np.float64)  # the start of a's memory
    assert small.shape == (1, 3) and small.flags.c_contiguous
    assert np.shares_memory(small, a)
    assert not np.shares_memory(workspace.empty("b", (2, 3), np.float64), a)
    big = workspace.empty("a", (4, 3), np.float64)  # too large: replaced
    assert big.shape == (4, 3) and not np.shares_memory(big, a)
    assert np.shares_memory(workspace.empty("a", (2, 3), np.float64), big)
    single = workspace.empty("a", (2, 3), np.float32)  # another dtype: replaced
    assert single.dtype == np.float32 and not np.shares_memory(single, big)
    a = workspace.empty("a", (2, 3), np.float64)
    a[...] = 1
    assert_array_equal(workspace.zeros("a", (2, 3), np.float64), 0)
    assert workspace.child(0) is workspace.child(0)
    assert not np.shares_memory(workspace.child(0).empty("a", (2, 3), np.float64), a)


@pytest.mark.parametrize(
    "make_model, data",
    [
        (
            lambda: LSTMSequenceClassifier(hidden_size=5, max_iter=3, random_state=0),
            lambda: _ragged_classes(130),
        ),
        (  # two shards per batch, side by side in threads
            lambda: LSTMSequenceClassifier(
                hidden_size=5, max_iter=3, batch_size=120, random_state=0
            ),
            lambda: _ragged_classes(250),
        ),
        (
            lambda: RNNBinaryAdder(max_iter=3, random_state=0),
            lambda: make_addition(200, n_bits=6, random_state=0),
        ),
    ],
    ids=["classifier", "classifier-shards", "adder"],
)
def test_fit_equals_a_fit_in_fresh_arrays(make_model, data, monkeypatch):
    X, y = data()
    reused = make_model().fit(X, y)
    monkeypatch.setattr(_parallel, "Workspace", lambda: None)  # fresh arrays
    fresh = make_model().fit(X, y)
    for p, q in zip(reused._params, fresh._params):
        assert_array_equal(p, q)
    assert reused.loss_curve_ == fresh.loss_curve_


def _ragged_classes(n_samples):
    """Sequences of random lengths, NaN-padded, and three classes."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 7, 3))
    X[np.arange(7) >= rng.randint(2, 8, size=n_samples)[:, None]] = np.nan
    return X, rng.randint(0, 3, size=n_samples)
