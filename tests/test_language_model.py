"""LSTMLanguageModel: tokens, gradients, state carrying, prediction, generation.

The shared tests (common checks, persistence, the reliability battery) run on
it through its record in ``estimator_cases.py``; these cover what only a
language model has.
"""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
from estimator_cases import RHYMES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils import estimator_checks
from sklearn.utils._tags import get_tags

from sklearn_lstm import LSTMLanguageModel
from sklearn_lstm._language_model import (
    _split_tokens,
    _stream_rows,
    mixture_weight,
    sparse_log_loss,
)
from sklearn_lstm._losses import log_loss
from sklearn_lstm._ngrams import KneserNey
from sklearn_lstm._testing import numerical_gradient, relative_error
from sklearn_lstm._text import (
    END,
    UNKNOWN,
    build_vocabulary,
    check_texts,
    detokenize,
    word_tokenize,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # short fits on purpose
)


def _model(**params):
    defaults = {
        "hidden_size": 12,
        "level": "char",
        "embedding_size": 6,
        "bptt": 10,
        "batch_size": 4,
        "learning_rate": 0.02,
        "max_iter": 8,
        "min_count": 1,
        "dropout": 0.0,
        "n_iter_no_change": 10,
        "early_stopping": False,
        "random_state": 0,
    }
    return LSTMLanguageModel(**{**defaults, **params})


@pytest.fixture(scope="module")
def char_model():
    return _model().fit(RHYMES)


@pytest.fixture(scope="module")
def word_model():
    return _model(level="word", max_iter=15).fit(RHYMES)


# ---------------------------------------------------------------------------
# Tokens and vocabulary
# ---------------------------------------------------------------------------


def test_word_tokenize_keeps_words_punctuation_and_line_breaks():
    assert word_tokenize("Jack's hat,\nwell-worn!") == [
        "Jack's",
        "hat",
        ",",
        "\n",
        "well-worn",
        "!",
    ]


@pytest.mark.parametrize(
    "text",
    ["humpty dumpty sat on a wall,\nhad a great fall.", "(a b) c; d: e? f!"],
)
def test_word_detokenize_inverts_tokenize_on_plain_spacing(text):
    assert detokenize(word_tokenize(text), "word") == text


def test_detokenize_appends_to_a_text_and_writes_end_as_a_blank_line():
    assert detokenize(["sat", "on", END, "the"], "word", after="humpty") == (
        "humpty sat on\n\nthe"
    )
    assert detokenize([",", "b"], "word", after="a") == "a, b"
    assert detokenize(["b"], "word", after="a ") == "a b"
    assert detokenize(["b", END, "c"], "char", after="a") == "ab\n\nc"


def test_vocabulary_order_min_count_and_max_vocab():
    tokens = [["b", "a", "b", "c", "a", "b", "d"]]
    assert build_vocabulary(tokens).tolist() == [END, UNKNOWN, "b", "a", "c", "d"]
    assert build_vocabulary(tokens, min_count=2).tolist() == [END, UNKNOWN, "b", "a"]
    assert build_vocabulary(tokens, max_vocab=3).tolist() == [
        END,
        UNKNOWN,
        "b",
        "a",
        "c",  # c and d are tied: alphabetical order
    ]


def test_check_texts_accepts_texts_and_token_sequences():
    texts = check_texts(("ab", ["a", "b"], np.array(["c", "d"])))
    assert texts == ["ab", ["a", "b"], ["c", "d"]]


@pytest.mark.parametrize("level", ["char", "word"])
def test_token_lists_fit_like_the_texts_they_come_from(level):
    lower = [t.lower() for t in RHYMES]  # token sequences are not lowercased
    tokenized = [word_tokenize(t) if level == "word" else list(t) for t in lower]
    a = _model(level=level, max_iter=2).fit(RHYMES)
    b = _model(level=level, max_iter=2).fit(tokenized)
    assert_array_equal(a.tokens_, b.tokens_)
    for p, q in zip(a._params, b._params):
        assert_array_equal(p, q)


