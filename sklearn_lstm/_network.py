"""The network every estimator trains: recurrent layers, a readout and a head.

A :class:`Network` is built from its configuration (the cell, the sizes,
whether layers are bidirectional, how the head reads the top layer's states,
the output activation, dropout and input noise) and holds nothing else: its
methods are pure functions of the weights and the batch they are given, like
the cells of :mod:`sklearn_lstm._cells` that they call. The weights are a
list in the order of :meth:`Network.spec`, from which initialization and
the L2 penalty derive::

    x -> [noise] -> layer 1 -> [dropout] -> ... -> layer L -> [dropout]
      -> readout -> head -> outputs

* **layers**: ``n_layers`` recurrent layers; a bidirectional layer runs a
  second cell over each sequence's real steps in reverse (padding stays at
  the end, so it never reaches the reversed direction) and concatenates the
  two state sequences, as ``torch.nn.LSTM(bidirectional=True)`` does.
* **readout**: many-to-one networks read the top layer's states once per
  sequence, as the entry of :data:`sklearn_lstm._readouts.READOUTS` named by
  ``readout`` computes it; many-to-many networks (``readout=None``) read
  every step.
* **skip**: with ``skip=k`` the head also reads the inputs themselves
  (as the network is given them, which the estimators encode first), next
  to the readout: the inputs of the ``k`` steps up to the one it answers
  for, most recent first (``x[t], x[t-1], ..., x[t-k+1]``, zeros before a
  sequence's first step). A per-step network (``readout=None``) answers for
  every step ``t``; a many-to-one network for each sequence's last real
  step, read before patching. The head is then at least a linear model of
  the recent inputs, whatever the recurrent layers learn: the per-step
  skip path of a tagger, the autoregressive "highway" of LSTNet (Lai et
  al., "Modeling Long- and Short-Term Temporal Patterns with Deep Neural
  Networks", 2018) on forecasting windows. Its weights are the last
  ``k * n_inputs`` rows of ``W_out``.
* **head**: a dense layer and its output activation, which fixes the loss
  (:data:`HEADS`).

Noise and dropout only happen in training, when the forward pass is given
the random numbers of the batch (:meth:`Network.draw`): ``input_noise``
adds Gaussian noise to the inputs, ``dropout`` zeroes features of each
layer's output (one mask per sequence, the same at every step),
``weight_drop`` zeroes recurrent weights (one mask per minibatch, the same
at every step: the DropConnect of Merity et al., "Regularizing and
Optimizing LSTM Language Models", 2018). Kept units are scaled by
``1 / (1 - p)``, so predictions need no rescaling. All of a batch's random
numbers are drawn at once, in a fixed order, so that a batch split into
shards (each sequence's noise and masks sliced out of the batch's) trains
on the same draws. The skip reads the inputs with their noise (the noise
augments what the head reads too) and is never dropped out.
"""

from collections import namedtuple

import numpy as np

from ._activations import identity, sigmoid, softmax
from ._cells import CELLS
from ._losses import LOSS_FUNCTIONS
from ._readouts import READOUTS

Weight = namedtuple("Weight", ["role", "shape"])
"""One weight array: its role (``'input'``, ``'recurrent'``, ``'bias'``,
``'output'`` or ``'output_bias'``) and its shape."""

Head = namedtuple("Head", ["loss", "activation", "onnx_op"])
"""An output activation: the loss it is trained with, the function, and the
ONNX operator that computes it (None for the identity)."""


class Draws(namedtuple("Draws", ["noise", "weight_masks", "keeps"])):
    """The random numbers of one training batch: the scaled input noise (or
    None), each layer's and direction's recurrent weight mask and each layer's
    output dropout mask, shape ``(N, 1, F)`` (None where not used)."""

    __slots__ = ()

    def take(self, rows):
        """The draws of the sequences ``rows`` (a slice) of the batch; the
        weight masks are the batch's."""
        return Draws(
            None if self.noise is None else self.noise[rows],
            self.weight_masks,
            [None if keep is None else keep[rows] for keep in self.keeps],
        )


HEADS = {
    "softmax": Head("log_loss", softmax, "Softmax"),
    "sigmoid": Head("binary_log_loss", sigmoid, "Sigmoid"),
    "identity": Head("squared_error", identity, None),
}
"""Output activations, with the loss each is trained with."""

