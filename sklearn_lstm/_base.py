"""Base class of the recurrent estimators: parameters, initialization, training.

The training loop follows ``sklearn.neural_network.BaseMultilayerPerceptron``
(``_fit`` -> ``_fit_stochastic`` -> ``_run_epoch`` -> ``_train_step``); the
model is a stack of recurrent layers from :mod:`sklearn_lstm._cells` read by a
dense output layer, either at the last time step (many-to-one) or at every
step (many-to-one ``False``).
"""

import contextlib
import copy
import functools
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import ThreadpoolController

from ._callbacks import CallbackSupportMixin, with_callbacks
from ._cells import CELLS, stack_forward
from ._cells import stack_backward as _stack_backward
from ._losses import LOSS_FUNCTIONS
from ._optimizers import (
    OPTIMIZERS,
    AdamOptimizer,
    RMSpropOptimizer,
    SGDOptimizer,
    clip_grad_norm,
)
from ._version import __version__


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a model saved by another sklearn_lstm version is loaded."""


# A fit whose last epoch's loss is more than this many times the loss of the
# weights it started from has diverged (minibatch noise stays far below it).
_DIVERGED = 10.0

# Below this many multiply-adds in one time step's recurrent products, BLAS
# runs on one thread. On 2 idle cores a second thread gains at most 1.2-1.6x at
# such sizes; on a busy machine it costs 2-20x, as each small product waits
# for the second thread to be scheduled (benchmarks/bench_threads.py).
_BLAS_THREADING_MIN_WORK = 2**22

# Sequences per chunk at predict time are chosen so that the forward cache
# holds about this many numbers.
_PREDICT_CACHE_SIZE = 2**23


class BaseRecurrentNetwork(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for recurrent networks trained by backpropagation through time.

    Subclasses set the class attributes ``_cell`` (a key of
    :data:`sklearn_lstm._cells.CELLS`), ``_loss`` and
    ``_many_to_one``, and implement ``_validate_fit_data`` and
    ``_validation_score``.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"sgd", "adam", "rmsprop"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
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
    _loss = "log_loss"
    _many_to_one = True

    @abstractmethod
    def __init__(
        self,
        hidden_size,
        *,
        n_layers,
        solver,
        learning_rate,
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
    def _validation_score(self, X, mask, targets):
        """Score of the validated arrays, for early stopping (higher is better)."""

    # -- parameters -----------------------------------------------------------

    @property
    def _layers(self):
        """The recurrent layers as a list of ``(Wx, Wh, b)`` tuples."""
        return list(zip(self.input_weights_, self.recurrent_weights_, self.biases_))

    @property
    def _params(self):
        """All parameters in one ordered list: each layer's ``Wx, Wh, b``, then
        ``W_out, b_out``. The arrays are the fitted attributes themselves."""
        params = [p for layer in self._layers for p in layer]
        return params + [self.output_weights_, self.output_bias_]

    def _set_params_list(self, params):
        """Inverse of :attr:`_params`."""
        for name, value in _unpack_params(params).items():
            setattr(self, name, value)

    def _initialize(self, n_features, n_outputs, dtype):
        """Draw initial weights and reset the training counters.

        Input weights are Glorot-uniform, recurrent weights orthogonal (one
        block per gate), biases zero except the LSTM forget gate's, which
        starts at 1 so that the cell remembers by default.
        """
        rng = self._random_state
        n_gates = CELLS[self._cell].n_gates
        H = self.hidden_size
        self.input_weights_, self.recurrent_weights_, self.biases_ = [], [], []
        for n_inputs in [n_features] + [H] * (self.n_layers - 1):
            bound = np.sqrt(6.0 / (n_inputs + H))
            self.input_weights_.append(
                rng.uniform(-bound, bound, (n_inputs, n_gates * H)).astype(dtype)
            )
            blocks = [
                np.linalg.qr(rng.standard_normal((H, H)))[0] for _ in range(n_gates)
            ]
            self.recurrent_weights_.append(np.hstack(blocks).astype(dtype))
            b = np.zeros(n_gates * H, dtype=dtype)
            if self._cell == "lstm":
                b[H : 2 * H] = 1.0
            self.biases_.append(b)
        bound = np.sqrt(6.0 / (H + n_outputs))
        self.output_weights_ = rng.uniform(-bound, bound, (H, n_outputs)).astype(dtype)
        self.output_bias_ = np.zeros(n_outputs, dtype=dtype)

        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = None

    def _start_patience(self, early_stopping):
        """Reset the stopping rule: each ``fit`` (and a first ``partial_fit``)
        has its own patience and its own best model, as in MLP."""
        self._no_improvement_count = 0
        self._best_params = None
        if early_stopping:
            self.validation_scores_ = self.validation_scores_ or []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    # -- forward and backward -----------------------------------------------

    def _forward_hidden(self, X, mask):
        """Hidden states read by the output layer, and the forward caches."""
        h, _, caches = stack_forward(self._cell, X, self._layers, mask)
        return (h[:, -1] if self._many_to_one else h), caches

    def _loss_grad(self, X, mask, targets, sample_weight):
        """Loss of the batch, averaged with ``sample_weight``, plus the L2 penalty,
        and its gradients in the order of :attr:`_params`."""
        n_samples = X.shape[0]
        total_weight = float(sample_weight.sum())
        hidden, caches = self._forward_hidden(X, mask)
        W_out, b_out = self.output_weights_, self.output_bias_
        logits = hidden @ W_out + b_out
        weights = sample_weight
        if not self._many_to_one:
            weights = np.broadcast_to(sample_weight[:, None], logits.shape[:2])
            if mask is not None:
                weights = weights * mask
        loss, dlogits = LOSS_FUNCTIONS[self._loss](logits, targets, weights)
        loss /= total_weight
        dlogits /= total_weight

        H, K = W_out.shape
        dW_out = hidden.reshape(-1, H).T @ dlogits.reshape(-1, K)
        db_out = dlogits.reshape(-1, K).sum(axis=0)
        dhidden = dlogits @ W_out.T
        if self._many_to_one:
            dh = np.zeros((n_samples, X.shape[1], H), dtype=X.dtype)
            dh[:, -1] = dhidden
        else:
            dh = dhidden
        _, _, layer_grads = _stack_backward(self._cell, dh, caches)
        grads = [g for layer in layer_grads for g in layer] + [dW_out, db_out]

        if self.alpha:  # L2 penalty on the weight matrices, not the biases
            params = self._params
            for k in self._weight_indices():
                W = params[k]
                loss += 0.5 * self.alpha * float(np.vdot(W, W)) / total_weight
                grads[k] += (self.alpha / total_weight) * W
        return loss, grads

    def _weight_indices(self):
        """Positions of the weight matrices (not biases) in :attr:`_params`."""
        n_layers = len(self.input_weights_)
        return [k for k in range(3 * n_layers) if k % 3 != 2] + [3 * n_layers]

    def _map_hidden(self, X, mask, fn):
        """``fn`` of the hidden states read by the output layer, computed in
        chunks of sequences so that the forward cache stays small.

        Each sequence gets the same result, bit for bit, whatever else is in
        the batch: BLAS runs a one-row product through another routine (a
        matrix-vector product that rounds differently), so a lone sequence is
        run as two copies of itself.
        """
        n_samples, n_timesteps = X.shape[:2]
        size = n_timesteps * sum(Wh.shape[1] for Wh in self.recurrent_weights_)
        chunk = max(2, _PREDICT_CACHE_SIZE // size)
        if n_samples == 1:
            X, mask = np.repeat(X, 2, axis=0), _take(mask, [0, 0])
        with _blas_threads(min(chunk, len(X)), self.recurrent_weights_):
            out = np.concatenate(
                [
                    fn(self._forward_hidden(X[b], _take(mask, b))[0])
                    for b in gen_batches(len(X), chunk, min_batch_size=2)
                ]
            )
        return out[:n_samples]

    def _logits(self, X, mask):
        """Output-layer pre-activations for validated arrays."""
        return self._map_hidden(X, mask, self._output_layer)

    def _output_layer(self, hidden):
        """``hidden @ W_out + b_out``, row by row with ``einsum``'s own loop:
        BLAS rounds a row differently depending on the rows around it when
        the output has few columns."""
        return (
            np.einsum("...h,hk->...k", hidden, self.output_weights_) + self.output_bias_
        )

    # -- training -------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Fit, leaving the estimator exactly as it was if anything raises."""
        saved = {  # callbacks are the user's objects: keep them, do not copy them
            key: value if key == "_skl_callbacks" else copy.deepcopy(value)
            for key, value in self.__dict__.items()
        }
        try:
            return self._fit_unsafe(X, y, sample_weight, incremental, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    @with_callbacks
    def _fit_unsafe(self, X, y, sample_weight, incremental, classes):
        callback_ctx = self._init_callback_context(
            max_subtasks=1 if incremental else self.max_iter
        )
        callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
        raw_data = {"X": X, "y": y}
        # What a callback's scorer gets besides X and y, as in scikit-learn.
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        first_pass = not hasattr(self, "output_weights_") or (
            not self.warm_start and not incremental
        )
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
            self._initialize(X.shape[2], targets.shape[-1], X.dtype)
        else:
            X = X.astype(self.output_weights_.dtype, copy=False)
            targets = targets.astype(X.dtype, copy=False)
            if X.shape[2] != self.input_weights_[0].shape[0]:
                raise ValueError(
                    f"X has {X.shape[2]} features per time step, but "
                    f"{type(self).__name__} was fitted with "
                    f"{self.input_weights_[0].shape[0]}."
                )
            H, n_layers = self.recurrent_weights_[0].shape[0], len(self.input_weights_)
            if (H, n_layers) != (self.hidden_size, self.n_layers):
                raise ValueError(
                    f"Cannot continue training a network of hidden_size={H}, "
                    f"n_layers={n_layers} with hidden_size={self.hidden_size}, "
                    f"n_layers={self.n_layers}; set warm_start=False to start afresh."
                )
        self._fit_stochastic(
            X,
            mask,
            targets,
            sample_weight,
            incremental,
            callback_ctx,
            raw_data,
            metadata,
        )
        callback_ctx.call_on_fit_task_end(
            estimator=self, **raw_data, reconstruction_attributes={}
        )
        return self

    def _weights_snapshot(self):
        """Copies of the fitted weights, for a callback's ``fitted_estimator``."""
        return _unpack_params([p.copy() for p in self._params])

    def _make_optimizer(self, params):
        """The optimizer named by ``solver``, over ``params``."""
        if self.solver == "sgd":
            return SGDOptimizer(
                params, self.learning_rate, self.momentum, self.nesterovs_momentum
            )
        if self.solver == "adam":
            return AdamOptimizer(
                params, self.learning_rate, self.beta_1, self.beta_2, self.epsilon
            )
        return RMSpropOptimizer(params, self.learning_rate, self.rho, self.epsilon)

    def _fit_stochastic(
        self,
        X,
        mask,
        targets,
        sample_weight,
        incremental,
        callback_ctx,
        raw_data,
        metadata,
    ):
        """Epochs of minibatch updates, with early stopping and patience.

        Each epoch is a task for the callbacks, which see the data as given to
        ``fit`` and may stop training at the end of any epoch.
        """
        early_stopping = self.early_stopping and not incremental
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer(self._params)
            self._start_patience(early_stopping)
        n_samples = X.shape[0]
        if early_stopping:
            idx_train, idx_val = self._validation_split(n_samples, targets)
            val = (X[idx_val], _take(mask, idx_val), targets[idx_val])
            X, mask = X[idx_train], _take(mask, idx_train)
            targets, sample_weight = targets[idx_train], sample_weight[idx_train]
            n_samples = X.shape[0]

        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped"
                )
            batch_size = min(self.batch_size, n_samples)

        last_epoch_params = [p.copy() for p in self._params]
        start_loss = None  # of the weights fit started from, on its first batch
        try:
            for _ in range(self.max_iter):
                start = time.perf_counter()
                epoch_ctx = callback_ctx.subcontext(task_name="epoch")
                epoch_ctx.call_on_fit_task_begin(estimator=self, **raw_data)
                loss, first_loss = self._run_epoch(
                    X, mask, targets, sample_weight, batch_size
                )
                if start_loss is None:
                    start_loss = first_loss
                if not np.isfinite(loss):
                    raise ValueError(
                        f"The training loss became {loss} at epoch {self.n_iter_ + 1}: "
                        "training diverged. Lower learning_rate or set clip_norm."
                    )
                last_epoch_params = [p.copy() for p in self._params]
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_ = loss
                self.loss_curve_.append(loss)
                self._update_no_improvement_count(
                    early_stopping, val if early_stopping else None
                )
                self._optimizer.iteration_ends(self.t_)
                if self.verbose:
                    msg = f"Iteration {self.n_iter_}, loss = {loss:.8f}"
                    if early_stopping:
                        msg += f", validation score = {self.validation_scores_[-1]:.6f}"
                    print(msg + f", {time.perf_counter() - start:.2f} s")
                if epoch_ctx.call_on_fit_task_end(
                    estimator=self,
                    **raw_data,
                    metadata=metadata,
                    reconstruction_attributes=self._weights_snapshot,
                ):
                    break

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            f"tol={self.tol:f} for {self.n_iter_no_change} "
                            "consecutive epochs."
                        )
                    else:
                        msg = (
                            f"Training loss did not improve more than tol={self.tol:f}"
                            f" for {self.n_iter_no_change} consecutive epochs."
                        )
                    if self._optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            if start_loss is None:  # no epoch finished: _fit restores the estimator
                raise
            warnings.warn(
                "Training interrupted by user: keeping the weights of the last "
                "finished epoch."
            )
            self._set_params_list(last_epoch_params)
            # The optimizer state ran ahead of these weights: start it afresh.
            self._optimizer = self._make_optimizer(self._params)

        if not incremental and self.loss_ > _DIVERGED * start_loss:
            warnings.warn(
                f"Training diverged: the loss rose from {start_loss:.6g} (the "
                f"weights fit started from, on the first batch) to "
                f"{self.loss_:.6g}. Lower learning_rate or set clip_norm.",
                ConvergenceWarning,
            )
        if early_stopping and self._best_params is not None:
            self._set_params_list(self._best_params)
        if not all(np.isfinite(p).all() for p in self._params):
            raise ValueError(
                "Some weights are not finite after training. Lower learning_rate "
                "or set clip_norm."
            )

    def _validation_split(self, n_samples, targets):
        """Indices of the training and validation parts (stratified for classifiers)."""
        stratify = None
        if self._many_to_one and self._loss == "log_loss":
            stratify = targets.argmax(axis=1)
        idx_train, idx_val = train_test_split(
            np.arange(n_samples),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if len(idx_val) < 2:
            raise ValueError(
                f"The validation set is too small ({len(idx_val)} samples) with "
                f"validation_fraction={self.validation_fraction} and {n_samples} "
                "samples; increase validation_fraction or disable early_stopping."
            )
        return idx_train, idx_val

    def _run_epoch(self, X, mask, targets, sample_weight, batch_size):
        """One pass over the data in (shuffled) minibatches.

        Returns the mean loss and the loss of the first batch, which was
        computed before any update of this epoch.
        """
        n_samples = X.shape[0]
        idx = np.arange(n_samples)
        if self.shuffle:
            idx = shuffle(idx, random_state=self._random_state)
        accumulated_loss, first_loss = 0.0, None
        with _blas_threads(batch_size, self.recurrent_weights_):
            for batch in gen_batches(n_samples, batch_size):
                b = idx[batch]
                weight = float(sample_weight[b].sum())
                if weight > 0:
                    loss = self._train_step(
                        X[b], _take(mask, b), targets[b], sample_weight[b]
                    )
                    accumulated_loss += loss * weight
                    first_loss = loss if first_loss is None else first_loss
        return accumulated_loss / float(sample_weight.sum()), first_loss

    def _train_step(self, X, mask, targets, sample_weight):
        """Forward, backward, clip, update; the batch loss."""
        params = self._params
        loss, grads = self._loss_grad(X, mask, targets, sample_weight)
        clip_grad_norm(grads, self.clip_norm)
        self._optimizer.update_params(params, grads)
        return loss

    def _update_no_improvement_count(self, early_stopping, val):
        """Patience bookkeeping on the validation score or the training loss."""
        if early_stopping:
            score = self._validation_score(*val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._params]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def __getstate__(self):
        """Pickled state: plain data only, stamped with the package version.

        The optimizer is saved as its class name and attributes (floats and
        arrays), so that ``skops.io`` finds no type to trust but the
        estimator's own.
        """
        state = dict(super().__getstate__())  # may be self.__dict__ itself
        state["_sklearn_lstm_version"] = __version__
        optimizer = state.pop("_optimizer", None)
        if optimizer is not None:
            state["_optimizer_state"] = (type(optimizer).__name__, vars(optimizer))
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_sklearn_lstm_version", "unknown")
        if version != __version__:
            warnings.warn(
                f"Loading a {type(self).__name__} saved by sklearn_lstm {version} "
                f"into sklearn_lstm {__version__}: the model may not work or may "
                "give different results. Refit it with this version.",
                InconsistentVersionWarning,
            )
        optimizer_state = state.pop("_optimizer_state", None)
        super().__setstate__(state)
        if optimizer_state is not None:
            name, attributes = optimizer_state
            self._optimizer = object.__new__(OPTIMIZERS[name])
            self._optimizer.__dict__.update(attributes)


def _unpack_params(params):
    """The fitted weight attributes, by name, from the list :attr:`_params` gives."""
    layers = params[:-2]
    return {
        "input_weights_": list(layers[0::3]),
        "recurrent_weights_": list(layers[1::3]),
        "biases_": list(layers[2::3]),
        "output_weights_": params[-2],
        "output_bias_": params[-1],
    }


def _check_partial_fit(estimator):
    """``partial_fit`` is available unless early stopping is on, as in MLP."""
    if estimator.early_stopping:
        raise AttributeError("partial_fit is not available with early_stopping=True.")
    return True


@functools.cache
def _threadpool_controller():
    """The BLAS libraries loaded in this process (found once)."""
    return ThreadpoolController()


def _blas_threads(n_rows, recurrent_weights):
    """Context limiting BLAS to one thread when the recurrent products of
    ``n_rows`` sequences are too small to share between threads."""
    work = n_rows * sum(Wh.size for Wh in recurrent_weights)
    if work >= _BLAS_THREADING_MIN_WORK:
        return contextlib.nullcontext()
    return _threadpool_controller().limit(limits=1, user_api="blas")


def _take(mask, idx):
    """``mask[idx]``, passing ``None`` (no padding) through."""
    return None if mask is None else mask[idx]
