"""Base class of the recurrent estimators: hyper-parameters, the network and
the sequence-data hooks of the training loop.

An estimator is a :class:`BaseRecurrentNetwork` that says which network its
parameters ask for (``_network_options``) and how its input is encoded
(``_encoder_options``), checks its data (``_validate_fit_data``) and scores
a validation set (``_validation_score``); everything else is shared: the
network math (:mod:`sklearn_lstm._network`), the input encoder
(:mod:`sklearn_lstm._encoder`), the training loop
(:mod:`sklearn_lstm._training`), threads (:mod:`sklearn_lstm._parallel`)
and pickling (:mod:`sklearn_lstm._persistence`).
"""

import contextlib
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._callbacks import CallbackSupportMixin
from ._cells import CELLS
from ._encoder import InputEncoder
from ._network import Network, add_l2_penalty, output_layer
from ._parallel import ROW_BLOCK, Shards, blas_threads, padded_rows
from ._persistence import InconsistentVersionWarning, PersistenceMixin
from ._readouts import READOUTS
from ._training import StochasticTrainingMixin, batch_rows, minibatch_indices, take
from ._validation import (
    Integers,
    check_network_size,
    check_sequences,
    network_inputs,
)

__all__ = ["BaseRecurrentNetwork", "InconsistentVersionWarning"]

# Sequences per chunk at predict time are chosen so that the forward cache
# holds about this many numbers.
_PREDICT_CACHE_SIZE = 2**23

