"""Readouts: how a many-to-one network's head reads the top layer's states.

Each :class:`Readout` is one entry of :data:`READOUTS`, with everything the
package needs of it: the forward pass over the states ``h`` (N, T, F) of
the real steps, its backward pass, how many times ``F`` its output is
wide, and the same computation as ONNX nodes (:mod:`sklearn_lstm.onnx`). A
new readout is a new entry here and its tests, nothing else.

In a bidirectional network the last ``H`` columns of ``h`` belong to the
reversed direction, whose last state is the one after it read step 0.
"""

from collections import namedtuple

import numpy as np

from . import _backend

Readout = namedtuple("Readout", ["forward", "backward", "width", "onnx"])
"""``forward(h, mask, H, bidirectional) -> (z, cache)``;
``backward(dz, mask, cache, dh, H, bidirectional) -> dh``, writing into the
array ``dh`` of the shape of ``h`` (whatever it held); ``width``: columns of
``z`` per column of ``h``; ``onnx(graph, Y, Y_h, lens)``: the ONNX nodes from
the top layer's ``Y`` (T, N, F) and ``Y_h`` (N, F), ``lens`` the name of
``sequence_lens`` or None."""


# -- 'last' -------------------------------------------------------------------


def _last(h, mask, H, bidirectional):
    z = h[:, -1].copy()
    if bidirectional:  # the reversed direction ends at step 0
        z[:, H:] = h[:, 0, H:]
    return z, None


def _last_backward(dz, mask, cache, dh, H, bidirectional):
    dh.fill(0)
    dh[:, -1, :H] = dz[:, :H]
    if bidirectional:
        dh[:, 0, H:] = dz[:, H:]
    return dh


def _last_onnx(graph, Y, Y_h, lens):
    """The LSTM's own ``Y_h``: the state after each sequence's last real step
    (for the reverse direction, after it read step 0)."""
    return Y_h


# -- 'mean' -------------------------------------------------------------------


def _mean(h, mask, H=None, bidirectional=None):
    """Mean over each sequence's real steps; the cache is the lengths (None
    when every step is real)."""
    if mask is None:
        return h.mean(axis=1), None
    lengths = mask.sum(axis=1, keepdims=True).astype(h.dtype)
    return np.einsum("ntf,nt->nf", h, mask.astype(h.dtype)) / lengths, lengths


def _mean_backward(dz, mask, lengths, dh, H=None, bidirectional=None):
    T = dh.shape[1]
    if mask is None:
        return np.divide(dz[:, None], T, out=dh)
    return np.multiply(mask[:, :, None] / lengths[:, :, None], dz[:, None], out=dh)


def _mean_onnx(graph, Y, Y_h, lens):
    """``sum(Y * mask) / lens``."""
    if lens is None:
        return graph.reduce("ReduceMean", Y)
    mask = graph.cast(graph.real_steps(Y, lens), "FLOAT")
    total = graph.reduce("ReduceSum", graph.node("Mul", [Y, mask]))
    return graph.node("Div", [total, graph.reduce("ReduceSum", mask)])


# -- 'max' --------------------------------------------------------------------


def _max(h, mask, H=None, bidirectional=None):
    """Maximum over each sequence's real steps (padded steps never win); the
    cache is the flat index in ``h`` of each sequence's and feature's
    maximum. In one compiled pass where the compiled backend runs (the same
    numbers)."""
    compiled = _backend.compiled_function("max_over_steps")
    result = None if compiled is None else compiled(h, mask)
    if result is not None:
        return result
    masked = h if mask is None else np.where(mask[:, :, None], h, -np.inf)
    N, T, F = h.shape
    flat = (np.arange(N)[:, None] * T + masked.argmax(axis=1)) * F + np.arange(F)
    return h.take(flat), flat


def _max_backward(dz, mask, flat, dh, H=None, bidirectional=None, add=False):
    """Each maximum's step gets its gradient (one step per sequence and
    feature: the flat indices are distinct); added to ``dh`` with ``add``,
    else ``dh`` is cleared first."""
    if not add:
        dh.fill(0)
    np.put(dh, flat, dh.take(flat) + dz)
    return dh


def _max_onnx(graph, Y, Y_h, lens):
    """Padded steps are set to the lowest float32 first, so they never win."""
    if lens is not None:
        lowest = graph.const(np.float32(np.finfo(np.float32).min))
        Y = graph.node("Where", [graph.real_steps(Y, lens), Y, lowest])
    return graph.reduce("ReduceMax", Y)


# -- 'mean_max' -----------------------------------------------------------------


def _mean_max(h, mask, H=None, bidirectional=None):
    """The mean and the maximum side by side: the concat pooling of Howard &
    Ruder (2018)."""
    z_mean, lengths = _mean(h, mask)
    z_max, flat = _max(h, mask)
    return np.concatenate([z_mean, z_max], axis=1), (lengths, flat)


def _mean_max_backward(dz, mask, cache, dh, H=None, bidirectional=None):
    lengths, flat = cache
    F = dh.shape[2]
    _mean_backward(dz[:, :F], mask, lengths, dh)
    return _max_backward(dz[:, F:], mask, flat, dh, add=True)


def _mean_max_onnx(graph, Y, Y_h, lens):
    return graph.node(
        "Concat",
        [_mean_onnx(graph, Y, Y_h, lens), _max_onnx(graph, Y, Y_h, lens)],
        axis=1,
    )


READOUTS = {
    "last": Readout(_last, _last_backward, 1, _last_onnx),
    "mean": Readout(_mean, _mean_backward, 1, _mean_onnx),
    "max": Readout(_max, _max_backward, 1, _max_onnx),
    "mean_max": Readout(_mean_max, _mean_max_backward, 2, _mean_max_onnx),
}
"""The readouts by name: ``'last'`` (the state after each sequence's last
real step), ``'mean'`` and ``'max'`` over the real steps, and ``'mean_max'``,
both side by side."""
