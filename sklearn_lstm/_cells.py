"""Recurrent cells: forward and backward passes as pure NumPy functions.

Shape letters, used throughout: ``N`` sequences in a batch, ``T`` time steps,
``D`` input features, ``H`` hidden units. Sequences are batch-first,
``x`` has shape ``(N, T, D)``.

Each cell has a *step* pair (one time step, written to read like the
equations, used as the reference in the tests) and a *sequence* pair (a whole
batch of sequences, written for speed). The sequence functions compute the
input projection ``x @ Wx`` for all time steps in one matrix product, loop over
time for the recurrent product only, and accumulate ``dWx``, ``dWh``, ``db``
and ``dx`` with one matrix product each after the loop. Every backward function
returns the gradients in the order of its forward function's inputs.

Variable-length sequences are given by a boolean ``mask`` of shape ``(N, T)``
(``True`` where the step is real). A padded step copies the previous state
unchanged, so the state at the last time step is the state at each sequence's
own last real step, and padded steps receive no gradient.

The functions never touch estimator state, draw random numbers, clip or print:
whatever the backward pass needs travels in the returned ``cache``.
"""

from collections import namedtuple
from functools import partial

import numpy as np

from ._activations import sigmoid

# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------

RNN_ACTIVATIONS = ("tanh", "sigmoid")


def rnn_step_forward(x, prev_h, Wx, Wh, b, activation="tanh"):
    """Run one vanilla RNN time step.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    prev_h : ndarray of shape (N, H)
    Wx, Wh, b : ndarray of shape (D, H), (H, H), (H,)
    activation : {'tanh', 'sigmoid'}, default='tanh'

    Returns
    -------
    next_h : ndarray of shape (N, H)
    cache : tuple
        Values needed by :func:`rnn_step_backward`.

    Notes
    -----
    ::

        h[t] = act(x[t] @ Wx + h[t-1] @ Wh + b)
    """
    a = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(a) if activation == "tanh" else sigmoid(a)
    return next_h, (x, prev_h, Wx, Wh, next_h, activation)