def test_tokenizer_callable_replaces_the_default():
    lm = _model(level="word", tokenizer=str.split, max_iter=1).fit(RHYMES)
    assert "wall," in lm.vocabulary_  # split on spaces only
    assert "," not in lm.vocabulary_


def test_lowercase_false_keeps_case():
    lm = _model(lowercase=False, max_iter=1).fit(["Ab", "ab"])
    assert {"A", "a"} <= set(lm.vocabulary_)
    lm = _model(max_iter=1).fit(["Ab", "ab"])
    assert "A" not in lm.vocabulary_


def test_unknown_tokens_read_as_unk(word_model):
    proba_unk = word_model.predict_proba_next(["zebra xylophone"])
    proba_ref = word_model.predict_proba_next([[UNKNOWN, UNKNOWN]])
    assert_array_equal(proba_unk, proba_ref)


def test_min_count_maps_rare_tokens_to_unk():
    lm = _model(level="word", min_count=2, max_iter=1).fit(RHYMES)
    assert "humpty" in lm.vocabulary_  # seen twice
    assert "wall" not in lm.vocabulary_  # seen once
    assert lm.embeddings_.shape == (len(lm.tokens_), 6)


# ---------------------------------------------------------------------------
# Gradients: the whole window loss, embeddings included
# ---------------------------------------------------------------------------

GRAD_TOL = 1e-6


def _numerical_gradient(f, x, h=2e-3):
    """Fourth-order centred differences (Richardson), as in test_gradient.py."""
    coarse = numerical_gradient(f, x, 1.0, h=h)
    fine = numerical_gradient(f, x, 1.0, h=h / 2)
    return (4 * fine - coarse) / 3


def test_sparse_log_loss_equals_log_loss_of_one_hot_targets():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(3, 4, 5))
    targets = rng.randint(0, 5, size=(3, 4))
    weights = rng.uniform(size=(3, 4))
    loss, dlogits = sparse_log_loss(logits, targets, weights)
    loss_ref, dlogits_ref = log_loss(logits, np.eye(5)[targets], weights)
    assert loss == pytest.approx(loss_ref, rel=1e-13)
    assert_allclose(dlogits, dlogits_ref, rtol=1e-13, atol=1e-15)


# Each case differences every weight, so the options are combined as a
# covering array of strength 2 (every pair of values of two options is
# checked), as in test_gradient.py, the seeds alternating.
WINDOW_CASES = [  # with_state and padded, n_layers, alpha, seed
    (False, 1, 0.0, 0),
    (False, 2, 0.3, 1),
    (True, 1, 0.3, 1),
    (True, 2, 0.0, 0),
]


@pytest.mark.parametrize(
    "carried, n_layers, alpha, seed",
    WINDOW_CASES,
    ids=[
        f"{'carried' if c else 'plain'}-{n}layers-alpha{a}-seed{s}"
        for c, n, a, s in WINDOW_CASES
    ],
)
def test_window_loss_grad_matches_finite_differences(carried, n_layers, alpha, seed):
    """Every weight, the embedding table included, against centred differences
    of the loss of one window, from a carried state and with padding."""
    with_state = padded = carried
    rng = np.random.RandomState(seed)
    lm = LSTMLanguageModel(
        hidden_size=3,
        embedding_size=2,
        n_layers=n_layers,
        level="char",
        alpha=alpha,
        max_iter=1,
        random_state=seed,
    ).fit(["abcab", "cbd"])
    V = len(lm.tokens_)
    N, T = 3, 4
    inputs = rng.randint(0, V, size=(N, T))
    targets = rng.randint(0, V, size=(N, T))
    mask = None
    if padded:
        mask = np.ones((N, T), dtype=bool)
        mask[1, 2:] = False
        mask[2, 3:] = False
    state = None
    if with_state:
        state = [
            tuple(rng.normal(size=(N, 3)) for _ in range(2)) for _ in range(n_layers)
        ]
    loss, grads, _ = lm._window_loss_grad(inputs, targets, mask, state)
    params = lm._params
    assert len(grads) == len(params) == 1 + 3 * n_layers + 2

    def f():
        return lm._window_loss_grad(inputs, targets, mask, state)[0]

    for k, (param, grad) in enumerate(zip(params, grads)):
        assert grad.shape == param.shape, k
        num = _numerical_gradient(f, param)
        if k == 0:  # only the rows of the tokens read reach the loss
            read = np.zeros(V, dtype=bool)
            read[inputs[mask] if padded else inputs.ravel()] = True
            assert np.abs(num[read]).max() > 0
            if not alpha:
                assert_array_equal(grad[~read], 0)
        err = relative_error(grad, num)
        assert err < GRAD_TOL, f"param {k} of shape {param.shape}: error {err:.3g}"
    assert f() == loss


