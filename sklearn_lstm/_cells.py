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
whatever the backward pass needs travels in the returned ``cache``. Given a
:class:`~sklearn_lstm._workspace.Workspace`, the sequence functions write
their large arrays into it instead of allocating them, so that the minibatches
of a fit reuse the same memory; what they return then lives in the workspace
until the next call with it.
"""

from collections import namedtuple
from functools import partial

import numpy as np

from . import _backend
from ._activations import sigmoid
from ._workspace import FRESH

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


def rnn_forward(x, h0, Wx, Wh, b, mask=None, activation="tanh", workspace=None):
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
    workspace : Workspace, default=None
        Where to keep the arrays of this call and of :func:`rnn_backward`
        (the returned ones included); None allocates them afresh.

    Returns
    -------
    h : ndarray of shape (N, T, H)
        Hidden state after every step.
    last : tuple of (ndarray of shape (N, H),)
        The final state ``(h[:, -1],)``, ready to be passed back as ``h0``.
    cache : tuple
        Values needed by :func:`rnn_backward`.

    Notes
    -----
    The equation of :func:`rnn_step_forward`, for all ``t``.
    """
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {RNN_ACTIVATIONS}, got {activation!r}"
        )
    ws = FRESH if workspace is None else workspace
    N, T, _ = x.shape
    H = Wh.shape[0]
    # sigmoid(a) = 1 / (1 + exp(-a)): fold the -1 into the weights once (exact);
    # tanh goes through _tanh, which folds its own -2 in float64.
    sigmoid = activation == "sigmoid"
    scale = -1.0 if sigmoid else 1.0
    hs = ws.empty("hs", (T + 1, N, H), x.dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    hs[0] = h0
    x1 = _project_inputs(x, Wx, b, scale, out=hs[1:], workspace=ws)
    Wh_scaled = np.multiply(Wh, scale, out=ws.empty("Wh_scaled", Wh.shape, Wh.dtype))
    rec = ws.empty("rec", (N, H), x.dtype)
    mask, padded = _padding(mask, T)
    with np.errstate(over="ignore"):  # exp(-a) = inf is the limit: 0, or -1
        for t, (prev_h, h) in enumerate(zip(hs[:-1], hs[1:])):
            h += np.matmul(prev_h, Wh_scaled, out=rec)
            if sigmoid:
                np.exp(h, out=h)
                h += 1
                np.divide(1, h, out=h)
            else:
                _tanh(h, out=h)
            if padded[t]:
                keep = ~mask[:, t]
                h[keep] = prev_h[keep]
    cache = (x1, mask, padded, Wx, Wh, hs, activation, workspace)
    return hs[1:].transpose(1, 0, 2), (hs[T],), cache


def rnn_backward(dh, cache, need_dx=True):
    """Backward pass of :func:`rnn_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
        Upstream gradient of every hidden state. The gradient of the final
        state belongs in ``dh[:, -1]``.
    cache : tuple
        From :func:`rnn_forward`.
    need_dx : bool, default=True
        Whether to compute ``dx``; if False, ``dx`` is None, which saves the
        product ``da @ Wx.T`` (the bottom layer's inputs need no gradient).

    Returns
    -------
    dx, dh0, dWx, dWh, db
        Gradients with the shapes of ``x, h0, Wx, Wh, b``.
    """
    x1, mask, padded, Wx, Wh, hs, activation, workspace = cache
    ws = FRESH if workspace is None else workspace
    T, N, H = hs[1:].shape
    da = ws.scratch("da", (T, N, H), hs.dtype)  # gradient of the pre-activations
    dh_tm = dh.transpose(1, 0, 2)
    dh_t = ws.empty("dh_t", (N, H), hs.dtype)
    dh_next = ws.zeros("dh_next", (N, H), hs.dtype)
    WhT = _transposed(Wh, ws)
    for start, stop in _time_blocks(T, da[0].nbytes):
        # act'(a[t]) for a block of steps at once, in terms of h[t]
        h, d = hs[start + 1 : stop + 1], da[start:stop]
        if activation == "tanh":
            np.subtract(1, np.multiply(h, h, out=d), out=d)  # 1 - h**2
        else:
            np.multiply(np.subtract(1, h, out=d), h, out=d)  # h * (1 - h)
        for t in reversed(range(start, stop)):
            np.add(dh_tm[t], dh_next, out=dh_t)
            da[t] *= dh_t  # backprop through the activation
            np.matmul(da[t], WhT, out=dh_next)
            if padded[t]:  # a padded step passes the gradient through
                keep = ~mask[:, t]
                da[t][keep] = 0
                dh_next[keep] = dh_t[keep]
    dx, dWx, dWh, db = _param_grads(x1, hs, da, Wx, need_dx, workspace=ws)
    return dx, dh_next, dWx, dWh, db


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
    """Per-column scale and numerator turning ``exp`` into the gates.

    ``sigmoid(a) = 1 / (1 + exp(-a))`` and ``tanh(a) = 2 / (1 + exp(-2a)) - 1``,
    so with the weights scaled by -1 for i, f, o and -2 for g (exact: powers of
    two), one ``exp`` over all four gates, an add and a divide by ``1 + e`` of
    the numerators (1 for i, f, o; 2 for g) give every gate at once, g then
    less 1. ``exp`` is 1.5-2.5x cheaper than ``tanh`` in NumPy.
    """
    scale = np.full(4 * H, -1.0, dtype=dtype)
    scale[2 * H : 3 * H] = -2
    numerator = np.ones(4 * H, dtype=dtype)
    numerator[2 * H : 3 * H] = 2
    return scale, numerator


def _tanh(x, out):
    """``tanh(x)`` into ``out``, as ``2 / (1 + exp(-2x)) - 1`` in float64.

    NumPy's float64 ``tanh`` is scalar code, about twice the time of this
    ``exp`` form; its float32 ``tanh`` is vectorized and kept. The caller
    ignores overflow: ``exp(-2x) = inf`` gives the right limit, -1.
    """
    if out.dtype != np.float64:
        return np.tanh(x, out=out)
    np.multiply(x, -2, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(2, out, out=out)
    out -= 1
    return out


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None, workspace=None):
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
    workspace : Workspace, default=None
        Where to keep the arrays of this call and of :func:`lstm_backward`
        (the returned ones included); None allocates them afresh.

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
    The equations of :func:`lstm_step_forward`, for all ``t``. The cache
    holds, per time step, the four gates (``4NH`` numbers), ``h``, ``c`` and
    ``tanh(c)`` (``3NH``) and the input (``N(D + 1)``).
    """
    ws = FRESH if workspace is None else workspace
    N, T, _ = x.shape
    H = Wh.shape[0]
    dtype = x.dtype
    scale, numerator = _lstm_gate_scale(H, dtype)
    # gates[t] holds the pre-activations, then (in place) the gate values.
    gates = ws.empty("gates", (T, N, 4 * H), dtype)
    x1 = _project_inputs(x, Wx, b, scale, out=gates, workspace=ws)
    Wh_scaled = np.multiply(Wh, scale, out=ws.empty("Wh_scaled", Wh.shape, Wh.dtype))
    hs = ws.empty("hs", (T + 1, N, H), dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    cs = ws.empty("cs", (T + 1, N, H), dtype)
    tanh_cs = ws.empty("tanh_cs", (T, N, H), dtype)
    hs[0], cs[0] = h0, c0
    rec = ws.empty("rec", (N, 4 * H), dtype)
    ig = ws.empty("ig", (N, H), dtype)
    mask, padded = _padding(mask, T)
    i_all, f_all, g_all, o_all = (gates[:, :, j * H : (j + 1) * H] for j in range(4))
    steps = zip(
        gates, i_all, f_all, g_all, o_all, hs[:-1], hs[1:], cs[:-1], cs[1:], tanh_cs
    )
    with np.errstate(over="ignore"):  # exp(-a) = inf is the limit, gate 0
        for t, (y, i, f, g, o, prev_h, h, prev_c, c, tanh_c) in enumerate(steps):
            y += np.matmul(prev_h, Wh_scaled, out=rec)  # -a for i, f, o; -2a for g
            np.exp(y, out=y)
            y += 1
            np.divide(numerator, y, out=y)  # sigmoid(a), 2 sigmoid(2a)
            g -= 1  # now y holds i, f, g, o
            np.multiply(f, prev_c, out=c)  # c = f * c_prev + i * g
            c += np.multiply(i, g, out=ig)
            np.multiply(o, _tanh(c, out=tanh_c), out=h)  # h = o * tanh(c)
            if padded[t]:
                keep = ~mask[:, t]
                h[keep] = prev_h[keep]
                c[keep] = prev_c[keep]
    cache = (x1, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs, workspace)
    return hs[1:].transpose(1, 0, 2), (hs[T], cs[T]), cache


def lstm_backward(dh, cache, need_dx=True):
    """Backward pass of :func:`lstm_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
        Upstream gradient of every hidden state. The gradient of the final
        state belongs in ``dh[:, -1]``.
    cache : tuple
        From :func:`lstm_forward`.
    need_dx : bool, default=True
        Whether to compute ``dx``; if False, ``dx`` is None.

    Returns
    -------
    dx, dh0, dc0, dWx, dWh, db
        Gradients with the shapes of ``x, h0, c0, Wx, Wh, b``.
    """
    x1, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs, workspace = cache
    ws = FRESH if workspace is None else workspace
    T, N, H = tanh_cs.shape
    dtype = gates.dtype
    da = ws.scratch("da", gates.shape, dtype)  # gradient of the gate pre-activations
    dh_tm = dh.transpose(1, 0, 2)
    dh_t, dc = ws.empty("dh_t", (N, H), dtype), ws.empty("dc", (N, H), dtype)
    dh_next = ws.zeros("dh_next", (N, H), dtype)
    dc_next = ws.zeros("dc_next", (N, H), dtype)
    dy = ws.empty("dy", (N, 4 * H), dtype)  # gradient of the gate values
    di, df, dg, do = dy[:, :H], dy[:, H : 2 * H], dy[:, 2 * H : 3 * H], dy[:, 3 * H :]
    WhT = _transposed(Wh, ws)
    i_all, f_all, g_all = (gates[:, :, j * H : (j + 1) * H] for j in range(3))
    blocks = _time_blocks(T, gates[0].nbytes)
    dc_from_h = ws.scratch("dc_from_h", (blocks[0][1] - blocks[0][0], N, H), dtype)
    for start, stop in blocks:
        # For a block of steps at once, while it is in cache: da starts as the
        # derivative of each gate, y * (1 - y) for i, f, o and 1 - g**2 for g,
        y, d = gates[start:stop], da[start:stop]
        np.multiply(np.subtract(1, y, out=d), y, out=d)
        g, dgate = y[:, :, 2 * H : 3 * H], d[:, :, 2 * H : 3 * H]
        np.subtract(1, np.multiply(g, g, out=dgate), out=dgate)
        # and dh[t] reaches c[t] through o * tanh'(c[t]).
        k, tanh_c = dc_from_h[: stop - start], tanh_cs[start:stop]
        np.subtract(1, np.multiply(tanh_c, tanh_c, out=k), out=k)
        k *= y[:, :, 3 * H :]
        steps = zip(
            range(start, stop),
            i_all[start:stop],
            f_all[start:stop],
            g_all[start:stop],
            cs[start:stop],
            tanh_cs[start:stop],
            k,
            dh_tm[start:stop],
            da[start:stop],
        )
        for t, i, f, g, prev_c, tanh_c, k_t, dh_ext, da_t in reversed(list(steps)):
            np.add(dh_ext, dh_next, out=dh_t)
            np.multiply(dh_t, k_t, out=dc)
            dc += dc_next
            np.multiply(dc, g, out=di)  # c = f * c_prev + i * g
            np.multiply(dc, prev_c, out=df)
            np.multiply(dc, i, out=dg)
            np.multiply(dh_t, tanh_c, out=do)  # h = o * tanh(c)
            da_t *= dy  # backprop through the gate nonlinearities
            np.matmul(da_t, WhT, out=dh_next)
            if padded[t]:  # a padded step passes both gradients through
                keep = ~mask[:, t]
                da_t[keep] = 0
                dh_next[keep] = dh_t[keep]
                carried = dc_next[keep]
                np.multiply(dc, f, out=dc_next)
                dc_next[keep] = carried
            else:
                np.multiply(dc, f, out=dc_next)
    dx, dWx, dWh, db = _param_grads(x1, hs, da, Wx, need_dx, workspace=ws)
    return dx, dh_next, dc_next, dWx, dWh, db


# ---------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------


def gru_step_forward(x, prev_h, Wx, Wh, b):
    """Run one GRU time step, with the equations of ``torch.nn.GRU``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    prev_h : ndarray of shape (N, H)
    Wx, Wh : ndarray of shape (D, 3H), (H, 3H)
        Input and recurrent weights, gates packed in order (r, z, n), the
        order PyTorch uses.
    b : ndarray of shape (4H,)
        ``[b_r, b_z, b_in, b_hn]``: the biases of r and z (PyTorch's two
        biases of each summed), the input bias of n and the recurrent bias of
        n, which the reset gate scales.

    Returns
    -------
    next_h : ndarray of shape (N, H)
    cache : tuple
        Values needed by :func:`gru_step_backward`.

    Notes
    -----
    ONNX calls this form ``linear_before_reset=1``::

        r = sigmoid(x[t] @ Wx_r + h[t-1] @ Wh_r + b_r)
        z = sigmoid(x[t] @ Wx_z + h[t-1] @ Wh_z + b_z)
        n = tanh(x[t] @ Wx_n + b_in + r * (h[t-1] @ Wh_n + b_hn))
        h[t] = (1 - z) * n + z * h[t-1]
    """
    H = prev_h.shape[1]
    ax = x @ Wx + b[: 3 * H]
    ah = prev_h @ Wh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    hn = ah[:, 2 * H :] + b[3 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * hn)
    next_h = (1 - z) * n + z * prev_h
    cache = (x, prev_h, Wx, Wh, r, z, n, hn)
    return next_h, cache


def gru_step_backward(dnext_h, cache):
    """Backward pass of :func:`gru_step_forward`.

    Returns
    -------
    dx, dprev_h, dWx, dWh, db
        Gradients with the shapes of ``x, prev_h, Wx, Wh, b``.
    """
    x, prev_h, Wx, Wh, r, z, n, hn = cache
    dn = dnext_h * (1 - z)  # h = (1 - z) * n + z * h_prev
    dz = dnext_h * (prev_h - n)
    dan = dn * (1 - n * n)  # backprop through tanh
    dhn = dan * r  # n = tanh(... + r * hn)
    dr = dan * hn
    dar = dr * r * (1 - r)  # backprop through the sigmoids
    daz = dz * z * (1 - z)
    dax = np.hstack([dar, daz, dan])  # gradient of x @ Wx + b[:3H]
    dah = np.hstack([dar, daz, dhn])  # gradient of h_prev @ Wh
    dprev_h = dnext_h * z + dah @ Wh.T
    db = np.concatenate([dax.sum(axis=0), dhn.sum(axis=0)])
    return dax @ Wx.T, dprev_h, x.T @ dax, prev_h.T @ dah, db


def gru_forward(x, h0, Wx, Wh, b, mask=None, workspace=None):
    """Run a GRU over a batch of sequences.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0 : ndarray of shape (N, H)
        Initial hidden state.
    Wx, Wh, b : ndarray of shape (D, 3H), (H, 3H), (4H,)
        Gates packed in order (r, z, n); ``b`` is ``[b_r, b_z, b_in, b_hn]``,
        as in :func:`gru_step_forward`.
    mask : ndarray of shape (N, T), dtype=bool, default=None
        ``True`` at real steps. ``None`` means every step is real.
    workspace : Workspace, default=None
        Where to keep the arrays of this call and of :func:`gru_backward`
        (the returned ones included); None allocates them afresh.

    Returns
    -------
    h : ndarray of shape (N, T, H)
        Hidden state after every step.
    last : tuple of (ndarray of shape (N, H),)
        The final state ``(h[:, -1],)``, ready to be passed back as ``h0``.
    cache : tuple
        Values needed by :func:`gru_backward`.

    Notes
    -----
    The equations of :func:`gru_step_forward`, for all ``t``. The cache
    holds, per time step, the three gates and ``h[t-1] @ Wh_n + b_hn``
    (``4NH`` numbers), ``h`` (``NH``) and the input (``N(D + 1)``).
    """
    ws = FRESH if workspace is None else workspace
    N, T, _ = x.shape
    H = Wh.shape[0]
    dtype = x.dtype
    # sigmoid(a) = 1 / (1 + exp(-a)): r and z columns scaled by -1 (exact);
    # n goes through _tanh, after r * hn is added, so it is not scaled.
    scale = np.ones(3 * H, dtype=dtype)
    scale[: 2 * H] = -1
    # gates[t] holds the input pre-activations, then (in place) r, z and n.
    gates = ws.empty("gates", (T, N, 3 * H), dtype)
    x1 = _project_inputs(x, Wx, b[: 3 * H], scale, out=gates, workspace=ws)
    Wh_scaled = np.multiply(Wh, scale, out=ws.empty("Wh_scaled", Wh.shape, Wh.dtype))
    b_hn = b[3 * H :]
    hns = ws.empty("hns", (T, N, H), dtype)  # h[t-1] @ Wh_n + b_hn
    hs = ws.empty("hs", (T + 1, N, H), dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    hs[0] = h0
    rec = ws.empty("rec", (N, 3 * H), dtype)
    rn = ws.empty("rn", (N, H), dtype)
    mask, padded = _padding(mask, T)
    steps = zip(gates, hns, hs[:-1], hs[1:])
    with np.errstate(over="ignore"):  # exp(-a) = inf is the limit: 0, or -1
        for t, (y, hn, prev_h, h) in enumerate(steps):
            rz, r, z, n = y[:, : 2 * H], y[:, :H], y[:, H : 2 * H], y[:, 2 * H :]
            np.matmul(prev_h, Wh_scaled, out=rec)  # -a for r, z; h @ Wh_n for n
            rz += rec[:, : 2 * H]
            np.exp(rz, out=rz)
            rz += 1
            np.divide(1, rz, out=rz)  # now r, z
            np.add(rec[:, 2 * H :], b_hn, out=hn)
            n += np.multiply(r, hn, out=rn)  # n = tanh(x @ Wx_n + b_in + r * hn)
            _tanh(n, out=n)
            np.subtract(prev_h, n, out=h)  # h = n + z * (h_prev - n)
            h *= z
            h += n
            if padded[t]:
                keep = ~mask[:, t]
                h[keep] = prev_h[keep]
    cache = (x1, mask, padded, Wx, Wh, gates, hns, hs, workspace)
    return hs[1:].transpose(1, 0, 2), (hs[T],), cache


def gru_backward(dh, cache, need_dx=True):
    """Backward pass of :func:`gru_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
        Upstream gradient of every hidden state. The gradient of the final
        state belongs in ``dh[:, -1]``.
    cache : tuple
        From :func:`gru_forward`.
    need_dx : bool, default=True
        Whether to compute ``dx``; if False, ``dx`` is None.

    Returns
    -------
    dx, dh0, dWx, dWh, db
        Gradients with the shapes of ``x, h0, Wx, Wh, b``.

    Notes
    -----
    The gradient of every step is kept in one array of ``(N, 4H)`` columns
    ordered ``(n, r, z, hn)``: the first three are the gradient of the input
    pre-activations, in the order ``(n, r, z)``, and the last three the
    gradient of ``h[t-1] @ Wh``, in the order of ``Wh``'s columns, so that
    each parameter gradient is one matrix product of a slice of it. ``Wx``
    is rotated to ``(n, r, z)`` for the products, and ``dWx``, ``db`` rotated
    back.
    """
    x1, mask, padded, Wx, Wh, gates, hns, hs, workspace = cache
    ws = FRESH if workspace is None else workspace
    T, N, H = hns.shape
    dtype = gates.dtype
    da = ws.scratch("da", (T, N, 4 * H), dtype)
    dh_tm = dh.transpose(1, 0, 2)
    dh_t = ws.empty("dh_t", (N, H), dtype)
    dz_h = ws.empty("dz_h", (N, H), dtype)
    dh_next = ws.zeros("dh_next", (N, H), dtype)
    WhT = _transposed(Wh, ws)
    for start, stop in _time_blocks(T, da[0].nbytes):
        # For a block of steps at once, while it is in cache, each column of
        # da starts as what dh[t] (for n and z), or dn (for r and hn), is
        # multiplied by to give it:
        g, d = gates[start:stop], da[start:stop]
        r, z, n = g[:, :, :H], g[:, :, H : 2 * H], g[:, :, 2 * H :]
        kn, kr, kz, khn = (d[:, :, j * H : (j + 1) * H] for j in range(4))
        np.subtract(1, z, out=khn)  # 1 - z, for now
        np.subtract(1, np.multiply(n, n, out=kn), out=kn)
        kn *= khn  # dn = dh * (1 - z) * (1 - n**2): through h's mix and tanh
        np.subtract(hs[start:stop], n, out=kz)
        kz *= z
        kz *= khn  # dz = dh * (h_prev - n) * z * (1 - z): through the sigmoid
        np.subtract(1, r, out=kr)
        kr *= r
        kr *= hns[start:stop]  # dr = dn * hn * r * (1 - r)
        khn[...] = r  # dhn = dn * r
        steps = zip(range(start, stop), z, dh_tm[start:stop], d)
        for t, z_t, dh_ext, da_t in reversed(list(steps)):
            np.add(dh_ext, dh_next, out=dh_t)
            dn = da_t[:, :H]
            dn *= dh_t
            da_t[:, H : 2 * H] *= dn
            da_t[:, 2 * H : 3 * H] *= dh_t
            da_t[:, 3 * H :] *= dn
            np.matmul(da_t[:, H:], WhT, out=dh_next)  # through h_prev @ Wh
            dh_next += np.multiply(dh_t, z_t, out=dz_h)  # and through z * h_prev
            if padded[t]:  # a padded step passes the gradient through
                keep = ~mask[:, t]
                da_t[keep] = 0
                dh_next[keep] = dh_t[keep]
    D = Wx.shape[0]
    Wx_nrz = ws.empty("Wx_nrz", Wx.shape, Wx.dtype)
    Wx_nrz[:, :H], Wx_nrz[:, H:] = Wx[:, 2 * H :], Wx[:, : 2 * H]
    dx, dW1_nrz, dWh, db1_nrz = _param_grads(
        x1, hs, da[:, :, : 3 * H], Wx_nrz, need_dx, workspace=ws, da_h=da[:, :, H:]
    )
    dWx = ws.empty("dWx", (D, 3 * H), dtype)
    dWx[:, : 2 * H], dWx[:, 2 * H :] = dW1_nrz[:, H:], dW1_nrz[:, :H]
    db = ws.empty("db", (4 * H,), dtype)
    db[: 2 * H], db[2 * H : 3 * H] = db1_nrz[H:], db1_nrz[:H]
    da[:, :, 3 * H :].sum(axis=(0, 1), out=db[3 * H :])
    return dx, dh_next, dWx, dWh, db


# ---------------------------------------------------------------------------
# Shared pieces of the sequence functions
# ---------------------------------------------------------------------------

# Element-wise work over a block of time steps is done at once when the block
# fits in about this many bytes, so that it runs in cache.
_BLOCK_BYTES = 2**20


def _project_inputs(x, W, b, scale, out, workspace=FRESH):
    """Write ``x[t] @ (W * scale) + b * scale`` for all steps into ``out``.

    One matrix product for every time step, into ``out`` of shape
    ``(T, N, G)`` (time-major). Returns ``x`` time-major with a column of ones
    appended, shape ``(T, N, D + 1)``, kept in ``workspace``: the bias is the
    last row of the product's weights, and :func:`_param_grads` gets
    ``[dW; db]`` in one product from it.
    """
    N, T, D = x.shape
    x1 = workspace.empty("x1", (T, N, D + 1), x.dtype)
    x1[:, :, :D] = x.transpose(1, 0, 2)
    x1[:, :, D] = 1
    W1 = workspace.empty("W1", (D + 1, W.shape[1]), W.dtype)  # [W; b] * scale
    W1[:D], W1[D] = W, b
    W1 *= scale
    np.matmul(x1.reshape(T * N, D + 1), W1, out=out.reshape(T * N, -1))
    return x1


def _param_grads(x1, hs, da, Wx, need_dx=True, workspace=FRESH, da_h=None):
    """``dx, dWx, dWh, db`` from the gradient ``da`` of every step's
    pre-activations, shape ``(T, N, G)``: one matrix product each (``dx`` is
    None unless ``need_dx``), into arrays of ``workspace``.

    ``da_h``, of the same shape, is the gradient of the recurrent products
    ``h[t-1] @ Wh`` where it is not ``da`` (the GRU's, whose ``n`` gate scales
    its recurrent part by ``r``); it gives ``dWh``."""
    T, N, G = da.shape
    D, H = Wx.shape[0], hs.shape[2]
    dtype = da.dtype
    da2 = da.reshape(T * N, G)
    da_h2 = da2 if da_h is None else da_h.reshape(T * N, G)
    dW1 = np.matmul(  # [dWx; db]
        x1.reshape(T * N, D + 1).T, da2, out=workspace.empty("dW1", (D + 1, G), dtype)
    )
    dWh = np.matmul(
        hs[:-1].reshape(T * N, H).T, da_h2, out=workspace.empty("dWh", (H, G), dtype)
    )
    dx = None
    if need_dx:
        dx = np.matmul(da2, Wx.T, out=workspace.empty("dx", (T * N, D), dtype))
        dx = dx.reshape(T, N, D).transpose(1, 0, 2)
    return dx, dW1[:D], dWh, dW1[D]


def _transposed(W, workspace):
    """``W.T`` as a C-contiguous array of ``workspace``."""
    WT = workspace.empty("WT", W.shape[::-1], W.dtype)
    WT[...] = W.T
    return WT


def _time_blocks(T, step_bytes):
    """``(start, stop)`` of blocks of time steps, the last block first."""
    size = max(1, _BLOCK_BYTES // step_bytes)
    return [(max(0, stop - size), stop) for stop in range(T, 0, -size)]


def _padding(mask, T):
    """The mask as booleans (or None) and, per time step, whether any
    sequence is padded there."""
    if mask is None:
        return None, [False] * T
    mask = np.asarray(mask, dtype=bool)
    return mask, (~mask.all(axis=0)).tolist()


# ---------------------------------------------------------------------------
# Stacks of layers
# ---------------------------------------------------------------------------


def _initialize(rng, n_inputs, H, dtype, n_gates, forget_bias=None, n_biases=None):
    """``Wx, Wh, b`` of a fresh layer: input weights Glorot-uniform, recurrent
    weights orthogonal (one block per gate), biases zero but for the gates
    in ``forget_bias``; ``b`` has ``n_biases * H`` entries (default
    ``n_gates * H``)."""
    bound = np.sqrt(6.0 / (n_inputs + H))
    Wx = rng.uniform(-bound, bound, (n_inputs, n_gates * H)).astype(dtype)
    blocks = [np.linalg.qr(rng.standard_normal((H, H)))[0] for _ in range(n_gates)]
    Wh = np.hstack(blocks).astype(dtype)
    b = np.zeros((n_gates if n_biases is None else n_biases) * H, dtype=dtype)
    if forget_bias is not None:
        b[forget_bias] = 1.0
    return [Wx, Wh, b]


def lstm_initialize(rng, n_inputs, H, dtype):
    """A fresh LSTM layer; the forget gate's bias starts at 1, so that the cell
    remembers by default (Jozefowicz et al., 2015)."""
    return _initialize(rng, n_inputs, H, dtype, 4, forget_bias=slice(H, 2 * H))


def rnn_initialize(rng, n_inputs, H, dtype):
    """A fresh vanilla RNN layer."""
    return _initialize(rng, n_inputs, H, dtype, 1)


def gru_initialize(rng, n_inputs, H, dtype):
    """A fresh GRU layer, its four bias blocks ``[b_r, b_z, b_in, b_hn]`` zero
    (as Keras starts them)."""
    return _initialize(rng, n_inputs, H, dtype, 3, n_biases=4)


class Cell(
    namedtuple(
        "Cell",
        ["forward", "backward", "initialize", "n_states", "n_gates", "n_biases"],
        defaults=[None],
    )
):
    """A recurrent cell.

    Attributes
    ----------
    forward, backward : callable
        Its sequence functions, as :func:`lstm_forward` and
        :func:`lstm_backward`.
    initialize : callable
        ``initialize(rng, n_inputs, H, dtype) -> [Wx, Wh, b]``, a fresh layer.
    n_states : int
        The number of state arrays it carries (2 for LSTM: h and c).
    n_gates : int
        The number of gates packed in its weights: ``Wx`` and ``Wh`` have
        ``n_gates * H`` columns.
    n_biases : int or None, default=None
        The length of ``b`` over ``H``; None means ``n_gates``. The GRU's is 4
        for its 3 gates: its n gate has an input and a recurrent bias.
    """

    __slots__ = ()

    def weight_shapes(self, n_inputs, H):
        """The shapes of a layer's ``[Wx, Wh, b]``, for ``n_inputs`` inputs per
        step and ``H`` hidden units."""
        G = self.n_gates * H
        n_biases = self.n_gates if self.n_biases is None else self.n_biases
        return [(n_inputs, G), (H, G), (n_biases * H,)]


# The LSTM and vanilla RNN run the functions above or their compiled
# equivalents, as sklearn_lstm.set_config(backend=...) says, call by call.
CELLS = {
    "lstm": Cell(_backend.lstm_forward, _backend.lstm_backward, lstm_initialize, 2, 4),
    "rnn_tanh": Cell(
        partial(_backend.rnn_forward, activation="tanh"),
        _backend.rnn_backward,
        rnn_initialize,
        1,
        1,
    ),
    "rnn_sigmoid": Cell(
        partial(_backend.rnn_forward, activation="sigmoid"),
        _backend.rnn_backward,
        rnn_initialize,
        1,
        1,
    ),
    "gru": Cell(gru_forward, gru_backward, gru_initialize, 1, 3, n_biases=4),
}
