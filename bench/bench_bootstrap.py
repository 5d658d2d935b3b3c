"""Epoch's 4000-resample bootstrap of the Chinchilla fit (240 runs) against their scipy recipe.

    python bench/bench_bootstrap.py [--every 10] [--repeats 5] [--check-starts 0]

Both refit Epoch's own resamples: numpy's legacy RandomState(42), then 4000 draws of
choice(240, 240, replace=True), as positions into the 240 runs (the built-in data with Epoch's
exclusion, file order). Side by side:
  * scalinglaw.bootstrap: each resample refitted to convergence in C++ from the full-data optimum
    and two grid starts (bootstrap_starts), on all cores and on one. Timed given the full-data fit
    (estimate=, as the command has it) and, separately, with that 4500-start fit included, and with
    4000 resamples of a seed (drawn by the core one at a time as it refits them, not given as a table);
  * Epoch's recipe (Besiroglu et al. 2024): scipy.optimize.minimize(method="BFGS") with the exact
    gradient from one start, Hoffmann et al.'s fitted parameters (Epoch's `true_params`), scipy's
    default tolerances, maxiter=10000. Its objective and gradient at their fastest: plain numpy,
    written out analytically (Epoch took the gradient by autograd, which is slower). The ratio is
    against this. For reference, the same with scipy.special's logsumexp and huber (as in
    tests/conftest.py), whose 4000 refits take the 43 s the issue quotes, is timed too.
scipy is single-threaded (BLAS pinned to one thread below). It runs on every k-th resample
(--every; 1 runs all 4000, about a minute) and its time is scaled to 4000; its standard errors are
those of that subset, printed beside ours on the same subset. A scipy refit "stopped early" when its
objective is above ours on the same resample by more than 1e-9 relative. The machine's load average
is printed: on a shared machine, compare CPU times too.

--check-starts K refits the first K resamples from all 4500 grid starts as well and reports which
starts reach the grid's best objective: the evidence behind bootstrap_starts (K x 0.4 s).
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scalinglaw  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy_recipes import DELTA, objective_and_gradient, special_objective_and_gradient  # noqa: E402

GOAL = 100
#: Hoffmann et al.'s fit in log form (a, b, e, alpha, beta): the start of each of Epoch's refits.
EPOCH_START = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083])
#: Epoch's published standard errors (Besiroglu et al. 2024).
EPOCH_SE = {"E": 0.02566, "A": 124.52, "B": 1293.28, "alpha": 0.01540, "beta": 0.02060}


def epoch_indices() -> np.ndarray:
    state = np.random.RandomState(42)
    return np.array([state.choice(240, 240, replace=True) for _ in range(4000)])


def run_scipy(logs, rows, function=objective_and_gradient):
    """BFGS from Epoch's start on each resample: wall and CPU seconds, each (objective, x)."""
    log_n, log_d, log_loss = logs
    objectives, params = [], []
    with np.errstate(all="ignore"):
        wall, cpu = time.perf_counter(), time.process_time()
        for r in rows:
            result = minimize(
                function,
                EPOCH_START,
                args=(log_n[r], log_d[r], log_loss[r]),
                jac=True,
                method="BFGS",
                options={"maxiter": 10000},
            )
            objectives.append(result.fun)
            params.append(result.x)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, np.array(objectives), np.array(params)


