"""Inference-aware sizing for every law, against an independent numeric optimisation: scipy over ln N from
many starts, with D solved from the loss constraint (or the budget) through the law's own prediction."""

import json
import math

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main
from scalinglaw.inference import inference_optimal
from scalinglaw.law import Chinchilla, DataConstrained, Kaplan
from scipy.optimize import brentq, minimize_scalar

LAWS = {
    # Hoffmann et al.'s published (rounded) parameters.
    "chinchilla": Chinchilla(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283),
    # Kaplan et al. (2020), Table 2's L(N, D) fit: N_c, D_c, alpha_N, alpha_D.
    "kaplan": Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103),
    # Muennighoff et al. (2023)'s fitted data-constrained law.
    "data_constrained": DataConstrained(
        E=1.87, A=521.0, B=1488.0, alpha=0.353, beta=0.353, R_D=15.4, R_N=5.3
    ),
}
#: ln N from 1e6 to 1e15 parameters: where the feasible region is looked for.
LOW, HIGH = math.log(1e6), math.log(1e15)


def log_loss(law, n, d):
    return math.log(float(law.predict(n, d)))


def tokens_for_loss(law, n, loss):
    """D with L(n, D) = loss, by Brent's root finder on ln D (inf where no D reaches it)."""

    def excess(y):
        return log_loss(law, n, math.exp(y)) - math.log(loss)

    if excess(690.0) >= 0:
        return math.inf
    return math.exp(brentq(excess, 0.0, 690.0, xtol=1e-13, rtol=1e-15, maxiter=500))


def feasible(objective):
    """The interval of ln N where the objective is finite, its ends found by bisection."""
    grid = np.linspace(LOW, HIGH, 400)
    finite = [x for x in grid if math.isfinite(objective(x))]
    ends = []
    for inside, step in ((finite[0], -(grid[1] - grid[0])), (finite[-1], grid[1] - grid[0])):
        outside = inside + step
        if not LOW <= outside <= HIGH:
            ends.append(inside)
            continue
        for _ in range(60):
            mid = 0.5 * (inside + outside)
            inside, outside = (mid, outside) if math.isfinite(objective(mid)) else (inside, mid)
        ends.append(inside)
    return ends


def best_over_starts(objective):
    """The x of the smallest objective over bounded Brent searches between 36 neighbouring starts
    spread over the feasible interval."""
    lo, hi = feasible(objective)
    starts = np.linspace(lo, hi, 37)
    found = []
    for a, b in zip(starts[:-1], starts[1:]):
        r = minimize_scalar(objective, bounds=(a, b), method="bounded", options={"xatol": 1e-11})
        found.append((r.fun, r.x))
    return min(found)[1]


def reference_for_loss(law, loss, T):
    def flops(x):
        n = math.exp(x)
        d = tokens_for_loss(law, n, loss)
        return math.log(6 * n * d + 2 * n * T) if math.isfinite(d) else math.inf

    n = math.exp(best_over_starts(flops))
    return n, tokens_for_loss(law, n, loss)


def reference_for_budget(law, C, T):
    def loss(x):
        n = math.exp(x)
        left = C - 2 * n * T
        return log_loss(law, n, left / (6 * n)) if left > 6 * n else math.inf

    return math.exp(best_over_starts(loss))


@pytest.mark.parametrize("name", list(LAWS))
@pytest.mark.parametrize("T", [0.0, 1e11, 2e12, 5e13])
def test_target_loss_against_scipy(name, T):
    law = LAWS[name]
    loss = float(law.compute_optimal(1e22).loss)
    plan = law.inference_optimal(T, loss=loss)
    n, d = reference_for_loss(law, loss, T)
    assert plan.N == pytest.approx(n, rel=2e-6)
    assert plan.D == pytest.approx(d, rel=5e-6)
    assert plan.loss == pytest.approx(loss, rel=1e-12)
    # The compute-optimal reference is the frontier's model of the same loss.
    assert plan.chinchilla_N == pytest.approx(float(law.compute_optimal(1e22).N), rel=1e-9)
    assert plan.total_flops <= plan.chinchilla_total_flops * (1 + 1e-12)
    if T == 0:
        assert plan.N == pytest.approx(plan.chinchilla_N, rel=1e-9)


@pytest.mark.parametrize("name", list(LAWS))
@pytest.mark.parametrize("T", [1e11, 2e12, 5e13])
def test_total_budget_against_scipy(name, T):
    law = LAWS[name]
    C = 1e23
    plan = law.inference_optimal(T, C=C)
    assert plan.total_flops == pytest.approx(C, rel=1e-12)
    assert plan.N == pytest.approx(reference_for_budget(law, C, T), rel=2e-6)
    assert plan.loss == pytest.approx(float(law.predict(plan.N, plan.D)), rel=1e-15)
    # The two questions are dual: the cheapest model for the loss the budget reaches is the same model.
    assert law.inference_optimal(T, loss=plan.loss).N == pytest.approx(plan.N, rel=1e-9)


