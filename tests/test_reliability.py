"""Issue 17, the edges: outputs that would destroy the input or each other, one bad option value erasing
correct results, messages that echo megabytes or values the user never gave, and fits on a system that
cannot start threads. Each table row is one case."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from conftest import interrupt
from scalinglaw import cli
from scalinglaw.cli import main

LAW = dict(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37)


@pytest.fixture
def runs_csv(tmp_path: Path) -> Path:
    """40 runs of a known law with 1% noise: a CSV the command fits in well under a second."""
    rng = np.random.default_rng(17)
    n, c = 10 ** rng.uniform(7.5, 10, 40), 10 ** rng.uniform(18, 21, 40)
    d = c / (6 * n)
    loss = (LAW["E"] + LAW["A"] / n ** LAW["alpha"] + LAW["B"] / d ** LAW["beta"]) * np.exp(
        rng.normal(0, 0.01, 40)
    )
    path = tmp_path / "runs.csv"
    path.write_text(
        "N,D,loss\n"
        + "".join(f"{a!r},{b!r},{x!r}\n" for a, b, x in zip(n.tolist(), d.tolist(), loss.tolist()))
    )
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("scalinglaw: error: "), captured.err
    return captured.out, lines[0]


# --- outputs against the input and each other, checked before any work ------------------------------
# Each case: (name, set-up returning extra argv given the tmp dir and the input CSV, expected message).
def _symlink(tmp: Path, target: Path, name: str) -> Path:
    link = tmp / name
    link.symlink_to(target)
    return link


def _hard_link(tmp: Path, target: Path, name: str) -> Path:
    link = tmp / name
    os.link(target, link)
    return link


def _loop(tmp: Path) -> Path:
    (tmp / "a.json").symlink_to(tmp / "b.json")
    (tmp / "b.json").symlink_to(tmp / "a.json")
    return tmp / "a.json"


OUTPUT_CASES = [
    ("--json is the input", lambda tmp, csv: ["--json", str(csv)], r"--json '.*runs.csv' is the input file"),
    (
        "--json is the input through ..",
        lambda tmp, csv: ["--json", str(tmp / "." / ".." / tmp.name / "runs.csv")],
        r"--json .* is the input file",
    ),
    (
        "--json is a symlink to the input",
        lambda tmp, csv: ["--json", str(_symlink(tmp, csv, "out.json"))],
        r"--json .* is the input file",
    ),
    (
        "--json is a hard link to the input",
        lambda tmp, csv: ["--json", str(_hard_link(tmp, csv, "out.json"))],
        r"--json .* is the input file",
    ),
    (
        "--plot is a symlink to the input",
        lambda tmp, csv: ["--plot", str(_symlink(tmp, csv, "out.png"))],
        r"--plot .* is the input file",
    ),
    (
        "--plot and --json the same path",
        lambda tmp, csv: ["--plot", str(tmp / "o.png"), "--json", str(tmp / "o.png")],
        r"--json and --plot name the same file",
    ),
    (
        "--plot a symlink to --json",
        lambda tmp, csv: ["--json", str(tmp / "o.png"), "--plot", str(_symlink(tmp, tmp / "o.png", "l.png"))],
        r"--json and --plot name the same file",
    ),
    ("empty --json", lambda tmp, csv: ["--json", ""], r"--json: the path is empty"),
    ("empty --plot", lambda tmp, csv: ["--plot", ""], r"--plot: the path is empty"),
    (
        "--json a directory",
        lambda tmp, csv: ["--json", str(tmp)],
        r"--json: '.*' is a directory",
    ),
    (
        "--json a name too long",
        lambda tmp, csv: ["--json", str(tmp / ("x" * 300 + ".json"))],
        r"--json: cannot write '.*\.\.\. \(\d+ characters\): File name too long",
    ),
    (
        "--plot a name too long",
        lambda tmp, csv: ["--plot", str(tmp / ("x" * 300 + ".png"))],
        r"--plot: cannot write '.*\.\.\. \(\d+ characters\): File name too long",
    ),
    (
        "--json a symlink loop",
        lambda tmp, csv: ["--json", str(_loop(tmp))],
        r"--json: cannot write '.*': Too many levels of symbolic links",
    ),
]


@pytest.mark.parametrize(
    ("setup", "message"), [c[1:] for c in OUTPUT_CASES], ids=[c[0] for c in OUTPUT_CASES]
)
def test_outputs_are_checked_against_the_input_and_each_other_before_any_work(
    tmp_path, runs_csv, capsys, setup, message
):
    before = runs_csv.read_bytes()
    assert main(["fit", str(runs_csv), "--threads", "1", *setup(tmp_path, runs_csv)]) == 2
    out, error = one_line_error(capsys)
    assert out == ""  # refused before the fit
    assert re.search(message, error), error
    assert runs_csv.read_bytes() == before


def test_the_builtin_data_is_an_input_too(capsys):
    assert main(["fit", "--json", str(cli.DATA_PATH)]) == 2
    out, error = one_line_error(capsys)
    assert out == "" and "is the input file" in error


def test_a_figure_that_fails_after_the_fit_keeps_the_json(tmp_path, runs_csv, capsys, monkeypatch):
    def broken_savefig(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", broken_savefig)
    figure, record = tmp_path / "f.png", tmp_path / "fit.json"
    argv = ["fit", str(runs_csv), "--threads", "1", "--bootstrap", "0", "--plot", str(figure)]
    assert main([*argv, "--json", str(record)]) == 2
    captured = capsys.readouterr()
    assert json.loads(record.read_text())["data"]["n_runs"] == 40
    assert f"JSON written to {record}" in captured.out and "Figure 4 written" not in captured.out
    assert captured.err.strip() == (
        f"scalinglaw: error: --plot: could not write {str(figure)!r}: No space left on device"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "runs.csv"]  # no temporary left


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, runs_csv, capsys, monkeypatch):
    record = tmp_path / "fit.json"
    record.write_text('{"previous": true}\n')
    record.chmod(0o640)

    def half_written(path, document):
        Path(path).write_text('{"trunc')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_json", half_written)
    assert main(["fit", str(runs_csv), "--threads", "1", "--json", str(record)]) == 2
    assert "--json: could not write" in capsys.readouterr().err
    assert record.read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "runs.csv"]
    # and a successful write keeps the file's permissions, and a symlink stays a symlink to it
    monkeypatch.undo()
    link = _symlink(tmp_path, record, "link.json")
    assert main(["fit", str(runs_csv), "--threads", "1", "--json", str(link)]) == 0
    assert link.is_symlink() and json.loads(record.read_text())["data"]["n_runs"] == 40
    assert record.stat().st_mode & 0o777 == 0o640


# --- one bad value must not erase the rest; every option checked before any work --------------------
def test_a_budget_too_small_to_plan_keeps_the_frontier_and_the_gopher_plan(tmp_path, capsys):
    record = tmp_path / "fit.json"
    assert main(["fit", "--budget", "1e-320", "--budget", "1e21", "--json", str(record)]) == 0
    text = capsys.readouterr().out
    document = json.loads(record.read_text())
    assert document["frontier"]["a"] == pytest.approx(0.5139, abs=1e-4)
    gopher, tiny, other = document["budgets"]
    assert gopher["label"] == "Gopher" and gopher["N_opt"] == pytest.approx(73.19e9, rel=1e-3)
    assert tiny["C"] == 1e-320 and tiny["N_opt"] is None and "beyond double precision" in tiny["reason"]
    assert other["C"] == 1e21 and other["reason"] == ""
    assert "Gopher 5.76e+23" in text and "73.2B" in text
    assert re.search(r"1e-320  not planned: .*for a budget of 1e-320 FLOPs is beyond", text), text


@pytest.mark.slow
def test_a_budget_too_small_to_plan_does_not_stop_the_bootstrap(tmp_path, capsys):
    record = tmp_path / "fit.json"
    argv = ["fit", "--budget", "1e-320", "--bootstrap", "3", "--seed", "1", "--json", str(record)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    document = json.loads(record.read_text())
    assert document["bootstrap"]["budgets"] == [5.76e23]
    assert [row["reason"] == "" for row in document["budgets"]] == [True, False]
    gopher = text.splitlines().index(next(line for line in text.splitlines() if "Gopher 5.76e+23" in line))
    assert "95% interval" in text.splitlines()[gopher + 1]


OPTION_CASES = [
    # values that underflow or overflow are quoted as typed, not as the double they become
    (["--delta", "1e-400"], r"--delta must be finite and > 0, got 1e-400: below double precision"),
    (["--budget", "1e-400"], r"--budget must be a finite number of FLOPs > 0, got 1e-400: below double"),
    (["--budget", "1e400"], r"--budget must be a finite number of FLOPs > 0, got 1e400$"),
    (["--confidence", "1e-400"], r"--confidence must be between 0 and 1, got 1e-400: below double"),
    (["--delta", "x" * 5000], r"--delta must be finite and > 0, got x{80}\.\.\. \(5000 characters\)"),
    # refused before the fit, by the option's name (not n_resamples, seed or threads of the API)
    (["--bootstrap", str(2**31)], r"--bootstrap must be 0 \(none\) or at least 2 resamples, at most"),
    (["--bootstrap", "10", "--seed", str(2**64)], r"--seed must be between 0 and 2\^64 - 1"),
    (["--bootstrap", "10", "--seed", "-1"], r"--seed must be between 0 and 2\^64 - 1, got -1"),
]


@pytest.mark.parametrize(("argv", "message"), OPTION_CASES, ids=[" ".join(c[0])[:40] for c in OPTION_CASES])
def test_option_values_are_refused_before_any_work_as_typed(runs_csv, capsys, argv, message):
    assert main(["fit", str(runs_csv), *argv]) == 2
    out, error = one_line_error(capsys)
    assert out == ""
    assert re.search(message, error), error


def test_a_resample_table_beyond_memory_is_one_line_not_a_traceback(runs_csv, capsys):
    # 2e9 resamples of 40 runs: 640 GB of indices
    assert main(["fit", str(runs_csv), "--threads", "1", "--bootstrap", "2000000000", "--seed", "1"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("scalinglaw: error: ") and "memory" in lines[0], lines


# --- messages: bounded echoes, the values as given, no float noise --------------------------------
RUNS = scalinglaw.load_chinchilla(epoch_exclusion=True)
HUGE_SET = set(range(100_000))


def _with_tiny_last(dtype):
    values = np.array([*RUNS.N[:-1], np.longdouble("1e-4000")], dtype=np.longdouble)
    return values.astype(dtype)


MESSAGE_CASES = [
    ("set as N", lambda: scalinglaw.fit(HUGE_SET, RUNS.D, RUNS.loss), r"N must be a sequence or array"),
    (
        "generator as N",
        lambda: scalinglaw.fit((x for x in RUNS.N), RUNS.D, RUNS.loss),
        r"N must be a sequence or array of numbers, got generator",
    ),
    (
        "set as delta",
        lambda: scalinglaw.fit(*RUNS, delta=HUGE_SET),
        r"delta must be a real number, got \{0, 1",
    ),
    (
        "list as threads",
        lambda: scalinglaw.fit(*RUNS, threads=list(range(10**5))),
        r"threads must be a whole",
    ),
    (
        "list of sets",
        lambda: scalinglaw.fit([HUGE_SET] * 240, RUNS.D, RUNS.loss),
        r"N must hold numbers only",
    ),
    (
        "list as n_resamples",
        lambda: scalinglaw.bootstrap(*RUNS, n_resamples=[0] * 10**5),
        r"n_resamples must be a whole number",
    ),
    (
        "set as budgets",
        lambda: scalinglaw.compute_optimal(LAW, HUGE_SET),
        r"C must be a sequence or array of numbers, got set \{0, 1, 2",
    ),
    # a value below double precision is named as given, not as the 0 it would become
    (
        "long double underflow",
        lambda: scalinglaw.fit(_with_tiny_last(np.longdouble), RUNS.D, RUNS.loss),
        r"N\[239\] = 1e-4000 is below the range of double precision",
    ),
    (
        "object underflow",
        lambda: scalinglaw.fit(_with_tiny_last(object), RUNS.D, RUNS.loss),
        r"N\[239\] = 1e-4000 is below the range of double precision",
    ),
    # the C++ core's messages: the value as given (1e-320 is the double 9.99988867182683e-321)
    (
        "budget as given",
        lambda: scalinglaw.compute_optimal(LAW, 1e-320),
        r"for a budget of 1e-320 FLOPs is beyond double precision \(C = 1e-320, N = 1\.\d{1,5}e-166,",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"), [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES]
)
def test_messages_are_bounded_and_name_what_was_given(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    text = str(caught.value)
    assert len(text) < 400, f"{len(text)} characters"
    assert re.search(message, text), text


# --- threads: a system that cannot start any -------------------------------------------------------
NO_THREADS = textwrap.dedent(
    """
    import json, sys, threading
    import numpy as np, scalinglaw
    try:
        threading.Thread(target=lambda: None).start()
        started = True
    except RuntimeError:
        started = False
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    law = dict(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37)
    if sys.argv[1] == "grid":
        n, c = np.geomspace(1e7, 1e11, 300), np.geomspace(1e18, 1e24, 200)
        value = scalinglaw.loss_grid(law, n, c, threads=2).tobytes().hex()
    else:
        value = scalinglaw.fit(*runs, threads=int(sys.argv[2])).objective.hex()
    print(json.dumps([started, value]))
    """
)


def run_without_threads(*args: str) -> tuple[bool, str]:
    """Runs NO_THREADS in a process where every new thread asks for a 128 TiB stack (RLIMIT_STACK sets
    the default), which no system can map: creating a thread fails as under a process or memory limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_STACK, (2**47, resource.RLIM_INFINITY))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", NO_THREADS, *args],
        preexec_fn=limit,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    started, value = json.loads(done.stdout)
    return started, value


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_STACK sets the thread stack size on glibc")
def test_a_grid_runs_in_the_callers_thread_when_no_thread_can_start():
    started, value = run_without_threads("grid")
    assert not started  # the set-up works: no thread can start
    law = dict(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37)
    expected = scalinglaw.loss_grid(
        law, np.geomspace(1e7, 1e11, 300), np.geomspace(1e18, 1e24, 200), threads=2
    )
    assert value == expected.tobytes().hex()


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_STACK sets the thread stack size on glibc")
@pytest.mark.parametrize("threads", ["1", "0"])
def test_a_fit_runs_in_the_callers_thread_when_no_thread_can_start(threads):
    started, value = run_without_threads("fit", threads)
    assert not started
    assert value == scalinglaw.fit(*RUNS, threads=1).objective.hex()


