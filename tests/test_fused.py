"""The compiled sequence functions (``sklearn_lstm._fused``) against the NumPy
reference (``sklearn_lstm._cells``), and the switch between them.

The two must agree to 1e-12 (relative to each array's largest entry) in
float64 and to float32 rounding in float32: outputs, final states and every
gradient, with and without masks, and through a whole fit.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sklearn_lstm
from sklearn_lstm import (
    LSTMSequenceClassifier,
    RNNBinaryAdder,
    _backend,
    _cells,
    config_context,
    get_config,
    set_config,
)
from sklearn_lstm._cells import CELLS
from sklearn_lstm._optimizers import AdamOptimizer, RMSpropOptimizer, SGDOptimizer
from sklearn_lstm._readouts import READOUTS
from sklearn_lstm._workspace import Workspace
from sklearn_lstm.datasets import make_addition

fused = _backend.compiled_module()
requires_fused = pytest.mark.skipif(
    fused is None, reason="the compiled extension sklearn_lstm._fused is not built"
)

CELL_NAMES = ["lstm", "rnn_tanh", "rnn_sigmoid"]
N_GATES = {"lstm": 4, "rnn_tanh": 1, "rnn_sigmoid": 1}
# Largest error relative to the largest entry of each array.
RTOL = {np.float64: 1e-12, np.float32: 2e-5}


def _functions(cell, module):
    """``forward(x, states, Wx, Wh, b, mask, workspace)`` and ``backward`` of a
    cell in ``module`` (``_cells`` or ``_fused``)."""
    if cell == "lstm":
        return (
            lambda x, s, *p, **kw: module.lstm_forward(x, *s, *p, **kw),
            module.lstm_backward,
        )
    activation = cell[4:]
    return (
        lambda x, s, *p, **kw: module.rnn_forward(
            x, *s, *p, activation=activation, **kw
        ),
        module.rnn_backward,
    )


def _inputs(cell, rng, n, t, d, h, dtype, scale=0.5):
    """Random ``x``, initial states and ``[Wx, Wh, b]`` of a cell."""
    g = N_GATES[cell] * h
    x = rng.normal(size=(n, t, d))
    states = [rng.normal(scale=scale, size=(n, h)) for _ in range(2 if g > h else 1)]
    params = [rng.normal(scale=scale, size=shape) for shape in [(d, g), (h, g), (g,)]]
    return (
        x.astype(dtype),
        [s.astype(dtype) for s in states],
        [p.astype(dtype) for p in params],
    )


def _mask(kind, rng, n, t):
    """None, or a mask with an all-padded row, a length-1 row, a full row,
    and random lengths ('trailing') or random holes ('holes')."""
    if kind is None:
        return None
    if kind == "trailing":
        lengths = rng.randint(1, t + 1, size=n)
        mask = np.arange(t) < lengths[:, None]
    else:
        mask = rng.uniform(size=(n, t)) < 0.6
    mask[0] = False  # all padded: the state stays the initial one
    mask[1] = np.arange(t) == 0  # a sequence of length 1
    mask[2] = True
    return mask


def _assert_close(actual, desired, dtype, name=""):
    assert actual.dtype == desired.dtype, name
    assert actual.shape == desired.shape, name
    scale = np.abs(desired).max() if desired.size else 0.0
    assert_allclose(actual, desired, rtol=0, atol=RTOL[dtype] * scale, err_msg=name)


def _run(cell, module, x, states, params, mask, dh, need_dx=True, workspace=None):
    forward, backward = _functions(cell, module)
    h, last, cache = forward(x, states, *params, mask=mask, workspace=workspace)
    outputs = [h.copy(), *(s.copy() for s in last)]
    grads = backward(dh, cache, need_dx=need_dx)
    return outputs, [None if g is None else g.copy() for g in grads], cache


# ---------------------------------------------------------------------------
# The compiled functions equal the NumPy ones
# ---------------------------------------------------------------------------


@requires_fused
@pytest.mark.parametrize("need_dx", [True, False])
@pytest.mark.parametrize("mask_kind", [None, "trailing", "holes"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_compiled_matches_numpy(cell, dtype, mask_kind, need_dx):
    rng = np.random.RandomState(0)
    n, t, d, h = 6, 7, 3, 5
    x, states, params = _inputs(cell, rng, n, t, d, h, dtype)
    mask = _mask(mask_kind, rng, n, t)
    dh = rng.normal(size=(n, t, h)).astype(dtype)
    ref_out, ref_grads, ref_cache = _run(cell, _cells, x, states, params, mask, dh)
    out, grads, cache = _run(cell, fused, x, states, params, mask, dh, need_dx)
    for k, (a, b) in enumerate(zip(out, ref_out)):
        _assert_close(a, b, dtype, f"output {k}")
    assert len(grads) == len(ref_grads)
    assert (grads[0] is None) == (not need_dx)
    for k, (a, b) in enumerate(zip(grads, ref_grads)):
        if a is not None:
            _assert_close(a, b, dtype, f"gradient {k}")
    # Either backward function takes either forward function's cache.
    _, backward = _functions(cell, fused)
    _, ref_backward = _functions(cell, _cells)
    for a, b in zip(backward(dh, ref_cache), ref_grads):
        _assert_close(a, b, dtype, "compiled backward of the NumPy cache")
    for a, b in zip(ref_backward(dh, cache), ref_grads):
        _assert_close(a, b, dtype, "NumPy backward of the compiled cache")


@requires_fused
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_padded_steps_copy_the_state_and_pass_the_gradient(cell):
    """An all-padded sequence keeps its initial state, and the gradient of
    every step's output reaches the initial state unchanged."""
    rng = np.random.RandomState(1)
    n, t, d, h = 4, 5, 2, 3
    x, states, params = _inputs(cell, rng, n, t, d, h, np.float64)
    mask = _mask("trailing", rng, n, t)
    dh = rng.normal(size=(n, t, h))
    (hs, *last), grads, _ = _run(cell, fused, x, states, params, mask, dh)
    assert_array_equal(hs[0], np.broadcast_to(states[0][0], (t, h)))
    assert_array_equal(last[0][0], states[0][0])
    assert_allclose(grads[1][0], dh[0].sum(axis=0), rtol=1e-14)  # dh0
    assert_array_equal(grads[0][0], 0)  # dx: no step of it is real
    # The length-1 sequence: its state after step 0 is kept to the end.
    assert_array_equal(hs[1], np.broadcast_to(hs[1, 0], (t, h)))


