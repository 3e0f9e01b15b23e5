"""Reliability: messy inputs, extreme numbers, determinism, threads and memory.

Users feed the estimators messy data, long sequences and untrusted model
files. Nothing may crash with the wrong error, give a silently wrong answer or
lose a trained model:

* every bad input raises ``ValueError`` or ``TypeError`` naming the problem,
  and the estimator that raised is left exactly as it was;
* extreme magnitudes, very long sequences and diverging learning rates end
  with finite answers or a clear error;
* the same ``random_state`` gives bit-identical models, in one process or in
  parallel workers, and concurrent predictions are exact;
* training memory grows linearly with the sequence length.

Every test runs on every public estimator (``estimator_case`` in
``conftest.py``). Inputs that only make sense for one estimator live in its
record in ``estimator_cases.py``.
"""

import concurrent.futures
import copy
import pickle
import threading
import tracemalloc
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from estimator_cases import CASES, TRANSFORMER_CASES
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

import sklearn_lstm
from sklearn_lstm import InconsistentVersionWarning

# Short fits on purpose stop at max_iter; the tests of the warning itself use
# pytest.warns or record warnings, which see it regardless of this filter.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_FITTED = {}


def _fitted(case):
    """A fitted copy of the case's estimator (fitted once per module)."""
    if case.name not in _FITTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _FITTED[case.name] = case.make_estimator().fit(case.X, case.y)
    return copy.deepcopy(_FITTED[case.name])


def _outputs(est, X, case_name):
    """Every prediction method of the estimator on ``X``, by method name."""
    case = CASES[case_name] if case_name in CASES else TRANSFORMER_CASES[case_name]
    return {m: getattr(est, m)(X) for m in case.output_methods}


def _assert_same_outputs(got, expected):
    assert set(got) == set(expected)
    for method, value in expected.items():
        if isinstance(value, np.ndarray):  # a tagger gives lists for lists
            assert got[method].dtype == value.dtype, method
        _assert_identical(got[method], value, method)


def _arrays(out):
    """The arrays of an output: itself, or those of a list (one per sequence)."""
    return out if isinstance(out, list) else [out]


