"""Base class of the recurrent estimators: hyper-parameters and the network.

An estimator is a :class:`BaseRecurrentNetwork` that names its cell and its
head (``_cell``, ``_head``), says which architecture its parameters ask for
(``_architecture``), checks its input (``_validate_fit_data``) and scores a
validation set (``_validation_score``); everything else is shared: the
network math (:mod:`sklearn_lstm._network`), the training loop
(:mod:`sklearn_lstm._training`) and pickling
(:mod:`sklearn_lstm._persistence`).
"""

from abc import ABCMeta, abstractmethod
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._callbacks import CallbackSupportMixin
from ._cells import CELLS
from ._network import READOUTS, Network, output_layer
from ._persistence import InconsistentVersionWarning, PersistenceMixin
from ._training import (
    StochasticTrainingMixin,
    _blas_threads,
    _normal_scores,
    _rows,
    _take,
)
from ._validation import Integers, check_network_size, check_sequences

__all__ = ["BaseRecurrentNetwork", "InconsistentVersionWarning"]

# Sequences per chunk at predict time are chosen so that the forward cache
# holds about this many numbers.
_PREDICT_CACHE_SIZE = 2**23

# Sequences are predicted in chunks of a multiple of this many rows (see
# ``_map_features``): a multiple of the row blocks of OpenBLAS's kernels.
_ROW_BLOCK = 48

