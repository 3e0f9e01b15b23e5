"""
========================================
Next-word prediction and text generation
========================================

A language model predicts the next word from the words before it. Here
:class:`~sklearn_lstm.LSTMSequenceClassifier` reads the previous ``k`` words,
each one-hot encoded, and the next word is the class to predict. Trained with
RMSprop on about 1,400 words of traditional nursery rhymes (public domain,
``examples/data/nursery_rhymes.txt``), it completes the rhymes it has seen,
and sampling from its predicted probabilities writes new ones.
"""

# %%
# The text
# --------
# The file lies next to this example. sphinx-gallery runs examples from their
# own folder, but ``__file__`` may be missing when the code runs cell by cell,
# so we look in the working directory too.
import re
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMSequenceClassifier

try:
    folders = [Path(__file__).resolve().parent]
except NameError:
    folders = []
folders += [Path.cwd(), Path.cwd() / "examples"]
paths = [folder / "data" / "nursery_rhymes.txt" for folder in folders]
path = next(p for p in paths if p.is_file())
lines = path.read_text(encoding="utf-8").splitlines()
print(lines[0].lstrip("# "))

# %%
# We keep the words, lowercased, and mark the end of each line with a ``"\n"``
# token so that the generated text falls into lines of verse. The rhymes are
# split into stanzas at the blank lines; comment lines (``#``) are skipped.


def tokenize(text):
    """Lowercased words (with inner ' and -) and line ends of ``text``."""
    return re.findall(r"[a-z]+(?:['-][a-z]+)*|\n|\u00b6", text.lower())


text = "\n".join(line for line in lines if not line.startswith("#"))
stanzas = [tokenize(s.strip() + "\n") for s in re.split(r"\n\s*\n", text.strip())]
print(f"{len(stanzas)} stanzas, {sum(map(len, stanzas))} tokens")
print("most frequent:", Counter(t for s in stanzas for t in s).most_common(6))

# %%
# Windows of the previous k words as one-hot sequences
# ----------------------------------------------------
# Each sample is the sequence of the ``k`` tokens before a position, shape
# ``(k, vocabulary_size)`` with one 1 per time step, and its label is the
# token at that position. A stanza token ``"¶"`` pads the start of each
# stanza and ends it, so the model also learns how stanzas begin and end,
# and windows never reach into the previous rhyme. The labels can stay
# strings: the classifier's ``classes_`` are the words.
k = 5
BREAK = "\u00b6"  # the pilcrow, ¶
vocabulary = sorted({t for s in stanzas for t in s} | {BREAK})
word_index = {word: i for i, word in enumerate(vocabulary)}
one_hot = np.eye(len(vocabulary), dtype=np.float32)
windows, y = [], []
for stanza in stanzas:
    padded = [BREAK] * k + stanza + [BREAK]
    ids = [word_index[t] for t in padded]
    windows += [ids[i - k : i] for i in range(k, len(padded))]
    y += padded[k:]
X = one_hot[np.array(windows)]  # (n_samples, k, vocabulary_size)
y = np.array(y)
print(f"X: {X.shape}, y: {y.shape}, vocabulary: {len(vocabulary)} tokens")


def encode(words):
    """One-hot window of the last ``k`` words, shape (1, k, vocabulary_size).

    A context shorter than ``k`` words is the start of a stanza, padded as in
    training.
    """
    window = ([BREAK] * k + list(words))[-k:]
    return one_hot[[word_index[w] for w in window]][np.newaxis]


# %%
# Training with RMSprop
# ---------------------
# We hold out 15% of the windows at random to see how much of the prediction
# carries over to windows the model has not seen. The model stops after 40
# epochs on purpose, before the training loss has fully converged, hence the
# silenced ``ConvergenceWarning``.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.15, random_state=0
)
model = LSTMSequenceClassifier(
    hidden_size=64,
    solver="rmsprop",
    learning_rate=1e-2,
    batch_size=64,
    max_iter=40,
    random_state=0,
)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
start = time.perf_counter()
model.fit(X_train, y_train)
print(f"Trained in {time.perf_counter() - start:.1f} s, final loss {model.loss_:.3f}")
print(f"next-word accuracy, training windows: {model.score(X_train, y_train):.3f}")
print(f"next-word accuracy, held-out windows: {model.score(X_test, y_test):.3f}")

