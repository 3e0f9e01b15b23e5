"""The Diebold-Mariano test of ``benchmarks/bench_forecasting.py``: the
paired t-test at one step ahead, the overlap of h-step forecasts counted, and
no test where there are too few forecasts to estimate its variance."""

import numpy as np
from benchmark_modules import load
from scipy.stats import ttest_rel

bench = load("bench_forecasting.py", "_bench_forecasting")


def test_one_step_test_is_the_paired_t_test():
    rng = np.random.RandomState(0)
    a, b = rng.normal(size=40) ** 2, rng.normal(0.3, 1, size=40) ** 2
    stat, p = bench.diebold_mariano(a, b, 1)
    expected = ttest_rel(a, b)
    np.testing.assert_allclose([stat, p], [expected.statistic, expected.pvalue])
    assert bench.diebold_mariano(b, a, 1)[0] == -stat


def test_overlapping_forecasts_widen_the_variance():
    """Loss differences that share h - 1 shocks (a moving sum of 6) are
    positively autocorrelated: counting it lowers the statistic below the
    t statistic that treats them as independent."""
    rng = np.random.RandomState(1)
    shocks = rng.normal(size=205)
    d = 0.1 + np.convolve(shocks, np.ones(6), mode="valid")[:200] / 6
    naive, _ = bench.diebold_mariano(d, np.zeros_like(d), 1)
    stat, p = bench.diebold_mariano(d, np.zeros_like(d), 6)
    assert 0 < stat < 0.6 * naive
    assert 0 < p < 1


def test_too_few_forecasts_give_no_test():
    """Fewer than 2h forecasts (or 3) give NaN, 2h a test."""
    rng = np.random.RandomState(2)
    d = rng.normal(size=24)
    assert np.isnan(bench.diebold_mariano(d[:23], np.zeros(23), 12)).all()
    assert np.isfinite(bench.diebold_mariano(d, np.zeros(24), 12)).all()
    assert np.isnan(bench.diebold_mariano(d[:2], np.zeros(2), 1)).all()
