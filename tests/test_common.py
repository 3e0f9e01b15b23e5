"""scikit-learn's estimator checks on every public estimator.

The estimators are the records of ``estimator_cases.CASES``, so that a new
estimator joins these checks and the reliability tests with one record. The
checks run twice: on the fast seeded instances of the records, and on
default instances (``check_estimator(Estimator())`` must pass as users run it).
Default instances train until their loss stops improving (up to 200 epochs)
in most of the checks, which takes minutes: those runs are marked ``slow``.

scikit-learn cannot check an estimator of texts (``LSTMLanguageModel``): its
checks feed arrays of numbers. ``check_estimator`` skips it with a warning,
which ``test_check_estimator_skips_the_language_model`` asserts.
"""

import pytest
from estimator_cases import CASES
from sklearn.exceptions import SkipTestWarning
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from sklearn_lstm import LSTMLanguageModel

# The classifier's input_noise and dropout (on by default) draw random numbers
# for each row of a minibatch: weighted rows and their repeats get different
# draws, so the models differ however the weights are summed. With
# input_noise=0 and dropout=0 the check passes.
_NOISE_AND_DROPOUT = (
    "input_noise and dropout draw random numbers per row of each minibatch: "
    "weighted and repeated rows get different draws."
)

# Checks that cannot pass, with the reason, by class name; the same for the
# seeded and the default instances.
EXPECTED_FAILED_CHECKS = {
    "LSTMSequenceClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _NOISE_AND_DROPOUT,
    },
    "LSTMSequenceTagger": {
        "check_sample_weight_equivalence_on_dense_data": _NOISE_AND_DROPOUT,
    },
}

ARRAY_ESTIMATORS = [case for case in CASES.values() if case.array_input]

# A warning of the checks' data, not of a fault: they give RNNBinaryAdder
# random floats, which it rounds to 32 binary fraction bits with a warning.
_ignore_rounded_fractions = pytest.mark.filterwarnings(
    "ignore:Some numbers need more than 32 binary fraction bits:UserWarning"
)


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


# The seeded instances stop at their small max_iter on purpose, for speed.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@_ignore_rounded_fractions
@parametrize_with_checks(
    [case.make_estimator() for case in ARRAY_ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# The same checks on GRU networks: the cell changes nothing of the API.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        case.make_estimator().set_params(cell="gru")
        for case in ARRAY_ESTIMATORS
        if "cell" in case.make_estimator().get_params()
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_gru_estimator(estimator, check):
    check(estimator)


# Some checks fit on random noise (check_fit_idempotent,
# check_sample_weight_equivalence, ...): there is nothing to learn, and
# training ends at max_iter.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@_ignore_rounded_fractions
@parametrize_with_checks(
    [type(case.make_estimator())() for case in ARRAY_ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_default_estimator(estimator, check):
    check(estimator)


def test_check_estimator_skips_the_language_model():
    with pytest.warns(SkipTestWarning, match="requires input"):
        check_estimator(LSTMLanguageModel())
