"""The full Chinchilla fit (Hoffmann et al.'s 4500 starts, 240 runs) against the scipy recipes people use.

    python bench/bench_fit.py [--fraction 0.05] [--repeats 5]

Side by side, on the same data (the built-in data with Epoch's exclusion) and the same starts:
  * scalinglaw.fit: Levenberg-Marquardt in C++, every start to convergence, all cores;
  * Epoch AI's recipe: scipy.optimize.minimize(method="L-BFGS-B") from each start, gradient by finite
    differences, scipy's default stopping rules (Besiroglu et al. 2024);
  * the same with the exact gradient (jac=True).
scipy runs on a regular subset of the starts (--fraction) and its time is scaled to all 4500: it is
~1000x slower, so timing it on every start would take minutes. BLAS is pinned to one thread, scipy's
fastest setting on problems this small. Each tool's best objective is printed beside its time.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import huber, logsumexp  # noqa: E402

import scalinglaw  # noqa: E402

DELTA = 1e-3


def objective(x, log_n, log_d, log_loss):
    """Hoffmann et al.'s objective as Epoch wrote it: logsumexp, then a sum of Huber losses."""
    a, b, e, alpha, beta = x
    prediction = logsumexp([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)], axis=0)
    return np.sum(huber(DELTA, prediction - log_loss))


def objective_and_gradient(x, log_n, log_d, log_loss):
    a, b, e, alpha, beta = x
    u = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    lse = logsumexp(u, axis=0)
    share = np.exp(u - lse)
    r = lse - log_loss
    psi = np.clip(r, -DELTA, DELTA)
    gradient = np.array([psi @ share[0], psi @ share[1], psi @ share[2],
                         -(psi * share[0]) @ log_n, -(psi * share[1]) @ log_d])
    return np.sum(huber(DELTA, r)), gradient


def time_scipy(starts, logs, *, exact):
    best = np.inf
    begin = time.perf_counter()
    for start in starts:
        if exact:
            result = minimize(objective_and_gradient, start, args=logs, jac=True, method="L-BFGS-B")
        else:
            result = minimize(objective, start, args=logs, method="L-BFGS-B")
        best = min(best, result.fun)
    return time.perf_counter() - begin, best


def time_ours(runs, repeats, threads):
    scalinglaw.fit(*runs, starts=scalinglaw.default_starts()[:50], threads=threads)  # warm up
    times, result = [], None
    for _ in range(repeats):
        begin = time.perf_counter()
        result = scalinglaw.fit(*runs, threads=threads)
        times.append(time.perf_counter() - begin)
    return float(np.median(times)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05, help="share of the starts scipy runs")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of our fit (median)")
    args = parser.parse_args()

    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    logs = (np.log(runs.N), np.log(runs.D), np.log(runs.loss))
    starts = scalinglaw.default_starts()
    step = max(1, round(1 / args.fraction))
    subset = starts[::step]
    scale = len(starts) / len(subset)
    cores = os.cpu_count()

    ours_all, result = time_ours(runs, args.repeats, threads=0)
    ours_one, _ = time_ours(runs, args.repeats, threads=1)
    fd_time, fd_best = time_scipy(subset, logs, exact=False)
    exact_time, exact_best = time_scipy(subset, logs, exact=True)
    fd_full, exact_full = fd_time * scale, exact_time * scale

    print(f"Chinchilla fit: {len(runs)} runs, {len(starts)} starts, Huber delta {DELTA:g}; {cores} cores")
    print(f"scipy timed on {len(subset)} starts (every {step}th) and scaled x{scale:.1f}; "
          "OPENBLAS_NUM_THREADS=1\n")
    print(f"{'tool':<44} {'time (s)':>10} {'best objective':>18} {'ratio':>9}")
    rows = [
        (f"scalinglaw.fit, threads=0 ({cores} cores)", ours_all, result.objective, 1.0),
        ("scalinglaw.fit, threads=1", ours_one, result.objective, ours_one / ours_all),
        ("scipy L-BFGS-B, finite differences (Epoch)", fd_full, fd_best, fd_full / ours_all),
        ("scipy L-BFGS-B, exact gradient", exact_full, exact_best, exact_full / ours_all),
    ]
    for name, seconds, best, ratio in rows:
        print(f"{name:<44} {seconds:10.3f} {best:18.11e} {ratio:8.0f}x")
    print(f"\nscalinglaw: {result.message}; {result.starts.iterations.sum()} iterations in all")
    print(f"speed-up over Epoch's recipe: {fd_full / ours_all:.0f}x (goal 1000x); "
          f"over L-BFGS-B with exact gradient: {exact_full / ours_all:.0f}x (goal 200x)")
    print(f"objective gap of scipy's best over ours: finite differences "
          f"{fd_best / result.objective - 1:.2e}, exact gradient {exact_best / result.objective - 1:.2e} "
          "(on its subset of starts)")


if __name__ == "__main__":
    main()
