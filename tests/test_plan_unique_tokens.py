"""Planning under a budget of unique tokens (Muennighoff et al.'s data-constrained law): the compute-optimal
model for a budget, the smallest budget for a loss and the budget for a model size, each against an
independent numeric solve (the paper's formulas in numpy, scipy's minimum along each budget, brentq on
log C); the floor repeated data put under the loss, against its closed form; and the plan command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scalinglaw
from conftest import data_constrained_loss
from scalinglaw import answers
from scalinglaw.cli import main
from scalinglaw.saved import load_fit, saved_fields
from scalinglaw.trust import DataRange
from scipy.optimize import brentq, minimize_scalar

# Muennighoff et al.'s C4 fit (utils/parametric_fit.ipynb) and their published R*.
PARAMS = {
    "E": math.exp(0.6254804),
    "A": math.exp(6.255414),
    "B": math.exp(7.3049974),
    "alpha": 0.3526596,
    "beta": 0.3526596,
    "R_D": 15.387756,
    "R_N": 5.309743,
}
LAW = scalinglaw.DataConstrained(**PARAMS)
UNIQUE = 1e11
CLI_PARAMS = ",".join(f"{key}={value!r}" for key, value in PARAMS.items())


def log_loss_along(log_n, log_flops, unique):
    """log L(N, C / 6N) with U_D = min(unique, D), from the paper's formulas."""
    n = math.exp(log_n)
    d = math.exp(log_flops) / (6.0 * n)
    return math.log(float(data_constrained_loss(PARAMS, np.array([n]), np.array([d]), min(unique, d))[0]))


def reference_optimum(log_flops, unique=UNIQUE):
    """(log N_opt, log L_opt) at the budget: the best of a grid over log N in [0, log C/6], refined by a
    bounded scalar minimisation between its neighbours."""
    top = log_flops - math.log(6.0)
    grid = np.linspace(0.0, top, 801)
    values = [log_loss_along(u, log_flops, unique) for u in grid]
    k = int(np.argmin(values))
    bounds = (grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)])
    found = minimize_scalar(
        log_loss_along, bounds=bounds, args=(log_flops, unique), method="bounded", options={"xatol": 1e-11}
    )
    return float(found.x), float(found.fun)


@pytest.mark.parametrize("flops", [1e19, 1e21, 1e22, 1e23, 1e25])
def test_the_optimum_under_the_budget_is_the_numeric_minimum(flops):
    found = LAW.compute_optimal(flops, unique_tokens=UNIQUE)
    log_n, log_loss = reference_optimum(math.log(flops))
    assert math.log(found.N) == pytest.approx(log_n, abs=1e-5)
    assert math.log(found.loss) == pytest.approx(log_loss, abs=1e-12)
    assert found.N * found.D * 6 == pytest.approx(flops, rel=1e-12)


@pytest.mark.parametrize("flops", [3e19, 4e22, 2e24])
def test_the_smallest_budget_for_a_loss_is_the_numeric_solve(flops):
    target = math.exp(reference_optimum(math.log(flops))[1])
    reached = LAW.budget_for_loss(target, unique_tokens=UNIQUE)

    def excess(log_flops):
        return reference_optimum(log_flops)[1] - math.log(target)

    reference = math.exp(brentq(excess, math.log(flops) - 2.0, math.log(flops) + 2.0, xtol=1e-12))
    assert reached.C == pytest.approx(reference, rel=1e-6)
    assert reached.loss == pytest.approx(target, rel=1e-10)
    # Repetition costs: the same loss needs more compute than with unlimited unique tokens.
    assert reached.C > LAW.budget_for_loss(target).C or reached.D <= UNIQUE


@pytest.mark.parametrize("size", [3e9, 2e10, 1e11])
def test_the_budget_for_a_model_size_is_the_numeric_solve(size):
    found = LAW.optimal_for_size(size, unique_tokens=UNIQUE)
    assert found.N == pytest.approx(size, rel=1e-9)

    def short(log_flops):
        return reference_optimum(log_flops)[0] - math.log(size)

    guess = math.log(found.C)
    reference = math.exp(brentq(short, guess - 1.0, guess + 1.0, xtol=1e-12))
    assert found.C == pytest.approx(reference, rel=1e-4)
    assert found.C == pytest.approx(LAW.compute_optimal(found.C, unique_tokens=UNIQUE).C)
    assert LAW.compute_optimal(found.C, unique_tokens=UNIQUE).N == pytest.approx(size, rel=1e-9)


def floor(unique):
    """The loss as compute grows without bound on `unique` tokens: N, D -> inf, so D' -> U (1 + R*_D),
    U_N -> N_opt(U) and N' -> U_N (1 + R*_N) (the paper's eqs. 5-6 in the limit)."""
    p = PARAMS
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    u_n = g * (g * unique) ** (p["beta"] / p["alpha"])
    return (
        p["E"]
        + p["A"] / (u_n * (1 + p["R_N"])) ** p["alpha"]
        + p["B"] / (unique * (1 + p["R_D"])) ** p["beta"]
    )


