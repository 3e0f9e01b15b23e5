"""scikit-learn's estimator checks on every public estimator.

The estimators are the records of ``estimator_cases.CASES``, so that a new
estimator joins these checks and the reliability tests with one record.
"""

from estimator_cases import CASES
from sklearn.utils.estimator_checks import parametrize_with_checks

# Checks that cannot pass, with the reason: none.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [case.make_estimator() for case in CASES.values()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est).__name__, {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
