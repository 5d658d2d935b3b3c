"""Kaplan et al.'s law inverted: ``budget_for_loss`` against an independent numeric solve (scipy: the
frontier's loss as the minimum over N along each budget, then the budget where it meets the target),
over its whole attainable range, and a clear ValueError beyond it at either end."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scalinglaw import Kaplan
from scipy.optimize import brentq, minimize_scalar

LAW = Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)  # Kaplan et al. (2020)


def kaplan_log_loss(log_n, log_flops):
    """log L(N, C / 6N) of L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D, from the paper."""
    p = LAW.params
    k = p["alpha_N"] / p["alpha_D"]
    log_d = log_flops - math.log(6.0) - log_n
    return p["alpha_D"] * np.logaddexp(k * (math.log(p["N_c"]) - log_n), math.log(p["D_c"]) - log_d)


def frontier_log_loss(log_flops):
    """The lowest log loss over model sizes at the budget (the bracket is convex in log N)."""
    bounds = (log_flops - 300.0, log_flops + 300.0)
    found = minimize_scalar(
        kaplan_log_loss, bounds=bounds, args=(log_flops,), method="bounded", options={"xatol": 1e-10}
    )
    return float(found.fun)


def smallest_budget(target):
    """The budget whose frontier loss is the target: the frontier's loss falls with C."""
    return math.exp(
        brentq(lambda v: frontier_log_loss(v) - math.log(target), math.log(6.0), 700.0, xtol=1e-13)
    )


@pytest.mark.parametrize("flops", [1e3, 1e15, 5.76e23, 1e40, 1e100, 1e200])
def test_budget_for_loss_is_the_numeric_solve(flops):
    target = math.exp(frontier_log_loss(math.log(flops)))
    reached = LAW.budget_for_loss(target)
    assert float(reached.C) == pytest.approx(smallest_budget(target), rel=1e-8)
    assert float(reached.C) == pytest.approx(flops, rel=1e-8)
    assert float(reached.loss) == pytest.approx(target, rel=1e-12)


def test_many_targets_at_once():
    targets = np.array([3.0, 2.5, 2.0, 1.5, 1.0])
    reached = LAW.budget_for_loss(targets)
    expected = [smallest_budget(t) for t in targets]
    np.testing.assert_allclose(reached.C, expected, rtol=1e-8)
    np.testing.assert_allclose(reached.loss, targets, rtol=1e-12)


def test_the_loss_at_the_smallest_budget_is_reached_there():
    top = float(LAW.compute_optimal(6.0).loss)
    assert top == pytest.approx(math.exp(frontier_log_loss(math.log(6.0))), rel=1e-12)
    assert float(LAW.budget_for_loss(top).C) == 6.0


@pytest.mark.parametrize("above", [1.0 + 1e-12, 1.5, 10.0, 1e300])
def test_a_target_above_the_loss_at_every_budget_is_a_clear_error(above):
    top = float(LAW.compute_optimal(6.0).loss)
    with pytest.raises(
        ValueError, match=r"above the kaplan law's loss at any budget >= 6 FLOPs .*every budget"
    ):
        LAW.budget_for_loss(top * above)
    with pytest.raises(ValueError, match="above the kaplan law's loss"):  # one bad target of several
        LAW.budget_for_loss([2.0, top * above])


@pytest.mark.parametrize("target", [1e-30, 1e-300])
def test_a_target_no_representable_budget_reaches_is_a_clear_error(target):
    with pytest.raises(ValueError, match="is not reached by any budget up to 6e304 FLOPs"):
        LAW.budget_for_loss(target)


@pytest.mark.parametrize("target", [0.0, -1.0, math.nan, math.inf])
def test_a_target_that_is_no_loss_is_refused(target):
    with pytest.raises(ValueError, match="loss"):
        LAW.budget_for_loss(target)


def test_published_predictions_and_compute_optimal_exponent():
    """Issue 13's numbers for Kaplan et al.'s law: L(1e9, 2e10) and N_opt ~ C^0.575419, the exponent
    also read off the numeric minimum over N at two budgets."""
    assert float(LAW.predict(1e9, 2e10)) == pytest.approx(2.3738824, abs=5e-8)
    assert math.exp(float(kaplan_log_loss(math.log(1e9), math.log(6 * 1e9 * 2e10)))) == pytest.approx(
        2.3738824, abs=5e-8
    )
    low, high = math.log(1e20), math.log(1e24)
    plan = LAW.compute_optimal([1e20, 1e24])
    assert math.log(plan.N[1] / plan.N[0]) / (high - low) == pytest.approx(0.575419, abs=5e-7)

    def argmin(log_flops):
        bounds = (log_flops - 300.0, log_flops + 300.0)
        options = {"xatol": 1e-12}
        return minimize_scalar(
            kaplan_log_loss, bounds=bounds, args=(log_flops,), method="bounded", options=options
        ).x

    assert (argmin(high) - argmin(low)) / (high - low) == pytest.approx(0.575419, abs=5e-6)
