"""
=============================================
Train in scikit-learn, serve with onnxruntime
=============================================

A :class:`~sklearn_lstm.LSTMSequenceClassifier` trained here is exported to
ONNX with :func:`sklearn_lstm.onnx.to_onnx`, where each LSTM layer is one node
of ONNX's native ``LSTM`` operator, and served by onnxruntime. The sequences
have different lengths: the graph takes them zero-padded, with their lengths
in a second input, ``sequence_lens``. We check that onnxruntime gives the
probabilities of ``predict_proba`` and the labels of ``predict``, and compare
their speed.

This example needs the optional extra ``onnx``: ``pip install -e ".[onnx]"``.
"""

# %%
# Sequences of different lengths
# -------------------------------
# The digits read row by row, 8 pixels per time step, each cut to its first
# 5 to 8 rows: a list of arrays of different lengths.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_lstm import LSTMSequenceClassifier
from sklearn_lstm.onnx import onnx_inputs, to_onnx

digits = load_digits()
rng = np.random.RandomState(0)
X = [image[: rng.randint(5, 9)] / 16.0 for image in digits.images]
X_train, X_test, y_train, y_test = train_test_split(
    X, digits.target, stratify=digits.target, random_state=0
)
print("lengths of the first test sequences:", [len(x) for x in X_test[:8]])

clf = LSTMSequenceClassifier(
    hidden_size=32,
    n_layers=2,
    learning_rate=1e-2,
    batch_size=64,
    max_iter=15,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 15 epochs on purpose
    clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Export to ONNX
# --------------
# The graph is float32, since onnxruntime's CPU LSTM kernel has no float64
# version. Its inputs are ``X`` (float32, ``(N, T, D)``, zero-padded) and
# ``sequence_lens`` (int32, ``(N,)``); :func:`~sklearn_lstm.onnx.onnx_inputs`
# builds both from any input form of the estimators.
model = to_onnx(clf)
print("nodes:", [node.op_type for node in model.graph.node])
print("inputs:", [i.name for i in model.graph.input])
print("outputs:", [o.name for o in model.graph.output])

# The model is usually written to a file and loaded by the serving process:
# open("clf.onnx", "wb").write(model.SerializeToString())
session = ort.InferenceSession(
    model.SerializeToString(), providers=["CPUExecutionProvider"]
)
inputs = onnx_inputs(X_test)
print("X:", inputs["X"].shape, inputs["X"].dtype)
print("sequence_lens:", inputs["sequence_lens"][:8], inputs["sequence_lens"].dtype)

# %%
# Same predictions
# ----------------
label, proba = session.run(None, inputs)
error = np.abs(proba - clf.predict_proba(X_test)).max()
print(f"largest difference of the probabilities: {error:.1e}")
print("identical labels:", np.array_equal(label, clf.predict(X_test)))

# %%
# Speed
# -----
# The best of 5 timings of each, on the whole test set and on one sequence at
# a time (the latency of a single request).


def best_time(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


one = onnx_inputs(X_test[:1])
timings = {
    f"{len(X_test)} sequences": (
        best_time(lambda: clf.predict_proba(X_test)),
        best_time(lambda: session.run(None, inputs)),
    ),
    "1 sequence": (
        best_time(lambda: clf.predict_proba(X_test[:1])),
        best_time(lambda: session.run(None, one)),
    ),
}
for what, (t_numpy, t_onnx) in timings.items():
    print(
        f"{what}: predict_proba {t_numpy * 1e3:.2f} ms, onnxruntime "
        f"{t_onnx * 1e3:.2f} ms ({t_numpy / t_onnx:.0f}x)"
    )

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
positions = np.arange(len(timings))
ax.barh(
    positions + 0.2,
    [t[0] * 1e3 for t in timings.values()],
    0.4,
    label="predict_proba (NumPy)",
)
ax.barh(
    positions - 0.2, [t[1] * 1e3 for t in timings.values()], 0.4, label="onnxruntime"
)
ax.set_yticks(positions, list(timings))
ax.set_xscale("log")
ax.set_xlabel("time (ms, log scale)")
ax.legend()
plt.show()

# %%
# The exported model needs neither Python nor this package: any ONNX runtime
# (onnxruntime has C, C++, C#, Java and JavaScript APIs) serves it from the
# ``.onnx`` file.