def test_the_data_constrained_optimum_has_no_excess_parameters():
    # Without repetition the data-constrained law is the Chinchilla sum wherever N <= N_opt(D); the
    # optimum lies there, so the two laws size alike (the scipy test above checks the law itself).
    dc = LAWS["data_constrained"]
    chinchilla = Chinchilla(E=dc.E, A=dc.A, B=dc.B, alpha=dc.alpha, beta=dc.beta)
    for T in (0.0, 2e12):
        mine, theirs = dc.inference_optimal(T, loss=2.3), chinchilla.inference_optimal(T, loss=2.3)
        assert mine.N == theirs.N and mine.D == theirs.D
        assert mine.loss == pytest.approx(2.3, rel=1e-13)


def test_a_unique_token_budget_is_refused():
    with pytest.raises(ValueError, match="budget of unique tokens is not offered"):
        LAWS["data_constrained"].inference_optimal(2e12, loss=2.3, unique_tokens=1e11)


def test_kaplan_refuses_exponents_without_an_optimum():
    law = Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=-0.076, alpha_D=0.103)
    with pytest.raises(ValueError, match="alpha_N and alpha_D must be > 0"):
        law.inference_optimal(1e12, loss=2.0)


@pytest.mark.parametrize("name", list(LAWS))
def test_the_method_the_function_and_the_fit_agree(name, fit_240):
    law = LAWS[name]
    assert law.inference_optimal(2e12, C=1e23) == inference_optimal(law, 2e12, C=1e23)
    assert fit_240.inference_optimal(2e12, loss=2.1) == fit_240.law.inference_optimal(2e12, loss=2.1)
    mapping = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.336, "beta": 0.283}
    assert inference_optimal(mapping, 2e12, loss=1.947) == LAWS["chinchilla"].inference_optimal(
        2e12, loss=1.947
    )


@pytest.mark.parametrize("name", list(LAWS))
def test_scalars_in_floats_out_arrays_in_arrays_out(name):
    law = LAWS[name]
    one = law.inference_optimal(2e12, loss=2.3)
    assert all(type(value) is float for value in one.to_dict().values())
    losses = np.array([[2.3, 2.5, 2.7], [2.4, 2.6, 2.8]])
    many = law.inference_optimal(2e12, loss=losses)
    assert many.N.shape == many.flops_saved.shape == (2, 3)
    assert many.N[0, 0] == one.N and many.flops_ratio[0, 0] == one.flops_ratio
    assert many.to_dict()["N"][1][2] == law.inference_optimal(2e12, loss=2.8).N
    budgets = law.inference_optimal(2e12, C=[1e22, 1e23])
    assert budgets.N.shape == (2,) and budgets.N[1] == law.inference_optimal(2e12, C=1e23).N
    with pytest.raises(ValueError, match="loss"):
        law.inference_optimal(2e12, loss=[2.3, -1.0])


KAPLAN = "N_c=6.4e13,D_c=1.8e13,alpha_N=0.076,alpha_D=0.103"
DATA_CONSTRAINED = "E=1.87,A=521,B=1488,alpha=0.353,beta=0.353,R_D=15.4,R_N=5.3"


@pytest.mark.parametrize(("law", "params"), [("kaplan", KAPLAN), ("data_constrained", DATA_CONSTRAINED)])
def test_plan_with_inference_tokens_for_every_law(law, params, capsys):
    asked = ["--target-loss", "2.3", "--flops", "1e23", "--inference-tokens", "2e12"]
    status = main(["plan", "--law", law, "--params", params, *asked, "--json", "-"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    answers = {a["question"]: a for a in json.loads(captured.out)["answers"]}
    expected = LAWS[law].inference_optimal(2e12, loss=2.3)
    assert answers["loss"]["N"] == expected.N and answers["loss"]["flops_saved"] == expected.flops_saved
    assert answers["C"]["N"] == LAWS[law].inference_optimal(2e12, C=1e23).N
    assert "% of the compute-optimal" in captured.err


def test_sardana_numbers_hold_through_the_method():
    plan = scalinglaw.Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283).inference_optimal(
        2e12, loss=1.947
    )
    assert plan.N == pytest.approx(2.41836e10, rel=5e-6) and plan.D == pytest.approx(2.65705e12, rel=5e-6)
    assert round(100 * plan.N_ratio, 2) == 70.96 and round(100 * plan.D_ratio, 2) == 146.77
    assert round(100 * plan.flops_ratio, 2) == 95.22


@pytest.mark.parametrize("name", list(LAWS))
def test_no_inference_is_the_frontier_for_every_law(name):
    law = LAWS[name]
    for C in (1e19, 1e23, 1e26):
        plan, frontier = law.inference_optimal(0.0, C=C), law.compute_optimal(C)
        assert plan.N == pytest.approx(frontier.N, rel=1e-9) and plan.D == pytest.approx(frontier.D, rel=1e-9)
        assert plan.flops_saved == pytest.approx(0.0, abs=1e-9 * C)