def _assert_identical(a, b, path):
    """``a`` and ``b`` hold the same values, bit for bit for numeric arrays."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        if a.dtype.kind == "O":
            assert_array_equal(a, b, err_msg=path)
        else:
            assert a.tobytes() == b.tobytes(), path
    elif isinstance(a, np.random.RandomState):
        _assert_identical(a.get_state(), b.get_state(), path + ".get_state()")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _assert_identical(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for k, (u, v) in enumerate(zip(a, b)):
            _assert_identical(u, v, f"{path}[{k}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _assert_identical(vars(a), vars(b), path)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# ---------------------------------------------------------------------------
# Bad inputs: the right error, and the estimator left as it was
# ---------------------------------------------------------------------------

_DEFAULT_STARTS = {
    "fit": ("unfitted", "fitted"),
    "partial_fit": ("fitted",),
    "predict": ("fitted",),
    "score": ("fitted",),
}


def _battery(cases=None):
    """The parameters of a battery: every case, bad input, method the
    estimator has ('predict' stands for every output method, transform
    included) and start."""
    for case_name, case in (CASES if cases is None else cases).items():
        for bad_name, bad in case.bad_inputs.items():
            for method in bad.methods:
                if not hasattr(case.make_estimator(), method) and method != "predict":
                    continue
                for start in bad.starts or _DEFAULT_STARTS[method]:
                    yield pytest.param(
                        case_name,
                        bad_name,
                        method,
                        start,
                        id=f"{case_name}-{bad_name}-{method}-{start}",
                    )


@pytest.mark.parametrize(
    "estimator_case, bad_name, method, start",
    list(_battery()),
    indirect=["estimator_case"],
)
def test_bad_input_raises_and_leaves_estimator_alone(
    estimator_case, bad_name, method, start
):
    _check_bad_input(estimator_case, bad_name, method, start)


def _check_bad_input(case, bad_name, method, start):
    """``bad_name`` of the case raises its error from ``method``, leaving the
    estimator exactly as it was (fitted: predicting as before; unfitted:
    still not fitted)."""
    bad = case.bad_inputs[bad_name]
    X_bad, y_bad = bad.make(case.X, case.y)
    fitted = start == "fitted"
    est = _fitted(case) if fitted else case.make_estimator()
    if fitted:
        expected = _outputs(est, case.X, case.name)
    params = est.get_params()
    est.set_params(**bad.params)
    before = copy.deepcopy(est.__dict__)

    if method == "predict":  # every prediction method must raise, each alone
        for name in case.output_methods:
            with pytest.raises(bad.error, match=bad.match):
                getattr(est, name)(X_bad)
    else:
        kwargs = bad.kwargs(X_bad, y_bad) if callable(bad.kwargs) else bad.kwargs
        with pytest.raises(bad.error, match=bad.match):
            getattr(est, method)(X_bad, y_bad, **kwargs)

    _assert_identical(est.__dict__, before, "est.__dict__")
    if fitted:
        est.set_params(**params)
        _assert_same_outputs(_outputs(est, case.X, case.name), expected)
    else:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)


@pytest.mark.parametrize(
    "estimator_case, valid_name",
    [(name, valid) for name, case in CASES.items() for valid in case.valid_inputs],
    indirect=["estimator_case"],
)
def test_messy_but_valid_input_works(estimator_case, valid_name):
    case = estimator_case
    X, y = case.valid_inputs[valid_name](case.X, case.y)
    est = case.make_estimator().fit(X, y)
    for name, out in _outputs(est, X, case.name).items():
        assert len(out) == len(X), name
        for a in _arrays(out):
            if a.dtype.kind == "f":
                assert np.isfinite(a).all(), name


def test_trailing_nan_padding_equals_ragged_list(estimator_case):
    """Padding is read as the end of the sequence, in fit and in predict."""
    case = estimator_case
    if not case.variable_length:
        pytest.skip(f"{case.name} does not read variable-length sequences")
    if not case.array_input:
        pytest.skip(f"{case.name} reads texts: no NaN padding")
    lengths = [3 + i % 3 for i in range(len(case.X))]
    seqs = [x[:n] for x, n in zip(case.X, lengths)]
    padded = np.full(case.X.shape, np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    a = case.make_estimator().fit(padded, case.y)
    b = case.make_estimator().fit(seqs, case.y)
    for p, q in zip(a._params, b._params):
        _assert_identical(p, q, "params")
    _assert_same_outputs(_outputs(a, seqs, case.name), _outputs(a, padded, case.name))


def _ragged(case):
    """The case's sequences cut to lengths 2 to 6, in no order of length."""
    lengths = [2 + (3 * i) % 5 for i in range(len(case.X))]
    return [x[:n] for x, n in zip(case.X, lengths)]


def test_ragged_chunks_give_each_sequence_its_own_result(estimator_case, monkeypatch):
    """Prediction sorts ragged sequences by length into chunks, each cut to
    its longest sequence; every sequence still gets, bit for bit, what it
    gets alone."""
    import sklearn_lstm._base as base

    case = estimator_case
    if not (case.variable_length and case.array_input):
        pytest.skip(f"{case.name} does not read ragged arrays")
    est = _fitted(case)
    seqs = _ragged(case)
    alone = [_outputs(est, [s], case.name) for s in seqs]
    # A cache budget of about two sequences: many chunks of unequal lengths.
    monkeypatch.setattr(base, "_PREDICT_CACHE_SIZE", 2 * 6 * 4 * 8)
    together = _outputs(est, seqs, case.name)
    for i, expected in enumerate(alone):
        got = {
            m: [out[i]] if isinstance(out, list) else out[i : i + 1]
            for m, out in together.items()
        }
        _assert_same_outputs(got, expected)


def test_trimmed_batch_has_the_same_loss_and_gradients(estimator_case):
    """Training cuts each minibatch to its longest sequence: the loss and
    gradients are those of the batch padded to the longest of all."""
    from sklearn_lstm._testing import network_batch
    from sklearn_lstm._training import batch_rows

    case = estimator_case
    if not (case.variable_length and case.array_input):
        pytest.skip(f"{case.name} does not read ragged arrays")
    est = _fitted(case)
    X, mask, targets, sample_weight = network_batch(est, _ragged(case), case.y)
    short = mask.sum(axis=1) < mask.shape[1]
    X, mask, targets, sample_weight = (
        X[short],
        mask[short],
        targets[short],
        sample_weight[short],
    )
    Xt, mask_t, targets_t = batch_rows(X, mask, targets, np.arange(len(X)))
    assert Xt.shape[1] < X.shape[1]
    loss, grads = est._loss_grad(X, mask, targets, sample_weight)
    loss_t, grads_t = est._loss_grad(Xt, mask_t, targets_t, sample_weight)
    assert loss_t == pytest.approx(loss, rel=1e-12)
    for g, g_t in zip(grads, grads_t):
        np.testing.assert_allclose(g_t, g, rtol=1e-10, atol=1e-14)


