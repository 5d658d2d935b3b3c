"""Each law's fit, and the tied and pinned fits, against scipy L-BFGS-B with an exact gradient from the
same starts.

    python bench/bench_laws.py [--every 20]

Data: the built-in Chinchilla runs (240, Epoch's exclusion); for the data-constrained law the same runs
with unique tokens U_D = D / k, k cycling through 1, 2, 4, ..., 32 repetitions, fitted as Muennighoff et
al. fit it (the base E, A, B, alpha, beta pinned, here at the Chinchilla fit's values; R_D, R_N free).
The data-constrained law is also fitted to Muennighoff et al.'s own 182 runs (tests/data/muennighoff_c4.csv,
copied from huggingface/datablations), base pinned at the paper's C4 values, as the paper fits it.
Starts: each law's default grid (``law_default_starts``), reduced by the constraints (pinned entries
set, tied entries set equal, duplicates dropped, as the core does). scalinglaw.fit is timed once (one
run, all cores); scipy (minimize, L-BFGS-B, defaults, jac=True, the objective and its exact gradient in
numpy over the free coordinates, BLAS pinned to one thread) on every k-th reduced start, scaled to all;
k is lowered where that would time fewer than 25 starts (all 25 of the data-constrained fits: two
of them, scaled, swung the ratio by half).
Goal: every ratio at least 50x on 2 cores.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scalinglaw  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy_recipes import DELTA, objective_and_gradient  # noqa: E402


def huber_of(r, dr):
    """sum huber(r) and its gradient, from residuals r and their Jacobian dr (runs x coordinates)."""
    psi = np.clip(r, -DELTA, DELTA)
    return psi @ (r - 0.5 * psi), psi @ dr


def chinchilla_core(x, log_n, log_d, log_loss, _u):
    """Coordinates (e, a, b, alpha, beta), the core's order."""
    e, a, b, alpha, beta = x
    value, g = objective_and_gradient(np.array([a, b, e, alpha, beta]), log_n, log_d, log_loss)
    return value, np.array([g[2], g[0], g[1], g[3], g[4]])


def kaplan(x, log_n, log_d, log_loss, _u):
    """Coordinates (log N_c, log D_c, alpha_N, alpha_D): log L = alpha_D log S,
    S = (N_c / N)^(alpha_N / alpha_D) + D_c / D."""
    log_nc, log_dc, alpha_n, alpha_d = x
    k = alpha_n / alpha_d
    t1 = np.exp(k * (log_nc - log_n))
    t2 = np.exp(log_dc - log_d)
    s = t1 + t2
    r = alpha_d * np.log(s) - log_loss
    s1, s2 = t1 / s, t2 / s
    dr = np.stack(
        [alpha_n * s1, alpha_d * s2, (log_nc - log_n) * s1, np.log(s) - k * (log_nc - log_n) * s1], 1
    )
    return huber_of(r, dr)


def data_constrained_decay(base):
    """The data-constrained law in its coordinates (e, a, b, alpha, beta, log R_D, log R_N), the base
    (E, A, B, alpha, beta) pinned: only the last two are read, and only their gradient is nonzero."""
    E, A, B, alpha, beta = base
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))

    def f(x, log_n, log_d, log_loss, u):
        r_d, r_n = np.exp(x[5:])
        n, d = np.exp(log_n), np.exp(log_d)
        # 1 - e^-x as -expm1(-x): with R* far above R, 1 - e^-x keeps a few digits, and a fit then walks
        # to R* ~ 1e15 where rounding makes D' > D (a spurious optimum 0.4% below the true one)
        x_d = d / u - 1
        m_d = -np.expm1(-x_d / r_d)  # 1 - e_d, e_d = e^(-x_d / r_d)
        d_eff = u + u * r_d * m_d
        u_n = np.minimum(G * (G * u) ** (beta / alpha), n)
        x_n = np.maximum(n / u_n - 1, 0)
        m_n = -np.expm1(-x_n / r_n)
        n_eff = u_n + u_n * r_n * m_n
        t_n, t_d = A * n_eff**-alpha, B * d_eff**-beta
        total = E + t_n + t_d
        r = np.log(total) - log_loss
        # d d_eff / d log r_d = r_d d d_eff / d r_d = u r_d (1 - e_d) - u x_d e_d (likewise for N)
        dd = u * r_d * m_d - u * x_d * (1 - m_d)
        dn = u_n * r_n * m_n - u_n * x_n * (1 - m_n)
        zero = np.zeros_like(r)
        dr = np.stack([zero] * 5 + [-beta * t_d / d_eff * dd / total, -alpha * t_n / n_eff * dn / total], 1)
        return huber_of(r, dr)

    return f