# ---------------------------------------------------------------------------
# Truncated BPTT: rows, windows and the carried state
# ---------------------------------------------------------------------------


def test_rows_cut_the_stream_into_contiguous_rows():
    stream = np.arange(23)
    inputs, targets, mask = _stream_rows(stream, batch_size=4, bptt=5)
    assert inputs.shape == (4, 6)  # 22 predictions in 4 rows of 6, 2 padded
    assert_array_equal(inputs[mask], stream[:-1])
    assert_array_equal(targets[mask], stream[1:])
    assert mask.sum() == 22 and not mask[-1, -2:].any()
    # A short stream makes fewer rows, each at least bptt long.
    inputs, _, mask = _stream_rows(stream, batch_size=4, bptt=10)
    assert inputs.shape == (2, 11) and mask is None
    inputs, _, _ = _stream_rows(np.arange(3), batch_size=4, bptt=10)
    assert inputs.shape == (1, 2)


def test_split_tokens_cuts_at_the_fraction():
    pieces = [np.array([0, 5, 6, 7]), np.array([0, 8, 9, 10, 11, 12])]
    train, val = _split_tokens(pieces, 0.3)
    assert [p.tolist() for p in train] == [[0, 5, 6, 7], [0, 8, 9]]
    assert [p.tolist() for p in val] == [[0, 10, 11, 12]]  # starts with END


def test_carried_state_makes_windows_equal_one_long_window(char_model):
    """Two windows with the state carried have the loss and the final state
    of the one window they make up: the state is carried exactly."""
    lm = char_model
    rng = np.random.RandomState(0)
    V = len(lm.tokens_)
    inputs = rng.randint(0, V, size=(2, 12))
    targets = rng.randint(0, V, size=(2, 12))
    loss, _, state = lm._window_loss_grad(inputs, targets, None, None)
    loss_a, _, state_a = lm._window_loss_grad(inputs[:, :5], targets[:, :5], None, None)
    loss_b, _, state_b = lm._window_loss_grad(
        inputs[:, 5:], targets[:, 5:], None, state_a
    )
    assert (5 * loss_a + 7 * loss_b) / 12 == pytest.approx(loss, rel=1e-12)
    for layer, layer_b in zip(state, state_b):
        for s, s_b in zip(layer, layer_b):
            assert_allclose(s_b, s, rtol=1e-12)
    # Without the carried state, the second window is another computation.
    loss_fresh, _, _ = lm._window_loss_grad(inputs[:, 5:], targets[:, 5:], None, None)
    assert loss_fresh != pytest.approx(loss_b, rel=1e-6)


