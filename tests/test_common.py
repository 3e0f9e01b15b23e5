"""scikit-learn's estimator checks on every public estimator.

The estimators are those of ``ESTIMATOR_CASES`` in ``conftest.py``, so that a
new estimator joins these checks and the reliability tests with one line.
"""

from conftest import ESTIMATOR_CASES
from sklearn.utils.estimator_checks import parametrize_with_checks

# Checks that cannot pass, with the reason: none.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [make_estimator() for make_estimator, _ in ESTIMATOR_CASES.values()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est).__name__, {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
