"""Shared fixtures: the Chinchilla data and an independent scipy reference fit of it."""

from __future__ import annotations

import csv
import json
import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import scalinglaw

REPO = Path(__file__).resolve().parents[1]
# The reference copy of the data, read here with the csv module, not with scalinglaw's reader.
DATA = REPO / "python" / "scalinglaw" / "data" / "chinchilla_fig4_epoch.csv"


def read_reference_runs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with DATA.open(newline="") as file:
        rows = list(csv.DictReader(file))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    return n, c / (6 * n), loss


@pytest.fixture(scope="session")
def chinchilla_all() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return read_reference_runs()


@pytest.fixture(scope="session")
def chinchilla_240(chinchilla_all) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch's exclusion: drop the 5 highest-loss runs, keep file order."""
    n, d, loss = chinchilla_all
    keep = np.ones(len(loss), dtype=bool)
    keep[np.argsort(loss)[-5:]] = False
    return n[keep], d[keep], loss[keep]


def huber_objective_and_gradient(x, log_n, log_d, log_loss, delta):
    """Hoffmann et al.'s objective and its exact gradient, written independently with numpy/scipy."""
    from scipy.special import huber, logsumexp

    a, b, e, alpha, beta = x
    u = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    lse = logsumexp(u, axis=0)
    r = lse - log_loss
    share = np.exp(u - lse)
    psi = np.clip(r, -delta, delta)
    gradient = np.array(
        [
            psi @ share[0],
            psi @ share[1],
            psi @ share[2],
            -(psi * share[0]) @ log_n,
            -(psi * share[1]) @ log_d,
        ]
    )
    return huber(delta, r).sum(), gradient


def scipy_fit(n, d, loss, delta=1e-3, starts=((6.0, 7.5, 0.5, 0.3, 0.3), (5.0, 10.0, 0.5, 0.5, 0.5))):
    """Best of L-BFGS-B then BFGS polish from a few starts, tolerances at rounding level."""
    from scipy.optimize import minimize

    args = (np.log(n), np.log(d), np.log(loss), delta)
    best = None
    for start in starts:
        first = minimize(
            huber_objective_and_gradient,
            start,
            args=args,
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-15, "maxiter": 100000, "maxfun": 100000},
        )
        polished = minimize(
            huber_objective_and_gradient,
            first.x,
            args=args,
            jac=True,
            method="BFGS",
            options={"gtol": 1e-14, "maxiter": 100000},
        )
        candidate = polished if polished.fun <= first.fun else first
        if best is None or candidate.fun < best.fun:
            best = candidate
    return best


@pytest.fixture(scope="session")
def scipy_reference_240(chinchilla_240):
    return scipy_fit(*chinchilla_240)


@pytest.fixture(scope="session")
def fit_240(chinchilla_240):
    import scalinglaw

    return scalinglaw.fit(*chinchilla_240)


# ---- Muennighoff et al. (2023): the data-constrained law, written from the paper -------------------------

#: Their C4 fit of the base law (utils/parametric_fit.ipynb gives log E, log A, log B).
MUENNIGHOFF_BASE = {
    "E": math.exp(0.6254804),
    "A": math.exp(6.255414),
    "B": math.exp(7.3049974),
    "alpha": 0.3526596,
    "beta": 0.3526596,
}
MUENNIGHOFF_R = (15.387756, 5.309743)  #: their R*_D, R*_N
MUENNIGHOFF_RUNS = REPO / "tests" / "data" / "muennighoff_c4.csv"  #: their 182 runs (tests/data/README.md)


def _effective(unique, repeats, r_star, plain):
    """U + U R* (1 - e^(-R/R*)) (D' or N' of unique U repeated R times), as U (1 + R (1 - e^-t) / t) with
    t = R / R*: 1 - e^-t as -expm1(-t) keeps its digits where R* is far above R (1 - e^-t keeps only a
    few), and a huge R* cannot overflow U R*. R* = inf: no decay, ``plain``."""
    if math.isinf(r_star):
        return plain
    t = np.asarray(repeats / r_star, dtype=float)
    share = np.ones_like(t)  # (1 - e^-t) / t, 1 at t = 0
    share[t > 0] = -np.expm1(-t[t > 0]) / t[t > 0]
    return unique * (1 + repeats * share)


