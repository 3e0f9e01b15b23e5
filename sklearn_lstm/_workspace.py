"""Scratch arrays that a fit reuses from one minibatch to the next.

Each minibatch of a fit needs the same large arrays as the one before (the
gates, states and their gradients: ``(T, N, 4H)`` numbers and more). Allocated
afresh, they are returned to the system when freed (glibc trims the heap and
unmaps large blocks), and the next batch pays page faults to get the memory
back. A :class:`Workspace` keeps them instead: an array asked for under the
same name, shape and dtype as before is the same memory, overwritten.

The functions that take a workspace stay pure functions of their inputs; what
they return may live in its arrays, and is then valid until the next call
with the same workspace. A workspace is not thread-safe: each thread (each
shard of a minibatch) needs its own.
"""

import numpy as np


class Workspace:
    """Named arrays kept between calls, and named sub-workspaces.

    Every distinct ``(name, shape, dtype)`` keeps its array for the life of
    the workspace: a fit has few shapes (the full batches and the last one).
    """

    def __init__(self):
        self._arrays = {}
        self._children = {}

    def empty(self, name, shape, dtype):
        """An array of ``shape`` and ``dtype`` holding whatever it held last."""
        key = (name, shape, np.dtype(dtype))
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = np.empty(shape, dtype=dtype)
        return array

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
            child = self._children[key] = Workspace()
        return child


class _Fresh:
    """A stand-in for a :class:`Workspace` that allocates every array anew."""

    def empty(self, name, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def zeros(self, name, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def child(self, key):
        return self


FRESH = _Fresh()
"""Fresh arrays on every call: what functions given no workspace use."""
