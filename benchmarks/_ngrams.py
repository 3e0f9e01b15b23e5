"""n-gram language models for ``bench_language_model.py``: add-k and Kneser-Ney.

Both read texts as lists of token indices, each starting with the index of
the end token (as :class:`~sklearn_lstm.LSTMLanguageModel` reads them, see its
``_encode_texts``), and predict every token after that first one, then the
end token again (:func:`events`). Probabilities are over a vocabulary of
``n_tokens`` indices ``0 .. n_tokens - 1``.

:class:`KneserNey` is **interpolated modified Kneser-Ney** (Chen & Goodman,
*An empirical study of smoothing techniques for language modeling*, 1998,
section 3): three discounts per order, ``D1``, ``D2`` and ``D3+``, for the
n-grams seen once, twice, and three times or more, estimated from the
count-of-counts ``n1 .. n4`` of that order as

    Y = n1 / (n1 + 2 n2),  D1 = 1 - 2 Y n2 / n1,  D2 = 2 - 3 Y n3 / n2,
    D3+ = 3 - 4 Y n4 / n3;

the highest order counts the n-grams, the lower orders their continuation
counts (the number of distinct tokens seen before them), and the lowest
order (no context) interpolates with the uniform distribution over the
vocabulary, so that every token has a positive probability (an estimate
outside ``(0, k]``, which small texts can give, falls back on
``Y``: see :func:`modified_kn_discounts`). Pure Python
(dictionaries): meant for texts of up to a few hundred thousand tokens.
"""

from collections import Counter, defaultdict

import numpy as np

__all__ = ["AddK", "KneserNey", "events", "perplexity"]


