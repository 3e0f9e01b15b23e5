"""Tests of the optimizers and of gradient clipping.

Modelled on scikit-learn's ``neural_network/tests/test_stochastic_optimizers.py``:
each update is compared with its formula written out by hand.
"""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_lstm._optimizers import (
    OPTIMIZERS,
    AdamOptimizer,
    BaseOptimizer,
    RMSpropOptimizer,
    SGDOptimizer,
    clip_grad_norm,
)

shapes = [(4, 6), (6, 8), (7, 8, 9)]
DTYPES = [np.float64, np.float32]


def _arrays(rng, dtype, low=-1.0, high=1.0):
    return [rng.uniform(low, high, size=shape).astype(dtype) for shape in shapes]


def _assert_params_equal(expected, params, dtype):
    for exp, param in zip(expected, params):
        assert param.dtype == dtype
        assert_array_equal(param, exp)


def _make(name, params):
    """An optimizer with non-default hyper-parameters, by class name."""
    return {
        "SGDOptimizer": lambda: SGDOptimizer(params, 0.05, momentum=0.7),
        "AdamOptimizer": lambda: AdamOptimizer(params, 0.01, 0.8, 0.99, 1e-7),
        "RMSpropOptimizer": lambda: RMSpropOptimizer(params, 0.01, 0.8, 1e-7),
    }[name]()


