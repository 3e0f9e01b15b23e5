"""The shared network: weight spec, readouts, bidirectional layers, dropout.

Gradients of every weight and of the input are checked against centred
differences for every combination of readout, direction, padding and dropout;
the behaviour tests check what the gradients cannot: that padding never
reaches the reversed direction, that the readouts read what they say, and that
dropout happens in training only.
"""

import itertools
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_lstm import _validation
from sklearn_lstm._cells import CELLS
from sklearn_lstm._network import HEADS, Network, add_l2_penalty
from sklearn_lstm._validation import check_network_size

N, T, D, H, K = 5, 4, 3, 3, 3
LENGTHS = np.array([4, 1, 3, 2, 4])
GRAD_TOL = 1e-7


def _directional_derivative(f, x, direction, h=1e-3):
    """Derivative of the scalar ``f()`` along ``direction`` at ``x`` (perturbed
    in place, then restored): Richardson extrapolation of two centred
    differences, exact to fourth order."""
    before = x.copy()

    def centred(step):
        x[...] = before + step * direction
        pos = f()
        x[...] = before - step * direction
        neg = f()
        return (pos - neg) / (2 * step)

    value = (4 * centred(h / 2) - centred(h)) / 3
    x[...] = before
    return value


def _check_gradient(grad, f, x, seed):
    """``grad`` of the scalar ``f()`` w.r.t. ``x``, projected on a random
    direction and on its own sign pattern, matches finite differences."""
    rng = np.random.RandomState(seed)
    for direction in (rng.normal(size=x.shape), np.sign(grad)):
        expected = _directional_derivative(f, x, direction)
        got = float(np.vdot(grad, direction))
        assert abs(got - expected) <= GRAD_TOL * max(1.0, abs(expected)), (
            got,
            expected,
        )


def _network(readout="last", bidirectional=False, cell="lstm", head="softmax", **kw):
    kw = {"n_inputs": D, "hidden_size": H, "n_layers": 2, "n_outputs": K} | kw
    return Network(cell, head=head, readout=readout, bidirectional=bidirectional, **kw)


def _problem(net, masked, seed=0):
    """Perturbed initial weights, inputs (zero at padded steps), mask, targets."""
    rng = np.random.RandomState(seed)
    params = net.initialize(np.random.RandomState(seed + 1), np.float64)
    params = [p + 0.1 * rng.normal(size=p.shape) for p in params]
    X = rng.normal(size=(N, T, net.n_inputs))
    mask = None
    if masked:
        mask = np.arange(T) < LENGTHS[:, None]
        X[~mask] = 0
    shape = (N,) if net.readout else (N, T)
    if net.head == "softmax":
        targets = np.eye(net.n_outputs)[rng.randint(0, net.n_outputs, shape)]
    else:
        targets = rng.uniform(size=shape + (net.n_outputs,))
    return params, X, mask, targets, rng.uniform(0.5, 2.0, N)


# Every readout in both directions with padding; unpadded and dropout cases on
# top (each case differences every weight: keep the list short).
OPTIONS = [
    *itertools.product(
        ["last", "mean", "max", "mean_max", None], [False, True], [True], [0.0], [1]
    ),
    ("last", False, False, 0.0, 1),
    ("mean", True, False, 0.0, 1),
    ("max", True, True, 0.3, 1),
    ("mean_max", True, False, 0.3, 2),
    (None, True, True, 0.3, 1),
    ("mean", True, True, 0.3, 3),  # patches of 3 steps: 4 steps make 2
    ("last", False, True, 0.0, 2),
]


@pytest.mark.parametrize(
    "readout, bidirectional, masked, dropout, patch_size",
    OPTIONS,
    ids=[f"{r}-bi{int(b)}-mask{int(m)}-drop{d}-patch{p}" for r, b, m, d, p in OPTIONS],
)
def test_gradients_match_finite_differences(
    readout, bidirectional, masked, dropout, patch_size
):
    _assert_exact_gradients(readout, bidirectional, masked, dropout, patch_size)