def events(seqs, n):
    """The ``(context, token)`` pairs an ``n``-gram model predicts.

    Each sequence (token indices starting with the end token) is padded with
    ``n - 2`` more copies of its first index in front, so that every token
    after the first has ``n - 1`` tokens of context, and with one copy at the
    end (the end of the text is predicted too). ``context`` is a tuple of
    ``n - 1`` ints.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    for seq in seqs:
        seq = [int(i) for i in seq]
        seq = seq[:1] * max(n - 2, 0) + seq + seq[:1]
        for t in range(max(n - 1, 1), len(seq)):
            yield tuple(seq[t - n + 1 : t]), seq[t]


class _NGramModel:
    """What the two models share: fitting on sequences, and scoring."""

    def __init__(self, n, n_tokens):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}.")
        self.n = n
        self.n_tokens = n_tokens

    def logprob(self, seqs):
        """Sum of the natural-log probabilities of the events of ``seqs``,
        and their number."""
        total, count = 0.0, 0
        for context, token in events(seqs, self.n):
            total += np.log(self.prob(context, token))
            count += 1
        return total, count

    def perplexity(self, seqs):
        """``exp`` of minus the mean log-probability of the events of
        ``seqs``; and the number of events."""
        total, count = self.logprob(seqs)
        return float(np.exp(-total / count)), count

    def predict_proba(self, context):
        """Probabilities of each of the ``n_tokens`` tokens after
        ``context`` (a sequence of token indices; its last ``n - 1`` count)."""
        context = tuple(int(i) for i in context)
        return np.array([self.prob(context, w) for w in range(self.n_tokens)])


class AddK(_NGramModel):
    """Add-``k`` smoothed ``n``-gram model: ``(c(h, w) + k) / (c(h) + k V)``."""

    def __init__(self, n, n_tokens, k=1.0):
        super().__init__(n, n_tokens)
        self.k = k

    def fit(self, seqs):
        self.pairs_, self.contexts_ = Counter(), Counter()
        for context, token in events(seqs, self.n):
            self.pairs_[context, token] += 1
            self.contexts_[context] += 1
        return self

    def prob(self, context, token):
        context = tuple(context[len(context) - self.n + 1 :]) if self.n > 1 else ()
        return (self.pairs_[context, token] + self.k) / (
            self.contexts_[context] + self.k * self.n_tokens
        )


def modified_kn_discounts(counts):
    """``(D1, D2, D3+)`` of Chen & Goodman from the counts of one order.

    ``counts`` is an iterable of the (raw or continuation) counts of that
    order's n-grams. Small texts can give an estimate outside ``(0, k]``
    (``k`` = 1, 2, 3; a count-of-counts is missing, or ``D3+ < 0`` when
    ``n4`` is large against ``n3``); such a discount falls back on ``Y``, the
    single-discount estimate ``n1 / (n1 + 2 n2)`` (0.5 where that is not in
    ``(0, 1)``). Every discount is then positive, so that every context
    gives some mass to the order below, down to the uniform distribution.
    """
    nk = Counter(min(c, 5) for c in counts)
    n1, n2, n3, n4 = (nk[k] for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else 0.5
    out = []
    for k, (a, b) in enumerate([(n1, n2), (n2, n3), (n3, n4)], start=1):
        d = k - (k + 1) * y * b / a if a > 0 else y
        out.append(float(d) if 0 < d <= k else y)
    return tuple(out)


class KneserNey(_NGramModel):
    """Interpolated modified Kneser-Ney ``n``-gram model (see the module).

    Parameters
    ----------
    n : int
        Order: each token is predicted from the ``n - 1`` before it.
    n_tokens : int
        Size ``V`` of the vocabulary; the lowest order interpolates with
        ``1 / V``.
    discounts : None, float or sequence of 3 floats
        ``None`` estimates ``(D1, D2, D3+)`` per order from the counts; a
        float or a triple fixes them for every order (``0`` gives the maximum
        likelihood estimate of the highest order wherever its context was
        seen).

    Attributes
    ----------
    discounts_ : dict
        ``(D1, D2, D3+)`` of each order ``m`` (context length ``m - 1``),
        ``1 .. n``.
    """

    def __init__(self, n, n_tokens, discounts=None):
        super().__init__(n, n_tokens)
        self.discounts = discounts

    def fit(self, seqs):
        n = self.n
        # followers[m][h][w]: count of w after the context h of length m - 1;
        # raw counts at the highest order, continuation counts below.
        followers = {m: defaultdict(Counter) for m in range(1, n + 1)}
        for context, token in events(seqs, n):
            followers[n][context][token] += 1
        for m in range(n - 1, 0, -1):
            # each distinct (m+1)-gram (v, h, w) adds one to the m-gram (h, w)
            for context, counter in followers[m + 1].items():
                lower = context[1:]
                for token in counter:
                    followers[m][lower][token] += 1
        self.discounts_, self._stats = {}, {}
        for m in range(1, n + 1):
            if self.discounts is None:
                d = modified_kn_discounts(
                    c for counter in followers[m].values() for c in counter.values()
                )
            else:
                d = tuple(np.broadcast_to(np.asarray(self.discounts, float), 3))
            self.discounts_[m] = d
            stats = {}
            for context, counter in followers[m].items():
                total = sum(counter.values())
                # D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .): the mass moved down
                moved = sum(d[min(c, 3) - 1] for c in counter.values())
                stats[context] = (dict(counter), total, moved)
            self._stats[m] = stats
        return self

    def prob(self, context, token):
        """Probability of ``token`` after ``context`` (a tuple of ints; its
        last ``n - 1`` count, or fewer if it is shorter)."""
        p = 1.0 / self.n_tokens
        for m in range(1, self.n + 1):
            if m - 1 > len(context):
                break
            h = tuple(context[len(context) - m + 1 :]) if m > 1 else ()
            stats = self._stats[m].get(h)
            if stats is None:  # an unseen context: all the mass of order m - 1
                continue
            counter, total, moved = stats
            c = counter.get(token, 0)
            d = self.discounts_[m]
            p = (max(c - d[min(c, 3) - 1], 0.0) if c else 0.0) / total + (
                moved / total
            ) * p
        return p


def perplexity(model_class, train, test, n, n_tokens, **params):
    """Held-out perplexity of ``model_class(n, n_tokens, **params)`` fitted
    on ``train``, and the number of events of ``test``."""
    return model_class(n, n_tokens, **params).fit(train).perplexity(test)
