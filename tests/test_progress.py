"""scikit-learn's ProgressBar callback (the ``progress`` extra: rich) on fit."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_lstm import LSTMSequenceClassifier

sklearn_callback = pytest.importorskip("sklearn.callback")
pytest.importorskip("rich")


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    return X, X[:, 0, 0] > 0


def _classifier():
    return LSTMSequenceClassifier(
        hidden_size=4, batch_size=10, max_iter=4, random_state=0
    )


def test_progress_bar_shows_the_fit_and_changes_nothing(data, capsys):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = _classifier().fit(X, y)
        clf = _classifier().set_callbacks(sklearn_callback.ProgressBar())
        clf.fit(X, y)
    assert "LSTMSequenceClassifier - fit" in capsys.readouterr().out
    assert clf.n_iter_ == plain.n_iter_ == 4
    assert clf.loss_curve_ == plain.loss_curve_
    assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))


def test_progress_bar_on_a_grid_search_shows_each_fit(data, capsys):
    """A meta-estimator takes the callback; its sub-estimators' fits appear."""
    X, y = data
    search = GridSearchCV(_classifier(), {"hidden_size": [2, 3]}, cv=2)
    search.set_callbacks(sklearn_callback.ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    assert "LSTMSequenceClassifier - fit" in out
    assert search.best_estimator_.n_iter_ == 4
