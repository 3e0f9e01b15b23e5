"""
========================================
Binary addition: the neuron that carries
========================================

A small recurrent network can learn to add two numbers written in binary.
It reads one bit of each operand per time step, least significant bit first,
and writes one bit of the sum per step. The only thing it has to remember from
one step to the next is the *carry*, and since carrying works the same way at
every position, a network trained on 8-bit numbers adds numbers of any width.

This is the example of Trask's tutorial "Anyone can learn to code an LSTM-RNN
in Python" (2015). :class:`~sklearn_lstm.RNNBinaryAdder` is its network: two
inputs, 16 sigmoid hidden units, one sigmoid output bit, learning rate 0.1.
"""

# %%
# Train on 1,000 random sums of 7-bit numbers
# -------------------------------------------
# :func:`~sklearn_lstm.datasets.make_addition` draws pairs of operands below
# ``2**7`` so that each sum fits in 8 bits. The adder encodes the numbers in
# two's complement, so the training sequences have one more bit, the sign bit
# (``n_bits_``).
#
# The tutorial trains by plain stochastic gradient descent, one random pair per
# update and no momentum, for 10,000 updates; it adds every pair of 7-bit
# numbers after some 6,000 to 7,000 of them. ``RNNBinaryAdder`` uses the same
# learning rate, but minibatches of 32 pairs with Nesterov momentum: it gets
# there after about 8 epochs of 32 updates, some 20 times sooner in seconds
# (``benchmarks/bench_adder.py`` runs both side by side). ``fit`` then trains
# on until the loss stops improving.
import itertools
import time

import matplotlib.pyplot as plt
import numpy as np

from sklearn_lstm import RNNBinaryAdder
from sklearn_lstm.datasets import make_addition

X, y = make_addition(1000, n_bits=8, random_state=0)
start = time.perf_counter()
adder = RNNBinaryAdder(random_state=0).fit(X, y)
print(
    f"Trained in {time.perf_counter() - start:.1f} s: {adder.n_iter_} epochs, "
    f"{adder.n_iter_ * -(-len(X) // adder.batch_size)} updates, "
    f"final loss {adder.loss_:.4f}, n_bits_={adder.n_bits_}"
)

# %%
# It adds every pair of 7-bit numbers exactly
# -------------------------------------------
# :meth:`~sklearn_lstm.RNNBinaryAdder.score` counts a sum as right only when
# every bit is right.
all_pairs = np.array(list(itertools.product(range(128), repeat=2)))
all_sums = all_pairs.sum(axis=1)
print(f"All 128 x 128 pairs of 7-bit numbers: {adder.score(all_pairs, all_sums):.4f}")

# %%
# ... and numbers four or eight times wider than it was trained on
# -----------------------------------------------------------------
# The network never saw a number above 127. At prediction time the bit
# sequences are as long as the operands need, and the carry goes on rippling.
rng = np.random.RandomState(0)
wide = rng.randint(0, 2**32, size=(1000, 2), dtype=np.int64)
print(f"1,000 random pairs of 32-bit numbers: {adder.score(wide, wide.sum(axis=1))}")


def show_sum(a, b, total):
    """Print an addition in decimal and binary, most significant bit first."""
    width = max(int(total).bit_length(), 1)
    ok = "right" if total == a + b else f"WRONG, {a + b} expected"
    print(f"  {a:>20} = {a:0{width}b}")
    print(f"+ {b:>20} = {b:0{width}b}")
    print(f"= {total:>20} = {total:0{width}b}  ({ok})")


for a, b in [
    (2**32 - 1, 1),
    (123_456_789, 987_654_321),
    (3_000_000_000, 4_000_000_000),
]:
    show_sum(a, b, int(adder.predict([[a, b]])[0]))

huge = rng.randint(0, 2**62, size=(1000, 2), dtype=np.int64)  # sums below 2**63
print(f"\n1,000 random pairs of 62-bit numbers: {adder.score(huge, huge.sum(axis=1))}")
for a, b in huge[:2]:
    show_sum(int(a), int(b), int(adder.predict([[a, b]])[0]))

# %%
# Looking inside: the hidden state bit by bit
# -------------------------------------------
# :meth:`~sklearn_lstm.RNNBinaryAdder.hidden_states` returns the hidden state
# after each bit. To see which unit carries, we compute the true carry from
# the operands: the carry into position 0 is 0, and the carry into position
# ``t + 1`` is 1 when at least two of ``a[t]``, ``b[t]`` and the carry into
# ``t`` are 1.


def operand_bits(X, n_bits):
    """Bits of each operand, least significant first: shape (n, 2, n_bits)."""
    return (np.asarray(X)[:, :, np.newaxis] >> np.arange(n_bits)) & 1


def carries(X, n_bits):
    """Carry into each of the positions 0 .. n_bits: shape (n, n_bits + 1)."""
    bits = operand_bits(X, n_bits)
    carry = np.zeros((len(X), n_bits + 1), dtype=int)
    for t in range(n_bits):
        carry[:, t + 1] = bits[:, 0, t] + bits[:, 1, t] + carry[:, t] >= 2
    return carry


H = adder.hidden_states(all_pairs)  # (16384, n_bits, hidden_size)
n_bits, hidden_size = H.shape[1:]
carry = carries(all_pairs, n_bits)

