"""Export fitted estimators to ONNX, with ONNX's native ``LSTM`` operator.

Needs the optional extra ``onnx`` (``pip install "sklearn-lstm[onnx]"``:
skl2onnx, onnx and onnxruntime); they are imported only when a function of
this module runs, never by ``import sklearn_lstm``.

:func:`to_onnx` converts a fitted :class:`~sklearn_lstm.LSTMSequenceClassifier`,
:class:`~sklearn_lstm.LSTMSequenceRegressor` or
:class:`~sklearn_lstm.LSTMSequenceTagger` into a graph with the inputs

- ``X``: float32 of shape ``(N, T, D)``, sequences zero-padded to ``T`` steps;
- ``sequence_lens``: int32 of shape ``(N,)``, the number of real steps of each
  sequence;

and the outputs of the estimator's ``predict`` (and ``predict_proba``):

- classifier: ``label`` ``(N,)`` and ``probabilities`` ``(N, n_classes)``;
- regressor: ``variable``, float32 ``(N,)`` for a 1-D ``y`` in ``fit``, else
  ``(N, n_outputs)``, in the units of ``y``;
- tagger: ``label`` ``(N, T)`` and ``probabilities`` ``(N, T, n_classes)``, one
  row per time step. At the padded steps of a sequence (``t >=
  sequence_lens[n]``) the probabilities are all 0 and the label is
  ``classes_[0]``; :func:`unpad` keeps the real steps, as the tagger's
  ``predict`` returns them for a list of sequences.

:func:`onnx_inputs` builds ``X`` and ``sequence_lens`` from any input form the
estimators take (3-D arrays, 2-D univariate arrays, NaN padding, lists of
sequences of different lengths). The graph is in float32 because
onnxruntime's CPU ``LSTM`` kernel has no float64 version.

Importing this module does not register anything; :func:`register_converters`
(which :func:`to_onnx` calls) makes ``skl2onnx.to_onnx`` and
``skl2onnx.convert_sklearn`` know the estimators of this package too.
"""

from numbers import Integral
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._classifier import LSTMSequenceClassifier
from ._encoder import WINDOW_SCALE_FLOOR
from ._network import HEADS
from ._readouts import READOUTS
from ._regressor import LSTMSequenceRegressor
from ._tagger import LSTMSequenceTagger
from ._validation import _cast, as_array, check_sequences

__all__ = ["onnx_inputs", "register_converters", "to_onnx", "unpad"]

# The lowest target_opset the graph can be built in: it uses ONNX's Range.
MIN_OPSET = 11

# Gate blocks of ONNX's LSTM, (i, o, f, c), as indices of ours, (i, f, g, o).
_ONNX_GATES = [0, 3, 1, 2]

_INSTALL_HINT = (
    'ONNX export needs skl2onnx, onnx and onnxruntime: pip install "sklearn-lstm[onnx]"'
)


