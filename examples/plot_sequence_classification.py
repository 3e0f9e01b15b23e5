"""
==================================================
Reading digits row by row: sequence classification
==================================================

An 8 x 8 image of a handwritten digit can be read as a *sequence*: 8 time
steps, each holding the 8 pixels of one row, from top to bottom.
:class:`~sklearn_lstm.LSTMSequenceClassifier` reads the rows one after the
other, from the top down and, since its layers are bidirectional by default,
from the bottom up too, and classifies the digit from the mean and the
maximum of its hidden states over the rows (``readout='mean_max'``, the
default).

With ``early_stopping=True`` the classifier holds out 10% of the training data
and stops when the accuracy on it stops improving, keeping the weights of the
best epoch; ``loss_curve_`` and ``validation_scores_`` record the training.
"""

# %%
# The data: 1,797 digits as sequences of shape (8, 8)
# ----------------------------------------------------
# ``load_digits().images`` already has the shape ``(n_samples, n_timesteps,
# n_features)`` the classifier expects: ``(1797, 8, 8)``. We scale the pixels
# (0 to 16) to [0, 1].
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMSequenceClassifier

digits = load_digits()
X = digits.images / 16.0
y = digits.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"X_train: {X_train.shape}, X_test: {X_test.shape}")

# %%
# Training with early stopping
# ----------------------------
clf = LSTMSequenceClassifier(
    hidden_size=64,
    learning_rate=1e-2,
    batch_size=64,
    early_stopping=True,
    n_iter_no_change=10,
    random_state=0,
)
start = time.perf_counter()
clf.fit(X_train, y_train)
print(
    f"Trained in {time.perf_counter() - start:.1f} s: {clf.n_iter_} epochs, best "
    f"validation accuracy {clf.best_validation_score_:.3f}"
)
print(f"Test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The learning curve
# ------------------
# Training stops once the validation score has not improved for more than
# ``n_iter_no_change`` epochs; the model keeps the weights of the best epoch
# (the dashed line), not those of the last.
best_epoch = int(np.argmax(clf.validation_scores_)) + 1
epochs = np.arange(1, clf.n_iter_ + 1)
fig, ax_loss = plt.subplots(figsize=(7, 4), layout="constrained")
ax_loss.plot(epochs, clf.loss_curve_, color="tab:blue")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (log scale)", color="tab:blue")
ax_loss.set_yscale("log")
ax_val = ax_loss.twinx()
ax_val.plot(epochs, clf.validation_scores_, color="tab:orange")
ax_val.set_ylabel("validation accuracy", color="tab:orange")
ax_val.axvline(best_epoch, color="grey", linestyle="--")
ax_loss.set_title("LSTMSequenceClassifier on digits, read row by row")

# %%
# Where it errs
# -------------
ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test, colorbar=False)
plt.title(f"Test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Sequences of any length: reading only the top rows
# --------------------------------------------------
# A recurrent network is not tied to the length of the training sequences.
# How well does it guess the digit when it has read only the first ``k`` rows?
# A 3-D array with fewer time steps answers for all test digits at once.
accuracy_top_rows = [clf.score(X_test[:, :k], y_test) for k in range(1, 9)]
for k, acc in enumerate(accuracy_top_rows, start=1):
    print(f"first {k} rows: accuracy {acc:.3f}")

# %%
# Sequences of different lengths go in a plain list; here each of the first
# test digits is cut after a different number of rows. Padded steps leave the
# hidden state unchanged and count neither in the mean nor in the maximum, so
# each prediction is the one for its own length.
ragged = [X_test[i, : 4 + i % 5] for i in range(10)]
print("lengths:   ", [len(seq) for seq in ragged])
print("predicted: ", clf.predict(ragged).tolist())
print("true:      ", y_test[:10].tolist())
one_by_one = [clf.predict(seq[np.newaxis])[0] for seq in ragged]
print(
    "same as one sequence at a time:", np.array_equal(clf.predict(ragged), one_by_one)
)

# %%
# Trained on whole digits only, the classifier reads every sequence as a
# whole digit: the top half of a digit is not enough, and the accuracy rises
# only over the last rows. Training on prefixes as well would teach it to
# guess early.

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(range(1, 9), accuracy_top_rows, "o-")
ax.set_xlabel("rows read (from the top)")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("Accuracy after reading the first k rows")
plt.show()
