"""Scratch arrays that a fit reuses from one minibatch to the next.

Each minibatch of a fit needs the same large arrays as the one before (the
gates, states and their gradients: ``(T, N, 4H)`` numbers and more). Allocated
afresh, they are returned to the system when freed (glibc trims the heap and
unmaps large blocks), and the next batch pays page faults to get the memory
back. A :class:`Workspace` keeps them instead: an array asked for under the
same name and dtype, no larger than before, is the same memory, overwritten.

The functions that take a workspace stay pure functions of their inputs; what
they return may live in its arrays, and is then valid until the next call
with the same workspace. A workspace is not thread-safe: each thread (each
shard of a minibatch) needs its own.
"""

import math

import numpy as np


class Workspace:
    """Named arrays kept between calls, and named sub-workspaces.

    Each name keeps one block of memory, as large as the largest array asked
    for under it: a smaller batch (the last of an epoch, or a batch of
    shorter sequences) gets a view of its start, so that the workspace never
    holds more than the arrays of the largest batch and never reallocates
    for a smaller one. Arrays that do not outlive a call are asked for with
    :meth:`scratch`, and shared by the workspace and all its sub-workspaces,
    so that keeping them adds nothing to the memory a batch needs.
    """

    def __init__(self, _scratch=None):
        self._arrays = {}
        self._children = {}
        self._scratch = {} if _scratch is None else _scratch

    def empty(self, name, shape, dtype):
        """An array of ``shape`` and ``dtype`` holding whatever it held last."""
        return _reuse(self._arrays, name, shape, dtype)

    def scratch(self, name, shape, dtype):
        """:meth:`empty`, shared with every workspace of the tree: for arrays
        that are dead once the call that asked for them returns."""
        return _reuse(self._scratch, name, shape, dtype)

    def zeros(self, name, shape, dtype):
        """:meth:`empty`, filled with zeros."""
        array = self.empty(name, shape, dtype)
        array.fill(0)
        return array

    def child(self, key):
        """The sub-workspace ``key``: its names do not clash with this one's,
        for calls whose results must coexist (the layers of a network)."""
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = Workspace(self._scratch)
        return child


def _reuse(arrays, name, shape, dtype):
    """An array of ``shape`` and ``dtype`` on the memory kept as
    ``arrays[name]``, which is replaced (let go first, so that its memory can
    serve the new one) when it is too small or of another dtype.

    ``arrays[name]`` is ``(memory, array)``: the block and the last array
    handed out, returned as it is when asked for again (most calls)."""
    entry = arrays.get(name)
    if entry is not None:
        memory, array = entry
        if array.shape == shape and array.dtype == dtype:
            return array
        size = math.prod(shape)
        if memory.dtype == dtype and memory.size >= size:
            array = memory[:size].reshape(shape)
            arrays[name] = (memory, array)
            return array
        del memory, array, entry
        arrays.pop(name)
    memory = np.empty(math.prod(shape), dtype=dtype)
    array = memory.reshape(shape)
    arrays[name] = (memory, array)
    return array


class _Fresh:
    """A stand-in for a :class:`Workspace` that allocates every array anew."""

    def empty(self, name, shape, dtype):
        return np.empty(shape, dtype=dtype)

    scratch = empty

    def zeros(self, name, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def child(self, key):
        return self


FRESH = _Fresh()
"""Fresh arrays on every call: what functions given no workspace use."""