def _require(module):
    """Import an optional dependency, saying how to install it if missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc


class _AnyLength(BaseEstimator):
    """Throwaway estimator for :func:`check_sequences`, which records on it."""


def onnx_inputs(X, dtype=np.float32):
    """The inputs of an exported graph for sequences ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of array-like
        Sequences in any form the estimators take: 2-D input holds univariate
        sequences; sequences of different lengths are a list of arrays of
        shape ``(n_timesteps_i, n_features)`` or ``(n_timesteps_i,)``, or an
        array padded with trailing NaN time steps.

    dtype : dtype, default=np.float32
        Type of the returned ``X``, a floating-point one: the exported graph
        takes float32.

    Returns
    -------
    inputs : dict
        ``{"X": X_padded, "sequence_lens": lengths}``, ready for
        ``onnxruntime.InferenceSession.run(None, inputs)``. ``X_padded`` has
        shape ``(n_samples, max_length, n_features)`` with zeros after the end
        of each sequence; ``lengths`` is int32 of shape ``(n_samples,)``.

    See Also
    --------
    unpad : The real steps of a tagger's per-step outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm.onnx import onnx_inputs
    >>> inputs = onnx_inputs([np.array([1.0, 2.0, 3.0]), np.array([4.0])])
    >>> inputs["X"][:, :, 0]
    array([[1., 2., 3.],
           [4., 0., 0.]], dtype=float32)
    >>> inputs["sequence_lens"]
    array([3, 1], dtype=int32)
    """
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if dtype is None or kind != "f":  # np.dtype(None) is float64
        raise TypeError(
            "dtype must be a floating-point dtype (the exported graph takes "
            f"float32); got {dtype!r}."
        )
    X, mask = check_sequences(_AnyLength(), X, reset=True)
    if mask is None:
        lengths = np.full(X.shape[0], X.shape[1])
    else:
        lengths = mask.sum(axis=1)
    # values beyond the range of dtype raise, naming it, instead of turning inf
    X = _cast(X, dtype, what="the dtype of the graph's input")
    return {
        "X": np.ascontiguousarray(X),
        "sequence_lens": lengths.astype(np.int32),
    }


def unpad(outputs, sequence_lens):
    """The real steps of each sequence of a per-step output of the graph.

    A tagger's graph gives ``label`` ``(N, T)`` and ``probabilities`` ``(N, T,
    n_classes)`` for zero-padded sequences; the tagger's ``predict`` and
    ``predict_proba`` give, for a list of sequences (or NaN padding), one
    array per sequence, of its length. This cuts the first into the second.

    Parameters
    ----------
    outputs : ndarray of shape (n_samples, n_timesteps, ...)
        An output of the graph, one row per time step.

    sequence_lens : array-like of shape (n_samples,)
        The number of real steps of each sequence: the graph's input
        ``sequence_lens``, as :func:`onnx_inputs` builds it.

    Returns
    -------
    outputs : list of ndarray
        ``outputs[i, :sequence_lens[i]]`` for each sequence ``i`` (views).

    Raises
    ------
    ValueError
        When ``outputs`` has no step axis, or ``sequence_lens`` is not one
        length per row of ``outputs`` between 0 and its number of steps.
    TypeError
        When ``sequence_lens`` does not hold integers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lstm.onnx import unpad
    >>> unpad(np.array([[1, 0, 1], [0, 0, 0]]), [3, 1])
    [array([1, 0, 1]), array([0])]
    """
    outputs = as_array(outputs, "outputs")
    if outputs.ndim < 2:
        raise ValueError(
            "outputs must have one row per time step, of shape (n_samples, "
            f"n_timesteps, ...); got shape {outputs.shape}."
        )
    lens = as_array(sequence_lens, "sequence_lens")
    if lens.size == 0 and lens.dtype.kind == "f":  # [] is a float array
        lens = lens.astype(np.intp)
    elif lens.dtype == object and all(
        isinstance(n, Integral) and not isinstance(n, bool | np.bool_)
        for n in lens.ravel()
    ):
        try:
            lens = lens.astype(np.int64)
        except OverflowError:
            raise ValueError(
                "sequence_lens holds integers beyond int64: each length must be "
                f"between 0 and the {outputs.shape[1]} time steps of outputs."
            ) from None
    if lens.dtype.kind not in "iu":
        raise TypeError(
            f"sequence_lens must hold integers, got an array of {lens.dtype}."
        )
    if lens.shape != (len(outputs),):
        raise ValueError(
            f"sequence_lens.shape == {lens.shape}, expected {(len(outputs),)}: one "
            "length per row of outputs."
        )
    T = outputs.shape[1]
    bad = np.flatnonzero((lens < 0) | (lens > T))
    if bad.size:
        raise ValueError(
            f"sequence_lens[{bad[0]}] == {lens[bad[0]]}: each length must be "
            f"between 0 and the {T} time steps of outputs."
        )
    return [out[:n] for out, n in zip(outputs, lens.tolist())]


def to_onnx(estimator, *, sequence_lens=True, zipmap=False, target_opset=None):
    """Convert a fitted estimator into an ONNX model.

    Parameters
    ----------
    estimator : LSTMSequenceClassifier, LSTMSequenceRegressor or \
            LSTMSequenceTagger
        A fitted estimator: any number of layers, unidirectional or
        bidirectional, any ``readout`` ('last', 'mean', 'max', 'mean_max'),
        any ``patch_size_``.

    sequence_lens : bool, default=True
        Whether the graph has the int32 input ``sequence_lens`` of shape
        ``(N,)`` (sequences of different lengths, zero-padded in ``X``). When
        False, the graph's only input is ``X`` and every sequence has ``T``
        steps.

    zipmap : bool or 'columns', default=False
        skl2onnx's option for classifiers: False gives ``probabilities`` as a
        float32 tensor; True as a list of dicts (a ``ZipMap``), 'columns' as
        one output per class. Only used for an LSTMSequenceClassifier.

    target_opset : int or dict, default=None
        ONNX opset, from 11 (the first with ``Range``) to the latest that
        skl2onnx has tested; a dict gives it for the domain ``''`` (and
        others: ints >= 1). None, or a dict without ``''``, uses skl2onnx's
        default for ``''``.

    Returns
    -------
    model : onnx.ModelProto
        Inputs ``X`` (float32, ``(N, T, D)``) and ``sequence_lens`` (int32,
        ``(N,)``). Outputs: ``label`` and ``probabilities`` for a classifier
        (``(N,)`` and ``(N, n_classes)``) or a tagger (``(N, T)`` and ``(N,
        T, n_classes)``); ``variable`` for a regressor (float32, ``(N,)`` or
        ``(N, n_outputs)`` as ``predict``).

    Raises
    ------
    TypeError
        For an estimator other than these three, or a ``target_opset`` that
        is not an int.
    ValueError
        For a ``target_opset`` outside the supported range, or a model
        whose weights, statistics or target scaling float32 cannot represent
        (fitted on steps or targets of magnitude 1e300 or 1e-300).

    See Also
    --------
    onnx_inputs : Builds the inputs from any form of sequences.
    unpad : The real steps of a tagger's per-step outputs.

    Notes
    -----
    Each layer becomes one ONNX ``LSTM`` node. Its weights are the fitted
    ones in float32, with the gate blocks reordered from (i, f, g, o) to
    ONNX's (i, o, f, c) and transposed: ``W = Wx.T``, ``R = Wh.T``, and the
    bias in ``Wb`` with ``Rb = 0``; a bidirectional layer is one node with
    ``direction="bidirectional"`` and the two directions stacked [forward,
    reverse]. ``X`` is standardized first (``Sub``, ``Div``) when the estimator
    has ``standardize=True``, and transposed to time-major, as onnxruntime
    supports only ``layout=0``; a network that reads patches of ``k`` steps
    gets ``X`` reshaped to ``(T / k, N, k * D)`` (``Pad``, ``Reshape``) and
    ``ceil(sequence_lens / k)``. This part of the graph is the same for the
    three estimators; their heads differ:

    - classifier: the readout of the top layer goes through ``Gemm`` and
      ``Softmax``: ``'last'`` reads its ``Y_h`` (the state after each
      sequence's last real step, and for the reverse direction after step
      0); ``'mean'`` and ``'max'`` reduce its ``Y`` over the real steps,
      masked with ``sequence_lens``. ``ArgMax`` and a ``Gather`` in
      ``classes_`` give the label.
    - regressor: the same readouts, then ``Gemm``, ``Mul`` by
      ``target_scale_`` and ``Add`` of ``target_mean_`` (the targets are
      standardized in training), and a ``Reshape`` to ``(N,)`` for a 1-D
      ``y``.
    - tagger: ``MatMul`` and ``Add`` of every step of ``Y``, ``Softmax`` over
      the classes, multiplied by the mask of the real steps (so the padded
      steps' probabilities are 0), ``ArgMax`` and ``Gather``.

    Examples
    --------
    >>> import onnxruntime as ort  # doctest: +SKIP
    >>> from sklearn_lstm.onnx import onnx_inputs, to_onnx
    >>> model = to_onnx(clf)  # doctest: +SKIP
    >>> session = ort.InferenceSession(model.SerializeToString())  # doctest: +SKIP
    >>> label, proba = session.run(None, onnx_inputs(X))  # doctest: +SKIP
    """
    skl2onnx = _require("skl2onnx")
    data_types = _require("skl2onnx.common.data_types")
    if type(estimator) not in _ALIASES:
        raise TypeError(
            f"to_onnx converts {', '.join(c.__name__ for c in _ALIASES)}; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    target_opset = _check_target_opset(target_opset, skl2onnx)
    register_converters()
    _check_supported(estimator)
    _check_float32(estimator)
    options = None
    if isinstance(estimator, LSTMSequenceClassifier):
        options = {id(estimator): {"zipmap": zipmap}}
    elif zipmap:
        raise ValueError(
            f"zipmap applies to classifiers only; got zipmap={zipmap!r} for "
            f"{type(estimator).__name__}."
        )
    n_features = estimator._n_step_features
    initial_types = [("X", data_types.FloatTensorType([None, None, n_features]))]
    if sequence_lens:
        initial_types.append(("sequence_lens", data_types.Int32TensorType([None])))
    return skl2onnx.convert_sklearn(
        estimator,
        initial_types=initial_types,
        target_opset=target_opset,
        options=options,
    )


def _check_target_opset(target_opset, skl2onnx):
    """``target_opset`` as skl2onnx reads it, or an error for one the
    converters cannot build a valid graph for, raised before skl2onnx
    compares it with its own numbers.

    A dict without the domain ``''`` gets skl2onnx's default for it (as
    None does): skl2onnx itself fails on such a dict."""
    if target_opset is None:
        return None
    highest = skl2onnx.get_latest_tested_opset_version()
    if not isinstance(target_opset, dict):
        _check_opset(target_opset, "target_opset", MIN_OPSET, highest)
        if not MIN_OPSET <= target_opset <= highest:
            raise ValueError(
                f"target_opset={target_opset} is not supported: the graph needs "
                f"opset {MIN_OPSET} or above (ONNX's Range), and skl2onnx "
                f"{skl2onnx.__version__} converts up to {highest}."
            )
        return target_opset
    opsets = {"": highest}
    for domain, opset in target_opset.items():
        if not isinstance(domain, str):
            raise TypeError(
                "target_opset must be an int or a dict of them by domain (a str, "
                f"'' for ONNX's main domain); got the key {domain!r}."
            )
        if domain == "" and opset is None:
            continue
        if domain == "":
            _check_opset(opset, "target_opset", MIN_OPSET, highest)
            opsets[""] = _check_target_opset(opset, skl2onnx)
        else:
            _check_opset(opset, f"target_opset[{domain!r}]", 1, None)
            opsets[domain] = opset
    return opsets


def _check_opset(opset, name, lowest, highest):
    """Raise a TypeError unless ``opset`` is an int (not a bool)."""
    if not isinstance(opset, Integral) or isinstance(opset, bool | np.bool_):
        if highest is None:
            expected = f"an int >= {lowest}"
        else:
            expected = (
                f"an int (or a dict of them by domain), from {lowest} to {highest}"
            )
        raise TypeError(f"{name} must be {expected}; got {opset!r}.")
    if highest is None and opset < lowest:
        raise ValueError(f"{name} must be an int >= {lowest}; got {opset}.")


def register_converters():
    """Register the converters of this package with skl2onnx.

    After this call, ``skl2onnx.to_onnx(estimator, X.astype(np.float32))``
    converts an :class:`~sklearn_lstm.LSTMSequenceClassifier`,
    :class:`~sklearn_lstm.LSTMSequenceRegressor` or
    :class:`~sklearn_lstm.LSTMSequenceTagger` (with one input, ``X``; pass two
    ``initial_types`` to get ``sequence_lens`` too). Calling it again does
    nothing more.
    """
    skl2onnx = _require("skl2onnx")
    skl2onnx.update_registered_converter(
        LSTMSequenceClassifier,
        _ALIASES[LSTMSequenceClassifier],
        _classifier_shape_calculator,
        _convert_classifier,
        options={"zipmap": [False, True, "columns"], "nocl": [False, True]},
    )
    skl2onnx.update_registered_converter(
        LSTMSequenceRegressor,
        _ALIASES[LSTMSequenceRegressor],
        _regressor_shape_calculator,
        _convert_regressor,
    )
    skl2onnx.update_registered_converter(
        LSTMSequenceTagger,
        _ALIASES[LSTMSequenceTagger],
        _tagger_shape_calculator,
        _convert_tagger,
        parser=_parse_tagger,
        options={"nocl": [False, True]},
    )


# -- the converters -----------------------------------------------------------

# skl2onnx's names of the estimators' operators.
_ALIASES = {
    LSTMSequenceClassifier: "SklearnLstmSequenceClassifier",
    LSTMSequenceRegressor: "SklearnLstmSequenceRegressor",
    LSTMSequenceTagger: "SklearnLstmSequenceTagger",
}


def _check_supported(estimator):
    """Raise for variants of the estimators that the converter does not know."""
    cell = estimator._network.cell
    if cell not in _ONNX_CELLS:
        raise NotImplementedError(
            f"ONNX export of {cell!r} cells is not implemented; known: "
            f"{sorted(_ONNX_CELLS)}."
        )


def _check_float32(estimator):
    """Refuse a model whose numbers a float32 graph cannot hold: weights or
    statistics beyond float32's largest value, or scales (divisors and
    factors) below its smallest normal one. Such a graph would give inf, NaN
    or 0 where ``predict`` does not: a model fitted on steps of 1e-300 (its
    standard deviation 1e-300) or on targets of 1e300."""
    finfo = np.finfo(np.float32)
    encoder = estimator._encoder
    window_norm = getattr(encoder, "window_norm", None)
    checks = [("a weight of the network", p, False) for p in estimator._params]
    if encoder.standardize or window_norm:
        checks.append(
            ("the mean of the training steps (_encoder.mean)", encoder.mean, False)
        )
        checks.append(
            (
                "the standard deviation of the training steps (_encoder.std)",
                encoder.std,
                True,
            )
        )
    for values, _ in zip(encoder.scored_features, encoder.score_knots):
        checks.append(
            ("a knot of the normal scores (_encoder.score_knots)", values, False)
        )
    if isinstance(estimator, LSTMSequenceRegressor):
        checks.append(("target_mean_", estimator.target_mean_, False))
        checks.append(("target_scale_", estimator.target_scale_, True))
        if window_norm:
            mean_u, std_u = estimator._window_target_stats
            checks.append(("the mean of the window targets", mean_u, False))
            checks.append(("the scale of the window targets", std_u, True))
        if getattr(estimator, "linear_coef_", None) is not None:
            mean_l, std_l = estimator._linear_stats
            checks.append(("linear_coef_", estimator.linear_coef_, False))
            checks.append(("linear_intercept_", estimator.linear_intercept_, False))
            checks.append(("the mean of the linear model's inputs", mean_l, False))
            checks.append(("the scale of the linear model's inputs", std_l, True))
    for what, values, is_scale in checks:
        values = np.abs(np.asarray(values, dtype=np.float64))
        if not values.size:
            continue
        bad = values > finfo.max
        if is_scale:
            bad |= (values > 0) & (values < finfo.smallest_normal)
        if bad.any():
            raise ValueError(
                f"to_onnx builds a float32 graph, and {what} of this "
                f"{type(estimator).__name__} is {values[bad].flat[0]:.4g}, which "
                f"float32 cannot represent (magnitudes from "
                f"{finfo.smallest_normal:.4g} to {finfo.max:.4g}): the graph "
                "would give inf, NaN or 0. Rescale X (or y) before fit to export "
                "the model."
            )


def _n_directions(estimator):
    return estimator._network.n_directions


def _check_inputs(operator, n_outputs):
    """Check the types of ``X`` and ``sequence_lens``; the batch dimension."""
    data_types = _require("skl2onnx.common.data_types")
    if len(operator.inputs) not in (1, 2) or len(operator.outputs) != n_outputs:
        raise RuntimeError(
            f"An {type(operator.raw_operator).__name__} takes X and optionally "
            f"sequence_lens, and gives {n_outputs} output(s); got "
            f"{len(operator.inputs)} inputs and {len(operator.outputs)} outputs."
        )
    X_type = operator.inputs[0].type
    if not isinstance(X_type, data_types.FloatTensorType):
        raise TypeError(
            f"X must be a float32 tensor, not {type(X_type).__name__}: "
            "onnxruntime's CPU LSTM kernel has no float64 version. Convert with "
            "X.astype(np.float32)."
        )
    if len(operator.inputs) == 2 and not isinstance(
        operator.inputs[1].type, data_types.Int32TensorType
    ):
        raise TypeError("sequence_lens must be an int32 tensor.")
    return operator.inputs[0].get_first_dimension()


def _label_type(operator):
    """skl2onnx's tensor type of the labels: strings or int64."""
    data_types = _require("skl2onnx.common.data_types")
    utils = _require("skl2onnx.common.utils_classifier")
    classes = utils.get_label_classes(operator.scope_inst, operator.raw_operator)
    if np.asarray(classes).dtype.kind in "OUS":
        return data_types.StringTensorType, len(classes)
    return data_types.Int64TensorType, len(classes)


