"""Tests of the recurrent cells, the stable activations and the losses.

Every backward function is checked against centred differences (float64, tiny
sizes, random upstream gradient), the sequence functions against a loop of the
step functions (Karpathy's ``checkSequentialMatchesBatch``), and masked batches
against the same sequences run one at a time without padding.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_lstm import config_context
from sklearn_lstm._activations import log_sigmoid, log_softmax, sigmoid, softmax
from sklearn_lstm._backend import compiled_module
from sklearn_lstm._cells import (
    CELLS,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from sklearn_lstm._losses import binary_log_loss, log_loss
from sklearn_lstm._testing import numerical_gradient, relative_error
from sklearn_lstm._workspace import Workspace

SEEDS = [0, 1, 2]
N, T, D, H = 3, 4, 3, 4
LENGTHS = np.array([4, 1, 3])  # one full sequence, one of length 1, one padded
MASKS = {
    None: None,
    "trailing": np.arange(T) < LENGTHS[:, None],
    # Padding anywhere, not only at the end: a padded step copies the state.
    "holes": np.array(
        [
            [True, False, True, True],
            [False, True, True, False],
            [True, True, False, True],
        ]
    ),
}
GRAD_TOL = 1e-6
# Step of the centred differences. The check takes the largest *elementwise*
# relative error, so its weakest point is a gradient entry 1e4 times smaller
# than the rest, where the rounding error of the differences (about eps / h)
# dominates; the truncation error grows as h**2. h = 2e-5, near eps ** (1/3),
# balances the two: the worst error over 10 seeds is 3e-7, against 7e-6 with
# h = 1e-6 on the same (correct) gradients.
GRAD_STEP = 2e-5


# Sequence cells: forward, backward, extra keyword arguments, names of the
# forward inputs (= the order of the gradients returned by the backward).
def stack_forward(cell, x, layers, mask=None, state=None):
    """Run a stack of recurrent layers, each reading the hidden states below it
    (the way :class:`sklearn_lstm._network.Network` chains the cell functions).

    Parameters
    ----------
    cell : {'lstm', 'rnn_tanh', 'rnn_sigmoid', 'gru'}
    x : ndarray of shape (N, T, D)
    layers : list of tuple (Wx, Wh, b)
        One tuple per layer, bottom first.
    mask : ndarray of shape (N, T), dtype=bool, default=None
    state : list of tuple, default=None
        Initial state of each layer, as returned in ``last``; zeros if None.

    Returns
    -------
    h : ndarray of shape (N, T, H)
        Hidden states of the top layer.
    last : list of tuple
        Final state of each layer.
    caches : list
        Values needed by :func:`stack_backward`.
    """
    forward, n_states = CELLS[cell].forward, CELLS[cell].n_states
    N = x.shape[0]
    h, last, caches = x, [], []
    for layer, params in enumerate(layers):
        if state is None:
            H = params[1].shape[0]
            layer_state = [np.zeros((N, H), dtype=x.dtype)] * n_states
        else:
            layer_state = state[layer]
        h, layer_last, cache = forward(h, *layer_state, *params, mask=mask)
        last.append(layer_last)
        caches.append(cache)
    return h, last, caches


def stack_backward(cell, dh, caches):
    """Backward pass of :func:`stack_forward`.

    Returns
    -------
    dx : ndarray of shape (N, T, D)
    dstate : list of tuple
        Gradient of each layer's initial state.
    grads : list of tuple (dWx, dWh, db)
        One tuple per layer, bottom first.
    """
    backward, n_states = CELLS[cell].backward, CELLS[cell].n_states
    dstate, grads = [], []
    for cache in reversed(caches):
        dh, *rest = backward(dh, cache)
        dstate.append(tuple(rest[:n_states]))
        grads.append(tuple(rest[n_states:]))
    return dh, dstate[::-1], grads[::-1]


SEQUENCE_CELLS = {
    "lstm": (lstm_forward, lstm_backward, {}, ["x", "h0", "c0", "Wx", "Wh", "b"]),
    "rnn_tanh": (
        rnn_forward,
        rnn_backward,
        {"activation": "tanh"},
        ["x", "h0", "Wx", "Wh", "b"],
    ),
    "rnn_sigmoid": (
        rnn_forward,
        rnn_backward,
        {"activation": "sigmoid"},
        ["x", "h0", "Wx", "Wh", "b"],
    ),
    "gru": (gru_forward, gru_backward, {}, ["x", "h0", "Wx", "Wh", "b"]),
}
N_STATES = {"lstm": 2, "rnn_tanh": 1, "rnn_sigmoid": 1, "gru": 1}


def _inputs(cell, rng, n=N, t=T, d=D, h=H, dtype=np.float64, step=False):
    """Random forward inputs ``[x, *states, Wx, Wh, b]`` of the given cell.

    ``step=True`` gives a single time step, ``x`` of shape ``(n, d)``.
    """
    x_shape = (n, d) if step else (n, t, d)
    arrays = [rng.normal(size=x_shape)]
    arrays += [rng.normal(scale=0.5, size=(n, h)) for _ in range(N_STATES[cell])]
    arrays += [
        rng.normal(scale=0.5, size=shape) for shape in CELLS[cell].weight_shapes(d, h)
    ]
    return [a.astype(dtype) for a in arrays]


def _sequence_forward(cell, inputs, mask=None):
    forward, _, kwargs, _ = SEQUENCE_CELLS[cell]
    return forward(*inputs, mask=mask, **kwargs)


def _sequence_backward(cell, dh, cache):
    return SEQUENCE_CELLS[cell][1](dh, cache)


def _layers(cell, rng, sizes, dtype=np.float64):
    """One ``(Wx, Wh, b)`` per layer; ``sizes`` is ``[D, H_1, H_2, ...]``."""
    return [
        tuple(
            rng.normal(scale=0.5, size=shape).astype(dtype)
            for shape in CELLS[cell].weight_shapes(d_in, h_out)
        )
        for d_in, h_out in zip(sizes[:-1], sizes[1:])
    ]


def _check_gradient(grad, f, x, dout, name):
    num = numerical_gradient(f, x, dout, h=GRAD_STEP)
    assert grad.shape == x.shape, name
    err = relative_error(grad, num)
    assert err < GRAD_TOL, f"{name}: relative error {err:.3g}"


# ---------------------------------------------------------------------------
# Gradient checks against centred differences
# ---------------------------------------------------------------------------

LSTM_STEP_NAMES = ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
RNN_STEP_NAMES = ["x", "prev_h", "Wx", "Wh", "b"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("wrt", range(len(LSTM_STEP_NAMES)), ids=LSTM_STEP_NAMES)
def test_lstm_step_backward_numerical(wrt, seed):
    rng = np.random.RandomState(seed)
    inputs = _inputs("lstm", rng, step=True)
    next_h, next_c, cache = lstm_step_forward(*inputs)
    dnext_h = rng.normal(size=next_h.shape)
    dnext_c = rng.normal(size=next_c.shape)
    grads = lstm_step_backward(dnext_h, dnext_c, cache)
    assert len(grads) == len(inputs)

    def f():  # both outputs at once, against both upstream gradients
        return np.concatenate(lstm_step_forward(*inputs)[:2], axis=1)

    dout = np.concatenate([dnext_h, dnext_c], axis=1)
    _check_gradient(grads[wrt], f, inputs[wrt], dout, LSTM_STEP_NAMES[wrt])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("wrt", range(len(RNN_STEP_NAMES)), ids=RNN_STEP_NAMES)
def test_rnn_step_backward_numerical(wrt, activation, seed):
    rng = np.random.RandomState(seed)
    inputs = _inputs("rnn_" + activation, rng, step=True)
    next_h, cache = rnn_step_forward(*inputs, activation=activation)
    dnext_h = rng.normal(size=next_h.shape)
    grads = rnn_step_backward(dnext_h, cache)
    assert len(grads) == len(inputs)

    def f():
        return rnn_step_forward(*inputs, activation=activation)[0]

    _check_gradient(grads[wrt], f, inputs[wrt], dnext_h, RNN_STEP_NAMES[wrt])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("wrt", range(len(RNN_STEP_NAMES)), ids=RNN_STEP_NAMES)
def test_gru_step_backward_numerical(wrt, seed):
    rng = np.random.RandomState(seed)
    inputs = _inputs("gru", rng, step=True)
    next_h, cache = gru_step_forward(*inputs)
    dnext_h = rng.normal(size=next_h.shape)
    grads = gru_step_backward(dnext_h, cache)
    assert len(grads) == len(inputs)

    def f():
        return gru_step_forward(*inputs)[0]

    _check_gradient(grads[wrt], f, inputs[wrt], dnext_h, RNN_STEP_NAMES[wrt])


def test_gru_step_forward_is_the_torch_equations():
    """The GRU equations written out gate by gate, ``b = [b_r, b_z, b_in,
    b_hn]``: the reset gate scales the recurrent part of n, its bias included."""
    rng = np.random.RandomState(0)
    x, h, Wx, Wh, b = _inputs("gru", rng, step=True)
    r_, z_, n_, hn_ = (slice(k * H, (k + 1) * H) for k in range(4))
    r = 1 / (1 + np.exp(-(x @ Wx[:, r_] + h @ Wh[:, r_] + b[r_])))
    z = 1 / (1 + np.exp(-(x @ Wx[:, z_] + h @ Wh[:, z_] + b[z_])))
    n = np.tanh(x @ Wx[:, n_] + b[n_] + r * (h @ Wh[:, n_] + b[hn_]))
    next_h, _ = gru_step_forward(x, h, Wx, Wh, b)
    assert_allclose(next_h, (1 - z) * n + z * h, rtol=1e-14, atol=1e-15)


SEQUENCE_WRT = [
    (cell, i) for cell, spec in SEQUENCE_CELLS.items() for i in range(len(spec[3]))
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize(
    "cell, wrt",
    SEQUENCE_WRT,
    ids=[f"{cell}-{SEQUENCE_CELLS[cell][3][i]}" for cell, i in SEQUENCE_WRT],
)
def test_sequence_backward_numerical(cell, wrt, mask, seed):
    rng = np.random.RandomState(seed)
    inputs = _inputs(cell, rng)
    mask = MASKS[mask]
    h, _, cache = _sequence_forward(cell, inputs, mask)
    dout = rng.normal(size=h.shape)  # padded steps too: their h is a real output
    grads = _sequence_backward(cell, dout, cache)
    assert len(grads) == len(inputs)
    _check_gradient(
        grads[wrt],
        lambda: _sequence_forward(cell, inputs, mask)[0],
        inputs[wrt],
        dout,
        SEQUENCE_CELLS[cell][3][wrt],
    )


@pytest.fixture(
    params=[
        "numpy",
        pytest.param(
            "compiled",
            marks=pytest.mark.skipif(
                compiled_module() is None, reason="extension not built"
            ),
        ),
    ]
)
def backend(request):
    """Each implementation of the cells in turn (see sklearn_lstm.set_config)."""
    with config_context(backend=request.param):
        yield request.param


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("mask", [None, "trailing"])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_stack_backward_numerical(cell, n_layers, mask, seed, backend):
    rng = np.random.RandomState(seed)
    sizes = [D, H, H + 1][: n_layers + 1]  # different widths catch shape mix-ups
    x = rng.normal(size=(N, T, D))
    layers = _layers(cell, rng, sizes)
    state = [
        tuple(rng.normal(scale=0.5, size=(N, h)) for _ in range(N_STATES[cell]))
        for h in sizes[1:]
    ]
    mask = MASKS[mask]
    h, last, caches = stack_forward(cell, x, layers, mask=mask, state=state)
    assert h.shape == (N, T, sizes[-1])
    assert len(last) == len(caches) == n_layers
    dout = rng.normal(size=h.shape)
    dx, dstate, grads = stack_backward(cell, dout, caches)
    assert len(dstate) == len(grads) == n_layers

    def f():
        return stack_forward(cell, x, layers, mask=mask, state=state)[0]

    _check_gradient(dx, f, x, dout, "x")
    for layer in range(n_layers):
        assert len(dstate[layer]) == N_STATES[cell]
        for k, (s, ds) in enumerate(zip(state[layer], dstate[layer])):
            _check_gradient(ds, f, s, dout, f"layer {layer} state {k}")
        for name, p, dp in zip(["Wx", "Wh", "b"], layers[layer], grads[layer]):
            _check_gradient(dp, f, p, dout, f"layer {layer} {name}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", list(CELLS))
def test_initialize_gives_the_weight_shapes(cell, dtype):
    """Every cell's ``initialize`` gives ``Wx, Wh, b`` of its ``weight_shapes``
    and ``dtype``: Glorot-bounded input weights, orthogonal recurrent blocks
    (one per gate), and biases that its sequence functions accept."""
    spec = CELLS[cell]
    n_inputs = 5
    params = spec.initialize(np.random.RandomState(0), n_inputs, H, dtype)
    assert [p.shape for p in params] == spec.weight_shapes(n_inputs, H)
    assert all(p.dtype == dtype for p in params)
    Wx, Wh, b = params
    assert Wx.shape[1] == Wh.shape[1] == spec.n_gates * H
    assert np.abs(Wx).max() <= np.sqrt(6.0 / (n_inputs + H))
    for k in range(spec.n_gates):
        block = Wh[:, k * H : (k + 1) * H].astype(np.float64)
        assert_allclose(block.T @ block, np.eye(H), atol=1e-6)
    x = np.random.RandomState(1).normal(size=(2, 3, n_inputs)).astype(dtype)
    states = [np.zeros((2, H), dtype=dtype)] * spec.n_states
    h, _, cache = spec.forward(x, *states, *params)
    grads = spec.backward(np.ones_like(h), cache)
    assert [g.shape for g in grads[-3:]] == [p.shape for p in params]


def test_gru_initialize_biases_are_zero():
    _, _, b = CELLS["gru"].initialize(np.random.RandomState(0), 3, H, np.float64)
    assert_array_equal(b, np.zeros(4 * H))


@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_stack_default_state_is_zeros(cell):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(N, T, D))
    layers = _layers(cell, rng, [D, H, H + 1])
    zeros = [tuple(np.zeros((N, h)) for _ in range(N_STATES[cell])) for h in (H, H + 1)]
    h_default = stack_forward(cell, x, layers)[0]
    h_zeros = stack_forward(cell, x, layers, state=zeros)[0]
    assert_array_equal(h_default, h_zeros)


# ---------------------------------------------------------------------------
# Sequence functions equal a loop of step functions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_lstm_forward_backward_match_step_loop(seed):
    rng = np.random.RandomState(seed)
    x, h0, c0, Wx, Wh, b = inputs = _inputs("lstm", rng)
    h, (h_last, c_last), cache = lstm_forward(*inputs)
    dh = rng.normal(size=h.shape)
    grads = lstm_backward(dh, cache)

    prev_h, prev_c, step_caches = h0, c0, []
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(
            x[:, t], prev_h, prev_c, Wx, Wh, b
        )
        step_caches.append(step_cache)
        assert_allclose(h[:, t], prev_h, rtol=1e-12, atol=1e-14)
    assert_allclose(h_last, prev_h, rtol=1e-12, atol=1e-14)
    assert_allclose(c_last, prev_c, rtol=1e-12, atol=1e-14)

    dx = np.zeros_like(x)
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(c0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, step_caches[t]
        )
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    for name, got, expected in zip(
        ["x", "h0", "c0", "Wx", "Wh", "b"], grads, [dx, dprev_h, dprev_c, dWx, dWh, db]
    ):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_rnn_forward_backward_match_step_loop(activation, seed):
    rng = np.random.RandomState(seed)
    x, h0, Wx, Wh, b = inputs = _inputs("rnn_" + activation, rng)
    h, (h_last,), cache = rnn_forward(*inputs, activation=activation)
    dh = rng.normal(size=h.shape)
    grads = rnn_backward(dh, cache)

    prev_h, step_caches = h0, []
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(
            x[:, t], prev_h, Wx, Wh, b, activation=activation
        )
        step_caches.append(step_cache)
        assert_allclose(h[:, t], prev_h, rtol=1e-12, atol=1e-14)
    assert_allclose(h_last, prev_h, rtol=1e-12, atol=1e-14)

    dx = np.zeros_like(x)
    dprev_h = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(
            dh[:, t] + dprev_h, step_caches[t]
        )
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    for name, got, expected in zip(
        ["x", "h0", "Wx", "Wh", "b"], grads, [dx, dprev_h, dWx, dWh, db]
    ):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mask", list(MASKS))
def test_gru_forward_backward_match_step_loop(mask, seed):
    """The sequence pair equals a loop of the step pair, in which a padded step
    keeps the previous state and passes its gradient through."""
    rng = np.random.RandomState(seed)
    x, h0, Wx, Wh, b = inputs = _inputs("gru", rng)
    mask = np.ones((N, T), dtype=bool) if mask is None else MASKS[mask]
    h, (h_last,), cache = gru_forward(*inputs, mask=mask)
    dh = rng.normal(size=h.shape)
    grads = gru_backward(dh, cache)

    prev_h, step_caches = h0, []
    for t in range(T):
        next_h, step_cache = gru_step_forward(x[:, t], prev_h, Wx, Wh, b)
        prev_h = np.where(mask[:, t, None], next_h, prev_h)
        step_caches.append(step_cache)
        assert_allclose(h[:, t], prev_h, rtol=1e-12, atol=1e-14)
    assert_allclose(h_last, prev_h, rtol=1e-12, atol=1e-14)

    dx = np.zeros_like(x)
    dprev_h = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(T)):
        real = mask[:, t, None]
        dnext_h = dh[:, t] + dprev_h
        dx_t, dprev_h_t, dWx_t, dWh_t, db_t = gru_step_backward(
            dnext_h * real, step_caches[t]
        )
        dx[:, t] = dx_t
        dprev_h = np.where(real, dprev_h_t, dnext_h)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    for name, got, expected in zip(
        ["x", "h0", "Wx", "Wh", "b"], grads, [dx, dprev_h, dWx, dWh, db]
    ):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)


def test_gru_single_step_sequences_match_step():
    """``T = 1``: the sequence pair is exactly one step."""
    rng = np.random.RandomState(0)
    x, h0, Wx, Wh, b = _inputs("gru", rng, t=1)
    h, (h_last,), cache = gru_forward(x, h0, Wx, Wh, b)
    next_h, step_cache = gru_step_forward(x[:, 0], h0, Wx, Wh, b)
    assert_allclose(h[:, 0], next_h, rtol=1e-12, atol=1e-14)
    assert_array_equal(h_last, h[:, 0])
    dh = rng.normal(size=h.shape)
    dx, *grads = gru_backward(dh, cache)
    dx_step, *step_grads = gru_step_backward(dh[:, 0], step_cache)
    assert_allclose(dx[:, 0], dx_step, rtol=1e-12, atol=1e-14)
    for got, expected in zip(grads, step_grads):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_backward_without_dx(cell):
    """``need_dx=False`` gives None for ``dx`` and the same other gradients."""
    rng = np.random.RandomState(0)
    inputs = _inputs(cell, rng)
    h, _, cache = _sequence_forward(cell, inputs, MASKS["trailing"])
    dh = rng.normal(size=h.shape)
    dx, *grads = _sequence_backward(cell, dh, cache)
    dx_none, *grads_no_dx = SEQUENCE_CELLS[cell][1](dh, cache, need_dx=False)
    assert dx_none is None
    for g, g_no_dx in zip(grads, grads_no_dx):
        assert_array_equal(g, g_no_dx)


def test_rnn_forward_rejects_unknown_activation():
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="activation"):
        rnn_forward(*_inputs("rnn_tanh", rng), activation="relu")


@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_forward_backward_leave_inputs_and_cache_alone(cell):
    """Neither pass writes into its inputs; backward can be called twice."""
    rng = np.random.RandomState(0)
    inputs = _inputs(cell, rng)
    mask = MASKS["trailing"]
    copies = [a.copy() for a in inputs]
    h, _, cache = _sequence_forward(cell, inputs, mask)
    h_copy = h.copy()
    dh = rng.normal(size=h.shape)
    dh_copy = dh.copy()
    first = _sequence_backward(cell, dh, cache)
    second = _sequence_backward(cell, dh, cache)
    for a, a_copy in zip(inputs, copies):
        assert_array_equal(a, a_copy)
    assert_array_equal(mask, MASKS["trailing"])
    assert_array_equal(h, h_copy)
    assert_array_equal(dh, dh_copy)
    for g1, g2 in zip(first, second):
        assert_array_equal(g1, g2)


# ---------------------------------------------------------------------------
# Masks: a padded batch equals its sequences run one at a time
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_masked_batch_matches_unpadded_sequences(cell, seed):
    rng = np.random.RandomState(seed)
    x, *states, Wx, Wh, b = inputs = _inputs(cell, rng)
    mask = MASKS["trailing"]
    h, last, cache = _sequence_forward(cell, inputs, mask)
    dh = rng.normal(size=h.shape) * mask[:, :, None]  # no gradient at padded steps
    dx, *dstates, dWx, dWh, db = _sequence_backward(cell, dh, cache)

    sum_dWx, sum_dWh, sum_db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for n, length in enumerate(LENGTHS):
        one = [x[n : n + 1, :length], *(s[n : n + 1] for s in states), Wx, Wh, b]
        h_n, last_n, cache_n = _sequence_forward(cell, one)
        assert_allclose(h[n, :length], h_n[0], rtol=1e-12, atol=1e-14)
        for s, s_n in zip(last, last_n):
            assert_allclose(s[n], s_n[0], rtol=1e-12, atol=1e-14)

        dx_n, *dstates_n, dWx_n, dWh_n, db_n = _sequence_backward(
            cell, dh[n : n + 1, :length], cache_n
        )
        assert_allclose(dx[n, :length], dx_n[0], rtol=1e-10, atol=1e-12)
        assert_array_equal(dx[n, length:], 0)
        for ds, ds_n in zip(dstates, dstates_n):
            assert_allclose(ds[n], ds_n[0], rtol=1e-10, atol=1e-12)
        sum_dWx += dWx_n
        sum_dWh += dWh_n
        sum_db += db_n
    assert_allclose(dWx, sum_dWx, rtol=1e-10, atol=1e-12)
    assert_allclose(dWh, sum_dWh, rtol=1e-10, atol=1e-12)
    assert_allclose(db, sum_db, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_masked_stack_matches_unpadded_sequences(cell):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(N, T, D))
    layers = _layers(cell, rng, [D, H, H + 1])
    mask = MASKS["trailing"]
    h, last, caches = stack_forward(cell, x, layers, mask=mask)
    dh = rng.normal(size=h.shape) * mask[:, :, None]
    dx, _, grads = stack_backward(cell, dh, caches)

    sums = [[np.zeros_like(p) for p in layer] for layer in layers]
    for n, length in enumerate(LENGTHS):
        h_n, last_n, caches_n = stack_forward(cell, x[n : n + 1, :length], layers)
        assert_allclose(h[n, :length], h_n[0], rtol=1e-12, atol=1e-14)
        for layer_last, layer_last_n in zip(last, last_n):
            for s, s_n in zip(layer_last, layer_last_n):
                assert_allclose(s[n], s_n[0], rtol=1e-12, atol=1e-14)
        dx_n, _, grads_n = stack_backward(cell, dh[n : n + 1, :length], caches_n)
        assert_allclose(dx[n, :length], dx_n[0], rtol=1e-10, atol=1e-12)
        assert_array_equal(dx[n, length:], 0)
        for layer_sums, layer_grads_n in zip(sums, grads_n):
            for total, g_n in zip(layer_sums, layer_grads_n):
                total += g_n
    for layer_sums, layer_grads in zip(sums, grads):
        for total, g in zip(layer_sums, layer_grads):
            assert_allclose(g, total, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mask", ["trailing", "holes"])
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_padded_steps_copy_the_previous_state(cell, mask):
    rng = np.random.RandomState(0)
    x, *states, Wx, Wh, b = inputs = _inputs(cell, rng)
    mask = MASKS[mask]
    h, last, _ = _sequence_forward(cell, inputs, mask)
    for n, t in zip(*np.nonzero(~mask)):
        previous = h[n, t - 1] if t > 0 else states[0][n]
        assert_array_equal(h[n, t], previous)
    assert_array_equal(last[0], h[:, -1])

    # Every state (c too) at a padded step equals the state one step before:
    # compare the final states of the batch cut after t and after t + 1 steps.
    def last_after(t):
        if t == 0:
            return states
        cut = [x[:, :t], *states, Wx, Wh, b]
        return _sequence_forward(cell, cut, mask[:, :t])[1]

    for t in range(T):
        pad = ~mask[:, t]
        for before, after in zip(last_after(t), last_after(t + 1)):
            assert_array_equal(after[pad], before[pad])
    # A sequence with holes ends in the state of its real steps run alone.
    for n in range(N):
        one = [x[n : n + 1, mask[n]], *(s[n : n + 1] for s in states), Wx, Wh, b]
        for s, s_n in zip(last, _sequence_forward(cell, one)[1]):
            assert_allclose(s[n], s_n[0], rtol=1e-12, atol=1e-14)


def test_fully_padded_batch_returns_initial_state():
    rng = np.random.RandomState(0)
    x, h0, c0, Wx, Wh, b = _inputs("lstm", rng)
    mask = np.zeros((N, T), dtype=bool)
    mask[0] = True  # one real sequence keeps the others company
    h, (h_last, c_last), cache = lstm_forward(x, h0, c0, Wx, Wh, b, mask=mask)
    assert_array_equal(h_last[1:], h0[1:])
    assert_array_equal(c_last[1:], c0[1:])
    dh = rng.normal(size=h.shape)
    dx, dh0, dc0, *_ = lstm_backward(dh, cache)
    assert_array_equal(dx[1:], 0)
    # Every output of a fully padded row is h0 itself.
    assert_allclose(dh0[1:], dh[1:].sum(axis=1), rtol=1e-12)
    assert_array_equal(dc0[1:], 0)


def test_gru_fully_padded_rows_return_initial_state():
    rng = np.random.RandomState(0)
    x, h0, Wx, Wh, b = _inputs("gru", rng)
    mask = np.zeros((N, T), dtype=bool)
    mask[0] = True
    h, (h_last,), cache = gru_forward(x, h0, Wx, Wh, b, mask=mask)
    assert_array_equal(h[1:], np.broadcast_to(h0[1:, None], (N - 1, T, H)))
    assert_array_equal(h_last[1:], h0[1:])
    dh = rng.normal(size=h.shape)
    dx, dh0, dWx, dWh, db = gru_backward(dh, cache)
    assert_array_equal(dx[1:], 0)
    assert_allclose(dh0[1:], dh[1:].sum(axis=1), rtol=1e-12)
    # The padded rows add nothing to the weights' gradients.
    _, _, dWx_0, dWh_0, db_0 = gru_backward(
        dh[:1], gru_forward(x[:1], h0[:1], Wx, Wh, b)[2]
    )
    assert_allclose(dWx, dWx_0, rtol=1e-12, atol=1e-14)
    assert_allclose(dWh, dWh_0, rtol=1e-12, atol=1e-14)
    assert_allclose(db, db_0, rtol=1e-12, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    cell=st.sampled_from(list(SEQUENCE_CELLS)),
    n=st.integers(1, 4),
    t=st.integers(1, 6),
    d=st.integers(1, 3),
    h=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_masked_last_state_matches_unpadded_run(data, cell, n, t, d, h, seed):
    lengths = np.array(data.draw(st.lists(st.integers(1, t), min_size=n, max_size=n)))
    mask = np.arange(t) < lengths[:, None]
    rng = np.random.RandomState(seed)
    x, *states, Wx, Wh, b = inputs = _inputs(cell, rng, n=n, t=t, d=d, h=h)
    _, last, _ = _sequence_forward(cell, inputs, mask)
    for i, length in enumerate(lengths):
        one = [x[i : i + 1, :length], *(s[i : i + 1] for s in states), Wx, Wh, b]
        _, last_i, _ = _sequence_forward(cell, one)
        for s, s_i in zip(last, last_i):
            assert_allclose(s[i], s_i[0], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# float32 stays float32
# ---------------------------------------------------------------------------


def _assert_all_float32(arrays):
    for k, a in enumerate(arrays):
        assert a.dtype == np.float32, (k, a.dtype)


@pytest.mark.parametrize("mask", [None, "trailing"])
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_sequence_float32_stays_float32(cell, mask):
    rng = np.random.RandomState(0)
    inputs = _inputs(cell, rng, dtype=np.float32)
    h, last, cache = _sequence_forward(cell, inputs, MASKS[mask])
    dh = rng.normal(size=h.shape).astype(np.float32)
    grads = _sequence_backward(cell, dh, cache)
    _assert_all_float32([h, *last, *grads])
    # ...and agrees with float64 to float32 precision.
    inputs64 = [a.astype(np.float64) for a in inputs]
    h64, _, cache64 = _sequence_forward(cell, inputs64, MASKS[mask])
    grads64 = _sequence_backward(cell, dh.astype(np.float64), cache64)
    assert_allclose(h, h64, rtol=1e-5, atol=1e-6)
    for g, g64 in zip(grads, grads64):
        assert_allclose(g, g64, rtol=1e-4, atol=1e-5)


def test_step_float32_stays_float32():
    rng = np.random.RandomState(0)
    inputs = _inputs("lstm", rng, step=True, dtype=np.float32)
    next_h, next_c, cache = lstm_step_forward(*inputs)
    dnext = np.ones_like(next_h)
    _assert_all_float32([next_h, next_c, *lstm_step_backward(dnext, dnext, cache)])
    for activation in ["tanh", "sigmoid"]:
        inputs = _inputs("rnn_tanh", rng, step=True, dtype=np.float32)
        next_h, cache = rnn_step_forward(*inputs, activation=activation)
        _assert_all_float32([next_h, *rnn_step_backward(np.ones_like(next_h), cache)])


def test_gru_step_float32_stays_float32():
    rng = np.random.RandomState(0)
    inputs = _inputs("gru", rng, step=True, dtype=np.float32)
    next_h, cache = gru_step_forward(*inputs)
    _assert_all_float32([next_h, *gru_step_backward(np.ones_like(next_h), cache)])


@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_stack_float32_stays_float32(cell):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    layers = _layers(cell, rng, [D, H, H + 1], dtype=np.float32)
    h, last, caches = stack_forward(cell, x, layers, mask=MASKS["trailing"])
    dx, dstate, grads = stack_backward(cell, np.ones_like(h), caches)
    _assert_all_float32(
        [h, dx]
        + [s for layer in last for s in layer]
        + [s for layer in dstate for s in layer]
        + [g for layer in grads for g in layer]
    )


# ---------------------------------------------------------------------------
# Long sequences
# ---------------------------------------------------------------------------


def test_lstm_long_sequence_stays_finite():
    rng = np.random.RandomState(0)
    inputs = _inputs("lstm", rng, n=4, t=2000, d=3, h=8)
    h, last, cache = lstm_forward(*inputs)
    grads = lstm_backward(rng.normal(size=h.shape), cache)
    for a in [h, *last, *grads]:
        assert np.all(np.isfinite(a))


def test_gru_long_sequence_stays_finite():
    rng = np.random.RandomState(0)
    inputs = _inputs("gru", rng, n=4, t=2000, d=3, h=8)
    h, last, cache = gru_forward(*inputs)
    grads = gru_backward(rng.normal(size=h.shape), cache)
    for a in [h, *last, *grads]:
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_sequence_extreme_inputs_raise_no_warning(cell, dtype):
    """Pre-activations of +-1e4 saturate the gates without overflow warnings,
    division by zero or NaN, forward and backward."""
    rng = np.random.RandomState(0)
    inputs = _inputs(cell, rng, dtype=dtype)
    inputs[0] = (rng.choice([-1e4, 1e4], size=inputs[0].shape)).astype(dtype)
    h, last, cache = _strict(_sequence_forward, cell, inputs, MASKS["trailing"])
    dh = rng.normal(size=h.shape).astype(dtype)
    grads = _strict(_sequence_backward, cell, dh, cache)
    for a in [h, *last, *grads]:
        assert a.dtype == dtype
        assert np.all(np.isfinite(a))
    assert np.all(np.abs(h) <= 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", list(SEQUENCE_CELLS))
def test_sequence_workspace_gives_the_numbers_of_fresh_arrays(cell, dtype):
    """One workspace reused by batches of changing sizes (larger, then smaller
    and shorter, then masked) gives exactly what fresh arrays give."""
    forward, backward, kwargs, _ = SEQUENCE_CELLS[cell]
    ws = Workspace()
    rng = np.random.RandomState(0)
    for n, t, masked in [(N, T, False), (N + 2, T + 1, True), (2, 2, False)]:
        inputs = _inputs(cell, rng, n=n, t=t, dtype=dtype)
        mask = np.arange(t) < rng.randint(1, t + 1, size=n)[:, None] if masked else None
        dh = rng.normal(size=(n, t, H)).astype(dtype)
        h, last, cache = forward(*inputs, mask=mask, **kwargs)
        grads = backward(dh, cache)
        h_ws, last_ws, cache_ws = forward(*inputs, mask=mask, workspace=ws, **kwargs)
        assert_array_equal(h_ws, h)
        for s, s_ws in zip(last, last_ws):
            assert_array_equal(s_ws, s)
        for g, g_ws in zip(grads, backward(dh, cache_ws)):
            assert g_ws.dtype == dtype
            assert_array_equal(g_ws, g)


# ---------------------------------------------------------------------------
# Stable activations and losses
# ---------------------------------------------------------------------------

# Underflow to zero (exp(-1e4) == 0) is the right answer and stays ignored,
# as it is by default; overflow, division by zero and NaN must not happen.
STRICT = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
EXTREMES = [-1e4, -1e3, -100, -40, -20, -1, -1e-3, 0, 1e-3, 1, 20, 40, 100, 1e3, 1e4]


def _strict(fn, *args):
    """Call ``fn`` with every warning an error and floating-point errors raised."""
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        return fn(*args)


def _naive_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x.astype(np.float64)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable(dtype):
    x = np.array(EXTREMES + list(np.linspace(-30, 30, 61)), dtype=dtype)
    y = _strict(sigmoid, x)
    assert y.dtype == dtype
    assert np.all((y >= 0) & (y <= 1))
    assert np.all(np.diff(y[np.argsort(x)]) >= 0)  # monotone
    assert_allclose(y, _naive_sigmoid(x), rtol=0, atol=4 * np.finfo(dtype).eps)
    # Relative precision only where sigmoid is not tiny: (1 + tanh(x/2)) / 2
    # cancels for large negative x; the absolute error above is what matters.
    central = np.abs(x) <= 3
    assert_allclose(y[central], _naive_sigmoid(x[central]), rtol=1e-5)
    out = np.empty_like(x)
    assert sigmoid(x, out=out) is out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_sigmoid_is_stable(dtype):
    x = np.array(EXTREMES, dtype=dtype)
    y = _strict(log_sigmoid, x)
    assert y.dtype == dtype
    assert np.all(y <= 0) and np.all(np.isfinite(y))
    assert_allclose(y[x < -100], x[x < -100], rtol=1e-6)  # log sigmoid(x) ~ x
    finite = np.abs(x) <= 40
    expected = np.log(_naive_sigmoid(x[finite]))
    assert_allclose(y[finite], expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable(dtype):
    rng = np.random.RandomState(0)
    x = rng.choice(EXTREMES, size=(20, 5)).astype(dtype)
    x[0] = [1e4, 1e4, 1e4, 1e4, 1e4]  # ties at the maximum
    p = _strict(softmax, x)
    log_p = _strict(log_softmax, x)
    assert p.dtype == log_p.dtype == dtype
    assert np.all((p >= 0) & (p <= 1))
    assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    assert_allclose(p[0], 0.2, rtol=1e-6)
    assert np.all(np.isfinite(log_p)) and np.all(log_p <= 0)
    assert_allclose(np.exp(log_p), p, rtol=1e-5, atol=1e-30)

    small = rng.normal(scale=3, size=(6, 4)).astype(dtype)
    e = np.exp(small.astype(np.float64))
    expected = e / e.sum(axis=1, keepdims=True)
    assert_allclose(softmax(small), expected, rtol=1e-5)
    assert_allclose(log_softmax(small), np.log(expected), rtol=1e-5, atol=1e-6)


def _naive_log_loss(logits, targets, weights):
    e = np.exp(logits)
    p = e / e.sum(axis=-1, keepdims=True)
    return -np.sum(weights * np.sum(targets * np.log(p), axis=-1))


def _naive_binary_log_loss(logits, targets, weights):
    p = 1 / (1 + np.exp(-logits))
    losses = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return np.sum(weights * np.sum(losses, axis=-1))


LOSSES = {
    "log_loss": (log_loss, _naive_log_loss),
    "binary_log_loss": (binary_log_loss, _naive_binary_log_loss),
}


def _loss_data(name, rng, shape, scale=2.0):
    logits = rng.normal(scale=scale, size=shape)
    if name == "log_loss":
        targets = np.eye(shape[-1])[rng.randint(shape[-1], size=shape[:-1])]
    else:
        targets = rng.randint(2, size=shape).astype(np.float64)
    weights = rng.uniform(0.5, 2.0, size=shape[:-1])
    return logits, targets, weights


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 4, 2)], ids=["2d", "per-step"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_numerical(name, shape, seed):
    loss_fn, naive = LOSSES[name]
    rng = np.random.RandomState(seed)
    logits, targets, weights = _loss_data(name, rng, shape)
    loss, dlogits = loss_fn(logits, targets, weights)
    assert isinstance(loss, float)
    assert dlogits.shape == logits.shape
    assert_allclose(loss, naive(logits, targets, weights), rtol=1e-12)

    def f():
        return np.array(loss_fn(logits, targets, weights)[0])

    num = numerical_gradient(f, logits, np.array(1.0), h=GRAD_STEP)
    assert relative_error(dlogits, num) < GRAD_TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_is_stable(name, dtype):
    loss_fn, naive = LOSSES[name]
    rng = np.random.RandomState(0)
    logits = rng.choice(EXTREMES, size=(30, 3)).astype(dtype)
    _, targets, weights = _loss_data(name, rng, (30, 3))
    targets, weights = targets.astype(dtype), weights.astype(dtype)
    loss, dlogits = _strict(loss_fn, logits, targets, weights)
    assert np.isfinite(loss)
    assert dlogits.dtype == dtype
    assert np.all(np.isfinite(dlogits))
    assert np.all(np.abs(dlogits) <= weights.max() * (1 + 1e-6))
    # Where the textbook formula is finite, both agree.
    with np.errstate(all="ignore"):
        expected = naive(logits.astype(np.float64), targets, weights)
    if np.isfinite(expected):
        assert_allclose(loss, expected, rtol=1e-4)
    moderate = np.abs(logits).max(axis=1) <= 20
    loss_m, _ = loss_fn(logits[moderate], targets[moderate], weights[moderate])
    expected_m = naive(
        logits[moderate].astype(np.float64), targets[moderate], weights[moderate]
    )
    assert_allclose(loss_m, expected_m, rtol=1e-4)
