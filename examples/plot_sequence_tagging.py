"""
=====================================================
Tagging every step: the parity of the bits so far
=====================================================

:class:`~sklearn_lstm.LSTMSequenceTagger` gives a label to every time step of
a sequence. Here the sequences are random bits and the label of step ``t`` is
the parity of the bits up to ``t`` (1 when it has seen an odd number of ones).
The label depends on the whole past, not on the current bit: a logistic
regression on each step's input alone cannot do better than chance, while
the LSTM carries one bit of memory along and gets almost every step right, also on
sequences twice as long as those it was trained on.
"""

# %%
# Data: lists of sequences of different lengths, one label per step
# ------------------------------------------------------------------
# As in sklearn-crfsuite, ``X`` is a list of sequences and ``y`` the list of
# their per-step labels. (Arrays work too: a 2-D ``y`` for a 2-D or 3-D ``X``.)
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sklearn_lstm import LSTMSequenceTagger


def parity_data(n_sequences, max_length, seed):
    """Random bit sequences of lengths 1 to ``max_length``, and their parities."""
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, max_length + 1, size=n_sequences)
    X = [rng.randint(0, 2, size=n) for n in lengths]
    return X, [np.cumsum(x) % 2 for x in X]


X_train, y_train = parity_data(300, 20, seed=0)
X_test, y_test = parity_data(200, 40, seed=1)  # up to twice as long

# %%
# The tagger, and a per-step logistic regression
# ----------------------------------------------
tagger = LSTMSequenceTagger(hidden_size=16, early_stopping=True, random_state=0)
tagger.fit(X_train, y_train)

logistic = LogisticRegression().fit(
    np.concatenate(X_train)[:, None], np.concatenate(y_train)
)
scores = {
    "LSTMSequenceTagger": tagger.score(X_test, y_test),
    "per-step logistic regression": logistic.score(
        np.concatenate(X_test)[:, None], np.concatenate(y_test)
    ),
}
for name, score in scores.items():
    print(f"{name:<30} per-step test accuracy {score:.3f}")

# %%
# ``predict`` returns one array of labels per sequence, of its length:
print("bits:  ", X_test[0])
print("parity:", tagger.predict(X_test[:1])[0])

# %%
# Accuracy by position
# --------------------
# The LSTM is right at (almost) every position, beyond the 20 steps of the training
# sequences too; the logistic regression stays at chance everywhere.
right = {name: np.zeros(40) for name in scores}
count = np.zeros(40)
for x, labels, pred in zip(X_test, y_test, tagger.predict(X_test)):
    n = len(x)
    count[:n] += 1
    right["LSTMSequenceTagger"][:n] += pred == labels
    right["per-step logistic regression"][:n] += logistic.predict(x[:, None]) == labels
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, r in right.items():
    ax.plot(np.arange(1, 41), r / count, marker=".", label=name)
ax.axvline(20, color="grey", ls="--", lw=1)
ax.text(20.5, 0.6, "longest training sequence", color="grey")
ax.set_xlabel("time step")
ax.set_ylabel("accuracy")
ax.set_ylim(0, 1.05)
ax.legend(loc="lower left")
plt.tight_layout()
plt.show()
