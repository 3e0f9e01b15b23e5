"""The classifier's network equals ``torch.nn.LSTM`` with the documented mapping.

Skipped without PyTorch (install ``torch==2.13.0``, the CPU build, to run it).
The mapping, as the classifier's docstring states it: entry ``k`` of
``input_weights_``, ``recurrent_weights_`` and ``biases_`` is layer ``k //
n_directions`` (backward direction when ``k`` is odd and the network is
bidirectional); PyTorch's ``weight_ih``/``weight_hh`` are our matrices
transposed and its two biases sum to ours. The loss with ``label_smoothing``
is ``torch.nn.CrossEntropyLoss``'s.
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


def _fitted(bidirectional, n_layers, readout):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, T, D))
    y = np.arange(30) % K
    return LSTMSequenceClassifier(
        hidden_size=H,
        n_layers=n_layers,
        bidirectional=bidirectional,
        readout=readout,
        # the network alone: torch reads the raw inputs, without normal scores
        standardize=False,
        normal_scores=False,
        max_iter=3,
        learning_rate=0.05,
        random_state=0,
    ).fit(X, y)


def _torch_lstm(clf):
    """A ``torch.nn.LSTM`` holding the classifier's weights."""
    bidirectional = clf.bidirectional
    lstm = torch.nn.LSTM(
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
            getattr(lstm, f"weight_ih_{suffix}").copy_(torch.from_numpy(Wx.T))
            getattr(lstm, f"weight_hh_{suffix}").copy_(torch.from_numpy(Wh.T))
            getattr(lstm, f"bias_ih_{suffix}").copy_(torch.from_numpy(b))
            getattr(lstm, f"bias_hh_{suffix}").zero_()
    return lstm


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("readout", ["last", "mean", "max", "mean_max"])
def test_probabilities_equal_torch(bidirectional, n_layers, readout):
    clf = _fitted(bidirectional, n_layers, readout)
    rng = np.random.RandomState(1)
    seqs = [rng.normal(size=(n, D)) for n in LENGTHS]

    lstm = _torch_lstm(clf)
    padded = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(s) for s in seqs], batch_first=True
    )
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        padded, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        out, (h_n, _) = lstm(packed)
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
