"""The compute-optimal frontier: closed forms against the issue's figures and against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scalinglaw

FIT_240 = scalinglaw.Law(E=1.817218, A=477.826, B=2143.42, alpha=0.3473105, beta=0.3671724)
PAPER = scalinglaw.Law(E=1.69340, A=406.40, B=410.72, alpha=0.339171, beta=0.284908)


def test_frontier_of_the_240_run_fit():
    a, b, G = FIT_240.frontier_coefficients()
    assert (a, b, G) == pytest.approx((0.51390, 0.48610, 0.113208), abs=5e-6)
    gopher = FIT_240.compute_optimal(scalinglaw.GOPHER_FLOPS)
    assert float(gopher.N) == pytest.approx(73.19e9, rel=2e-4)
    assert float(gopher.D) == pytest.approx(1.3116e12, rel=2e-4)
    assert float(gopher.tokens_per_parameter) == pytest.approx(17.92, abs=0.005)
    assert float(gopher.loss) == pytest.approx(1.97391, abs=5e-6)
    assert float(gopher.C) == scalinglaw.GOPHER_FLOPS


def test_papers_parameters_give_the_papers_40B():
    assert float(PAPER.compute_optimal(scalinglaw.GOPHER_FLOPS).N) == pytest.approx(40.36e9, rel=2e-4)


@pytest.mark.parametrize("law", [FIT_240, PAPER])
@pytest.mark.parametrize("flops", [1e19, 3e21, 5.76e23, 1e26])
def test_closed_form_is_the_minimum_along_the_budget(law, flops):
    # brute force: the loss along 6 N D = C on a fine log grid, then a parabola through the best points
    n = np.geomspace(1e5, 1e15, 200001)
    loss = law.predict(n, flops / (6 * n))
    best = int(np.argmin(loss))
    x = np.log(n[best - 1 : best + 2])
    coefficients = np.polyfit(x, loss[best - 1 : best + 2], 2)
    n_brute = np.exp(-coefficients[1] / (2 * coefficients[0]))
    allocation = law.compute_optimal(flops)
    assert float(allocation.N) == pytest.approx(n_brute, rel=1e-5)
    assert float(allocation.loss) == pytest.approx(loss[best], rel=1e-9)
    assert float(allocation.N * allocation.D * 6) == pytest.approx(flops, rel=1e-12)


@pytest.mark.parametrize("law", [FIT_240, PAPER])
def test_frontier_touches_each_isoloss_contour_at_its_fewest_flop_point(law):
    # for each target loss, brute-force the fewest FLOPs C = 6 N D over (N, D) with L(N, D) = target
    for target in (2.0, 2.3, 2.8):
        n = np.geomspace(1e6, 1e13, 40001)
        gap = target - law.E - law.A / n**law.alpha  # = B / D^beta on the contour
        ok = gap > 0
        d = (law.B / gap[ok]) ** (1 / law.beta)
        flops = 6 * n[ok] * d
        best = int(np.argmin(flops))
        reached = law.budget_for_loss(target)
        assert float(reached.C) == pytest.approx(flops[best], rel=1e-6)
        assert float(reached.N) == pytest.approx(n[ok][best], rel=2e-3)
        assert float(reached.loss) == pytest.approx(target, rel=1e-12)
        # and the frontier at that budget is the same point
        assert float(law.compute_optimal(float(reached.C)).N) == pytest.approx(float(reached.N), rel=1e-10)


def test_optimal_for_size_inverts_the_frontier():
    flops = np.array([1e20, 5.76e23])
    forward = FIT_240.compute_optimal(flops)
    back = FIT_240.optimal_for_size(forward.N)
    np.testing.assert_allclose(back.D, forward.D, rtol=1e-12)
    np.testing.assert_allclose(back.C, flops, rtol=1e-12)


def test_arrays_keep_their_shape_and_fit_results_plan_directly(fit_240):
    allocation = fit_240.compute_optimal(np.array([[1e20, 1e21], [1e22, 1e23]]))
    assert allocation.N.shape == (2, 2)
    assert fit_240.compute_optimal(scalinglaw.GOPHER_FLOPS).N == pytest.approx(73.19e9, rel=1e-3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: FIT_240.compute_optimal(-1.0), r"C\[\] = -1.0 is not > 0|C.* not > 0"),
        (lambda: FIT_240.compute_optimal([1e20, np.nan]), r"C\[1\] = nan is not finite"),
        (lambda: FIT_240.budget_for_loss(1.5), r"not above E"),
        (lambda: FIT_240.optimal_for_size(0.0), r"not > 0"),
        (lambda: scalinglaw.compute_optimal({"E": 1, "A": 1, "B": 1, "alpha": 0.3}, 1e20), "missing beta"),
        (
            lambda: scalinglaw.compute_optimal({"E": 1, "A": 1, "B": 1, "alpha": -0.3, "beta": 0.3}, 1e20),
            "alpha must be > 0",
        ),
        (
            lambda: scalinglaw.compute_optimal({"E": 1, "A": -1, "B": 1, "alpha": 0.3, "beta": 0.3}, 1e20),
            "A must be finite and > 0",
        ),
    ],
)
def test_bad_planning_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda law: scalinglaw.compute_optimal(law, 5e-324),
            r"for a budget of 5e-324 FLOPs is beyond",
        ),
        (lambda law: scalinglaw.compute_optimal(dict(law, A=1e308, beta=1e-3), 1e21), r"beyond double"),
        (lambda law: scalinglaw.frontier_coefficients(dict(law, beta=1e308)), r"G = .* beyond double"),
        (lambda law: scalinglaw.optimal_for_size(law, 1e308), r"for a model of 1e\+308 parameters"),
        (lambda law: scalinglaw.budget_for_loss(law, 1e308), r"for a target loss of 1e\+308"),
    ],
)
def test_answers_beyond_double_precision_are_refused_not_returned(call, message):
    law = {"E": 1.817, "A": 477.8, "B": 2143.4, "alpha": 0.3473, "beta": 0.3672}
    with pytest.raises(ValueError, match=message):
        call(law)
