"""Persistence: joblib, pickle and skops round trips, and the version stamp.

A loaded model must predict exactly as the saved one, keep training where the
saved one stopped (optimizer state included), load with skops trusting only
this package's own types, and warn when another version saved it.
"""

import importlib
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

import sklearn_lstm
from sklearn_lstm import InconsistentVersionWarning, LSTMSequenceClassifier
from sklearn_lstm._optimizers import AdamOptimizer

skops_io = pytest.importorskip("skops.io")
UntrustedTypesFoundException = pytest.importorskip(
    "skops.io.exceptions"
).UntrustedTypesFoundException


def _fit(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return case.make_estimator().fit(case.X, case.y)


def _outputs(est, case):
    """Everything the estimator predicts from the case's ``X``, by method name."""
    return {m: getattr(est, m)(case.X) for m in case.output_methods}


def _assert_same_outputs(est, loaded, case):
    expected, got = _outputs(est, case), _outputs(loaded, case)
    assert set(got) == set(expected)
    assert len(got) >= 2  # predict and a probability, at least
    for method in expected:
        assert got[method].dtype == expected[method].dtype, method
        assert_array_equal(got[method], expected[method], err_msg=method)


def _optimizer_arrays(optimizer):
    """The optimizer's state arrays (moments, velocities...), by attribute name."""
    return {
        name: value
        for name, value in vars(optimizer).items()
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray)
    }


def _assert_same_optimizer(optimizer, loaded):
    assert type(loaded) is type(optimizer)
    state, loaded_state = vars(optimizer), vars(loaded)
    assert set(loaded_state) == set(state)
    arrays = _optimizer_arrays(optimizer)
    assert arrays  # Adam moments or SGD velocities
    for name, value in state.items():
        if name in arrays:
            assert len(loaded_state[name]) == len(value)
            for a, b in zip(loaded_state[name], value):
                assert_array_equal(a, b, err_msg=name)
        else:
            assert loaded_state[name] == value, name


def _joblib_round_trip(est, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path)


def _pickle_round_trip(est, tmp_path):
    return pickle.loads(pickle.dumps(est))


def _skops_round_trip(est, tmp_path):
    data = skops_io.dumps(est)
    untrusted = skops_io.get_untrusted_types(data=data)
    return skops_io.loads(data, trusted=untrusted)


ROUND_TRIPS = {
    "joblib": _joblib_round_trip,
    "pickle": _pickle_round_trip,
    "skops": _skops_round_trip,
}


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS))
def test_round_trip_predicts_identically(estimator_case, round_trip, tmp_path):
    est = _fit(estimator_case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning of any kind
        loaded = ROUND_TRIPS[round_trip](est, tmp_path)
    assert type(loaded) is type(est)
    assert loaded is not est
    assert loaded.get_params() == est.get_params()
    _assert_same_outputs(est, loaded, estimator_case)
    assert loaded.score(estimator_case.X, estimator_case.y) == est.score(
        estimator_case.X, estimator_case.y
    )
    attrs = ["n_iter_", "t_", "loss_curve_", "best_loss_"]
    if estimator_case.array_input:  # texts have no n_features_in_
        attrs.append("n_features_in_")
    for attr in attrs:
        assert getattr(loaded, attr) == getattr(est, attr), attr
    _assert_same_optimizer(est._optimizer, loaded._optimizer)
    assert not hasattr(loaded, "_sklearn_lstm_version")
    assert not hasattr(loaded, "_optimizer_state")


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS))
def test_partial_fit_after_loading_continues(estimator_case, round_trip, tmp_path):
    """The loaded model resumes exactly where the saved one would have."""
    est = _fit(estimator_case)
    loaded = ROUND_TRIPS[round_trip](est, tmp_path)
    X, y = estimator_case.X, estimator_case.y
    n_iter = est.n_iter_

    # No `classes` needed again for the classifier: they were saved.
    loaded.partial_fit(X, y)
    est.partial_fit(X, y)

    assert loaded.n_iter_ == n_iter + 1
    assert len(loaded.loss_curve_) == n_iter + 1
    assert loaded.t_ == (n_iter + 1) * len(X)
    # Same weights, optimizer state and shuffling random state as the original
    # continued in memory: bit-identical updates.
    for p_loaded, p in zip(loaded._params, est._params):
        assert_array_equal(p_loaded, p)
    _assert_same_optimizer(est._optimizer, loaded._optimizer)
    assert loaded.loss_curve_ == est.loss_curve_


