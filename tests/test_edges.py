"""Issue 17, the rest of the edges: a fit's objective at its own parameters, requests larger than memory,
a wide CSV header, grouping no runs, and messages (empty header names, OSError from paths, CLI option
names, float noise, a bootstrap of a law without a frontier). Each table row is one case."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main

# Noise-free runs of a known law on a grid of sizes and token counts: recovery of known parameters.
N = np.repeat(np.logspace(7, 10, 8), 5)
D = np.tile(np.logspace(9, 12, 5), 8)
EXACT = 1.7 + 400 / N**0.34 + 410 / D**0.28
FLAT = np.full_like(N, 2.0)  # every loss equal: no frontier (alpha, beta ~ 0)


def write_runs(path, loss):
    path.write_text(
        "N,D,loss\n"
        + "".join(f"{a!r},{b!r},{x!r}\n" for a, b, x in zip(N.tolist(), D.tolist(), loss.tolist()))
    )
    return path


# --- a fit's objective is the objective at its parameters -------------------------------------------
@pytest.mark.filterwarnings("ignore::scalinglaw.IllConditionedWarning")
@pytest.mark.parametrize("loss", [EXACT, FLAT], ids=["noise-free", "all-equal"])
def test_objective_is_the_objective_at_the_parameters(loss):
    result = scalinglaw.fit(N, D, loss)
    assert result.objective >= 0.0
    at_params = scalinglaw.objective(N, D, loss, **result.params)
    # the same up to the rounding of E = e^e, A = e^a, B = e^b (a log-residual moves by ~1e-15)
    assert abs(at_params - result.objective) <= 1e-12 * result.delta * len(N) + 1e-9 * at_params
    assert result.starts.objective[result.best_start] == result.objective


def test_bootstrap_accepts_a_fit_of_noise_free_runs():
    result = scalinglaw.fit(N, D, EXACT)
    boot = scalinglaw.bootstrap(N, D, EXACT, n_resamples=4, seed=1, estimate=result)
    assert boot.n_converged == 4
    assert np.all(boot.objective >= 0.0)
    assert boot.point["alpha"] == result.alpha


def test_cli_bootstrap_on_noise_free_runs(tmp_path, capsys):
    assert (
        main(["fit", str(write_runs(tmp_path / "exact.csv", EXACT)), "--bootstrap", "4", "--seed", "1"]) == 0
    )
    assert "alpha" in capsys.readouterr().out


# --- scale: a wide tracker export ------------------------------------------------------------------
def test_a_header_of_80000_columns_is_read_in_linear_time(tmp_path):
    extra = 80_000
    path = tmp_path / "wide.csv"
    rows = "".join(
        f"{n!r},{d!r},{x!r}" + ",0" * extra + "\n"
        for n, d, x in zip(N[:8].tolist(), D[:8].tolist(), EXACT[:8].tolist())
    )
    path.write_text("N,D,loss," + ",".join(f"metric/{i}" for i in range(extra)) + "\n" + rows)
    started = time.process_time()  # CPU time: other processes on the machine do not count
    runs = scalinglaw.read_csv(path)
    assert time.process_time() - started < 3.0  # quadratic in the columns, it took over a minute
    assert len(runs) == 8
    # a duplicate among them is still found and named
    path.write_text("N,D,loss," + ",".join(f"m{i % (extra - 1)}" for i in range(extra)) + "\n" + rows)
    with pytest.raises(ValueError, match=r"duplicate column names 'm0'"):
        scalinglaw.read_csv(path)


# --- silent wrong answers ---------------------------------------------------------------------------
@pytest.mark.parametrize("budgets", [None, [1e20]], ids=["grouped-by-gaps", "nominal-budgets"])
@pytest.mark.parametrize("flops", [[], np.empty(0)], ids=["list", "array"])
def test_grouping_no_runs_is_refused(flops, budgets):
    with pytest.raises(ValueError, match=r"C must hold the training FLOPs of at least one run.*got none"):
        scalinglaw.group_by_budget(flops, budgets)