@requires_fused
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_length_one_batch(cell):
    rng = np.random.RandomState(2)
    x, states, params = _inputs(cell, rng, 3, 1, 2, 4, np.float64)
    dh = rng.normal(size=(3, 1, 4))
    ref = _run(cell, _cells, x, states, params, None, dh)
    res = _run(cell, fused, x, states, params, None, dh)
    for a, b in zip(res[0] + res[1], ref[0] + ref[1]):
        _assert_close(a, b, np.float64)


@requires_fused
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_strided_upstream_gradient(cell):
    """``dh`` as the network passes it: a time-major buffer, transposed."""
    rng = np.random.RandomState(3)
    n, t, h = 4, 6, 3
    x, states, params = _inputs(cell, rng, n, t, 2, h, np.float64)
    dh = rng.normal(size=(t, n, h)).transpose(1, 0, 2)
    ref = _run(cell, _cells, x, states, params, None, dh)[1]
    res = _run(cell, fused, x, states, params, None, dh)[1]
    for a, b in zip(res, ref):
        _assert_close(a, b, np.float64)


@requires_fused
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_workspace_is_reused_across_sizes(cell, dtype):
    """One workspace for calls of different sizes: the same results as fresh
    arrays, and the arrays of a smaller call on the memory of a larger one."""
    rng = np.random.RandomState(4)
    ws = Workspace()
    seen = {}
    for n, t in [(6, 7), (3, 4), (6, 7), (5, 9)]:
        x, states, params = _inputs(cell, rng, n, t, 3, 4, dtype)
        mask = _mask("holes", rng, n, t)
        dh = rng.normal(size=(n, t, 4)).astype(dtype)
        ref_out, ref_grads, _ = _run(cell, _cells, x, states, params, mask, dh)
        forward, backward = _functions(cell, fused)
        h, last, cache = forward(x, states, *params, mask=mask, workspace=ws)
        for a, b in zip([h, *last], ref_out):
            _assert_close(a, b, dtype)
        grads = backward(dh, cache)
        for a, b in zip(grads, ref_grads):
            _assert_close(a, b, dtype)
        key = "gates" if cell == "lstm" else "hs"
        memory = ws._arrays[key][0]
        if (n, t) == (3, 4):
            assert np.shares_memory(memory, seen[key])  # no new allocation
        seen[key] = memory


