"""LSTMLanguageModel against Kneser-Ney and add-k n-gram models, and the cost of
generation.

Two texts that ship with installed packages (``--text``), each cut into
paragraphs at blank lines, of which a random 15% is held out
(``train_test_split(..., test_size=0.15, random_state=0)``):

* ``sklearn``: the dataset descriptions that ship with scikit-learn
  (``sklearn/datasets/descr/*.rst``, about 43,000 characters);
* ``python``: Python's language reference as ``help()`` shows it, the
  standard library's ``pydoc_data.topics`` (topics in alphabetical order),
  its first ``--max-chars`` characters in whole paragraphs (100,000 by
  default; 0 takes all of it, about 456,000 with Python 3.11).

On each text, at word and at character level, this script reports the
held-out perplexity of the LSTM (mean and standard deviation over
``--seeds``, with its fit time and epochs), of an **interpolated modified
Kneser-Ney** n-gram model of orders 2 to 5 (``_ngrams.KneserNey``: three
discounts per order, ``D1``, ``D2`` and ``D3+``, estimated from the
count-of-counts as in Chen & Goodman 1998; the lowest order interpolates with
the uniform distribution over the vocabulary), and of an add-k model (word:
bigram, char: trigram) whose ``k`` is the best of a grid *on the held-out
part itself*, which favours that baseline. It also times
:meth:`LSTMLanguageModel.generate` for 250, 500 and 1,000 tokens (it should
grow linearly: one network step per token) and, with ``--solvers``, the
word-level perplexity of each solver (first text, first seed).

The comparison is fair by construction: the n-gram models count the very
token indices the fitted LSTM reads (``model._encode_texts``: its tokenizer,
its vocabulary, its ``'<unk>'`` for tokens seen fewer than ``min_count``
times, ``'</s>'`` before and after each paragraph), predict the same events
(every token of a held-out paragraph and its end; the script checks that
their number is the LSTM's) over the same vocabulary. They count all the
training paragraphs, as the LSTM's own n-gram model does, while its network
(``early_stopping=True``) holds the last 10% of the tokens out for
validation. ``--write-docs`` writes the table to
``docs/benchmarks_language_model.rst``.

Run::

    python benchmarks/bench_language_model.py [--quick] [--solvers]
    python benchmarks/bench_language_model.py --text python --seeds 0 1 2
    python benchmarks/bench_language_model.py --no-lstm      # n-grams only
"""

import argparse
import os
import platform
import pydoc_data.topics
import re
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from _ngrams import AddK, KneserNey
from _report import machine_line
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMLanguageModel

K_GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
KN_ORDERS = [2, 3, 4, 5]
ADD_K_ORDER = {"word": 2, "char": 3}
TEXTS = ["sklearn", "python"]
TEXT_NAMES = {
    "sklearn": "scikit-learn dataset descriptions",
    "python": f"Python {platform.python_version()} language reference "
    "(pydoc_data.topics)",
}
DOCS_PAGE = (
    Path(__file__).resolve().parent.parent / "docs" / "benchmarks_language_model.rst"
)


def paragraphs_of(text):
    """The non-empty paragraphs of ``text``, cut at blank lines."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if p]


def load_paragraphs(name="sklearn", max_chars=100_000):
    """The paragraphs of the text ``name`` (see the module), the first ones up
    to ``max_chars`` characters in all (``0``: no limit)."""
    if name == "sklearn":
        folder = Path(sklearn.__file__).parent / "datasets" / "descr"
        text = "\n\n".join(
            p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.rst"))
        )
    elif name == "python":
        topics = pydoc_data.topics.topics
        text = "\n\n".join(topics[key] for key in sorted(topics))
    else:
        raise ValueError(f"Unknown text {name!r}; choose among {TEXTS}.")
    paragraphs, total = [], 0
    for p in paragraphs_of(text):
        total += len(p)
        if max_chars and total > max_chars:
            break
        paragraphs.append(p)
    return paragraphs


def ngram_perplexity(model, train, test, n, k):
    """Held-out perplexity of an add-k ``n``-gram model on the LSTM's tokens,
    and the number of events (see ``_ngrams.events``)."""
    seqs_train, seqs_test = model._encode_texts(train), model._encode_texts(test)
    return AddK(n, len(model.tokens_), k).fit(seqs_train).perplexity(seqs_test)


def best_ngram(model, train, test, n):
    """The add-k n-gram's perplexity at its best ``k`` of ``K_GRID``."""
    results = {k: ngram_perplexity(model, train, test, n, k) for k in K_GRID}
    k = min(results, key=lambda k: results[k][0])
    return results[k][0], k, results[k][1]


