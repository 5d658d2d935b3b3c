"""The C++ library as an outside program sees it: scalinglaw is configured, built and installed to a
temporary prefix with CMake, examples/embed is built against that prefix with find_package, and its
fit of the built-in data (Epoch's exclusion) must equal the Python fit."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import scalinglaw
from scalinglaw import frontier

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "python" / "scalinglaw" / "data" / "chinchilla_fig4_epoch.csv"


def _tools_env() -> dict[str, str]:
    """The environment with this interpreter's scripts first (cmake and ninja of the test extra)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(*command: str | Path, env: dict[str, str]) -> str:
    args = [str(c) for c in command]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def example_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = _tools_env()
    cmake = shutil.which("cmake", path=env["PATH"])
    assert cmake is not None, "cmake is needed: pip install '.[test]'"
    generator = ["-G", "Ninja"] if shutil.which("ninja", path=env["PATH"]) else []
    work = tmp_path_factory.mktemp("embed")
    build, prefix, example = work / "build", work / "prefix", work / "example"

    _run(
        cmake,
        "-S",
        REPO,
        "-B",
        build,
        *generator,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DSCALINGLAW_BUILD_TESTS=OFF",
        "-DSCALINGLAW_INSTALL=ON",
        env=env,
    )
    _run(cmake, "--build", build, "--config", "Release", "--parallel", "2", env=env)
    _run(cmake, "--install", build, "--config", "Release", "--prefix", prefix, env=env)
    _run(
        cmake,
        "-S",
        REPO / "examples" / "embed",
        "-B",
        example,
        *generator,
        "-DCMAKE_BUILD_TYPE=Release",
        f"-DCMAKE_PREFIX_PATH={prefix}",
        env=env,
    )
    _run(cmake, "--build", example, "--config", "Release", env=env)

    return next(
        p
        for p in (example / "fit_csv", example / "Release" / "fit_csv.exe", example / "fit_csv.exe")
        if p.exists()
    )


@pytest.fixture(scope="module")
def example_output(example_binary: Path) -> dict[str, Any]:
    output: dict[str, Any] = json.loads(
        _run(example_binary, "--exclude-highest-loss", "5", DATA, env=_tools_env())
    )
    return output


@pytest.mark.slow
def test_installed_example_prints_the_python_fit(example_output: dict[str, Any]) -> None:
    python = scalinglaw.fit(*scalinglaw.load_chinchilla(epoch_exclusion=True))
    cpp = example_output
    assert cpp["objective"] == pytest.approx(python.objective, rel=1e-12)
    for name in ("E", "alpha", "beta"):
        assert cpp[name] == pytest.approx(getattr(python, name), rel=1e-9), name
    for name in ("A", "B"):  # the optimum is flatter along A-alpha and B-beta
        assert cpp[name] == pytest.approx(getattr(python, name), rel=1e-8), name
    assert cpp["status"] == python.status == "converged"
    assert (cpp["n_runs"], cpp["excluded"], cpp["n_starts"]) == (240, 5, python.n_starts)
    assert cpp["delta"] == python.delta


@pytest.mark.slow
def test_installed_example_prints_the_python_frontier(example_output: dict[str, Any]) -> None:
    python = scalinglaw.fit(*scalinglaw.load_chinchilla(epoch_exclusion=True))
    plan = frontier.compute_optimal(python, frontier.GOPHER_FLOPS)
    cpp = example_output["frontier"]
    assert cpp["flops"] == frontier.GOPHER_FLOPS
    assert cpp["n"] == pytest.approx(float(plan.N), rel=1e-8)
    assert cpp["d"] == pytest.approx(float(plan.D), rel=1e-8)
    assert cpp["tokens_per_parameter"] == pytest.approx(float(plan.tokens_per_parameter), rel=1e-8)
    assert cpp["loss"] == pytest.approx(float(plan.loss), rel=1e-12)


def _csv_with_nan_loss(folder: Path) -> Path:
    """The built-in data with one run's loss NaN: not a run to drop as if it had the highest loss."""
    lines = DATA.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[10].split(",")
    row[[name.strip().lower() for name in header].index("loss")] = "nan"
    lines[10] = ",".join(row)
    path = folder / "nan.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _sparse_file(folder: Path) -> Path:
    path = folder / "huge.csv"
    with path.open("wb") as file:
        file.write(b"N,D,loss\n")
        file.truncate(300 << 20)  # 300 MiB, sparse: no disk, no time
    return path


def _csv_with_huge_cell(folder: Path) -> Path:
    path = folder / "cell.csv"
    path.write_text("N,D,loss\n1e9,2e10," + "7" * 100_000 + "x\n")
    return path


BAD_INPUTS = [
    (
        "NaN loss with exclusion",
        lambda folder: ["--exclude-highest-loss", "5", str(_csv_with_nan_loss(folder))],
        r"nan.csv, row 11, column 'loss': 'nan' is not a finite number",
    ),
    (
        "NaN loss",
        lambda folder: [str(_csv_with_nan_loss(folder))],
        r"row 11, column 'loss': 'nan' is not a finite",
    ),
    (
        "a 100 kB cell",
        lambda folder: [str(_csv_with_huge_cell(folder))],
        r"row 2, column 'loss': '7{50}\.\.\. \(100001 bytes\)' is not a number",
    ),
    ("a device", lambda folder: ["/dev/zero"], r"/dev/zero: not a regular file"),
    ("a directory", lambda folder: [str(folder)], r": not a regular file"),
    ("beyond 256 MiB", lambda folder: [str(_sparse_file(folder))], r"huge.csv: larger than 256 MiB"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_the_example_refuses_bad_input_in_one_message(example_binary, tmp_path, args, message):
    # a memory limit and a timeout, so that an unbounded read fails the test instead of the machine
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run(
        [str(example_binary), *args(tmp_path)], capture_output=True, text=True, timeout=60, preexec_fn=limit
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("fit_csv: ") and done.stderr.count("\n") == 1, done.stderr
    assert len(done.stderr) < 400
    assert re.search(message, done.stderr), done.stderr
