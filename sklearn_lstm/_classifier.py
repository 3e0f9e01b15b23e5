"""LSTM classifier for sequences."""

from numbers import Real

import numpy as np
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
)
from sklearn.utils.validation import check_is_fitted

from ._activations import log_softmax, softmax
from ._base import (
    SEQUENCE_MODEL_CONSTRAINTS,
    BaseRecurrentNetwork,
    resolve_weight_drop,
)
from ._network import resolve_patch_size
from ._training import _check_partial_fit
from ._validation import (
    check_classes,
    check_labels,
    check_sequences,
    check_true_labels,
    check_weights,
)


class LSTMSequenceClassifier(
    ClassifierMixin,
    TransformerMixin,
    ClassNamePrefixFeaturesOutMixin,
    BaseRecurrentNetwork,
):
    """Sequence classifier: an LSTM reads each sequence, a softmax layer its states.

    A stack of ``n_layers`` LSTM layers reads each sequence step by step (by
    default in both directions); a dense softmax layer on a summary of the top
    layer's states (by default their mean and their maximum over the real
    steps, see ``readout``) gives the class probabilities. The network is trained by
    backpropagation through time with minibatch SGD, Adam or RMSprop.

    Parameters
    ----------
    hidden_size : int, default=32
        Number of hidden units of each LSTM layer.

    n_layers : int, default=1
        Number of stacked LSTM layers.

    cell : {'lstm', 'gru'}, default='lstm'
        The recurrent cell: an LSTM, or a GRU (``torch.nn.GRU``'s equations),
        which has three gates instead of four, so fewer weights and faster
        epochs at the same ``hidden_size``.

    bidirectional : bool, default=True
        Whether each layer also reads every sequence backwards, from its last
        real step to its first, and passes both directions' states on
        (concatenated: ``2 * hidden_size`` features), as
        ``torch.nn.LSTM(bidirectional=True)`` does.

    readout : {'last', 'mean', 'max', 'mean_max'}, default='mean_max'
        What the softmax layer reads of the top layer's states: the state
        after each sequence's last real step (for the backward direction, the
        state after it read the first step), the mean or the maximum of each
        unit over the sequence's real steps, or the mean and the maximum side
        by side (twice the features).

    patch_size : int or 'auto', default='auto'
        Number of consecutive time steps the first layer reads as one step
        (a patch of ``patch_size * n_features`` numbers): a sequence of ``T``
        steps takes ``ceil(T / patch_size)`` recurrent steps, which makes long
        series faster to train and easier to remember. 'auto' reads sequences
        of up to 64 steps step by step and patches longer ones so that nine
        in ten training sequences (all of them, when they have one length)
        take at most 64 recurrent steps; the size is fixed at fit
        (``patch_size_``).

    standardize : bool, default=True
        Whether to standardize each input feature with its mean and standard
        deviation over the real time steps of the training data (set at the
        first ``fit``), inside the model: LSTM gates saturate on inputs of
        large magnitude, so this makes the model work on data of any scale.

    normal_scores : bool or 'auto', default='auto'
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

    input_noise : float, default=0.5
        Standard deviation of the Gaussian noise added in training to every
        input feature at every step, as a fraction of that feature's standard
        deviation over the real steps of the training data: data
        augmentation that keeps the network from memorizing exact values.
        It falls with the learning rate of the 'adaptive' schedule and is off
        while the 'anneal' schedule decays, so that the last epochs fit the
        inputs as they are.

    dropout : float, default=0.3
        Fraction of the features of each layer's output (what the next layer
        and the softmax layer read) set to zero in training, one mask per
        sequence and minibatch, the same at every time step.

    weight_drop : float, default=0.0
        Fraction of the recurrent weights (``W_h``) set to zero in training,
        one mask per minibatch, the same at every time step: the DropConnect
        "weight drop" of AWD-LSTM, which regularizes the recurrence without
        touching the states.

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
        Size of the minibatches, clipped to the number of training samples;
        'auto' means ``min(200, n_samples)``.

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
        Whether to hold out ``validation_fraction`` of the training data
        (stratified) and stop when its accuracy stops improving. The weights of
        the best epoch are kept.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
        Only used when early_stopping=True.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch. Sequences of
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

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``. 'balanced'
        uses ``n_samples / (n_classes * np.bincount(y))``; it is not available
        in :meth:`partial_fit`.

    label_smoothing : float, default=0.0
        The training targets are ``(1 - label_smoothing)`` on the true class
        and ``label_smoothing / n_classes`` on every class, as
        ``torch.nn.CrossEntropyLoss(label_smoothing=...)`` and Keras'
        ``CategoricalCrossentropy(label_smoothing=...)`` take them: the
        network is not pushed to ever larger logits on training data it
        already classifies right. 0 trains on the one-hot labels; the
        benchmark notes give what 0.1 does on the benchmark datasets.

    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialization, the shuffling and the validation
        split. Pass an int for reproducible results: the same seed gives
        bit-identical models.

    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current weights instead of
        initializing new ones.

    verbose : int, default=0
        Whether to print one line per epoch (loss, validation score, seconds).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of time steps of ``X`` in its array form, as
        :func:`~sklearn.utils.validation.validate_data` records it: the
        number of columns for 2-D ``X`` (univariate sequences), ``X.shape[1]``
        for 3-D ``X``, the longest sequence for a list. 2-D input to
        ``predict`` must have this many columns; 3-D and list input may have
        any number of time steps.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only set when they are all strings.

    n_iter_ : int
        Number of epochs run.

    t_ : int
        Number of training samples seen: ``n_samples`` per epoch, less the
        validation set when early_stopping=True.

    loss_ : float
        Loss of the last epoch: mean cross-entropy (against the smoothed
        targets, see ``label_smoothing``) plus the L2 penalty.

    loss_curve_ : list of float
        Loss of each epoch.

    best_loss_ : float or None
        Lowest loss of an epoch of the last ``fit``; None when
        early_stopping=True, as in MLPClassifier.

    validation_scores_ : list of float or None
        Validation accuracy after each epoch, when early_stopping=True.

    best_validation_score_ : float or None
        Best validation accuracy of the last ``fit``, whose weights it keeps,
        when early_stopping=True.

    input_weights_ : list of ndarray
        Input-to-gates weights of each layer and direction, shape
        ``(n_inputs_l, 4 * hidden_size)``, with ``n_inputs_0`` the number of
        features per time step plus the number of scored ones (their normal
        scores follow the features, see ``normal_scores``), times
        ``patch_size_``, and ``n_inputs_l`` the width of the layer below
        (``hidden_size``, or ``2 * hidden_size`` when bidirectional).
        Gates are packed in the order (i, f, g, o): input, forget, candidate,
        output, as in PyTorch. The list holds layer 0, then (when
        bidirectional) layer 0's backward direction, then layer 1...: entry
        ``k`` is PyTorch's ``weight_ih_l{l}`` (or ``weight_ih_l{l}_reverse``)
        transposed, in the same order as PyTorch's ``all_weights``.

    recurrent_weights_ : list of ndarray
        Hidden-to-gates weights of each layer and direction, shape
        ``(hidden_size, 4 * hidden_size)``, same order; PyTorch's
        ``weight_hh_l{l}[_reverse]`` transposed.

    biases_ : list of ndarray
        Gate biases of each layer and direction, shape
        ``(4 * hidden_size,)``. PyTorch splits this into ``bias_ih`` and
        ``bias_hh``, whose sum it is.

    output_weights_ : ndarray of shape (n_features_out, n_classes)
        Weights of the softmax layer, which reads ``n_features_out =
        n_directions * hidden_size`` numbers (twice that with
        ``readout='mean_max'``).

    output_bias_ : ndarray of shape (n_classes,)
        Bias of the softmax layer.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Multi-layer perceptron classifier.
    RNNBinaryAdder : Vanilla RNN that learns bit-serial arithmetic.

    Notes
    -----
    Each layer computes, for every time step ``t``, with ``x[t]`` its input::

        i, f, g, o = split(x[t] @ Wx + h[t-1] @ Wh + b, 4)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
        g = tanh(g)
        c[t] = f * c[t-1] + i * g
        h[t] = o * tanh(c[t])

    and the output is ``softmax(z @ W_out + b_out)``, where ``z`` is the
    ``readout`` of the top layer's states: ``h[T]`` (the state after the last
    real step), or the mean or maximum of ``h[t]`` over the real steps. A
    bidirectional layer runs a second set of weights over the reversed
    sequence and concatenates the two states at each step. Padded time steps
    (trailing NaN, or the end of a shorter sequence in a list) leave ``h``
    and ``c`` unchanged and are never read backwards.

    Input weights start Glorot-uniform, recurrent weights orthogonal, the
    forget-gate bias at 1 and the other biases at 0.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation, 9(8), 1735-1780.

    :arxiv:`Kingma & Ba (2014) <1412.6980>`. Adam: a method for stochastic
    optimization.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm import LSTMSequenceClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 6, 2))
    >>> y = (X[:, 0, 0] > 0).astype(int)  # the class is set by the first step
    >>> clf = LSTMSequenceClassifier(hidden_size=8, random_state=0).fit(X, y)
    >>> clf.predict(X[:4])
    array([1, 1, 1, 1])
    >>> clf.predict_proba(X[:1]).round(2)
    array([[0., 1.]])
    >>> clf.score(X, y)
    1.0
    >>> clf.transform(X[:2]).shape  # mean and max of both directions: 4 * 8
    (2, 32)
    """

    _parameter_constraints: dict = {
        **BaseRecurrentNetwork._parameter_constraints,
        **SEQUENCE_MODEL_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    _head = "softmax"

    def __init__(
        self,
        hidden_size=32,
        *,
        n_layers=1,
        cell="lstm",
        bidirectional=True,
        readout="mean_max",
        patch_size="auto",
        standardize=True,
        normal_scores="auto",
        input_noise=0.5,
        dropout=0.3,
        weight_drop=0.0,
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
        class_weight=None,
        label_smoothing=0.0,
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
        self.readout = readout
        self.patch_size = patch_size
        self.standardize = standardize
        self.normal_scores = normal_scores
        self.input_noise = input_noise
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.recurrent_dropout = recurrent_dropout
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Training sequences. 2-D input holds univariate sequences. Sequences
            of different lengths are given as a list of arrays of shape
            ``(n_timesteps_i, n_features)`` or ``(n_timesteps_i,)``, or padded
            with trailing NaN time steps.

        y : array-like of shape (n_samples,)
            Class labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples. Each minibatch's loss is their weighted
            mean, so integer weights act like repeated samples.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Training sequences, as in :meth:`fit`.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            All the classes that will ever appear. Required in the first call
            and ignored afterwards.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated classifier.
        """
        return self._fit(
            X, y, sample_weight=sample_weight, incremental=True, classes=classes
        )

    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        model_dtype = None if reset else self.output_weights_.dtype
        X, mask, y = check_sequences(self, X, y, reset=reset, model_dtype=model_dtype)
        y = check_labels(y)
        check_classification_targets(y)
        if incremental:
            classes = check_classes(classes)
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not available in partial_fit: the "
                    "class frequencies of one batch are not those of the data."
                )
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer().fit(self.classes_)
        elif reset:
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen in classes_: {unseen.tolist()}; the "
                f"classifier knows {self.classes_.tolist()}."
            )
        if len(self.classes_) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes; got 1 class: "
                f"{self.classes_.tolist()}."
            )
        targets = self._one_hot(y).astype(X.dtype)
        if self.label_smoothing:
            targets *= 1 - self.label_smoothing
            targets += self.label_smoothing / targets.shape[1]
        sample_weight = check_weights(
            sample_weight,
            len(X),
            dtype=X.dtype,
            class_weight=self.class_weight,
            y=y,
            classes=self.classes_,
        )
        return X, mask, targets, sample_weight

    def _one_hot(self, y):
        """One column per class, also for two classes."""
        Y = self._label_binarizer.transform(y)
        return np.hstack([1 - Y, Y]) if Y.shape[1] == 1 else Y

    def _network_options(self, n_timesteps):
        return {
            "cell": self.cell,
            "readout": self.readout,
            "bidirectional": self.bidirectional,
            "patch_size": resolve_patch_size(self.patch_size, n_timesteps),
            "dropout": self.dropout,
            "weight_drop": resolve_weight_drop(
                self.weight_drop, self.recurrent_dropout
            ),
            "input_noise": self.input_noise,
        }

    def _encoder_options(self):
        return {"standardize": self.standardize, "normal_scores": self.normal_scores}

    def _validation_score(self, val):
        X, mask, targets, sample_weight = val
        right = self._logits(X, mask).argmax(1) == targets.argmax(1)
        return float(np.average(right, weights=sample_weight))

    def predict(self, X):
        """Predict the class of each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        logits = self._logits(*self._validate_X(X))
        return self.classes_[logits.argmax(axis=1)]

    def predict_proba(self, X):
        """Probability of each class for each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        return softmax(self._logits(*self._validate_X(X)))

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class for each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, computed from the logits (never ``log(0)``).
        """
        return log_softmax(self._logits(*self._validate_X(X)))

    def transform(self, X):
        """What the softmax layer reads of each sequence (see ``readout``).

        Use the LSTM as a feature extractor, for instance in a
        :class:`~sklearn.pipeline.Pipeline` in front of another estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        z : ndarray of shape (n_samples, n_features_out)
            ``n_features_out`` is ``n_directions * hidden_size``, twice that
            with ``readout='mean_max'``.
        """
        return self._map_features(*self._validate_X(X), np.array)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the sequences ``X`` and their labels ``y``.

        As :meth:`~sklearn.base.ClassifierMixin.score`, with ``y`` and
        ``sample_weight`` checked as in :meth:`fit`: labels that are None,
        NaN or mix strings and numbers, and negative, NaN, infinite or
        all-zero weights raise instead of giving a meaningless accuracy.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        y : array-like of shape (n_samples,)
            True labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            Weighted fraction of the sequences labelled right.
        """
        X, mask = self._validate_X(X)
        # refused as in fit: None, mixed types, NaN; weights checked as in fit
        y = check_true_labels(y, len(X))
        sample_weight = check_weights(sample_weight, len(X))
        pred = self.classes_[self._logits(X, mask).argmax(axis=1)]
        return float(accuracy_score(y, pred, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        """Number of features given by :meth:`transform`."""
        check_is_fitted(self)
        return self._network.n_readout
