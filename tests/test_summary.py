"""The summary's robust spread of the exponents, and what it says about a design that is not IsoFLOP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalinglaw
from scalinglaw.summary import format_summary, record, robust_spread


@pytest.fixture(scope="module")
def resampled(fit_240):
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    # Epoch's first 200 resamples (numpy's legacy RandomState(42)): fixed whatever our generator does
    state = np.random.RandomState(42)
    indices = np.array([state.choice(240, 240, replace=True) for _ in range(200)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalinglaw.BudgetGroupingWarning)
        return runs, scalinglaw.bootstrap(
            *runs, n_resamples=200, indices=indices, isoflop_budgets=runs.budgets, estimate=fit_240
        )


def test_robust_spread_is_half_the_central_68_percent_interval(resampled):
    _, boot = resampled
    spread = robust_spread(boot)
    assert set(spread) == {"a", "b", "approach2_a", "approach2_b"}
    for key, found in spread.items():
        values = boot.samples[key][(boot.status == "converged") & np.isfinite(boot.samples[key])]
        low, median, high = np.percentile(values, [15.865, 50, 84.135])
        assert found["robust_se"] == pytest.approx((high - low) / 2, rel=1e-12)
        assert found["outliers"] == int(np.sum(np.abs(values - median) > 3 * found["robust_se"]))


def test_an_se_inflated_by_outliers_is_named_as_such(resampled, fit_240):
    runs, boot = resampled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalinglaw.BudgetGroupingWarning)
        found = scalinglaw.approach2(*runs, budgets=runs.budgets)
    text = format_summary(record(fit_240, runs, [scalinglaw.GOPHER_FLOPS], approach2=found, bootstrap=boot))
    (line,) = [line for line in text.splitlines() if line.startswith("  a: 95% interval")]
    spread = robust_spread(boot)["approach2_a"]
    low, high = boot.interval["approach2_a"]
    # A few resamples with barely curved parabolas inflate the plain SE past the 95% interval's half
    # width (a normal spread has SE = half width / 1.96); the robust one lies within it, and the plain
    # one is shown only with that explanation.
    assert boot.standard_error["approach2_a"] > (high - low) / 2 > 2 * spread["robust_se"]
    assert boot.standard_error["approach2_a"] > 3 * spread["robust_se"]
    assert f"robust SE {spread['robust_se']:.4f}" in line
    assert f"plain SE {boot.standard_error['approach2_a']:.4f}, inflated by {spread['outliers']}" in line
    assert spread["outliers"] > 0
