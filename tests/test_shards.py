"""Minibatches split into shards computed side by side in threads.

The shards' losses and gradients must add up to the whole batch's (up to
rounding), training must stay reproducible, and the thread pool must not
outlive ``fit``, whatever happens in it.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_lstm import LSTMSequenceClassifier, LSTMSequenceTagger, _parallel
from sklearn_lstm._network import Network
from sklearn_lstm._testing import network_batch

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NOISY = {"input_noise": 0.1, "dropout": 0.2, "weight_drop": 0.3}


def _ragged(n_samples, seed, n_timesteps=7, n_features=3):
    """Sequences of random lengths, NaN-padded, and binary labels."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features))
    lengths = rng.randint(2, n_timesteps + 1, size=n_samples)
    X[np.arange(n_timesteps) >= lengths[:, None]] = np.nan
    return X, rng.randint(0, 2, size=n_samples)


@pytest.mark.parametrize("n_workers", [1, 2])
@pytest.mark.parametrize(
    "est",
    [
        LSTMSequenceClassifier(hidden_size=5, alpha=0.01, **NOISY),
        LSTMSequenceClassifier(hidden_size=4, n_layers=2, bidirectional=True),
        LSTMSequenceClassifier(hidden_size=4, readout="mean", **NOISY),
        LSTMSequenceTagger(hidden_size=4, bidirectional=True, alpha=0.1, **NOISY),
    ],
    ids=["noisy", "deep-bidirectional", "mean", "tagger"],
)
def test_sharded_gradients_equal_unsharded(est, n_workers, monkeypatch):
    monkeypatch.setattr(_parallel, "usable_cores", lambda: n_workers)
    X, y = _ragged(230, seed=0)
    if isinstance(est, LSTMSequenceTagger):
        y = [np.random.RandomState(1).randint(0, 3, size=7) for _ in range(230)]
    est.set_params(max_iter=1, random_state=0).fit(X, y)
    Xv, mask, targets, _ = network_batch(est, X, y)
    weights = np.random.RandomState(2).uniform(0.5, 2, size=len(Xv))
    draws = est._network.draw(Xv.shape, Xv.dtype, np.random.RandomState(3))
    whole = est._loss_grad(Xv, mask, targets, weights, draws=draws)
    with _parallel.Shards(len(Xv)) as shards:
        assert shards.n_shards == 2
        assert shards.parallel == (n_workers > 1)
        sharded = est._loss_grad(
            Xv,
            mask,
            targets,
            weights,
            draws=draws,
            shards=shards,
        )
    assert_allclose(sharded[0], whole[0], rtol=1e-12)
    for g_sharded, g_whole in zip(sharded[1], whole[1]):
        assert_allclose(g_sharded, g_whole, rtol=1e-12, atol=1e-12 * abs(g_whole).max())


def test_shards_are_contiguous_and_cover_the_batch():
    seen, workspaces = [], []

    def fn(rows, workspace):
        seen.append(rows)
        workspaces.append(workspace)
        return 1.0, [np.ones(2)]

    with _parallel.Shards(200) as shards:
        loss, grads = shards.map_sum(fn, 101)
    assert [(s.start, s.stop) for s in seen] == [(0, 50), (50, 101)]
    assert workspaces[0] is not workspaces[1]  # each shard thread has its own
    assert loss == 2.0
    assert_array_equal(grads[0], [2.0, 2.0])
    assert _parallel._n_shards(32) == 1  # the adder's batches are not split
    assert _parallel._n_shards(10**4) == _parallel.MAX_SHARDS


def test_same_random_state_same_model():
    X, y = _ragged(400, seed=1)
    est = LSTMSequenceClassifier(hidden_size=6, max_iter=3, random_state=0, **NOISY)
    a, b = (LSTMSequenceClassifier(**est.get_params()).fit(X, y) for _ in range(2))
    for p, q in zip(a._params, b._params):
        assert_array_equal(p, q)
    assert a.loss_curve_ == b.loss_curve_


class _RecordingPool(ThreadPoolExecutor):
    """A thread pool that remembers its instances."""

    instances = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instances.append(self)


@pytest.fixture
def pools(monkeypatch):
    monkeypatch.setattr(_parallel, "ThreadPoolExecutor", _RecordingPool)
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    _RecordingPool.instances = []
    return _RecordingPool.instances


def test_thread_pool_is_shut_down_after_fit(pools):
    X, y = _ragged(300, seed=0)
    LSTMSequenceClassifier(
        hidden_size=4, batch_size=200, max_iter=2, random_state=0
    ).fit(X, y)
    assert len(pools) == 1
    assert pools[0]._shutdown


def test_thread_pool_is_shut_down_when_a_shard_raises(pools, monkeypatch):
    loss_grad = Network.loss_grad
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return loss_grad(self, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_grad", failing)
    X, y = _ragged(300, seed=0)
    est = LSTMSequenceClassifier(
        hidden_size=4, batch_size=200, max_iter=3, random_state=0
    )
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X, y)
    assert not hasattr(est, "n_iter_")  # _fit restored the unfitted estimator
    assert len(pools) == 1
    assert pools[0]._shutdown


def test_thread_pool_is_shut_down_after_ctrl_c(pools, monkeypatch):
    run_epoch = LSTMSequenceClassifier._run_epoch
    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_epoch(self, *args)

    monkeypatch.setattr(LSTMSequenceClassifier, "_run_epoch", interrupted)
    X, y = _ragged(300, seed=0)
    est = LSTMSequenceClassifier(
        hidden_size=4, batch_size=200, max_iter=3, random_state=0
    )
    with pytest.warns(UserWarning, match="interrupted by user"):
        est.fit(X, y)
    assert est.n_iter_ == 1
    assert len(pools) == 1
    assert pools[0]._shutdown