# Parameters of the estimators that read sequences of features (classifier,
# regressor, tagger).
SEQUENCE_MODEL_CONSTRAINTS = {
    "cell": [StrOptions({"lstm", "gru"})],
    "standardize": ["boolean"],
    "normal_scores": ["boolean", StrOptions({"auto"})],
    "patch_size": [Integers(1, None, closed="left"), StrOptions({"auto"})],
    "input_noise": [Interval(Real, 0, None, closed="left")],
    "readout": [StrOptions(set(READOUTS))],
    "bidirectional": ["boolean"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "weight_drop": [Interval(Real, 0, 1, closed="left")],
    "recurrent_dropout": [
        Interval(Real, 0, 1, closed="left"),
        Hidden(StrOptions({"deprecated"})),
    ],
    "max_iter": [Integers(1, None, closed="left"), StrOptions({"auto"})],
    "n_iter_no_change": [Integers(1, None, closed="left"), StrOptions({"auto"})],
}


def resolve_weight_drop(weight_drop, recurrent_dropout):
    """The weight-drop rate, from ``weight_drop`` or from its deprecated
    name ``recurrent_dropout`` (which warns)."""
    if isinstance(recurrent_dropout, str) and recurrent_dropout == "deprecated":
        return weight_drop
    warnings.warn(
        "`recurrent_dropout` was renamed `weight_drop` in 0.2 and will be removed "
        "in 0.4: it drops recurrent weights (DropConnect), not recurrent states. "
        "Use `weight_drop` instead.",
        FutureWarning,
    )
    return recurrent_dropout


class BaseRecurrentNetwork(
    PersistenceMixin,
    StochasticTrainingMixin,
    CallbackSupportMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class for recurrent networks trained by backpropagation through time.

    Subclasses set the class attribute ``_head`` (a key of
    :data:`sklearn_lstm._network.HEADS`), and implement
    ``_validate_fit_data`` and ``_validation_score``; ``_network_options``
    defaults to a unidirectional LSTM read at the last step, and
    ``_encoder_options`` to raw inputs.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _parameter_constraints: dict = {
        "hidden_size": [Integers(1, None, closed="left")],
        "n_layers": [Integers(1, None, closed="left")],
        "solver": [StrOptions({"sgd", "adam", "rmsprop"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "adaptive", "anneal"})],
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

    _head = "softmax"

    # Where the estimators' HTML representation links to, as scikit-learn's.
    _doc_link_module = "sklearn_lstm"
    _doc_link_template = (
        "https://sklearn-lstm.readthedocs.io/en/latest/generated/"
        "{estimator_module}.{estimator_name}.html"
    )

    @abstractmethod
    def __init__(
        self,
        hidden_size,
        *,
        n_layers,
        solver,
        learning_rate,
        learning_rate_schedule,
        alpha,
        batch_size,
        max_iter,
        clip_norm,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        shuffle,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        rho,
        random_state,
        warm_start,
        verbose,
    ):
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.clip_norm = clip_norm
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.rho = rho
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- subclass hooks -----------------------------------------------------

    @abstractmethod
    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        """Return ``(X, mask, targets, sample_weight)`` ready for the loss."""

    @abstractmethod
    def _validation_score(self, val):
        """Score of the validated arrays ``val = (X, mask, targets,
        sample_weight)``, for early stopping (higher is better)."""

    def _network_options(self, n_timesteps):
        """Keyword arguments of :class:`~sklearn_lstm._network.Network` that
        the estimator's parameters set, besides the sizes and the head, for
        training sequences of ``n_timesteps`` steps (one number for all of
        them, or one per sequence); ``input_noise`` is the noise's fraction of
        each feature's standard deviation."""
        return {"cell": "lstm"}

    def _encoder_options(self):
        """Keyword arguments of :class:`~sklearn_lstm._encoder.InputEncoder`
        that the estimator's parameters set."""
        return {}

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

    # -- the network and its weights ------------------------------------------

    def _make_network(self, n_inputs, n_outputs, n_timesteps, noise_std=None):
        """The network the current parameters ask for, to read sequences of
        ``n_timesteps`` steps of ``n_inputs`` features whose standard
        deviations are ``noise_std`` (input noise is a fraction of them)."""
        options = self._network_options(n_timesteps)
        input_noise = options.pop("input_noise", 0.0)
        network = Network(
            n_inputs=n_inputs,
            hidden_size=self.hidden_size,
            n_layers=self.n_layers,
            n_outputs=n_outputs,
            head=self._head,
            input_noise=(
                input_noise * noise_std
                if input_noise and noise_std is not None
                else None
            ),
            **options,
        )
        check_network_size(
            self.hidden_size,
            self.n_layers,
            n_inputs * network.patch_size,
            n_outputs,
            weight_shapes=CELLS[network.cell].weight_shapes,
            n_directions=network.n_directions,
            n_readout=network.n_readout,
        )
        return network

    def _describe(self, network):
        """The architecture of ``network`` in words, as continued training
        compares it."""
        return network.describe()

    def _continue_with(self, wanted):
        """Continue training the fitted network with the options of
        ``wanted`` (dropout, noise), which must have the fitted architecture."""
        fitted, asked = self._describe(self._network), self._describe(wanted)
        if fitted != asked:
            raise ValueError(
                f"Cannot continue training a network of {fitted} with {asked}; "
                "set warm_start=False to start afresh."
            )
        self._network = wanted

    @property
    def patch_size_(self):
        """Time steps read as one recurrent step, fixed at fit."""
        check_is_fitted(self)
        return self._network.patch_size

    @property
    def _params(self):
        """All weights in one ordered list (the fitted attributes themselves),
        as the optimizer updates them: the network's."""
        return self._network_weights()

    def _network_weights(self):
        """The network's weights (the fitted attributes themselves), in the
        order of :meth:`Network.spec`: each layer's ``Wx, Wh, b``, then the
        head's."""
        layers = zip(self.input_weights_, self.recurrent_weights_, self.biases_)
        return [w for layer in layers for w in layer] + [
            self.output_weights_,
            self.output_bias_,
        ]

    def _set_params_list(self, params):
        """Inverse of :attr:`_params`."""
        self._set_network_weights(params)

    def _set_network_weights(self, params):
        """Store the network's weights, in the order of :meth:`Network.spec`,
        as the fitted attributes."""
        *layers, self.output_weights_, self.output_bias_ = params
        self.input_weights_ = layers[0::3]
        self.recurrent_weights_ = layers[1::3]
        self.biases_ = layers[2::3]

    def _weights_snapshot(self):
        """Copies of the fitted weights, for a callback's ``fitted_estimator``."""
        return {
            "input_weights_": [w.copy() for w in self.input_weights_],
            "recurrent_weights_": [w.copy() for w in self.recurrent_weights_],
            "biases_": [b.copy() for b in self.biases_],
            "output_weights_": self.output_weights_.copy(),
            "output_bias_": self.output_bias_.copy(),
        }

    def _initialize(self, network, dtype):
        """Start training ``network``: draw its weights and reset the
        training counters."""
        self._network = network
        self._set_network_weights(network.initialize(self._random_state, dtype))
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = None

    # -- the hooks of the training loop -----------------------------------------

    def _prepare_fit_data(self, X, y, sample_weight, incremental, classes, first_pass):
        """Validate the data; on a ``first_pass`` fit the input encoder and
        draw the weights, else check that the data suit the fitted network.
        Returns ``(X, mask, targets, sample_weight)``, ``X`` encoded."""
        X, mask, targets, sample_weight = self._validate_fit_data(
            X,
            y,
            sample_weight,
            reset=first_pass,
            incremental=incremental,
            classes=classes,
        )
        if first_pass:
            self._random_state = check_random_state(self.random_state)
            encoder = InputEncoder(**self._encoder_options())
            self._encoder = encoder.fit(X, mask, sample_weight)
            # The options resolved from the length of the sequences ('auto'
            # patch size and skip) are resolved from them again when training
            # continues, on data of any length.
            self._first_fit_lengths = X.shape[1] if mask is None else mask.sum(axis=1)
            network = self._make_network(
                encoder.n_outputs,
                targets.shape[-1],
                self._first_fit_lengths,
                encoder.noise_std(),
            )
            self._initialize(network, X.dtype)
        else:
            X = X.astype(self.output_weights_.dtype, copy=False)
            targets = targets.astype(X.dtype, copy=False)
            self._check_n_step_features(X)
            fitted = self._network
            self._continue_with(
                self._make_network(
                    fitted.n_inputs,
                    fitted.n_outputs,
                    self._first_fit_lengths,
                    self._encoder.noise_std(),
                )
            )
        X = network_inputs(self._encoder, X, mask, clip=not self._network.skip)
        return X, mask, targets, sample_weight

    @contextlib.contextmanager
    def _epoch_data(self, data, early_stopping):
        """The training sequences (less a validation split with
        ``early_stopping``), the validation ones, the number of training
        sequences, the batch size, and the :class:`Shards` of the batches,
        whose threads are shut down on leaving the context."""
        X, mask, targets, sample_weight = data
        val = None
        if early_stopping:
            idx_train, idx_val = self._validation_split(X.shape[0], targets)
            val = (
                X[idx_val],
                take(mask, idx_val),
                targets[idx_val],
                sample_weight[idx_val],
            )
            X, mask = X[idx_train], take(mask, idx_train)
            targets, sample_weight = targets[idx_train], sample_weight[idx_train]
        n_samples = X.shape[0]
        # A batch larger than the data is the data: clipped without a warning,
        # since the default (32) meets small training sets in normal use.
        limit = 200 if self.batch_size == "auto" else self.batch_size
        batch_size = min(limit, n_samples)
        with Shards(batch_size) as shards:
            yield (X, mask, targets, sample_weight), val, n_samples, batch_size, shards

    def _validation_split(self, n_samples, targets):
        """Indices of the training and validation parts
        (:meth:`_held_out`), refused when the validation part is too small."""
        idx_train, idx_val = self._held_out(n_samples, targets)
        if len(idx_val) < 2:
            raise ValueError(
                f"The validation set is too small ({len(idx_val)} samples) with "
                f"validation_fraction={self.validation_fraction} and {n_samples} "
                "samples; increase validation_fraction or disable early_stopping."
            )
        return idx_train, idx_val

    def _held_out(self, n_samples, targets):
        """Indices of the training and validation parts: a random draw of
        ``validation_fraction``, stratified for classifiers of whole
        sequences."""
        stratify = None
        if is_classifier(self) and targets.ndim == 2:
            stratify = targets.argmax(axis=1)
        return train_test_split(
            np.arange(n_samples),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )

    def _minibatches(self, train, batch_size):
        """The (shuffled) minibatches of sequences of an epoch, each cut to its
        longest sequence, with their total weight; batches of no weight are
        skipped."""
        X, mask, targets, sample_weight = train
        random_state = self._random_state if self.shuffle else None
        for b in minibatch_indices(X.shape[0], batch_size, mask, random_state):
            weight = float(sample_weight[b].sum())
            if weight > 0:
                yield (*batch_rows(X, mask, targets, b), sample_weight[b]), weight

    def _batch_loss_grad(self, batch, shards):
        """The loss and gradients of a training batch, with the batch's noise
        and dropout drawn in this thread."""
        X, mask, targets, sample_weight = batch
        draws = self._network.draw(
            X.shape, X.dtype, self._random_state, self._noise_scale()
        )
        return self._loss_grad(
            X, mask, targets, sample_weight, draws=draws, shards=shards
        )

    def _loss_grad(self, X, mask, targets, sample_weight, draws=None, shards=None):
        """Loss of the batch (weighted mean, plus the L2 penalty) and its
        gradients in the order of :attr:`_params`; noise and dropout when
        given the batch's ``draws``.

        ``shards`` (a :class:`~sklearn_lstm._parallel.Shards`) splits the
        batch into contiguous parts computed side by side; their losses and
        gradients are added in a fixed order, so the result depends on the
        number of shards only in the last bits. The batch (each shard) keeps
        its arrays in the shard's workspace: the gradients are valid until
        the next batch.
        """
        net, params = self._network, self._network_weights()
        total_weight = float(sample_weight.sum())
        if shards is None or shards.n_shards == 1:
            loss, grads = net.loss_grad(
                params,
                X,
                mask,
                targets,
                sample_weight,
                draws=draws,
                total_weight=total_weight,
                workspace=None if shards is None else shards.workspaces[0],
            )
        else:

            def shard_loss_grad(part, workspace):
                return net.loss_grad(
                    params,
                    X[part],
                    take(mask, part),
                    targets[part],
                    sample_weight[part],
                    draws=None if draws is None else draws.take(part),
                    total_weight=total_weight,
                    workspace=workspace,
                )

            loss, grads = shards.map_sum(shard_loss_grad, len(X))
        loss += add_l2_penalty(params, grads, net.penalized(), self.alpha, total_weight)
        return loss, grads

    # -- prediction -------------------------------------------------------------

    @property
    def _n_step_features(self):
        """Features per time step of the fitted estimator's input."""
        return self._encoder.n_features

    def _check_n_step_features(self, X):
        """Raise if ``X`` has not the number of features per step of the
        fitted estimator's input."""
        n_features = self._n_step_features
        if X.shape[2] != n_features:
            raise ValueError(
                f"X has {X.shape[2]} features per time step, but "
                f"{type(self).__name__} was fitted with {n_features}."
            )

    def _validate_X(self, X):
        """``(X, mask)`` of sequences to predict, in the fitted weights' dtype,
        with the number of features per step seen in ``fit``, encoded."""
        check_is_fitted(self)
        X, mask = check_sequences(
            self, X, reset=False, model_dtype=self.output_weights_.dtype
        )
        self._check_n_step_features(X)
        return network_inputs(self._encoder, X, mask), mask

    def _map_features(self, X, mask, fn):
        """``fn`` of what the head reads, computed in chunks of sequences so
        that the forward cache stays small.

        Each sequence gets the same result, bit for bit, whatever else is in
        the batch: every chunk is padded with copies of its first sequence
        (:func:`~sklearn_lstm._parallel.padded_rows`). Sequences of unequal
        lengths go in chunks of similar lengths (sorted), each without the
        padded steps after its longest sequence; per-step results are zero
        there.
        """
        net, params = self._network, self._network_weights()
        n_timesteps = X.shape[1]
        size = n_timesteps * sum(Wh.shape[1] for Wh in self.recurrent_weights_)
        chunk = max(1, _PREDICT_CACHE_SIZE // size // ROW_BLOCK) * ROW_BLOCK
        order = None
        if mask is not None and len(X) > chunk:
            order = np.argsort(mask.sum(axis=1), kind="stable")
            X, mask = X[order], mask[order]
        outputs = []
        with blas_threads(min(chunk, len(X)), self.recurrent_weights_):
            for b in gen_batches(len(X), chunk):
                Xb, mask_b, _ = batch_rows(X, mask, None, b)
                n = len(Xb)
                rows = padded_rows(n)
                if rows.size > n:
                    Xb = Xb[rows]
                    mask_b = None if mask_b is None else mask_b[rows]
                out = fn(net.features(params, Xb, mask_b)[0])[:n]
                if out.ndim == 3 and out.shape[1] < n_timesteps:  # per step
                    out = np.pad(out, ((0, 0), (0, n_timesteps - out.shape[1]), (0, 0)))
                outputs.append(out)
        out = np.concatenate(outputs)
        if order is not None:
            out[order] = out.copy()
        return out

    def _logits(self, X, mask):
        """Head outputs before the activation, for encoded arrays."""
        return self._map_features(
            X, mask, lambda z: output_layer(z, self.output_weights_, self.output_bias_)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
