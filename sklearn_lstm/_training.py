"""The training loop shared by every estimator.

It follows ``sklearn.neural_network.BaseMultilayerPerceptron``, split into
small methods as skorch does: ``_fit`` (which restores the estimator if
anything raises) -> ``_fit_unsafe`` (``_prepare_fit_data``, callbacks) ->
``_fit_stochastic`` (epochs, patience, early stopping, callbacks) ->
``_run_epoch`` (shuffled minibatches) -> ``_train_step`` (forward, backward,
clip, update). An estimator whose data are not minibatches of sequences (the
language model) overrides ``_prepare_fit_data``, ``_epoch_data`` and
``_run_epoch``, and keeps the loop.
"""

import contextlib
import copy
import functools
import os
import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from threadpoolctl import ThreadpoolController

from ._callbacks import with_callbacks
from ._optimizers import AdamOptimizer, RMSpropOptimizer, SGDOptimizer, clip_grad_norm
from ._workspace import Workspace

# A fit whose last epoch's loss is more than this many times the loss of the
# weights it started from has diverged (minibatch noise stays far below it).
_DIVERGED = 10.0

# Below this many multiply-adds in one time step's recurrent products, BLAS
# runs on one thread. On 2 idle cores a second thread gains at most 1.2-1.6x at
# such sizes; on a busy machine it costs 2-20x, as each small product waits
# for the second thread to be scheduled (benchmarks/bench_threads.py).
_BLAS_THREADING_MIN_WORK = 2**22

# A minibatch is split into shards of at least this many sequences, at most
# _MAX_SHARDS of them, computed side by side in threads (NumPy releases the
# GIL in ufuncs and BLAS) with BLAS on one thread each. The number of shards
# depends on the batch size only, never on the machine, so that a fit gives
# the same model wherever it runs with the same NumPy and BLAS. Two shards of
# a batch of 200 ran 1.4-2.1x faster than one on 2 idle cores at the shapes of
# benchmarks/bench_fit.py; the threshold and the cap are provisional, to be
# set with benchmarks/bench_shards.py on a quiet machine.
_SHARD_MIN_ROWS = 50
_MAX_SHARDS = 2

# Shuffled sequences of unequal lengths go into minibatches of similar lengths
# (_minibatches): sorted by length times a random factor within exp(+-0.2),
# 0.82 to 1.22. Against random minibatches, each cut to its longest sequence,
# on the ragged datasets of benchmarks/bench_ucr.py (seeds 0-2, mean test
# accuracy): PickupGestureWiimoteZ 0.820 against 0.813, JapaneseVowels 0.981
# against 0.977, PLAID 0.741 against 0.727, in 0.73x, 0.88x and 0.67x the fit
# time (the two runs side by side).
_LENGTH_NOISE = 0.2

# max_iter='auto' and n_iter_no_change='auto': at least this many epochs and
# this many minibatch updates. An epoch of a small training set is one or two
# updates, so limits in epochs alone would stop it long before a training set
# of a thousand sequences (about 30 updates per epoch at the default batch of
# 32, 300 in 10 epochs) stops.
_AUTO_MAX_ITER = (200, 5000)
_AUTO_N_ITER_NO_CHANGE = (10, 200)


