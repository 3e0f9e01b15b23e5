"""LSTM regressor for sequences."""

import contextlib
import math

import numpy as np
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import (
    SEQUENCE_MODEL_CONSTRAINTS,
    BaseRecurrentNetwork,
    resolve_weight_drop,
)
from ._encoder import WINDOW_NORMS, WINDOW_SCALE_FLOOR, feature_stats, window_stats
from ._network import _lagged_at, _last_steps, resolve_patch_size
from ._validation import (
    Integers,
    check_sequences,
    check_targets,
    check_weights,
    regression_score,
    standardize_targets,
    target_scaling,
    to_dtype,
)


def _check_partial_fit(estimator):
    """``partial_fit`` is available unless early_stopping=True, as in MLP
    ('auto' never holds out in ``partial_fit``)."""
    if estimator.early_stopping is True:
        raise AttributeError("partial_fit is not available with early_stopping=True.")
    return True


class LSTMSequenceRegressor(
    RegressorMixin,
    TransformerMixin,
    ClassNamePrefixFeaturesOutMixin,
    BaseRecurrentNetwork,
):
    """Sequence regressor: an LSTM reads each sequence, a linear layer predicts.

    A stack of ``n_layers`` LSTM layers reads each sequence step by step; a
    dense linear layer on the top layer's states (by default the hidden state
    after the last real step) predicts one or several numbers. The network is
    trained on the squared error by backpropagation through time with
    minibatch SGD, Adam or RMSprop. The targets are standardized for training
    and predictions are mapped back, so their scale does not matter.

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
        Whether each layer also reads the sequences backwards, and passes on
        both directions' states (``2 * hidden_size`` features). True by
        default: a step's value is then read in the light of what follows it
        too, which lowered the test error on every regression benchmark (see
        the benchmark notes).

    readout : {'last', 'mean', 'max', 'mean_max'}, default='last'
        What the output layer reads of the top layer's hidden states: the
        state after the last real step (for the backward direction, after the
        first step), their mean or maximum over the real steps, or the mean
        and the maximum side by side (twice the features).

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
        False by default here, unlike the classifier: the scores helped on
        some regression benchmarks and hurt on others (see the benchmark
        notes).

    window_norm : {'auto', 'last', 'mean'} or None, default='auto'
        Reversible per-window normalization (RevIN): each sequence's features
        less their own last real value ('last') or mean ('mean'), over their
        own standard deviation (at least a tenth of the feature's over the
        training steps), in place of ``standardize``; the targets are
        normalized with the first feature's location and scale, and the
        predictions mapped back. For forecasting, where the targets are the
        next values of the first feature: a window of a trending or
        level-shifting series then looks like the windows the network was
        trained on. 'auto' is 'last' when the first feature's last value
        explains more than half of every target's variance in training (an
        R² above 0.5, as in forecasting), None otherwise (``window_norm_``).

    skip : int or 'auto', default='auto'
        Number of steps of the encoded inputs, up to each sequence's last
        real step, that the output layer reads next to the readout: a linear
        autoregressive path from the window to the output (the "highway" of
        LSTNet), so that the model is at least a linear model of the recent
        steps. 'auto' reads every step of the longest training sequence, up
        to 128; 0 reads none.

    linear : bool or 'auto', default='auto'
        Whether a fixed linear model of the last ``skip`` steps comes first:
        ridge regression of the standardized targets on the standardized raw
        inputs of those steps (zeros before a sequence's first step), fitted
        in closed form at the first ``fit``, with each target's penalty
        chosen by generalized cross-validation, the rotation-invariant form
        of :class:`~sklearn.linear_model.RidgeCV`'s efficient leave-one-out
        (``linear_alpha_``). For windows of a series (see below, or
        ``window_norm_`` not None) each target's coefficients are shrunk
        toward zero (predictions toward the targets' mean) or toward the
        naive forecast (the first feature's last value), whichever
        generalized cross-validation prefers (``linear_toward_``): near a
        random walk the linear model is then never much worse than the naive
        forecast. When the windows were cut from one series (as
        :func:`~sklearn_lstm.forecasting.make_windows` cuts them) and an
        augmented Dickey-Fuller test of that series (its first feature)
        rejects a unit root at 5 % neither with a constant nor with a
        linear trend, the model is instead translation-equivariant: a ridge
        regression of the target on the differences of the window to its
        last value, shrunk toward the naive forecast (``linear_toward_`` is
        'differences'), so that it follows the series after a shift of its
        level instead of returning to the mean of the training data.
        The network then learns what the linear model leaves, its output
        layer starting at zero, so that before training the model is the
        linear one (residual learning: LSTNet's highway fitted first); with
        early stopping the linear model alone (epoch 0) is a candidate of the
        best epoch, and the network's residual of each target is then
        weighted by its least-squares weight on the held-out part, clipped
        to [0, 1] (``residual_weight_``; stacking on held-out data), so that
        on those windows the model is no worse than the linear one.
        For windows of a series, a linear autoregressive model is
        the baseline a forecaster must beat, and ridge regression on the
        steps the baseline of time series regression; this makes the
        regressor start from it. 'auto' is True for windows of a series
        (each sequence the one before shifted by one step, as
        :func:`~sklearn_lstm.forecasting.make_windows` cuts them), and for
        other sequences when the linear model reads at most 1024 numbers of
        each (``skip`` steps times the features: every univariate sequence),
        False otherwise; nothing with ``skip=0``. Its inputs are bounded by
        the square root of the largest float, as the network's are.

    input_noise : float, default=0.0
        Standard deviation of the Gaussian noise added in training to every
        input feature at every step, as a fraction of that feature's standard
        deviation over the real steps of the training data: data
        augmentation that keeps the network from memorizing exact values.
        It falls with the learning rate of the 'adaptive' schedule and is off
        while the 'anneal' schedule decays, so that the last epochs fit the
        inputs as they are.

    dropout : float, default=0.0
        Fraction of each layer's output features zeroed during training (one
        mask per sequence, the same at every step).

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

    learning_rate_schedule : {'constant', 'adaptive', 'anneal'}, default='constant'
        What happens once the loss (or the validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` epochs. 'constant' stops.
        'anneal' lowers the learning rate linearly to zero over
        ``n_iter_no_change`` more epochs, then stops: the decay of a
        warmup-stable-decay schedule. 'adaptive' divides the learning rate by
        5 and goes on, until it is below 1/100 of ``learning_rate`` (MLP's
        ``learning_rate='adaptive'``).

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

    early_stopping : bool or 'auto', default='auto'
        Whether to hold out ``validation_fraction`` of the training data and
        stop when its R² (weighted by ``sample_weight``) stops improving. The
        weights of the best epoch are kept. The held-out part is drawn at
        random, except for windows of a series (``window_norm_`` not None,
        or each sequence the one before shifted by one step): then it is the
        last windows, in the order given, since a window drawn at random
        overlaps its neighbours left in training and its score would reward
        memorizing them; with ``n_outputs`` targets (the next values of a
        direct multi-step forecast), the ``n_outputs - 1`` windows before
        them are left out of training too, as their targets are the held-out
        windows' own. 'auto' holds out for windows of a series when at
        least 2 windows are held out, and not otherwise; unlike True it
        leaves :meth:`partial_fit` available (which never holds out).

    validation_fraction : float, default=0.2
        Fraction of the training data held out for early stopping.
        Only used when early_stopping holds out.

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

    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialization, the shuffling, the dropout masks
        and the validation split. Pass an int for reproducible results: the
        same seed gives bit-identical models.

    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current weights (and target
        scaling) instead of initializing new ones.

    verbose : int, default=0
        Whether to print one line per epoch (loss, validation score, seconds).

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.

    target_mean_ : ndarray of shape (n_outputs,)
        Weighted mean of each target in the data of the first ``fit`` (or
        ``partial_fit``): the network learns ``(y - target_mean_) /
        target_scale_``.

    target_scale_ : ndarray of shape (n_outputs,)
        Weighted standard deviation of each target (1 for a constant target).

    window_norm_ : {'last', 'mean'} or None
        The window normalization of the fit (``window_norm`` with 'auto'
        resolved).

    linear_coef_ : ndarray of shape (n_steps * n_features, n_outputs) or None
        Coefficients of the linear model (see ``linear``) on the
        standardized inputs of the last ``n_steps`` steps, most recent
        first, predicting the standardized targets; None without one.

    linear_intercept_ : ndarray of shape (n_outputs,) or None
        Its intercept.

    linear_alpha_ : ndarray of shape (n_outputs,) or None
        The ridge penalty of each target, chosen by generalized
        cross-validation.

    linear_toward_ : ndarray of shape (n_outputs,) or None
        What the linear model of each target is shrunk toward: 'mean'
        (coefficients toward zero) or 'last' (toward the naive forecast, the
        first feature's last value; only for windows of a series), or
        'differences' (the model of the window relative to its last value,
        shrunk toward the naive forecast; for windows of a series with a
        unit root, see ``linear``).

    residual_weight_ : ndarray of shape (n_outputs,) or None
        The weight of the network's residual of each target, fitted on the
        held-out part and folded into ``output_weights_`` and
        ``output_bias_``; None without a linear model or a held-out part.

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
        Loss of the last epoch: half the mean squared error of the
        standardized targets (summed over the targets) plus the L2 penalty.

    loss_curve_ : list of float
        Loss of each epoch.

    best_loss_ : float or None
        Lowest loss of an epoch of the last ``fit``; None when
        early_stopping=True, as in MLPRegressor.

    validation_scores_ : list of float or None
        Validation R² after each epoch, when early_stopping=True.

    best_validation_score_ : float or None
        Best validation R² of the last ``fit``, whose weights it keeps, when
        early_stopping=True.

    input_weights_ : list of ndarray
        Input-to-gates weights of each layer and direction, shape
        ``(n_inputs_l, 4 * hidden_size)``, gates packed in the order (i, f, g,
        o) as in PyTorch. With ``bidirectional=True`` the backward direction of
        layer ``l`` is entry ``2 * l + 1``.

    recurrent_weights_ : list of ndarray
        Hidden-to-gates weights, shape ``(hidden_size, 4 * hidden_size)``.

    biases_ : list of ndarray
        Gate biases, shape ``(4 * hidden_size,)``.

    output_weights_ : ndarray of shape (n_features_out, n_outputs)
        Weights of the linear output layer, which reads ``n_features_out =
        n_directions * hidden_size`` numbers (twice that with
        ``readout='mean_max'``).

    output_bias_ : ndarray of shape (n_outputs,)
        Bias of the linear output layer.

    See Also
    --------
    LSTMSequenceClassifier : The same network with a softmax output layer.
    LSTMSequenceTagger : A label at every time step.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.

    Notes
    -----
    Each layer computes, for every time step ``t``, with ``x[t]`` its input::

        i, f, g, o = split(x[t] @ Wx + h[t-1] @ Wh + b, 4)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
        g = tanh(g)
        c[t] = f * c[t-1] + i * g
        h[t] = o * tanh(c[t])

    and the prediction is ``target_mean_ + target_scale_ * (z @ W_out +
    b_out)``, with ``z`` the readout of the top layer's states (``h[T]`` by
    default). Padded time steps (trailing NaN, or the end of a shorter
    sequence in a list) leave ``h`` and ``c`` unchanged.

    The targets are standardized because the output layer starts with small
    weights and the L2 penalty and gradient clipping are scale-dependent:
    trained on raw targets of magnitude 1e3, the network spends its epochs
    growing ``b_out``.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation, 9(8), 1735-1780.

    :arxiv:`Kingma & Ba (2014) <1412.6980>`. Adam: a method for stochastic
    optimization.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm import LSTMSequenceRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5, 1))
    >>> y = 100 + 10 * X[:, :, 0].sum(axis=1)  # the sum of the steps
    >>> reg = LSTMSequenceRegressor(hidden_size=8, max_iter=100,
    ...                             random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).round()
    array([...])
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseRecurrentNetwork._parameter_constraints,
        **SEQUENCE_MODEL_CONSTRAINTS,
        "window_norm": [StrOptions({"auto", *WINDOW_NORMS}), None],
        "skip": [Integers(0, None, closed="left"), StrOptions({"auto"})],
        "linear": ["boolean", StrOptions({"auto"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
    }

    _head = "identity"

    def __init__(
        self,
        hidden_size=32,
        *,
        n_layers=1,
        cell="lstm",
        bidirectional=True,
        readout="last",
        patch_size="auto",
        standardize=True,
        normal_scores=False,
        window_norm="auto",
        skip="auto",
        linear="auto",
        input_noise=0.0,
        dropout=0.0,
        weight_drop=0.0,
        recurrent_dropout="deprecated",
        solver="adam",
        learning_rate=1e-2,
        learning_rate_schedule="constant",
        alpha=1e-4,
        batch_size=32,
        max_iter="auto",
        clip_norm=5.0,
        tol=1e-4,
        n_iter_no_change="auto",
        early_stopping="auto",
        validation_fraction=0.2,
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
        self.readout = readout
        self.patch_size = patch_size
        self.standardize = standardize
        self.normal_scores = normal_scores
        self.window_norm = window_norm
        self.skip = skip
        self.linear = linear
        self.input_noise = input_noise
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.recurrent_dropout = recurrent_dropout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Training sequences. 2-D input holds univariate sequences. Sequences
            of different lengths are given as a list of arrays of shape
            ``(n_timesteps_i, n_features)`` or ``(n_timesteps_i,)``, or padded
            with trailing NaN time steps.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples. Each minibatch's loss is their weighted
            mean, so integer weights act like repeated samples.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over ``X`` and ``y``.

        The target scaling is set by the first call and kept afterwards.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Training sequences, as in :meth:`fit`.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated regressor.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _validate_fit_data(self, X, y, sample_weight, *, reset, incremental, classes):
        y = check_targets(y)
        X, mask, y = check_sequences(
            self,
            X,
            y,
            reset=reset,
            model_dtype=None if reset else self.output_weights_.dtype,
            multi_output=True,
            y_numeric=True,
        )
        sample_weight = check_weights(sample_weight, len(X), dtype=X.dtype)
        if not reset:  # before the linear model and the windows read X
            self._check_n_step_features(X)
        Y = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = Y.shape[1]
            self._single_output = y.ndim == 1
            # in units of each target's largest magnitude: 1e300 and 1e-200
            # neither overflow nor underflow
            self.target_mean_, self.target_scale_ = target_scaling(
                Y, sample_weight, X.dtype
            )
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} targets, but {type(self).__name__} was fitted "
                f"with {self.n_outputs_}."
            )
        targets = standardize_targets(Y, self.target_mean_, self.target_scale_, X.dtype)
        if reset:
            self.window_norm_ = _resolve_window_norm(
                self.window_norm, X, mask, Y, sample_weight
            )
            # windows of a series: most (at least half) of the sequences
            # the one before shifted by one step
            self._shifted_share = _shifted_share(X, mask)
            self._windows = self._shifted_share >= 0.5
        window = self._first_feature_window(X, mask, sample_weight, reset)
        targets = self._window_targets(Y, sample_weight, reset, targets, window)
        if reset:
            self._fit_linear(X, mask, Y, sample_weight)
        linear = self._linear_outputs(X, mask, window)
        # the network learns what the linear model leaves; the validation
        # score adds its predictions back
        self._linear_fit_outputs = linear
        if linear is not None:
            targets = to_dtype(targets - linear, X.dtype, what="residual targets")
        return X, mask, targets, sample_weight

    def _first_feature_window(self, X, mask, sample_weight, reset):
        """Location and scale ``(N, 1)`` (float64) of each window's first
        feature with ``window_norm``, as the encoder normalizes it; None
        without."""
        if self.window_norm_ is None:
            return None
        if reset:
            floor = WINDOW_SCALE_FLOOR * feature_stats(X, mask, sample_weight)[1]
        else:
            floor = WINDOW_SCALE_FLOOR * self._encoder.std
        loc, scale = window_stats(X, mask, self.window_norm_, floor)
        return loc[:, :1].astype(np.float64), scale[:, :1].astype(np.float64)

    def _window_targets(self, Y, sample_weight, reset, targets, window):
        """The targets the network learns with ``window_norm``: ``Y`` less
        each window's location over its scale (those of the first feature,
        ``window``), then standardized; ``targets`` unchanged without."""
        if window is None:
            return targets
        loc, scale = window
        # Y / scale - loc / scale: no overflow in Y - loc near the float limits
        with np.errstate(over="ignore", invalid="ignore"):
            U = Y / scale - loc / scale
        if not np.isfinite(U).all():
            raise ValueError(
                "The targets relative to their windows (y less each window's "
                "location, over its scale) overflow float64: the targets are "
                "far outside the range of the windows' first feature. Set "
                "window_norm=None."
            )
        if reset:
            self._window_target_stats = target_scaling(
                U, sample_weight, targets.dtype, name="y relative to its windows"
            )
        mean, std = self._window_target_stats
        return standardize_targets(
            U, mean, std, targets.dtype, name="y relative to its windows"
        )

    def _fit_linear(self, X, mask, Y, sample_weight):
        """Fit the linear model of ``linear`` (closed-form ridge, each
        target's penalty by generalized cross-validation), or set its
        attributes to None."""
        self.linear_coef_ = self.linear_intercept_ = self.linear_alpha_ = None
        self.linear_toward_ = None
        lengths = X.shape[1] if mask is None else mask.sum(axis=1)
        n_steps = _resolve_skip(self.skip, lengths)
        on = self.linear
        if on == "auto":  # windows, or a linear model of moderate size
            on = self._windows or n_steps * X.shape[2] <= AUTO_LINEAR_INPUTS
        if not (on and n_steps):
            return
        self._linear_steps = n_steps
        self._linear_stats = feature_stats(X, mask, sample_weight)
        A = self._linear_inputs(X, mask)
        Z = standardize_targets(Y, self.target_mean_, self.target_scale_, np.float64)
        prior = None
        if self._of_a_series():
            # the naive forecast, every target the first feature's last
            # value: in standardized units, its coefficient on the last step
            # is that feature's scale over the target's
            prior = np.zeros((A.shape[1], Z.shape[1]))
            std = self._linear_stats[1].astype(np.float64)
            prior[0] = std[0] / self.target_scale_.astype(np.float64)
        differences = None
        if prior is not None and self._shifted_share == 1.0:
            # the windows of one series (each the one before shifted by one
            # step): the series they were cut from, its first feature
            series = np.concatenate([X[0, :, 0], X[1:, -1, 0]])
            if _has_unit_root(series.astype(np.float64)):
                differences = np.arange(0, A.shape[1], X.shape[2])
        coef, intercept, alpha, toward = ridge_gcv(
            A, Z, sample_weight, prior, differences
        )
        self.linear_coef_, self.linear_intercept_ = coef, intercept
        self.linear_alpha_ = alpha
        self.linear_toward_ = np.array(["mean", "last", "differences"])[toward]

    def _linear_inputs(self, X, mask):
        """What the linear model reads: the standardized raw inputs of the
        last ``_linear_steps`` real steps of each sequence, most recent
        first, zeros before its first step, ``(N, n_steps * D)`` float64,
        bounded by the square root of the largest float as the network's
        inputs are (which no training data reaches in standard units): its
        products do not overflow on steps near the float limits."""
        mean, std = (v.astype(np.float64) for v in self._linear_stats)
        bound = np.sqrt(np.finfo(np.float64).max)
        # NaN at padded steps, never read
        with np.errstate(invalid="ignore", over="ignore"):
            Z = np.clip(X / std - mean / std, -bound, bound)
        last = _last_steps(mask, *X.shape[:2])
        return _lagged_at(Z, last, self._linear_steps)

    def _linear_outputs(self, X, mask, window):
        """The linear model's predictions for the raw sequences ``X`` in the
        units the network predicts (float64), or None without one."""
        if not self._has_linear:
            return None
        # row by row (not a BLAS product, whose blocking depends on the
        # number of rows): each sequence gets what it gets alone
        A = self._linear_inputs(X, mask)
        Z = np.einsum("np,po->no", A, self.linear_coef_) + self.linear_intercept_
        if window is None:
            return Z
        loc, scale = window
        mean, std = self._window_target_stats
        # (target_mean_ + target_scale_ * Z - loc) / scale, without overflow
        with np.errstate(over="ignore", invalid="ignore"):
            U = (
                self.target_mean_ / scale
                - loc / scale
                + (self.target_scale_ / scale) * Z
            )
        return (U - mean) / std

    def _to_targets(self, outputs, X):
        """Predictions in the units of ``y`` from the network's ``outputs``
        for the sequences ``X`` (as given to :meth:`predict`)."""
        linear = self._has_linear
        if self.window_norm_ is None and not linear:
            return self.target_mean_ + self.target_scale_ * outputs
        X, mask = check_sequences(
            self, X, reset=False, model_dtype=self.output_weights_.dtype
        )
        window = None
        if self.window_norm_ is not None:
            loc, scale = self._encoder.window_stats(X, mask)
            window = loc[:, :1].astype(np.float64), scale[:, :1].astype(np.float64)
        if linear:
            outputs = outputs + self._linear_outputs(X, mask, window)
        if window is None:
            return self.target_mean_ + self.target_scale_ * outputs
        mean, std = self._window_target_stats
        return window[0] + window[1] * (mean + std * outputs)

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
            "skip": _resolve_skip(self.skip, n_timesteps),
        }

    def _encoder_options(self):
        return {
            "standardize": self.standardize,
            "normal_scores": self.normal_scores,
            "window_norm": self.window_norm_,
        }

    def _initialize(self, network, dtype):
        """Draw the weights; with a linear model, the output layer starts at
        zero, so that the untrained model is the linear one."""
        super()._initialize(network, dtype)
        if self._has_linear:
            self.output_weights_[:] = 0
            self.output_bias_[:] = 0

    @property
    def _has_linear(self):
        """Whether the model has a linear part (``linear_coef_`` is None
        without one, and absent before the first fit)."""
        return getattr(self, "linear_coef_", None) is not None

    def _of_a_series(self):
        """Whether the training sequences are windows of a series."""
        return self.window_norm_ is not None or getattr(self, "_windows", False)

    def _held_out(self, n_samples, targets):
        """The base class's random draw, or for windows of a series the
        last ``validation_fraction`` of them, the ``n_outputs - 1`` before
        them left out (see ``early_stopping``)."""
        if not self._of_a_series():
            idx_train, idx_val = super()._held_out(n_samples, targets)
        else:
            n_val = math.ceil(self.validation_fraction * n_samples)
            gap = min(self.n_outputs_ - 1, max(n_samples - n_val - 1, 0))
            idx_train = np.arange(n_samples - n_val - gap)
            idx_val = np.arange(n_samples - n_val, n_samples)
        # for _validation_score, which adds the linear model's predictions
        self._held_out_rows = idx_val
        return idx_train, idx_val

    def _holds_out(self, n_samples):
        """``early_stopping`` resolved for a fit on ``n_samples``."""
        if self.early_stopping != "auto":
            return self.early_stopping
        n_val = math.ceil(self.validation_fraction * n_samples)
        return bool(self._of_a_series() and n_val >= 2 and n_samples - n_val >= 2)

    def _early_stopping(self, data):
        """``early_stopping`` resolved for a fit on ``data`` (see
        :meth:`_holds_out`)."""
        return self._holds_out(len(data[0]))

    @contextlib.contextmanager
    def _epoch_data(self, data, early_stopping):
        """The base class's parts; with a linear model and a held-out part,
        the linear model alone (the untrained output layer, zero) is the
        first candidate of the best epoch."""
        with super()._epoch_data(data, early_stopping) as parts:
            val = parts[1]
            start = self._has_linear and self.n_iter_ == 0
            if val is not None and start:
                self.best_validation_score_ = self._validation_score(val)
                self._best_params = [p.copy() for p in self._params]
            # for _finish_fit, which weighs the network on it
            self._held_out_part = val
            yield parts

    def _finish_fit(self, data, incremental):
        """With a linear model and a held-out part, weigh the network's
        residual of each target by ``residual_weight_`` (see ``linear``),
        folded into the output layer, which is linear."""
        val = self.__dict__.pop("_held_out_part", None)
        self.__dict__.pop("_linear_fit_outputs", None)
        self.__dict__.pop("_held_out_rows", None)
        self.residual_weight_ = None
        if incremental or val is None or not self._has_linear:
            return
        X, mask, targets, sample_weight = val
        outputs = self._logits(X, mask).astype(np.float64)
        w = sample_weight.astype(np.float64)[:, None]
        # each target's least-squares weight of the residual on the held-out
        # windows, in [0, 1]: 1 where the network adds nothing (all zero)
        norm = np.sum(w * outputs**2, axis=0)
        fit = np.sum(w * outputs * targets, axis=0) / np.where(norm > 0, norm, 1.0)
        self.residual_weight_ = np.clip(np.where(norm > 0, fit, 1.0), 0.0, 1.0)
        self.output_weights_ *= self.residual_weight_.astype(self.output_weights_.dtype)
        self.output_bias_ *= self.residual_weight_.astype(self.output_bias_.dtype)

    def _validation_score(self, val):
        X, mask, targets, sample_weight = val
        outputs = self._logits(X, mask)
        linear = getattr(self, "_linear_fit_outputs", None)
        if linear is not None:
            # R² of the model, not of the residual the network learns (which
            # is 0 where the linear model is exact)
            linear = linear[self._held_out_rows]
            targets, outputs = targets + linear, outputs + linear
        # R² of each target does not change with its scale: score the
        # standardized targets the network learns.
        return float(r2_score(targets, outputs, sample_weight=sample_weight))

    def predict(self, X):
        """Predict the targets of each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like
            Sequences.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, 1-D when ``y`` was 1-D in ``fit``.
        """
        outputs = self._logits(*self._validate_X(X))
        with np.errstate(over="ignore", invalid="ignore"):
            y = self._to_targets(outputs, X)
        # in the model's dtype; predictions beyond its range raise
        y = to_dtype(y, outputs.dtype, what="predictions")
        return y[:, 0] if self._single_output else y

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of :meth:`predict` on ``X``.

        ``y`` and ``sample_weight`` are checked as :meth:`fit` checks them
        (no negative weight, no None or string target), and the sums of
        squares are computed in units of each target's largest magnitude,
        so that targets near the float limits do not overflow.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or list
            Test sequences.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of the predictions, averaged over the targets uniformly.
        """
        return regression_score(y, self.predict(X), sample_weight)

    def transform(self, X):
        """What the output layer reads of each sequence (see ``readout``).

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
            By default the hidden state after each sequence's last real step;
            ``n_features_out`` is ``n_directions * hidden_size``, twice that
            with ``readout='mean_max'``.
        """
        return self._map_features(*self._validate_X(X), np.array)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        """Number of features given by :meth:`transform`."""
        check_is_fitted(self)
        return self._network.n_readout


def _shifted_share(X, mask):
    """The share of the sequences (after the first) that are the one before
    shifted by one step, as :func:`~sklearn_lstm.forecasting.make_windows`
    cuts the windows of a series: at least 0.5 for windows of a series, 1
    for the windows of one series; 0 for sequences of unequal lengths, fewer
    than three or of fewer than two steps."""
    if mask is not None or X.shape[0] < 3 or X.shape[1] < 2:
        return 0.0
    return float((X[1:, :-1] == X[:-1, 1:]).all(axis=(1, 2)).mean())


# Critical values of the augmented Dickey-Fuller test at 5 %, asymptotic
# (MacKinnon, 2010): with a constant, and with a constant and a trend.
ADF_CRITICAL = {"c": -2.86, "ct": -3.41}


def adf_statistic(x, trend=False):
    """The t statistic of the augmented Dickey-Fuller regression of the
    series ``x`` (one lagged difference, a constant and with ``trend`` a
    linear trend): ``dx[t] = a + b * x[t-1] (+ c * t) + d * dx[t-1] + e``,
    the t statistic of ``b``; NaN when the regression is degenerate."""
    dx = np.diff(x)
    x_prev, dx_prev, dx = x[1:-1], dx[:-1], dx[1:]
    columns = [np.ones_like(dx), x_prev, dx_prev]
    if trend:
        columns.append(np.arange(len(dx), dtype=np.float64))
    M = np.column_stack(columns)
    if len(dx) <= M.shape[1]:
        return np.nan
    beta, *_ = np.linalg.lstsq(M, dx, rcond=None)
    r = dx - M @ beta
    s2 = (r @ r) / (len(dx) - M.shape[1])
    var = s2 * np.linalg.pinv(M.T @ M)[1, 1]
    if not (np.isfinite(var) and var > 0):
        return np.nan
    return float(beta[1] / np.sqrt(var))


def _has_unit_root(x):
    """Whether the series ``x`` is found difference-stationary: the
    augmented Dickey-Fuller test rejects a unit root at 5 % neither with a
    constant (a stationary series) nor with a constant and a trend (a
    trend-stationary one)."""
    unit = float(np.max(np.abs(x))) if len(x) else 0.0
    if not (np.isfinite(unit) and unit > 0):
        return False
    with np.errstate(all="ignore"):  # the statistic does not change with scale
        stats = adf_statistic(x / unit), adf_statistic(x / unit, trend=True)
    if not np.isfinite(stats).all():
        return False
    return bool(stats[0] > ADF_CRITICAL["c"] and stats[1] > ADF_CRITICAL["ct"])


def ridge_gcv(A, Y, sample_weight, prior=None, differences=None):
    """Ridge regression of ``Y`` on ``A`` with an intercept, each column's
    penalty chosen by generalized cross-validation.

    The penalties tried are ``sum(s**2) / n_columns_A * 10**k`` for ``k``
    from -4 to 3 in steps of 1/6, with ``s`` the singular values of the
    centred ``A`` (rows
    weighted by ``sample_weight``, scaled to sum to 1); each is scored by
    generalized cross-validation (Golub, Heath and Wahba, 1979), the
    rotation-invariant form of the efficient leave-one-out error that
    :class:`~sklearn.linear_model.RidgeCV` computes: the weighted mean
    squared residual over ``(1 - (df + 1) / n) ** 2``, with ``df`` the
    trace of the hat matrix and ``n`` the sum of the weights, so that
    integer weights act as repeated samples (leave-one-out would leave one
    copy in). Cross-validation is valid for autoregressive models of a
    series (Bergmeir, Hyndman and Koo, 2018).

    With a ``prior``, the coefficients of each column of ``Y`` are shrunk
    either toward zero or toward that column of ``prior`` (the penalty is
    on ``coef - prior``), whichever has the lower error at its best
    penalty: the same fit on ``Y - A @ prior``, whose hat matrix, and so
    ``df``, is the same.

    With ``differences`` too (the indices of ``A``'s columns that hold the
    lags of one feature, most recent first, ``prior`` nonzero only in the
    first), the model is instead translation-equivariant in that feature:
    the coefficients of those columns sum to ``prior``'s, ``coef = prior +
    P @ theta`` with ``theta`` the penalized coefficients of the
    differences of the older lags to the most recent one (``A @ P``; the
    other columns unchanged): a model of the window relative to its last
    value, shrunk toward the naive forecast.

    Returns
    -------
    coef : ndarray of shape (n_columns_A, n_columns_Y)
    intercept, alpha : ndarray of shape (n_columns_Y,)
        ``alpha`` penalizes the squared coefficients (of ``theta`` with
        ``differences``) against the weighted mean (not sum) of squared
        residuals.
    toward : ndarray of shape (n_columns_Y,), dtype int
        Each column's model: 0 shrunk toward zero, 1 toward ``prior``, 2
        the model of the differences.
    """
    n = float(sample_weight.sum())
    w = sample_weight.astype(np.float64) / n
    A_mean = w @ A
    root = np.sqrt(w)[:, None]
    p = A.shape[1]
    if prior is not None and differences is not None and len(differences) > 1:
        first, older = differences[0], differences[1:]
        basis = np.eye(p)[:, [c for c in range(p) if c != first]]
        basis[first, np.searchsorted(np.delete(np.arange(p), first), older)] = -1.0
        candidates = [(2, basis, np.asarray(prior, dtype=np.float64))]
    else:
        candidates = [(0, None, np.zeros((p, Y.shape[1])))]
        if prior is not None:
            candidates.append((1, None, np.asarray(prior, dtype=np.float64)))
    best_err = np.full(Y.shape[1], np.inf)
    coef = np.zeros((p, Y.shape[1]))
    alpha = np.zeros(Y.shape[1])
    toward = np.zeros(Y.shape[1], dtype=int)
    svd = None
    for k, basis, centre in candidates:
        if svd is None or basis is not None:  # shrinking toward 0 or prior: A's
            B = A if basis is None else A @ basis
            U, s, Vt = np.linalg.svd(root * (B - w @ B), full_matrices=False)
            # the mean squared singular value over B's columns
            unit = float(np.sum(s**2)) / max(B.shape[1], 1)
            svd = U, s, Vt, max(unit, np.finfo(np.float64).tiny)
        U, s, Vt, unit = svd
        R = Y - A @ centre  # shrinking toward centre is ridge of R
        R = R - w @ R
        UtR = U.T @ (root * R)
        # the squared residual of the part of R outside U's columns
        outside = ((root * R) ** 2).sum(axis=0) - (UtR**2).sum(axis=0)
        for a in unit * np.logspace(-4, 3, 43):
            shrink = s**2 / (s**2 + a)
            residual = np.maximum(outside, 0) + (
                ((1 - shrink)[:, None] * UtR) ** 2
            ).sum(axis=0)
            df = shrink.sum() + 1
            err = residual / max(1 - df / n, 1e-12) ** 2
            better = err < best_err
            if better.any():
                best_err[better] = err[better]
                theta = Vt.T @ ((s / (s**2 + a))[:, None] * UtR[:, better])
                if basis is not None:
                    theta = basis @ theta
                coef[:, better] = centre[:, better] + theta
                alpha[better] = a
                toward[better] = k
    return coef, w @ Y - A_mean @ coef, alpha, toward


# window_norm='auto' normalizes windows when the last value of the first
# feature explains more than half of each target's variance (R² > 0.5).
AUTO_WINDOW_R2 = 0.5


def _resolve_window_norm(window_norm, X, mask, Y, sample_weight):
    """``window_norm`` at fit: 'auto' is 'last' when the targets continue
    the first feature's series, that is when its last real value explains
    more than half of every target's variance (an R² above 0.5 on the
    training data, as forecasting targets have), and None otherwise."""
    if window_norm != "auto":
        return window_norm
    if mask is None:
        last = X[:, -1, 0]
    else:
        last = X[np.arange(len(X)), np.maximum(mask.sum(axis=1) - 1, 0), 0]
    # in units of the largest magnitude: no overflow near the float limits
    unit = max(float(np.abs(Y).max()), float(np.abs(last).max())) or 1.0
    Y, last = Y.astype(np.float64) / unit, last.astype(np.float64) / unit
    naive = np.average((Y - last[:, None]) ** 2, axis=0, weights=sample_weight)
    mean = np.average(Y, axis=0, weights=sample_weight)
    spread = np.average((Y - mean) ** 2, axis=0, weights=sample_weight)
    return "last" if bool(np.all(naive < AUTO_WINDOW_R2 * spread)) else None


# skip='auto' reads at most this many steps of the inputs.
AUTO_SKIP_STEPS = 128

# linear='auto' fits the linear model of sequences that are not windows of a
# series when it reads at most this many numbers of each (steps times
# features): every univariate sequence, whose last AUTO_SKIP_STEPS steps it
# reads. Its singular value decomposition costs n_samples * n_inputs**2.
AUTO_LINEAR_INPUTS = 1024


def _resolve_skip(skip, n_timesteps):
    """The number of steps of inputs the head reads, for training sequences
    of ``n_timesteps`` steps: ``skip``, or for 'auto' every step of the
    longest, up to ``AUTO_SKIP_STEPS``."""
    if skip == "auto":
        return int(min(np.max(n_timesteps), AUTO_SKIP_STEPS))
    return skip
