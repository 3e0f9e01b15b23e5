"""scikit-learn's estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lstm import LSTMSequenceClassifier, RNNBinaryAdder

ESTIMATORS = [
    LSTMSequenceClassifier(
        hidden_size=8, learning_rate=0.02, max_iter=30, random_state=0
    ),
    RNNBinaryAdder(max_iter=5, random_state=0),
]

# Checks that cannot pass, with the reason.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est).__name__, {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