def rnn_step_backward(dnext_h, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Returns
    -------
    dx, dprev_h, dWx, dWh, db
        Gradients with the shapes of ``x, prev_h, Wx, Wh, b``.
    """
    x, prev_h, Wx, Wh, next_h, activation = cache
    if activation == "tanh":
        da = (1 - next_h * next_h) * dnext_h  # backprop through tanh
    else:
        da = next_h * (1 - next_h) * dnext_h  # backprop through sigmoid
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b, mask=None, activation="tanh"):
    """Run a vanilla RNN over a batch of sequences.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0 : ndarray of shape (N, H)
        Initial hidden state.
    Wx, Wh, b : ndarray of shape (D, H), (H, H), (H,)
    mask : ndarray of shape (N, T), dtype=bool, default=None
        ``True`` at real steps. ``None`` means every step is real.
    activation : {'tanh', 'sigmoid'}, default='tanh'

    Returns
    -------
    h : ndarray of shape (N, T, H)
        Hidden state after every step.
    last : tuple of (ndarray of shape (N, H),)
        The final state ``(h[:, -1],)``, ready to be passed back as ``h0``.
    cache : tuple
        Values needed by :func:`rnn_backward`.
    """
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {RNN_ACTIVATIONS}, got {activation!r}"
        )
    N, T, D = x.shape
    H = Wh.shape[0]
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: fold the 1/2 into the weights once.
    scale = 1.0 if activation == "tanh" else 0.5
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    hs[0] = h0
    hs[1:] = (x_tm.reshape(T * N, D) @ (Wx * scale)).reshape(T, N, H)
    hs[1:] += b * scale
    Wh_scaled = Wh * scale
    padded = _padded_steps(mask, T)
    for t in range(T):
        h = hs[t + 1]
        h += hs[t] @ Wh_scaled
        np.tanh(h, out=h)
        if scale != 1.0:
            h *= 0.5
            h += 0.5
        if padded[t]:
            keep = ~mask[:, t]
            h[keep] = hs[t][keep]
    cache = (x_tm, mask, padded, Wx, Wh, hs, activation)
    return hs[1:].transpose(1, 0, 2), (hs[T],), cache


def rnn_backward(dh, cache):
    """Backward pass of :func:`rnn_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
        Upstream gradient of every hidden state. The gradient of the final
        state belongs in ``dh[:, -1]``.
    cache : tuple
        From :func:`rnn_forward`.

    Returns
    -------
    dx, dh0, dWx, dWh, db
        Gradients with the shapes of ``x, h0, Wx, Wh, b``.
    """
    x_tm, mask, padded, Wx, Wh, hs, activation = cache
    T, N, D = x_tm.shape
    H = Wh.shape[0]
    h = hs[1:]
    # da[t] starts as act'(a[t]) for every step at once, then is scaled by dh[t].
    if activation == "tanh":
        da = 1 - h * h
    else:
        da = h * (1 - h)
    dh_tm = dh.transpose(1, 0, 2)
    dh_next = np.zeros((N, H), dtype=da.dtype)
    WhT = np.ascontiguousarray(Wh.T)
    for t in reversed(range(T)):
        dh_t = dh_tm[t] + dh_next
        da[t] *= dh_t
        if padded[t]:
            keep = ~mask[:, t]
            da[t][keep] = 0
            dh_next = da[t] @ WhT
            dh_next[keep] = dh_t[keep]  # a padded step passes the gradient through
        else:
            dh_next = da[t] @ WhT
    da2 = da.reshape(T * N, H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    return dx, dh_next, dWx, dWh, da2.sum(axis=0)


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """Run one LSTM time step.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    prev_h, prev_c : ndarray of shape (N, H)
    Wx, Wh, b : ndarray of shape (D, 4H), (H, 4H), (4H,)
        Weights and bias, gates packed in order (i, f, g, o), the order
        PyTorch uses.

    Returns
    -------
    next_h, next_c : ndarray of shape (N, H)
    cache : tuple
        Values needed by :func:`lstm_step_backward`.

    Notes
    -----
    ::

        i, f, g, o = split(x[t] @ Wx + h[t-1] @ Wh + b, 4)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
        g = tanh(g)
        c[t] = f * c[t-1] + i * g
        h[t] = o * tanh(c[t])
    """
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Returns
    -------
    dx, dprev_h, dprev_c, dWx, dWh, db
        Gradients with the shapes of ``x, prev_h, prev_c, Wx, Wh, b``.
    """
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)  # backprop through tanh(c)
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f
    da = np.hstack(
        [
            di * i * (1 - i),  # backprop through the sigmoids
            df * f * (1 - f),
            dg * (1 - g * g),  # and the tanh
            do * o * (1 - o),
        ]
    )
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _lstm_gate_scale(H, dtype):
    """Per-column scale turning ``tanh`` into the gates: 1/2 for i, f, o; 1 for g.

    ``sigmoid(a) = s * tanh(s * a) + s`` with ``s = 1/2`` and
    ``tanh(a) = s * tanh(s * a)`` with ``s = 1``, so one ``tanh`` over all four
    gates, a multiply and an add give every gate at once.
    """
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1
    shift = scale.copy()
    shift[2 * H : 3 * H] = 0
    return scale, shift


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None):
    """Run an LSTM over a batch of sequences.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0, c0 : ndarray of shape (N, H)
        Initial hidden and cell states.
    Wx, Wh, b : ndarray of shape (D, 4H), (H, 4H), (4H,)
        Gates packed in order (i, f, g, o).
    mask : ndarray of shape (N, T), dtype=bool, default=None
        ``True`` at real steps. ``None`` means every step is real.

    Returns
    -------
    h : ndarray of shape (N, T, H)
        Hidden state after every step.
    last : tuple of (ndarray of shape (N, H), ndarray of shape (N, H))
        The final states ``(h[:, -1], c[:, -1])``, ready to be passed back as
        ``h0, c0``.
    cache : tuple
        Values needed by :func:`lstm_backward`.

    Notes
    -----
    The equations of :func:`lstm_step_forward`, for all ``t``.
    """
    N, T, D = x.shape
    H = Wh.shape[0]
    scale, shift = _lstm_gate_scale(H, x.dtype)
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    # gates[t] holds the pre-activations, then (in place) the gate values.
    gates = (x_tm.reshape(T * N, D) @ (Wx * scale)).reshape(T, N, 4 * H)
    gates += b * scale
    Wh_scaled = Wh * scale
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_cs = np.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    ig = np.empty((N, H), dtype=x.dtype)
    padded = _padded_steps(mask, T)
    for t in range(T):
        y = gates[t]
        y += hs[t] @ Wh_scaled
        np.tanh(y, out=y)
        y *= scale
        y += shift
        i, f, g, o = y[:, :H], y[:, H : 2 * H], y[:, 2 * H : 3 * H], y[:, 3 * H :]
        c = np.multiply(f, cs[t], out=cs[t + 1])
        c += np.multiply(i, g, out=ig)
        np.multiply(o, np.tanh(c, out=tanh_cs[t]), out=hs[t + 1])
        if padded[t]:
            keep = ~mask[:, t]
            hs[t + 1][keep] = hs[t][keep]
            cs[t + 1][keep] = cs[t][keep]
    cache = (x_tm, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs)
    return hs[1:].transpose(1, 0, 2), (hs[T], cs[T]), cache


def lstm_backward(dh, cache):
    """Backward pass of :func:`lstm_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
        Upstream gradient of every hidden state. The gradient of the final
        state belongs in ``dh[:, -1]``.
    cache : tuple
        From :func:`lstm_forward`.

    Returns
    -------
    dx, dh0, dc0, dWx, dWh, db
        Gradients with the shapes of ``x, h0, c0, Wx, Wh, b``.
    """
    x_tm, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs = cache
    T, N, D = x_tm.shape
    H = Wh.shape[0]
    # For every step at once: da[t] starts as the derivative of each gate with
    # respect to its pre-activation, y * (1 - y) for i, f, o and 1 - g**2 for g.
    da = gates * (1 - gates)
    g = gates[:, :, 2 * H : 3 * H]
    np.subtract(1, g * g, out=da[:, :, 2 * H : 3 * H])
    # dh[t] reaches c[t] through o * tanh'(c[t]).
    dc_from_h = gates[:, :, 3 * H :] * (1 - tanh_cs * tanh_cs)
    dh_tm = dh.transpose(1, 0, 2)
    dh_next = np.zeros((N, H), dtype=da.dtype)
    dc_next = np.zeros((N, H), dtype=da.dtype)
    dy = np.empty((N, 4 * H), dtype=da.dtype)  # gradient of the gate values
    di, df, dg, do = dy[:, :H], dy[:, H : 2 * H], dy[:, 2 * H : 3 * H], dy[:, 3 * H :]
    WhT = np.ascontiguousarray(Wh.T)
    for t in reversed(range(T)):
        y = gates[t]
        dh_t = dh_tm[t] + dh_next
        dc = dh_t * dc_from_h[t]
        dc += dc_next
        np.multiply(dc, y[:, 2 * H : 3 * H], out=di)  # c = f * c_prev + i * g
        np.multiply(dc, cs[t], out=df)
        np.multiply(dc, y[:, :H], out=dg)
        np.multiply(dh_t, tanh_cs[t], out=do)  # h = o * tanh(c)
        da[t] *= dy  # backprop through the gate nonlinearities
        if padded[t]:
            keep = ~mask[:, t]
            da[t][keep] = 0
            dh_next = da[t] @ WhT
            dh_next[keep] = dh_t[keep]  # a padded step passes both gradients through
            dc_prev = dc * y[:, H : 2 * H]
            dc_prev[keep] = dc_next[keep]
            dc_next = dc_prev
        else:
            dh_next = da[t] @ WhT
            dc_next = dc * y[:, H : 2 * H]
    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    return dx, dh_next, dc_next, dWx, dWh, da2.sum(axis=0)


def _padded_steps(mask, T):
    """Boolean per time step: does any sequence have padding there?"""
    if mask is None:
        return np.zeros(T, dtype=bool)
    return ~mask.all(axis=0)


# ---------------------------------------------------------------------------
# Stacks of layers
# ---------------------------------------------------------------------------

Cell = namedtuple("Cell", ["forward", "backward", "n_states", "n_gates"])
"""A recurrent cell: its sequence functions, the number of state arrays it
carries (2 for LSTM: h and c) and the number of gates packed in its weights."""

CELLS = {
    "lstm": Cell(lstm_forward, lstm_backward, 2, 4),
    "rnn_tanh": Cell(partial(rnn_forward, activation="tanh"), rnn_backward, 1, 1),
    "rnn_sigmoid": Cell(partial(rnn_forward, activation="sigmoid"), rnn_backward, 1, 1),
}


def stack_forward(cell, x, layers, mask=None, state=None):
    """Run a stack of recurrent layers, each reading the hidden states below it.

    Parameters
    ----------
    cell : {'lstm', 'rnn_tanh', 'rnn_sigmoid'}
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
    forward, _, n_states, _ = CELLS[cell]
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
    _, backward, n_states, _ = CELLS[cell]
    dstate, grads = [], []
    for cache in reversed(caches):
        dh, *rest = backward(dh, cache)
        dstate.append(tuple(rest[:n_states]))
        grads.append(tuple(rest[n_states:]))
    return dh, dstate[::-1], grads[::-1]
