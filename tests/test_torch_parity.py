"""The classifier's network equals ``torch.nn.LSTM`` with the documented mapping.

Skipped without PyTorch (install ``torch==2.13.0``, the CPU build, to run it).
The mapping, as the classifier's docstring states it: entry ``k`` of
``input_weights_``, ``recurrent_weights_`` and ``biases_`` is layer ``k //
n_directions`` (backward direction when ``k`` is odd and the network is
bidirectional); PyTorch's ``weight_ih``/``weight_hh`` are our matrices
transposed and its two biases sum to ours. The loss with ``label_smoothing``
is ``torch.nn.CrossEntropyLoss``'s. The GRU cell, forward and backward, is
``torch.nn.GRU`` with the weight mapping of :func:`_torch_gru`.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_lstm import LSTMSequenceClassifier

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # max_iter=3 on purpose
)

N, T, D, H, K = 6, 5, 3, 4, 3
LENGTHS = [5, 2, 4, 1, 5, 3]


def _fitted(bidirectional, n_layers, readout, cell="lstm"):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, T, D))
    y = np.arange(30) % K
    return LSTMSequenceClassifier(
        hidden_size=H,
        n_layers=n_layers,
        cell=cell,
        bidirectional=bidirectional,
        readout=readout,
        # the network alone: torch reads the raw inputs, without normal scores
        standardize=False,
        normal_scores=False,
        max_iter=3,
        learning_rate=0.05,
        random_state=0,
    ).fit(X, y)


def _torch_rnn(clf):
    """A ``torch.nn.LSTM`` or ``torch.nn.GRU`` holding the classifier's
    weights. A GRU's bias ``[b_r, b_z, b_in, b_hn]`` maps to ``bias_ih = [b_r,
    b_z, b_in]`` and ``bias_hh = [0, 0, b_hn]``."""
    bidirectional = clf.bidirectional
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[clf.cell]
    rnn = module(
        D, H, num_layers=clf.n_layers, bidirectional=bidirectional, batch_first=True
    ).double()
    n_directions = 2 if bidirectional else 1
    with torch.no_grad():
        for k, (Wx, Wh, b) in enumerate(
            zip(clf.input_weights_, clf.recurrent_weights_, clf.biases_)
        ):
            suffix = f"l{k // n_directions}" + (
                "_reverse" if k % 2 and bidirectional else ""
            )
            G = Wx.shape[1]
            b_hh = np.zeros(G)
            if len(b) > G:  # the GRU's recurrent bias of n
                b_hh[G - H :] = b[G:]
            getattr(rnn, f"weight_ih_{suffix}").copy_(torch.from_numpy(Wx.T))
            getattr(rnn, f"weight_hh_{suffix}").copy_(torch.from_numpy(Wh.T))
            getattr(rnn, f"bias_ih_{suffix}").copy_(torch.from_numpy(b[:G]))
            getattr(rnn, f"bias_hh_{suffix}").copy_(torch.from_numpy(b_hh))
    return rnn


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("readout", ["last", "mean", "max", "mean_max"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_probabilities_equal_torch(bidirectional, n_layers, readout, cell):
    clf = _fitted(bidirectional, n_layers, readout, cell)
    rng = np.random.RandomState(1)
    seqs = [rng.normal(size=(n, D)) for n in LENGTHS]

    rnn = _torch_rnn(clf)
    padded = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(s) for s in seqs], batch_first=True
    )
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        padded, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        out, h_n = rnn(packed)
        if cell == "lstm":
            h_n, _ = h_n
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    out = out.numpy()
    real = np.arange(T)[None, :] < np.array(LENGTHS)[:, None]
    if readout == "last":  # h_n of the top layer: forward, then backward
        z = torch.cat(list(h_n[-(2 if bidirectional else 1) :]), dim=1).numpy()
    else:
        mean = (out * real[:, :, None]).sum(axis=1) / np.array(LENGTHS)[:, None]
        max_ = np.where(real[:, :, None], out, -np.inf).max(axis=1)
        z = {"mean": mean, "max": max_, "mean_max": np.hstack([mean, max_])}[readout]
    logits = z @ clf.output_weights_ + clf.output_bias_
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)

    assert_allclose(clf.transform(seqs), z, rtol=1e-12, atol=1e-14)
    assert_allclose(clf.predict_proba(seqs), expected, rtol=1e-12, atol=1e-14)


def test_label_smoothing_loss_equals_torch():
    """The loss on smoothed targets is ``torch.nn.CrossEntropyLoss`` with the
    same ``label_smoothing``, and so is its gradient with respect to the
    logits."""
    from sklearn_lstm._losses import log_loss
    from sklearn_lstm._testing import network_batch

    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, T, D))
    y = np.arange(30) % K
    clf = LSTMSequenceClassifier(
        hidden_size=H, label_smoothing=0.15, alpha=0.0, max_iter=3, random_state=0
    ).fit(X, y)
    Xv, mask, targets, _ = network_batch(clf, X, y)
    logits = clf._logits(Xv, mask)
    loss, dlogits = log_loss(logits, targets, np.full(len(X), 1 / len(X)))

    z = torch.from_numpy(logits).requires_grad_()
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.15)(
        z, torch.from_numpy(np.searchsorted(clf.classes_, y))
    )
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    assert_allclose(dlogits, z.grad.numpy(), rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------------------
# The GRU cell equals torch.nn.GRU
# ---------------------------------------------------------------------------


def _gru_problem(seed):
    """Random GRU inputs, weights and upstream gradient, batch-first."""
    from sklearn_lstm._cells import CELLS

    rng = np.random.RandomState(seed)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    Wx, Wh, b = (
        rng.normal(scale=0.5, size=shape) for shape in CELLS["gru"].weight_shapes(D, H)
    )
    dh = rng.normal(size=(N, T, H))
    return rng, x, h0, Wx, Wh, b, dh


def _torch_gru(Wx, Wh, b, rng):
    """A ``torch.nn.GRU`` holding ``Wx, Wh, b``: its weights are ours
    transposed; ``b = [b_r, b_z, b_in, b_hn]`` maps to ``bias_ih = [b_ir, b_iz,
    b_in]`` and ``bias_hh = [b_hr, b_hz, b_hn]``, where r and z are split
    between the two at random (only their sums count)."""
    gru = torch.nn.GRU(D, H, batch_first=True).double()
    split = rng.normal(size=2 * H)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        gru.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        gru.bias_ih_l0.copy_(
            torch.from_numpy(np.r_[b[: 2 * H] - split, b[2 * H : 3 * H]])
        )
        gru.bias_hh_l0.copy_(torch.from_numpy(np.r_[split, b[3 * H :]]))
    return gru


def _torch_gru_grads(gru):
    """``dWx, dWh, db`` in our layout from the gradients of ``gru``'s weights."""
    b_ih, b_hh = gru.bias_ih_l0.grad.numpy(), gru.bias_hh_l0.grad.numpy()
    # r and z: both biases get the same gradient, that of their sum.
    assert_allclose(b_ih[: 2 * H], b_hh[: 2 * H], rtol=1e-12, atol=1e-14)
    return (
        gru.weight_ih_l0.grad.numpy().T,
        gru.weight_hh_l0.grad.numpy().T,
        np.r_[b_ih, b_hh[2 * H :]],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gru_forward_and_gradients_equal_torch(seed):
    from sklearn_lstm._cells import gru_backward, gru_forward

    rng, x, h0, Wx, Wh, b, dh = _gru_problem(seed)
    h, (h_last,), cache = gru_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = gru_backward(dh, cache)

    gru = _torch_gru(Wx, Wh, b, rng)
    x_t = torch.from_numpy(x).requires_grad_()
    h0_t = torch.from_numpy(h0[None]).requires_grad_()
    out, h_n = gru(x_t, h0_t)
    (out * torch.from_numpy(dh)).sum().backward()

    assert_allclose(h, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(h_last, h_n[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(dx, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(dh0, h0_t.grad[0].numpy(), rtol=1e-12, atol=1e-12)
    for name, got, expected in zip(
        ["Wx", "Wh", "b"], [dWx, dWh, db], _torch_gru_grads(gru)
    ):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_masked_gru_equals_torch_packed_sequences():
    """A padded batch with a mask equals torch's packed sequences of the real
    lengths: outputs at real steps, the final states, and every gradient (the
    upstream gradient is zero at padded steps, whose torch output is 0)."""
    from sklearn_lstm._cells import gru_backward, gru_forward

    rng, x, h0, Wx, Wh, b, dh = _gru_problem(3)
    lengths = np.array(LENGTHS)
    mask = np.arange(T) < lengths[:, None]
    # x is random at the padded steps too: what they hold must not matter.
    dh *= mask[:, :, None]
    h, (h_last,), cache = gru_forward(x, h0, Wx, Wh, b, mask=mask)
    dx, dh0, dWx, dWh, db = gru_backward(dh, cache)

    gru = _torch_gru(Wx, Wh, b, rng)
    x_t = torch.from_numpy(x).requires_grad_()
    h0_t = torch.from_numpy(h0[None]).requires_grad_()
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x_t, torch.tensor(lengths), batch_first=True, enforce_sorted=False
    )
    out, h_n = gru(packed, h0_t)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(
        out, batch_first=True, total_length=T
    )
    (out * torch.from_numpy(dh)).sum().backward()

    out = out.detach().numpy()
    assert_allclose(h[mask], out[mask], rtol=1e-12, atol=1e-12)
    assert_allclose(h_last, h_n[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(dx, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(dh0, h0_t.grad[0].numpy(), rtol=1e-12, atol=1e-12)
    for name, got, expected in zip(
        ["Wx", "Wh", "b"], [dWx, dWh, db], _torch_gru_grads(gru)
    ):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=name)