# %%
# The state after reading bit ``t`` has to hold the carry *out of* position
# ``t``, which is the carry *into* position ``t + 1``: it is all the network
# needs to write the next bit. So we correlate each unit, over all pairs and
# positions, with ``carry[:, 1:]``, and also with the carry into the position
# just read, ``carry[:, :-1]``, which the unit no longer needs.
activations = H.reshape(-1, hidden_size)
r_out = np.array(
    [np.corrcoef(activations[:, j], carry[:, 1:].ravel())[0, 1] for j in range(16)]
)
r_in = np.array(
    [np.corrcoef(activations[:, j], carry[:, :-1].ravel())[0, 1] for j in range(16)]
)
unit = int(np.argmax(np.abs(r_out)))
print("Correlation of each hidden unit with the carry it passes on:")
print(np.array2string(r_out, precision=2, suppress_small=True))
print(
    f"Unit {unit} carries: r = {r_out[unit]:+.3f} with the carry out of the "
    f"position just read, r = {r_in[unit]:+.3f} with the carry into it."
)

# %%
# One addition, step by step
# --------------------------
# The heat map shows the 16 hidden units while the network adds two 16-bit
# numbers; the carry that each step passes on is drawn under it, and the row
# of the carrying unit is framed. That unit switches whenever the carry does,
# from near 0 to near 1 or back: it is the network's "carry the one". Whether
# it is on for a carry or for no carry is up to the random initialization; the
# output weights read it either way, and the correlation above says which.
a, b = 27183, 31416
pair = np.array([[a, b]])
h = adder.hidden_states(pair)[0]  # (n_positions, hidden_size)
n_pos = h.shape[0]
c_out = carries(pair, n_pos)[0, 1:]
bits_ab = operand_bits(pair, n_pos)[0]
sum_bits = (a + b) >> np.arange(n_pos) & 1
print(f"{a} + {b} = {int(adder.predict(pair)[0])} (true: {a + b})")

fig, (ax_bits, ax_h) = plt.subplots(
    2, 1, figsize=(9, 6.5), sharex=True, height_ratios=[4, 16], layout="constrained"
)
ax_bits.imshow(
    np.vstack([bits_ab, sum_bits, c_out]),
    aspect="auto",
    cmap="Greys",
    vmin=0,
    vmax=2.5,
)
ax_bits.set_yticks(range(4), ["a", "b", "a + b", "carry out"])
for (row, col), v in np.ndenumerate(np.vstack([bits_ab, sum_bits, c_out])):
    ax_bits.text(col, row, v, ha="center", va="center", fontsize=8)
ax_bits.set_title(f"{a} + {b}, least significant bit on the left")

im = ax_h.imshow(h.T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
ax_h.add_patch(
    plt.Rectangle(
        (-0.5, unit - 0.5), n_pos, 1, fill=False, edgecolor="red", linewidth=2
    )
)
ax_h.set_yticks(range(hidden_size))
ax_h.set_ylabel("hidden unit")
ax_h.set_xlabel("bit position t (state after reading bit t)")
ax_h.set_xticks(range(n_pos))
ax_h.text(n_pos - 0.4, unit, f" unit {unit}", color="red", va="center")
fig.colorbar(im, ax=ax_h, label="activation")

# %%
# The carrying unit against the true carry
# ----------------------------------------
# Left: the carrying unit along the addition above, with the positions that
# pass on a carry shaded. Right:
# its activation over all 7-bit pairs and positions, split by the true carry;
# the two groups do not overlap, so one threshold on this single unit reads
# off the carry.
fig, (ax_line, ax_hist) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
for t in np.flatnonzero(c_out):
    ax_line.axvspan(t - 0.5, t + 0.5, color="tab:orange", alpha=0.3, lw=0)
ax_line.plot(range(n_pos), h[:, unit], "o-", color="red", label=f"unit {unit}")
ax_line.fill_between([], [], color="tab:orange", alpha=0.3, label="carry out = 1")
ax_line.set_xlabel("bit position t")
ax_line.set_ylim(-0.1, 1.1)
ax_line.set_ylabel("activation")
ax_line.legend(loc="upper left", bbox_to_anchor=(1, 1))
ax_line.set_title(f"{a} + {b}")

unit_act = H[:, :, unit].ravel()
c_flat = carry[:, 1:].ravel()
bins = np.linspace(0, 1, 41)
ax_hist.hist(unit_act[c_flat == 0], bins=bins, alpha=0.7, label="carry 0")
ax_hist.hist(unit_act[c_flat == 1], bins=bins, alpha=0.7, label="carry 1")
ax_hist.set_yscale("log")
ax_hist.set_xlabel(f"activation of unit {unit}")
ax_hist.set_ylabel("positions (all 7-bit pairs)")
ax_hist.legend()
ax_hist.set_title(f"r = {r_out[unit]:+.3f}")
print(
    f"Unit {unit} ranges: carry 0 -> [{unit_act[c_flat == 0].min():.3f}, "
    f"{unit_act[c_flat == 0].max():.3f}], carry 1 -> "
    f"[{unit_act[c_flat == 1].min():.3f}, {unit_act[c_flat == 1].max():.3f}]"
)
plt.show()