# Roles of the weight matrices that the L2 penalty applies to (not biases).
_PENALIZED = ("input", "recurrent", "output")


class Network:
    """A stack of recurrent layers read by a dense head.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn_tanh', 'rnn_sigmoid'}
        A key of :data:`sklearn_lstm._cells.CELLS`.
    n_inputs : int
        Features per time step.
    hidden_size : int
        Units per layer and direction.
    n_layers : int
    n_outputs : int
        Columns of the head.
    head : {'softmax', 'sigmoid', 'identity'}
    readout : str or None, default='last'
        How the head reads the top layer's states, a key of
        :data:`sklearn_lstm._readouts.READOUTS`; None reads every step.
    bidirectional : bool, default=False
    patch_size : int, default=1
        Consecutive time steps read as one: the first layer reads patches of
        ``patch_size`` steps, ``patch_size * n_inputs`` features each.
    dropout : float, default=0.0
        Rate of dropout on each layer's output, in training.
    weight_drop : float, default=0.0
        Rate of DropConnect on the recurrent weights, in training.
    input_noise : ndarray of shape (n_inputs,), default=None
        Standard deviation of the Gaussian noise added to each input feature
        in training; None adds none.
    skip : int, default=0
        Number of steps of inputs that the head also reads next to the
        readout, up to the step it answers for (each step in a per-step
        network, each sequence's last real step in a many-to-one network);
        0 reads none. Not available for a per-step network that reads
        patches, whose outputs answer for patches, not steps.
    """

    # Networks pickled before the skip existed have none.
    skip = 0

    def __init__(
        self,
        cell,
        n_inputs,
        hidden_size,
        n_layers,
        n_outputs,
        head,
        readout="last",
        bidirectional=False,
        patch_size=1,
        dropout=0.0,
        weight_drop=0.0,
        input_noise=None,
        skip=0,
    ):
        if skip and readout is None and patch_size > 1:
            raise ValueError(
                "A per-step network that reads patches has no per-step skip: its "
                f"outputs answer for patches of {patch_size} steps."
            )
        self.cell = cell
        self.n_inputs = n_inputs
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.n_outputs = n_outputs
        self.head = head
        self.readout = readout
        self.bidirectional = bidirectional
        self.patch_size = patch_size
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.input_noise = input_noise
        self.skip = skip

    def describe(self):
        """The architecture, in words: what continued training must keep."""
        return (
            f"cell={self.cell!r}, hidden_size={self.hidden_size}, "
            f"n_layers={self.n_layers}, bidirectional={self.bidirectional}, "
            f"readout={self.readout!r}, patch_size={self.patch_size}"
        ) + (f", skip={self.skip}" if self.skip else "")

    @property
    def n_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def n_features(self):
        """Width of the top layer's states: what the readout reads."""
        return self.hidden_size * self.n_directions

    @property
    def n_skip(self):
        """Width of the skip: the inputs of ``skip`` steps."""
        return self.skip * self.n_inputs

    @property
    def n_readout(self):
        """Width of what the head reads: the readout, then the skip."""
        if self.readout is None:
            return self.n_features + self.n_skip
        return self.n_features * READOUTS[self.readout].width + self.n_skip

    # -- weights -----------------------------------------------------------

    def spec(self):
        """The weights, in order: each layer's ``Wx, Wh, b`` (the reversed
        direction right after its layer's forward one), then ``W_out, b_out``
        (``W_out`` reads the readout, then the skip)."""
        shapes = CELLS[self.cell].weight_shapes
        spec = []
        for layer in range(self.n_layers):
            n_in = self.n_inputs * self.patch_size if layer == 0 else self.n_features
            Wx, Wh, b = shapes(n_in, self.hidden_size)
            spec += [
                Weight("input", Wx),
                Weight("recurrent", Wh),
                Weight("bias", b),
            ] * self.n_directions
        K = self.n_outputs
        return spec + [
            Weight("output", (self.n_readout, K)),
            Weight("output_bias", (K,)),
        ]

    def initialize(self, rng, dtype):
        """Initial weights in the order of :meth:`spec`: each layer as its cell
        initializes it, the head Glorot-uniform with a zero bias."""
        init_layer = CELLS[self.cell].initialize
        params = []
        for w in self.spec():
            if w.role == "input":
                params += init_layer(rng, w.shape[0], self.hidden_size, dtype)
            elif w.role == "output":
                bound = np.sqrt(6.0 / sum(w.shape))
                params.append(rng.uniform(-bound, bound, w.shape).astype(dtype))
            elif w.role == "output_bias":
                params.append(np.zeros(w.shape, dtype=dtype))
        return params

    def penalized(self):
        """Positions, in :meth:`spec`, of the weights the L2 penalty applies to."""
        return [k for k, w in enumerate(self.spec()) if w.role in _PENALIZED]

    def activate(self, logits):
        """The head's activation of the outputs of :meth:`forward`."""
        return HEADS[self.head].activation(logits)

    # -- forward and backward ------------------------------------------------

    def forward(self, params, X, mask=None, *, state=None, draws=None, workspace=None):
        """Outputs of the head before its activation, and the cache.

        Parameters
        ----------
        params : list of ndarray
            The weights, in the order of :meth:`spec`.
        X : ndarray of shape (N, T, D)
        mask : ndarray of shape (N, T) of bool, default=None
            True at real steps; None when every step is real.
        state : list of tuple, default=None
            Initial state of each layer (unidirectional networks only), as
            ``cache["last"]`` returns it; zeros if None.
        draws : Draws, default=None
            The batch's noise and dropout masks (see :meth:`draw`): training
            mode. None: no noise, no dropout.
        workspace : Workspace, default=None
            Where the layers keep their arrays, for this call and
            :meth:`backward`; the cache and ``cache["last"]`` then live in it
            until its next use. None allocates them afresh.

        Returns
        -------
        logits : ndarray of shape (N, K), or (N, T, K) when ``readout`` is None
        cache : dict
            What :meth:`backward` needs; ``cache["last"]`` holds the final
            state of each layer.
        """
        z, cache = self.features(
            params, X, mask, state=state, draws=draws, workspace=workspace
        )
        cache["z"] = z
        return output_layer(z, params[-2], params[-1]), cache

    def features(self, params, X, mask=None, *, state=None, draws=None, workspace=None):
        """What the head reads: the readout of the top layer's states, then
        the skip (the inputs of the last ``skip`` steps).

        Same parameters as :meth:`forward`; returns ``(z, cache)`` with ``z`` of
        shape ``(N, F)``, or ``(N, T, F)`` when ``readout`` is None.
        """
        cell = CELLS[self.cell]
        N, T = X.shape[:2]
        if draws is not None and draws.noise is not None:
            X = X + draws.noise
        X_steps, n_steps, step_mask = X, T, mask
        if self.patch_size > 1:
            X, mask = _patches(X, mask, self.patch_size)
            N, T = X.shape[:2]
        reverse = _reversal(mask, T) if self.bidirectional else None
        h, cells, keeps, last = X, [], [], []
        for layer in range(self.n_layers):
            outputs = []
            for direction in range(self.n_directions):
                k = layer * self.n_directions + direction
                Wx, Wh, b = params[3 * k : 3 * k + 3]
                weight_mask = None if draws is None else draws.weight_masks[k]
                if weight_mask is not None:
                    Wh = Wh * weight_mask
                if state is None:
                    zeros = np.zeros((N, Wh.shape[0]), dtype=X.dtype)
                    layer_state = [zeros] * cell.n_states
                else:
                    layer_state = state[layer]
                x = h if direction == 0 else _reverse(h, reverse)
                hs, layer_last, cell_cache = cell.forward(
                    x,
                    *layer_state,
                    Wx,
                    Wh,
                    b,
                    mask=mask,
                    workspace=None if workspace is None else workspace.child(k),
                )
                outputs.append(hs if direction == 0 else _reverse(hs, reverse))
                cells.append((cell_cache, weight_mask))
                last.append(layer_last)
            # The layer's output goes into a buffer of the workspace that the
            # layer after next reuses, and the top one the readout's gradient.
            buffer = _output_buffer(workspace, layer, (T, N, self.n_features), X.dtype)
            out = None if buffer is None else buffer.transpose(1, 0, 2)
            keep = None if draws is None else draws.keeps[layer]
            if len(outputs) > 1:
                h = np.concatenate(outputs, axis=2, out=out)
                if keep is not None:
                    h *= keep
            elif keep is not None:
                h = np.multiply(outputs[0], keep, out=out)
            else:
                h = outputs[0]
            keeps.append(keep)
        if self.readout is None:
            z, readout_cache = h, None
        else:
            readout = READOUTS[self.readout]
            z, readout_cache = readout.forward(
                h, mask, self.hidden_size, self.bidirectional
            )
        last_step = None
        if self.skip:
            if self.readout is None:
                s = _lagged(X_steps, step_mask, self.skip)
            else:
                last_step = _last_steps(step_mask, N, n_steps)
                s = _lagged_at(X_steps, last_step, self.skip)
            z = np.concatenate([z, s], axis=-1)
        cache = {
            "cells": cells,
            "keeps": keeps,
            "mask": mask,
            "reverse": reverse,
            "readout": readout_cache,
            "shape": h.shape,
            "last": last,
            "n_steps": n_steps,
            "step_mask": step_mask,
            "last_step": last_step,
            "workspace": workspace,
        }
        return z, cache

    def draw(self, shape, dtype, random_state, noise_scale=1.0):
        """The random numbers of a training batch of sequences of ``shape``
        ``(N, T, D)``, drawn from ``random_state`` in a fixed order: the input
        noise (its standard deviation ``input_noise`` times ``noise_scale``;
        none at a scale of 0), then per layer its recurrent weight masks and
        its output mask.

        Returns a :class:`Draws`, or None when there is nothing to draw.
        """
        if self.input_noise is None and not self.dropout and not self.weight_drop:
            return None
        noise = None
        if self.input_noise is not None and noise_scale > 0:
            noise = random_state.standard_normal(shape).astype(dtype, copy=False)
            noise *= (self.input_noise * noise_scale).astype(dtype)
        G = CELLS[self.cell].weight_shapes(self.hidden_size, self.hidden_size)[1]
        weight_masks, keeps = [], []
        for _ in range(self.n_layers):
            for _ in range(self.n_directions):
                weight_masks.append(
                    _dropout_mask(random_state, G, self.weight_drop, dtype)
                    if self.weight_drop
                    else None
                )
            keeps.append(
                _dropout_mask(
                    random_state, (shape[0], 1, self.n_features), self.dropout, dtype
                )
                if self.dropout
                else None
            )
        return Draws(noise, weight_masks, keeps)

    def backward(self, dlogits, cache, params, need_dX=True):
        """Gradients of the weights (in the order of :meth:`spec`) and of ``X``.

        Parameters
        ----------
        dlogits : ndarray
            Gradient of the outputs of :meth:`forward`.
        cache : dict
            From :meth:`forward`.
        params : list of ndarray
            The weights :meth:`forward` was run with.
        need_dX : bool, default=True
            Whether to compute ``dX``; if False, ``dX`` is None and the
            bottom layer skips the product that gives it.

        Returns
        -------
        grads : list of ndarray
        dX : ndarray of shape (N, T, D) or None
        """
        W_out = params[-2]
        z = cache["z"]
        F, K = W_out.shape
        dW_out = z.reshape(-1, F).T @ dlogits.reshape(-1, K)
        db_out = dlogits.reshape(-1, K).sum(axis=0)
        if self.skip:  # the head's rows of the readout, then of the skip
            n_z = F - self.n_skip
            dskip = dlogits @ W_out[n_z:].T
            dh = self._readout_backward(dlogits @ W_out[:n_z].T, cache)
        else:
            dh = self._readout_backward(dlogits @ W_out.T, cache)
        backward = CELLS[self.cell].backward
        n_states = CELLS[self.cell].n_states
        H, reverse = self.hidden_size, cache["reverse"]
        layer_grads = [None] * len(cache["cells"])
        for layer in reversed(range(self.n_layers)):
            if cache["keeps"][layer] is not None:  # the layer's output dropout
                dh *= cache["keeps"][layer]  # (dh is this function's own array)
            dx = None
            for direction in range(self.n_directions):
                k = layer * self.n_directions + direction
                cell_cache, weight_mask = cache["cells"][k]
                if self.n_directions == 1:
                    d = dh
                else:
                    d = dh[:, :, direction * H : (direction + 1) * H]
                    if direction == 1:
                        d = _reverse(d, reverse)
                dx_k, *rest = backward(d, cell_cache, need_dX or layer > 0)
                dWx, dWh, db = rest[n_states:]
                if weight_mask is not None:
                    dWh *= weight_mask
                layer_grads[k] = [dWx, dWh, db]
                if direction == 1 and dx_k is not None:
                    dx += _reverse(dx_k, reverse)  # dx is direction 0's own array
                else:
                    dx = dx_k
            dh = dx
        grads = [g for layer in layer_grads for g in layer] + [dW_out, db_out]
        if not need_dX:
            return grads, None
        if self.patch_size > 1:  # back to one row per time step
            N, n_patches = dh.shape[:2]
            dh = dh.reshape(N, n_patches * self.patch_size, -1)
            dh = dh[:, : cache["n_steps"]]
            if cache["step_mask"] is not None:
                dh[~cache["step_mask"]] = 0
        if self.skip:
            if self.readout is None:
                _lagged_backward(dskip, cache["step_mask"], self.skip, dh)
            else:
                _lagged_at_backward(dskip, cache["last_step"], self.skip, dh)
        return grads, dh

    def _readout_backward(self, dz, cache):
        """Gradient of the top layer's states from that of the readout, in a
        new array (or one of the workspace)."""
        if self.readout is None:
            return dz
        N, T, F = cache["shape"]
        # into the top layer's output buffer: the forward pass is done with it
        top = self.n_layers - 1
        buffer = _output_buffer(cache["workspace"], top, (T, N, F), dz.dtype)
        dh = (
            np.empty((N, T, F), dz.dtype) if buffer is None else buffer.reshape(N, T, F)
        )
        return READOUTS[self.readout].backward(
            dz,
            cache["mask"],
            cache["readout"],
            dh,
            self.hidden_size,
            self.bidirectional,
        )

    def loss_grad(
        self,
        params,
        X,
        mask,
        targets,
        sample_weight,
        *,
        draws=None,
        total_weight=None,
        workspace=None,
    ):
        """Loss of a batch and its gradients in the order of :meth:`spec`.

        The loss is the ``sample_weight``-weighted mean over sequences (per-step
        outputs of a sequence add up), divided by ``total_weight`` (default:
        the sum of ``sample_weight``), without the L2 penalty
        (:func:`add_l2_penalty`). A shard of a batch passes the batch's
        ``total_weight`` and its slice of the batch's ``draws`` (see
        :meth:`forward`): the shards' losses and gradients then add up to the
        batch's.

        With a ``workspace`` (see :meth:`forward`), the gradients may live in
        it: they are valid until its next use.
        """
        if total_weight is None:
            total_weight = float(sample_weight.sum())
        logits, cache = self.forward(params, X, mask, draws=draws, workspace=workspace)
        weights = sample_weight
        if self.readout is None:
            weights = np.broadcast_to(sample_weight[:, None], logits.shape[:2])
            if mask is not None:
                weights = weights * mask
        loss, dlogits = LOSS_FUNCTIONS[HEADS[self.head].loss](logits, targets, weights)
        loss /= total_weight
        dlogits /= total_weight
        grads, _ = self.backward(dlogits, cache, params, need_dX=False)
        return loss, grads