# The skip: per step and many-to-one, ragged, with patches, dropout and noise,
# and a window longer than the sequences (T = 4).
SKIP_OPTIONS = [
    (None, False, True, 0.0, 1, 2),
    (None, True, True, 0.3, 1, 1),
    (None, False, False, 0.0, 1, 5),
    ("last", False, True, 0.3, 1, 3),
    ("mean_max", True, True, 0.3, 3, 2),
    ("last", False, False, 0.0, 2, 1),
    ("max", True, True, 0.0, 1, 5),
]


@pytest.mark.parametrize(
    "readout, bidirectional, masked, dropout, patch_size, skip",
    SKIP_OPTIONS,
    ids=[
        f"{r}-bi{int(b)}-mask{int(m)}-drop{d}-patch{p}-skip{k}"
        for r, b, m, d, p, k in SKIP_OPTIONS
    ],
)
def test_skip_gradients_match_finite_differences(
    readout, bidirectional, masked, dropout, patch_size, skip
):
    _assert_exact_gradients(
        readout, bidirectional, masked, dropout, patch_size, skip=skip
    )


def _assert_exact_gradients(
    readout, bidirectional, masked, dropout, patch_size, skip=0
):
    """Every weight's gradient and that of the input match finite
    differences, with the L2 penalty, and padded steps get no gradient."""
    net = _network(
        readout,
        bidirectional,
        n_layers=1 + bidirectional,
        patch_size=patch_size,
        dropout=dropout,
        weight_drop=dropout,
        input_noise=np.full(D, dropout) if dropout else None,
        skip=skip,
    )
    params, X, mask, targets, sample_weight = _problem(net, masked)

    def run():  # the same dropout masks at every call
        if not dropout:
            return {}
        return {"draws": net.draw(X.shape, X.dtype, np.random.RandomState(3))}

    def loss():  # with the L2 penalty, as the estimators add it
        loss, grads = net.loss_grad(params, X, mask, targets, sample_weight, **run())
        total = float(sample_weight.sum())
        loss += add_l2_penalty(params, grads, net.penalized(), 0.1, total)
        return loss, grads

    _, grads = loss()
    for k, (param, grad) in enumerate(zip(params, grads)):
        assert np.abs(grad).max() > 0, f"weight {k} does not reach the loss"
        _check_gradient(grad, lambda: loss()[0], param, seed=k)

    logits, cache = net.forward(params, X, mask, **run())
    dlogits = np.random.RandomState(1).normal(size=logits.shape)
    _, dX = net.backward(dlogits, cache, params)

    def projected_output():
        return float(np.vdot(net.forward(params, X, mask, **run())[0], dlogits))

    if masked:
        assert (dX[~mask] == 0).all()  # padded steps get no gradient
    _check_gradient(dX, projected_output, X, seed=99)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("head", list(HEADS))
def test_every_cell_and_head(cell, head):
    net = _network("max", True, cell=cell, head=head, n_layers=1)
    params, X, mask, targets, sample_weight = _problem(net, masked=True)

    def loss():
        return net.loss_grad(params, X, mask, targets, sample_weight)

    _, grads = loss()
    for k, (param, grad) in enumerate(zip(params, grads)):
        _check_gradient(grad, lambda: loss()[0], param, seed=k)


def _unpadded(net, params, X, lengths):
    """Each sequence run alone, at its own length."""
    return np.concatenate(
        [
            net.features(params, np.repeat(X[i : i + 1, :n], 2, axis=0))[0][:1]
            for i, n in enumerate(lengths)
        ]
    )


