"""The full Chinchilla fit (Hoffmann et al.'s 4500 starts, 240 runs) against the scipy recipes people use.

    python bench/bench_fit.py [--every 10] [--repeats 7]

Side by side, on the same data (the built-in data with Epoch's exclusion, 240 runs) and the same starts:
  * scalinglaw.fit: Levenberg-Marquardt in C++, every start to convergence, on all cores and on one;
  * Epoch AI's recipe (Besiroglu et al. 2024, data_analysis.ipynb): scipy.optimize.minimize(method=
    "L-BFGS-B") with default options from each start, gradient by finite differences, the objective in
    plain numpy (log of a sum of three exps, Huber by np.where, np.sum). Written here from that
    description; the one difference, logs of N, D and L taken once instead of in every call, only
    makes it faster (13 us a call instead of 15 us);
  * the same with the exact gradient (jac=True), at its fastest: plain numpy, logs taken once, the
    gradient written out analytically (one exp per term, dot products).
scipy is single-threaded (BLAS pinned to one thread below, its fastest setting on problems this small).
It is timed on two disjoint regular subsets of the starts (every k-th start from offsets 0 and k/2),
whose per-start costs are printed so that one can see the subset is representative; the time for all
4500 starts is the mean per-start cost of both subsets times 4500. --every 1 runs scipy on every start
(about 80 s). Each tool's best objective is printed beside its time.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scalinglaw  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy_recipes import DELTA, epoch_objective, objective_and_gradient  # noqa: E402

GOALS = {"fd": 1000, "exact": 200}


def run_scipy(starts, logs, *, exact):
    """L-BFGS-B from each start (scipy's defaults); returns seconds, best objective, evaluations."""
    best, evaluations = np.inf, 0
    with np.errstate(all="ignore"):  # trial points far out overflow exp; L-BFGS-B backs off
        begin = time.perf_counter()
        for start in starts:
            if exact:
                result = minimize(objective_and_gradient, start, args=logs, jac=True, method="L-BFGS-B")
            else:
                result = minimize(epoch_objective, start, args=logs, method="L-BFGS-B")
            best = min(best, result.fun)
            evaluations += result.nfev
        seconds = time.perf_counter() - begin
    return seconds, best, evaluations


def time_ours(runs, repeats, threads):
    scalinglaw.fit(*runs, threads=threads)  # warm up (and the result every repeat must equal)
    times, result = [], None
    for _ in range(repeats):
        begin = time.perf_counter()
        result = scalinglaw.fit(*runs, threads=threads)
        times.append(time.perf_counter() - begin)
    return np.array(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--every",
        type=int,
        default=10,
        help="scipy runs every k-th start from offsets 0 and k/2 (1: all starts once)",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of our fit")
    args = parser.parse_args()

    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    logs = (np.log(runs.N), np.log(runs.D), np.log(runs.loss))
    starts = scalinglaw.default_starts()
    k = max(1, args.every)
    subsets = [starts[::k]] if k == 1 else [starts[::k], starts[k // 2 :: k]]
    cores = os.cpu_count()

    ours_all, result = time_ours(runs, args.repeats, threads=0)
    ours_one, _ = time_ours(runs, args.repeats, threads=1)
    scipy_rows = {}
    for key, exact in (("fd", False), ("exact", True)):
        per_start, bests, evaluations = [], [], 0
        for subset in subsets:
            seconds, best, nfev = run_scipy(subset, logs, exact=exact)
            per_start.append(seconds / len(subset))
            bests.append(best)
            evaluations += nfev
        count = sum(len(s) for s in subsets)
        scipy_rows[key] = (
            float(np.mean(per_start)) * len(starts),
            min(bests),
            per_start,
            evaluations / count,
        )

    t_all, t_one = float(np.median(ours_all)), float(np.median(ours_one))
    print(
        f"Chinchilla fit: {len(runs)} runs, {len(starts)} starts, Huber delta {DELTA:g}; {cores} cores; "
        "OPENBLAS_NUM_THREADS=1"
    )
    if k == 1:
        print("scipy timed on all 4500 starts, one process")
    else:
        print(
            f"scipy timed on 2 x {len(subsets[0])} starts (every {k}th, from offsets 0 and {k // 2}) and "
            f"scaled to {len(starts)}; one process"
        )
    print(f"scalinglaw.fit: median of {args.repeats} calls (min-max in brackets), the whole Python call\n")
    print(f"{'tool':<46} {'time (s)':>24} {'best objective':>18} {'ratio':>8}")
    print(
        f"{f'scalinglaw.fit, threads=0 ({cores} cores)':<46} "
        f"{f'{t_all:.4f} [{ours_all.min():.4f}-{ours_all.max():.4f}]':>24} {result.objective:18.11e} "
        f"{1:7.0f}x"
    )
    print(
        f"{'scalinglaw.fit, threads=1':<46} "
        f"{f'{t_one:.4f} [{ours_one.min():.4f}-{ours_one.max():.4f}]':>24} {result.objective:18.11e} "
        f"{t_one / t_all:7.1f}x"
    )
    names = {"fd": "scipy L-BFGS-B, finite differences (Epoch)", "exact": "scipy L-BFGS-B, exact gradient"}
    for key, (seconds, best, _, _) in scipy_rows.items():
        print(f"{names[key]:<46} {seconds:24.2f} {best:18.11e} {seconds / t_all:7.0f}x")

    print(
        f"\nscalinglaw: {result.message}; {result.starts.iterations.sum()} iterations in all "
        f"({result.starts.iterations.mean():.1f} per start)"
    )
    for key, (_, best, per_start, nfev) in scipy_rows.items():
        costs = ", ".join(f"{1e3 * c:.2f}" for c in per_start)
        print(
            f"{names[key]}: {costs} ms per start on the subsets; {nfev:.0f} objective calls per start; "
            f"best objective {best / result.objective - 1:+.2e} relative to ours"
        )
    fd, exact = scipy_rows["fd"][0], scipy_rows["exact"][0]
    print(
        f"\nspeed-up on {cores} cores over Epoch's recipe: {fd / t_all:.0f}x (goal {GOALS['fd']}x); "
        f"over L-BFGS-B with exact gradient: {exact / t_all:.0f}x (goal {GOALS['exact']}x)"
    )
    print(f"per core (ours on 1 thread, scipy on 1): {fd / t_one:.0f}x and {exact / t_one:.0f}x")


if __name__ == "__main__":
    main()