def add_l2_penalty(params, grads, penalized, alpha, total_weight):
    """Add the gradient of ``alpha / 2`` times the squared weights at the
    positions ``penalized``, divided by ``total_weight`` (as MLP divides by
    the batch size), to ``grads`` in place; return the penalty."""
    loss = 0.0
    if not alpha:
        return loss
    for k in penalized:
        W = params[k]
        loss += 0.5 * alpha * float(np.vdot(W, W)) / total_weight
        grads[k] += (alpha / total_weight) * W
    return loss


# patch_size='auto' reads this share of the training sequences (the shortest)
# in at most this many recurrent steps: a share, not all of them, so that a
# few long outliers do not coarsen every sequence.
AUTO_PATCH_STEPS = 64
AUTO_PATCH_SHARE = 0.9


def resolve_patch_size(patch_size, n_timesteps):
    """The patch size for training sequences of ``n_timesteps`` steps (the
    length of each sequence, or the one length of them all): ``patch_size``
    itself, or for 'auto' the smallest that reads ``AUTO_PATCH_SHARE`` of the
    sequences in at most ``AUTO_PATCH_STEPS`` steps."""
    if patch_size == "auto":
        length = np.quantile(n_timesteps, AUTO_PATCH_SHARE, method="inverted_cdf")
        return -(-int(length) // AUTO_PATCH_STEPS)
    return patch_size


def output_layer(z, W_out, b_out):
    """``z @ W_out + b_out``, row by row with ``einsum``'s own loop: BLAS
    rounds a row differently depending on the rows around it when the output
    has few columns, and predictions must not depend on the batch."""
    return np.einsum("...f,fk->...k", z, W_out) + b_out


def _output_buffer(workspace, layer, shape, dtype):
    """The array of ``workspace`` of ``shape`` (T, N, F) for a layer's output,
    which NumPy lays out so when computed from the cells' states (the same
    layout sums the numbers in the same order); two arrays, alternating
    between layers. None (NumPy allocates) without a workspace."""
    if workspace is None:
        return None
    return workspace.empty(("output", layer % 2), shape, dtype)


def _dropout_mask(random_state, shape, rate, dtype):
    """Inverted-dropout mask: 0 with probability ``rate``, else ``1 / (1 - rate)``."""
    keep = random_state.uniform(size=shape) >= rate
    return (keep / (1.0 - rate)).astype(dtype, copy=False)


def _patches(X, mask, k):
    """``X`` of shape (N, T, D) as (N, ceil(T / k), k * D): each step reads
    ``k`` consecutive steps, the last one padded with zeros. A patch is real
    when its first step is."""
    N, T, D = X.shape
    n_patches = -(-T // k)
    padded = np.zeros((N, n_patches * k, D), dtype=X.dtype)
    padded[:, :T] = X
    if mask is not None:  # padded steps inside a real patch read as zeros
        padded[:, :T][~mask] = 0
        mask = mask[:, ::k]
    return padded.reshape(N, n_patches, k * D), mask


def _lagged(X, mask, k):
    """The inputs of the ``k`` steps up to each step, most recent first:
    ``(N, T, k * D)``, zeros before the first step and at padded steps."""
    N, T, D = X.shape
    s = np.zeros((N, T, k * D), dtype=X.dtype)
    for j in range(min(k, T)):
        s[:, j:, j * D : (j + 1) * D] = X[:, : T - j]
    if mask is not None:
        s[~mask] = 0
    return s


def _lagged_backward(ds, mask, k, dX):
    """Add the gradient of :func:`_lagged`'s output ``ds`` to ``dX``."""
    N, T, D = dX.shape
    if mask is not None:
        ds = np.where(mask[:, :, None], ds, 0)
    for j in range(min(k, T)):
        dX[:, : T - j] += ds[:, j:, j * D : (j + 1) * D]


def _last_steps(mask, N, T):
    """Each sequence's last real step."""
    if mask is None:
        return np.full(N, T - 1)
    return mask.sum(axis=1) - 1


def _lagged_at(X, last, k):
    """The inputs of the ``k`` steps up to step ``last[n]`` of each sequence
    ``n``, most recent first: ``(N, k * D)``, zeros before its first step."""
    N, _, D = X.shape
    steps = last[:, None] - np.arange(k)  # (N, k)
    s = X[np.arange(N)[:, None], np.maximum(steps, 0)]  # (N, k, D), a copy
    s[steps < 0] = 0
    return s.reshape(N, k * D)


def _lagged_at_backward(ds, last, k, dX):
    """Add the gradient of :func:`_lagged_at`'s output ``ds`` to ``dX``."""
    N, _, D = dX.shape
    rows = np.arange(N)
    for j in range(k):
        step = last - j
        real = step >= 0  # (rows, step) pairs are distinct for one j
        dX[rows[real], step[real]] += ds[real, j * D : (j + 1) * D]


def _reversal(mask, T):
    """Per sequence, the time index that reverses its real steps (padded steps
    stay where they are), or None when every sequence has all ``T`` steps."""
    if mask is None:
        return None
    lengths = mask.sum(axis=1, keepdims=True)
    t = np.arange(T)
    return np.where(t < lengths, lengths - 1 - t, t)


def _reverse(a, reverse):
    """``a`` of shape (N, T, ...) with each sequence's real steps reversed.

    Reversing twice gives ``a`` back, so this is its own backward pass.
    """
    if reverse is None:
        return a[:, ::-1]
    return np.take_along_axis(a, reverse[:, :, None], axis=1)
