"""Whole-model gradient checks: ``_loss_grad`` against centred differences.

The cells have their own checks in ``test_cells.py``; these cover everything
on top of them: the output layer, the many-to-one read-out of the last state,
the per-step outputs of the adder, the losses, the sample weights, the mask and
the L2 penalty. Every array of ``est._params`` is perturbed in place, one entry
at a time, and the loss ``_loss_grad`` returns is differenced.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_lstm import (
    LSTMSequenceClassifier,
    LSTMSequenceRegressor,
    LSTMSequenceTagger,
    RNNBinaryAdder,
    config_context,
)
from sklearn_lstm._backend import compiled_module
from sklearn_lstm._testing import network_batch, numerical_gradient

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # max_iter=1 on purpose
)


@pytest.fixture(
    autouse=True,
    params=[
        "numpy",
        pytest.param(
            "compiled",
            marks=pytest.mark.skipif(
                compiled_module() is None, reason="extension not built"
            ),
        ),
    ],
)
def backend(request):
    """Every check on each implementation of the cells."""
    with config_context(backend=request.param):
        yield request.param


GRAD_TOL = 1e-6
# The check takes the largest *elementwise* relative error, and a whole model
# has gradient entries 1e5 times smaller than its largest ones. Plain centred
# differences of one scalar loss cannot resolve those to 1e-6: at any step the
# rounding error (eps * loss / h) or the truncation error (h**2) is too large
# for them (worst 2e-6 over these cases at the best step, 2e-5). Richardson
# extrapolation of two centred differences, (4 D(h/2) - D(h)) / 3, cancels the
# h**2 term; at h = 5e-4 the worst error over these cases is 2.2e-7 (at 1e-4,
# where rounding grows, 5.4e-7). The step must also stay below the distance to
# the nearest kink of the maximum over time (the default readout's): at 1e-3
# one case crossed one.
GRAD_STEP = 5e-4
# The absolute error centred differences cannot go below, in units of
# eps * |loss| / GRAD_STEP (the loss's rounding divided by the step).
ROUNDING_NOISE = 10
SEEDS = [0, 1]
# Small sequence models: two hidden units reading three features, so that the
# input and the recurrent weights differ in shape, and the largest network
# checked (two bidirectional layers) has 223 weights to difference one by one.
HIDDEN_SIZE, N_FEATURES = 2, 3


def _numerical_gradient(f, x, h=GRAD_STEP):
    """Fourth-order centred differences of the scalar ``f()`` w.r.t. ``x``."""
    coarse = numerical_gradient(f, x, 1.0, h=h)
    fine = numerical_gradient(f, x, 1.0, h=h / 2)
    return (4 * fine - coarse) / 3


def _check_model_gradient(est, X, mask, targets, sample_weight):
    """Every gradient of ``_loss_grad`` against centred differences of its loss."""
    loss, grads = est._loss_grad(X, mask, targets, sample_weight)
    params = est._params
    assert isinstance(loss, float)
    assert np.isfinite(loss)
    assert len(grads) == len(params)

    def f():
        return est._loss_grad(X, mask, targets, sample_weight)[0]

    for k, (param, grad) in enumerate(zip(params, grads)):
        assert grad.shape == param.shape, f"param {k}"
        assert grad.dtype == np.float64, f"param {k}"
        before = param.copy()
        num = _numerical_gradient(f, param)
        assert np.array_equal(param, before)  # restored after the perturbations
        assert np.abs(num).max() > 0, f"param {k} does not reach the loss"
        # Entries near the rounding noise of the differences (eps * loss / h,
        # 4e-13 here) are held to that noise, not to GRAD_TOL: a gradient entry
        # of 1e-7 comes out of the loss's last bits, whichever cells compute it.
        noise = ROUNDING_NOISE * np.finfo(np.float64).eps * abs(loss) / GRAD_STEP
        err = np.max(
            np.maximum(np.abs(grad - num) - noise, 0)
            / np.maximum(1e-8, np.abs(grad) + np.abs(num))
        )
        assert err < GRAD_TOL, f"param {k} of shape {param.shape}: error {err:.3g}"
    # The gradients did not change the loss they were computed at.
    assert f() == loss


def _ragged_sequences(rng, n_samples, max_len, n_features):
    """A NaN-padded batch: lengths 1..max_len, the full length included."""
    lengths = rng.randint(1, max_len + 1, size=n_samples)
    lengths[0] = max_len
    lengths[1] = 1
    X = rng.normal(size=(n_samples, max_len, n_features))
    X[np.arange(max_len) >= lengths[:, None]] = np.nan
    return X


# Each case differences every weight, one entry at a time (a second each for
# two bidirectional layers), so the options are combined as a covering array
# of strength 2 rather than all of their products: every value of each option
# and every pair of values of two options is checked, the seeds alternating.
CLASSIFIER_CASES = [  # n_classes, n_layers, padded, alpha, seed
    (2, 1, False, 0.0, 0),
    (2, 2, True, 0.3, 1),
    (3, 1, True, 0.3, 0),
    (3, 2, False, 0.3, 1),
    (3, 2, True, 0.0, 0),
]


@pytest.mark.parametrize(
    "n_classes, n_layers, padded, alpha, seed",
    CLASSIFIER_CASES,
    ids=[
        f"{c}classes-{n}layers-{'ragged' if p else 'full'}-alpha{a}-seed{s}"
        for c, n, p, a, s in CLASSIFIER_CASES
    ],
)
def test_classifier_loss_grad(n_classes, n_layers, padded, alpha, seed):
    rng = np.random.RandomState(seed)
    n_samples, max_len, n_features = 7, 5, N_FEATURES
    if padded:
        X = _ragged_sequences(rng, n_samples, max_len, n_features)
    else:
        X = rng.normal(size=(n_samples, max_len, n_features))
    y = np.arange(n_samples) % n_classes
    est = LSTMSequenceClassifier(
        hidden_size=HIDDEN_SIZE,
        n_layers=n_layers,
        alpha=alpha,
        learning_rate=0.1,
        batch_size=4,
        max_iter=1,
        random_state=seed,
    ).fit(X, y)
    Xv, mask, targets, sample_weight = network_batch(est, X, y)
    assert (mask is not None) == padded
    assert Xv.dtype == np.float64
    assert targets.shape == (n_samples, n_classes)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    _check_model_gradient(est, Xv, mask, targets, sample_weight)


def test_classifier_loss_grad_with_label_smoothing():
    """Smoothed targets: the gradient of the cross-entropy is still
    softmax - targets."""
    rng = np.random.RandomState(2)
    X = _ragged_sequences(rng, 7, 5, N_FEATURES)
    y = np.arange(7) % 3
    est = LSTMSequenceClassifier(
        hidden_size=HIDDEN_SIZE, label_smoothing=0.2, max_iter=1, random_state=2
    ).fit(X, y)
    Xv, mask, targets, _ = network_batch(est, X, y)
    assert_allclose(targets.min(), 0.2 / 3)
    _check_model_gradient(est, Xv, mask, targets, rng.uniform(0.2, 3.0, size=7))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_adder_loss_grad(n_layers, alpha, seed):
    rng = np.random.RandomState(seed)
    X = rng.randint(-8, 8, size=(6, 2))
    y = X.sum(axis=1)
    est = RNNBinaryAdder(
        hidden_size=3,
        n_layers=n_layers,
        alpha=alpha,
        batch_size=4,
        max_iter=1,
        random_state=seed,
    ).fit(X, y)
    Xv, mask, targets, sample_weight = network_batch(est, X, y)
    assert mask is None
    assert Xv.shape == (6, est.n_bits_, 2)
    assert targets.shape == (6, est.n_bits_, 1)  # one output bit per step
    sample_weight = rng.uniform(0.2, 3.0, size=6)
    _check_model_gradient(est, Xv, mask, targets, sample_weight)


@pytest.mark.parametrize("seed", SEEDS)
def test_adder_loss_grad_with_mask(seed):
    """Per-step outputs under a mask: padded steps carry no loss and no gradient.

    The adder never pads its own bit sequences, but the many-to-many loss of
    the base class weights each step by the mask; check that path by hand.
    """
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 8, size=(5, 2))
    est = RNNBinaryAdder(hidden_size=3, batch_size=4, max_iter=1, random_state=seed)
    est.fit(X, X.sum(axis=1))
    Xv, _, targets, _ = est._validate_fit_data(
        X, X.sum(axis=1), None, reset=False, incremental=True, classes=None
    )
    T = Xv.shape[1]
    lengths = np.array([T, 1, 2, T - 1, 3])
    mask = np.arange(T) < lengths[:, None]
    Xv = np.where(mask[:, :, None], Xv, 0.0)
    sample_weight = rng.uniform(0.2, 3.0, size=5)
    _check_model_gradient(est, Xv, mask, targets, sample_weight)

    # Targets at padded steps do not matter.
    flipped = np.where(mask[:, :, None], targets, 1 - targets)
    loss, grads = est._loss_grad(Xv, mask, targets, sample_weight)
    loss_flipped, grads_flipped = est._loss_grad(Xv, mask, flipped, sample_weight)
    assert loss_flipped == pytest.approx(loss, rel=1e-12)
    for g, g_flipped in zip(grads, grads_flipped):
        assert_allclose(g_flipped, g, rtol=1e-12, atol=1e-15)


def _classifier_case(rng):
    est = LSTMSequenceClassifier(
        hidden_size=3, alpha=0.1, batch_size=4, max_iter=1, random_state=0
    )
    return est, rng.normal(size=(6, 4, 2)), np.array([0, 1, 2, 0, 1, 2])


def _adder_case(rng):
    est = RNNBinaryAdder(
        hidden_size=3, alpha=0.1, batch_size=4, max_iter=1, random_state=0
    )
    X = rng.randint(0, 8, size=(6, 2))
    return est, X, X.sum(axis=1)


def _regressor_case(rng):
    est = LSTMSequenceRegressor(
        hidden_size=3, alpha=0.1, batch_size=4, max_iter=1, random_state=0
    )
    return est, rng.normal(size=(6, 4, 2)), rng.normal(size=6)


def _tagger_case(rng):
    est = LSTMSequenceTagger(
        hidden_size=3, alpha=0.1, batch_size=4, max_iter=1, random_state=0
    )
    return est, rng.normal(size=(6, 4, 2)), rng.randint(0, 3, size=(6, 4))


@pytest.mark.parametrize(
    "make_case", [_classifier_case, _adder_case, _regressor_case, _tagger_case]
)
def test_integer_sample_weight_equals_repeated_samples(make_case):
    """The loss is the weighted mean: weight 2 is the sample written twice."""
    est, X, y = make_case(np.random.RandomState(0))
    est.fit(X, y)
    Xv, mask, targets, _ = network_batch(est, X, y)
    weights = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 2.0])
    repeat = np.repeat(np.arange(len(weights)), weights.astype(int))
    loss, grads = est._loss_grad(Xv, mask, targets, weights)
    loss_rep, grads_rep = est._loss_grad(
        Xv[repeat], None, targets[repeat], np.ones(len(repeat))
    )
    assert loss == pytest.approx(loss_rep, rel=1e-12)
    for g, g_rep in zip(grads, grads_rep):
        assert_allclose(g, g_rep, rtol=1e-10, atol=1e-14)

    # A zero weight removes a sample; scaling all the weights changes nothing.
    zero = weights.copy()
    zero[0] = 0
    keep = np.arange(1, len(weights))
    loss_zero, _ = est._loss_grad(Xv, mask, targets, zero)
    loss_drop, _ = est._loss_grad(Xv[keep], None, targets[keep], weights[keep])
    assert loss_zero == pytest.approx(loss_drop, rel=1e-12)
    # Scaling every weight leaves the weighted mean alone. (The L2 penalty is
    # divided by the total weight, as in MLP, so it does scale: switch it off.)
    est.set_params(alpha=0.0)
    loss, _ = est._loss_grad(Xv, mask, targets, weights)
    loss_scaled, _ = est._loss_grad(Xv, mask, targets, 10 * weights)
    assert loss_scaled == pytest.approx(loss, rel=1e-12)


ARCHITECTURES = {
    "last": {"readout": "last"},
    "mean-2-layers": {"readout": "mean", "n_layers": 2},
    "bidirectional": {"readout": "last", "bidirectional": True},
}
# Every architecture with and without padding; the number of outputs and the
# seed alternate so that each pair of values of two options is checked.
REGRESSOR_CASES = [  # architecture, padded, n_outputs, seed
    ("last", False, 1, 0),
    ("last", True, 2, 1),
    ("mean-2-layers", False, 2, 0),
    ("mean-2-layers", True, 1, 1),
    ("bidirectional", False, 1, 1),
    ("bidirectional", True, 2, 0),
]


@pytest.mark.parametrize(
    "architecture, padded, n_outputs, seed",
    REGRESSOR_CASES,
    ids=[
        f"{a}-{'ragged' if p else 'full'}-{n}outputs-seed{s}"
        for a, p, n, s in REGRESSOR_CASES
    ],
)
def test_regressor_loss_grad(architecture, padded, n_outputs, seed):
    rng = np.random.RandomState(seed)
    n_samples, max_len, n_features = 7, 5, N_FEATURES
    if padded:
        X = _ragged_sequences(rng, n_samples, max_len, n_features)
    else:
        X = rng.normal(size=(n_samples, max_len, n_features))
    y = 100 + 50 * rng.normal(size=(n_samples, n_outputs))
    est = LSTMSequenceRegressor(
        hidden_size=HIDDEN_SIZE,
        alpha=0.3,
        batch_size=4,
        max_iter=1,
        random_state=seed,
        **ARCHITECTURES[architecture],
    ).fit(X, y)
    Xv, mask, targets, sample_weight = network_batch(est, X, y)
    assert (mask is not None) == padded
    assert targets.shape == (n_samples, n_outputs)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    _check_model_gradient(est, Xv, mask, targets, sample_weight)


TAGGER_CASES = [  # n_classes, n_layers, bidirectional, seed
    (2, 1, False, 0),
    (2, 2, True, 1),
    (3, 1, True, 1),
    (3, 2, False, 0),
]


@pytest.mark.parametrize(
    "n_classes, n_layers, bidirectional, seed",
    TAGGER_CASES,
    ids=[
        f"{c}classes-{n}layers-{'bi' if b else 'uni'}directional-seed{s}"
        for c, n, b, s in TAGGER_CASES
    ],
)
def test_tagger_loss_grad(n_classes, n_layers, bidirectional, seed):
    """Per-step softmax outputs, with padding: every real step's loss counts."""
    rng = np.random.RandomState(seed)
    n_samples, max_len, n_features = 6, 5, N_FEATURES
    X = _ragged_sequences(rng, n_samples, max_len, n_features)
    y = rng.randint(0, n_classes, size=(n_samples, max_len))
    y[0, :n_classes] = np.arange(n_classes)  # every class at a real step
    est = LSTMSequenceTagger(
        hidden_size=HIDDEN_SIZE,
        n_layers=n_layers,
        bidirectional=bidirectional,
        alpha=0.3,
        batch_size=4,
        max_iter=1,
        random_state=seed,
    ).fit(X, y)
    Xv, mask, targets, sample_weight = network_batch(est, X, y)
    assert mask is not None
    assert targets.shape == (n_samples, max_len, n_classes)
    assert not targets[~mask].any()  # padded steps have no target
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    _check_model_gradient(est, Xv, mask, targets, sample_weight)

    # Targets at padded steps do not matter, in either direction.
    other = np.where(mask[:, :, None], targets, 1.0 / n_classes)
    loss, grads = est._loss_grad(Xv, mask, targets, sample_weight)
    loss_other, grads_other = est._loss_grad(Xv, mask, other, sample_weight)
    assert loss_other == pytest.approx(loss, rel=1e-12)
    for g, g_other in zip(grads, grads_other):
        assert_allclose(g_other, g, rtol=1e-12, atol=1e-15)
