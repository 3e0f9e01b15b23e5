"""Interpolated modified Kneser-Ney n-gram model over token indices, in arrays.

:class:`~sklearn_lstm.LSTMLanguageModel` interpolates its network with this
model (``ngram_order``). It reads texts as the model does: arrays of token
indices, each starting with the end token, and predicts every token after
that first one and then the end token again. The smoothing is Chen &
Goodman's (*An empirical study of smoothing techniques for language
modeling*, 1998, section 3): at each order ``m``, with the counts ``c(h, w)``
of the token ``w`` after the context ``h`` of ``m - 1`` tokens (raw counts at
the highest order, continuation counts, the number of distinct tokens seen
before ``h w``, below it),

    p_m(w | h) = max(c(h, w) - D_m(c), 0) / c(h) + gamma(h) p_{m-1}(w | h')

where ``c(h)`` sums the counts after ``h``, ``h'`` drops the first token of
``h``, ``gamma(h) = (D1 N1(h) + D2 N2(h) + D3+ N3+(h)) / c(h)`` is the mass the
discounts moved down (``Nk(h)``: the tokens seen ``k`` times after ``h``), and
an unseen context leaves all of it to the order below; the lowest order
interpolates with the uniform distribution over the vocabulary. The three
discounts of each order come from its count-of-counts ``n1 .. n4``:

    Y = n1 / (n1 + 2 n2),  D1 = 1 - 2 Y n2 / n1,  D2 = 2 - 3 Y n3 / n2,
    D3+ = 3 - 4 Y n4 / n3

(an estimate outside ``(0, k]``, which small texts give, falls back on ``Y``).
``benchmarks/_ngrams.py`` holds the same model in dictionaries, the readable
reference the tests compare this one with.

The n-grams of each order are rows of big-endian ``int32`` token indices,
sorted and searched as raw bytes (``numpy.void``): byte order is then the
lexicographic order of the indices, so the n-grams that share a context are
one run of rows.
"""

import numpy as np

_INDEX = np.dtype(">i4")


def _keys(rows):
    """The rows of a 2-D array of ``_INDEX`` as one ``void`` key each."""
    rows = np.ascontiguousarray(rows, dtype=_INDEX)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))[:, 0]


def _find(table, queries):
    """Row of each query in the sorted unique rows ``table``, and whether it
    is there."""
    if table.shape[1] == 0:  # the empty context: one row, found by every query
        return np.zeros(len(queries), dtype=np.intp), np.full(len(queries), True)
    keys = _keys(table)
    where = np.minimum(np.searchsorted(keys, _keys(queries)), len(keys) - 1)
    return where, keys[where] == _keys(queries)


def _unique_rows(rows, counts=None):
    """The sorted unique rows of ``rows`` and the sum of ``counts`` (ones by
    default) over each."""
    if len(rows) == 0:
        return rows, np.zeros(0)
    _, first, inverse = np.unique(_keys(rows), return_index=True, return_inverse=True)
    totals = np.bincount(inverse, weights=counts, minlength=len(first))
    return rows[first], totals


def ngram_events(seqs, n):
    """The ``n``-grams an order-``n`` model predicts, as rows of ``n`` token
    indices (the context, then the token), text by text in order.

    Each sequence starts with the end token; it gets ``n - 2`` more copies
    in front, so that its first token is predicted from a context of ends
    only, and one at the end, which is predicted too.
    """
    rows = []
    for seq in seqs:
        seq = np.asarray(seq, dtype=_INDEX)
        padded = np.concatenate([seq[:1].repeat(max(n - 2, 0)), seq, seq[:1]])
        windows = np.lib.stride_tricks.sliding_window_view(padded, n)
        rows.append(windows[len(windows) - len(seq) :])  # order 1: not the first
    return np.concatenate(rows) if rows else np.zeros((0, n), dtype=_INDEX)


