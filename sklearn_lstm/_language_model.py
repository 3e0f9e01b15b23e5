"""LSTM language model: next-token prediction and text generation."""

import contextlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._activations import log_softmax
from ._base import (
    SEQUENCE_MODEL_CONSTRAINTS,
    BaseRecurrentNetwork,
    resolve_weight_drop,
)
from ._cells import CELLS
from ._network import add_l2_penalty, output_layer
from ._ngrams import KneserNey
from ._parallel import ROW_BLOCK, blas_threads, padded_rows
from ._text import (
    END,
    UNKNOWN,
    build_vocabulary,
    check_texts,
    detokenize,
    encode,
    tokenize,
)
from ._training import _check_partial_fit
from ._validation import Integers, check_network_size

# At prediction, texts are read in windows of this many steps (the state
# carried from one to the next), in chunks of texts whose logits hold about
# _PREDICT_CACHE_SIZE numbers.
_PREDICT_WINDOW = 256
_PREDICT_CACHE_SIZE = 2**22

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# generate writes at most this many tokens in one call: each is one step of
# the network, and their indices are allocated up front.
_MAX_GENERATED_TOKENS = 10**7


def sparse_log_loss(logits, targets, weights):
    """Softmax cross-entropy with integer targets.

    The same as ``_losses.log_loss`` with one-hot ``targets``, without
    forming the one-hot array: ``logits`` of shape (N, T, V), ``targets`` and
    ``weights`` of shape (N, T). Returns ``(loss_sum, dlogits)``.
    """
    log_proba = log_softmax(logits)
    picked = np.take_along_axis(log_proba, targets[..., None], axis=-1)[..., 0]
    loss = -np.sum(weights * picked)
    dlogits = np.exp(log_proba)
    n, t = np.indices(targets.shape, sparse=True)
    dlogits[n, t, targets] -= 1  # d(loss) / d(logits) = softmax(logits) - onehot
    dlogits *= weights[..., None]
    return float(loss), dlogits