def time_ours(runs, repeats, **kwargs):
    """Wall and CPU (all threads) seconds of `repeats` calls after an untimed one; a result."""
    scalinglaw.bootstrap(*runs, **kwargs)
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = scalinglaw.bootstrap(*runs, **kwargs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return np.array(walls), np.array(cpus), result


def natural(params: np.ndarray) -> dict[str, np.ndarray]:
    a, b, e, alpha, beta = params.T
    return {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}


def check_starts(runs, indices, count, estimate):
    """Which starts reach the full grid's best objective on the first `count` resamples."""
    n, d, loss = runs
    defaults = scalinglaw.bootstrap_starts(estimate)
    reached = np.zeros((count, 4500), dtype=bool)
    alone = np.zeros((count, len(defaults)), dtype=bool)
    iterations = np.zeros((count, len(defaults)))
    excess = np.zeros(count)
    for k, rows in enumerate(indices[:count]):
        grid = scalinglaw.fit(n[rows], d[rows], loss[rows])
        best = grid.objective
        reached[k] = grid.starts.objective <= best * (1 + 1e-9)
        own = scalinglaw.fit(n[rows], d[rows], loss[rows], starts=defaults)
        alone[k] = own.starts.objective <= best * (1 + 1e-9)
        iterations[k] = own.starts.iterations
        excess[k] = own.starts.objective[0] / best - 1
    print(f"\nStarts, on the first {count} of Epoch's resamples, each refitted from all 4500 grid starts:")
    print(
        f"  grid starts that reach the grid's best objective (1e-9 relative) on every resample: "
        f"{int(reached.all(axis=0).sum())} of 4500"
    )
    for j, start in enumerate(defaults):
        name = "full-data optimum" if j == 0 else f"grid start {tuple(float(v) for v in start)}"
        print(
            f"  {name:<44} alone reaches it on {int(alone[:, j].sum())} of {count}; "
            f"iterations mean {iterations[:, j].mean():.1f}, max {iterations[:, j].max():.0f}"
        )
    print(f"  the default starts together reach it on {int(alone.any(axis=1).sum())} of {count}")
    print(
        f"  the optimum's objective relative to the grid's best: {excess.min():+.1e} to {excess.max():+.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=10, help="scipy refits every k-th resample (1: all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of our bootstrap")
    parser.add_argument(
        "--check-starts",
        type=int,
        default=0,
        metavar="K",
        help="also refit the first K resamples from all 4500 grid starts",
    )
    args = parser.parse_args()

    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    indices = epoch_indices()
    logs = (np.log(runs.N), np.log(runs.D), np.log(runs.loss))
    cores = os.cpu_count()
    k = max(1, args.every)
    subset = np.arange(0, 4000, k)
    load = os.getloadavg()[0]

    estimate = scalinglaw.fit(*runs)
    given = dict(indices=indices, estimate=estimate)
    ours = {
        "all": time_ours(runs, args.repeats, threads=0, **given),
        "one": time_ours(runs, args.repeats, threads=1, **given),
        "fit": time_ours(runs, args.repeats, threads=0, indices=indices),
        "seed": time_ours(runs, args.repeats, threads=0, seed=0, n_resamples=4000, estimate=estimate),
        "optimum": time_ours(
            runs, args.repeats, threads=0, starts=scalinglaw.bootstrap_starts(estimate)[:1], **given
        ),
    }
    result = ours["all"][2]
    wall, cpu, scipy_objective, scipy_params = run_scipy(logs, indices[subset])
    special_wall, special_cpu, _, _ = run_scipy(logs, indices[subset], special_objective_and_gradient)
    scale = 4000 / len(subset)
    scipy_wall, scipy_cpu = wall * scale, cpu * scale

    print(
        f"Bootstrap of the Chinchilla fit: Epoch's 4000 resamples of {len(runs)} runs, Huber delta "
        f"{DELTA:g}; {cores} cores; OPENBLAS_NUM_THREADS=1; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"scipy timed on {len(subset)} resamples (every {k}th) and scaled to 4000; one process"
        if k > 1
        else "scipy timed on all 4000 resamples; one process"
    )
    print(
        f"scalinglaw.bootstrap: median of {args.repeats} calls (min-max), the whole Python call; "
        f"{len(result.starts)} starts per resample unless said. CPU: seconds of all threads\n"
    )
    print(f"{'tool':<52} {'wall time (s)':>22} {'CPU (s)':>8} {'ratio':>7}")
    names = {
        "all": f"scalinglaw.bootstrap, threads=0 ({cores} cores)",
        "one": "scalinglaw.bootstrap, threads=1",
        "fit": "  the same + its 4500-start fit, threads=0",
        "seed": "  4000 resamples of seed 0 instead, threads=0",
        "optimum": "  the optimum as the only start, threads=0",
    }
    medians = {}
    for key, (walls, cpus, _) in ours.items():
        medians[key] = float(np.median(walls))
        span = f"{medians[key]:.3f} [{walls.min():.3f}-{walls.max():.3f}]"
        print(f"{names[key]:<52} {span:>22} {np.median(cpus):8.3f} {scipy_wall / medians[key]:6.0f}x")
    print(
        f"{'scipy BFGS, exact gradient, one start (Epoch)':<52} {scipy_wall:22.2f} {scipy_cpu:8.2f} {1:6.0f}x"
    )
    print(
        f"{'  the same through scipy.special (logsumexp, huber)':<52} {special_wall * scale:22.2f} "
        f"{special_cpu * scale:8.2f} {special_wall / wall:5.1f}x"
    )

    ours_subset = result.objective[subset]
    early = scipy_objective > ours_subset * (1 + 1e-9)
    gap = scipy_objective / ours_subset - 1
    print(
        f"\nscalinglaw: {result.n_converged} of 4000 resamples converged; best start's iterations "
        f"{result.iterations.mean():.1f} on average"
    )
    print(
        f"scipy: {1e3 * wall / len(subset):.2f} ms per resample; {int(early.sum())} of {len(subset)} "
        f"refits stopped early (objective above ours by > 1e-9 relative; largest {gap.max():.2e}, "
        f"median {np.median(gap):.2e}); below ours by > 1e-9: {int(np.sum(gap < -1e-9))}"
    )

    scipy_samples = natural(scipy_params)
    print(
        f"\n{'SE':<8} {'Epoch':>12} {'ours, 4000':>14} {f'scipy, {len(subset)}':>14} "
        f"{f'ours, same {len(subset)}':>16}"
    )
    for name, published in EPOCH_SE.items():
        print(
            f"{name:<8} {published:12.5g} {result.standard_error[name]:14.5g} "
            f"{np.std(scipy_samples[name], ddof=1):14.5g} "
            f"{np.std(result.samples[name][subset], ddof=1):16.5g}"
        )

    print(
        f"\nspeed-up on {cores} cores over Epoch's recipe: {scipy_wall / medians['all']:.0f}x given the "
        f"fit, {scipy_wall / medians['fit']:.0f}x with it (goal {GOAL}x); per core (CPU time): "
        f"{scipy_cpu / np.median(ours['one'][1]):.0f}x; over the scipy.special form: "
        f"{special_wall * scale / medians['all']:.0f}x given the fit"
    )
    if args.check_starts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scalinglaw.ScalingLawWarning)
            check_starts(runs, indices, args.check_starts, estimate)


if __name__ == "__main__":
    main()