def test_an_epoch_reads_the_stream_in_bptt_windows(monkeypatch):
    """Each window starts from the state the previous one ended with."""
    lm = _model(max_iter=1, batch_size=2, bptt=7, shuffle=False)
    calls = []
    original = LSTMLanguageModel._window_loss_grad

    def spy(self, inputs, targets, mask, state, draws=None):
        out = original(self, inputs, targets, mask, state, draws)
        calls.append((inputs.shape, state, out[2]))
        return out

    monkeypatch.setattr(LSTMLanguageModel, "_window_loss_grad", spy)
    lm.fit(RHYMES)
    n_steps = sum(len(t) + 1 for t in RHYMES)  # each text and its END
    assert sum(shape[1] for shape, _, _ in calls) == -(-n_steps // 2)
    assert all(shape[0] == 2 and shape[1] <= 7 for shape, _, _ in calls)
    assert calls[0][1] is None
    for (_, _, end), (_, start, _) in zip(calls, calls[1:]):
        assert start is end


# ---------------------------------------------------------------------------
# Prediction and scores
# ---------------------------------------------------------------------------


def test_predict_proba_next_sums_to_one_and_predict_next_is_its_argmax(word_model):
    texts = ["humpty dumpty sat on a", "", "twinkle, twinkle"]
    proba = word_model.predict_proba_next(texts)
    assert proba.shape == (3, len(word_model.tokens_))
    assert_allclose(proba.sum(axis=1), 1)
    assert_array_equal(
        word_model.predict_next(texts), word_model.tokens_[proba.argmax(axis=1)]
    )


def test_predictions_do_not_depend_on_the_other_texts(char_model):
    """The logits are the same, bit for bit, whatever texts come along (and
    whatever their length: the long one spans two prediction windows)."""
    texts = ["humpty dumpty", "ba", "twinkle, twinkle, little" * 20]
    together = char_model._next_log_proba(char_model._encode_texts(texts))
    for i, text in enumerate(texts):
        alone = char_model._next_log_proba(char_model._encode_texts([text]))
        assert_array_equal(alone[0], together[i])
    assert_allclose(
        char_model.predict_proba_next(texts[:1])[0],
        char_model.predict_proba_next(texts)[0],
        rtol=1e-13,
    )


def test_score_is_the_mean_log_probability_of_each_next_token(char_model):
    """``score`` against ``predict_proba_next`` on every prefix."""
    lm = char_model
    texts = ["baa, baa", "jack and", "zz"]
    log_p = []
    for text in texts:
        for k in range(len(text) + 1):
            proba = lm.predict_proba_next([text[:k]])[0]
            nxt = text[k] if k < len(text) else END
            log_p.append(np.log(proba[lm.vocabulary_.get(nxt, 1)]))
    assert lm.score(texts) == pytest.approx(np.mean(log_p), rel=1e-10)
    assert lm.perplexity(texts) == pytest.approx(np.exp(-np.mean(log_p)), rel=1e-10)


def test_prediction_windows_carry_the_state(char_model, monkeypatch):
    """Texts are read in windows of 256 steps at prediction, the state carried
    from one to the next: shorter windows give the same scores and logits."""
    lm = char_model
    texts = [" ".join(RHYMES).lower()[:300], "baa, baa"]
    score = lm.score(texts)
    logits = lm._next_log_proba(lm._encode_texts(texts))
    monkeypatch.setattr("sklearn_lstm._language_model._PREDICT_WINDOW", 7)
    assert lm.score(texts) == pytest.approx(score, rel=1e-12)
    assert_allclose(lm._next_log_proba(lm._encode_texts(texts)), logits, rtol=1e-12)


def test_training_lowers_the_perplexity():
    lm = _model(max_iter=1).fit(RHYMES)
    before = lm.perplexity(RHYMES)
    lm.set_params(max_iter=30).fit(RHYMES)
    assert lm.perplexity(RHYMES) < 0.6 * before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype(dtype):
    lm = _model(dtype=dtype, max_iter=2).fit(RHYMES)
    assert all(p.dtype == dtype for p in lm._params)
    assert lm.predict_proba_next(RHYMES[:2]).dtype == dtype
    assert isinstance(lm.score(RHYMES), float)
    assert isinstance(lm.generate("humpty", 5, random_state=0), str)


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def test_generate_is_reproducible(char_model):
    a = char_model.generate("humpty", 40, random_state=3)
    b = char_model.generate("humpty", 40, random_state=3)
    c = char_model.generate("humpty", 40, random_state=4)
    assert a == b
    assert a != c
    assert a.startswith("humpty")
    assert len(a) >= len("humpty") + 40  # more when END is written "\n\n"


def test_generate_is_a_prefix_of_a_longer_generation(char_model):
    """The draws come one per token, in order: fewer tokens, same start."""
    short = char_model.generate("jack", 10, random_state=0)
    long = char_model.generate("jack", 30, random_state=0)
    assert long.startswith(short)


def _greedy(lm, prompt, n_tokens):
    """The argmax path, re-reading the whole text at each step as tokens
    (a generated END among them), never ``<unk>``, as generate never writes
    it."""
    tokens, text = list(prompt), prompt
    for _ in range(n_tokens):
        proba = lm.predict_proba_next([tokens])[0]
        proba[lm.vocabulary_[UNKNOWN]] = -1
        token = lm.tokens_[proba.argmax()]
        tokens.append(token)
        text += "\n\n" if token == END else token
    return text


@pytest.mark.parametrize("prompt", ["humpty", "twinkle, t", ""])
def test_tiny_temperature_is_the_greedy_path(char_model, prompt):
    expected = _greedy(char_model, prompt, 25)
    for seed in range(3):
        got = char_model.generate(prompt, 25, temperature=1e-8, random_state=seed)
        assert got == expected
    assert char_model.generate(prompt, 25, top_k=1, random_state=0) == expected


def test_top_k_draws_only_among_the_likeliest(char_model):
    lm = char_model
    proba = lm.predict_proba_next(["humpty dumpty sat on"])[0]
    proba[lm.vocabulary_[UNKNOWN]] = -1
    top3 = set(lm.tokens_[np.argsort(proba)[-3:]])
    seen = {
        lm.generate(
            "humpty dumpty sat on", 1, top_k=3, temperature=5.0, random_state=s
        )[-1]
        for s in range(40)
    }
    assert seen <= top3 and len(seen) > 1


def test_generate_word_level_and_token_prompts(word_model):
    text = word_model.generate("humpty dumpty", 12, random_state=0)
    assert text.startswith("humpty dumpty ")
    assert "<unk>" not in text
    tokens = word_model.generate(["humpty", "dumpty"], 12, random_state=0)
    assert tokens == text
    assert word_model.generate("humpty", 0) == "humpty"


def test_generate_from_a_loaded_model_is_the_same(word_model, tmp_path):
    path = tmp_path / "lm.joblib"
    joblib.dump(word_model, path)
    loaded = joblib.load(path)
    assert loaded.vocabulary_ == word_model.vocabulary_
    assert_array_equal(loaded.tokens_, word_model.tokens_)
    for temperature in [0.5, 1.0]:
        assert loaded.generate(
            "twinkle", 30, temperature=temperature, random_state=7
        ) == word_model.generate("twinkle", 30, temperature=temperature, random_state=7)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"temperature": 0}, ValueError, "temperature must be a float > 0"),
        ({"temperature": -1.0}, ValueError, "temperature must be a float > 0"),
        ({"temperature": np.nan}, ValueError, "temperature"),
        ({"temperature": np.inf}, ValueError, "temperature must be .* finite"),
        ({"temperature": True}, ValueError, "temperature"),
        ({"n_tokens": -1}, ValueError, "n_tokens must be >= 0"),
        ({"n_tokens": 2**62}, ValueError, "n_tokens must be at most"),
        ({"n_tokens": 10**7 + 1}, ValueError, "n_tokens must be at most"),
        ({"n_tokens": 2.5}, TypeError, "n_tokens must be an int"),
        ({"top_k": 0}, ValueError, "top_k must be None or an int >= 1"),
        ({"top_k": 1.5}, ValueError, "top_k"),
        ({"prompt": "\u2603\u2603"}, ValueError, "unknown to the model"),
        ({"prompt": ["zebra"]}, ValueError, "unknown to the model"),
        ({"prompt": 5}, TypeError, "prompt must be a string or a list"),
        ({"prompt": None}, TypeError, "prompt must be a string or a list"),
    ],
)
def test_bad_generate_arguments_raise_and_leave_the_model_alone(
    char_model, kwargs, error, match
):
    lm = copy.deepcopy(char_model)
    before = pickle.dumps(lm)
    args = {"prompt": "humpty", "n_tokens": 5, **kwargs}
    with pytest.raises(error, match=match):
        lm.generate(**args)
    assert pickle.dumps(lm) == before