def test_predict_ignores_hyperparameters_changed_after_fit(estimator_case):
    """``predict`` reads the fitted weights, not ``hidden_size``/``n_layers``."""
    est = _fitted(estimator_case)
    expected = _outputs(est, estimator_case.X, estimator_case.name)
    est.set_params(hidden_size=0, n_layers=0)  # as a bad grid point would
    _assert_same_outputs(_outputs(est, estimator_case.X, estimator_case.name), expected)


@pytest.mark.parametrize("change", [{"hidden_size": 3}, {"n_layers": 2}])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_continued_training_refuses_another_architecture(
    estimator_case, change, method
):
    """``warm_start`` and ``partial_fit`` never train weights of another shape
    than the parameters ask for: they raise and leave the model alone."""
    case = estimator_case
    est = _fitted(case).set_params(warm_start=True, **change)
    before = copy.deepcopy(est.__dict__)
    with pytest.raises(ValueError, match="Cannot continue training a network"):
        getattr(est, method)(case.X, case.y)
    _assert_identical(est.__dict__, before, "est.__dict__")
    est.set_params(warm_start=False).fit(case.X, case.y)
    n_directions = 2 if getattr(est, "bidirectional", False) else 1
    assert len(est.input_weights_) == n_directions * est.n_layers
    assert est.recurrent_weights_[0].shape[0] == est.hidden_size


# ---------------------------------------------------------------------------
# Numerics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator_case, magnitude",
    [(name, m) for name, case in CASES.items() for m in case.extreme_inputs],
    indirect=["estimator_case"],
)
def test_extreme_magnitudes_train_without_overflow(estimator_case, magnitude):
    case = estimator_case
    X, y = case.extreme_inputs[magnitude](case.X, case.y)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        est = case.make_estimator().fit(X, y)
        outputs = _outputs(est, X, case.name)
    assert all(np.isfinite(p).all() for p in est._params)
    assert np.isfinite(est.loss_curve_).all()
    for name, out in outputs.items():
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), name
    if case.proba_method is not None:  # a regressor has none
        proba = outputs[case.proba_method]
        assert ((proba >= 0) & (proba <= 1)).all()


def test_longest_sequences_train_and_predict(estimator_case):
    """10,000 time steps for the classifier; 64-bit operands for the adder."""
    case = estimator_case
    X, y = case.longest_input()
    # One epoch: predict then runs the updated weights over the long input.
    est = case.make_estimator().set_params(hidden_size=4, max_iter=1)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        est.fit(X, y)
        proba = getattr(est, case.proba_method or "predict")(X)
    assert est.n_iter_ >= 1
    assert all(np.isfinite(p).all() for p in est._params)
    assert np.isfinite(proba).all()
    if case.proba_method is not None:
        assert ((proba >= 0) & (proba <= 1)).all()
    assert len(getattr(est, case.output_methods[0])(X)) == len(X)


@pytest.mark.parametrize("learning_rate", [1e6, 1e300])
@pytest.mark.parametrize("start", ["unfitted", "fitted"])
def test_diverging_training_raises_or_warns(estimator_case, learning_rate, start):
    """A diverging fit ends with a ValueError (estimator left as it was) or a
    ConvergenceWarning (finite predictions), never with NaN."""
    case = estimator_case
    params, make_data = case.diverging
    X, y = make_data(case.X, case.y)
    est = _fitted(case) if start == "fitted" else case.make_estimator()
    est.set_params(**params, learning_rate=learning_rate, max_iter=5)
    before = copy.deepcopy(est.__dict__)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert "diverged" in str(exc) or "not finite" in str(exc), str(exc)
            _assert_identical(est.__dict__, before, "est.__dict__")
            if start == "unfitted":
                with pytest.raises(NotFittedError):
                    check_is_fitted(est)
            return
    assert any(issubclass(w.category, ConvergenceWarning) for w in record)
    assert all(np.isfinite(p).all() for p in est._params)
    # Weights near the float limit (the language model's at 1e300) overflow
    # to inf in the products of predict: the outputs must still hold no NaN.
    with np.errstate(over="ignore"):
        outputs = _outputs(est, case.X, case.name)
    for name, out in outputs.items():
        if out.dtype.kind == "f":
            assert not np.isnan(out).any(), name


