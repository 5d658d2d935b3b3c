"""Issue 17, the rest of the edges: a fit's objective at its own parameters, requests larger than memory,
a wide CSV header, grouping no runs, and messages (empty header names, OSError from paths, CLI option
names, float noise, a bootstrap of a law without a frontier). Each table row is one case."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main
from scalinglaw.saved import load_fit

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


# --- messages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize(
    "below", ["N{0}D{0}loss\n1e9{0}2e10{0}2.5\n", "1e9{0}2e10{0}2.5\n"], ids=["header", "data"]
)
def test_a_header_row_of_empty_names_is_refused(tmp_path, delimiter, below, capsys):
    path = tmp_path / "runs.csv"
    path.write_text(delimiter * 2 + "\n" + below.format(delimiter))
    message = r"runs.csv: line 1: a header row of 3 empty column names"
    with pytest.raises(ValueError, match=message):
        scalinglaw.read_csv(path)
    assert main(["fit", str(path)]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_blank_rows_are_still_skipped(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("\n\nN,D,loss\n1e9,2e10,2.5\n,,\n2e9,2e10,2.4\n")
    assert len(scalinglaw.read_csv(path)) == 2


def _loop(tmp: Path) -> Path:
    (tmp / "a").symlink_to(tmp / "b")
    (tmp / "b").symlink_to(tmp / "a")
    return tmp / "a"


@pytest.mark.parametrize(
    "make, error, message",
    [
        (_loop, ValueError, r"a: cannot be read \(Too many levels of symbolic links\)"),
        (
            lambda tmp: tmp / ("x" * 300 + ".csv"),
            ValueError,
            r"x\.\.\.x+\.csv: cannot be read \(File name too long\)",
        ),
        (lambda tmp: tmp / "/".join(["y" * 200] * 30), ValueError, r"cannot be read \(File name too long\)"),
        (lambda tmp: tmp / "runs.csv" / "x", FileNotFoundError, r"no such file: .*runs\.csv/x"),
    ],
    ids=["symlink-loop", "long-name", "long-path", "file-as-directory"],
)
def test_paths_that_cannot_be_opened_give_the_documented_errors(tmp_path, make, error, message):
    write_runs(tmp_path / "runs.csv", EXACT)
    path = make(tmp_path)
    with pytest.raises(error, match=message) as caught:
        scalinglaw.read_csv(path)
    assert len(str(caught.value)) < 400  # the path is shortened, never echoed whole
    with pytest.raises((ValueError, FileNotFoundError)):
        load_fit(path)


# (header, read_csv's keywords, the command's options, the Python message, the command's message)
OPTION_NAMES = [
    (
        "N,D,loss",
        {"loss": "final"},
        ["--loss", "final"],
        r"no column 'final' for loss= ",
        r"no column 'final' for --loss ",
    ),
    (
        "N,D,loss",
        {"d": "D", "c": "D"},
        ["--d", "D", "--c", "D"],
        r"give d= \(tokens\) or c= \(FLOPs\)",
        r"give --d \(tokens\) or --c \(FLOPs\)",
    ),
    (
        "N,n,D,loss",
        {"n": "n "},
        ["--n", "n "],
        r"n='n ' could be 'N' and 'n'",
        r"--n 'n ' could be 'N' and 'n'",
    ),
    (
        "N,D,loss",
        {"group": "zz"},
        ["--group", "zz"],
        r"group='zz': no such column",
        r"--group 'zz': no such column",
    ),
    ("N,D,loss,val_loss", {}, [], r"choose one with loss=\.\.\.", r"choose one with --loss \.\.\."),
    ("a,b,c", {}, [], r"name them with n=, d=, c=, loss=$", r"name them with --n, --d, --c, --loss$"),
]


@pytest.mark.parametrize("header, keywords, argv, python, command", OPTION_NAMES)
def test_the_command_names_its_options_not_python_keywords(
    tmp_path, capsys, header, keywords, argv, python, command
):
    path = tmp_path / "runs.csv"
    width = header.count(",") + 1
    path.write_text(header + "\n" + ",".join(["2e9"] * width) + "\n" + ",".join(["3e9"] * width) + "\n")
    with pytest.raises(ValueError, match=python):
        scalinglaw.read_csv(path, **keywords)
    assert main(["fit", str(path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert re.search(command, err), err
    assert not re.search(r"(?<![\w-])(n|d|c|loss|group)=", err), err


def test_frontier_messages_show_no_float_noise():
    law = dict(E=1.8, A=480.0, B=2000.0, alpha=-0.6241711544279039, beta=0.37)
    with pytest.raises(
        ValueError, match=r"alpha must be > 0 for a compute-optimal frontier, got -0\.624171$"
    ):
        scalinglaw.frontier_coefficients(law)
    with pytest.raises(ValueError, match=r"got -0\.5$"):  # a value as typed stays as typed
        scalinglaw.compute_optimal({**law, "alpha": -0.5}, 1e21)


@pytest.mark.filterwarnings("ignore::scalinglaw.IllConditionedWarning")
def test_a_bootstrap_of_a_law_without_frontier_reports_its_parameters(tmp_path, capsys):
    estimate = scalinglaw.fit(N, D, FLAT)
    assert not estimate.alpha > 0  # no frontier
    with pytest.warns(scalinglaw.BootstrapWarning, match=r"left out where undefined: a in 4"):
        boot = scalinglaw.bootstrap(N, D, FLAT, n_resamples=4, seed=3, estimate=estimate)
    assert boot.point["alpha"] == estimate.alpha and boot.point["E"] == estimate.E
    assert np.isnan(boot.point["a"]) and np.isnan(boot.point["N_opt"]).all()
    assert np.isfinite(boot.standard_error["A"])
    # the command: parameters with their spread, the frontier marked undefined, exit 0
    path = write_runs(tmp_path / "flat.csv", FLAT)
    assert main(["fit", str(path), "--bootstrap", "4", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"alpha = .*\[", out)  # an interval beside the estimate
    assert re.search(
        r"Compute-optimal frontier: none \(alpha must be > 0 .*, got -?[\d.]{1,7}e-\d+\)", out
    ), out


# --- requests larger than memory: ValueError naming the size, before allocating ---------------------
AXIS = np.logspace(1, 5, 10**6)  # 8 MB; a grid of it by itself is 8 TB
LAW = dict(E=1.8, A=480.0, B=2000.0, alpha=0.34, beta=0.28)
HUGE = [
    (lambda: scalinglaw.loss_grid(LAW, AXIS, AXIS), r"a grid of 1000000 x 1000000 float64 cells needs 8 TB"),
    (
        lambda: scalinglaw.loss_grid_nd(LAW, AXIS, AXIS[:100000], dtype=np.float32),
        r"a grid of 1000000 x 100000 float32 cells needs 400 GB",
    ),
    (
        lambda: scalinglaw.predict(LAW, AXIS[:, None], AXIS[None, :]),
        r"predict on shape \(1000000, 1000000\) needs 24 TB",
    ),
    (
        lambda: scalinglaw.bootstrap(N, D, EXACT, n_resamples=2**31 - 1, seed=1),
        r"a bootstrap of 2147483647 resamples of 40 runs at 1 budgets needs 1.24 TB",
    ),
    (
        lambda: scalinglaw.bootstrap(N, D, EXACT, n_resamples=10**6, seed=1, budgets=np.full(10**6, 1e21)),
        r"a bootstrap of 1000000 resamples of 40 runs at 1000000 budgets needs 64 TB",
    ),
    (
        lambda: scalinglaw.bootstrap_indices(2400, 10**9, 1),
        r"the index table of 1000000000 resamples of 2400 runs needs 38.4 TB",
    ),
]


@pytest.mark.parametrize(
    "call, message", HUGE, ids=["loss_grid", "loss_grid_nd", "predict", "resamples", "budgets", "indices"]
)
def test_requests_larger_than_memory_are_refused_before_allocating(call, message):
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ValueError, match=message + r".*, more than this machine's memory \("):
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64e6  # numpy's allocations are traced: nothing near the request was made
    assert time.monotonic() - started < 10  # (the bootstraps refuse before the full-data fit)


def test_the_command_refuses_a_resample_count_larger_than_memory(tmp_path, capsys):
    path = write_runs(tmp_path / "runs.csv", EXACT)
    assert main(["fit", str(path), "--bootstrap", str(2**31 - 1)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"scalinglaw: error: a bootstrap of 2147483647 resamples .* needs 1.24 TB .*\n", err
    ), err