def _classifier_shape_calculator(operator):
    """Types and shapes of ``label`` ``(N,)`` and ``probabilities`` ``(N, K)``."""
    data_types = _require("skl2onnx.common.data_types")
    N = _check_inputs(operator, 2)
    label_type, K = _label_type(operator)
    operator.outputs[0].type = label_type([N])
    operator.outputs[1].type = data_types.FloatTensorType([N, K])


def _regressor_shape_calculator(operator):
    """Type and shape of ``variable``: ``(N,)`` for a 1-D ``y`` in ``fit``,
    else ``(N, n_outputs)``."""
    data_types = _require("skl2onnx.common.data_types")
    N = _check_inputs(operator, 1)
    est = operator.raw_operator
    shape = [N] if est._single_output else [N, est.n_outputs_]
    operator.outputs[0].type = data_types.FloatTensorType(shape)


def _tagger_shape_calculator(operator):
    """Types and shapes of ``label`` ``(N, T)`` and ``probabilities`` ``(N, T,
    K)``."""
    data_types = _require("skl2onnx.common.data_types")
    N = _check_inputs(operator, 2)
    shape = operator.inputs[0].type.shape
    T = shape[1] if len(shape) > 1 else None
    label_type, K = _label_type(operator)
    operator.outputs[0].type = label_type([N, T])
    operator.outputs[1].type = data_types.FloatTensorType([N, T, K])