# Parameters of the estimators of whole sequences (classifier, regressor).
SEQUENCE_MODEL_CONSTRAINTS = {
    "standardize": ["boolean"],
    "normal_scores": ["boolean", StrOptions({"auto"})],
    "patch_size": [Integers(1, None, closed="left"), StrOptions({"auto"})],
    "input_noise": [Interval(Real, 0, None, closed="left")],
    "readout": [StrOptions(set(READOUTS))],
    "bidirectional": ["boolean"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "recurrent_dropout": [Interval(Real, 0, 1, closed="left")],
    "max_iter": [Integers(1, None, closed="left"), StrOptions({"auto"})],
    "n_iter_no_change": [Integers(1, None, closed="left"), StrOptions({"auto"})],
}


# patch_size='auto' reads this share of the training sequences (the shortest)
# in at most this many recurrent steps. A share, not all of them, so that a
# few long outliers do not coarsen every sequence: PLAID's 537 series have 100
# to 1,344 steps, 500 at the 90th percentile, and patches of 8 steps instead
# of 21 raised its test accuracy from 0.741 to 0.777 (seeds 0-2), in 1.6x the
# fit time; PickupGestureWiimoteZ (29 to 361 steps) went from patches of 6 to
# 4, 0.820 to 0.807 (less than one of its 50 test series).
_AUTO_PATCH_STEPS = 64
_AUTO_PATCH_SHARE = 0.9


def resolve_patch_size(patch_size, n_timesteps):
    """The patch size for training sequences of ``n_timesteps`` steps: the
    lengths of the sequences, or the one length of them all."""
    if patch_size == "auto":
        length = np.quantile(n_timesteps, _AUTO_PATCH_SHARE, method="inverted_cdf")
        return -(-int(length) // _AUTO_PATCH_STEPS)
    return patch_size


class BaseRecurrentNetwork(
    PersistenceMixin,
    StochasticTrainingMixin,
    CallbackSupportMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class for recurrent networks trained by backpropagation through time.

    Subclasses set the class attributes ``_cell`` (a key of
    :data:`sklearn_lstm._cells.CELLS`) and ``_head`` (a key of
    :data:`sklearn_lstm._network.HEADS`), and implement
    ``_validate_fit_data`` and ``_validation_score``; ``_architecture``
    defaults to a unidirectional network read at the last step.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _parameter_constraints: dict = {
        "hidden_size": [Integers(1, None, closed="left")],
        "n_layers": [Integers(1, None, closed="left")],
        "solver": [StrOptions({"sgd", "adam", "rmsprop"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "adaptive"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Integers(1, None, closed="left"),
        ],
        "max_iter": [Integers(1, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Integers(1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    _cell = "lstm"
    _head = "softmax"

    # -- subclass hooks -----------------------------------------------------

    @abstractmethod
    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        """Return ``(X, mask, targets, sample_weight)`` ready for the loss."""

    @abstractmethod
    def _validation_score(self, X, mask, targets, sample_weight):
        """Score of the validated arrays, for early stopping (higher is better)."""

    def _architecture(self, n_timesteps):
        """Keyword arguments of :class:`~sklearn_lstm._network.Network` that
        the estimator's parameters set, besides the sizes, for training
        sequences of ``n_timesteps`` steps (one number for all of them, or
        one per sequence)."""
        return {"readout": "last", "bidirectional": False, "patch_size": 1}

    def set_params(self, **params):
        """Set the parameters of this estimator; see
        :meth:`~sklearn.base.BaseEstimator.set_params`."""
        valid = self.get_params(deep=False)
        for key, value in params.items():
            name, nested, sub = key.partition("__")
            if nested and name in valid and not hasattr(valid[name], "set_params"):
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}: "
                    f"{name}={valid[name]!r} is not an estimator, so it has no "
                    f"parameter {sub!r}."
                )
        return super().set_params(**params)

    # -- the network ----------------------------------------------------------

    def _make_network(self, n_inputs, n_outputs, n_timesteps):
        """The network the current parameters ask for, to read sequences of
        ``n_timesteps`` steps of ``n_inputs`` features."""
        network = Network(
            self._cell,
            n_inputs,
            self.hidden_size,
            self.n_layers,
            n_outputs,
            self._head,
            **self._architecture(n_timesteps),
        )
        check_network_size(
            self.hidden_size,
            self.n_layers,
            n_inputs * network.patch_size,
            n_outputs,
            n_gates=CELLS[self._cell].n_gates,
            n_directions=network.n_directions,
            n_readout=network.n_readout,
        )
        return network

    @property
    def _net(self):
        """The fitted network, read off the fitted weights (not the current
        parameters, which ``set_params`` may have changed since)."""
        architecture = self._fitted_architecture
        n_directions = 2 if architecture["bidirectional"] else 1
        return Network(
            self._cell,
            self.input_weights_[0].shape[0] // architecture["patch_size"],
            self.recurrent_weights_[0].shape[0],
            len(self.recurrent_weights_) // n_directions,
            self.output_bias_.shape[0],
            self._head,
            **architecture,
        )

    @property
    def patch_size_(self):
        """Time steps read as one recurrent step, fixed at fit."""
        check_is_fitted(self)
        return self._net.patch_size

    @property
    def _params(self):
        """All weights in one ordered list (the fitted attributes themselves),
        in the order of :meth:`Network.spec`."""
        return self._net.get(self)

    def _set_params_list(self, params):
        """Inverse of :attr:`_params`."""
        self._net.set(self, params)

    def _initialize(self, n_features, n_outputs, dtype, n_timesteps):
        """Draw initial weights for sequences of ``n_timesteps`` steps of
        ``n_features`` features, and reset the training counters."""
        network = self._make_network(n_features, n_outputs, n_timesteps)
        self._fitted_architecture = self._architecture(n_timesteps)
        network.set(self, network.initialize(self._random_state, dtype))
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = None

    def _loss_grad(
        self, X, mask, targets, sample_weight, random_state=None, shards=None
    ):
        """Loss of the batch (weighted mean, plus the L2 penalty) and its
        gradients in the order of :attr:`_params`; dropout when training,
        that is when ``random_state`` is given.

        ``shards`` (a :class:`~sklearn_lstm._training.Shards`) splits the batch
        into contiguous parts computed side by side; their losses and
        gradients are added in a fixed order, so the result depends on the
        number of shards only in the last bits. The batch (each shard) keeps
        its arrays in the shard's workspace: the gradients are valid until
        the next batch.
        """
        net, params = self._net, self._params
        # Only the estimators that have these parameters add noise or drop out.
        noise = None
        if getattr(self, "input_noise", 0.0):
            # relative to each feature's std, which standardized inputs have at
            # 1, and decaying with the learning rate of the adaptive schedule
            # (normal scores have a standard deviation of about 1)
            scale = np.ones(net.n_inputs)
            if not getattr(self, "standardize", False):
                scale[: len(self._input_std)] = self._input_std
            optimizer = getattr(self, "_optimizer", None)
            if optimizer is not None:
                scale = scale * (optimizer.learning_rate / self.learning_rate)
            noise = self.input_noise * scale
        draws = None
        if random_state is not None:  # the whole batch's, drawn in this thread
            draws = net.draw(
                X.shape,
                X.dtype,
                random_state,
                input_noise=noise,
                dropout=getattr(self, "dropout", 0.0),
                recurrent_dropout=getattr(self, "recurrent_dropout", 0.0),
            )
        total_weight = float(sample_weight.sum())
        if shards is None or shards.n_shards == 1:
            return net.loss_grad(
                params,
                X,
                mask,
                targets,
                sample_weight,
                alpha=self.alpha,
                draws=draws,
                total_weight=total_weight,
                workspace=None if shards is None else shards.workspaces[0],
            )

        def shard_loss_grad(part, workspace):
            return net.loss_grad(
                params,
                X[part],
                _take(mask, part),
                targets[part],
                sample_weight[part],
                draws=None if draws is None else draws.take(part),
                total_weight=total_weight,
                workspace=workspace,
            )

        loss, grads = shards.map_sum(shard_loss_grad, len(X))
        if self.alpha:
            loss += net.add_penalty(params, grads, self.alpha, total_weight)
        return loss, grads

    def _network_inputs(self, X, mask):
        """``X`` as the network reads it: each feature standardized as in
        training when the estimator has ``standardize=True``, then the normal
        scores of the scored features (``normal_scores``) after the features;
        padded steps stay zero."""
        scored = len(getattr(self, "_scored_features", ())) > 0
        standardize = getattr(self, "standardize", False)
        if not (scored or standardize):
            return X
        if scored:  # of the raw values
            scores = _normal_scores(X, self._scored_features, self._score_knots)
        if standardize:
            # X / std - mean / std, not (X - mean) / std: no overflow near the
            # float limits
            X = X / self._input_std - self._input_mean / self._input_std
        if scored:
            X = np.concatenate([X, scores], axis=2)
        if mask is not None:
            X[~mask] = 0
        return X

    @property
    def _n_step_features(self):
        """Features per time step of the fitted estimator's input (the
        network reads them and their normal scores)."""
        return self._net.n_inputs - len(getattr(self, "_scored_features", ()))

    def _check_n_step_features(self, X):
        """Raise if ``X`` has not the number of features per step of the
        fitted estimator's input."""
        n_features = self._n_step_features
        if X.shape[2] != n_features:
            raise ValueError(
                f"X has {X.shape[2]} features per time step, but "
                f"{type(self).__name__} was fitted with {n_features}."
            )

    # -- prediction -------------------------------------------------------------

    def _validate_X(self, X):
        """``(X, mask)`` of sequences to predict, in the fitted weights' dtype,
        with the number of features per step seen in ``fit``."""
        check_is_fitted(self)
        X, mask = check_sequences(
            self, X, reset=False, model_dtype=self.output_weights_.dtype
        )
        self._check_n_step_features(X)
        return self._network_inputs(X, mask), mask

    def _map_features(self, X, mask, fn):
        """``fn`` of what the head reads, computed in chunks of sequences so
        that the forward cache stays small.

        Each sequence gets the same result, bit for bit, whatever else is in
        the batch. BLAS computes the rows of a product that do not fill a
        block of its kernel (blocks of 4 to 24 rows on the CPUs measured) with
        another routine that rounds differently, so every chunk is padded with
        copies of its first sequence to a multiple of ``_ROW_BLOCK`` rows.
        Sequences of unequal lengths go in chunks of similar lengths (sorted),
        each without the padded steps after its longest sequence; per-step
        results are zero there.
        """
        net, params = self._net, self._params
        n_timesteps = X.shape[1]
        size = n_timesteps * sum(Wh.shape[1] for Wh in self.recurrent_weights_)
        chunk = max(1, _PREDICT_CACHE_SIZE // size // _ROW_BLOCK) * _ROW_BLOCK
        order = None
        if mask is not None and len(X) > chunk:
            order = np.argsort(mask.sum(axis=1), kind="stable")
            X, mask = X[order], mask[order]
        outputs = []
        with _blas_threads(min(chunk, len(X)), self.recurrent_weights_):
            for b in gen_batches(len(X), chunk):
                Xb, mask_b, _ = _rows(X, mask, None, b)
                n = len(Xb)
                pad = np.zeros(-n % _ROW_BLOCK, dtype=int)
                if pad.size:
                    Xb = np.concatenate([Xb, Xb[pad]])
                    mask_b = (
                        None
                        if mask_b is None
                        else np.concatenate([mask_b, mask_b[pad]])
                    )
                out = fn(net.features(params, Xb, mask_b)[0])[:n]
                if out.ndim == 3 and out.shape[1] < n_timesteps:  # per step
                    out = np.pad(out, ((0, 0), (0, n_timesteps - out.shape[1]), (0, 0)))
                outputs.append(out)
        out = np.concatenate(outputs)
        if order is not None:
            out[order] = out.copy()
        return out

    def _logits(self, X, mask):
        """Head outputs before the activation, for validated arrays."""
        return self._map_features(
            X, mask, lambda z: output_layer(z, self.output_weights_, self.output_bias_)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