def kneser_ney(model, train, test, orders=KN_ORDERS):
    """Held-out perplexity of the Kneser-Ney model of each order (dict), on
    the LSTM's tokens, and the number of events."""
    seqs_train, seqs_test = model._encode_texts(train), model._encode_texts(test)
    out = {}
    for n in orders:
        kn = KneserNey(n, len(model.tokens_)).fit(seqs_train)
        out[n], n_events = kn.perplexity(seqs_test)
    return out, n_events


def fit(params, train):
    """The fitted model, its fit time, and whether it warned that it had not
    converged."""
    model = LSTMLanguageModel(**params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(train)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, time.perf_counter() - start, warned


def vocabulary_model(params, train):
    """A model holding the vocabulary the LSTM of ``params`` builds from
    ``train`` (it depends on the tokenizer, ``min_count`` and ``max_vocab``
    only), fitted for one epoch with one hidden unit: for ``--no-lstm``."""
    small = {**params, "hidden_size": 1, "embedding_size": 1, "max_iter": 1}
    small["early_stopping"] = False
    return fit(small, train)[0]


def compare(text, level, params, train, test, seeds, lstm=True):
    """The row of ``text`` and ``level``: n-gram and LSTM perplexities."""
    row = {"text": text, "level": level, "ppl": [], "seconds": [], "epochs": []}
    row["network"], row["weight"] = [], []
    row["warned"] = 0
    models = []
    if lstm:
        for seed in seeds:
            model, seconds, warned = fit({**params, "random_state": seed}, train)
            row["ppl"].append(model.perplexity(test))
            network = model._network_log_proba(model._encode_texts(test))
            row["network"].append(float(np.exp(-np.mean(network))))
            row["weight"].append(model.ngram_weight_)
            row["seconds"].append(seconds)
            row["epochs"].append(model.n_iter_)
            row["warned"] += warned
            models.append(model)
        reference = models[0]
        # the events the LSTM scores are those the n-grams predict
        n_lstm = reference._log_likelihood(reference._encode_texts(test))[1]
    else:
        reference = vocabulary_model(params, train)
        n_lstm = None
    row["kn"], row["events"] = kneser_ney(reference, train, test)
    if n_lstm is not None and n_lstm != row["events"]:
        raise RuntimeError(
            f"The LSTM scores {n_lstm} tokens, the n-grams {row['events']}."
        )
    n = ADD_K_ORDER[level]
    row["add_k"] = (*best_ngram(reference, train, test, n)[:2], n)
    row["vocab"] = len(reference.tokens_)
    row["train_events"] = sum(len(s) for s in reference._encode_texts(train))
    print_row(row)
    return row, models


def lstm_cell(row):
    if not row["ppl"]:
        return "-"
    mean, std = np.mean(row["ppl"]), np.std(row["ppl"])
    return f"{mean:.2f}" + (f" ± {std:.2f}" if len(row["ppl"]) > 1 else "")


def target(row):
    """Whether the LSTM beats the issue's target: Kneser-Ney 3-gram at word
    level, 5-gram at char level."""
    if not row["ppl"]:
        return "-"
    n = 3 if row["level"] == "word" else 5
    return f"{'yes' if np.mean(row['ppl']) < row['kn'][n] else 'no'} (KN-{n})"


def print_row(row):
    kn = " | ".join(f"{row['kn'][n]:7.2f}" for n in KN_ORDERS)
    base, k, n = row["add_k"]
    fit_time = (
        f"{np.mean(row['seconds']):6.1f} s, {np.mean(row['epochs']):.0f} epochs, "
        f"{row['warned']}/{len(row['ppl'])} ConvergenceWarning"
        if row["ppl"]
        else "-"
    )
    print(
        f"{row['text']:>7} | {row['level']:>5} | {row['vocab']:>5} | "
        f"{row['events']:>6} | {kn} | {base:7.2f} ({n}-gram, k={k:g}) | "
        f"{lstm_cell(row):>13} | {fit_time} | {target(row)}",
        flush=True,
    )


HEADER = (
    "   text | level | vocab | events |    KN-2 |    KN-3 |    KN-4 |    KN-5 | "
    "add-k best | LSTM ppl | LSTM fit | beats target"
)


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


def format_rst(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines + [rule])


def make_table(rows):
    header = ["text", "level", "vocab", "train/test tokens"]
    header += [f"KN-{n}" for n in KN_ORDERS]
    header += ["add-k", "LSTM", "network", "w", "LSTM s", "epochs", "conv.", "beats"]
    body = []
    for row in rows:
        base, k, n = row["add_k"]
        cells = [
            row["text"],
            row["level"],
            str(row["vocab"]),
            f"{row['train_events']}/{row['events']}",
            *(f"{row['kn'][m]:.2f}" for m in KN_ORDERS),
            f"{base:.2f} ({n}-gram)",
            lstm_cell(row),
        ]
        if row["ppl"]:
            cells += [
                f"{np.mean(row['network']):.2f}",
                f"{np.mean(row['weight']):.2f}",
                f"{np.mean(row['seconds']):.1f}",
                f"{np.mean(row['epochs']):.0f}",
                f"{len(row['ppl']) - row['warned']}/{len(row['ppl'])}",
                target(row),
            ]
        else:
            cells += ["-"] * 6
        body.append(cells)
    return format_rst(header, body)


def command_line(args):
    command = "python benchmarks/bench_language_model.py"
    if args.quick:
        command += " --quick"
    command += " --text " + " ".join(args.text)
    if args.max_chars != 100_000:
        command += f" --max-chars {args.max_chars}"
    command += " --seeds " + " ".join(map(str, args.seeds))
    if args.no_lstm:
        command += " --no-lstm"
    return command


def write_docs(table, args, machine, sizes):
    """Write ``docs/benchmarks_language_model.rst``."""
    texts = "\n".join(
        f"- ``{name}``: {TEXT_NAMES[name]}, {n_train} training and {n_test} "
        f"held-out paragraphs, {c_train:,} and {c_test:,} characters."
        for name, (n_train, n_test, c_train, c_test) in sizes.items()
    )
    seeds = ", ".join(map(str, args.seeds))
    lstm_what = (
        f"mean ± standard deviation over the seeds {seeds} (``random_state``)"
        if len(args.seeds) > 1
        else f"one fit, ``random_state={args.seeds[0]}``"
    )
    quick = " ``--quick``: ``max_iter=5`` at both levels." if args.quick else ""
    page = f"""Benchmarks: language model
==========================

Written by ``python benchmarks/bench_language_model.py --write-docs``; see
the script's docstring for the protocol.
Held-out perplexity (lower is better) of
:class:`~sklearn_lstm.LSTMLanguageModel` against n-gram models fitted in the
same run on the same tokens, on texts that ship with installed packages:

{texts}

Each text is cut into paragraphs at blank lines, and a random 15% of the
paragraphs is held out. The n-gram models count the very token indices the
fitted LSTM reads (its tokenizer, its vocabulary, its ``'<unk>'`` for the
tokens seen fewer than ``min_count`` times in the training paragraphs,
``'</s>'`` before and after each paragraph), over the same vocabulary, and
predict the same events: every token of a held-out paragraph and its end
(``train/test tokens``).

- ``KN-n``: interpolated modified Kneser-Ney ``n``-gram model (Chen &
  Goodman, 1998): three discounts per order, ``D1``, ``D2`` and ``D3+``,
  estimated from the count-of-counts of that order; continuation counts
  below the highest order; the lowest order interpolates with the uniform
  distribution over the vocabulary.
- ``add-k``: add-k smoothed n-gram with the best ``k`` of a grid chosen on
  the held-out paragraphs themselves (favouring it).
- ``LSTM``: :class:`~sklearn_lstm.LSTMLanguageModel` with its default
  parameters but ``level`` ({lstm_what}): the network interpolated with
  its own Kneser-Ney 5-gram model of the training paragraphs
  (``ngram_order=5``), ``w`` the n-gram's share fitted on the tokens the
  model holds out for early stopping (``ngram_weight_``, mean), ``network``
  the perplexity of the network alone; ``LSTM s`` the fit time in seconds
  and ``epochs`` its epochs (means); ``conv.`` the fits that ended without
  a :class:`~sklearn.exceptions.ConvergenceWarning`; ``beats`` whether the
  LSTM is below the target of the issue: Kneser-Ney 3-gram at word level,
  5-gram at character level.{quick}

{table}

Measured on {machine}. The machine was shared with other jobs, so the times
are indicative only. Reproduce with::

    {command_line(args)} --write-docs
"""
    DOCS_PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {DOCS_PAGE}")


# The estimator's defaults: only the level and the seed are set.
WORD = {"level": "word", "random_state": 0}
CHAR = {"level": "char", "random_state": 0}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="at most 5 epochs")
    parser.add_argument("--solvers", action="store_true", help="compare solvers")
    parser.add_argument(
        "--text", nargs="+", choices=TEXTS, default=TEXTS, help="default: both"
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=100_000,
        help="characters of each text at most, in whole paragraphs (0: all)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--no-lstm", action="store_true", help="the n-gram models only")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    word, char = dict(WORD), dict(CHAR)
    if args.quick:
        word["max_iter"], char["max_iter"] = 5, 5

    machine = machine_line()
    print(machine)
    rows, sizes, first_char_model = [], {}, None
    for name in args.text:
        paragraphs = load_paragraphs(name, args.max_chars)
        train, test = train_test_split(paragraphs, test_size=0.15, random_state=0)
        sizes[name] = (
            len(train),
            len(test),
            sum(map(len, train)),
            sum(map(len, test)),
        )
        print(
            f"\n{name}: {TEXT_NAMES[name]}: {len(train)} training and "
            f"{len(test)} held-out paragraphs, {sizes[name][2]} and "
            f"{sizes[name][3]} characters; load average {os.getloadavg()[0]:.1f}"
        )
        print(HEADER)
        for level, params in (("word", word), ("char", char)):
            row, models = compare(
                name, level, params, train, test, args.seeds, not args.no_lstm
            )
            rows.append(row)
            if level == "char" and models and first_char_model is None:
                first_char_model = models[0]
        if args.solvers and not args.no_lstm and name == args.text[0]:
            print("\nword level, by solver (same parameters otherwise)")
            for solver, lr in [("rmsprop", 3e-3), ("adam", 3e-3), ("sgd", 0.3)]:
                model, seconds, _ = fit(
                    {**word, "solver": solver, "learning_rate": lr}, train
                )
                print(
                    f"  {solver:>8} (learning_rate={lr:g}): perplexity "
                    f"{model.perplexity(test):7.2f}, {seconds:5.1f} s, "
                    f"{model.n_iter_} epochs"
                )
    if first_char_model is not None:
        time_generation(first_char_model)
    table = make_table(rows)
    print("\n" + table)
    if args.write_docs:
        write_docs(table, args, machine, sizes)


if __name__ == "__main__":
    main()