def _parse_tagger(scope, model, inputs, custom_parsers=None):
    """The tagger's operator and its outputs ``label`` and ``probabilities``:
    skl2onnx's default parser gives two only to classifiers."""
    data_types = _require("skl2onnx.common.data_types")
    operator = scope.declare_local_operator(_ALIASES[type(model)], model)
    operator.inputs = inputs
    operator.outputs.append(
        scope.declare_local_variable("label", data_types.Int64TensorType())
    )
    operator.outputs.append(
        scope.declare_local_variable("probabilities", data_types.FloatTensorType())
    )
    return operator.outputs


def _dense_head(graph, est, operator):
    """The head's outputs before its activation, read from the readout of a
    network that reads a whole sequence."""
    z = _features(graph, est, *_input_names(operator))
    return graph.node(
        "Gemm", [z, graph.const(est.output_weights_), graph.const(est.output_bias_)]
    )


def _convert_classifier(scope, operator, container):
    """ONNX nodes of a fitted LSTMSequenceClassifier."""
    est = operator.raw_operator
    graph = _Graph(scope, container)
    logits = _dense_head(graph, est, operator)
    label, proba = (output.full_name for output in operator.outputs)
    op = HEADS[est._network.head].onnx_op
    container.add_node(op, [logits], [proba], name=graph.op_name(op), axis=1)
    _label_of(graph, est, proba, label)