class LSTMLanguageModel(BaseRecurrentNetwork):
    """Language model: an LSTM reads a text token by token and predicts the next.

    Texts are cut into tokens (characters or words), each token is looked up
    in an embedding table, a stack of ``n_layers`` LSTM layers reads the
    embeddings, and a softmax layer on the top layer's hidden state gives the
    probability of every token of the vocabulary at the next step. The model
    is trained with teacher forcing by truncated backpropagation through time
    (``bptt`` steps), carrying the recurrent state from one window of a text
    to the next, and it writes new text one token at a time.

    Parameters
    ----------
    hidden_size : int, default=128
        Number of hidden units of each LSTM layer.

    level : {'word', 'char'}, default='word'
        What a token is: a word or punctuation mark (``'word'``) or a
        character (``'char'``). Also sets how generated tokens are joined.

    tokenizer : callable or None, default=None
        Function that cuts a (lowercased, if ``lowercase``) text into a list
        of tokens, as in :class:`~sklearn.feature_extraction.text.CountVectorizer`.
        None uses the default of ``level``: every character, or the regular
        expression ``\\w+(?:['’-]\\w+)*|[^\\w\\s]|\\n`` (words with inner
        apostrophes and hyphens, single punctuation marks, line breaks).
        Texts given as token sequences are never tokenized.

    lowercase : bool, default=True
        Whether to lowercase texts before tokenizing them.

    min_count : int, default=2
        Tokens seen fewer times in the training texts are read as the unknown
        token ``'<unk>'``. The default reads the tokens seen once as
        ``'<unk>'``, so that the model learns how likely a token it has never
        seen is.

    max_vocab : int or None, default=None
        Keep at most this many tokens, the most frequent first (ties in
        alphabetical order), besides the two special tokens.

    embedding_size : int, default=64
        Length of each token's embedding vector.

    n_layers : int, default=1
        Number of stacked LSTM layers.

    cell : {'lstm', 'gru'}, default='lstm'
        The recurrent cell: an LSTM, or a GRU (``torch.nn.GRU``'s equations),
        which has three gates instead of four.

    dropout : float, default=0.25
        Fraction of each layer's outputs zeroed in training (one mask per
        row of the batch, the same at every step, as Gal & Ghahramani's
        variational dropout): the default keeps the network from learning
        the training text by heart.

    weight_drop : float, default=0.0
        Fraction of the recurrent weights (``W_h``) zeroed in training, one
        mask per window: the DropConnect "weight drop" of Merity et al.
        (2018), which regularizes the recurrence without touching the states.

    ngram_order : int or None, default=5
        Order of the interpolated Kneser-Ney n-gram model fitted on the same
        tokens, whose probabilities are mixed with the network's (see
        ``ngram_weight``): each token is predicted from the ``ngram_order -
        1`` before it. The two models are good at different things (the
        n-gram recalls phrases seen in training, the network generalizes
        across contexts), so the mixture predicts better than either, as
        Mikolov et al. (2011) found. None uses the network alone.

    ngram_weight : 'auto' or float in [0, 1], default='auto'
        Share of the n-gram model in the mixture ``(1 - w) p_network + w
        p_ngram``. 'auto' fits it on the tokens held out for early stopping
        (maximum likelihood, by expectation-maximization, with an n-gram
        model of the other tokens), or takes 0.5 without early stopping.

    recurrent_dropout : float
        Deprecated alias of ``weight_drop``.

        .. deprecated:: 0.2
            ``recurrent_dropout`` was renamed ``weight_drop`` (it drops
            weights, not recurrent states) and will be removed in 0.4.

    bptt : int, default=32
        Length of the windows of truncated backpropagation through time: the
        gradient flows back at most this many steps, while the state carries
        on from one window to the next.

    solver : {'rmsprop', 'adam', 'sgd'}, default='rmsprop'
        The optimizer. RMSprop is the solver of the tutorial this model comes
        from; the benchmark notes compare the three on held-out perplexity.

    learning_rate : float, default=0.005
        Step size of the optimizer.

    learning_rate_schedule : {'constant', 'adaptive', 'anneal'}, default='constant'
        What happens once the loss (or the validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` epochs. 'constant' stops.
        'anneal' lowers the learning rate linearly to zero over
        ``n_iter_no_change`` more epochs, then stops: the decay of a
        warmup-stable-decay schedule. 'adaptive' divides the learning rate by
        5 and goes on, until it is below 1/100 of ``learning_rate`` (MLP's
        ``learning_rate='adaptive'``).

    alpha : float, default=0.0
        Strength of the L2 penalty on the weight matrices and the embeddings
        (not the biases), divided by the number of tokens of each window.

    batch_size : int, default=32
        Number of rows the training text is cut into and read in parallel.
        Each row holds at least ``bptt`` tokens, so short texts are cut into
        fewer rows.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training texts); early
        stopping ends training long before, as a rule.

    clip_norm : float or None, default=5.0
        Gradients of each window are rescaled so that their global L2 norm is
        at most ``clip_norm``; None disables clipping.

    tol : float, default=1e-4
        Improvement of the loss (or of the validation score) below which an
        epoch counts as no improvement. The training loss is averaged over
        the last epochs of at least 20 minibatch updates in all (the last
        epoch alone when it has 20 minibatches), so that one lucky epoch of
        a small data set does not set the bar.

    n_iter_no_change : int, default=3
        Number of epochs without improvement before training stops.

    early_stopping : bool, default=True
        Whether to hold out the last ``validation_fraction`` of the training
        tokens and stop when their mean log-likelihood stops improving. The
        weights of the best epoch are kept, and the held-out tokens set
        ``ngram_weight='auto'``. ``partial_fit`` needs early_stopping=False.

    validation_fraction : float, default=0.1
        Fraction of the training tokens held out for early stopping.
        Only used when early_stopping=True.

    shuffle : bool, default=True
        Whether to shuffle the order of the texts before each epoch (each
        text keeps its own order).

    momentum : float, default=0.9
        Momentum of the updates. Only used when solver='sgd'.

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum. Only used when solver='sgd'.

    beta_1 : float, default=0.9
        Decay rate of the first moment estimates. Only used when solver='adam'.

    beta_2 : float, default=0.999
        Decay rate of the second moment estimates. Only used when
        solver='adam'.

    epsilon : float, default=1e-8
        Numerical stability constant. Only used when solver='adam' or
        solver='rmsprop'.

    rho : float, default=0.9
        Decay rate of the running average of squared gradients. Only used when
        solver='rmsprop'.

    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Floating-point type of the weights and of the computations.

    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialization, the shuffling and the dropout.
        Pass an int for reproducible results: the same seed gives
        bit-identical models.

    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current weights and vocabulary
        instead of starting afresh.

    verbose : int, default=0
        Whether to print one line per epoch (loss, validation score, seconds).

    Attributes
    ----------
    tokens_ : ndarray of object of shape (n_tokens,)
        The vocabulary, in the order of the embedding rows and of the columns
        of :meth:`predict_proba_next`: ``'</s>'`` (end of text), ``'<unk>'``
        (unknown), then the tokens of the training texts, most frequent first.

    vocabulary_ : dict
        Index of each token of ``tokens_``.

    embeddings_ : ndarray of shape (n_tokens, embedding_size)
        One row per token: what the first LSTM layer reads.

    n_iter_ : int
        Number of epochs run.

    t_ : int
        Number of training texts seen: their number, times the epochs.

    loss_ : float
        Loss of the last epoch: mean cross-entropy per token (natural log),
        plus the L2 penalty.

    loss_curve_ : list of float
        Loss of each epoch.

    best_loss_ : float or None
        Lowest loss of an epoch of the last ``fit``; None when
        early_stopping=True.

    validation_scores_ : list of float or None
        Mean log-likelihood per held-out token after each epoch, when
        early_stopping=True.

    best_validation_score_ : float or None
        Best validation score of the last ``fit``, whose weights it keeps,
        when early_stopping=True (of the network alone).

    ngram_weight_ : float
        Share of the n-gram model in the predictions (0 when
        ``ngram_order=None``).

    input_weights_ : list of ndarray
        Input-to-gates weights of each layer, shape
        ``(embedding_size, 4 * hidden_size)`` for the first layer and
        ``(hidden_size, 4 * hidden_size)`` above, gates in the order
        (i, f, g, o).

    recurrent_weights_ : list of ndarray
        Hidden-to-gates weights of each layer, shape
        ``(hidden_size, 4 * hidden_size)``.

    biases_ : list of ndarray
        Gate biases of each layer, shape ``(4 * hidden_size,)``.

    output_weights_ : ndarray of shape (hidden_size, n_tokens)
        Weights of the softmax layer.

    output_bias_ : ndarray of shape (n_tokens,)
        Bias of the softmax layer.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Bag-of-words features,
        with the same ``tokenizer`` and ``lowercase`` parameters.
    LSTMSequenceClassifier : LSTM that classifies whole sequences.

    Notes
    -----
    Each text is read as ``</s> t1 t2 ... tn`` and trained to predict
    ``t1 t2 ... tn </s>``: the model learns how texts begin (after ``</s>``)
    and end. For training, the texts are concatenated into one stream (each
    starting with ``</s>``), which is cut into ``batch_size`` rows read in
    parallel, in windows of ``bptt`` steps. At every step ``t``, with ``E``
    the embeddings::

        x[t] = E[token[t]]
        i, f, g, o = split(x[t] @ Wx + h[t-1] @ Wh + b, 4)
        c[t] = sigmoid(f) * c[t-1] + sigmoid(i) * tanh(g)
        h[t] = sigmoid(o) * tanh(c[t])
        p(token[t+1] | token[:t+1]) = softmax(h[t] @ W_out + b_out)

    The state ``(h, c)`` at the end of a window starts the next window of its
    row, but the gradient stops there (truncated backpropagation through
    time). :meth:`predict_proba_next`, :meth:`score` and :meth:`generate`
    read each text from a zero state, starting with ``</s>``, and predict
    with the mixture ``(1 - w) p + w p_ngram`` of this ``p`` and the n-gram
    model's (``ngram_order``, ``w = ngram_weight_``).

    :meth:`generate` never writes ``'<unk>'``; a generated ``'</s>'`` ends a
    text and is written as a blank line, after which the model goes on with a
    new text.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation, 9(8), 1735-1780.

    Karpathy, A. (2015). The unreasonable effectiveness of recurrent neural
    networks. Blog post and ``min-char-rnn.py``.

    :arxiv:`Merity, Keskar & Socher (2017) <1708.02182>`. Regularizing and
    optimizing LSTM language models.

    Examples
    --------
    >>> from sklearn_lstm import LSTMLanguageModel
    >>> texts = ["the cat sat on the mat", "the dog sat on the log"] * 10
    >>> lm = LSTMLanguageModel(hidden_size=16, learning_rate=0.02, max_iter=100,
    ...                        random_state=0).fit(texts)
    >>> lm.predict_next(["the cat sat on the"])
    array(['mat'], dtype=object)
    >>> lm.generate("the dog", n_tokens=4, temperature=0.01)
    'the dog sat on the log'
    >>> lm.perplexity(texts)
    1.10...
    """

    _parameter_constraints: dict = {
        **BaseRecurrentNetwork._parameter_constraints,
        "cell": SEQUENCE_MODEL_CONSTRAINTS["cell"],
        "dropout": SEQUENCE_MODEL_CONSTRAINTS["dropout"],
        "weight_drop": SEQUENCE_MODEL_CONSTRAINTS["weight_drop"],
        "recurrent_dropout": SEQUENCE_MODEL_CONSTRAINTS["recurrent_dropout"],
        "ngram_order": [Integers(1, None, closed="left"), None],
        "ngram_weight": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "level": [StrOptions({"word", "char"})],
        "tokenizer": [callable, None],
        "lowercase": ["boolean"],
        # Integers refuses booleans, as every integer parameter does
        "min_count": [Integers(1, None, closed="left")],
        "max_vocab": [Integers(1, None, closed="left"), None],
        "embedding_size": [Integers(1, None, closed="left")],
        "bptt": [Integers(1, None, closed="left")],
        "batch_size": [Integers(1, None, closed="left")],
        "dtype": "no_validation",  # checked in fit: float32 or float64
    }

    _head = "softmax"
    _batch_noun = "window"

    def __init__(
        self,
        hidden_size=128,
        *,
        level="word",
        tokenizer=None,
        lowercase=True,
        min_count=2,
        max_vocab=None,
        embedding_size=64,
        n_layers=1,
        cell="lstm",
        dropout=0.25,
        weight_drop=0.0,
        recurrent_dropout="deprecated",
        ngram_order=5,
        ngram_weight="auto",
        bptt=32,
        solver="rmsprop",
        learning_rate=5e-3,
        learning_rate_schedule="constant",
        alpha=0.0,
        batch_size=32,
        max_iter=100,
        clip_norm=5.0,
        tol=1e-4,
        n_iter_no_change=3,
        early_stopping=True,
        validation_fraction=0.1,
        shuffle=True,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
        dtype=np.float64,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        super().__init__(
            hidden_size,
            n_layers=n_layers,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            clip_norm=clip_norm,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            rho=rho,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
        )
        self.cell = cell
        self.level = level
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.embedding_size = embedding_size
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.recurrent_dropout = recurrent_dropout
        self.ngram_order = ngram_order
        self.ngram_weight = ngram_weight
        self.bptt = bptt
        self.dtype = dtype

    # -- fitting ----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to the texts ``X``.

        Parameters
        ----------
        X : list of str, or list of list of str
            Training texts, or texts already cut into tokens.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted model.
        """
        return self._fit(X, y, incremental=False)

    @available_if(_check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the model with one epoch over the texts ``X``.

        The first call builds the vocabulary from ``X``; later calls read
        tokens outside it as ``'<unk>'``.

        Parameters
        ----------
        X : list of str, or list of list of str
            Training texts, or texts already cut into tokens.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated model.
        """
        return self._fit(X, y, incremental=True)

    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        """The token indices of each training text, each starting with END;
        builds the vocabulary when ``reset``."""
        dtype = np.dtype(self.dtype) if self.dtype is not None else None
        if dtype not in _DTYPES:
            raise ValueError(
                f"dtype must be numpy.float32 or numpy.float64, got {self.dtype!r}."
            )
        texts = check_texts(X)
        token_lists = tokenize(texts, self.level, self.tokenizer, self.lowercase)
        if not any(token_lists):
            raise ValueError(
                f"X holds no tokens: all {len(texts)} texts are empty at "
                f"level={self.level!r}."
            )
        if reset:
            self.tokens_ = build_vocabulary(token_lists, self.min_count, self.max_vocab)
            self.vocabulary_ = {t: i for i, t in enumerate(self.tokens_.tolist())}
        self._check_size()
        end = self.vocabulary_[END]
        return [
            np.concatenate([[end], encode(tokens, self.vocabulary_)])
            for tokens in token_lists
            if tokens
        ]

    def _check_size(self):
        """Raise when the embedding table and the network that the parameters
        ask for are too large to allocate, naming ``embedding_size`` too: the
        table has ``len(tokens_) * embedding_size`` weights."""
        check_network_size(
            self.hidden_size,
            self.n_layers,
            self.embedding_size,
            len(self.tokens_),
            weight_shapes=CELLS[self.cell].weight_shapes,
            n_embeddings=len(self.tokens_),
        )

    def _prepare_fit_data(self, X, y, sample_weight, incremental, classes, first_pass):
        """Validate the texts, build the vocabulary and draw the weights on a
        ``first_pass`` (else check that the network is the one the parameters
        ask for); the training data is ``(pieces,)``, the texts' token indices."""
        pieces = self._validate_fit_data(
            X, y, None, reset=first_pass, incremental=incremental, classes=None
        )
        wanted = self._make_network(self.embedding_size, len(self.tokens_), self.bptt)
        if first_pass:
            self._random_state = check_random_state(self.random_state)
            self._initialize(wanted, np.dtype(self.dtype))
            self._ngram = None
        else:
            self._continue_with(wanted)
            order = None if self._ngram is None else self._ngram.order
            if incremental and order != self.ngram_order:
                raise ValueError(
                    f"Cannot continue training with ngram_order={self.ngram_order}: "
                    f"the model was fitted with ngram_order={order}. Call fit "
                    "instead."
                )
        return (pieces,)

    def _finish_fit(self, data, incremental):
        """Fit the n-gram model on the training texts (``partial_fit`` adds
        their counts) and its share in the mixture (see ``ngram_weight``)."""
        (pieces,) = data
        if self.ngram_order is None:
            self._ngram, self.ngram_weight_ = None, 0.0
            return
        if incremental and self._ngram is not None:
            self._ngram.partial_fit(pieces)
            return
        if self.ngram_weight != "auto":
            weight = float(self.ngram_weight)
        elif self.early_stopping and not incremental:
            train, val = _split_tokens(pieces, self.validation_fraction)
            held_out = KneserNey(self.ngram_order, len(self.tokens_)).fit(train)
            weight = mixture_weight(
                np.exp(self._network_log_proba(val)), held_out.event_proba(val)
            )
        else:
            weight = 0.5
        self._ngram = KneserNey(self.ngram_order, len(self.tokens_)).fit(pieces)
        self.ngram_weight_ = weight

    def _describe(self, network):
        return f"embedding_size={network.n_inputs}, " + network.describe()

    def _network_options(self, n_timesteps):
        return {
            "cell": self.cell,
            "readout": None,
            "dropout": self.dropout,
            "weight_drop": resolve_weight_drop(
                self.weight_drop, self.recurrent_dropout
            ),
        }

    def _initialize(self, network, dtype):
        """Draw the embeddings (standard normal, as ``torch.nn.Embedding``)
        and the network's weights; reset the training counters."""
        shape = (network.n_outputs, network.n_inputs)
        self.embeddings_ = self._random_state.standard_normal(shape).astype(dtype)
        super()._initialize(network, dtype)

    @property
    def _params(self):
        """All weights in one ordered list: the embeddings, then the network's
        weights in the order of :meth:`Network.spec`."""
        return [self.embeddings_] + self._network_weights()

    def _set_params_list(self, params):
        """Inverse of :attr:`_params`."""
        self.embeddings_ = params[0]
        self._set_network_weights(params[1:])

    def _weights_snapshot(self):
        snapshot = super()._weights_snapshot()
        snapshot["embeddings_"] = self.embeddings_.copy()
        return snapshot

    def _window_loss_grad(self, inputs, targets, mask, state, draws=None):
        """Mean cross-entropy per token of one window and its gradients.

        Parameters
        ----------
        inputs, targets : ndarray of int of shape (N, T)
            Token indices read, and those to predict.
        mask : ndarray of bool of shape (N, T) or None
            True at real steps.
        state : list of tuple or None
            Each layer's state at the start of the window; zeros if None.
        draws : Draws or None
            The window's dropout masks, in training.

        Returns
        -------
        loss : float
            Mean cross-entropy per real step, plus ``alpha / 2`` times the
            squared weight matrices and embeddings divided by the steps.
        grads : list of ndarray
            In the order of :attr:`_params`, embeddings first.
        state : list of tuple
            Each layer's state at the end of the window (copies: the gradient
            does not flow back through them).
        """
        embeddings, *params = self._params
        net = self._network
        logits, cache = net.forward(
            params, embeddings[inputs], mask, state=state, draws=draws
        )
        weights = (
            np.ones(targets.shape, dtype=logits.dtype)
            if mask is None
            else mask.astype(logits.dtype)
        )
        n_steps = float(weights.sum())
        loss, dlogits = sparse_log_loss(logits, targets, weights)
        loss /= n_steps
        dlogits /= n_steps
        grads, dX = net.backward(dlogits, cache, params)
        dembeddings = np.zeros_like(embeddings)
        np.add.at(dembeddings, inputs.ravel(), dX.reshape(-1, dX.shape[-1]))
        grads = [dembeddings] + grads
        # the embeddings are penalized too
        penalized = [0] + [1 + k for k in net.penalized()]
        loss += add_l2_penalty(self._params, grads, penalized, self.alpha, n_steps)
        state = [tuple(s.copy() for s in layer) for layer in cache["last"]]
        return loss, grads, state

    @contextlib.contextmanager
    def _epoch_data(self, data, early_stopping):
        """Set the texts up for the epochs: yields ``((pieces,), val, n_texts,
        n_rows, None)``, the last ``validation_fraction`` of the tokens held
        out as ``val`` with ``early_stopping``; ``n_texts`` counts every text,
        ``n_rows`` is the number of rows the stream is read in."""
        (pieces,) = data
        val = None
        if early_stopping:
            pieces, val_pieces = _split_tokens(pieces, self.validation_fraction)
            val = (val_pieces,)
        n_tokens = sum(len(p) for p in pieces)
        n_rows = _n_rows(n_tokens, self.batch_size, self.bptt)
        yield (pieces,), val, len(data[0]), n_rows, None

    def _minibatches(self, train, batch_size):
        """The windows of one epoch: the texts (shuffled) in one stream, cut
        into rows read in windows of ``bptt`` steps, the state carried from
        one window to the next (in the window's :class:`_Carry`); each
        window's weight is its number of real steps."""
        (pieces,) = train
        if self.shuffle and len(pieces) > 1:
            order = self._random_state.permutation(len(pieces))
            pieces = [pieces[i] for i in order]
        stream = np.concatenate(pieces + [pieces[0][:1]])  # ends with END
        inputs, targets, mask = _stream_rows(stream, self.batch_size, self.bptt)
        carry = _Carry()
        for window in gen_batches(inputs.shape[1], self.bptt):
            mask_w = None if mask is None else mask[:, window]
            n_steps = inputs[:, window].size if mask_w is None else mask_w.sum()
            mask_w = None if mask_w is None or mask_w.all() else mask_w
            batch = (inputs[:, window], targets[:, window], mask_w, carry)
            yield batch, float(n_steps)

    def _batch_loss_grad(self, batch, shards):
        """The window's loss and gradients; the state it ends in goes to the
        next window."""
        inputs, targets, mask, carry = batch
        shape = inputs.shape + (self.embeddings_.shape[1],)
        draws = self._network.draw(shape, self.embeddings_.dtype, self._random_state)
        loss, grads, carry.state = self._window_loss_grad(
            inputs, targets, mask, carry.state, draws
        )
        return loss, grads

    def _validation_score(self, val):
        """Mean log-likelihood per token of the held-out texts."""
        (pieces,) = val
        return float(np.mean(self._network_log_proba(pieces)))

    # -- prediction ---------------------------------------------------------------

    def _encode_texts(self, X):
        """Each text of ``X`` as token indices starting with END."""
        check_is_fitted(self)
        texts = check_texts(X)
        end = self.vocabulary_[END]
        return [
            np.concatenate([[end], encode(tokens, self.vocabulary_)])
            for tokens in tokenize(texts, self.level, self.tokenizer, self.lowercase)
        ]

    def _read(self, seqs, pad_rows=True):
        """Run the network over sequences of token indices, from a zero state.

        Yields, per chunk of sequences and window of steps, ``(batch, window,
        ids, mask, z, state)``: the chunk's slice of ``seqs``, the window's
        slice of steps, the chunk's padded token indices and mask (N, T), the
        top layer's states in the window (N, W, H) and each layer's state
        after it. Windows carry the state, so the results do not depend on
        the window length; chunks are padded with copies of their first
        sequence to a multiple of ``ROW_BLOCK`` rows, so that they do not
        depend on the other texts of the chunk either (see
        ``BaseRecurrentNetwork._map_features``), unless ``pad_rows`` is False.
        """
        net, params = self._network, self._network_weights()
        embeddings = self.embeddings_
        chunk = _PREDICT_CACHE_SIZE // (_PREDICT_WINDOW * len(self.tokens_))
        chunk = max(1, chunk // ROW_BLOCK) * ROW_BLOCK
        with blas_threads(min(chunk, len(seqs)), self.recurrent_weights_):
            for batch in gen_batches(len(seqs), chunk):
                idx = np.arange(len(seqs))[batch]
                if pad_rows:
                    idx = idx[padded_rows(len(idx))]
                lengths = np.array([len(seqs[i]) for i in idx])
                T = lengths.max()
                ids = np.zeros((len(idx), T), dtype=np.intp)
                for row, i in enumerate(idx):
                    ids[row, : lengths[row]] = seqs[i]
                mask = np.arange(T) < lengths[:, None]
                state = None
                for window in gen_batches(T, _PREDICT_WINDOW):
                    mask_w = mask[:, window]
                    z, cache = net.features(
                        params,
                        embeddings[ids[:, window]],
                        None if mask_w.all() else mask_w,
                        state=state,
                    )
                    state = cache["last"]
                    yield batch, window, ids, mask, z, state

    def _next_log_proba(self, seqs):
        """Log-probability of each token coming next after each sequence,
        shape (n, n_tokens): the network's, mixed with the n-gram model's."""
        log_proba = np.empty(
            (len(seqs), len(self.tokens_)), dtype=self.embeddings_.dtype
        )
        for batch, window, ids, _, _, state in self._read(seqs):
            if window.stop < ids.shape[1]:
                continue
            h = state[-1][0]  # top layer's hidden state after each last real step
            n = batch.stop - batch.start
            logits = output_layer(h[:n], self.output_weights_, self.output_bias_)
            log_proba[batch] = log_softmax(logits)
        if self._ngram is not None:
            end = self.vocabulary_[END]
            ngram = np.array([self._ngram.next_proba(seq, end) for seq in seqs])
            log_proba[:] = _mix(log_proba, ngram, self.ngram_weight_)
        return log_proba

    def _network_log_proba(self, seqs):
        """The network's log-probability of each token after each sequence's
        first (its END) and of the END that closes it, sequence by sequence:
        shape ``(sum(len(seq) for seq in seqs),)``."""
        end = self.vocabulary_[END]
        out = [np.empty(len(seq)) for seq in seqs]
        for batch, window, ids, mask, z, _ in self._read(seqs):
            n = batch.stop - batch.start  # the rows past n are padding copies
            if window.start == 0:  # a new chunk: its targets, one step ahead
                lengths = mask[:n].sum(axis=1)
                targets = np.zeros_like(ids[:n])
                targets[:, :-1] = ids[:n, 1:]
                targets[np.arange(n), lengths - 1] = end
            logits = output_layer(z[:n], self.output_weights_, self.output_bias_)
            picked = np.take_along_axis(
                log_softmax(logits), targets[:, window, None], axis=-1
            )[..., 0]
            for row, length in enumerate(lengths):
                stop = min(window.stop, length)
                if stop > window.start:
                    out[batch.start + row][window.start : stop] = picked[
                        row, : stop - window.start
                    ]
        return np.concatenate(out)

    def _log_likelihood(self, seqs):
        """Sum of the log-probabilities of the tokens after each sequence's
        first (its END), and of the END that closes it; and their number."""
        log_proba = self._network_log_proba(seqs)
        if self._ngram is not None:
            ngram = self._ngram.event_proba(seqs)
            log_proba = _mix(log_proba, ngram, self.ngram_weight_)
        return float(np.sum(log_proba)), len(log_proba)

    def predict_proba_next(self, X):
        """Probability of each token of the vocabulary coming next.

        Parameters
        ----------
        X : list of str, or list of list of str
            Beginnings of texts (an empty text asks for a text's first token).

        Returns
        -------
        proba : ndarray of shape (n_texts, n_tokens)
            Probabilities of the next token, columns in the order of
            ``tokens_``.
        """
        return np.exp(self._next_log_proba(self._encode_texts(X)))

    def predict_next(self, X):
        """The most likely next token after each text.

        Parameters
        ----------
        X : list of str, or list of list of str
            Beginnings of texts.

        Returns
        -------
        tokens : ndarray of object of shape (n_texts,)
            The most likely next token of each text (possibly ``'</s>'``, the
            end of the text, or ``'<unk>'``).
        """
        log_proba = self._next_log_proba(self._encode_texts(X))
        return self.tokens_[log_proba.argmax(axis=1)]

    def score(self, X, y=None):
        """Mean log-likelihood per token of the texts ``X`` (higher is better).

        Each text is read from its start; its tokens and the end of the text
        are predicted, natural logarithms. Tokens outside the vocabulary count
        as ``'<unk>'``.

        Parameters
        ----------
        X : list of str, or list of list of str
            Texts.

        y : None
            Ignored.

        Returns
        -------
        score : float
            ``mean(log p(token | tokens before it))``: minus the cross-entropy.
        """
        log_likelihood, n_tokens = self._log_likelihood(self._encode_texts(X))
        return log_likelihood / n_tokens

    def perplexity(self, X):
        """Perplexity of the texts ``X``: ``exp(-score(X))`` (lower is better).

        Parameters
        ----------
        X : list of str, or list of list of str
            Texts.

        Returns
        -------
        perplexity : float

        Raises
        ------
        ValueError
            When the perplexity is beyond the largest float (a model that
            gives the tokens of ``X`` a mean log-probability below -709):
            :meth:`score` gives its logarithm.
        """
        score = self.score(X)
        if -score > np.log(np.finfo(np.float64).max):
            raise ValueError(
                f"The perplexity of X, exp({-score:.6g}), overflows float64; "
                f"score(X) gives its logarithm ({score:.6g})."
            )
        return float(np.exp(-score))

    def generate(
        self, prompt="", n_tokens=100, *, temperature=1.0, top_k=None, random_state=None
    ):
        """Write ``n_tokens`` tokens after ``prompt``, one at a time.

        The model reads the prompt once, then feeds each token it draws back
        in, carrying its state: each token costs one step of the network.

        Parameters
        ----------
        prompt : str or list of str, default=''
            Beginning of the text (lowercased and tokenized like the training
            texts), or its tokens. An empty prompt starts a new text.

        n_tokens : int, default=100
            Number of tokens to write.

        temperature : float, default=1.0
            The next token is drawn with probability proportional to
            ``p ** (1 / temperature)``: below 1 the likely tokens get likelier,
            and as it nears 0 the model writes its most likely token each time.

        top_k : int or None, default=None
            Draw only among the ``top_k`` likeliest tokens.

        random_state : int, RandomState instance or None, default=None
            Seed of the draws: the same seed writes the same text.

        Returns
        -------
        text : str
            The prompt, followed by the generated tokens (joined as ``level``
            says; a generated ``'</s>'`` is written as a blank line).
        """
        ids = self._generate_ids(prompt, n_tokens, temperature, top_k, random_state)
        new = self.tokens_[ids].tolist()
        if isinstance(prompt, str):
            return detokenize(new, self.level, after=prompt)
        return detokenize(list(prompt) + new, self.level)

    def _generate_ids(self, prompt, n_tokens, temperature, top_k, random_state):
        """Indices of the generated tokens; see :meth:`generate`."""
        check_is_fitted(self)
        if not isinstance(n_tokens, Integral) or isinstance(n_tokens, bool):
            raise TypeError(f"n_tokens must be an int, got {n_tokens!r}.")
        if n_tokens < 0:
            raise ValueError(f"n_tokens must be >= 0, got {n_tokens}.")
        if n_tokens > _MAX_GENERATED_TOKENS:
            raise ValueError(
                f"n_tokens must be at most {_MAX_GENERATED_TOKENS:,} (each token is "
                f"one step of the network), got {n_tokens}."
            )
        if (
            not isinstance(temperature, Real)
            or isinstance(temperature, bool)
            or not 0 < temperature < np.inf
        ):
            raise ValueError(
                f"temperature must be a float > 0 and finite, got {temperature!r}."
            )
        if top_k is not None and (
            not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1
        ):
            raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}.")
        if not isinstance(prompt, str | list | tuple):
            raise TypeError(
                "prompt must be a string or a list of tokens, got "
                f"{type(prompt).__name__}."
            )
        (seq,) = self._encode_texts([prompt])
        unknown = self.vocabulary_[UNKNOWN]
        if len(seq) > 1 and (seq[1:] == unknown).all():
            raise ValueError(
                f"Every token of the prompt {prompt!r:.60} is unknown to the model "
                "(outside its vocabulary): it has nothing to go on."
            )
        rng = check_random_state(random_state)
        net, params = self._network, self._network_weights()
        for *_, state in self._read([seq], pad_rows=False):  # the prompt, once
            pass
        h = state[-1][0][0]
        ids = np.concatenate([seq, np.empty(n_tokens, dtype=seq.dtype)])
        out = ids[len(seq) :]
        for k in range(n_tokens):
            log_proba = log_softmax(
                output_layer(h, self.output_weights_, self.output_bias_)
            )
            if self._ngram is not None:
                stop = len(seq) + k
                context = ids[max(0, stop - self._ngram.order + 1) : stop]
                ngram = self._ngram.next_proba(context, self.vocabulary_[END])
                log_proba = _mix(log_proba, ngram, self.ngram_weight_)
            out[k] = token = _draw(log_proba, temperature, top_k, unknown, rng)
            z, cache = net.features(params, self.embeddings_[[[token]]], state=state)
            state, h = cache["last"], z[0, 0]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


def mixture_weight(p_network, p_ngram, tol=1e-7, max_iter=1000):
    """The weight ``w`` in [0, 1] that maximizes the likelihood of events
    given probabilities ``p_network`` and ``p_ngram`` under the mixture
    ``(1 - w) p_network + w p_ngram``, by expectation-maximization (each
    step raises the likelihood, which is concave in ``w``)."""
    weight = 0.5
    for _ in range(max_iter):
        share = weight * p_ngram / ((1 - weight) * p_network + weight * p_ngram)
        new = float(np.mean(share))
        if abs(new - weight) < tol:
            return new
        weight = new
    return weight


def _mix(log_p_network, p_ngram, weight):
    """``log((1 - weight) exp(log_p_network) + weight p_ngram)``."""
    if weight == 0:
        return log_p_network
    mixed = weight * p_ngram
    if weight < 1:
        mixed = mixed + (1 - weight) * np.exp(log_p_network)
    return np.log(mixed).astype(log_p_network.dtype, copy=False)


def _draw(logits, temperature, top_k, unknown, rng):
    """One token index drawn from ``softmax(logits / temperature)``, never
    ``unknown``, among the ``top_k`` likeliest if given."""
    logits = logits.astype(np.float64)
    logits[unknown] = -np.inf
    if top_k is not None and top_k < len(logits) - 1:
        cut = np.partition(logits, -top_k)[-top_k]
        logits[logits < cut] = -np.inf
    # Shift first: the likeliest token gets exp(0) = 1 at any temperature,
    # the others exp(-inf) = 0 as the temperature nears 0 (never NaN): the
    # shifted logits are <= 0, so their overflow to -inf is that limit.
    with np.errstate(over="ignore"):
        proba = np.exp((logits - logits.max()) / temperature)
    cumulative = np.cumsum(proba)
    return int(np.searchsorted(cumulative, rng.uniform() * cumulative[-1], "right"))


class _Carry:
    """The state one window of an epoch leaves to the next (None: zeros)."""

    state = None


def _n_rows(n, batch_size, bptt):
    """Rows a stream of ``n`` steps is read in: at most ``batch_size``, of at
    least ``bptt`` steps each (one if the stream is shorter)."""
    return max(1, min(batch_size, n // bptt))


def _stream_rows(stream, batch_size, bptt):
    """The stream cut into rows read in parallel: ``(inputs, targets, mask)``.

    ``inputs`` are ``stream[:-1]`` and ``targets`` ``stream[1:]``, cut into
    :func:`_n_rows` rows; the last row is padded, ``mask`` False there (None
    when no step is padded).
    """
    n = len(stream) - 1
    n_rows = _n_rows(n, batch_size, bptt)
    length = -(-n // n_rows)
    pad = n_rows * length - n
    inputs = np.concatenate([stream[:-1], np.zeros(pad, dtype=stream.dtype)])
    targets = np.concatenate([stream[1:], np.zeros(pad, dtype=stream.dtype)])
    mask = None
    if pad:
        mask = (np.arange(n_rows * length) < n).reshape(n_rows, length)
    return inputs.reshape(n_rows, length), targets.reshape(n_rows, length), mask


def _split_tokens(pieces, fraction):
    """The texts' token sequences split at ``1 - fraction`` of their tokens:
    ``(train, validation)``; the text that straddles the cut is split in two
    (its second part starting with END, as a text does)."""
    n_tokens = sum(len(p) for p in pieces)
    n_val = max(2, int(round(fraction * n_tokens)))
    if n_tokens - n_val < 2:
        raise ValueError(
            f"The validation set is too large: {n_val} of the {n_tokens} tokens "
            f"with validation_fraction={fraction}; lower validation_fraction or "
            "disable early_stopping."
        )
    cut = n_tokens - n_val
    train, val, seen = [], [], 0
    for p in pieces:
        if seen + len(p) <= cut:
            train.append(p)
        elif seen >= cut:
            val.append(p)
        else:
            k = cut - seen
            train.append(p[:k])
            val.append(np.concatenate([p[:1], p[k:]]))
        seen += len(p)
    return train, val
