"""
========================================
Next-word prediction and text generation
========================================

A language model predicts the next word from the words before it.
:class:`~sklearn_lstm.LSTMLanguageModel` reads a text word by word (each word
looked up in a learned embedding table), carries its LSTM state along, and
gives the probability of every word of its vocabulary at the next step.
Trained with RMSprop on about 1,400 words of traditional nursery rhymes
(public domain, ``examples/data/nursery_rhymes.txt``), it completes the
rhymes it has seen, and sampling from its predictions writes new ones.
"""

# %%
# The text
# --------
# The file lies next to this example. sphinx-gallery runs examples from their
# own folder, but ``__file__`` may be missing when the code runs cell by cell,
# so we look in the working directory too. Each stanza is one text: the model
# reads a text from its start, and learns where texts begin and end.
import re
import time
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMLanguageModel

try:
    folders = [Path(__file__).resolve().parent]
except NameError:
    folders = []
folders += [Path.cwd(), Path.cwd() / "examples"]
paths = [folder / "data" / "nursery_rhymes.txt" for folder in folders]
path = next(p for p in paths if p.is_file())
lines = path.read_text(encoding="utf-8").splitlines()
print(lines[0].lstrip("# "))

text = "\n".join(line for line in lines if not line.startswith("#"))
stanzas = [s.strip() for s in re.split(r"\n\s*\n", text.strip())]
print(f"{len(stanzas)} stanzas; the first:\n{stanzas[1]}")

# %%
# Training with RMSprop
# ---------------------
# At ``level='word'`` the default tokenizer keeps lowercased words,
# punctuation marks and line breaks as tokens, so the generated text falls
# into lines of verse. Words seen only once are read as ``'<unk>'`` (the
# default ``min_count=2``), so the model also learns how to go on after a
# word it does not know. We hold out 15% of the stanzas to measure how well
# it predicts text it has not seen. Every other parameter is the default:
# RMSprop, the solver of the original tutorial; early stopping on the last
# 10% of the training tokens, which keeps the weights of the best epoch
# (a text this short is soon learnt by heart); and the network's
# probabilities mixed with those of a Kneser-Ney 5-gram model of the same
# tokens, its share ``ngram_weight_`` fitted on the held-out tokens.
train, test = train_test_split(stanzas, test_size=0.15, random_state=0)
model = LSTMLanguageModel(level="word", random_state=0)
start = time.perf_counter()
model.fit(train)
print(
    f"Trained in {time.perf_counter() - start:.1f} s ({model.n_iter_} epochs); "
    f"n-gram share {model.ngram_weight_:.2f}"
)
print(f"vocabulary: {len(model.tokens_)} tokens, the first {model.tokens_[:8]}")

# %%
# Perplexity against a bigram model
# ---------------------------------
# ``score`` is the mean log-likelihood of each next token (higher is better)
# and ``perplexity`` its ``exp(-score)``: the number of words the model
# hesitates between, on average. A bigram model that predicts each word from
# the one before it, with add-k smoothing, puts the number in context. It
# counts the very tokens the LSTM reads (same tokenizer, same vocabulary and
# ``'<unk>'``, the same end-of-text token) and its ``k`` is the best of a grid
# on the held-out stanzas themselves, which favours it.


def bigram_perplexity(model, train, test, k):
    """Held-out perplexity of an add-k bigram model over the model's tokens."""
    V = len(model.tokens_)

    def pairs(texts):
        for seq in model._encode_texts(texts):
            seq = np.append(seq, seq[0])  # ends with '</s>' too
            yield from zip(seq[:-1], seq[1:])

    counts = Counter(pairs(train))
    context = Counter(a for a, _ in pairs(train))
    log_p = [np.log((counts[a, b] + k) / (context[a] + k * V)) for a, b in pairs(test)]
    return np.exp(-np.mean(log_p))


bigram = min(bigram_perplexity(model, train, test, k) for k in np.logspace(-3, 0, 7))
print(f"held-out perplexity, LSTM:   {model.perplexity(test):6.1f}")
print(f"held-out perplexity, bigram: {bigram:6.1f}")
print(f"training perplexity, LSTM:   {model.perplexity(train):6.1f}")

# %%
# The five most likely next words
# -------------------------------
# Where the rhyme has only one way to go on, the model is sure of it. At the
# start of a new verse of "The House That Jack Built" it cannot know which
# verse comes next, and spreads its bets over the candidates. Where the word
# that follows was seen only once in training, the best it can say is
# ``'<unk>'``. An empty text asks for the first word of a stanza.
contexts = [
    "that killed the rat,\nthat",
    "this is the",
    "humpty dumpty sat on a",
    "twinkle, twinkle, little star,\nhow",
    "the king was in his",
    "",
]


def shown(token):
    """A token as it is printed: line and text ends as symbols."""
    return {"\n": "\u21b5", "</s>": "\u00b6"}.get(token, token)


proba = model.predict_proba_next(contexts)
fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), layout="constrained")
for context, p, ax in zip(contexts, proba, axes.ravel()):
    top = np.argsort(p)[::-1][:5]
    words = re.findall(r"[\w']+|[^\w\s]|\n", context)[-5:]
    label = " ".join(shown(t) for t in words) or "(start)"
    print(
        f"{label:>28} -> "
        + ", ".join(f"{shown(model.tokens_[i])} ({p[i]:.2f})" for i in top)
    )
    ax.barh([shown(model.tokens_[i]) for i in top][::-1], p[top][::-1])
    ax.set_xlim(0, 1)
    ax.set_title(f"... {label}", fontsize=10)
fig.supxlabel("predicted probability of the next word")

# %%
# Writing new rhymes
# ------------------
# ``generate`` reads the prompt once and then draws one word at a time from
# the predicted probabilities, sharpened or flattened by a *temperature*
# ``T`` (``p ** (1 / T)``, renormalized), feeding each word back in. A
# generated end of text starts a new stanza after a blank line. At a low
# temperature the model mostly recites what it knows best; at a higher one it
# leaves the known lines sooner, and new text comes where rhymes share words.
for temperature in [0.5, 1.0]:
    print(f"\n--- prompt 'the', temperature {temperature} ---")
    print(model.generate("the", n_tokens=60, temperature=temperature, random_state=0))

# %%
# The training loss
# -----------------
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_)
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy per word")
ax.set_title("RMSprop, training stanzas")
plt.show()