def kn_discounts(counts):
    """``(D1, D2, D3+)`` from the counts of one order's n-grams (see the
    module): a fallback on ``Y`` (0.5 without singletons and pairs) keeps
    each in ``(0, k]``."""
    n1, n2, n3, n4 = (np.count_nonzero(counts == k) for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else 0.5
    out = []
    for k, (a, b) in enumerate([(n1, n2), (n2, n3), (n3, n4)], start=1):
        d = k - (k + 1) * y * b / a if a > 0 else y
        out.append(d if 0 < d <= k else y)
    return np.array(out)


class KneserNey:
    """Interpolated modified Kneser-Ney model of order ``order`` over
    ``n_tokens`` token indices (see the module).

    ``fit`` counts texts afresh, ``partial_fit`` adds their counts to those
    already seen. The fitted tables are arrays only (saved as they are by
    the estimator that holds the model).
    """

    def __init__(self, order, n_tokens):
        self.order = order
        self.n_tokens = n_tokens

    def fit(self, seqs):
        """Count the n-grams of ``seqs`` (token indices, each starting with
        the end token), forgetting earlier counts."""
        self.top_ = np.zeros((0, self.order), dtype=_INDEX)
        self.top_counts_ = np.zeros(0)
        return self.partial_fit(seqs)

    def partial_fit(self, seqs):
        """Add the n-grams of ``seqs`` to the counts, and rebuild the lower
        orders and the discounts from them."""
        rows = np.concatenate([self.top_, ngram_events(seqs, self.order)])
        counts = np.concatenate([self.top_counts_, np.ones(len(rows) - len(self.top_))])
        self.top_, self.top_counts_ = _unique_rows(rows, counts)
        # grams_[m - 1], counts_[m - 1]: the m-grams and their counts; the
        # continuation count of an m-gram is the number of distinct
        # (m + 1)-grams it ends.
        self.grams_, self.counts_ = [self.top_], [self.top_counts_]
        for _ in range(self.order - 1):
            grams, counts = _unique_rows(self.grams_[0][:, 1:])
            self.grams_.insert(0, grams)
            self.counts_.insert(0, counts)
        self.discounts_ = np.array([kn_discounts(c) for c in self.counts_])
        # contexts_[m - 1]: the contexts of the m-grams, each with the first
        # row of its run, its total count and the mass its discounts move.
        self.contexts_, self.starts_, self.totals_, self.moved_ = [], [], [], []
        for grams, counts, d in zip(self.grams_, self.counts_, self.discounts_):
            keys = _keys(grams[:, :-1]) if grams.shape[1] > 1 else np.zeros(len(grams))
            new = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            discount = d[np.minimum(counts, 3).astype(np.intp) - 1]
            self.contexts_.append(grams[new, :-1])
            self.starts_.append(np.r_[new, len(grams)])
            self.totals_.append(np.add.reduceat(counts, new))
            self.moved_.append(np.add.reduceat(discount, new))
        return self

    def event_proba(self, seqs):
        """Probability of each event of ``seqs`` (see :func:`ngram_events`),
        text by text in order: shape ``(sum(len(seq) for seq in seqs),)``."""
        rows = ngram_events(seqs, self.order)
        proba = np.full(len(rows), 1.0 / self.n_tokens)
        for m in range(1, self.order + 1):
            grams, contexts = rows[:, self.order - m :], self.contexts_[m - 1]
            j, seen = _find(contexts, grams[:, :-1])
            k, found = _find(self.grams_[m - 1], grams)
            count = np.where(found, self.counts_[m - 1][k], 0.0)
            discount = self.discounts_[m - 1][np.clip(count, 1, 3).astype(np.intp) - 1]
            total, moved = self.totals_[m - 1][j], self.moved_[m - 1][j]
            step = (np.maximum(count - discount, 0.0) + moved * proba) / total
            proba = np.where(seen, step, proba)
        return proba

    def next_proba(self, context, end=0):
        """Probabilities of the ``n_tokens`` tokens after ``context`` (the
        token indices before, the last ``order - 1`` of which count), shape
        ``(n_tokens,)``.

        A text starts after its last end token ``end``: the context is read
        from there, padded with ends in front, as :func:`ngram_events` pads
        a text (a text without one must be at least ``order - 1`` long).
        """
        context = np.asarray(context, dtype=_INDEX)
        context = context[max(len(context) - self.order + 1, 0) :]
        ends = np.flatnonzero(context == end)
        if len(ends):
            context = context[ends[-1] :]
            pad = np.full(self.order - 1 - len(context), end, dtype=_INDEX)
            context = np.concatenate([pad, context])
        if len(context) < self.order - 1:
            raise ValueError(
                f"A context of {len(context)} tokens without an end token: an "
                f"order-{self.order} model needs {self.order - 1}."
            )
        context = context[None, len(context) - self.order + 1 :]
        proba = np.full(self.n_tokens, 1.0 / self.n_tokens)
        for m in range(1, self.order + 1):
            (j,), (seen,) = _find(self.contexts_[m - 1], context[:, self.order - m :])
            if not seen:
                continue
            rows = slice(self.starts_[m - 1][j], self.starts_[m - 1][j + 1])
            tokens = self.grams_[m - 1][rows, -1].astype(np.intp)
            counts = self.counts_[m - 1][rows]
            discount = self.discounts_[m - 1][np.minimum(counts, 3).astype(np.intp) - 1]
            proba *= self.moved_[m - 1][j]
            proba[tokens] += counts - discount
            proba /= self.totals_[m - 1][j]
        return proba
