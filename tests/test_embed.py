"""The C++ library as an outside program sees it: scalinglaw is configured, built and installed to a
temporary prefix with CMake, examples/embed is built against that prefix with find_package, and its
fit of the built-in data (Epoch's exclusion) must equal the Python fit."""

from __future__ import annotations

import json
import os
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
def example_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
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

    binary = next(
        p
        for p in (example / "fit_csv", example / "Release" / "fit_csv.exe", example / "fit_csv.exe")
        if p.exists()
    )
    output: dict[str, Any] = json.loads(_run(binary, "--exclude-highest-loss", "5", DATA, env=env))
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
