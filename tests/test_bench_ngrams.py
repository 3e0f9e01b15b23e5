"""The n-gram baselines of ``benchmarks/bench_language_model.py``
(``benchmarks/_ngrams.py``): normalized, positive, maximum likelihood without
discounts, and better than add-k on a Markov source."""

import itertools
from collections import Counter

import numpy as np
import pytest
from benchmark_modules import load

ngrams = load("_ngrams.py", "_bench_ngrams")

V = 6  # index 0 plays the end token, as in LSTMLanguageModel


def _corpus(seed=0, n_texts=30, max_len=12):
    """Texts of token indices 1 .. V - 2 (index V - 1 never occurs), each
    starting with the end token 0."""
    rng = np.random.default_rng(seed)
    return [
        np.concatenate([[0], rng.integers(1, V - 1, size=rng.integers(0, max_len))])
        for _ in range(n_texts)
    ]


def _markov(n_texts, seed, n_tokens=40, length=30):
    """Texts from a first-order Markov source over ``n_tokens`` tokens (0, the
    end token, only first): each token's successors are drawn from a
    Dirichlet around a Zipf distribution shared by all (as words are), the
    same source for every seed; ``seed`` draws the texts."""
    zipf = 1.0 / np.arange(1, n_tokens)
    transitions = np.random.default_rng(0).dirichlet(
        10 * zipf / zipf.sum(), size=n_tokens
    )
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n_texts):
        seq = [0]
        for _ in range(length):
            seq.append(rng.choice(n_tokens - 1, p=transitions[seq[-1]]) + 1)
        texts.append(np.array(seq))
    return texts


def test_events_pad_and_close():
    seq = [np.array([0, 3, 4])]
    assert list(ngrams.events(seq, 3)) == [((0, 0), 3), ((0, 3), 4), ((3, 4), 0)]
    assert list(ngrams.events(seq, 2)) == [((0,), 3), ((3,), 4), ((4,), 0)]
    assert list(ngrams.events(seq, 1)) == [((), 3), ((), 4), ((), 0)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_distributions_sum_to_one_and_are_positive(n):
    kn = ngrams.KneserNey(n, V).fit(_corpus())
    contexts = set(itertools.product(range(V), repeat=n - 1))  # seen or not
    for context in contexts:
        p = kn.predict_proba(context)
        assert abs(p.sum() - 1) < 1e-10, (context, p.sum())
        assert np.all(p > 0), context
    for m, d in kn.discounts_.items():
        assert all(0 <= dk <= k for k, dk in enumerate(d, start=1)), (m, d)
    total, count = kn.logprob(_corpus(seed=1))
    assert np.isfinite(total) and count > 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_add_k_sums_to_one(n):
    model = ngrams.AddK(n, V, k=0.1).fit(_corpus())
    for context in itertools.product(range(V), repeat=n - 1):
        assert abs(model.predict_proba(context).sum() - 1) < 1e-10


def test_no_discount_is_maximum_likelihood():
    train = _corpus()
    kn = ngrams.KneserNey(2, V, discounts=0.0).fit(train)
    pairs = Counter(ngrams.events(train, 2))
    contexts = Counter(context for context, _ in ngrams.events(train, 2))
    assert contexts
    for context, total in contexts.items():
        for w in range(V):
            expected = pairs[context, w] / total
            assert abs(kn.prob(context, w) - expected) < 1e-12


def test_discounts_follow_chen_goodman():
    # n1..n4 = 4, 2, 2, 1: Y = 4 / 8
    counts = [1] * 4 + [2] * 2 + [3] * 2 + [4]
    d1, d2, d3 = ngrams.modified_kn_discounts(counts)
    y = 0.5
    assert d1 == pytest.approx(1 - 2 * y * 2 / 4)
    assert d2 == pytest.approx(2 - 3 * y * 2 / 2)
    assert d3 == pytest.approx(3 - 4 * y * 1 / 2)


def test_bigram_matches_the_formula():
    """Interpolated Kneser-Ney bigram, written out by hand with numpy."""
    train, d = _corpus(), (0.4, 0.9, 1.3)
    kn = ngrams.KneserNey(2, V, discounts=d).fit(train)
    counts = np.zeros((V, V))  # counts[h, w]
    for (h,), w in ngrams.events(train, 2):
        counts[h, w] += 1
    discount = np.select([counts == 1, counts == 2, counts >= 3], d, 0.0)
    continuation = (counts > 0).sum(axis=0)  # N1+(. w)
    cd = np.select([continuation == 1, continuation == 2, continuation >= 3], d, 0)
    total = continuation.sum()
    unigram = (continuation - cd) / total + cd.sum() / total / V
    for h in range(V):
        c = counts[h].sum()
        if c == 0:
            expected = unigram
        else:
            expected = (counts[h] - discount[h]) / c + discount[h].sum() / c * unigram
        np.testing.assert_allclose(kn.predict_proba([h]), expected, rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_kneser_ney_beats_add_k_on_a_markov_source(n):
    train, test = _markov(10, seed=1), _markov(20, seed=2)
    kn, n_kn = ngrams.KneserNey(n, 40).fit(train).perplexity(test)
    # add-k at its best k on the held-out texts themselves
    best_add_k = min(
        ngrams.AddK(n, 40, k).fit(train).perplexity(test)[0]
        for k in [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
    )
    _, n_add_k = ngrams.AddK(n, 40).fit(train).perplexity(test)
    assert n_kn == n_add_k == 20 * 31
    assert kn < 0.95 * best_add_k
