"""
=========================================
Saving, loading and resuming training
=========================================

A fitted estimator of sklearn_lstm holds only NumPy arrays and numbers, the
state of its optimizer included. Saved with :func:`joblib.dump` and loaded
back, it predicts exactly as before, and
:meth:`~sklearn_lstm.LSTMSequenceClassifier.partial_fit` goes on training it
where it stopped. For files from elsewhere, `skops
<https://skops.readthedocs.io>`_ offers a format that is loaded without
running code.
"""

# %%
# Train a model for a few epochs
# ------------------------------
# Digits read row by row, as in the sequence classification example, with a
# deliberately short first training of 10 epochs.
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMSequenceClassifier

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.images / 16.0, digits.target, stratify=digits.target, random_state=0
)
clf = LSTMSequenceClassifier(
    hidden_size=32, learning_rate=1e-2, batch_size=64, max_iter=10, random_state=0
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 10 epochs on purpose
    clf.fit(X_train, y_train)
print(f"after {clf.n_iter_} epochs: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Save with joblib and load it back
# ---------------------------------
# The loaded model gives bit-identical probabilities.
folder = Path(tempfile.mkdtemp())
path = folder / "lstm.joblib"
joblib.dump(clf, path)
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
loaded = joblib.load(path)
same = np.array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
print("identical predict_proba after loading:", same)

# %%
# Resume training with ``partial_fit``
# ------------------------------------
# Each call to ``partial_fit`` is one more epoch, with the optimizer's state
# (here Adam's moment estimates and step count) as it was saved, so the loss
# curve goes on smoothly rather than starting again.
start = time.perf_counter()
for _ in range(15):
    loaded.partial_fit(X_train, y_train)
print(
    f"15 more epochs in {time.perf_counter() - start:.1f} s: n_iter_ = "
    f"{loaded.n_iter_}, test accuracy {loaded.score(X_test, y_test):.3f}"
)

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
epochs = np.arange(1, loaded.n_iter_ + 1)
ax.plot(epochs[: clf.n_iter_], clf.loss_curve_, "o-", label="fit, then saved")
resumed = slice(clf.n_iter_ - 1, None)
ax.plot(epochs[resumed], loaded.loss_curve_[resumed], "o-", label="loaded, partial_fit")
ax.axvline(clf.n_iter_ + 0.5, color="grey", linestyle="--")
ax.text(clf.n_iter_ + 0.7, max(clf.loss_curve_), "saved and loaded", va="top")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.legend()
ax.set_title("Training resumed with partial_fit after joblib.load")

# %%
# skops: a format that runs no code at load time
# -----------------------------------------------
# Pickle files, and so joblib files, can run arbitrary code when loaded: load
# only files you trust. ``skops.io`` instead lists the types a file contains
# and loads only those you accept. The estimators of sklearn_lstm contain no
# type besides their own class and NumPy arrays.
try:
    import skops.io as sio
except ImportError:
    sio = None
    print("skops is not installed: pip install skops")

if sio is not None:
    skops_path = folder / "lstm.skops"
    sio.dump(clf, skops_path)
    untrusted = sio.get_untrusted_types(file=skops_path)
    print("types to trust:", untrusted)
    # Check the list before trusting it: here it names only our estimator.
    from_skops = sio.load(skops_path, trusted=untrusted)
    print(
        "identical predict_proba after skops:",
        np.array_equal(from_skops.predict_proba(X_test), clf.predict_proba(X_test)),
    )
    from_skops.partial_fit(X_train, y_train)
    print(f"and it trains on: n_iter_ = {from_skops.n_iter_}")

shutil.rmtree(folder)  # remove the temporary files
plt.show()