def _convert_regressor(scope, operator, container):
    """ONNX nodes of a fitted LSTMSequenceRegressor."""
    est = operator.raw_operator
    graph = _Graph(scope, container)
    window_norm = getattr(est, "window_norm_", None)
    linear = getattr(est, "linear_coef_", None) is not None
    if not (window_norm or est._network.skip or linear):
        outputs = _dense_head(graph, est, operator)
        # back to the units of y: the network predicts standardized targets
        y = graph.node("Mul", [outputs, graph.const(est.target_scale_)])
        y = graph.node("Add", [y, graph.const(est.target_mean_)])
    else:
        y = _window_regressor(graph, est, *_input_names(operator))
    shape = [-1] if est._single_output else [-1, est.n_outputs_]
    container.add_node(
        "Reshape",
        [y, graph.const(shape)],
        [operator.outputs[0].full_name],
        name=graph.op_name("Reshape"),
    )


def _window_regressor(graph, est, X, lens):
    """The regressor's predictions with window normalization or a skip: the
    inputs encoded here (each window less its location, over its scale, or
    standardized; then the normal scores; zeros at padded steps), read by
    the recurrent stack and, through the skip, by the head; the outputs
    mapped back with each window's location and scale."""
    import copy

    encoder = est._encoder
    window_norm = getattr(est, "window_norm_", None)
    if window_norm and len(encoder.scored_features):
        raise NotImplementedError(
            "ONNX export of window_norm with normal_scores is not implemented."
        )
    shape = graph.node("Shape", [X])
    T = graph.node("Gather", [shape, graph.const([1])])  # (1,)
    if lens is None:  # every sequence has T steps
        lens64 = graph.node(
            "Expand", [T, graph.node("Gather", [shape, graph.const([0])])]
        )
    else:
        lens64 = graph.cast(lens, "INT64")
    lens_col = graph.node("Reshape", [lens64, graph.const([-1, 1])])  # (N, 1)
    steps = graph.node(
        "Range", [graph.const(0), graph.node("Squeeze", [T]), graph.const(1)]
    )
    steps = graph.node("Reshape", [steps, graph.const([1, -1])])  # (1, T)
    real = graph.cast(graph.node("Less", [steps, lens_col]), "FLOAT")  # (N, T)
    real = graph.node("Reshape", [real, graph.const([0, 0, 1])])  # (N, T, 1)
    D = encoder.n_features
    if window_norm:
        n = graph.cast(lens_col, "FLOAT")  # (N, 1)
        kept = graph.node("Mul", [X, real])
        mean = graph.node("Div", [graph.reduce("ReduceSum", kept, axis=1), n])
        centred = graph.node(
            "Mul",
            [
                graph.node(
                    "Sub", [X, graph.node("Reshape", [mean, graph.const([-1, 1, D])])]
                ),
                real,
            ],
        )
        # the standard deviation in units of the largest deviation: squares of
        # deviations beyond 1.8e19 overflow float32
        top = graph.reduce("ReduceMax", graph.node("Abs", [centred]), axis=1)
        top = graph.node("Max", [top, graph.const(np.finfo(np.float32).tiny)])
        unit = graph.node(
            "Div", [centred, graph.node("Reshape", [top, graph.const([-1, 1, D])])]
        )
        var = graph.reduce("ReduceSum", graph.node("Mul", [unit, unit]), axis=1)
        std = graph.node(
            "Mul", [top, graph.node("Sqrt", [graph.node("Div", [var, n])])]
        )
        floor = WINDOW_SCALE_FLOOR * encoder.std.astype(np.float64)
        scale = graph.node("Max", [std, graph.const(floor)])  # (N, D)
        if window_norm == "last":
            last_step = graph.node("Sub", [lens_col, graph.const(1)])
            at_last = graph.cast(graph.node("Equal", [steps, last_step]), "FLOAT")
            at_last = graph.node("Reshape", [at_last, graph.const([0, 0, 1])])
            loc = graph.reduce("ReduceSum", graph.node("Mul", [X, at_last]), axis=1)
        else:
            loc = mean
        x = graph.node(
            "Sub", [X, graph.node("Reshape", [loc, graph.const([-1, 1, D])])]
        )
        x = graph.node(
            "Div", [x, graph.node("Reshape", [scale, graph.const([-1, 1, D])])]
        )
    elif encoder.standardize:
        x = graph.node("Sub", [X, graph.const(encoder.mean)])
        x = graph.node("Div", [x, graph.const(encoder.std)])
    else:
        x = X
    scores = _normal_scores(graph, encoder, X)
    if scores:
        x = graph.node("Concat", [x, *scores], axis=2)
    x = graph.node("Mul", [x, real])  # padded steps are zero
    # the recurrent stack reads the encoded inputs as they are
    plain = copy.copy(est)
    plain._encoder = copy.copy(encoder)
    plain._encoder.standardize = False
    plain._encoder.window_norm = None
    plain._encoder.scored_features = np.empty(0, dtype=np.intp)
    plain._encoder.score_knots = []
    # the readout, then the skip (the inputs of the last k real steps, most
    # recent first), as _features reads them from the encoded x
    z = _features(graph, plain, x, lens)
    outputs = graph.node(
        "Gemm", [z, graph.const(est.output_weights_), graph.const(est.output_bias_)]
    )
    linear = None
    if getattr(est, "linear_coef_", None) is not None:
        linear = _linear_model(graph, est, X, real, lens)
    if not window_norm:
        if linear is not None:
            outputs = graph.node("Add", [outputs, linear])
        y = graph.node("Mul", [outputs, graph.const(est.target_scale_)])
        return graph.node("Add", [y, graph.const(est.target_mean_)])
    mean_u, std_u = est._window_target_stats
    loc0 = graph.node("Gather", [loc, graph.const([0])], axis=1)  # (N, 1)
    scale0 = graph.node("Gather", [scale, graph.const([0])], axis=1)
    if linear is not None:
        # the linear model's prediction plus the network's, in the window's
        # units: target_mean_ + target_scale_ * linear + scale * std * outputs
        y = graph.node("Mul", [linear, graph.const(est.target_scale_)])
        y = graph.node("Add", [y, graph.const(est.target_mean_)])
        rest = graph.node("Mul", [outputs, graph.const(std_u)])
        rest = graph.node("Mul", [rest, scale0])
        return graph.node("Add", [y, rest])
    u = graph.node(
        "Add", [graph.node("Mul", [outputs, graph.const(std_u)]), graph.const(mean_u)]
    )
    return graph.node("Add", [graph.node("Mul", [u, scale0]), loc0])


