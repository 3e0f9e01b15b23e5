"""Shared fixtures: every public estimator with small data it can learn from.

The estimators are the records of ``estimator_cases.CASES``: a new estimator
joins the common checks, persistence and reliability tests with one record.
"""

from types import SimpleNamespace

import pytest
from estimator_cases import CASES


@pytest.fixture(params=list(CASES))
def estimator_case(request):
    """One public estimator at a time: its ``EstimatorCase`` fields, plus the
    data ``X, y`` that ``make_data()`` gives."""
    case = CASES[request.param]
    X, y = case.make_data()
    return SimpleNamespace(**case._asdict(), X=X, y=y)
