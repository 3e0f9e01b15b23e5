"""LSTM sequence tagger: a label at every time step."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    assert_all_finite,
    check_consistent_length,
)

from ._activations import log_softmax, softmax
from ._base import (
    SEQUENCE_MODEL_CONSTRAINTS,
    BaseRecurrentNetwork,
    resolve_weight_drop,
)
from ._training import _check_partial_fit
from ._validation import (
    Integers,
    check_classes,
    check_labels,
    check_sequences,
    check_weights,
)
from ._validation import as_array as _as_array


class LSTMSequenceTagger(BaseRecurrentNetwork):
    """Sequence tagger: an LSTM reads each sequence and labels every time step.

    A stack of ``n_layers`` LSTM layers reads each sequence step by step; a
    dense softmax layer on the top layer's hidden state at each step gives the
    probabilities of that step's labels (many-to-many), reading, next to the
    states, the step's own inputs (``skip``), so that it is at least a
    per-step linear model. By default each layer also reads the sequences
    backwards, so that each step's label depends on the steps after it too,
    and the training is regularized for small data (``weight_drop``,
    ``dropout``, ``input_noise``). The network is trained on the
    cross-entropy of every real step by backpropagation through time with
    minibatch SGD, Adam or RMSprop.

    Parameters
    ----------
    hidden_size : int, default=32
        Number of hidden units of each LSTM layer (per direction).

    n_layers : int, default=1
        Number of stacked LSTM layers.

    cell : {'lstm', 'gru'}, default='lstm'
        The recurrent cell: an LSTM, or a GRU (``torch.nn.GRU``'s equations),
        which has three gates instead of four, so fewer weights and faster
        epochs at the same ``hidden_size``.

    bidirectional : bool, default=True
        Whether each layer also reads the sequences backwards, so that a step's
        label depends on the whole sequence, not only on the steps before it.
        Set it to False for labels that must only depend on the past (online
        tagging, one step at a time).

    skip : int, default=1
        Number of steps of inputs that the softmax layer reads next to the top
        layer's states: at step ``t``, the inputs (as the network reads them:
        standardized, with their normal scores) of steps ``t, t-1, ...,
        t-skip+1`` (zeros before the first step). The softmax layer is then
        at least a per-step linear model, whatever the recurrent layers
        learn: a skip path from the inputs to the head. 0 reads the states
        only. The skip reads the inputs with their ``input_noise`` and takes
        no ``dropout``.

    standardize : bool, default=True
        Whether to standardize each input feature with its mean and standard
        deviation over the real time steps of the training data (set at the
        first ``fit``), inside the model: LSTM gates saturate on inputs of
        large magnitude, so this makes the model work on data of any scale.

    normal_scores : bool or 'auto', default=False
        Whether the network also reads, next to each input feature, its
        normal score: the feature's quantile among the real time steps of the
        training data (set at the first ``fit``), sent through the standard
        normal's inverse distribution function, as
        :class:`~sklearn.preprocessing.QuantileTransformer` with
        ``output_distribution='normal'`` does (piecewise linear between 100
        quantiles, from -2.58 to 2.58). The scores spread values that a few
        large ones squeeze together (counts, heavy tails, series of very
        different scales) while the feature itself keeps its linear scale.
        'auto' scores the features with at least 32 distinct values in
        training, not binary, one-hot, coded or coarsely quantized ones.
        False by default here, unlike the classifier: no tagging data has
        measured them yet.

    input_noise : float, default=0.3
        Standard deviation of the Gaussian noise added in training to every
        input feature at every step, as a fraction of that feature's standard
        deviation over the real steps of the training data: data
        augmentation that keeps the network from memorizing exact values.
        It falls with the learning rate of the 'adaptive' schedule and is off
        while the 'anneal' schedule decays, so that the last epochs fit the
        inputs as they are.

    dropout : float, default=0.5
        Fraction of each layer's output features zeroed during training (one
        mask per sequence, the same at every step); the top layer's states
        are dropped before the softmax layer reads them, the skip is not.

    weight_drop : float, default=0.5
        Fraction of the recurrent weights (``W_h``) set to zero in training,
        one mask per minibatch, the same at every time step: the DropConnect
        "weight drop" of AWD-LSTM, which regularizes the recurrence without
        touching the states. It keeps a tagger trained on few sequences from
        recognizing the training sequences by their context rather than
        labelling their steps; set it to 0 on large training sets.

    recurrent_dropout : float
        Deprecated alias of ``weight_drop``.

        .. deprecated:: 0.2
            ``recurrent_dropout`` was renamed ``weight_drop`` (it drops
            weights, not recurrent states) and will be removed in 0.4.

    solver : {'adam', 'sgd', 'rmsprop'}, default='adam'
        The optimizer.

    learning_rate : float, default=1e-2
        Step size of the optimizer.

    learning_rate_schedule : {'constant', 'adaptive', 'anneal'}, default='anneal'
        What happens once the loss (or the validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` epochs. 'anneal' lowers the
        learning rate linearly to zero over ``n_iter_no_change`` more epochs,
        then stops: the decay of a warmup-stable-decay schedule, the default
        because it reaches the accuracy of 'adaptive' in fewer epochs.
        'adaptive' divides the learning rate by 5 and goes on, until it is
        below 1/100 of ``learning_rate`` (MLP's ``learning_rate='adaptive'``);
        'constant' stops.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the weight matrices (not the biases).

    batch_size : int or 'auto', default=32
        Number of sequences per minibatch, clipped to the number of training
        sequences; 'auto' means ``min(200, n_samples)``.

    max_iter : int or 'auto', default='auto'
        Maximum number of epochs (passes over the training data). 'auto'
        allows at least 200 epochs and at least 5000 minibatch updates,
        ``max(200, ceil(5000 / n_batches))`` for ``n_batches`` minibatches per
        epoch, so that a small training set, read in one or two minibatches
        per epoch, gets as many updates as a large one.

    clip_norm : float or None, default=5.0
        Gradients of each minibatch are rescaled so that their global L2 norm
        is at most ``clip_norm``; None disables clipping.

    tol : float, default=1e-4
        Improvement of the loss (or of the validation score) below which an
        epoch counts as no improvement. The training loss is averaged over
        the last epochs of at least 20 minibatch updates in all (the last
        epoch alone when it has 20 minibatches), so that one lucky epoch of
        a small data set does not set the bar.

    n_iter_no_change : int or 'auto', default='auto'
        Number of epochs without improvement before training stops (or the
        learning rate drops, see ``learning_rate_schedule``).
        'auto' waits at least 10 epochs and at least 200 minibatch updates,
        ``max(10, ceil(200 / n_batches))``.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training sequences
        and stop when their per-step accuracy stops improving. The weights of
        the best epoch are kept.

    validation_fraction : float, default=0.1
        Fraction of the training sequences held out for early stopping.
        Only used when early_stopping=True.

    shuffle : bool, default=True
        Whether to shuffle the sequences before each epoch. Sequences of
        unequal lengths are shuffled into minibatches of similar lengths
        (see the user guide), each computed up to its longest sequence.

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

    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialization, the shuffling, the dropout masks
        and the validation split. Pass an int for reproducible results: the
        same seed gives bit-identical models.

    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current weights instead of
        initializing new ones.

    verbose : int, default=0
        Whether to print one line per epoch (loss, validation score, seconds).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen at the real steps of the training sequences.

    n_features_in_ : int
        Number of time steps of ``X`` in its array form, as
        :func:`~sklearn.utils.validation.validate_data` records it (see
        :class:`LSTMSequenceClassifier`).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only set when they are all strings.

    n_iter_ : int
        Number of epochs run.

    t_ : int
        Number of training sequences seen.

    loss_ : float
        Loss of the last epoch: the cross-entropy summed over the real steps
        of a sequence, averaged over the sequences, plus the L2 penalty.

    loss_curve_ : list of float
        Loss of each epoch.

    best_loss_ : float or None
        Lowest loss of an epoch of the last ``fit``; None when
        early_stopping=True.

    validation_scores_ : list of float or None
        Validation per-step accuracy after each epoch, when
        early_stopping=True.

    best_validation_score_ : float or None
        Best validation per-step accuracy of the last ``fit``, whose weights it
        keeps, when early_stopping=True.

    input_weights_, recurrent_weights_, biases_ : list of ndarray
        Weights of each layer and direction, as in
        :class:`LSTMSequenceRegressor`.

    output_weights_ : ndarray of shape (n_directions * hidden_size + \
            skip * n_inputs, n_classes)
        Weights of the softmax layer, shared by every step: the rows of the
        top layer's states, then those of the skip (``n_inputs`` the
        features the network reads per step, normal scores included).

    output_bias_ : ndarray of shape (n_classes,)
        Bias of the softmax layer.

    See Also
    --------
    LSTMSequenceClassifier : One label per sequence.
    RNNBinaryAdder : A specialised many-to-many network: bits in, bits out.

    Notes
    -----
    **Labels.** ``y`` gives a label to every real step, in one of three forms:

    * a list of 1-D arrays, ``y[i]`` of the length of sequence ``i``, as
      sklearn-crfsuite takes them;
    * a 2-D array ``(n_samples, n_timesteps)``, for a 2-D or 3-D ``X`` with as
      many time steps (for a list ``X``, at least as many as its longest
      sequence); the labels at padded steps are ignored, whatever they are;
    * a 1-D array of one label per sequence, which labels each of its steps
      (target replication). This is how the common tabular checks of
      scikit-learn (2-D ``X``, 1-D ``y``) read.

    **Outputs.** :meth:`predict` and :meth:`predict_proba` follow the shape of
    ``X``: a 2-D array ``(n_samples, n_timesteps)`` of labels (and a 3-D array
    of probabilities) for a 2-D or 3-D ``X`` whose sequences all have every
    step, and a list of one array per sequence, of its length, when ``X`` is a
    list or has NaN padding, as there is no label to write at a padded step.

    **Weighting.** The loss and :meth:`score` count every real step once: a
    long sequence weighs more than a short one. ``sample_weight`` multiplies
    every step of its sequence. Padded steps carry no loss and no gradient.

    Each layer runs the LSTM cell of :class:`LSTMSequenceClassifier`, and
    ``p[t] = softmax([h[t], x[t], ..., x[t-skip+1]] @ W_out + b_out)``.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation, 9(8), 1735-1780.

    Graves, A. and Schmidhuber, J. (2005). Framewise phoneme classification
    with bidirectional LSTM and other neural network architectures. Neural
    Networks, 18(5-6), 602-610.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm import LSTMSequenceTagger
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 2, size=(200, 8))  # bits
    >>> y = np.cumsum(X, axis=1) % 2           # parity of the bits so far
    >>> tagger = LSTMSequenceTagger(hidden_size=8, random_state=0).fit(X, y)
    >>> tagger.predict([[1, 0, 1, 1]])
    [array([1, 1, 0, 1])]
    >>> tagger.score(X, y)
    1.0
    """

    _parameter_constraints: dict = {
        **BaseRecurrentNetwork._parameter_constraints,
        **{
            k: v
            for k, v in SEQUENCE_MODEL_CONSTRAINTS.items()
            if k not in ("readout", "patch_size")
        },
        "skip": [Integers(0, None, closed="left")],
    }

    _head = "softmax"

    def __init__(
        self,
        hidden_size=32,
        *,
        n_layers=1,
        cell="lstm",
        bidirectional=True,
        skip=1,
        standardize=True,
        normal_scores=False,
        input_noise=0.3,
        dropout=0.5,
        weight_drop=0.5,
        recurrent_dropout="deprecated",
        solver="adam",
        learning_rate=1e-2,
        learning_rate_schedule="anneal",
        alpha=1e-4,
        batch_size=32,
        max_iter="auto",
        clip_norm=5.0,
        tol=1e-4,
        n_iter_no_change="auto",
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
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
        self.bidirectional = bidirectional
        self.skip = skip
        self.standardize = standardize
        self.normal_scores = normal_scores
        self.input_noise = input_noise
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.recurrent_dropout = recurrent_dropout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and their per-step labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Training sequences, in the forms :class:`LSTMSequenceClassifier`
            reads (lists of sequences of different lengths, NaN padding).

        y : list of array-like of shape (n_timesteps_i,), or array-like of \
                shape (n_samples, n_timesteps) or (n_samples,)
            The label of each real step (see Notes).

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sequences: each multiplies the loss of every step
            of its sequence.

        Returns
        -------
        self : object
            The fitted tagger.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over ``X`` and ``y``.

        Parameters
        ----------
        X : array-like or list of array-like
            Training sequences, as in :meth:`fit`.

        y : list of array-like, or array-like
            Per-step labels, as in :meth:`fit`.

        classes : array-like of shape (n_classes,), default=None
            All the labels that will ever appear, read in the first call and
            ignored afterwards. If None in the first call, the labels of its
            ``y``; a later label outside them raises a ``ValueError``.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sequences, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated tagger.
        """
        return self._fit(
            X, y, sample_weight=sample_weight, incremental=True, classes=classes
        )

    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, "
                "but the target y is None."
            )
        n_timesteps = _array_timesteps(X)
        X, mask = check_sequences(
            self,
            X,
            reset=reset,
            model_dtype=None if reset else self.output_weights_.dtype,
        )
        labels = _checked_step_labels(y, len(X), _lengths(X, mask), n_timesteps)
        if labels.dtype.kind == "f":
            # Before check_classification_targets, whose cast of NaN to int
            # warns (RuntimeWarning) before it raises.
            assert_all_finite(labels, input_name="y")
        check_classification_targets(labels)
        if incremental and not hasattr(self, "classes_"):
            classes = check_classes(classes)
            self._label_binarizer = LabelBinarizer().fit(
                labels if classes is None else classes
            )
            self.classes_ = self._label_binarizer.classes_
        elif reset and not incremental:
            self._label_binarizer = LabelBinarizer().fit(labels)
            self.classes_ = self._label_binarizer.classes_
        unseen = np.setdiff1d(np.unique(labels), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen in classes_: {unseen.tolist()}; the "
                f"tagger knows {self.classes_.tolist()}."
            )
        if len(self.classes_) < 2:
            raise ValueError(
                "The tagger needs at least 2 classes among the labels of the "
                f"steps; got 1 class: {self.classes_.tolist()}."
            )
        Y = self._label_binarizer.transform(labels)
        if Y.shape[1] == 1:
            Y = np.hstack([1 - Y, Y])
        targets = np.zeros(X.shape[:2] + (Y.shape[1],), dtype=X.dtype)
        if mask is None:
            targets[...] = Y.reshape(targets.shape)
        else:
            targets[mask] = Y  # steps in order, sequence after sequence
        sample_weight = check_weights(sample_weight, len(X), dtype=X.dtype)
        return X, mask, targets, sample_weight

    def _network_options(self, n_timesteps):
        return {
            "cell": self.cell,
            "readout": None,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "weight_drop": resolve_weight_drop(
                self.weight_drop, self.recurrent_dropout
            ),
            "input_noise": self.input_noise,
            "skip": self.skip,
        }

    def _encoder_options(self):
        return {"standardize": self.standardize, "normal_scores": self.normal_scores}

    def _validation_score(self, val):
        X, mask, targets, sample_weight = val
        right = self._logits(X, mask).argmax(-1) == targets.argmax(-1)
        weights = np.broadcast_to(sample_weight[:, None], right.shape)
        if mask is not None:
            weights = weights * mask
        return float(np.average(right, weights=weights))

    def _validate_X(self, X):
        """Validated ``X`` and mask, and whether outputs are lists: for a
        list, and for an array with NaN padding, even when every sequence
        ends in padding (whose steps validation drops, leaving no mask)."""
        as_list = isinstance(X, list | tuple)
        n_timesteps = _array_timesteps(X)
        X, mask = super()._validate_X(X)
        dropped = n_timesteps is not None and n_timesteps > X.shape[1]
        return X, mask, as_list or dropped or mask is not None

    def _per_step(self, X, fn):
        """``fn`` of the logits of every step, shaped as the Notes say."""
        X, mask, as_list = self._validate_X(X)
        out = fn(self._logits(X, mask))
        if not as_list:
            return out
        return [o[:n] for o, n in zip(out, _lengths(X, mask))]

    def predict(self, X):
        """Predict the label of every time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        y : ndarray of shape (n_samples, n_timesteps), or list of ndarray
            The labels, a list of one array per sequence (of its length) when
            ``X`` is a list or has NaN padding.
        """
        return self._per_step(X, lambda logits: self.classes_[logits.argmax(-1)])

    def predict_proba(self, X):
        """Probability of each label at every time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_timesteps, n_classes), or list \
                of ndarray
            Columns in the order of ``classes_``; a list of arrays of shape
            ``(n_timesteps_i, n_classes)`` when ``X`` is a list or has NaN
            padding.
        """
        return self._per_step(X, softmax)

    def predict_log_proba(self, X):
        """Logarithm of the probability of each label at every time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_timesteps, n_classes), or \
                list of ndarray
            As :meth:`predict_proba`, computed from the logits.
        """
        return self._per_step(X, log_softmax)

    def score(self, X, y, sample_weight=None):
        """Per-step accuracy over every real time step.

        Each real step counts once, so a long sequence weighs more than a short
        one; ``sample_weight`` multiplies every step of its sequence.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences.

        y : list of array-like, or array-like
            The true per-step labels, in the forms :meth:`fit` reads.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sequences.

        Returns
        -------
        score : float
            Weighted fraction of the real steps labelled right.
        """
        if y is None:
            raise ValueError(
                "score needs y, the true labels of the steps of X; got None."
            )
        n_timesteps = _array_timesteps(X)
        X, mask, _ = self._validate_X(X)
        check_consistent_length(X, y)
        lengths = _lengths(X, mask)
        labels = _checked_step_labels(y, len(X), lengths, n_timesteps)
        if labels.dtype.kind == "f":  # as in fit: NaN is no label
            assert_all_finite(labels, input_name="y")
        # refused as in fit: negative, NaN, infinite or all-zero weights
        sample_weight = check_weights(sample_weight, len(X))
        pred = self.classes_[self._logits(X, mask).argmax(-1)]
        pred = pred.ravel() if mask is None else pred[mask]
        weights = np.repeat(sample_weight, lengths)
        return float(np.average(pred == labels, weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True  # one column of labels per step
        return tags


def _array_timesteps(X):
    """Time steps of an array ``X`` (its second axis), None for a list."""
    if isinstance(X, list | tuple):
        return None
    shape = X.shape if hasattr(X, "shape") else np.asarray(X).shape
    return shape[1] if len(shape) > 1 else None


def _lengths(X, mask):
    """Number of real steps of each sequence."""
    if mask is None:
        return np.full(len(X), X.shape[1])
    return mask.sum(axis=1)


def _checked_step_labels(y, n_samples, lengths, n_timesteps):
    """:func:`_step_labels`, refusing labels that mix types or hold None at a
    real step (:func:`check_labels`). Labels given as lists are read one by
    one first: NumPy would turn a mix of numbers and strings into strings."""
    labels = _step_labels(y, n_samples, lengths, n_timesteps)
    labels = check_labels(labels)
    if not isinstance(y, np.ndarray) and labels.dtype != object:
        as_object = _step_labels(
            y, n_samples, lengths, n_timesteps, as_array=_object_labels
        )
        check_labels(as_object)
    return labels


def _object_labels(y):
    """``y`` as an object array of its own elements (no conversion)."""
    return _as_array(y, "y", dtype=object)


def _ndim(labels):
    """``np.ndim(labels)``, or a ValueError naming ``y`` when ``labels`` is
    ragged."""
    return np.ndim(_as_array(labels, "y", dtype=object))


def _step_labels(y, n_samples, lengths, n_timesteps, as_array=None):
    """The labels of the real steps, sequence after sequence, as one 1-D array.

    ``n_timesteps`` is the number of time steps of an array ``X`` (None for a
    list), which a 2-D ``y`` must match.
    """
    if as_array is None:  # a ragged y raises naming it, not NumPy's message

        def as_array(values):
            return _as_array(values, "y")

    check_consistent_length(lengths, y)
    if isinstance(y, list | tuple) and any(_ndim(y_i) != 0 for y_i in y):
        seqs = [as_array(y_i) for y_i in y]
        if any(s.ndim != 1 for s in seqs):
            raise ValueError(
                "y must be a list of 1-D arrays of per-step labels; got arrays "
                f"of {sorted({s.ndim for s in seqs})} dimensions."
            )
        if len({len(s) for s in seqs}) > 1:
            for i, (s, n) in enumerate(zip(seqs, lengths)):
                if len(s) != n:
                    raise ValueError(
                        f"y[{i}] has {len(s)} labels, but sequence {i} of X has "
                        f"{n} time steps: give one label per real step."
                    )
            return np.concatenate(seqs)
    y = as_array(y)
    if y.ndim == 1:  # one label per sequence, for each of its steps
        return np.repeat(y, lengths)
    if y.ndim != 2:
        raise ValueError(
            "y must be 1-D (one label per sequence), 2-D (n_samples, n_timesteps) "
            f"or a list of per-step label arrays; got a {y.ndim}-D array."
        )
    longest = int(max(lengths))
    if n_timesteps is not None and y.shape[1] != n_timesteps:
        raise ValueError(
            f"y has labels for {y.shape[1]} time steps, but X has {n_timesteps}."
        )
    if y.shape[1] < longest:
        raise ValueError(
            f"y has labels for {y.shape[1]} time steps, but the longest sequence "
            f"of X has {longest}."
        )
    return y[np.arange(y.shape[1]) < lengths[:, None]]