@pytest.mark.parametrize("readout", ["last", "mean", "max", "mean_max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_reaches_a_sequence(readout, bidirectional):
    """A padded batch reads each sequence as it reads it alone: padding never
    enters the reversed direction, the mean or the max."""
    net = _network(readout, bidirectional)
    params, X, mask, _, _ = _problem(net, masked=True)
    X[~mask] = 1e3  # would show if read
    z, _ = net.features(params, X, mask)
    assert_allclose(z, _unpadded(net, params, X, LENGTHS), rtol=1e-12, atol=1e-14)


def test_bidirectional_last_reads_both_ends():
    """'last' reads the forward state after the last real step and the
    backward state after it read the first step (PyTorch's ``h_n``)."""
    net = _network("last", True, n_layers=1)
    params, X, mask, _, _ = _problem(net, masked=True)
    z, _ = net.features(params, X, mask)
    h, _ = _network(None, True, n_layers=1).features(params, X, mask)
    last = LENGTHS - 1
    assert_array_equal(z[:, :H], h[np.arange(N), last, :H])
    assert_array_equal(z[:, H:], h[:, 0, H:])
    # The backward direction is a forward cell over the reversed sequences.
    forward = CELLS["lstm"].forward
    for i, n in enumerate(LENGTHS):
        x = X[i : i + 1, :n][:, ::-1]
        zeros = np.zeros((1, H))
        hs, _, _ = forward(x, zeros, zeros, *params[3:6])
        assert_allclose(h[i, :n, H:], hs[0, ::-1], rtol=1e-12)


def _mean_max(a, axis):
    return np.concatenate([np.mean(a, axis=axis), np.max(a, axis=axis)])


@pytest.mark.parametrize(
    "readout, reduce", [("mean", np.mean), ("max", np.max), ("mean_max", _mean_max)]
)
def test_mean_and_max_readouts(readout, reduce):
    net = _network(readout, True)
    params, X, mask, _, _ = _problem(net, masked=True)
    z, _ = net.features(params, X, mask)
    h, _ = _network(None, True).features(params, X, mask)
    expected = [reduce(h[i, :n], axis=0) for i, n in enumerate(LENGTHS)]
    assert_allclose(z, expected, rtol=1e-12)
    assert net.spec()[-2].shape[0] == z.shape[1] == net.n_readout


def test_dropout_only_in_training():
    net = _network("last", True, dropout=0.5)
    params, X, mask, targets, sample_weight = _problem(net, masked=True)
    plain = _network("last", True).forward(params, X, mask)[0]
    # Without draws (prediction), the rates change nothing.
    assert_array_equal(net.forward(params, X, mask)[0], plain)
    # With them, they do, and the same seed gives the same masks.
    rng = np.random.RandomState

    def draws(net, seed):
        return net.draw(X.shape, X.dtype, rng(seed))

    a = net.forward(params, X, mask, draws=draws(net, 0))[0]
    b = net.forward(params, X, mask, draws=draws(net, 0))[0]
    assert_array_equal(a, b)
    assert not np.allclose(a, plain)
    dropped = _network("last", True, weight_drop=0.5)
    c = dropped.forward(params, X, mask, draws=draws(dropped, 0))[0]
    assert not np.allclose(c, plain)
    # Zero rates draw nothing.
    assert _network("last", True).draw(X.shape, X.dtype, rng(0)) is None


def test_input_noise_only_in_training_and_per_feature():
    scale = np.array([0.0, 1.0, 0.0])  # noise on the second feature only
    net = _network("last", False, input_noise=scale)
    params, X, mask, _, _ = _problem(net, masked=True)
    plain = _network("last", False).forward(params, X, mask)[0]
    assert_array_equal(net.forward(params, X, mask)[0], plain)
    rng = np.random.RandomState
    a, cache = net.forward(params, X, mask, draws=net.draw(X.shape, X.dtype, rng(0)))
    assert not np.allclose(a, plain)
    b, _ = net.forward(params, X, mask, draws=net.draw(X.shape, X.dtype, rng(0)))
    assert_array_equal(a, b)
    # The noise scale multiplies the noise: zero gives the plain outputs.
    zero = net.draw(X.shape, X.dtype, rng(0), noise_scale=0.0)
    assert_array_equal(net.forward(params, X, mask, draws=zero)[0], plain)
    # What the first layer read: X plus noise in the second feature only.
    x_read = cache["cells"][0][0][0][:, :, :D].transpose(1, 0, 2)
    assert_array_equal(x_read[:, :, [0, 2]], X[:, :, [0, 2]])
    assert not np.allclose(x_read[:, :, 1], X[:, :, 1])


def test_dropout_mask_is_the_same_at_every_step():
    net = _network(None, False, n_layers=1, dropout=0.5)
    params, X, _, _, _ = _problem(net, masked=False)
    draws = net.draw(X.shape, X.dtype, np.random.RandomState(0))
    _, cache = net.forward(params, X, draws=draws)
    keep = cache["keeps"][0]
    assert keep.shape == (N, 1, H)  # one mask per sequence, broadcast over time
    assert set(np.unique(keep)) <= {0.0, 2.0}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spec_and_initialize(dtype):
    net = _network("last", True)

    params = net.initialize(np.random.RandomState(0), dtype)
    spec = net.spec()
    assert [p.shape for p in params] == [w.shape for w in spec]
    assert all(p.dtype == dtype for p in params)
    assert len(params) == 3 * 2 * 2 + 2  # layers times directions, then the head
    assert params[6].shape == (2 * H, 4 * H)  # the second layer reads both directions
    assert [spec[k].role for k in net.penalized()] == (
        ["input", "recurrent"] * 4 + ["output"]
    )
    # The forget gates' biases start at 1, the others at 0.
    for b in params[2:-2:3]:
        assert_array_equal(b, np.repeat([0, 1, 0, 0], H))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_patches_are_consecutive_steps_read_as_one(bidirectional):
    """A network with patches of 2 steps reads what a network of twice the
    inputs reads from the steps concatenated in pairs; a patch is real when
    its first step is, and a final half patch is padded with zeros."""
    net = _network("mean", bidirectional, patch_size=2)
    params, X, mask, _, _ = _problem(net, masked=True)
    X = X[:, :3]  # an odd number of steps: the last patch is half padding
    mask = mask[:, :3]
    plain = _network("mean", bidirectional, n_inputs=2 * D)
    pairs = np.concatenate([X, np.zeros((N, 1, D))], axis=1).reshape(N, 2, 2 * D)
    expected, _ = plain.features(params, pairs, mask[:, ::2])
    assert_array_equal(net.features(params, X, mask)[0], expected)


def test_state_is_carried_across_calls():
    """Running a sequence in two halves, the second from the first's final
    state, gives the states of one run: what a language model does."""
    net = _network(None, False)
    params, X, _, _, _ = _problem(net, masked=False)
    whole, _ = net.features(params, X)
    first, cache = net.features(params, X[:, :2])
    second, _ = net.features(params, X[:, 2:], state=cache["last"])
    assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("readout", ["last", "mean_max", None])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("n_layers", [1, 3])
def test_network_size_check_counts_every_weight(
    cell, readout, bidirectional, n_layers, monkeypatch
):
    """check_network_size counts by formula what the spec lists: it passes at
    exactly that many weights and raises at one fewer allowed."""
    n_inputs, hidden_size, n_outputs, patch_size = 5, 7, 4, 2  # all different
    net = Network(
        cell,
        n_inputs,
        hidden_size,
        n_layers,
        n_outputs,
        "softmax",
        readout=readout,
        bidirectional=bidirectional,
        patch_size=patch_size,
    )
    n_weights = sum(int(np.prod(w.shape)) for w in net.spec())
    sizes = (hidden_size, n_layers, n_inputs * patch_size, n_outputs)
    options = {
        "weight_shapes": CELLS[cell].weight_shapes,
        "n_directions": net.n_directions,
        "n_readout": net.n_readout,
    }
    monkeypatch.setattr(_validation, "MAX_WEIGHTS", n_weights)
    check_network_size(*sizes, **options)
    monkeypatch.setattr(_validation, "MAX_WEIGHTS", n_weights - 1)
    with pytest.raises(ValueError, match=re.escape(f"network of {n_weights:.3g} w")):
        check_network_size(*sizes, **options)


def _lags(X, k):
    """``x[t], x[t-1], ..., x[t-k+1]`` side by side, zeros before step 0."""
    N, T, D = X.shape
    padded = np.concatenate([np.zeros((N, k, D)), X], axis=1)
    return np.concatenate([padded[:, k - j : k - j + T] for j in range(k)], axis=2)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_per_step_skip_reads_the_recent_steps(bidirectional):
    """A per-step network with ``skip=k`` reads its states at each step, then
    the inputs of the k steps up to it (most recent first); zeros at padded
    steps, whose inputs never reach a real step."""
    k = 2
    net = _network(None, bidirectional, skip=k)
    params, X, mask, _, _ = _problem(net, masked=True)
    X[~mask] = 1e3  # would show if read
    z, _ = net.features(params, X, mask)
    h, _ = _network(None, bidirectional).features(params, X, mask)
    assert z.shape == (N, T, net.n_readout) and net.n_readout == h.shape[2] + k * D
    assert_array_equal(z[:, :, : h.shape[2]], h)
    expected = _lags(np.where(mask[:, :, None], X, 0), k)
    expected[~mask] = 0
    assert_array_equal(z[:, :, h.shape[2] :], expected)


@pytest.mark.parametrize("readout", ["last", "mean_max"])
@pytest.mark.parametrize("patch_size", [1, 3])
def test_many_to_one_skip_reads_the_last_real_steps(readout, patch_size):
    """A many-to-one network reads the inputs of the ``skip`` steps up to
    each sequence's last real step, before patching (zeros before its first
    step), as it reads each sequence alone."""
    k = 3
    net = _network(readout, True, patch_size=patch_size, skip=k)
    params, X, mask, _, _ = _problem(net, masked=True)
    X[~mask] = 1e3
    z, _ = net.features(params, X, mask)
    assert z.shape == (N, net.n_readout)
    plain = _network(readout, True, patch_size=patch_size)
    n_z = plain.n_readout
    assert_array_equal(z[:, :n_z], plain.features(params, X, mask)[0])
    for i, n in enumerate(LENGTHS):
        assert_array_equal(z[i, n_z:], _lags(X[i : i + 1, :n], k)[0, -1])
    assert_allclose(z, _unpadded(net, params, X, LENGTHS), rtol=1e-12, atol=1e-14)


def test_skip_reads_the_noisy_inputs_and_takes_no_dropout():
    net = _network("last", False, n_layers=1, skip=1, dropout=0.9)
    net.input_noise = np.ones(D)
    params, X, _, _, _ = _problem(net, masked=False)
    draws = net.draw(X.shape, X.dtype, np.random.RandomState(0))
    z, _ = net.features(params, X, draws=draws)
    assert_array_equal(z[:, -D:], X[:, -1] + draws.noise[:, -1])


def test_skip_weights_are_head_rows_and_part_of_the_architecture():
    net = _network(None, True, skip=2)
    spec = net.spec()
    assert spec[-2].shape == (2 * H + 2 * D, K) and spec[-2].role == "output"
    params = net.initialize(np.random.RandomState(0), np.float64)
    assert params[-2].shape == spec[-2].shape
    assert net.describe().endswith(", skip=2")
    assert "skip" not in _network(None, True).describe()
    # A network pickled before the option existed has no skip.
    old = _network(None, True)
    del old.skip
    assert old.skip == 0 and old.n_readout == 2 * H
    with pytest.raises(ValueError, match="no per-step skip"):
        _network(None, False, patch_size=2, skip=1)


@pytest.mark.parametrize("readout", ["last", None])
def test_network_size_check_counts_the_skip(readout, monkeypatch):
    net = _network(readout, True, n_inputs=5, skip=3)
    n_weights = sum(int(np.prod(w.shape)) for w in net.spec())
    options = {
        "weight_shapes": CELLS["lstm"].weight_shapes,
        "n_directions": 2,
        "n_readout": net.n_readout,
    }
    monkeypatch.setattr(_validation, "MAX_WEIGHTS", n_weights)
    check_network_size(H, 2, 5, K, **options)
    monkeypatch.setattr(_validation, "MAX_WEIGHTS", n_weights - 1)
    with pytest.raises(ValueError, match="network of"):
        check_network_size(H, 2, 5, K, **options)
