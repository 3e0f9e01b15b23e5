"""LSTMLanguageModel against add-k n-gram models, and the cost of generation.

The text is the dataset descriptions that ship with scikit-learn
(``sklearn/datasets/descr/*.rst``, about 5,300 words), cut into paragraphs at
blank lines; a random 15% of the paragraphs is held out. On it this script
reports, in one run:

* **word level**: the held-out perplexity of the LSTM and of an add-k smoothed
  bigram model;
* **char level**: the held-out perplexity of the LSTM and of an add-k smoothed
  trigram model;
* the time :meth:`LSTMLanguageModel.generate` takes for 250, 500 and 1,000
  tokens (it should grow linearly: one network step per token);
* with ``--solvers``, the word-level perplexity with each solver.

The comparison is fair by construction: the n-gram models count the very
token indices the fitted LSTM reads (its tokenizer, its vocabulary, its
``'<unk>'`` for tokens seen fewer than ``min_count`` times, ``'</s>'`` before
and after each paragraph), predict the same events (every token of a held-out
paragraph and its end) over the same vocabulary, and their ``k`` is the best
of a grid *on the held-out part itself*, which favours the baselines.

Run: ``python benchmarks/bench_language_model.py [--quick] [--solvers]``.
"""

import argparse
import os
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMLanguageModel

K_GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]


def load_paragraphs():
    """The paragraphs of scikit-learn's dataset descriptions."""
    folder = Path(sklearn.__file__).parent / "datasets" / "descr"
    text = "\n\n".join(
        p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.rst"))
    )
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if p]


def ngram_perplexity(model, train, test, n, k):
    """Held-out perplexity of an add-k ``n``-gram model on the LSTM's tokens.

    Each text is read as the LSTM reads it: its token indices (unknown tokens
    as ``'<unk>'``) after ``n - 1`` ``'</s>'``, followed by ``'</s>'``; every
    token after the padding is predicted, over the LSTM's vocabulary.
    """
    V = len(model.tokens_)

    def events(texts):
        for seq in model._encode_texts(texts):  # starts with END, as the LSTM's
            seq = np.concatenate([np.repeat(seq[:1], n - 2), seq, seq[:1]])
            for t in range(n - 1, len(seq)):
                yield tuple(seq[t - n + 1 : t]), seq[t]

    pairs, contexts = Counter(), Counter()
    for context, token in events(train):
        pairs[context, token] += 1
        contexts[context] += 1
    log_p = [
        np.log((pairs[context, token] + k) / (contexts[context] + k * V))
        for context, token in events(test)
    ]
    return float(np.exp(-np.mean(log_p))), len(log_p)


def best_ngram(model, train, test, n):
    """The add-k n-gram's perplexity at its best ``k`` of ``K_GRID``."""
    results = {k: ngram_perplexity(model, train, test, n, k) for k in K_GRID}
    k = min(results, key=lambda k: results[k][0])
    return results[k][0], k, results[k][1]


def fit(params, train):
    model = LSTMLanguageModel(**params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train)
    return model, time.perf_counter() - start


def compare(level, params, train, test, n):
    model, seconds = fit(params, train)
    ppl = model.perplexity(test)
    base, k, n_events = best_ngram(model, train, test, n)
    print(
        f"{level:>5} | {len(model.tokens_):>5} | {n_events:>6} | {ppl:>8.2f} | "
        f"{base:>8.2f} ({n}-gram, k={k:g}) | {seconds:6.1f} s, "
        f"{model.n_iter_} epochs | {'yes' if ppl < base else 'NO'}"
    )
    return model


def time_generation(model, lengths=(250, 500, 1000), repeats=3):
    """Best of ``repeats`` times of ``generate`` for each length."""
    model.generate("the", 10, random_state=0)  # warm up
    print("\ngeneration (char level): n_tokens | seconds | microseconds per token")
    for n_tokens in lengths:
        best = np.inf
        for seed in range(repeats):
            start = time.perf_counter()
            model.generate("the", n_tokens, random_state=seed)
            best = min(best, time.perf_counter() - start)
        print(f"  {n_tokens:>5} | {best:7.3f} | {1e6 * best / n_tokens:7.1f}")


WORD = {
    "level": "word",
    "min_count": 2,
    "hidden_size": 128,
    "embedding_size": 64,
    "bptt": 32,
    "batch_size": 16,
    "learning_rate": 3e-3,
    "max_iter": 20,
    "early_stopping": True,
    "n_iter_no_change": 3,
    "random_state": 0,
}
CHAR = {
    "level": "char",
    "min_count": 2,
    "hidden_size": 128,
    "embedding_size": 16,
    "bptt": 64,
    "batch_size": 32,
    "learning_rate": 5e-3,
    "max_iter": 15,
    "early_stopping": True,
    "n_iter_no_change": 3,
    "random_state": 0,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--solvers", action="store_true", help="compare solvers")
    args = parser.parse_args()
    word, char = dict(WORD), dict(CHAR)
    if args.quick:
        word["max_iter"], char["max_iter"] = 5, 5

    paragraphs = load_paragraphs()
    train, test = train_test_split(paragraphs, test_size=0.15, random_state=0)
    print(
        f"scikit-learn {sklearn.__version__} dataset descriptions: "
        f"{len(train)} training and {len(test)} held-out paragraphs, "
        f"{sum(map(len, train))} and {sum(map(len, test))} characters; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("level | vocab | events | LSTM ppl | baseline ppl | LSTM fit | beats it")
    compare("word", word, train, test, 2)
    char_model = compare("char", char, train, test, 3)
    time_generation(char_model)

    if args.solvers:
        print("\nword level, by solver (same parameters otherwise)")
        for solver, lr in [("rmsprop", 3e-3), ("adam", 3e-3), ("sgd", 0.3)]:
            model, seconds = fit({**word, "solver": solver, "learning_rate": lr}, train)
            print(
                f"  {solver:>8} (learning_rate={lr:g}): perplexity "
                f"{model.perplexity(test):7.2f}, {seconds:5.1f} s, "
                f"{model.n_iter_} epochs"
            )


if __name__ == "__main__":
    main()
