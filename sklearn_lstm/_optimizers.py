"""Stochastic optimizers and gradient clipping.

The interface is that of ``sklearn.neural_network._stochastic_optimizers``:
an optimizer is built from the list of parameter arrays (to allocate its state
with ``np.zeros_like``, so float32 parameters get float32 state), and
``update_params(params, grads)`` updates that list in place. Learning rates are
kept as Python floats so that they never upcast float32 parameters.

Each update is written in NumPy (``_get_updates``, the reference); where the
compiled backend runs (:func:`sklearn_lstm.set_config`), the extension's
update of the same operations in the same order does it in one pass per array
instead, to the same bit (:mod:`sklearn_lstm._fused`).
"""

import math

import numpy as np

from . import _backend


class BaseOptimizer:
    """Base stochastic gradient descent optimizer.

    Parameters
    ----------
    learning_rate : float, default=0.1
        The step size.
    schedule : {'constant', 'adaptive', 'anneal'}, default='constant'
        What running out of patience does (:meth:`trigger_stopping`):
        'constant' stops; 'adaptive' divides the learning rate by 5 instead,
        until it is below ``1 / 100`` of its initial value (MLP's
        ``learning_rate='adaptive'``, for every solver); 'anneal' lowers the
        learning rate linearly toward zero over as many more epochs as the
        patience, then stops (the decay of a warmup-stable-decay schedule);
        both leave a later ``partial_fit`` at their last rate.
    """

    def __init__(self, learning_rate=0.1, schedule="constant"):
        self.learning_rate = float(learning_rate)
        self.schedule = schedule
        self.min_learning_rate = self.learning_rate / 100
        self.decay_left = None  # 'anneal': the epochs of its decay still to run

    def update_params(self, params, grads):
        """Update ``params`` in place with ``grads``, given in the same order:
        by the compiled update where it runs and takes the arrays, else by
        NumPy's (the same numbers)."""
        if self._compiled_update(params, grads):
            return
        for param, update in zip(params, self._get_updates(grads)):
            param += update

    def _compiled_update(self, params, grads):
        """Update ``params`` and the optimizer's state by the compiled
        extension; whether it did (False: nothing changed)."""
        return False

    def iteration_ends(self, time_step):
        """Hook called at the end of each epoch; ``time_step`` counts samples.
        Steps an annealing learning rate down."""
        if self.decay_left:
            self.decay_left -= 1
            if self.decay_left:
                self.learning_rate *= self.decay_left / (self.decay_left + 1)

    @property
    def annealing(self):
        """Whether the decay of the learning rate has begun (its epochs, and
        those after it, train without input noise)."""
        return self.decay_left is not None

    @property
    def annealed(self):
        """Whether the decay is over: training stops (a later ``partial_fit``
        goes on at the decay's last rate)."""
        return self.decay_left == 0

    def trigger_stopping(self, msg, verbose, n_epochs):
        """Decide whether to stop training once patience (``n_epochs``) has
        run out: with 'adaptive', lower the learning rate and go on while it
        may go lower; with 'anneal', start (or go on with) its decay."""
        if self.schedule == "anneal":
            if self.decay_left is None:
                # the rates of the next n_epochs epochs:
                # lr * n / (n + 1), lr * (n - 1) / (n + 1), ..., lr / (n + 1)
                self.decay_left = n_epochs
                last = self.learning_rate / (n_epochs + 1)
                self.learning_rate *= n_epochs / (n_epochs + 1)
                if verbose:
                    print(
                        msg + f" Annealing the learning rate linearly to {last:g} "
                        f"over {n_epochs} epochs."
                    )
            return False
        if self.schedule == "adaptive" and (
            self.learning_rate / 5 >= self.min_learning_rate
        ):
            self.learning_rate /= 5
            if verbose:
                print(msg + f" Setting learning rate to {self.learning_rate:g}.")
            return False
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDOptimizer(BaseOptimizer):
    """Stochastic gradient descent with (Nesterov) momentum.

    Parameters
    ----------
    params : list of ndarray
        The parameters, used to allocate the velocities.
    learning_rate : float, default=0.1
    momentum : float, default=0.9
    nesterov : bool, default=True
    """

    def __init__(
        self,
        params,
        learning_rate=0.1,
        momentum=0.9,
        nesterov=True,
        schedule="constant",
    ):
        super().__init__(learning_rate, schedule)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(param) for param in params]

    def _compiled_update(self, params, grads):
        update = _backend.compiled_function("sgd_update")
        return update is not None and update(
            params,
            grads,
            self.velocities,
            self.learning_rate,
            self.momentum,
            self.nesterov,
        )

    def _get_updates(self, grads):
        """Velocity ``v = momentum * v - lr * g``; the update is ``v``, or the
        look-ahead ``momentum * v - lr * g`` with Nesterov momentum."""
        self.velocities = [
            self.momentum * v - self.learning_rate * g
            for v, g in zip(self.velocities, grads)
        ]
        if self.nesterov:
            return [
                self.momentum * v - self.learning_rate * g
                for v, g in zip(self.velocities, grads)
            ]
        return self.velocities


