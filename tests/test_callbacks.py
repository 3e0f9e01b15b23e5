"""scikit-learn's callback API: each epoch is a task that callbacks see and stop."""

import numpy as np
import pytest

sklearn_callback = pytest.importorskip("sklearn.callback")


class EpochRecorder:
    """Records the tasks it sees and stops training after ``stop_after`` epochs."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.tasks, self.scores, self.losses, self.metadata = [], [], [], []
        self.teardowns = 0

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        self.teardowns += 1

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.tasks.append(("begin", context.task_name))

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self.tasks.append(("end", context.task_name))
        if context.task_name != "epoch":
            return False
        self.losses.append(estimator.loss_)
        self.metadata.append(metadata)
        self.scores.append(fitted_estimator.score(X, y))
        return self.stop_after is not None and len(self.scores) >= self.stop_after


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5, 2))
    return X, X[:, 0, 0] > 0


def test_callbacks_see_every_epoch(data):
    from sklearn_lstm import LSTMSequenceClassifier

    recorder = EpochRecorder()
    clf = LSTMSequenceClassifier(hidden_size=4, max_iter=7, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning at max_iter
        clf.set_callbacks(recorder).fit(*data)
    assert recorder.tasks[0] == ("begin", "fit")
    assert recorder.tasks[-1] == ("end", "fit")
    assert recorder.tasks.count(("end", "epoch")) == clf.n_iter_ == 7
    assert recorder.losses == clf.loss_curve_
    assert recorder.teardowns == 1


def test_callback_stops_training_with_a_working_snapshot(data):
    from sklearn_lstm import LSTMSequenceClassifier

    recorder = EpochRecorder(stop_after=3)
    clf = LSTMSequenceClassifier(hidden_size=4, max_iter=50, random_state=0)
    clf.set_callbacks(recorder).fit(*data)
    assert clf.n_iter_ == 3
    # The fitted_estimator of the last epoch is the final model.
    assert recorder.scores[-1] == clf.score(*data)


def test_callbacks_get_the_sample_weight_as_metadata(data):
    """``metadata`` holds what a scorer takes besides X and y, as in scikit-learn."""
    from sklearn_lstm import LSTMSequenceClassifier

    X, y = data
    weights = np.linspace(0.5, 1.5, len(y))
    recorder = EpochRecorder(stop_after=2)
    clf = LSTMSequenceClassifier(hidden_size=4, max_iter=50, random_state=0)
    clf.set_callbacks(recorder).fit(X, y)
    assert recorder.metadata == [None, None]
    recorder = EpochRecorder(stop_after=2)
    clf.set_callbacks(recorder).fit(X, y, sample_weight=weights)
    assert [m["sample_weight"] is weights for m in recorder.metadata] == [True] * 2


def test_scoring_monitor_scores_every_epoch(data):
    """scikit-learn's own ScoringMonitor runs, its scorer gets only what it takes."""
    from sklearn_lstm import LSTMSequenceClassifier

    X, y = data
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    clf = LSTMSequenceClassifier(hidden_size=4, max_iter=5, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning at max_iter
        clf.set_callbacks(monitor).fit(X, y, sample_weight=np.ones(len(y)))
    scores = [row["accuracy"] for row in monitor.get_logs().data]
    assert len(scores) >= clf.n_iter_ == 5
    assert scores[-1] == clf.score(X, y)
