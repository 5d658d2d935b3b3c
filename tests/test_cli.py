"""The command line: summary lines, JSON keys, figure, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scalinglaw",
            "fit",
            "--budget",
            "1e21",
            "--json",
            str(out / "fit.json"),
            "--plot",
            str(out / "figure4.png"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, out


def test_default_job_fits_the_builtin_data_with_epochs_exclusion(default_run, fit_240):
    result, _ = default_run
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "built-in Chinchilla data" in text and "240 runs" in text
    assert "left out the 5 highest-loss runs, as Epoch AI did" in text
    assert "converged" in text and "4500 of 4500 starts reached the best objective" in text
    for name, value in (("E", fit_240.E), ("alpha", fit_240.alpha), ("beta", fit_240.beta)):
        assert f"{name:<5} = {value:12.6g}" in text
    assert "objective = 1.01827401780e-03" in text
    gopher_line = next(line for line in text.splitlines() if "Gopher 5.76e+23" in line)
    assert "73.2B" in gopher_line and "1.31T" in gopher_line and "17.92" in gopher_line
    assert "1.97391" in gopher_line
    assert any(line.strip().startswith("1e+21") for line in text.splitlines())
    assert "Figure 4 written to" in text and "JSON written to" in text


def test_json_holds_everything(default_run, fit_240):
    _, out = default_run
    document = json.loads((out / "fit.json").read_text())
    assert set(document) >= {"scalinglaw_version", "data", "fit", "frontier", "budgets"}
    assert document["data"]["n_runs"] == 240 and document["data"]["n_excluded"] == 5
    assert document["fit"]["objective"] == pytest.approx(fit_240.objective, rel=1e-12)
    assert set(document["fit"]) >= {"E", "A", "B", "alpha", "beta", "status", "starts_at_best", "n_starts"}
    assert document["frontier"]["a"] == pytest.approx(0.51390, abs=5e-6)
    gopher, extra = document["budgets"]
    assert gopher["label"] == "Gopher" and gopher["N_opt"] == pytest.approx(73.19e9, rel=1e-3)
    assert extra["C"] == 1e21


def test_figure_is_a_png(default_run):
    _, out = default_run
    assert (out / "figure4.png").read_bytes()[:4] == b"\x89PNG"


def test_installed_entry_point_runs():
    executable = shutil.which("scalinglaw")
    assert executable is not None
    result = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"scalinglaw {scalinglaw.__version__}"


def test_a_users_csv_with_named_columns(tmp_path, capsys):
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    path = tmp_path / "sweep.csv"
    path.write_text(
        "params,budget,final\n"
        + "".join(f"{float(n)!r},{float(c)!r},{float(y)!r}\n" for n, c, y in zip(runs.N, runs.C, runs.loss))
    )
    assert (
        main(["fit", str(path), "--n", "params", "--c", "budget", "--loss", "final", "--threads", "1"]) == 0
    )
    text = capsys.readouterr().out
    assert f"{path}: 240 runs" in text and "objective = 1.01827401780e-03" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "missing.csv"], "no such file: missing.csv"),
        (["fit", "--delta", "0"], "--delta must be finite and > 0"),
        (["fit", "--delta", "nan"], "--delta must be finite and > 0"),
        (["fit", "--budget", "-5"], "--budget must be a finite number of FLOPs > 0"),
        (["fit", "--threads", "-1"], "--threads must be >= 0"),
        (["fit", "--n", "size"], "give the CSV too"),
        (["fit", "--exclude-highest-loss", "245"], "would leave no runs"),
        (["fit", "--plot", "figure.gif"], ".png, .pdf or .svg"),
        (["fit", "--json", "/nonexistent-dir/out.json"], "--json: no such directory: /nonexistent-dir"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert captured.out == ""  # refused before any work
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_options_exit_2_from_argparse(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--no-such-option"])
    assert stop.value.code == 2
    with pytest.raises(SystemExit) as stop:
        main([])
    assert stop.value.code == 2


def test_a_csv_without_the_columns_is_a_user_error(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("step,accuracy\n1,0.5\n")
    assert main(["fit", str(path)]) == 2
    assert "no column for model size N" in capsys.readouterr().err


def test_skip_bad_rows_says_how_many_and_which(tmp_path, capsys):
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    rows = [f"{float(n)!r},{float(c)!r},{float(y)!r}" for n, c, y in zip(runs.N, runs.C, runs.loss)]
    rows[3:3] = ["1e9,1.2e20,", "2e9,n/a,2.5"]  # file rows 5 and 6
    path = tmp_path / "sweep.csv"
    path.write_text("Model Size,Training FLOP,loss\n" + "\n".join(rows) + "\n")
    assert main(["fit", str(path), "--threads", "1"]) == 2
    assert "column 'loss', row 5: empty is not a number; 2 of 242 rows" in capsys.readouterr().err
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--skip-bad-rows", "--threads", "1", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    warning = next(line for line in captured.err.splitlines() if "skipped" in line)
    assert warning.startswith(f"warning: {path}: skipped 2 of 242 rows with bad cells")
    assert "row 5: empty is not a number" in warning and "row 6: 'n/a' is not a number" in warning
    assert f"{path}: 240 runs" in captured.out and "objective = 1.01827401780e-03" in captured.out
    document = json.loads(out.read_text())
    assert document["data"]["n_runs"] == 240
    assert document["data"]["notes"] == [warning.removeprefix(f"warning: {path}: ")]


def test_a_fit_without_a_frontier_is_shown_with_its_problem_and_no_plan(tmp_path, capsys):
    # The loss rises with model size: the fit's alpha is negative, and a law whose loss does not fall
    # with N has no compute-optimal frontier. The user sees the fit, why it is suspect, and no plan.
    rng = np.random.default_rng(3)
    n, d = 10 ** rng.uniform(7, 10, 40), 10 ** rng.uniform(9, 12, 40)
    loss = 1.7 + 400 / d**0.3 + 1e-4 * n**0.3
    path = tmp_path / "rising.csv"
    path.write_text(
        "N,D,loss\n"
        + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(n.tolist(), d.tolist(), loss.tolist()))
    )
    assert main(["fit", str(path), "--threads", "1", "--json", str(tmp_path / "fit.json")]) == 0
    out = capsys.readouterr().out
    assert "Warning: alpha = -0.3 is not > 0: the fitted loss does not fall with model size" in out
    assert "Compute-optimal frontier: none (alpha must be > 0 for a compute-optimal frontier" in out
    document = json.loads((tmp_path / "fit.json").read_text())
    assert document["frontier"] is None and document["budgets"] == []
    assert document["fit"]["alpha"] == pytest.approx(-0.3, rel=1e-6)


def test_the_warnings_so_far_come_before_the_error_that_stops_the_command(tmp_path, capsys):
    # A bad row is skipped (a warning), then too few runs are left to fit (the error).
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n1e8,1e9,3.1\n2e8,2e9,2.9\n4e8,1e9,2.9\n1e9,5e9,2.6\n1e8,oops,3\n")
    assert main(["fit", str(path), "--skip-bad-rows", "--threads", "1"]) == 2
    *warned, error = capsys.readouterr().err.splitlines()
    assert len(warned) == 1 and warned[0].startswith("warning: ") and "row 6" in warned[0], warned
    assert error == "scalinglaw: error: the fit needs at least 5 runs (one per parameter of the law), got 4"


def test_bootstrap_and_approach2_are_summarised_and_recorded(tmp_path, capsys, fit_240):
    out = tmp_path / "fit.json"
    assert main(["fit", "--bootstrap", "200", "--seed", "7", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Bootstrap: 200 resamples (seed 7), 200 refits converged" in text
    document = json.loads(out.read_text())
    boot = document["bootstrap"]
    assert boot["n_resamples"] == 200 and boot["seed"] == 7 and boot["confidence"] == 0.95
    # The same resamples through the Python API give the same statistics.
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    with pytest.warns(scalinglaw.BudgetGroupingWarning):
        expected = scalinglaw.bootstrap(
            *runs,
            n_resamples=200,
            seed=7,
            budgets=[scalinglaw.GOPHER_FLOPS],
            isoflop_budgets=runs.budgets,
            estimate=fit_240,
        )
    for name in ("E", "A", "B", "alpha", "beta", "a"):
        assert boot["standard_error"][name] == pytest.approx(expected.standard_error[name], rel=1e-12)
        low, high = expected.interval[name]
        if name != "a":  # a, b have a line of their own
            assert f"{expected.standard_error[name]:10.4g}   [{low:.4g}, {high:.4g}]" in text
    gopher_low, gopher_high = expected.interval["N_opt"][0]
    assert boot["interval"]["N_opt"] == [[pytest.approx(gopher_low), pytest.approx(gopher_high)]]
    assert any(
        line.strip().startswith("95% interval") and scalinglaw.summary.human(gopher_low) in line
        for line in text.splitlines()
    )
    # Approach 2 beside Approach 3, every budget listed.
    with pytest.warns(scalinglaw.BudgetGroupingWarning):
        approach2 = scalinglaw.approach2(*runs, budgets=runs.budgets)
    assert document["approach2"]["a"] == pytest.approx(approach2.a, rel=1e-12)
    assert f"9 of 9 budgets used): N_opt ~ C^{approach2.a:.4f}" in text
    assert "6 of 240 runs lie more than 0.3 decades from every budget" in text
    assert sum(line.strip().startswith(("6e+18", "3e+21")) for line in text.splitlines()) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--bootstrap", "0", "--seed", "3"],
            "--seed seeds the bootstrap's resamples; give --bootstrap N too",
        ),
        (["--bootstrap", "-1"], "--bootstrap must be 0 (none) or at least 2 resamples"),
        (["--bootstrap", "1", "--plot", "x.png"], "--bootstrap must be 0 (none) or at least 2 resamples"),
        (["--bootstrap", "10", "--confidence", "1.5"], "--confidence must be between 0 and 1"),
    ],
)
def test_bad_bootstrap_options_exit_2(argv, message, capsys):
    assert main(["fit", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"scalinglaw: error: {message}")