class AdamOptimizer(BaseOptimizer):
    """Adam, from :arxiv:`Kingma & Ba (2014) <1412.6980>`.

    Parameters
    ----------
    params : list of ndarray
        The parameters, used to allocate the moment estimates.
    learning_rate : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
    """

    def __init__(
        self,
        params,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        schedule="constant",
    ):
        super().__init__(learning_rate, schedule)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.ms = [np.zeros_like(param) for param in params]
        self.vs = [np.zeros_like(param) for param in params]

    def _step_size(self, t):
        """The learning rate with the bias corrections of update ``t``."""
        return self.learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def _compiled_update(self, params, grads):
        update = _backend.compiled_function("adam_update")
        if update is None or not update(
            params,
            grads,
            self.ms,
            self.vs,
            self._step_size(self.t + 1),
            self.beta_1,
            self.beta_2,
            self.epsilon,
        ):
            return False
        self.t += 1
        return True

    def _get_updates(self, grads):
        """Bias-corrected ``-lr * m / (sqrt(v) + eps)``."""
        self.t += 1
        lr = self._step_size(self.t)
        updates = []
        # In place, in the order of the textbook expressions (the same
        # roundings): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, then
        # -lr m / (sqrt(v) + eps).
        for m, v, g in zip(self.ms, self.vs, grads):
            m *= self.beta_1
            m += (1 - self.beta_1) * g
            v *= self.beta_2
            v += (1 - self.beta_2) * (g * g)
            update = np.sqrt(v)
            update += self.epsilon
            np.divide(-lr * m, update, out=update)
            updates.append(update)
        return updates


class RMSpropOptimizer(BaseOptimizer):
    """RMSprop, from Tieleman & Hinton (2012), lecture 6.5.

    Parameters
    ----------
    params : list of ndarray
        The parameters, used to allocate the running averages.
    learning_rate : float, default=0.001
    rho : float, default=0.9
        Decay rate of the running average of squared gradients.
    epsilon : float, default=1e-8
    """

    def __init__(
        self, params, learning_rate=0.001, rho=0.9, epsilon=1e-8, schedule="constant"
    ):
        super().__init__(learning_rate, schedule)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.caches = [np.zeros_like(param) for param in params]

    def _compiled_update(self, params, grads):
        update = _backend.compiled_function("rmsprop_update")
        return update is not None and update(
            params, grads, self.caches, self.learning_rate, self.rho, self.epsilon
        )

    def _get_updates(self, grads):
        """``cache = rho * cache + (1 - rho) * g**2``; the update is
        ``-lr * g / (sqrt(cache) + eps)``."""
        self.caches = [
            self.rho * c + (1 - self.rho) * (g * g) for c, g in zip(self.caches, grads)
        ]
        return [
            -self.learning_rate * g / (np.sqrt(c) + self.epsilon)
            for c, g in zip(self.caches, grads)
        ]


OPTIMIZERS = {
    cls.__name__: cls for cls in (SGDOptimizer, AdamOptimizer, RMSpropOptimizer)
}


def clip_grad_norm(grads, max_norm):
    """Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    grads : list of ndarray
    max_norm : float or None
        ``None`` disables clipping.

    Returns
    -------
    norm : float
        The global norm before clipping (inf when it is beyond the largest
        float; the gradients are then still scaled to ``max_norm``, the norm
        computed in units of their largest magnitude). Gradients that are not
        finite are left alone: the training loop stops on the loss they give.
    """
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if math.isinf(norm):  # float32 squares overflowed: add them up in float64
        norm = math.sqrt(sum(float(np.vdot(g, g.astype(np.float64))) for g in grads))
    # float64 squares overflowed: the norm in units of the largest magnitude,
    # norm = largest * root (root >= 1); scale is max_norm / norm
    largest, root = norm, 1.0
    if math.isinf(norm):
        largest = max(float(np.max(np.abs(g), initial=0.0)) for g in grads)
        if math.isfinite(largest):
            root = math.sqrt(
                sum(float(np.vdot(u, u)) for u in (g / largest for g in grads))
            )
            with np.errstate(over="ignore"):
                norm = float(np.float64(largest) * root)
    if max_norm is not None and max_norm < norm and math.isfinite(largest):
        if math.isinf(norm):  # in two steps: max_norm / norm is subnormal
            for g in grads:
                g /= largest
                g *= max_norm / root
        else:
            scale = max_norm / (norm + 1e-12)
            for g in grads:
                g *= scale
    return norm