def _linear_model(graph, est, X, real, lens):
    """The regressor's linear model (``linear``) from the raw inputs ``X``
    (N, T, D): the standardized inputs of the last steps, most recent first
    (as :func:`_skip` reads them), through ``linear_coef_``; ``(N,
    n_outputs)`` standardized targets."""
    mean_l, std_l = est._linear_stats
    x = graph.node("Sub", [X, graph.const(mean_l)])
    x = graph.node("Mul", [graph.node("Div", [x, graph.const(std_l)]), real])
    x = graph.node("Transpose", [x], perm=[1, 0, 2])  # (T, N, D)
    steps = SimpleNamespace(skip=est._linear_steps, readout="last")
    s = _skip(graph, steps, x, lens)
    coef, intercept = est.linear_coef_, est.linear_intercept_
    return graph.node("Gemm", [s, graph.const(coef), graph.const(intercept)])


def _convert_tagger(scope, operator, container):
    """ONNX nodes of a fitted LSTMSequenceTagger."""
    est = operator.raw_operator
    graph = _Graph(scope, container)
    X, lens = _input_names(operator)
    Y = _features(graph, est, X, lens)  # (T, N, F): every step
    logits = graph.node("MatMul", [Y, graph.const(est.output_weights_)])
    logits = graph.node("Add", [logits, graph.const(est.output_bias_)])
    # axis 2 is the last one: the same softmax before and after opset 13
    proba = graph.node(HEADS[est._network.head].onnx_op, [logits], axis=2)
    if lens is not None:  # padded steps: probabilities 0, label classes_[0]
        mask = graph.cast(graph.real_steps(Y, lens), "FLOAT")
        proba = graph.node("Mul", [proba, mask])
    label, proba_out = (output.full_name for output in operator.outputs)
    container.add_node(
        "Transpose",
        [proba],
        [proba_out],
        name=graph.op_name("Transpose"),
        perm=[1, 0, 2],
    )
    _label_of(graph, est, proba_out, label)


def _input_names(operator):
    """Names of ``X`` and of ``sequence_lens`` (None when the graph has no
    such input)."""
    X = operator.inputs[0].full_name
    lens = operator.inputs[1].full_name if len(operator.inputs) > 1 else None
    return X, lens


def _features(graph, estimator, X, lens):
    """What the estimator's head reads, from the graph's inputs.

    The inputs standardized as the estimator reads them, the stack of
    ``LSTM`` nodes, then the readout: ``(N, F)``, or ``(T, N, F)`` (time-major)
    when ``readout`` is None; then the skip, when the network has one
    (:func:`_skip`). The one piece of graph that every converter of this
    module shares; the heads differ.
    """
    _check_supported(estimator)
    encoder, network = estimator._encoder, estimator._network
    scores = _normal_scores(graph, encoder, X)
    if encoder.standardize:  # as the model reads its inputs
        X = graph.node("Sub", [X, graph.const(encoder.mean)])
        X = graph.node("Div", [X, graph.const(encoder.std)])
    if scores:
        X = graph.node("Concat", [X, *scores], axis=2)
    x = graph.node("Transpose", [X], perm=[1, 0, 2])  # (T, N, D): time-major
    x_steps, step_lens = x, lens  # what the skip reads: before patching
    if network.patch_size > 1:
        x, lens = _patches(graph, network, x, lens)
    Y, Y_h = _recurrent_stack(graph, estimator, x, lens)
    if network.readout is None:
        z = Y
    else:
        z = READOUTS[network.readout].onnx(graph, Y, Y_h, lens)
    if not getattr(network, "skip", 0):
        return z
    s = _skip(graph, network, x_steps, step_lens)
    return graph.node("Concat", [z, s], axis=2 if network.readout is None else 1)


def _skip(graph, network, x, lens):
    """The network's skip from the encoded inputs ``x`` (T, N, D), as its
    ``_lagged`` and ``_lagged_at`` compute it: the inputs of the ``k``
    steps up to each step, most recent first, ``(T, N, k * D)`` (``Pad`` with
    ``j`` zero steps in front and ``Slice`` back to ``T`` steps for lag
    ``j``); for a many-to-one network, at each sequence's last real step,
    ``(N, k * D)`` (``Gather`` of the last step, or with ``sequence_lens`` a
    sum over the steps masked by ``t == sequence_lens - 1``). Per-step
    outputs at padded steps are masked by the converter."""
    lags = [x]
    for j in range(1, network.skip):
        shifted = graph.node("Pad", [x, graph.const([j, 0, 0, 0, 0, 0])])
        lags.append(
            graph.node(
                "Slice",
                [shifted, graph.const([0]), graph.const([-j]), graph.const([0])],
            )
        )
    s = lags[0] if len(lags) == 1 else graph.node("Concat", lags, axis=2)
    if network.readout is None:
        return s
    if lens is None:
        return graph.node("Gather", [s, graph.const(-1)], axis=0)
    T = graph.node("Gather", [graph.node("Shape", [s]), graph.const(0)])
    steps = graph.node("Range", [graph.const(0), T, graph.const(1)])
    steps = graph.node("Reshape", [steps, graph.const([-1, 1])])  # (T, 1)
    last = graph.node("Sub", [graph.cast(lens, "INT64"), graph.const(1)])
    at_last = graph.node("Equal", [steps, last])  # (T, N)
    at_last = graph.node("Reshape", [at_last, graph.const([0, 0, 1])])
    return graph.reduce(
        "ReduceSum", graph.node("Mul", [s, graph.cast(at_last, "FLOAT")])
    )