def reduce(info, fixed, tied):
    """(free coordinate index per coordinate or -1, the pinned coordinate values): the reduced problem."""
    names = list(info.parameters)
    to_free, values = [-1] * len(names), {}
    for name, value in fixed.items():
        j = names.index(name)
        values[j] = math.log(value) if info.log_scale[j] else value
    leaders = {second: first for first, second in tied}
    count = 0
    for j, name in enumerate(names):
        if j in values or name in leaders:
            continue
        to_free[j] = count
        count += 1
    for j, name in enumerate(names):
        if name in leaders:
            to_free[j] = to_free[names.index(leaders[name])]
    return to_free, values, count


def run_scipy(f, info, fixed, tied, starts, logs, u, every):
    to_free, values, count = reduce(info, fixed, tied)
    projection = np.zeros((len(to_free), count))
    for j, k in enumerate(to_free):
        if k >= 0:
            projection[j, k] = 1.0
    shift = np.array([values.get(j, 0.0) for j in range(len(to_free))])

    def reduced(z):
        value, g = f(projection @ z + shift, *logs, u)
        return value, projection.T @ g

    first_of = [to_free.index(k) for k in range(count)]
    unique = np.unique(starts[:, first_of], axis=0)
    subset = unique[:: max(1, min(every, len(unique) // 25))]
    best = np.inf
    with np.errstate(all="ignore"):
        begin = time.perf_counter()
        for start in subset:
            result = minimize(reduced, start, jac=True, method="L-BFGS-B")
            best = min(best, result.fun if np.isfinite(result.fun) else np.inf)
        seconds = time.perf_counter() - begin
    return seconds / len(subset) * len(unique), best, len(unique)


# Muennighoff et al.'s C4 base (their utils/parametric_fit.ipynb): E, A, B as exponentials of their fit.
PAPER_BASE = {
    "E": math.exp(0.6254804),
    "A": math.exp(6.255414),
    "B": math.exp(7.3049974),
    "alpha": 0.3526596,
    "beta": 0.3526596,
}


def muennighoff_runs():
    """(N, D, loss) and U_D of the paper's 182 runs."""
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "muennighoff_c4.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    n, d, u, loss = (np.array([float(r[k]) for r in rows]) for k in ("N", "D", "unique_tokens", "loss"))
    return (n, d, loss), u


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=20, help="scipy runs every k-th reduced start")
    args = parser.parse_args()
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    logs = (np.log(runs.N), np.log(runs.D), np.log(runs.loss))
    base = scalinglaw.fit(*runs).law
    unique_tokens = runs.D / 2.0 ** (np.arange(len(runs.N)) % 6)
    base_fixed = dict(base.params)
    paper_runs, paper_u = muennighoff_runs()
    cases = [
        ("chinchilla", {}, [], chinchilla_core),
        ("chinchilla", {}, [("alpha", "beta")], chinchilla_core),
        ("chinchilla", {"E": 1.69}, [], chinchilla_core),
        ("kaplan", {}, [], kaplan),
        ("kaplan", {}, [("alpha_N", "alpha_D")], kaplan),
        ("data_constrained", base_fixed, [], data_constrained_decay(list(base_fixed.values()))),
        ("data_constrained", PAPER_BASE, [], data_constrained_decay(list(PAPER_BASE.values()))),
    ]
    print(
        f"{len(runs)} runs, Huber delta {DELTA:g}; {os.cpu_count()} cores; scipy L-BFGS-B with exact "
        f"gradients on every {args.every}th reduced start (at least 25; scaled), OPENBLAS_NUM_THREADS=1"
    )
    print(
        f"{'law':<18} {'constraints':<28} {'starts':>6} {'ours (s)':>9} {'scipy (s)':>10} {'ratio':>7} "
        f"{'our best':>14} {'scipy best':>14}"
    )
    for law, fixed, tied, f in cases:
        cls = scalinglaw.LAWS[law]
        info = cls.info()
        paper = fixed is PAPER_BASE
        data = paper_runs if paper else tuple(runs)
        data_logs = tuple(np.log(x) for x in paper_runs) if paper else logs
        u = (paper_u if paper else unique_tokens) if info.needs_unique_tokens else None
        starts = scalinglaw.law_default_starts(law)
        core_starts = starts[:, [2, 0, 1, 3, 4]] if law == "chinchilla" else starts
        begin = time.perf_counter()
        result = scalinglaw.fit(*data, law=law, fixed=fixed or None, tied=tied or None, unique_tokens=u)
        ours = time.perf_counter() - begin
        seconds, best, count = run_scipy(f, info, fixed, tied, core_starts, data_logs, u, args.every)
        said = ", ".join([*(f"{k} fixed" for k in fixed), *(f"{a} = {b}" for a, b in tied)]) or "free"
        if law == "data_constrained":
            said = "paper's 182 runs, base fixed" if paper else "base fixed (5)"
        print(
            f"{law:<18} {said:<28} {count:>6} {ours:9.3f} {seconds:10.2f} {seconds / ours:6.0f}x "
            f"{result.objective:14.8e} {best:14.8e}"
        )


if __name__ == "__main__":
    main()
