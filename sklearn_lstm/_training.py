"""The training loop shared by every estimator.

It follows ``sklearn.neural_network.BaseMultilayerPerceptron``, split into
small methods as skorch does: ``_fit`` (which restores the estimator if
anything raises) -> ``_fit_unsafe`` (``_prepare_fit_data``, callbacks) ->
``_fit_stochastic`` (epochs, patience, early stopping, callbacks) ->
``_run_epoch`` (minibatches) -> ``_train_step`` (loss and gradients, clip,
update).

What an estimator trains on is its own business, behind hooks of one
signature that every estimator implements (the sequence estimators through
:class:`~sklearn_lstm._base.BaseRecurrentNetwork`, the language model on its
own):

``_prepare_fit_data(X, y, sample_weight, incremental, classes, first_pass)``
    Validate the data, set up the network on a first pass, and return the
    training data, in a form only the other hooks read.
``_epoch_data(data, early_stopping)``
    A context manager yielding ``(train, val, n_samples, batch_size,
    shards)``: the training and validation parts, the samples each epoch
    adds to ``t_``, the largest batch and the :class:`~sklearn_lstm._parallel.Shards`
    (or None) that split each batch.
``_minibatches(train, batch_size)``
    The batches of one epoch, each with the weight of its loss in the
    epoch's mean.
``_batch_loss_grad(batch, shards)``
    The batch's loss (L2 penalty included) and its gradients, in the order
    of ``_params``.
``_validation_score(val)``, ``_fits_training_data(train)``
    Early stopping, and the adder's stop when it is exactly right.
``_early_stopping(data)``
    Whether the fit holds out a validation part (``early_stopping``, or the
    regressor's 'auto' resolved on the data).
``_finish_fit(data, incremental)``
    What an estimator fits once its weights are trained (the language
    model's n-gram model); nothing by default.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from ._callbacks import with_callbacks
from ._optimizers import AdamOptimizer, RMSpropOptimizer, SGDOptimizer, clip_grad_norm
from ._parallel import blas_threads
from ._validation import restore_on_error

# A fit whose last epoch's loss is more than this many times the loss of the
# weights it started from has diverged (minibatch noise stays far below it).
_DIVERGED = 10.0

# Shuffled sequences of unequal lengths go into minibatches of similar lengths
# (_minibatches): sorted by length times a random factor within exp(+-0.2),
# 0.82 to 1.22.
_LENGTH_NOISE = 0.2

# max_iter='auto' and n_iter_no_change='auto': at least this many epochs and
# this many minibatch updates. An epoch of a small training set is one or two
# updates, so limits in epochs alone would stop it long before a training set
# of a thousand sequences (about 30 updates per epoch at the default batch of
# 32, 300 in 10 epochs) stops.
_AUTO_MAX_ITER = (200, 5000)
_AUTO_N_ITER_NO_CHANGE = (10, 200)
# The training loss's plateau test averages the last epochs of at least this
# many minibatch updates in all.
_SMOOTHED_UPDATES = 20


class StochasticTrainingMixin:
    """Minibatch training by backpropagation through time.

    The estimator implements the hooks of the module docstring, and
    ``_params`` (the weights, in one list, as the optimizer updates them in
    place), ``_set_params_list`` and ``_weights_snapshot``.
    """

    # What one update reads, as the divergence warning names it.
    _batch_noun = "batch"

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Fit, leaving the estimator exactly as it was if anything raises."""
        # callbacks are the user's objects: keep them, do not copy them
        with restore_on_error(self, keep=("_skl_callbacks",)):
            return self._fit_unsafe(X, y, sample_weight, incremental, classes)

    @with_callbacks
    def _fit_unsafe(self, X, y, sample_weight, incremental, classes):
        """Prepare the data, train, and tell the callbacks (the estimator is
        restored by ``_fit`` if this raises)."""
        max_subtasks = 1 if incremental else self.max_iter
        callback_ctx = self._init_callback_context(
            max_subtasks=None if max_subtasks == "auto" else max_subtasks
        )
        callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
        raw_data = {"X": X, "y": y}
        # What a callback's scorer gets besides X and y, as in scikit-learn.
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        first_pass = not hasattr(self, "output_weights_") or (
            not self.warm_start and not incremental
        )
        data = self._prepare_fit_data(
            X, y, sample_weight, incremental, classes, first_pass
        )
        self._fit_stochastic(data, incremental, callback_ctx, raw_data, metadata)
        self._finish_fit(data, incremental)
        callback_ctx.call_on_fit_task_end(
            estimator=self, **raw_data, reconstruction_attributes={}
        )
        return self

    def _make_optimizer(self, params):
        """The optimizer named by ``solver``, over ``params``."""
        schedule = self.learning_rate_schedule
        if self.solver == "sgd":
            return SGDOptimizer(
                params,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                schedule=schedule,
            )
        if self.solver == "adam":
            return AdamOptimizer(
                params,
                self.learning_rate,
                self.beta_1,
                self.beta_2,
                self.epsilon,
                schedule=schedule,
            )
        return RMSpropOptimizer(
            params, self.learning_rate, self.rho, self.epsilon, schedule=schedule
        )

    def _start_patience(self, early_stopping):
        """Reset the stopping rule: each ``fit`` (and a first ``partial_fit``)
        has its own patience and its own best model, as in MLP."""
        self._no_improvement_count = 0
        self._best_smoothed_loss = np.inf
        self._best_params = None
        if early_stopping:
            self.validation_scores_ = self.validation_scores_ or []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _fit_stochastic(self, data, incremental, callback_ctx, raw_data, metadata):
        """Epochs of training on ``data``, with early stopping and patience.

        ``data`` is what :meth:`_prepare_fit_data` returned, read only by
        the estimator's hooks. Each epoch is a task for
        the callbacks, which see the data as given to ``fit`` and may stop
        training at the end of any epoch.
        """
        early_stopping = self._early_stopping(data) and not incremental
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer(self._params)
            self._start_patience(early_stopping)
        last_epoch_params = [p.copy() for p in self._params]
        start_loss = None  # of the weights fit started from, on its first batch
        epochs = self._epoch_data(data, early_stopping)
        with epochs as (train, val, n_samples, batch_size, shards):
            max_iter, n_iter_no_change, self._loss_window = self._stopping_limits(
                n_samples, batch_size
            )
            try:
                for _ in range(max_iter):
                    start = time.perf_counter()
                    epoch_ctx = callback_ctx.subcontext(task_name="epoch")
                    epoch_ctx.call_on_fit_task_begin(estimator=self, **raw_data)
                    loss, first_loss = self._run_epoch(train, batch_size, shards)
                    if start_loss is None:
                        start_loss = first_loss
                    if not np.isfinite(loss):
                        raise ValueError(
                            f"The training loss became {loss} at epoch "
                            f"{self.n_iter_ + 1}: training diverged. Lower "
                            "learning_rate or set clip_norm."
                        )
                    last_epoch_params = [p.copy() for p in self._params]
                    self.n_iter_ += 1
                    self.t_ += n_samples
                    self.loss_ = loss
                    self.loss_curve_.append(loss)
                    self._update_no_improvement_count(early_stopping, val)
                    self._optimizer.iteration_ends(self.t_)
                    if self.verbose:
                        msg = f"Iteration {self.n_iter_}, loss = {loss:.8f}"
                        if early_stopping:
                            score = self.validation_scores_[-1]
                            msg += f", validation score = {score:.6f}"
                        print(msg + f", {time.perf_counter() - start:.2f} s")
                    if epoch_ctx.call_on_fit_task_end(
                        estimator=self,
                        **raw_data,
                        metadata=metadata,
                        reconstruction_attributes=self._weights_snapshot,
                    ):
                        break

                    if not incremental and self._fits_training_data(train):
                        if self.verbose:
                            print("Every training sample is exactly right: stopping.")
                        break

                    if self._optimizer.annealed:
                        break

                    if self._no_improvement_count > n_iter_no_change:
                        what = "Validation score" if early_stopping else "Training loss"
                        msg = (
                            f"{what} did not improve more than tol={self.tol:f} "
                            f"for {n_iter_no_change} consecutive epochs."
                        )
                        if self._optimizer.trigger_stopping(
                            msg, self.verbose, n_iter_no_change
                        ):
                            break
                        self._no_improvement_count = 0

                    if incremental:
                        break

                    if self.n_iter_ == max_iter:
                        warnings.warn(
                            "Stochastic Optimizer: Maximum iterations "
                            f"({max_iter}) reached and the optimization "
                            "hasn't converged yet.",
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
                f"weights fit started from, on the first {self._batch_noun}) to "
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

    def _stopping_limits(self, n_samples, batch_size):
        """``(max_iter, n_iter_no_change, loss_window)`` in epochs of
        ``n_samples`` samples in minibatches of ``batch_size``: each 'auto'
        resolved, and the epochs whose mean training loss the plateau test
        reads (``_SMOOTHED_UPDATES`` minibatch updates at least)."""
        n_batches = -(-n_samples // batch_size)

        def resolve(value, min_epochs_and_updates):
            if value != "auto":
                return value
            min_epochs, min_updates = min_epochs_and_updates
            return max(min_epochs, -(-min_updates // n_batches))

        return (
            resolve(self.max_iter, _AUTO_MAX_ITER),
            resolve(self.n_iter_no_change, _AUTO_N_ITER_NO_CHANGE),
            -(-_SMOOTHED_UPDATES // n_batches),
        )

    def _noise_scale(self):
        """How much of its input noise a batch gets: the noise falls with the
        learning rate of the 'adaptive' schedule, and is off while the
        'anneal' schedule decays, so that the last epochs fit the inputs as
        they are."""
        if self._optimizer.annealing:
            return 0.0
        return self._optimizer.learning_rate / self.learning_rate

    def _run_epoch(self, train, batch_size, shards):
        """One pass over ``train`` in the estimator's minibatches.

        Returns the mean loss (each batch's weighted by its weight) and the
        loss of the first batch, which was computed before any update of
        this epoch.
        """
        total, total_weight, first_loss = 0.0, 0.0, None
        limit = (
            blas_threads(batch_size, self.recurrent_weights_)
            if shards is None
            else shards.blas_threads(batch_size, self.recurrent_weights_)
        )
        with limit:
            for batch, weight in self._minibatches(train, batch_size):
                loss = self._train_step(batch, shards)
                total += loss * weight
                total_weight += weight
                first_loss = loss if first_loss is None else first_loss
        return total / total_weight, first_loss

    def _train_step(self, batch, shards):
        """Loss and gradients, clip, update; the batch loss."""
        params = self._params
        loss, grads = self._batch_loss_grad(batch, shards)
        clip_grad_norm(grads, self.clip_norm)
        self._optimizer.update_params(params, grads)
        return loss

    def _early_stopping(self, data):
        """Whether this fit on ``data`` holds out a validation part:
        ``early_stopping``, unless an estimator resolves an 'auto' of its
        own."""
        return self.early_stopping

    def _finish_fit(self, data, incremental):
        """Fit what depends on the trained weights (``data`` as
        ``_prepare_fit_data`` returned it): nothing, unless an estimator says
        so."""

    def _fits_training_data(self, train):
        """Whether training stops because the model is exactly right on the
        training data ``train`` (as ``_epoch_data`` yields it): never,
        unless an estimator with an exact notion of right
        (:class:`RNNBinaryAdder`) says so."""
        return False

    def _update_no_improvement_count(self, early_stopping, val):
        """Patience bookkeeping on the validation score or the training loss."""
        if early_stopping:
            score = self._validation_score(val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._params]
        else:
            if self.best_loss_ is None:  # partial_fit after a fit that held out
                self.best_loss_ = np.inf
            # The mean loss of the last epochs of _SMOOTHED_UPDATES minibatch
            # updates in all (one epoch on larger data): with one or two
            # minibatches per epoch, the loss of one epoch is too noisy (input
            # noise, dropout) for its lucky lows to set the bar.
            smoothed = float(np.mean(self.loss_curve_[-self._loss_window :]))
            if smoothed > self._best_smoothed_loss - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self._best_smoothed_loss = min(self._best_smoothed_loss, smoothed)
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]


def _check_partial_fit(estimator):
    """``partial_fit`` is available unless early stopping is on, as in MLP."""
    if estimator.early_stopping:
        raise AttributeError("partial_fit is not available with early_stopping=True.")
    return True


def minibatch_indices(n_samples, batch_size, mask, random_state):
    """The index arrays of an epoch's minibatches: in order without a
    ``random_state``, else shuffled.

    Sequences of unequal lengths (``mask`` given) are shuffled into
    minibatches of similar lengths, taken in random order: sorted by their
    length times a random factor between ``exp(-_LENGTH_NOISE)`` and
    ``exp(_LENGTH_NOISE)``, so that neighbours in length still meet in
    different minibatches from one epoch to the next, while a minibatch of
    short sequences costs only their steps (:func:`batch_rows`).
    """
    idx = np.arange(n_samples)
    if random_state is not None:
        # what sklearn.utils.shuffle does to an index, without its checks
        # of the input type, which cost more than an epoch of a small set
        random_state.shuffle(idx)
    batches = [idx[batch] for batch in gen_batches(n_samples, batch_size)]
    if random_state is None or mask is None or len(batches) == 1:
        return batches
    noise = random_state.uniform(-_LENGTH_NOISE, _LENGTH_NOISE, size=n_samples)
    idx = idx[np.argsort(mask.sum(axis=1)[idx] * np.exp(noise), kind="stable")]
    batches = [idx[batch] for batch in gen_batches(n_samples, batch_size)]
    return [batches[k] for k in random_state.permutation(len(batches))]


def batch_rows(X, mask, targets, rows):
    """Rows ``rows`` of ``(X, mask, targets)`` (``targets`` may be None)
    without the padded steps after their longest sequence: the network's
    outputs for the real steps do not change, and a batch of short sequences
    costs only their steps."""
    if mask is None:
        return X[rows], None, None if targets is None else targets[rows]
    mask = mask[rows]
    n_steps = int(mask.sum(axis=1).max())
    if targets is not None:  # the tagger's have a step axis
        targets = targets[rows, :n_steps] if targets.ndim == 3 else targets[rows]
    return X[rows, :n_steps], mask[:, :n_steps], targets


def take(mask, idx):
    """``mask[idx]``, passing ``None`` (no padding) through."""
    return None if mask is None else mask[idx]