def _patches(graph, network, x, lens):
    """``x`` (T, N, D) read in patches of ``k`` steps, as the network's
    ``_patches``: ``(ceil(T / k), N, k * D)``, padded with zero steps, and
    each sequence's length ``ceil(sequence_lens / k)`` (a patch is real when
    its first step is)."""
    k, D = network.patch_size, network.n_inputs
    if lens is not None:  # padded steps inside a real patch read as zeros
        x = graph.node("Mul", [x, graph.cast(graph.real_steps(x, lens), "FLOAT")])
    shape = graph.node("Shape", [x])
    T = graph.node("Gather", [shape, graph.const([0])])  # (1,) int64
    # -T mod k steps of zeros: ONNX's integer Mod takes the divisor's sign,
    # as Python's % does
    n_pad = graph.node("Mod", [graph.node("Neg", [T]), graph.const([k])])
    # pads: (begin, begin, begin, end, end, end) of the axes (T, N, D)
    pads = graph.node(
        "Concat", [graph.const([0, 0, 0]), n_pad, graph.const([0, 0])], axis=0
    )
    x = graph.node("Pad", [x, pads])
    # (T', N, D) -> (T' / k, k, N, D) -> (T' / k, N, k, D) -> (T' / k, N, k * D)
    N = graph.node("Gather", [shape, graph.const([1])])
    steps = graph.node("Concat", [graph.const([-1, k]), N, graph.const([D])], axis=0)
    x = graph.node("Reshape", [x, steps])
    x = graph.node("Transpose", [x], perm=[0, 2, 1, 3])
    x = graph.node("Reshape", [x, graph.const([0, 0, k * D])])
    if lens is not None:  # ceil(lens / k) = (lens + k - 1) // k
        n = graph.cast(lens, "INT64")
        n = graph.node("Add", [n, graph.const(k - 1)])
        n = graph.node("Div", [n, graph.const(k)])
        lens = graph.cast(n, "INT32")
    return x, lens


def _normal_scores(graph, encoder, X):
    """The normal scores of the scored features of ``X``, one ``(N, T, 1)``
    output each: ``np.interp`` between the knots, as a sum over the segments
    of ``slope * (clip(x, left, right) - left)`` plus the first knot's score
    (``Max``, ``Min``, ``Sub`` broadcast over the segments; ``MatMul`` sums)."""
    scores = []
    for j, (values, knot_scores) in zip(encoder.scored_features, encoder.score_knots):
        values = values.astype(np.float64)
        x = graph.node("Gather", [X, graph.const([j])], axis=2)
        if len(values) == 1:  # a constant feature in training: a constant score
            score = graph.node("Mul", [x, graph.const(0.0)])
        else:
            left, right = values[:-1], values[1:]
            slopes = np.diff(knot_scores.astype(np.float64)) / (right - left)
            x = graph.node("Max", [x, graph.const(left)])
            x = graph.node("Min", [x, graph.const(right)])
            x = graph.node("Sub", [x, graph.const(left)])
            score = graph.node("MatMul", [x, graph.const(slopes[:, None])])
        scores.append(graph.node("Add", [score, graph.const([knot_scores[0]])]))
    return scores


def _label_of(graph, estimator, proba, label):
    """``label``: the class of highest probability along the last axis of
    ``proba`` (the first one on ties), from ``classes_``."""
    utils = _require("skl2onnx.common.utils_classifier")
    index = graph.node("ArgMax", [proba], axis=-1, keepdims=0)
    classes = np.asarray(utils.get_label_classes(graph.scope, estimator))
    if classes.dtype.kind in "OUS":
        classes = classes.astype(str).astype(object)
    else:
        classes = classes.astype(np.int64)
    graph.container.add_node(
        "Gather", [graph.const(classes), index], [label], name=graph.op_name("Gather")
    )


def _recurrent_stack(graph, estimator, x, lens):
    """One ONNX ``LSTM`` or ``GRU`` node per layer; the top layer's ``Y`` and
    ``Y_h``.

    ``lens`` is the name of the ``sequence_lens`` input, or None when every
    sequence has ``T`` steps.

    ``Y`` is returned as ``(T, N, n_directions * H)`` and ``Y_h`` as
    ``(N, n_directions * H)``, the directions side by side, as PyTorch
    concatenates them.
    """
    op_type, weights, attributes = _ONNX_CELLS[estimator._network.cell]
    n_dir = _n_directions(estimator)
    H = estimator.recurrent_weights_[0].shape[0]
    layers = list(
        zip(estimator.input_weights_, estimator.recurrent_weights_, estimator.biases_)
    )
    # Weights lists hold [layer0, layer0_reverse, layer1, ...], PyTorch's order.
    for start in range(0, len(layers), n_dir):
        W, R, B = weights(layers[start : start + n_dir])
        inputs = [x, graph.const(W), graph.const(R), graph.const(B)]
        Y, Y_h = graph.node(
            op_type,
            inputs if lens is None else inputs + [lens],
            n_outputs=2,
            hidden_size=H,
            direction="bidirectional" if n_dir == 2 else "forward",
            **attributes,
        )
        # Y: (T, n_dir, N, H) -> (T, N, n_dir * H), the next layer's input
        Y = graph.node("Transpose", [Y], perm=[0, 2, 1, 3])
        x = graph.node("Reshape", [Y, graph.const(np.array([0, 0, -1]))])
    # Y_h: (n_dir, N, H) -> (N, n_dir * H)
    Y_h = graph.node("Transpose", [Y_h], perm=[1, 0, 2])
    Y_h = graph.node("Reshape", [Y_h, graph.const(np.array([0, -1]))])
    return x, Y_h