class StochasticTrainingMixin:
    """Minibatch training by backpropagation through time.

    The estimator provides ``_validate_fit_data`` (input checking),
    ``_make_network`` (the architecture its parameters ask for),
    ``_initialize``, ``_params``, ``_set_params_list``, ``_loss_grad`` and
    ``_validation_score``.
    """

    # What one update reads, as the divergence warning names it.
    _batch_noun = "batch"

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
        callback_ctx.call_on_fit_task_end(
            estimator=self, **raw_data, reconstruction_attributes={}
        )
        return self

    def _prepare_fit_data(self, X, y, sample_weight, incremental, classes, first_pass):
        """Validate the data, draw the weights on a ``first_pass`` (else check
        that the data suit the fitted network), and return the training data
        ``(X, mask, targets, sample_weight)``, ``X`` as the network reads it."""
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
            self._input_mean, self._input_std = _feature_stats(X, mask, sample_weight)
            self._scored_features, self._score_knots = _normal_score_knots(
                X, mask, sample_weight, getattr(self, "normal_scores", False)
            )
            n_inputs = X.shape[2] + len(self._scored_features)
            lengths = X.shape[1] if mask is None else mask.sum(axis=1)
            self._initialize(n_inputs, targets.shape[-1], X.dtype, lengths)
        else:
            X = X.astype(self.output_weights_.dtype, copy=False)
            targets = targets.astype(X.dtype, copy=False)
            self._check_n_step_features(X)
            fitted = self._net
            wanted = self._make_network(fitted.n_inputs, fitted.n_outputs, X.shape[1])
            # The patch size of the fitted network is kept, whatever the
            # length of the sequences that continue its training.
            wanted.patch_size = fitted.patch_size
            if fitted.describe() != wanted.describe():
                raise ValueError(
                    f"Cannot continue training a network of {fitted.describe()} "
                    f"with {wanted.describe()}; set warm_start=False to start afresh."
                )
        return self._network_inputs(X, mask), mask, targets, sample_weight

    def _weights_snapshot(self):
        """Copies of the fitted weights, for a callback's ``fitted_estimator``."""
        return _copied_attributes(self, self._net)

    def _make_optimizer(self, params):
        """The optimizer named by ``solver``, over ``params``."""
        adaptive = self.learning_rate_schedule == "adaptive"
        if self.solver == "sgd":
            return SGDOptimizer(
                params,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                adaptive=adaptive,
            )
        if self.solver == "adam":
            return AdamOptimizer(
                params,
                self.learning_rate,
                self.beta_1,
                self.beta_2,
                self.epsilon,
                adaptive=adaptive,
            )
        return RMSpropOptimizer(
            params, self.learning_rate, self.rho, self.epsilon, adaptive=adaptive
        )

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

    def _fit_stochastic(self, data, incremental, callback_ctx, raw_data, metadata):
        """Epochs of training on ``data``, with early stopping and patience.

        ``data`` is what :meth:`_prepare_fit_data` returned, read only by
        :meth:`_epoch_data` and :meth:`_run_epoch`. Each epoch is a task for
        the callbacks, which see the data as given to ``fit`` and may stop
        training at the end of any epoch.
        """
        early_stopping = self.early_stopping and not incremental
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer(self._params)
            self._start_patience(early_stopping)
        last_epoch_params = [p.copy() for p in self._params]
        start_loss = None  # of the weights fit started from, on its first batch
        epochs = self._epoch_data(data, early_stopping)
        with epochs as (train, val, n_samples, epoch_args):
            max_iter, n_iter_no_change = self._stopping_limits(n_samples, epoch_args)
            try:
                for _ in range(max_iter):
                    start = time.perf_counter()
                    epoch_ctx = callback_ctx.subcontext(task_name="epoch")
                    epoch_ctx.call_on_fit_task_begin(estimator=self, **raw_data)
                    loss, first_loss = self._run_epoch(*train, *epoch_args)
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

                    if not incremental and self._fits_training_data(*train):
                        if self.verbose:
                            print("Every training sample is exactly right: stopping.")
                        break

                    if self._no_improvement_count > n_iter_no_change:
                        what = "Validation score" if early_stopping else "Training loss"
                        msg = (
                            f"{what} did not improve more than tol={self.tol:f} "
                            f"for {n_iter_no_change} consecutive epochs."
                        )
                        if self._optimizer.trigger_stopping(msg, self.verbose):
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

    @contextlib.contextmanager
    def _epoch_data(self, data, early_stopping):
        """Set ``data`` up for the epochs of :meth:`_fit_stochastic`.

        Yields ``(train, val, n_samples, epoch_args)``: the training data
        ``(X, mask, targets, sample_weight)`` (less the validation part with
        ``early_stopping``), the validation data (None without), the number of
        samples each epoch adds to ``t_``, and the further arguments of
        :meth:`_run_epoch`: the batch size and the :class:`Shards`, whose
        threads are shut down on leaving the context.
        """
        X, mask, targets, sample_weight = data
        val = None
        if early_stopping:
            idx_train, idx_val = self._validation_split(X.shape[0], targets)
            val = (
                X[idx_val],
                _take(mask, idx_val),
                targets[idx_val],
                sample_weight[idx_val],
            )
            X, mask = X[idx_train], _take(mask, idx_train)
            targets, sample_weight = targets[idx_train], sample_weight[idx_train]
        n_samples = X.shape[0]

        # A batch larger than the data is the data: clipped without a warning,
        # since the default (32) meets small training sets in normal use.
        limit = 200 if self.batch_size == "auto" else self.batch_size
        batch_size = min(limit, n_samples)
        with Shards(batch_size) as shards:
            train = (X, mask, targets, sample_weight)
            yield train, val, n_samples, (batch_size, shards)

    def _stopping_limits(self, n_samples, epoch_args):
        """``(max_iter, n_iter_no_change)``, each 'auto' resolved for epochs
        of ``n_samples`` sequences in minibatches of ``epoch_args[0]``."""

        def resolve(value, min_epochs_and_updates):
            if value != "auto":
                return value
            min_epochs, min_updates = min_epochs_and_updates
            n_batches = -(-n_samples // epoch_args[0])
            return max(min_epochs, -(-min_updates // n_batches))

        return (
            resolve(self.max_iter, _AUTO_MAX_ITER),
            resolve(self.n_iter_no_change, _AUTO_N_ITER_NO_CHANGE),
        )

    def _validation_split(self, n_samples, targets):
        """Indices of the training and validation parts, stratified for
        classifiers of whole sequences."""
        stratify = None
        if is_classifier(self) and targets.ndim == 2:
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

    def _run_epoch(self, X, mask, targets, sample_weight, batch_size, shards=None):
        """One pass over the data in (shuffled) minibatches, each split by
        ``shards`` (a :class:`Shards`; None: whole).

        Returns the mean loss and the loss of the first batch, which was
        computed before any update of this epoch.
        """
        accumulated_loss, first_loss = 0.0, None
        blas = _blas_threads(batch_size, self.recurrent_weights_)
        if shards is not None and shards.parallel:  # one BLAS thread per shard
            blas = _threadpool_controller().limit(limits=1, user_api="blas")
        random_state = self._random_state if self.shuffle else None
        with blas:
            for b in _minibatches(X.shape[0], batch_size, mask, random_state):
                weight = float(sample_weight[b].sum())
                if weight > 0:
                    loss = self._train_step(
                        *_rows(X, mask, targets, b),
                        sample_weight[b],
                        shards,
                    )
                    accumulated_loss += loss * weight
                    first_loss = loss if first_loss is None else first_loss
        return accumulated_loss / float(sample_weight.sum()), first_loss

    def _train_step(self, X, mask, targets, sample_weight, shards=None):
        """Forward, backward, clip, update; the batch loss."""
        params = self._params
        loss, grads = self._loss_grad(
            X,
            mask,
            targets,
            sample_weight,
            random_state=self._random_state,
            shards=shards,
        )
        clip_grad_norm(grads, self.clip_norm)
        self._optimizer.update_params(params, grads)
        return loss

    def _fits_training_data(self, *train):
        """Whether training stops because the model is exactly right on the
        training data ``train`` (as :meth:`_epoch_data` yields it): never,
        unless an estimator with an exact notion of right
        (:class:`RNNBinaryAdder`) says so."""
        return False

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


class Shards:
    """Splits of the minibatches of a fit into contiguous shards, whose
    losses and gradients are computed side by side in a thread pool.

    A batch of ``n`` sequences has ``min(_MAX_SHARDS, n // _SHARD_MIN_ROWS)``
    shards (at least 1), whatever the machine; the pool has one thread per
    shard up to the number of usable cores, and none on one core (the shards
    then run one after the other, with the same result). Use as a context
    manager: the pool is shut down on leaving it, exceptions included.

    Each shard has its own :class:`~sklearn_lstm._workspace.Workspace`, which
    the minibatches of the fit reuse (shards computed side by side never
    share one).

    Parameters
    ----------
    batch_size : int
        The largest batch the fit trains on.
    """

    def __init__(self, batch_size):
        self.n_shards = _n_shards(batch_size)
        self.workspaces = [Workspace() for _ in range(self.n_shards)]
        n_workers = min(self.n_shards, _usable_cores())
        self.parallel = n_workers > 1
        self._pool = None
        if self.parallel:
            self._pool = ThreadPoolExecutor(
                n_workers, thread_name_prefix="sklearn_lstm"
            )

    def map_sum(self, fn, n_rows):
        """Sum of ``fn(rows, workspace)`` over the shards of a batch of
        ``n_rows``, each shard with its own workspace.

        ``fn`` returns ``(loss, grads)``; the losses and gradients are added
        in the order of the shards (the first shard's gradients are updated in
        place), so that the sum is the same at every run.
        """
        n_shards = _n_shards(n_rows)
        bounds = [round(k * n_rows / n_shards) for k in range(n_shards + 1)]
        parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        workspaces = self.workspaces[:n_shards]
        if self._pool is None or n_shards == 1:
            results = [fn(part, ws) for part, ws in zip(parts, workspaces)]
        else:
            futures = [
                self._pool.submit(fn, part, ws) for part, ws in zip(parts, workspaces)
            ]
            wait_futures(futures)  # none still runs when one of them raised
            results = [future.result() for future in futures]
        loss, grads = results[0]
        for shard_loss, shard_grads in results[1:]:
            loss += shard_loss
            for g, shard_g in zip(grads, shard_grads):
                g += shard_g
        return loss, grads

    def close(self):
        """Shut the thread pool down, waiting for its threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _n_shards(n_rows):
    """Number of shards of a batch of ``n_rows`` sequences."""
    return max(1, min(_MAX_SHARDS, n_rows // _SHARD_MIN_ROWS))


def _usable_cores():
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _weighted_steps(X, mask, sample_weight):
    """The real steps of ``X``, ``(n_steps, n_features)``, and the weight of
    each: its sequence's ``sample_weight``, so that weights act like repeated
    sequences."""
    if mask is None:
        return X.reshape(-1, X.shape[2]), np.repeat(sample_weight, X.shape[1])
    return X[mask], np.broadcast_to(sample_weight[:, None], mask.shape)[mask]


def _feature_stats(X, mask, sample_weight):
    """Weighted mean and standard deviation of each feature over the real
    steps of ``X``; a constant feature gets a standard deviation of 1.
    Computed on ``X`` divided by its largest magnitude, so that steps near
    the float limits do not overflow."""
    steps, weights = _weighted_steps(X, mask, sample_weight)
    largest = np.abs(steps).max(axis=0).astype(np.float64)
    largest[~(largest > 0)] = 1.0
    scaled = steps / largest
    mean = np.average(scaled, axis=0, weights=weights)
    std = np.sqrt(np.average((scaled - mean) ** 2, axis=0, weights=weights))
    std = np.where(std > 0, std * largest, 1.0)
    return (mean * largest).astype(X.dtype), std.astype(X.dtype)


# The normal-score map of a feature is piecewise linear between the values at
# these quantiles of the training steps, sent to the standard normal's
# quantiles of the same levels (from -2.58 to 2.58).
_SCORE_LEVELS = (np.arange(100) + 0.5) / 100
_SCORE_NORMALS = np.array([statistics.NormalDist().inv_cdf(p) for p in _SCORE_LEVELS])
# normal_scores='auto' scores the features with at least this many distinct
# values: not binary, one-hot or coded features, nor 4-bit pixels.
_MIN_DISTINCT_VALUES = 32


def _normal_score_knots(X, mask, sample_weight, normal_scores):
    """The features to score (``normal_scores`` True, False or 'auto') and
    the knots ``(values, scores)`` of each one's map, from the real steps of
    ``X``.

    The values are the feature's weighted quantiles at ``_SCORE_LEVELS``
    (inverted CDF: weights act exactly as repeated sequences); a value that
    several levels share (a mass point, such as many zeros) gets the mean of
    their normal quantiles, so the map stays continuous and increasing.
    """
    if normal_scores != "auto" and not normal_scores:
        return np.empty(0, dtype=np.intp), []
    steps, weights = _weighted_steps(X, mask, sample_weight)
    steps, weights = steps[weights > 0], weights[weights > 0]
    weights = weights / weights.max()  # weights of any magnitude act alike
    features, knots = [], []
    for j in range(steps.shape[1]):
        order = np.argsort(steps[:, j], kind="stable")
        values = steps[order, j]
        if (
            normal_scores == "auto"
            and np.count_nonzero(values[1:] != values[:-1]) + 1 < _MIN_DISTINCT_VALUES
        ):
            continue
        cumulative = np.cumsum(weights[order], dtype=np.float64)
        at = np.searchsorted(cumulative, _SCORE_LEVELS * cumulative[-1])
        values, first = np.unique(
            values[np.minimum(at, len(values) - 1)], return_index=True
        )
        scores = np.add.reduceat(_SCORE_NORMALS, first) / np.diff(
            first, append=len(_SCORE_NORMALS)
        )
        features.append(j)
        knots.append((values.astype(X.dtype), scores.astype(X.dtype)))
    return np.array(features, dtype=np.intp), knots


def _normal_scores(X, features, knots):
    """The normal scores ``(n_samples, n_timesteps, len(features))`` of the
    scored ``features`` of ``X``: each value's place among the training
    steps (see :func:`_normal_score_knots`), read on the standard normal's
    scale; values beyond the training range get the extreme scores."""
    scores = np.empty(X.shape[:2] + (len(features),), dtype=X.dtype)
    for k, (j, (values, score)) in enumerate(zip(features, knots)):
        scores[:, :, k] = np.interp(X[:, :, j], values, score)
    return scores


def _copied_attributes(estimator, net):
    """Copies of the weight attributes, lists included, by name."""
    attrs = dict.fromkeys(w.attr for w in net.spec())
    return {
        attr: [p.copy() for p in value] if isinstance(value, list) else value.copy()
        for attr in attrs
        for value in [getattr(estimator, attr)]
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


def _minibatches(n_samples, batch_size, mask, random_state):
    """The index arrays of an epoch's minibatches: in order without a
    ``random_state``, else shuffled.

    Sequences of unequal lengths (``mask`` given) are shuffled into
    minibatches of similar lengths, taken in random order: sorted by their
    length times a random factor between ``exp(-_LENGTH_NOISE)`` and
    ``exp(_LENGTH_NOISE)``, so that neighbours in length still meet in
    different minibatches from one epoch to the next, while a minibatch of
    short sequences costs only their steps (:func:`_rows`).
    """
    idx = np.arange(n_samples)
    if random_state is not None:
        idx = shuffle(idx, random_state=random_state)
    batches = [idx[batch] for batch in gen_batches(n_samples, batch_size)]
    if random_state is None or mask is None or len(batches) == 1:
        return batches
    noise = random_state.uniform(-_LENGTH_NOISE, _LENGTH_NOISE, size=n_samples)
    idx = idx[np.argsort(mask.sum(axis=1)[idx] * np.exp(noise), kind="stable")]
    batches = [idx[batch] for batch in gen_batches(n_samples, batch_size)]
    return [batches[k] for k in random_state.permutation(len(batches))]


def _rows(X, mask, targets, rows):
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


def _take(mask, idx):
    """``mask[idx]``, passing ``None`` (no padding) through."""
    return None if mask is None else mask[idx]