def test_base_optimizer():
    for lr in [10**i for i in range(-3, 4)]:
        optimizer = BaseOptimizer(lr)
        assert optimizer.learning_rate == lr
        assert isinstance(optimizer.learning_rate, float)
        assert optimizer.trigger_stopping("", False, 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_optimizer_no_momentum(dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr = 0.1
    optimizer = SGDOptimizer(params, lr, momentum=0, nesterov=False)
    grads = _arrays(rng, dtype)
    updates = [-lr * grad for grad in grads]
    expected = [param + update for param, update in zip(params, updates)]
    optimizer.update_params(params, grads)
    _assert_params_equal(expected, params, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.5, 0.7, 0.9])
def test_sgd_optimizer_momentum(momentum, dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr = 0.1
    optimizer = SGDOptimizer(params, lr, momentum=momentum, nesterov=False)
    velocities = _arrays(rng, dtype)
    optimizer.velocities = velocities
    grads = _arrays(rng, dtype)
    updates = [momentum * v - lr * grad for v, grad in zip(velocities, grads)]
    expected = [param + update for param, update in zip(params, updates)]
    optimizer.update_params(params, grads)
    _assert_params_equal(expected, params, dtype)
    _assert_params_equal(updates, optimizer.velocities, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.5, 0.7, 0.9])
def test_sgd_optimizer_nesterovs_momentum(momentum, dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr = 0.1
    optimizer = SGDOptimizer(params, lr, momentum=momentum, nesterov=True)
    velocities = _arrays(rng, dtype)
    optimizer.velocities = velocities
    grads = _arrays(rng, dtype)
    velocities = [momentum * v - lr * grad for v, grad in zip(velocities, grads)]
    updates = [momentum * v - lr * grad for v, grad in zip(velocities, grads)]
    expected = [param + update for param, update in zip(params, updates)]
    optimizer.update_params(params, grads)
    _assert_params_equal(expected, params, dtype)
    _assert_params_equal(velocities, optimizer.velocities, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_optimizer_two_steps_from_zero_state(nesterov, dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr, momentum = 0.05, 0.8
    optimizer = SGDOptimizer(params, lr, momentum=momentum, nesterov=nesterov)
    assert all(v.dtype == dtype and not v.any() for v in optimizer.velocities)
    expected = [p.copy() for p in params]
    velocities = [np.zeros_like(p) for p in params]
    for _ in range(2):
        grads = _arrays(rng, dtype)
        velocities = [momentum * v - lr * g for v, g in zip(velocities, grads)]
        if nesterov:
            updates = [momentum * v - lr * g for v, g in zip(velocities, grads)]
        else:
            updates = velocities
        expected = [p + u for p, u in zip(expected, updates)]
        optimizer.update_params(params, grads)
        _assert_params_equal(expected, params, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta_1", [0.9, 0.95])
@pytest.mark.parametrize("beta_2", [0.995, 0.999])
def test_adam_optimizer(beta_1, beta_2, dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr = 0.001
    epsilon = 1e-8
    optimizer = AdamOptimizer(params, lr, beta_1, beta_2, epsilon)
    ms = _arrays(rng, dtype, 0, 1)
    vs = _arrays(rng, dtype, 0, 1)
    t = 10
    optimizer.ms = ms
    optimizer.vs = vs
    optimizer.t = t - 1
    grads = _arrays(rng, dtype)

    ms = [beta_1 * m + (1 - beta_1) * grad for m, grad in zip(ms, grads)]
    vs = [beta_2 * v + (1 - beta_2) * (grad * grad) for v, grad in zip(vs, grads)]
    learning_rate = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    updates = [-learning_rate * m / (np.sqrt(v) + epsilon) for m, v in zip(ms, vs)]
    expected = [param + update for param, update in zip(params, updates)]

    optimizer.update_params(params, grads)
    assert optimizer.t == t
    _assert_params_equal(expected, params, dtype)
    _assert_params_equal(ms, optimizer.ms, dtype)
    _assert_params_equal(vs, optimizer.vs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_optimizer_two_steps_from_zero_state(dtype):
    """The first steps, where the bias correction matters most."""
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr, beta_1, beta_2, epsilon = 0.01, 0.9, 0.999, 1e-8
    optimizer = AdamOptimizer(params, lr, beta_1, beta_2, epsilon)
    assert all(a.dtype == dtype for a in optimizer.ms + optimizer.vs)
    expected = [p.copy() for p in params]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    for t in (1, 2):
        grads = _arrays(rng, dtype)
        ms = [beta_1 * m + (1 - beta_1) * g for m, g in zip(ms, grads)]
        vs = [beta_2 * v + (1 - beta_2) * (g * g) for v, g in zip(vs, grads)]
        learning_rate = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        expected = [
            p - learning_rate * m / (np.sqrt(v) + epsilon)
            for p, m, v in zip(expected, ms, vs)
        ]
        optimizer.update_params(params, grads)
        _assert_params_equal(expected, params, dtype)
    # The very first step moves every weight by about lr, whatever the gradient.
    if dtype == np.float64:
        optimizer = AdamOptimizer([np.zeros(5)], lr)
        param = np.zeros(5)
        optimizer.update_params([param], [np.array([1e-3, -1.0, 5.0, -1e3, 1e-2])])
        assert_allclose(np.abs(param), lr, rtol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rho", [0.9, 0.99])
def test_rmsprop_optimizer(rho, dtype):
    rng = np.random.RandomState(0)
    params = _arrays(rng, dtype)
    lr, epsilon = 0.001, 1e-8
    optimizer = RMSpropOptimizer(params, lr, rho=rho, epsilon=epsilon)
    assert all(c.dtype == dtype and not c.any() for c in optimizer.caches)
    caches = _arrays(rng, dtype, 0, 1)
    optimizer.caches = caches
    expected = [p.copy() for p in params]
    for _ in range(2):
        grads = _arrays(rng, dtype)
        caches = [rho * c + (1 - rho) * (g * g) for c, g in zip(caches, grads)]
        expected = [
            p - lr * g / (np.sqrt(c) + epsilon)
            for p, g, c in zip(expected, grads, caches)
        ]
        optimizer.update_params(params, grads)
        _assert_params_equal(expected, params, dtype)
        _assert_params_equal(caches, optimizer.caches, dtype)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_params_stay_float32(name):
    """Python-float hyper-parameters must not upcast the parameters or state."""
    rng = np.random.RandomState(0)
    params = _arrays(rng, np.float32)
    optimizer = _make(name, params)
    for _ in range(3):
        optimizer.update_params(params, _arrays(rng, np.float32))
        optimizer.iteration_ends(10)
    for param in params:
        assert param.dtype == np.float32
    state = [value for value in vars(optimizer).values() if isinstance(value, list)]
    assert state
    for arrays in state:
        for a in arrays:
            assert a.dtype == np.float32


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_params_updates_in_place(name):
    rng = np.random.RandomState(0)
    params = _arrays(rng, np.float64)
    originals = list(params)
    before = [p.copy() for p in params]
    _make(name, params).update_params(params, _arrays(rng, np.float64))
    for p, original, old in zip(params, originals, before):
        assert p is original
        assert np.all(p != old)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_zero_gradient_changes_nothing(name):
    rng = np.random.RandomState(0)
    params = _arrays(rng, np.float64)
    before = [p.copy() for p in params]
    _make(name, params).update_params(params, [np.zeros_like(p) for p in params])
    for p, old in zip(params, before):
        assert_array_equal(p, old)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_trigger_stopping(name, capsys):
    optimizer = _make(name, _arrays(np.random.RandomState(0), np.float64))
    assert optimizer.iteration_ends(100) is None
    assert optimizer.trigger_stopping("Patience ran out.", False, 10) is True
    assert capsys.readouterr().out == ""
    assert optimizer.trigger_stopping("Patience ran out.", True, 10) is True
    assert "Patience ran out. Stopping." in capsys.readouterr().out


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_adaptive_schedule_lowers_the_learning_rate_before_stopping(name, capsys):
    """Patience running out divides the learning rate by 5 while it stays at
    or above 1/100 of its initial value (twice), then stops."""
    optimizer = _make(name, _arrays(np.random.RandomState(0), np.float64))
    optimizer.schedule = "adaptive"
    initial = optimizer.learning_rate
    assert optimizer.trigger_stopping("Plateau.", True, 10) is False
    assert optimizer.learning_rate == initial / 5
    assert f"Plateau. Setting learning rate to {initial / 5:g}." in (
        capsys.readouterr().out
    )
    assert optimizer.trigger_stopping("Plateau.", False, 10) is False
    assert optimizer.learning_rate == initial / 25
    assert optimizer.trigger_stopping("Plateau.", False, 10) is True
    assert optimizer.learning_rate == initial / 25


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_anneal_schedule_decays_linearly_then_stops(name, capsys):
    """Patience running out starts a linear decay over that many epochs:
    the epochs after it train at n/(n+1), ..., 1/(n+1) of the rate, then the
    schedule is over, at its last rate (what a later partial_fit goes on
    with); patience running out again meanwhile changes nothing."""
    optimizer = _make(name, _arrays(np.random.RandomState(0), np.float64))
    optimizer.schedule = "anneal"
    initial, n = optimizer.learning_rate, 4
    assert not optimizer.annealed
    assert optimizer.trigger_stopping("Plateau.", True, n) is False
    assert (
        f"Plateau. Annealing the learning rate linearly to {initial / 5:g} over "
        "4 epochs." in capsys.readouterr().out
    )
    rates = []
    while not optimizer.annealed:
        rates.append(optimizer.learning_rate)
        assert optimizer.trigger_stopping("Plateau.", False, n) is False
        optimizer.iteration_ends(100)
    assert_allclose(rates, initial * np.array([4, 3, 2, 1]) / 5, rtol=1e-12)
    assert_allclose(optimizer.learning_rate, initial / 5, rtol=1e-12)
    assert optimizer.trigger_stopping("Plateau.", False, n) is False
    assert_allclose(optimizer.learning_rate, initial / 5, rtol=1e-12)


# ---------------------------------------------------------------------------
# clip_grad_norm
# ---------------------------------------------------------------------------


def _global_norm(grads):
    return math.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_leaves_small_gradients_alone(dtype):
    rng = np.random.RandomState(0)
    grads = _arrays(rng, dtype)
    before = [g.copy() for g in grads]
    expected_norm = _global_norm(grads)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for max_norm in [expected_norm * 2, expected_norm]:
        norm = clip_grad_norm(grads, max_norm)
        assert isinstance(norm, float)
        assert_allclose(norm, expected_norm, rtol=rtol)
        for g, old in zip(grads, before):
            assert g.dtype == dtype
            assert_array_equal(g, old)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("max_norm", [1e-3, 1.0, 5.0])
def test_clip_grad_norm_rescales_large_gradients(max_norm, dtype):
    rng = np.random.RandomState(0)
    grads = [10 * g for g in _arrays(rng, dtype)]
    before = [g.copy() for g in grads]
    expected_norm = _global_norm(grads)
    assert expected_norm > max_norm
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    norm = clip_grad_norm(grads, max_norm)
    assert_allclose(norm, expected_norm, rtol=rtol)  # the norm before clipping
    assert_allclose(_global_norm(grads), max_norm, rtol=rtol)
    scale = max_norm / expected_norm
    for g, old in zip(grads, before):
        assert g.dtype == dtype
        assert_allclose(g, old * scale, rtol=rtol)  # one scale for every array


def test_clip_grad_norm_none_disables_clipping():
    rng = np.random.RandomState(0)
    grads = [1e6 * g for g in _arrays(rng, np.float64)]
    before = [g.copy() for g in grads]
    norm = clip_grad_norm(grads, None)
    assert_allclose(norm, _global_norm(before), rtol=1e-12)
    for g, old in zip(grads, before):
        assert_array_equal(g, old)


def test_clip_grad_norm_zero_gradients():
    grads = [np.zeros((3, 4)), np.zeros(4)]
    assert clip_grad_norm(grads, 1.0) == 0.0
    assert not any(g.any() for g in grads)


@pytest.mark.parametrize("value", [1e20, 3e37])
def test_clip_grad_norm_float32_overflowing_squares(value):
    """Squares beyond float32's range (~3.4e38) must not turn into inf or NaN."""
    rng = np.random.RandomState(0)
    grads = [
        (value * rng.uniform(-1, 1, size=(5, 8))).astype(np.float32),
        np.full(8, value, dtype=np.float32),
        np.array([1.0, -2.0], dtype=np.float32),  # small entries survive too
    ]
    assert np.isinf(np.vdot(grads[1], grads[1]))  # the naive sum overflows
    before = [g.copy() for g in grads]
    expected_norm = _global_norm(grads)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm(grads, 1.0)
    assert math.isfinite(norm)
    assert_allclose(norm, expected_norm, rtol=1e-6)
    for g, old in zip(grads, before):
        assert g.dtype == np.float32
        assert np.all(np.isfinite(g))
        assert_allclose(g, old.astype(np.float64) / expected_norm, rtol=1e-5)
    assert_allclose(_global_norm(grads), 1.0, rtol=1e-6)


@pytest.mark.parametrize("value", [1e160, 1e300, 1e308])
def test_clip_grad_norm_float64_overflowing_squares(value):
    """Squares beyond float64's range are summed in units of the largest
    magnitude: the gradients are still scaled to ``max_norm``, without a
    warning (at 1e308 the norm itself is beyond the largest float: inf)."""
    rng = np.random.RandomState(0)
    grads = [value * rng.uniform(-1, 1, size=(5, 8)), np.full(8, value)]
    before = [g.copy() for g in grads]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm(grads, 2.0)
    units = [g / value for g in before]
    norm_in_units = math.sqrt(sum(float(np.vdot(u, u)) for u in units))
    if value < 1e308:
        assert norm == pytest.approx(norm_in_units * value, rel=1e-12)
    else:
        assert math.isinf(norm)
    for g, u in zip(grads, units):
        assert_allclose(g, 2.0 * u / norm_in_units, rtol=1e-12)