SHUTDOWN = """
import threading, time
import numpy as np, scalinglaw
rng = np.random.default_rng(0)
n, d = 10 ** rng.uniform(7, 11, 100_000), 10 ** rng.uniform(9, 13, 100_000)
law = scalinglaw.Law(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
loss = law.predict(n, d)
started = threading.Event()
def work():
    started.set()
    if WHAT == "fit":
        scalinglaw.fit(n, d, loss)
    else:
        for _ in range(100):
            law.loss_grid(np.geomspace(1e7, 1e11, 4096), np.geomspace(1e18, 1e24, 4096))
threading.Thread(target=work, daemon=True).start()
started.wait()
time.sleep(0.3)
"""


@pytest.mark.parametrize("what", ["fit", "grid"])
def test_the_interpreter_exits_cleanly_under_a_thread_in_long_work(what):
    # A daemon thread inside a fit or a large grid when the main thread ends: the work is cancelled and
    # joined, the process exits 0 (it was ended by SIGABRT: a joinable std::thread destroyed).
    done = subprocess.run(
        [sys.executable, "-c", f"WHAT = {what!r}\n" + SHUTDOWN], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "terminate" not in done.stderr


def test_outputs_to_devices_are_written_in_place_after_the_summary(runs_csv):
    # /dev/stdout to a pipe: the JSON follows the summary; /dev/null stays the device it was
    done = subprocess.run(
        [sys.executable, "-m", "scalinglaw", "fit", str(runs_csv), "--threads", "1", "--json", "/dev/stdout"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary, _, rest = done.stdout.partition("\n{\n")
    assert "Data:" in summary and rest.endswith("JSON written to /dev/stdout\n")
    assert json.loads("{\n" + rest.rpartition("}")[0] + "}")["data"]["n_runs"] == 40
    assert main(["fit", str(runs_csv), "--threads", "1", "--json", "/dev/null"]) == 0
    assert Path("/dev/null").is_char_device()


def test_a_protected_output_is_refused_before_any_work(tmp_path, runs_csv, capsys, monkeypatch):
    # (as root every file is writable: the check is driven through os.access, as it would answer a user)
    record = tmp_path / "fit.json"
    record.write_text("{}\n")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: path != str(record) and real_access(path, mode))
    assert main(["fit", str(runs_csv), "--json", str(record)]) == 2
    out, error = one_line_error(capsys)
    assert out == "" and error.endswith(f"--json: cannot write {str(record)!r}: permission denied")
    assert record.read_text() == "{}\n"


def test_a_huge_planned_loss_is_shown_in_a_few_digits(capsys):
    assert main(["fit", "--budget", "1e-300", "--threads", "1"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("1e-300"))
    assert row.endswith("  9.565e+56"), row


@pytest.mark.parametrize("rule", ["compute_optimal", "budget_for_loss", "optimal_for_size"])
def test_ctrl_c_interrupts_a_long_plan(rule):
    # Each call plans 3e7 values (2-5 s); a SIGINT soon after the first call starts must end it within a
    # second (before, planning held the thread until the whole array was done).
    values = {"compute_optimal": "1e18, 1e25", "budget_for_loss": "1.9, 3.0", "optimal_for_size": "1e7, 1e12"}
    seconds, stdout, stderr, _ = interrupt(
        f"""
        import numpy as np, scalinglaw
        law = scalinglaw.Law(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
        values = np.linspace({values[rule]}, 30_000_000)
        print("started", flush=True)
        for k in range(5):
            law.{rule}(values)
            print("completed", k, flush=True)
        """,
        after=0.2,
        timeout=60,
    )
    assert seconds < 1.0
    assert "completed" not in stdout
    assert "KeyboardInterrupt" in stderr