def test_repeated_data_put_a_floor_under_the_loss():
    lowest = floor(UNIQUE)
    with pytest.raises(
        ValueError, match=r"not reached by any budget .* falls no lower than ([0-9.]+)"
    ) as caught:
        LAW.budget_for_loss(lowest * (1 - 1e-4), unique_tokens=UNIQUE)
    said = float(caught.value.args[0].rsplit(" ", 1)[1])
    assert said == pytest.approx(lowest, rel=1e-5)
    reached = LAW.budget_for_loss(lowest * 1.001, unique_tokens=UNIQUE)
    assert reached.loss == pytest.approx(lowest * 1.001, rel=1e-10)
    assert reached.D / UNIQUE > 10  # many epochs: near the floor only repetition is left to buy
    # Without the budget the same target is an ordinary plan.
    assert LAW.budget_for_loss(lowest * (1 - 1e-4)).loss == pytest.approx(lowest * (1 - 1e-4))


def test_bad_sizes_and_budgets_are_refused():
    with pytest.raises(ValueError, match="n must be >= 1"):
        LAW.optimal_for_size(0.5, unique_tokens=UNIQUE)
    with pytest.raises(ValueError, match="unique_tokens"):
        LAW.budget_for_loss(2.3, unique_tokens=-1.0)
    with pytest.raises(ValueError, match="unique_tokens"):
        LAW.optimal_for_size(1e9, unique_tokens=math.nan)


def test_the_plan_command_reports_epochs(capsys):
    plan = ["plan", "--law", "data_constrained", "--params", CLI_PARAMS, "--flops", "1e23"]
    status = main([*plan, "--target-loss", "2.2", "--n", "3e10", "--unique-tokens", "1e11", "--json", "-"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    budget, target, size = json.loads(captured.out)["answers"]
    expected = LAW.compute_optimal(1e23, unique_tokens=UNIQUE)
    assert (budget["N"], budget["D"], budget["loss"]) == (expected.N, expected.D, expected.loss)
    assert budget["epochs"] == pytest.approx(expected.D / UNIQUE) and budget["epochs"] > 1
    assert budget["unique_tokens"] == UNIQUE
    assert target["loss"] == pytest.approx(2.2, rel=1e-10)
    assert target["C"] == LAW.budget_for_loss(2.2, unique_tokens=UNIQUE).C
    assert size["N"] == pytest.approx(3e10, rel=1e-9)
    assert "with 100B unique tokens:" in captured.err and "epochs)" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--params", "E=1.69,A=406.4,B=410.7,alpha=0.336,beta=0.283"], "chinchilla law does not model"),
        (["--law", "data_constrained", "--params", CLI_PARAMS, "--inference-tokens", "1e12"], "not offered"),
        (["--law", "data_constrained", "--params", CLI_PARAMS, "--unique-tokens", "0"], "--unique-tokens"),
        (["--law", "data_constrained", "--params", CLI_PARAMS, "--target-loss", "2.0"], "falls no lower"),
    ],
)
def test_the_plan_command_refuses_what_it_cannot_answer(capsys, argv, message):
    argv = ["plan", "--flops", "1e22", *argv]
    if "--unique-tokens" not in argv:
        argv += ["--unique-tokens", "1e11"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def source_with_epochs(top_epochs):
    """A saved fit of the law whose runs repeated their unique tokens 1 to ``top_epochs`` times."""
    n = np.array([1e8, 1e9, 3e9])
    d = np.array([1e9, 2e11, 6e11])
    u = d / np.array([1.0, 2.0, top_epochs])
    document = saved_fields(LAW, options={"delta": 1e-3}, data=DataRange.of(n, d, u))
    return document


def test_a_plan_repeating_data_beyond_the_runs_is_warned(tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(source_with_epochs(4.0)))
    source = load_fit(path)
    assert source.data is not None and source.data.epochs == (1.0, 4.0)
    few, many = answers.plan(source, C=[1e21, 1e23], unique_tokens=UNIQUE)
    assert few["epochs"] < 4 and not any("repeats its unique tokens" in w for w in few["warnings"])
    assert few["inside_data"]
    assert many["epochs"] > 4 and any("repeats its unique tokens" in w for w in many["warnings"])
    assert not many["inside_data"]
    # Without the budget nothing is repeated, and nothing is said of it.
    assert not any("repeats" in w for w in answers.plan(source, C=[1e23])[0]["warnings"])


def test_a_budget_beyond_what_doubles_resolve_is_refused_not_answered():
    """Past ~1e29 FLOPs on 1e11 unique tokens both decays have underflowed: the loss is the floor for
    every split of the budget, and the core says so instead of returning an arbitrary N and D."""
    with pytest.raises(ValueError, match=r"not determined: .* no longer depends on how the budget is split"):
        LAW.compute_optimal(1e30, unique_tokens=UNIQUE)
    with pytest.raises(ValueError, match=r"no budget's compute-optimal model has n = 1e\+14 parameters"):
        LAW.optimal_for_size(1e14, unique_tokens=UNIQUE)
    # Where the derivatives still resolve, an answer stands, its loss the floor to double precision (a
    # minimisation of the loss's values cannot place N there; the core's exact slope can).
    found = LAW.compute_optimal(1e27, unique_tokens=UNIQUE)
    assert found.loss == pytest.approx(floor(UNIQUE), rel=1e-12)
    assert 6 * found.N * found.D == pytest.approx(1e27, rel=1e-12) and found.D / UNIQUE > 100
