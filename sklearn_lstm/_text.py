"""Texts to tokens and back, and the vocabulary of a language model.

A text is cut into tokens at the ``'char'`` level (every character, spaces and
line breaks included) or the ``'word'`` level (:data:`WORD_PATTERN`: words with
inner apostrophes or hyphens, single punctuation marks and line breaks), or by
a user's callable. A vocabulary maps the tokens to rows of the embedding
table; its first two entries are the special tokens :data:`END` (the end of a
text, which is also what the model reads before a text's first token) and
:data:`UNKNOWN` (every token left out of the vocabulary).
"""

import re
from collections import Counter

import numpy as np

END = "</s>"
UNKNOWN = "<unk>"
SPECIAL_TOKENS = (END, UNKNOWN)

WORD_PATTERN = r"\w+(?:['\u2019-]\w+)*|[^\w\s]|\n"
"""Words (with inner ``'`` or ``-``), single punctuation marks, line breaks."""

# Word-level detokenization: no space before these tokens, none after those.
_NO_SPACE_BEFORE = set(".,;:!?)]}%\n")
_NO_SPACE_AFTER = set("([{$\n")

# How a generated END is written out: texts are separated by a blank line.
END_TEXT = "\n\n"


def word_tokenize(text):
    """Words, punctuation marks and line breaks of ``text``, in order."""
    return re.findall(WORD_PATTERN, text)


def char_tokenize(text):
    """The characters of ``text``."""
    return list(text)


TOKENIZERS = {"word": word_tokenize, "char": char_tokenize}


def detokenize(tokens, level, after=""):
    """Text from ``tokens``, appended to the text ``after``: concatenated at
    the char level; at the word level joined by single spaces, except before
    closing punctuation and line breaks and after opening brackets, spaces and
    line breaks. An :data:`END` token is written :data:`END_TEXT`."""
    if level == "char":
        return after + "".join(END_TEXT if t == END else t for t in tokens)
    out = [after] if after else []
    for token in tokens:
        if token == END:
            out.append(END_TEXT)
            continue
        if out and not (
            token in _NO_SPACE_BEFORE
            or out[-1][-1:] in _NO_SPACE_AFTER
            or out[-1][-1:].isspace()
        ):
            out.append(" ")
        out.append(token)
    return "".join(out)


def check_texts(X, *, name="X"):
    """``X`` as a list of texts (str) and token sequences (lists of str).

    Raises ``TypeError`` for a single string, a non-iterable or an element
    that is neither, and ``ValueError`` when ``X`` holds no text.
    """
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{name} must be a list of texts (strings) or of token sequences "
            f"(lists of strings), got a single {type(X).__name__}; "
            f"wrap it in a list: [{name}]."
        )
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D list of texts, got an array of shape {X.shape}."
        )
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(
            f"{name} must be a list of texts (strings) or of token sequences "
            f"(lists of strings), got {type(X).__name__}."
        ) from None
    if not texts:
        raise ValueError(f"{name} holds 0 texts; at least one is required.")
    for i, text in enumerate(texts):
        if isinstance(text, str):
            continue
        if isinstance(text, list | tuple | np.ndarray) and all(
            isinstance(token, str) for token in text
        ):
            texts[i] = [str(token) for token in text]
            continue
        raise TypeError(
            f"{name}[{i}] is {_describe(text)}: each text must be a string or a "
            "sequence of strings (tokens)."
        )
    return texts


def _describe(value):
    """A short description of a bad text, for error messages."""
    if isinstance(value, list | tuple | np.ndarray):
        bad = next(t for t in value if not isinstance(t, str))
        return f"a sequence holding a {type(bad).__name__} ({bad!r:.40})"
    return f"a {type(value).__name__} ({value!r:.40})"


def tokenize(texts, level, tokenizer=None, lowercase=True):
    """The tokens of each text: texts (str) are lowercased if ``lowercase``
    and cut by ``tokenizer`` (a callable) or the default tokenizer of
    ``level``; token sequences are kept as they are."""
    cut = TOKENIZERS[level] if tokenizer is None else tokenizer
    tokens = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            tokens.append(text)
            continue
        pieces = cut(text.lower() if lowercase else text)
        if not isinstance(pieces, list | tuple) or not all(
            isinstance(p, str) for p in pieces
        ):
            raise TypeError(
                f"The tokenizer must return a list of strings; for text {i} it "
                f"returned {type(pieces).__name__}."
            )
        tokens.append(list(pieces))
    return tokens


def build_vocabulary(token_lists, min_count=1, max_vocab=None):
    """The special tokens, then the tokens seen at least ``min_count`` times,
    most frequent first (ties in alphabetical order), at most ``max_vocab`` of
    them (not counting the special tokens).

    Returns
    -------
    tokens : ndarray of object
        The vocabulary (str), in the order of the embedding rows: an object
        array, as a fixed-width NumPy string array drops trailing NUL
        characters (``'a\\x00'`` would become ``'a'``).
    """
    counts = Counter(t for tokens in token_lists for t in tokens)
    for special in SPECIAL_TOKENS:
        counts.pop(special, None)
    kept = sorted(
        (t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t)
    )
    if max_vocab is not None:
        kept = kept[:max_vocab]
    tokens = np.empty(len(SPECIAL_TOKENS) + len(kept), dtype=object)
    tokens[:] = list(SPECIAL_TOKENS) + kept
    return tokens


def encode(tokens, vocabulary):
    """Indices of ``tokens`` in ``vocabulary`` (a dict), unknown ones mapped
    to that of :data:`UNKNOWN`."""
    unknown = vocabulary[UNKNOWN]
    return np.array([vocabulary.get(t, unknown) for t in tokens], dtype=np.intp)
