"""Options every recurrent estimator shares: the cell, the renamed
``weight_drop``, and the documentation link of the HTML representation.

The records of ``estimator_cases.CASES`` drive the tests, so a new
estimator with these parameters is covered by its record.
"""

import warnings

import numpy as np
import pytest
from estimator_cases import CASES
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_lstm import LSTMSequenceClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _cases_with(parameter):
    return [
        case
        for case in CASES.values()
        if parameter in case.make_estimator().get_params()
    ]


CELL_CASES = _cases_with("cell")
WEIGHT_DROP_CASES = _cases_with("weight_drop")


def _fit(est, case):
    return est.fit(*case.make_data())


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_gru_layers_have_three_gates_and_two_biases_for_n(case):
    est = _fit(case.make_estimator().set_params(cell="gru", n_layers=2), case)
    H = est.hidden_size
    for Wx, Wh, b in zip(est.input_weights_, est.recurrent_weights_, est.biases_):
        assert Wx.shape[1] == 3 * H
        assert Wh.shape == (H, 3 * H)
        assert b.shape == (4 * H,)
    assert all(np.isfinite(p).all() for p in est._params)
    assert est._network.cell == "gru"


def test_gru_classifier_learns_what_the_lstm_learns():
    """The class is the sign of the first step's first feature, seen through
    10 more steps of noise: the GRU must carry it, as the LSTM does."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 11, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    scores = {}
    for cell in ("lstm", "gru"):
        clf = LSTMSequenceClassifier(
            cell=cell,
            hidden_size=8,
            bidirectional=False,
            readout="last",
            input_noise=0.0,
            dropout=0.0,
            max_iter=60,
            random_state=0,
        )
        scores[cell] = clf.fit(X[:200], y[:200]).score(X[200:], y[200:])
    assert scores["gru"] >= 0.9, scores
    assert scores["lstm"] >= 0.9, scores


def test_continued_training_refuses_another_cell():
    case = CASES["LSTMSequenceClassifier"]
    est = _fit(case.make_estimator(), case)
    with pytest.raises(ValueError, match="cell='lstm'.*cell='gru'"):
        _fit(est.set_params(warm_start=True, cell="gru"), case)


@pytest.mark.parametrize("case", WEIGHT_DROP_CASES, ids=lambda case: case.name)
def test_recurrent_dropout_is_a_deprecated_alias_of_weight_drop(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new = _fit(case.make_estimator().set_params(weight_drop=0.3), case)
    with pytest.warns(FutureWarning, match="renamed `weight_drop`"):
        old = _fit(case.make_estimator().set_params(recurrent_dropout=0.3), case)
    assert new._network.weight_drop == old._network.weight_drop == 0.3
    for p, q in zip(new._params, old._params):
        assert_array_equal(p, q)
    # weight drop changes the model: the rate reaches the network
    plain = _fit(case.make_estimator(), case)
    assert any(not np.array_equal(p, q) for p, q in zip(new._params, plain._params))


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_representation_links_to_the_api_reference(name):
    est = CASES[name].make_estimator()
    link = est._get_doc_link()
    assert link.startswith("https://")
    assert link.endswith(f"sklearn_lstm.{type(est).__name__}.html")


def test_failed_fit_keeps_no_network():
    """A fit that fails after validation leaves nothing that predicts."""
    case = CASES["LSTMSequenceClassifier"]
    params, make = case.diverging
    est = case.make_estimator().set_params(**params, learning_rate=1e30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="diverged|not finite"):
            est.fit(*make(*case.make_data()))
    assert not hasattr(est, "_network") and not hasattr(est, "_encoder")
