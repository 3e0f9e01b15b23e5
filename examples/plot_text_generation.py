"""
===================================
Character-level text generation
===================================

Karpathy's ``min-char-rnn`` reads a text one character at a time and learns to
write more of it. :class:`~sklearn_lstm.LSTMLanguageModel` with
``level='char'`` does the same with an LSTM: trained by truncated
backpropagation through time on the nursery rhymes that ship with the gallery
(``examples/data/nursery_rhymes.txt``), it spells words, breaks lines and
rhymes, without being told what a word is. We compare it with a
character trigram model, watch what the temperature does to its samples, and
check that writing a token costs the same at every length.
"""

# %%
# The text, one text per stanza
# -----------------------------
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
text = "\n".join(line for line in lines if not line.startswith("#"))
stanzas = [s.strip() for s in re.split(r"\n\s*\n", text.strip())]
train, test = train_test_split(stanzas, test_size=0.15, random_state=0)
print(f"{len(train)} stanzas to train on ({sum(map(len, train))} characters)")

# %%
# Training
# --------
# The training stanzas are read as one stream of characters, cut into
# ``batch_size`` rows read in parallel, in windows of ``bptt`` characters:
# the gradient flows back 32 steps, while the LSTM state carries on from one
# window to the next, so the model can use more context than it is trained
# over. Every other parameter is the default: RMSprop, the solver of the
# original tutorial; early stopping on the last 10% of the training
# characters; and the network mixed with a Kneser-Ney 5-gram model of the same
# characters (its share ``ngram_weight_`` fitted on the held-out ones).
model = LSTMLanguageModel(level="char", random_state=0)
start = time.perf_counter()
model.fit(train)
print(
    f"Trained in {time.perf_counter() - start:.1f} s on "
    f"{sum(map(len, train))} characters; vocabulary of {len(model.tokens_)} "
    "tokens (the distinct lowercased characters, '</s>' and '<unk>')"
)

# %%
# Perplexity against a character trigram model
# --------------------------------------------
# A trigram model predicts each character from the two before it, with add-k
# smoothing. It counts the very tokens the LSTM reads (the same vocabulary,
# ``'<unk>'`` and end-of-text token ``'</s>'``, which also pads the start of
# each stanza), and its ``k`` is the best of a grid on the held-out stanzas,
# which favours it.


def trigram_perplexity(model, train, test, k):
    """Held-out perplexity of an add-k character trigram over the model's tokens."""
    V = len(model.tokens_)

    def triples(texts):
        for seq in model._encode_texts(texts):
            seq = np.concatenate([seq[:1], seq, seq[:1]])  # '</s>' pads both ends
            yield from zip(seq[:-2], seq[1:-1], seq[2:])

    counts = Counter(triples(train))
    context = Counter((a, b) for a, b, _ in triples(train))
    log_p = [
        np.log((counts[a, b, c] + k) / (context[a, b] + k * V))
        for a, b, c in triples(test)
    ]
    return np.exp(-np.mean(log_p))


trigram = min(trigram_perplexity(model, train, test, k) for k in np.logspace(-3, 0, 7))
print(f"held-out perplexity per character, LSTM:    {model.perplexity(test):.2f}")
print(f"held-out perplexity per character, trigram: {trigram:.2f}")

# %%
# Temperature
# -----------
# ``generate`` draws each character with probability proportional to
# ``p ** (1 / temperature)``. Near 0 it writes its likeliest character each
# time (the greedy continuation, which soon loops); at 1 it samples the model
# as it is; above 1 it writes noise. ``top_k`` keeps only the ``k`` likeliest
# characters. The same ``random_state`` writes the same text.
for temperature, top_k in [(1e-3, None), (0.6, None), (1.0, 5), (1.5, None)]:
    sample = model.generate(
        "humpty dumpty", 160, temperature=temperature, top_k=top_k, random_state=1
    )
    print(f"\n--- temperature {temperature}, top_k {top_k} ---\n{sample}")

# %%
# Generation costs the same per character at any length
# -----------------------------------------------------
# The prompt is read once; after that each character is one step of the
# network from the state the previous step left, never a re-reading of the
# text so far. The time grows linearly with the number of characters.
lengths = [100, 200, 400, 800]
seconds = []
for n_tokens in lengths:
    start = time.perf_counter()
    model.generate("the", n_tokens, random_state=0)
    seconds.append(time.perf_counter() - start)
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.plot(lengths, seconds, "o-")
ax.set_xlabel("characters generated")
ax.set_ylabel("seconds")
ax.set_ylim(bottom=0)
ax.set_title("generate: one network step per character")
plt.show()