def test_diverging_training_stopped_by_patience_is_reported(estimator_case):
    """When patience (``n_iter_no_change``) stops a diverged fit, the user is
    still told: a loss far above that of one sane epoch is no converged model."""
    case = estimator_case
    params, make_data = case.diverging
    X, y = make_data(case.X, case.y)
    sane_loss = case.make_estimator().set_params(max_iter=1).fit(X, y).loss_
    est = case.make_estimator().set_params(
        **params, learning_rate=1e6, max_iter=200, n_iter_no_change=10
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert "diverged" in str(exc) or "not finite" in str(exc), str(exc)
            return
    assert est.n_iter_ < 200, "patience did not stop it: not the case tested here"
    assert est.loss_ > 1000 * sane_loss, "it did not diverge: not the case tested here"
    assert any(issubclass(w.category, ConvergenceWarning) for w in record), (
        f"the loss went from {est.loss_curve_[0]:.3g} to {est.loss_:.3g} "
        f"(one sane epoch: {sane_loss:.3g}) and fit said nothing"
    )


@pytest.mark.parametrize("n_batches", [1, 4, 30])
def test_auto_limits_count_minibatch_updates(estimator_case, n_batches, monkeypatch):
    """max_iter='auto' and n_iter_no_change='auto' are at least a number of
    epochs and at least a number of updates: an epoch of one minibatch gets
    more epochs than an epoch of many."""
    case = estimator_case
    if type(case.make_estimator())().max_iter != "auto":
        pytest.skip(f"{case.name} counts epochs only")
    # Small constants, so that the limits are a few dozen epochs at most.
    monkeypatch.setattr(sklearn_lstm._training, "_AUTO_MAX_ITER", (5, 60))
    monkeypatch.setattr(sklearn_lstm._training, "_AUTO_N_ITER_NO_CHANGE", (2, 12))
    batch_size = -(-len(case.X) // n_batches)
    n_batches = -(-len(case.X) // batch_size)  # as the minibatches fall
    est = case.make_estimator().set_params(
        batch_size=batch_size, learning_rate_schedule="constant"
    )

    # No epoch improves by tol: patience stops the fit after the first epoch
    # and n_iter_no_change + 1 more.
    est.set_params(max_iter=1000, n_iter_no_change="auto", tol=1e9)
    est.fit(case.X, case.y)
    assert est.n_iter_ == max(2, -(-12 // n_batches)) + 2

    # Every epoch improves: the fit runs to max_iter and says so.
    est.set_params(max_iter="auto", n_iter_no_change=10**6, tol=0.0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations") as record:
        est.fit(case.X, case.y)
    expected = max(5, -(-60 // n_batches))
    assert est.n_iter_ == expected
    assert f"({expected})" in str(record[0].message)


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_random_state_gives_identical_models(estimator_case, dtype):
    case = estimator_case
    with_dtype = case.with_dtype or (lambda est, X, dtype: (est, X.astype(dtype)))
    a, X = with_dtype(case.make_estimator(), case.X, dtype)
    b, _ = with_dtype(case.make_estimator(), case.X, dtype)
    a.fit(X, case.y)
    b.fit(X, case.y)
    assert len(a._params) == len(b._params)
    for p, q in zip(a._params, b._params):
        assert p.dtype == dtype
        _assert_identical(p, q, "params")
    assert a.loss_curve_ == b.loss_curve_
    _assert_same_outputs(_outputs(a, X, case.name), _outputs(b, X, case.name))


def test_grid_search_is_the_same_in_parallel(estimator_case):
    case = estimator_case
    results = {}
    for n_jobs in (1, 2):
        search = GridSearchCV(
            case.make_estimator(), case.grid, cv=2, n_jobs=n_jobs
        ).fit(case.X, case.y)
        results[n_jobs] = search
    serial, parallel = results[1], results[2]
    assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.best_params_ == parallel.best_params_
    for p, q in zip(serial.best_estimator_._params, parallel.best_estimator_._params):
        _assert_identical(p, q, "best_estimator_ params")


# ---------------------------------------------------------------------------
# Thread safety
# ---------------------------------------------------------------------------


def test_small_recurrent_products_run_blas_on_one_thread():
    """Small products stay on one BLAS thread (a busy second core would stall
    each of them); large ones keep BLAS's own thread count."""
    from threadpoolctl import threadpool_info

    from sklearn_lstm._parallel import blas_threads

    def n_threads():
        return {
            lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
        }

    default = n_threads()
    with blas_threads(200, [np.zeros((32, 128))]):  # digits-sized
        assert n_threads() == {1}
    with blas_threads(128, [np.zeros((256, 1024))]):
        assert n_threads() == default
    assert n_threads() == default


def test_concurrent_predictions_are_exact(estimator_case):
    case = estimator_case
    est = _fitted(case)
    X = case.X[: len(case.X) // 2]
    expected = _outputs(est, X, case.name)
    before = copy.deepcopy(est.__dict__)
    n_threads, n_rounds = 8, 15
    barrier = threading.Barrier(n_threads)

    def work():
        barrier.wait()  # start together
        return [_outputs(est, X, case.name) for _ in range(n_rounds)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(work) for _ in range(n_threads)]
        results = [f.result() for f in futures]
    for rounds in results:
        for outputs in rounds:
            _assert_same_outputs(outputs, expected)
    _assert_identical(est.__dict__, before, "est.__dict__")


# ---------------------------------------------------------------------------
# Persistence corner cases
# ---------------------------------------------------------------------------


def test_pickle_from_another_version_warns_and_still_predicts(
    estimator_case, monkeypatch
):
    est = _fitted(estimator_case)
    monkeypatch.setattr(sklearn_lstm._persistence, "__version__", "0.0.1")
    data = pickle.dumps(est)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        loaded = pickle.loads(data)
    X = estimator_case.X
    _assert_same_outputs(
        _outputs(loaded, X, estimator_case.name), _outputs(est, X, estimator_case.name)
    )


def test_skops_lists_only_this_package_types(estimator_case):
    skops_io = pytest.importorskip("skops.io")
    est = _fitted(estimator_case)
    untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(est))
    assert untrusted
    assert all(name.startswith("sklearn_lstm.") for name in untrusted), untrusted


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------


def _loss_grad_peak(est, n_timesteps, n_samples=4, seed=0):
    """Peak bytes traced during one ``_loss_grad`` on random sequences."""
    rng = np.random.RandomState(seed)
    dtype = est.output_weights_.dtype
    n_inputs, n_outputs = est.input_weights_[0].shape[0], est.output_weights_.shape[1]
    X = rng.normal(size=(n_samples, n_timesteps, n_inputs)).astype(dtype)
    shape = (n_samples,) if est._network.readout else (n_samples, n_timesteps)
    if n_outputs == 1:
        targets = rng.randint(0, 2, size=shape + (1,)).astype(dtype)
    else:
        targets = np.eye(n_outputs, dtype=dtype)[rng.randint(0, n_outputs, shape)]
    sample_weight = np.ones(n_samples, dtype=dtype)
    est._loss_grad(X, None, targets, sample_weight)  # warm up
    tracemalloc.start()
    try:
        est._loss_grad(X, None, targets, sample_weight)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_training_memory_grows_linearly_with_sequence_length(estimator_case):
    est = _fitted(estimator_case)
    peak = {T: _loss_grad_peak(est, T) for T in (200, 400, 800)}
    assert 1.5 < peak[400] / peak[200] < 2.5, peak
    assert 3 < peak[800] / peak[200] < 5, peak


# ---------------------------------------------------------------------------
# Families of issue 13: each has a test here or inputs in estimator_cases.py
# ---------------------------------------------------------------------------


def _skip_unless_sequences(case):
    if not case.variable_length:
        pytest.skip(f"{case.name} does not read sequences of floats")
    if not case.array_input:
        pytest.skip(f"{case.name} reads texts, not arrays of floats")


def _skip_unless_sample_weight(case):
    if not case.sample_weight:
        pytest.skip(f"{case.name}.fit takes no sample_weight")


@pytest.mark.parametrize("method", ["predict", "partial_fit"])
def test_float32_model_refuses_what_float32_cannot_hold(estimator_case, method):
    """The finiteness check applies to X as the model computes with it: a
    float32 model refuses float64 values beyond float32's range, without the
    NaN and the overflow warning that casting after the check gave."""
    case = estimator_case
    _skip_unless_sequences(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = case.make_estimator().fit(case.X.astype(np.float32), case.y)
    X = case.X.copy()
    X[0, 0, 0] = 1e39
    before = copy.deepcopy(est.__dict__)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="too large for float32"):
            if method == "predict":
                est.predict(X)
            else:
                est.partial_fit(X, case.y)
    _assert_identical(est.__dict__, before, "est.__dict__")


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_continued_training_reads_sequences_of_any_length(estimator_case, how):
    """Chunks of data that arrive over time have their own lengths: 3-D arrays
    and lists of any length continue training; 2-D univariate input keeps the
    number of time steps of the first fit, and the message says time steps."""
    case = estimator_case
    _skip_unless_sequences(case)
    est = _fitted(case).set_params(warm_start=True)
    cont = est.partial_fit if how == "partial_fit" else est.fit
    # Per-step targets are cut and lengthened with their sequences.
    y = case.y
    y_short = y[:, :-2] if case.step_targets else y
    y_long = np.concatenate([y, y], axis=1) if case.step_targets else y
    y_one_less = y[:, :-1] if case.step_targets else y
    n_iter = est.n_iter_
    cont(case.X[:, :-2], y_short)  # shorter 3-D
    cont([np.concatenate([x, x]) for x in case.X], y_long)  # longer list
    assert est.n_iter_ > n_iter
    assert est.n_features_in_ == case.X.shape[1]  # as the first fit recorded
    univariate = case.make_estimator().fit(case.X[:, :, 0], y)
    with pytest.raises(ValueError, match="time steps seen in fit"):
        univariate.partial_fit(case.X[:, :-1, 0], y_one_less)


@pytest.mark.parametrize("scale", [1e308, 1e-300, 5e-324])
def test_extreme_weights_train_like_unit_weights(estimator_case, scale):
    """The loss is a weighted mean: weights of one magnitude, however extreme,
    give the model of unit weights, without overflow warnings."""
    case = estimator_case
    _skip_unless_sample_weight(case)
    method = case.proba_method or "predict"  # a regressor has no probabilities
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        expected = case.make_estimator().fit(case.X, case.y)
        est = case.make_estimator().fit(
            case.X, case.y, sample_weight=np.full(len(case.y), scale)
        )
        got = getattr(est, method)(case.X)
    np.testing.assert_allclose(
        got, getattr(expected, method)(case.X), rtol=1e-6, atol=1e-9
    )


def test_negative_class_weight_is_refused_like_a_negative_sample_weight():
    case = CASES["LSTMSequenceClassifier"]
    X, y = case.make_data()
    est = case.make_estimator().set_params(class_weight={y[0]: -1.0})
    with pytest.raises(ValueError, match="Negative values in class_weight"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="Negative values in sample_weight"):
        case.make_estimator().fit(X, y, sample_weight=-np.ones(len(y)))


def test_nested_set_params_on_a_parameter_that_is_no_estimator(estimator_case):
    est = estimator_case.make_estimator()
    with pytest.raises(ValueError, match="hidden_size=.* is not an estimator"):
        est.set_params(hidden_size__units=3)
    with pytest.raises(ValueError, match="Invalid parameter 'no_such'"):
        est.set_params(no_such__units=3)


def test_feature_names_out_follow_the_fitted_network(estimator_case):
    """Not fitted: NotFittedError. Fitted: one name per column of ``transform``,
    whatever ``set_params`` changed since."""
    case = estimator_case
    est = case.make_estimator()
    if not hasattr(est, "get_feature_names_out"):
        pytest.skip(f"{case.name} is no transformer")
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    est = _fitted(case).set_params(hidden_size=7)
    assert len(est.get_feature_names_out()) == est.transform(case.X).shape[1]


def test_early_stopping_scores_with_sample_weights(estimator_case, monkeypatch):
    """The validation part keeps its sample weights (as in MLP) and is
    stratified exactly for classifiers."""
    case = estimator_case
    _skip_unless_sample_weight(case)
    from sklearn.base import is_classifier

    import sklearn_lstm._base as base

    seen = {}
    split = base.train_test_split

    def recording_split(*args, **kwargs):
        seen["stratify"] = kwargs.get("stratify")
        return split(*args, **kwargs)

    monkeypatch.setattr(base, "train_test_split", recording_split)
    est = case.make_estimator().set_params(
        early_stopping=True, validation_fraction=0.5, max_iter=2
    )
    score = type(est)._validation_score
    weights = []

    def recording_score(self, val):
        weights.append(val[3].copy())
        return score(self, val)

    monkeypatch.setattr(type(est), "_validation_score", recording_score)
    sw = np.arange(1, len(case.y) + 1, dtype=float)
    est.fit(case.X, case.y, sample_weight=sw)
    assert weights and len(np.unique(weights[0])) > 1, "weights were dropped"
    assert (seen["stratify"] is not None) == is_classifier(est)


# ---------------------------------------------------------------------------
# Families of issue 26: each has a test here or inputs in estimator_cases.py
# ---------------------------------------------------------------------------


def _no_warnings():
    """A context in which any warning but a ConvergenceWarning is an error."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")
    warnings.simplefilter("ignore", ConvergenceWarning)
    return ctx


def _assert_finite(out, name):
    for a in _arrays(out):
        if a.dtype.kind == "f":
            assert np.isfinite(a).all(), name


@pytest.mark.parametrize(
    "estimator_case, input_name",
    [(name, i) for name, case in CASES.items() for i in case.predict_inputs],
    indirect=["estimator_case"],
)
def test_steps_near_the_float_limits_predict_without_overflow(
    estimator_case, input_name
):
    """Steps of 1e308 (or 5e-324) to a model fitted on ordinary data: finite
    outputs of the right length and no overflow warning from the products of
    the network."""
    case = estimator_case
    est = _fitted(case)
    X = case.predict_inputs[input_name](case.X)
    ctx = _no_warnings()
    try:
        outputs = _outputs(est, X, case.name)
    finally:
        ctx.__exit__(None, None, None)
    for name, out in outputs.items():
        assert len(out) == len(X), name
        _assert_finite(out, name)
    if case.proba_method is not None:
        for p in _arrays(outputs[case.proba_method]):
            assert ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize(
    "estimator_case, scale",
    [(name, s) for name, case in CASES.items() for s in case.target_scales],
    indirect=["estimator_case"],
)
def test_scale_of_the_targets_gives_the_same_model(estimator_case, scale):
    """Targets times 1e-200 or 1e300 are standardized relative to their
    magnitude: the same network, predictions in their units (not about 0.05,
    nor inf)."""
    case = estimator_case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        reference = case.make_estimator().fit(case.X, case.y)
        est = case.make_estimator().fit(case.X, case.y * scale)
        pred = est.predict(case.X)
    for p, q in zip(est._params, reference._params):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(est.target_scale_, reference.target_scale_ * scale)
    np.testing.assert_allclose(pred, reference.predict(case.X) * scale, rtol=1e-6)


def test_padding_in_every_sequence_keeps_the_steps(estimator_case):
    """A NaN step that ends every sequence is padding: the outputs are those
    of the unpadded input, and per-step outputs are a list of one array per
    sequence of its real steps (as for any padded input), not an array."""
    case = estimator_case
    if not (case.variable_length and case.array_input):
        pytest.skip(f"{case.name} does not read NaN padding")
    est = _fitted(case)
    X = case.X
    padded = np.concatenate([X, np.full((len(X), 1, X.shape[2]), np.nan)], axis=1)
    expected = _outputs(est, list(X), case.name)
    _assert_same_outputs(_outputs(est, padded, case.name), expected)


# -- the transformers of sequences ---------------------------------------------


def _transformer_case(name):
    case = TRANSFORMER_CASES[name]
    X, y = case.make_data()
    return SimpleNamespace(**case._asdict(), X=X, y=y)


@pytest.mark.parametrize(
    "case_name, bad_name, method, start", list(_battery(TRANSFORMER_CASES))
)
def test_transformer_bad_input_raises_and_leaves_it_alone(
    case_name, bad_name, method, start
):
    """The battery of the estimators, for the scalers: a failed fit leaves
    no fitted state (NotFittedError, not AttributeError), a failed refit or
    partial_fit the statistics of before."""
    _check_bad_input(_transformer_case(case_name), bad_name, method, start)


def _real_steps_per_sequence(out):
    """The real steps of each sequence of a transformer's output, as arrays
    of shape (n_steps, n_features): padding dropped, a 2-D (univariate)
    input read as one feature."""
    sequences = out if isinstance(out, list) else list(out)
    steps = [
        np.reshape(np.asarray(s, dtype=np.float64), (len(s), -1)) for s in sequences
    ]
    return [s[~np.isnan(s).all(axis=1)] for s in steps]


@pytest.mark.parametrize(
    "case_name, valid_name",
    [(name, v) for name, case in TRANSFORMER_CASES.items() for v in case.valid_inputs],
)
def test_transformer_valid_input_keeps_its_form(case_name, valid_name):
    """Output in the form of the input (the padding steps kept, even when
    every sequence ends in one), finite, without a warning, and standardized
    for values of any magnitude (1e-200 next to 1e100 included)."""
    case = _transformer_case(case_name)
    X, y = case.valid_inputs[valid_name](case.X, case.y)
    est = case.make_estimator()
    ctx = _no_warnings()
    try:
        out = est.fit(X, y).transform(X)
        back = est.inverse_transform(out) if hasattr(est, "inverse_transform") else X
    finally:
        ctx.__exit__(None, None, None)
    assert type(out) is (list if isinstance(X, list) else np.ndarray)
    for got, x in zip(_arrays(out), _arrays(X) if isinstance(X, list) else [X]):
        x = np.asarray(x)
        assert got.shape == x.shape
        assert_array_equal(np.isnan(got), np.isnan(x.astype(float)))
        assert np.isfinite(got[~np.isnan(x.astype(float))]).all()
    if hasattr(est, "inverse_transform"):
        for a, b in zip(_arrays(back), _arrays(X) if isinstance(X, list) else [X]):
            b = np.asarray(b, dtype=float)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=0)
    if "subnormal" in valid_name:
        return  # rounded to a few values: no more standard deviation of 1
    per_sequence = _real_steps_per_sequence(out)
    groups = (
        per_sequence if case.standardizes == "each" else [np.concatenate(per_sequence)]
    )
    for values in groups:
        values = values.astype(np.float64)
        std = values.std(axis=0)
        assert np.all(np.abs(values.mean(axis=0)) < 1e-5), valid_name
        assert np.all((np.abs(std - 1) < 1e-4) | (std == 0)), (valid_name, std)


# -- the score of a regressor --------------------------------------------------


def test_regression_score_checks_targets_and_weights_as_fit():
    """sklearn_lstm._validation.regression_score, for a regressor's score:
    r2_score takes negative weights, reads None as NaN, and overflows on
    targets of 1e300; these raise naming the problem, or score as in units."""
    from sklearn.metrics import r2_score

    from sklearn_lstm._validation import regression_score

    rng = np.random.RandomState(0)
    y = rng.normal(size=20)
    pred = y + rng.normal(scale=0.5, size=20)
    w = rng.uniform(size=20)
    expected = r2_score(y, pred, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for scale in [1.0, 1e300, 1e-300]:
            got = regression_score(y * scale, pred * scale, w)
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    for bad, sw, error, match in [
        (-y, -np.ones(20), ValueError, "Negative values in sample_weight"),
        (y, np.full(20, np.nan), ValueError, "sample_weight contains NaN"),
        ([None, *y[1:]], None, ValueError, "y contains None"),
        (np.full(20, "a"), None, TypeError, "y must hold numbers"),
        ([[1.0]] + [[1.0, 2.0]] * 19, None, ValueError, "not a rectangular array"),
        (None, None, ValueError, "requires y"),
        (y[:-1], None, ValueError, "inconsistent numbers of samples"),
        (np.column_stack([y, y]), None, ValueError, "2 target"),
    ]:
        with pytest.raises(error, match=match):
            regression_score(bad, pred, sw)


@pytest.mark.parametrize("two_targets", [False, True])
def test_targets_whose_sum_overflows_fit_without_warning(two_targets):
    """check_array checks that y is finite by its sum first: +inf in one half
    and -inf in the other give NaN ("invalid value encountered in reduce")."""
    n = 1000
    y = np.where(np.arange(n) < n // 2, 1e307, -1e307)
    if two_targets:
        y = np.column_stack([y, y])
    X = np.random.RandomState(0).normal(size=(n, 2, 1))
    reg = sklearn_lstm.LSTMSequenceRegressor(hidden_size=2, max_iter=1, random_state=0)
    ctx = _no_warnings()
    try:
        pred = reg.fit(X, y).predict(X)
    finally:
        ctx.__exit__(None, None, None)
    assert np.isfinite(pred).all() and pred.shape == y.shape


@pytest.mark.parametrize(
    "estimator_case",
    ["LSTMSequenceClassifier", "LSTMSequenceTagger"],
    indirect=True,
)
def test_labels_and_classes_of_object_arrays_of_numbers(estimator_case):
    """An object array of ints (a pandas column of objects) is of an "unknown"
    label type to scikit-learn: read as the ints it holds, in fit, in the
    classes of partial_fit and in score."""
    case = estimator_case
    y = (case.y == "pos").astype(int)
    classes = np.array([0, 1], dtype=object)
    est = case.make_estimator().partial_fit(case.X, y.astype(object), classes=classes)
    assert est.classes_.dtype.kind == "i" and est.classes_.tolist() == [0, 1]
    reference = case.make_estimator().partial_fit(case.X, y, classes=[0, 1])
    _assert_same_outputs(
        _outputs(est, case.X, case.name), _outputs(reference, case.X, case.name)
    )
    assert est.score(case.X, y.astype(object)) == reference.score(case.X, y)