@requires_fused
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_extreme_preactivations_saturate_without_warnings(cell, dtype):
    """Pre-activations of +-1e4, +-1e30 and +-inf: the gates and states are
    their limits, nothing is NaN, no floating-point warning is raised, and
    the NumPy functions agree."""
    rng = np.random.RandomState(5)
    n, t, d, h = 4, 3, 2, 6
    x, states, (Wx, Wh, b) = _inputs(cell, rng, n, t, d, h, dtype)
    extremes = np.array([1e4, -1e4, 1e30, -1e30, np.inf, -np.inf], dtype=dtype)
    b = np.resize(extremes, b.shape).astype(dtype)
    Wx[:] = 0
    Wh[:] = 0
    dh = rng.normal(size=(n, t, h)).astype(dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, grads, _ = _run(cell, fused, x, states, [Wx, Wh, b], None, dh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref_out, ref_grads, _ = _run(cell, _cells, x, states, [Wx, Wh, b], None, dh)
    for a, r in zip(out + grads, ref_out + ref_grads):
        assert np.isfinite(a).all()
        _assert_close(a, r, dtype)
    assert np.abs(out[0]).max() <= 1


@requires_fused
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_sigmoid_and_tanh(dtype):
    """The kernels' sigmoid and tanh: within 4 ulps of float64 references
    over the whole range, exact limits at the extremes, no warnings."""
    from scipy.special import expit

    x = np.concatenate(
        [
            np.linspace(-100, 100, 20001),
            np.logspace(-30, 2, 3001),
            -np.logspace(-30, 2, 3001),
        ]
    ).astype(dtype)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    limits = np.array([0.0, 1e4, -1e4, 1e30, -1e30, np.inf, -np.inf], dtype=dtype)
    previous = fused.cpu_variant()
    try:
        for variant in fused._supported_cpu_variants():
            fused._select_cpu_variant(variant)
            for f, ref in [(fused._sigmoid, expit), (fused._tanh, np.tanh)]:
                with warnings.catch_warnings(), np.errstate(all="raise"):
                    warnings.simplefilter("error")
                    y = f(x)
                assert y.dtype == dtype
                exact = ref(x.astype(np.float64))
                normal = np.abs(exact) > 1e3 * tiny
                err = np.abs(y[normal] - exact[normal]) / np.abs(exact[normal])
                assert err.max() < 4 * eps, variant
            with warnings.catch_warnings(), np.errstate(all="raise"):
                warnings.simplefilter("error")
                assert_array_equal(fused._sigmoid(limits), [0.5, 1, 0, 1, 0, 1, 0])
                assert_array_equal(fused._tanh(limits), [0, 1, -1, 1, -1, 1, -1])
    finally:
        fused._select_cpu_variant(previous)


@requires_fused
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cpu_variant_matches_numpy(cell, dtype):
    """Each CPU variant this machine runs (generic, AVX2+FMA, AVX-512F), odd
    widths included (the vector loops' remainders)."""
    rng = np.random.RandomState(6)
    n, t, h = 5, 6, 37
    x, states, params = _inputs(cell, rng, n, t, 3, h, dtype)
    mask = _mask("holes", rng, n, t)
    dh = rng.normal(size=(n, t, h)).astype(dtype)
    ref_out, ref_grads, _ = _run(cell, _cells, x, states, params, mask, dh)
    previous = fused.cpu_variant()
    try:
        for variant in fused._supported_cpu_variants():
            fused._select_cpu_variant(variant)
            assert fused.cpu_variant() == variant
            out, grads, _ = _run(cell, fused, x, states, params, mask, dh)
            for a, b in zip(out + grads, ref_out + ref_grads):
                _assert_close(a, b, dtype, variant)
    finally:
        fused._select_cpu_variant(previous)
    assert fused.cpu_variant() == previous
    with pytest.raises(ValueError, match="not supported"):
        fused._select_cpu_variant("no such variant")


def _classifier_fit():
    """An LSTM classifier of two layers on ragged sequences, and its data."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 9, 3))
    X[::4, 6:] = np.nan  # shorter sequences
    y = (np.nansum(X[:, :, 0], axis=1) > 0).astype(int)
    clf = LSTMSequenceClassifier(
        hidden_size=8, n_layers=2, max_iter=5, batch_size=16, random_state=0
    )
    return clf, X, y


def _adder_fit():
    """The binary adder (a vanilla RNN with sigmoid units) and its data."""
    X, y = make_addition(60, n_bits=6, random_state=0)
    return (
        RNNBinaryAdder(hidden_size=8, max_iter=5, batch_size=16, random_state=0),
        X,
        y,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@requires_fused
@pytest.mark.parametrize("make_fit", [_classifier_fit, _adder_fit])
def test_fit_gives_the_same_weights_on_both_backends(make_fit):
    """Five epochs of minibatches: the weights agree to 1e-12."""
    weights = {}
    for backend in ["numpy", "compiled"]:
        est, X, y = make_fit()
        with config_context(backend=backend):
            weights[backend] = [p.copy() for p in est.fit(X, y)._params]
    for a, b in zip(weights["compiled"], weights["numpy"]):
        _assert_close(a, b, np.float64)


# ---------------------------------------------------------------------------
# The optimizers' updates
# ---------------------------------------------------------------------------

OPTIMIZER_CASES = {
    "adam": lambda p: AdamOptimizer(p, 0.01, 0.8, 0.99, 1e-7),
    "sgd": lambda p: SGDOptimizer(p, 0.05, momentum=0.7),
    "sgd-plain": lambda p: SGDOptimizer(p, 0.05, momentum=0.7, nesterov=False),
    "rmsprop": lambda p: RMSpropOptimizer(p, 0.01, 0.8, 1e-7),
}


def _updates(make, backend, dtype, layout="contiguous", n_steps=6):
    """The parameters and optimizer state after ``n_steps`` updates on
    ``backend``; with ``layout`` 'transposed', one parameter is a transposed
    view (not C-contiguous), which the compiled update must not take."""
    rng = np.random.RandomState(8)
    shapes = [(5, 12), (12,), (3, 7, 9), (1,)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    if layout == "transposed":
        params[0] = np.ascontiguousarray(params[0].T).T
    optimizer = make(params)
    with config_context(backend=backend):
        for _ in range(n_steps):
            grads = [rng.normal(scale=3, size=s).astype(dtype) for s in shapes]
            optimizer.update_params(params, grads)
    state = [
        a
        for name in ("ms", "vs", "velocities", "caches")
        for a in getattr(optimizer, name, [])
    ]
    return params, state


@requires_fused
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", list(OPTIMIZER_CASES))
def test_compiled_updates_equal_numpy_to_the_bit(solver, dtype, layout):
    """The same numbers as NumPy's updates, bit for bit, and of the same
    dtype; parameters it cannot update in place go to NumPy's update."""
    make = OPTIMIZER_CASES[solver]
    ref_params, ref_state = _updates(make, "numpy", dtype, layout)
    params, state = _updates(make, "compiled", dtype, layout)
    assert len(state) >= len(params)
    for a, b in zip(params + state, ref_params + ref_state):
        assert a.dtype == dtype
        assert_array_equal(a, b)


@requires_fused
def test_compiled_updates_run_on_the_compiled_backend(monkeypatch):
    """update_params calls the compiled update (and NumPy's only when the
    backend is numpy), so the equality above compares two implementations."""
    calls = []
    real = fused.adam_update
    monkeypatch.setattr(fused, "adam_update", lambda *a: calls.append(1) or real(*a))
    for backend, expected in [("compiled", 1), ("numpy", 1)]:
        _updates(OPTIMIZER_CASES["adam"], backend, np.float64, n_steps=1)
        assert len(calls) == expected


@requires_fused
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mask_kind", [None, "trailing", "holes"])
@pytest.mark.parametrize("layout", ["time-major", "batch-major"])
def test_max_readout_equals_numpy(dtype, mask_kind, layout):
    """The compiled 'max' readout gives NumPy's maxima and indices: ties go
    to the first step, a NaN wins (the first one), padded steps never do (a
    sequence without real steps reads its step 0, as NumPy's)."""
    rng = np.random.RandomState(9)
    n, t, f = 7, 6, 13
    h = rng.normal(size=(t, n, f)).round(1).astype(dtype)  # rounded: ties
    h[2, 2, 3] = h[4, 2, 5] = np.nan  # sequence 2: all its steps are real
    h = h.transpose(1, 0, 2) if layout == "time-major" else h.reshape(n, t, f)
    mask = None if mask_kind is None else _mask(mask_kind, rng, n, t)
    outputs = {}
    for backend in ["numpy", "compiled"]:
        with config_context(backend=backend):
            outputs[backend] = READOUTS["max"].forward(h, mask)
    (z, flat), (ref_z, ref_flat) = outputs["compiled"], outputs["numpy"]
    assert z.dtype == dtype and flat.dtype == ref_flat.dtype
    assert_array_equal(z, ref_z)
    assert_array_equal(flat, ref_flat)
    assert np.isnan(z).sum() == np.isnan(ref_z).sum() > 0
    assert fused.max_over_steps(h[:, :, ::2], mask) is None  # NumPy's, then


# ---------------------------------------------------------------------------
# The switch
# ---------------------------------------------------------------------------


def test_config_defaults_and_validation():
    assert get_config()["backend"] in ("auto", "compiled", "numpy")
    with pytest.raises(ValueError, match="backend must be one of"):
        set_config(backend="fortran")
    with pytest.raises(ValueError, match="backend must be one of"):
        with config_context(backend="gpu"):
            pass  # pragma: no cover


def test_config_context_restores_on_exceptions():
    before = get_config()
    with pytest.raises(RuntimeError):
        with config_context(backend="numpy"):
            assert get_config()["backend"] == "numpy"
            assert _backend.backend_in_use() == "numpy"
            raise RuntimeError
    assert get_config() == before


def test_numpy_backend_runs_the_numpy_functions(monkeypatch):
    calls = []
    original = _cells.lstm_forward

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_cells, "lstm_forward", spy)
    rng = np.random.RandomState(0)
    x, states, params = _inputs("lstm", rng, 2, 3, 2, 3, np.float64)
    with config_context(backend="numpy"):
        CELLS["lstm"].forward(x, *states, *params)
    assert calls == [1]


@requires_fused
def test_compiled_and_auto_backends_run_the_compiled_functions(monkeypatch):
    calls = []
    original = fused.rnn_forward

    def spy(*args, **kwargs):
        calls.append(kwargs["activation"])
        return original(*args, **kwargs)

    monkeypatch.setattr(fused, "rnn_forward", spy)
    rng = np.random.RandomState(0)
    x, states, params = _inputs("rnn_tanh", rng, 2, 3, 2, 3, np.float64)
    for backend in ["compiled", "auto"]:
        with config_context(backend=backend):
            assert _backend.backend_in_use() == "compiled"
            CELLS["rnn_sigmoid"].forward(x, *states, *params)
    assert calls == ["sigmoid", "sigmoid"]


def test_missing_extension(monkeypatch):
    """Without the extension, 'auto' runs NumPy and 'compiled' is an error."""
    monkeypatch.setattr(_backend, "_compiled", ImportError("not built"))
    with pytest.raises(ImportError, match="not built"):
        set_config(backend="compiled")
    with config_context(backend="auto"):
        assert _backend.backend_in_use() == "numpy"
    monkeypatch.setitem(_backend._config._global_config, "backend", "compiled")
    with pytest.raises(ImportError, match="backend='compiled'"):
        _backend.backend_in_use()


def test_environment_variable():
    code = (
        "import sklearn_lstm, sklearn_lstm._backend as b;"
        "print(sklearn_lstm.get_config()['backend'], b.backend_in_use())"
    )
    env = {"SKLEARN_LSTM_BACKEND": "numpy", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == ["numpy", "numpy"], out.stderr
    env["SKLEARN_LSTM_BACKEND"] = "fortran"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert "SKLEARN_LSTM_BACKEND must be one of" in out.stderr


def test_show_versions(capsys):
    sklearn_lstm.show_versions()
    out = capsys.readouterr().out
    assert "numpy" in out and "sklearn_lstm" in out
    assert f"built: {fused is not None}" in out
    if fused is not None:
        assert f"cpu variant: {fused.cpu_variant()}" in out