def _onnx_lstm_weights(directions):
    """``W, R, B`` of an ONNX ``LSTM`` node from ``(Wx, Wh, b)`` per direction.

    ONNX packs the gates (i, o, f, c) in rows: ``W`` is ``(n_dir, 4H, D)``,
    ``R`` is ``(n_dir, 4H, H)``, and ``B`` is ``(n_dir, 8H)``, the input bias
    ``Wb`` then the recurrent bias ``Rb``, which are summed; ``Rb`` is zero.
    """
    Ws, Rs, Bs = [], [], []
    for Wx, Wh, b in directions:
        H = Wh.shape[0]
        gates = np.concatenate([np.arange(k * H, (k + 1) * H) for k in _ONNX_GATES])
        Ws.append(Wx[:, gates].T)
        Rs.append(Wh[:, gates].T)
        Bs.append(np.concatenate([b[gates], np.zeros(4 * H, dtype=b.dtype)]))
    return np.stack(Ws), np.stack(Rs), np.stack(Bs)


def _onnx_gru_weights(directions):
    """``W, R, B`` of an ONNX ``GRU`` node from ``(Wx, Wh, b)`` per direction.

    For a node with ``linear_before_reset=1``, whose equations are those of
    :func:`~sklearn_lstm._cells.gru_forward` (and ``torch.nn.GRU``'s). ONNX
    packs the gates (z, r, h) in rows, ours (r, z, n) in columns: ``W`` is
    ``(n_dir, 3H, D)``, ``R`` is ``(n_dir, 3H, H)``, and ``B`` is ``(n_dir,
    6H)``, the input bias ``Wb`` then the recurrent bias ``Rb``. ``b = [b_r,
    b_z, b_in, b_hn]`` goes to ``Wb = [b_z, b_r, b_in]`` and ``Rb = [0, 0,
    b_hn]``: ``Rb_h`` is the bias that the reset gate scales.
    """
    Ws, Rs, Bs = [], [], []
    for Wx, Wh, b in directions:
        H = Wh.shape[0]
        gates = np.concatenate([np.arange(k * H, (k + 1) * H) for k in [1, 0, 2]])
        Ws.append(Wx[:, gates].T)
        Rs.append(Wh[:, gates].T)
        Rb = np.zeros(3 * H, dtype=b.dtype)
        Rb[2 * H :] = b[3 * H :]
        Bs.append(np.concatenate([b[gates], Rb]))
    return np.stack(Ws), np.stack(Rs), np.stack(Bs)


def _onnx_type(name):
    """``onnx.TensorProto.<name>``, the code of an element type."""
    return getattr(_require("onnx").TensorProto, name)


# The ONNX operator of each cell, the function that maps a layer's weights to
# its inputs, and its attributes: ``linear_before_reset=1`` is the GRU of
# torch.nn.GRU and of gru_forward.
_ONNX_CELLS = {
    "lstm": ("LSTM", _onnx_lstm_weights, {}),
    "gru": ("GRU", _onnx_gru_weights, {"linear_before_reset": 1}),
}


class _Graph:
    """Adds nodes and constants to a skl2onnx container with unique names."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def op_name(self, op_type):
        return self.scope.get_unique_operator_name(op_type)

    def node(self, op_type, inputs, n_outputs=1, **attrs):
        """Add one node; its output name, or names when ``n_outputs > 1``."""
        outputs = [
            self.scope.get_unique_variable_name(f"{op_type.lower()}_out")
            for _ in range(n_outputs)
        ]
        self.container.add_node(
            op_type, inputs, outputs, name=self.op_name(op_type), **attrs
        )
        return outputs[0] if n_outputs == 1 else outputs

    def real_steps(self, Y, lens):
        """Boolean mask of shape ``(T, N, 1)``: ``t < sequence_lens[n]``."""
        T = self.node("Gather", [self.node("Shape", [Y]), self.const(0)])
        steps = self.node("Range", [self.const(0), T, self.const(1)])
        steps = self.node("Reshape", [steps, self.const([-1, 1])])  # (T, 1)
        lens = self.cast(lens, "INT64")
        mask = self.node("Less", [steps, lens])  # (T, N)
        return self.node("Reshape", [mask, self.const([0, 0, 1])])

    def cast(self, x, type_name):
        """``x`` cast to the element type ``onnx.TensorProto.<type_name>``."""
        return self.node("Cast", [x], to=_onnx_type(type_name))

    def reduce(self, op_type, x, axis=0):
        """``ReduceSum``, ``ReduceMean`` or ``ReduceMax`` over ``axis``, dropped."""
        # ``axes`` is an input from opset 13 for ReduceSum, 18 for the others.
        if self.container.target_opset >= (13 if op_type == "ReduceSum" else 18):
            return self.node(op_type, [x, self.const([axis])], keepdims=0)
        return self.node(op_type, [x], axes=[axis], keepdims=0)

    def const(self, value):
        """An initializer: floats as float32, integers as int64, str as string."""
        onnx = _require("onnx")
        value = np.asarray(value)
        if value.dtype.kind == "f":
            onnx_type, value = onnx.TensorProto.FLOAT, value.astype(np.float32)
            content = value.ravel()
        elif value.dtype.kind in "iub":
            onnx_type, value = onnx.TensorProto.INT64, value.astype(np.int64)
            content = value.ravel()
        else:
            onnx_type = onnx.TensorProto.STRING
            content = [str(v).encode("utf-8") for v in value.ravel()]
        name = self.scope.get_unique_variable_name("const")
        self.container.add_initializer(name, onnx_type, list(value.shape), content)
        return name
