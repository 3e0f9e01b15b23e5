"""
======================================================
Tuning hidden_size and learning_rate with GridSearchCV
======================================================

The estimators of sklearn_lstm are scikit-learn estimators, so the model
selection tools work on them unchanged. Here
:class:`~sklearn.model_selection.GridSearchCV` tries every combination of the
two hyper-parameters that matter most, the number of hidden units and the
learning rate, with 3-fold cross-validation on two processes, and we draw the
mean validation accuracy of each combination as a heat map.
"""

# %%
# A small sequence task
# ---------------------
# Half of scikit-learn's digits, each read row by row: 8 time steps of 8
# pixels. Each fit runs for only 15 epochs, which keeps the search short and
# makes the learning rate matter: too small, and 15 epochs are not enough.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_lstm import LSTMSequenceClassifier

digits = load_digits()
X, y = digits.images / 16.0, digits.target
X_search, X_test, y_search, y_test = train_test_split(
    X, y, train_size=900, stratify=y, random_state=0
)
print(f"search on {X_search.shape}, test on {X_test.shape}")

# %%
# The search
# ----------
# Stopping at ``max_iter`` is intended here, so we silence the
# ``ConvergenceWarning`` (scikit-learn passes the warning filters on to the
# worker processes).
param_grid = {"hidden_size": [8, 16, 32], "learning_rate": [1e-3, 3e-3, 1e-2]}
search = GridSearchCV(
    LSTMSequenceClassifier(max_iter=15, batch_size=32, random_state=0),
    param_grid,
    cv=3,
    n_jobs=2,
)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
start = time.perf_counter()
search.fit(X_search, y_search)
print(
    f"{len(search.cv_results_['params']) * 3} fits in "
    f"{time.perf_counter() - start:.1f} s"
)
print("best_params_:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
# The heat map of the mean validation accuracy
# --------------------------------------------
# ``cv_results_["params"]`` lists the combinations in the order of
# :class:`~sklearn.model_selection.ParameterGrid`: the keys sorted, the last
# one varying fastest, so the scores reshape into a (hidden_size,
# learning_rate) table.
sizes, rates = param_grid["hidden_size"], param_grid["learning_rate"]
scores = search.cv_results_["mean_test_score"].reshape(len(sizes), len(rates))

fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
im = ax.imshow(scores, cmap="viridis", origin="lower")
ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
ax.set_yticks(range(len(sizes)), sizes)
ax.set_xlabel("learning_rate")
ax.set_ylabel("hidden_size")
for (i, j), score in np.ndenumerate(scores):
    ax.text(
        j,
        i,
        f"{score:.3f}",
        ha="center",
        va="center",
        color="black" if score > scores.mean() else "white",
    )
fig.colorbar(im, ax=ax, label="mean cross-validated accuracy")
ax.set_title("LSTMSequenceClassifier, 15 epochs")
plt.show()

# %%
# Larger networks and larger steps learn faster; with more epochs the smaller
# learning rates would catch up. In a real search, the number of epochs would
# be left to ``early_stopping=True`` rather than fixed.