def test_adam_state_survives_joblib(tmp_path):
    """The Adam step count and moments are saved, not restarted."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    est = LSTMSequenceClassifier(
        hidden_size=4, batch_size=10, learning_rate=0.02, max_iter=3, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert isinstance(est._optimizer, AdamOptimizer)
    assert est._optimizer.t == 3 * 4  # 3 epochs of 4 minibatches
    loaded = _joblib_round_trip(est, tmp_path)
    assert loaded._optimizer.t == 12
    assert all(np.abs(m).max() > 0 for m in loaded._optimizer.ms)
    assert all(np.abs(v).max() > 0 for v in loaded._optimizer.vs)
    _assert_same_optimizer(est._optimizer, loaded._optimizer)
    loaded.partial_fit(X, y)
    assert loaded._optimizer.t == 16


def test_skops_trusts_only_this_package(estimator_case):
    est = _fit(estimator_case)
    data = skops_io.dumps(est)
    untrusted = skops_io.get_untrusted_types(data=data)
    assert untrusted  # at least the estimator itself
    assert all(name.startswith("sklearn_lstm") for name in untrusted), untrusted
    # The optimizer is saved as plain data, not as a type to trust.
    assert not any("Optimizer" in name for name in untrusted), untrusted
    assert type(est).__name__ in {name.rsplit(".", 1)[-1] for name in untrusted}
    for name in untrusted:  # estimator classes only: no functions, no optimizers
        module, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert isinstance(obj, type) and issubclass(obj, BaseEstimator), name
    # Without trusting them, skops refuses to load.
    with pytest.raises(UntrustedTypesFoundException, match=type(est).__name__):
        skops_io.loads(data)
    loaded = skops_io.loads(data, trusted=untrusted)
    _assert_same_outputs(est, loaded, estimator_case)


def test_pickling_leaves_the_estimator_alone(estimator_case):
    """``__getstate__`` builds a new dict: the live estimator keeps its optimizer."""
    est = _fit(estimator_case)
    keys = set(vars(est))
    optimizer = est._optimizer
    pickle.dumps(est)
    joblib.dump(est, io.BytesIO())
    assert set(vars(est)) == keys
    assert est._optimizer is optimizer
    assert not hasattr(est, "_sklearn_lstm_version")


def _load_state(est, state):
    new = type(est).__new__(type(est))
    new.__setstate__(state)
    return new


@pytest.mark.parametrize("version", ["0.0.1", "99.0"])
def test_other_version_warns(estimator_case, version):
    est = _fit(estimator_case)
    state = est.__getstate__()
    assert state["_sklearn_lstm_version"] == sklearn_lstm.__version__
    state["_sklearn_lstm_version"] = version
    with pytest.warns(InconsistentVersionWarning, match=version) as record:
        new = _load_state(est, state)
    assert sklearn_lstm.__version__ in str(record[0].message)
    assert type(est).__name__ in str(record[0].message)
    # It still loads: the warning is advice, not a refusal.
    _assert_same_outputs(est, new, estimator_case)


def test_missing_version_stamp_warns(estimator_case):
    est = _fit(estimator_case)
    state = est.__getstate__()
    del state["_sklearn_lstm_version"]
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        _load_state(est, state)


def test_other_version_warns_through_pickle(estimator_case, monkeypatch):
    """A pickle written by another version warns when loaded by this one."""
    est = _fit(estimator_case)
    monkeypatch.setattr(sklearn_lstm._persistence, "__version__", "0.0.1")
    data = pickle.dumps(est)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        pickle.loads(data)


def test_same_version_does_not_warn(estimator_case):
    est = _fit(estimator_case)
    state = est.__getstate__()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load_state(est, state)
        pickle.loads(pickle.dumps(est))


def test_inconsistent_version_warning_is_a_user_warning():
    assert issubclass(InconsistentVersionWarning, UserWarning)


def test_unfitted_round_trip(estimator_case):
    est = estimator_case.make_estimator()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert not hasattr(loaded, "_optimizer")
    # And it fits like a fresh one.
    fitted = _fit(estimator_case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.fit(estimator_case.X, estimator_case.y)
    for p, q in zip(fitted._params, loaded._params):
        assert_array_equal(p, q)