@pytest.mark.parametrize("temperature", [5e-324, 1e-300, 1e300])
def test_extreme_temperatures_draw_without_warnings(char_model, temperature):
    """Near 0 the model writes its likeliest token (the shifted logits
    overflow to -inf, their limit); a huge temperature draws about evenly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # seeded: a drawn END is written as a blank line (two characters)
        text = char_model.generate("humpty", 5, temperature=temperature, random_state=0)
    assert text.startswith("humpty")
    assert len(text) - len("humpty") in range(5, 11)


@pytest.mark.parametrize(
    "texts", [["ab\x00c", "a\x00", "\x00", "a"], [["a\x00", "a"], ["\x00"]]]
)
def test_nul_characters_are_tokens_of_their_own(texts):
    """A fixed-width NumPy string array drops trailing NULs ('a\\x00' == 'a'):
    the vocabulary keeps Python strings."""
    lm = LSTMLanguageModel(
        hidden_size=4,
        level="char",
        max_iter=1,
        min_count=1,
        early_stopping=False,
        random_state=0,
    )
    lm.fit(texts)
    tokens = lm.tokens_.tolist()
    assert "\x00" in tokens and "" not in tokens
    assert len(set(tokens)) == len(tokens) == len(lm.vocabulary_)
    assert all(lm.tokens_[i] == t for t, i in lm.vocabulary_.items())
    if isinstance(texts[0], list):
        assert "a\x00" in tokens and "a" in tokens
    assert all(isinstance(t, str) for t in lm.predict_next(texts))


def test_perplexity_beyond_the_largest_float_raises(char_model):
    """A model sure of the wrong token: its perplexity, exp(-score), would
    overflow ("overflow encountered in exp", then inf)."""
    lm = copy.deepcopy(char_model)
    lm.ngram_weight_ = 0.0  # the network alone: the n-gram gives every token > 0
    lm.output_bias_ = np.zeros_like(lm.output_bias_)
    lm.output_bias_[0] = 1e4  # every token but END has probability ~e-10000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = lm.score(RHYMES)
        assert np.isfinite(score) and score < -709
        with pytest.raises(ValueError, match=r"perplexity of X, exp\(.*\), overflows"):
            lm.perplexity(RHYMES)
        assert np.isfinite(char_model.perplexity(RHYMES))


def test_prompt_with_some_unknown_tokens_is_fine(char_model):
    assert char_model.generate("\u2603 humpty", 3, random_state=0).startswith("\u2603")


# ---------------------------------------------------------------------------
# Training: continued, incremental, early stopping
# ---------------------------------------------------------------------------


def test_partial_fit_keeps_the_first_vocabulary():
    lm = _model().partial_fit(RHYMES[:2])
    tokens = lm.tokens_.copy()
    lm.partial_fit(RHYMES[2:])
    assert_array_equal(lm.tokens_, tokens)
    assert lm.n_iter_ == 2 and lm.t_ == 2 + 4


def test_warm_start_continues_from_the_weights():
    lm = _model(max_iter=3).fit(RHYMES)
    curve = list(lm.loss_curve_)
    lm.set_params(warm_start=True).fit(RHYMES)
    assert lm.n_iter_ == 6
    assert lm.loss_curve_[:3] == curve
    assert lm.loss_curve_[3] < curve[0]


def test_warm_start_refuses_another_embedding_size():
    lm = _model(max_iter=1).fit(RHYMES)
    lm.set_params(warm_start=True, embedding_size=3)
    with pytest.raises(ValueError, match="embedding_size=6.*embedding_size=3"):
        lm.fit(RHYMES)


def test_early_stopping_keeps_the_best_weights():
    lm = _model(early_stopping=True, max_iter=12, n_iter_no_change=2).fit(RHYMES)
    assert len(lm.validation_scores_) == lm.n_iter_
    assert lm.best_validation_score_ == max(lm.validation_scores_)
    assert lm.best_loss_ is None


def test_partial_fit_is_not_available_with_early_stopping():
    lm = _model(early_stopping=True)
    assert not hasattr(lm, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        lm.partial_fit(RHYMES)


def test_verbose_prints_each_epoch(capsys):
    _model(max_iter=2, verbose=1).fit(RHYMES)
    out = capsys.readouterr().out
    assert out.count("Iteration") == 2 and "loss = " in out


def test_dropout_trains_and_predicts_without_dropout():
    lm = _model(dropout=0.3, weight_drop=0.2, max_iter=2).fit(RHYMES)
    a = lm.predict_proba_next(RHYMES[:2])
    assert_array_equal(a, lm.predict_proba_next(RHYMES[:2]))


def test_the_same_random_state_gives_the_same_model_and_text():
    a = _model(max_iter=3, dropout=0.2).fit(RHYMES)
    b = _model(max_iter=3, dropout=0.2).fit(RHYMES)
    for p, q in zip(a._params, b._params):
        assert_array_equal(p, q)
    assert a.generate("", 50, random_state=0) == b.generate("", 50, random_state=0)


# ---------------------------------------------------------------------------
# scikit-learn API
# ---------------------------------------------------------------------------


def test_tags_describe_text_input():
    tags = get_tags(LSTMLanguageModel())
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array
    assert not tags.input_tags.three_d_array
    assert not tags.target_tags.required


# scikit-learn's own checks skip every estimator whose input is not a 2-D
# array (``_yield_all_checks``), so ``check_estimator`` runs none on this one.
# These are the API checks that need no numeric data; the rest (fit returns
# self, no parameter overwritten, clone, pickling...) are tested on texts here
# and in the shared tests.
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
]


@pytest.mark.parametrize("check", API_CHECKS)
def test_scikit_learn_api_checks(check):
    getattr(estimator_checks, check)("LSTMLanguageModel", _model())


def test_fit_returns_self_and_leaves_the_parameters_alone():
    lm = _model(max_iter=1)
    params = copy.deepcopy(lm.get_params())
    assert lm.fit(RHYMES) is lm
    assert lm.get_params() == params
    assert lm.partial_fit(RHYMES) is lm


def test_clone_is_unfitted():
    lm = _model(max_iter=1).fit(RHYMES)
    assert not hasattr(clone(lm), "tokens_")


def test_grid_search_over_hidden_size_and_learning_rate():
    search = GridSearchCV(
        _model(max_iter=4),
        {"hidden_size": [4, 12], "learning_rate": [0.001, 0.03]},
        cv=2,
    ).fit(RHYMES)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and (scores < 0).all()
    # Higher is better: 4 epochs at learning_rate=0.001 learn next to nothing.
    assert search.best_params_["learning_rate"] == 0.03


def test_fit_warns_when_max_iter_is_reached():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _model(max_iter=1).fit(RHYMES)
    assert any(issubclass(w.category, ConvergenceWarning) for w in record)


# -- the n-gram model in the mixture ---------------------------------------------


def test_mixture_weight_maximizes_the_likelihood():
    rng = np.random.default_rng(0)
    p_network, p_ngram = rng.uniform(0.01, 1, 500), rng.uniform(0.01, 1, 500)
    weight = mixture_weight(p_network, p_ngram)
    grid = np.linspace(0, 1, 2001)
    likelihood = [np.log((1 - w) * p_network + w * p_ngram).sum() for w in grid]
    assert weight == pytest.approx(grid[np.argmax(likelihood)], abs=1e-3)
    assert mixture_weight(p_network, 2 * p_network) > 0.99  # the n-gram is better
    assert mixture_weight(2 * p_ngram, p_ngram) < 0.01


def test_ngram_weight_auto_is_fitted_on_the_held_out_tokens():
    lm = _model(early_stopping=True, max_iter=3, n_iter_no_change=5).fit(RHYMES)
    pieces = lm._encode_texts(RHYMES)
    train, val = _split_tokens(pieces, lm.validation_fraction)
    held_out = KneserNey(5, len(lm.tokens_)).fit(train)
    expected = mixture_weight(
        np.exp(lm._network_log_proba(val)), held_out.event_proba(val)
    )
    assert lm.ngram_weight_ == expected and 0 < expected < 1
    # the n-gram model of the predictions counts every training text
    whole = KneserNey(5, len(lm.tokens_)).fit(pieces)
    assert_allclose(lm._ngram.event_proba(pieces), whole.event_proba(pieces))


def test_predictions_mix_the_network_and_the_ngram_model(char_model):
    lm = char_model
    assert lm.ngram_weight_ == 0.5  # no early stopping: half and half
    seqs = lm._encode_texts(RHYMES)
    network = np.exp(lm._network_log_proba(seqs))
    ngram = lm._ngram.event_proba(seqs)
    assert_allclose(lm.score(RHYMES), np.mean(np.log((network + ngram) / 2)))
    proba = lm.predict_proba_next(RHYMES)
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    alone = copy.deepcopy(lm)
    alone.ngram_weight_ = 0.0
    expected = (
        alone.predict_proba_next(RHYMES)
        + np.array([lm._ngram.next_proba(s) for s in seqs])
    ) / 2
    assert_allclose(proba, expected, rtol=1e-12)


def test_ngram_order_none_is_the_network_alone(char_model):
    lm = _model(ngram_order=None).fit(RHYMES)
    assert lm._ngram is None and lm.ngram_weight_ == 0.0
    seqs = lm._encode_texts(RHYMES)
    assert_allclose(lm.score(RHYMES), np.mean(lm._network_log_proba(seqs)))
    # the same network as with the n-gram: it is fitted after the weights
    assert_allclose(lm.output_weights_, char_model.output_weights_, rtol=0)


def test_fixed_ngram_weight_is_kept():
    lm = _model(ngram_weight=0.2, max_iter=1).fit(RHYMES)
    assert lm.ngram_weight_ == 0.2


def test_partial_fit_adds_ngram_counts_and_keeps_the_order():
    lm = _model().partial_fit(RHYMES[:3]).partial_fit(RHYMES[3:])
    both = KneserNey(5, len(lm.tokens_)).fit(lm._encode_texts(RHYMES))
    seqs = lm._encode_texts(RHYMES)
    assert_allclose(lm._ngram.event_proba(seqs), both.event_proba(seqs), rtol=1e-12)
    with pytest.raises(ValueError, match="ngram_order=3"):
        lm.set_params(ngram_order=3).partial_fit(RHYMES)


@pytest.mark.parametrize("level", ["char", "word"])
def test_default_fit_converges(level):
    """The defaults stop early, without a ConvergenceWarning."""
    lm = LSTMLanguageModel(level=level, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        lm.fit(RHYMES)
    assert lm.n_iter_ < lm.max_iter and 0 <= lm.ngram_weight_ <= 1