def data_constrained_terms(p, n, d, u):
    """A / N'^alpha, B / D'^beta and E of Muennighoff et al.'s law, eqs. 5-6 and U_N of their appendix:
    R_D = D/U_D - 1, D' = U_D + U_D R*_D (1 - e^(-R_D/R*_D)); U_N = min(N_opt(U_D), N) with
    N_opt(U) = G (G U)^(beta/alpha), G = (alpha A / (beta B))^(1/(alpha+beta)); R_N = max(N/U_N - 1, 0),
    N' likewise (``_effective``). R* = inf: no decay (D' = D, N' = N). ``p``: parameters by name."""
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    d_eff = _effective(u, d / u - 1, p["R_D"], d)
    u_n = np.minimum(g * (g * u) ** (p["beta"] / p["alpha"]), n)
    n_eff = _effective(u_n, np.maximum(n / u_n - 1, 0), p["R_N"], n)
    return [p["A"] / n_eff ** p["alpha"], p["B"] / d_eff ** p["beta"], np.full(np.shape(n), p["E"])]


def data_constrained_loss(p, n, d, u):
    """L of Muennighoff et al.'s law (``data_constrained_terms``, summed)."""
    return sum(data_constrained_terms(p, n, d, u))


# ---- Ladders: a law-true one, and Gadre et al.'s public one ----------------------------------------------

LADDER_LAW = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)


def synthetic_ladder(seed=0, noise=0.01, law=LADDER_LAW, steps=8):
    """(N, D, loss) of a ladder on which ``law`` is true: ``steps`` sizes from 2e7 to 3e9 by ``steps``
    budgets from 1e18 to 1e21 FLOPs (1 to 500 tokens per parameter), log-normal noise of ``noise``."""
    rng = np.random.default_rng(seed)
    sizes, budgets = np.geomspace(2e7, 3e9, steps), np.geomspace(1e18, 1e21, steps)
    n, c = (grid.ravel() for grid in np.meshgrid(sizes, budgets))
    d = c / (6 * n)
    keep = (d / n > 1) & (d / n < 500)
    n, d = n[keep], d[keep]
    return n, d, law.predict(n, d) * np.exp(rng.normal(0.0, noise, n.size))


def gadre_ladder(val="c4_val"):
    """Gadre et al.'s 35 RedPajama runs (4 small sizes x 8 token multipliers, 1B, 7B; tests/data), losses on
    one validation set, read with the csv module."""
    with (REPO / "tests" / "data" / "gadre_rpj.csv").open(newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["val"] == val]
    return tuple(np.array([float(row[key]) for row in rows]) for key in ("N", "D", "loss"))


def saved_fit_file(n, d, fitted, boot, directory):
    """fit.json of a fit of runs (n, d) with the converged draws and scatter of bootstrap ``boot``, as the
    command writes it; its path."""
    from scalinglaw.saved import saved_fields
    from scalinglaw.trust import DataRange

    converged = boot.status == "converged"
    document = saved_fields(
        fitted.law,
        options={"delta": 1e-3},
        data=DataRange.of(n, d),
        draws={k: boot.samples[k][converged] for k in fitted.law.names()},
        scatter=boot.scatter,
    )
    path = directory / "fit.json"
    path.write_text(json.dumps(document))
    return path


# ---- Ctrl-C ------------------------------------------------------------------------------------------------


def interrupt(script, *, after, timeout):
    """Runs Python ``script`` (dedented) in a new process, sends it SIGINT ``after`` seconds past its first
    line of output ("started"), and returns (seconds from the signal to its end, stdout, stderr, exit
    status); fails the test when it outlives ``timeout``. The child starts with Python's own SIGINT
    handler: run from a background job, it would inherit SIGINT ignored and never see the signal."""
    preamble = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    process = subprocess.Popen(
        [sys.executable, "-c", preamble + textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    sent = time.perf_counter()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the work did not stop within {timeout} s of SIGINT")
    return time.perf_counter() - sent, stdout, stderr, process.returncode