# %%
# Two baselines put the held-out score in context: always predicting the most
# frequent token (the end of a line), and predicting the token that most often
# followed the previous word in the training windows (a bigram model). The LSTM
# beats the bigram model where a longer context decides, as in the refrains
# of "The House That Jack Built"; much of a text this short is new on every
# line and cannot be predicted at all.
most_frequent = Counter(y_train).most_common(1)[0][0]
followers = defaultdict(Counter)
for window, word in zip(X_train, y_train):
    followers[vocabulary[window[-1].argmax()]][word] += 1
bigram_prediction = [
    followers[vocabulary[w[-1].argmax()]].most_common(1)[0][0]
    if vocabulary[w[-1].argmax()] in followers
    else most_frequent
    for w in X_test
]
print(f"held-out, most frequent token: {np.mean(y_test == most_frequent):.3f}")
print(f"held-out, bigram model:        {np.mean(y_test == bigram_prediction):.3f}")

# %%
# For the rest of the example we train the same model on all the windows.
model = clone(model).fit(X, y)

# %%
# The five most likely next words
# -------------------------------
# Where the rhyme has only one way to go on, the model is sure of it. At the
# start of a new verse of "The House That Jack Built" it cannot know which
# verse comes next from five words, and spreads its bets over the candidates.
contexts = [
    "killed the rat,\nthat",
    "\u00b6 this is the",
    "humpty dumpty sat on a",
    "twinkle, twinkle, little star,\nhow",
    "the king was in his",
    "to market, to market, to",
]


def shown(word):
    """A token as it is printed: the end of a line as a symbol."""
    return "\u21b5" if word == "\n" else word


fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), layout="constrained")
for context, ax in zip(contexts, axes.ravel()):
    words = tokenize(context)
    proba = model.predict_proba(encode(words))[0]
    top = np.argsort(proba)[::-1][:5]
    label = " ".join(map(shown, words))
    print(
        f"{label:>32} -> "
        + ", ".join(f"{shown(model.classes_[i])} ({proba[i]:.2f})" for i in top)
    )
    ax.barh([shown(model.classes_[i]) for i in top][::-1], proba[top][::-1])
    ax.set_xlim(0, 1)
    ax.set_title(f"... {label}", fontsize=10)
fig.supxlabel("predicted probability of the next word")

# %%
# Writing a new rhyme
# -------------------
# To generate text we draw the next word from the predicted probabilities,
# sharpened or flattened by a *temperature* ``T``: ``p ** (1 / T)``,
# renormalized (we divide the log-probabilities by ``T``). The generation
# starts a stanza with a seed word; when the model ends the stanza
# (``"¶"``), the next one starts from the padding alone.
#
# A model this size fits 1,400 words almost by heart, so at a low temperature
# it mostly recites: a stanza, then whichever one the sampling picks next. New
# text comes at the places where rhymes share words. At a higher temperature
# it leaves the known lines sooner; once its last five words are a context it
# has never seen it has little to go on, and the words lose their sense until
# the end of a stanza brings it back to a familiar start.


def generate(model, seed, n_words, temperature, random_state):
    """Sample ``n_words`` words (not counting line and stanza ends) after ``seed``."""
    rng = np.random.RandomState(random_state)
    words = [seed]
    while sum(w not in ("\n", BREAK) for w in words) < n_words + 1:
        log_proba = model.predict_log_proba(encode(words))[0] / temperature
        proba = np.exp(log_proba - log_proba.max())
        word = model.classes_[rng.choice(len(proba), p=proba / proba.sum())]
        words += [BREAK] * k if word == BREAK else [word]
    text = " ".join(words)
    text = re.sub(rf"(\s*{BREAK})+\s*", "\n\n", text)
    return re.sub(r" ?\n ?", "\n", text).strip()


for temperature in [0.5, 1.2]:
    print(f"\n--- seed 'the', temperature {temperature} ---")
    print(generate(model, "the", n_words=50, temperature=temperature, random_state=0))

# %%
# The training loss
# -----------------
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy (log scale)")
ax.set_title("RMSprop, all windows")
plt.show()
