"""The Kneser-Ney model the language model interpolates with
(``sklearn_lstm._ngrams``): the same probabilities as the readable reference
of ``benchmarks/_ngrams.py``, counts that add up, and contexts read from the
start of their text."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_bench_ngrams import ngrams as reference  # benchmarks/_ngrams.py

from sklearn_lstm._ngrams import KneserNey, ngram_events

V = 30  # index 0 plays the end token, as in LSTMLanguageModel


def _texts(seed, n_texts, high=V - 1):
    """Texts of token indices 1 .. high - 1, each starting with the end token
    0 (some empty); V - 1 never occurs in the default training texts."""
    rng = np.random.default_rng(seed)
    # a skewed source, so that counts of 1, 2, 3 and more all occur
    p = 1.0 / np.arange(1, high)
    return [
        np.concatenate(
            [[0], rng.choice(np.arange(1, high), rng.integers(0, 40), p=p / p.sum())]
        )
        for _ in range(n_texts)
    ]


TRAIN, TEST = _texts(0, 200), _texts(1, 50, high=V)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_event_proba_equals_the_reference(order):
    ours = KneserNey(order, V).fit(TRAIN)
    ref = reference.KneserNey(order, V).fit(TRAIN)
    expected = [ref.prob(c, w) for c, w in reference.events(TEST, order)]
    assert_allclose(ours.event_proba(TEST), expected, rtol=1e-12)
    for m in range(1, order + 1):
        assert_allclose(ours.discounts_[m - 1], ref.discounts_[m], rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_next_proba_equals_the_reference_and_sums_to_one(order):
    ours = KneserNey(order, V).fit(TRAIN)
    ref = reference.KneserNey(order, V).fit(TRAIN)
    for seq in TEST[:10]:
        padded = [0] * max(order - 2, 0) + list(seq)
        context = tuple(padded[len(padded) - order + 1 :]) if order > 1 else ()
        proba = ours.next_proba(seq)
        assert_allclose(proba, ref.predict_proba(context), rtol=1e-12)
        assert proba.sum() == pytest.approx(1.0, abs=1e-12)
        assert (proba > 0).all()


def test_events_are_one_per_token_and_end():
    for order in [1, 2, 4]:
        rows = ngram_events(TEST, order)
        assert rows.shape == (sum(len(s) for s in TEST), order)
    rows = ngram_events([np.array([0, 7, 8])], 3)
    assert rows.tolist() == [[0, 0, 7], [0, 7, 8], [7, 8, 0]]


def test_partial_fit_adds_the_counts():
    whole = KneserNey(4, V).fit(TRAIN)
    pieces = KneserNey(4, V).fit(TRAIN[:70]).partial_fit(TRAIN[70:])
    assert_allclose(pieces.event_proba(TEST), whole.event_proba(TEST), rtol=1e-12)
    second = KneserNey(4, V).fit(TRAIN[70:])
    assert not np.allclose(second.event_proba(TEST), whole.event_proba(TEST))


def test_a_context_is_read_from_its_last_end():
    """After an end token a new text starts: what came before it does not
    count, and the context is padded with ends, as a text's start is."""
    kn = KneserNey(4, V).fit(TRAIN)
    fresh = kn.next_proba([0, 5])
    assert_allclose(kn.next_proba([3, 9, 4, 0, 5]), fresh, rtol=1e-15)
    assert_allclose(kn.next_proba([2, 0, 5]), fresh, rtol=1e-15)
    assert not np.allclose(kn.next_proba([3, 9, 5]), fresh)
    with pytest.raises(ValueError, match="without an end token"):
        kn.next_proba([5, 6])
