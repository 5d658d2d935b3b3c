"""Scale: a fit of 10^6 runs, a bootstrap of 4000 resamples of 10^5 runs and a 10^9-cell float32 loss
grid, with their time and peak memory.

Run:  python bench/bench_scale.py                # fits of 10^4-10^6 runs, read_csv, grids of 10^7-10^9 cells
      python bench/bench_scale.py --every 10     # every 10th of the 4500 starts (10x faster fits)
      python bench/bench_scale.py --no-fit       # no fits (or --no-grid, --no-csv, --no-bootstrap)
      python bench/bench_scale.py --no-fit --no-csv --no-grid   # the bootstrap alone (~5 min on 2 cores)

Each measurement runs in a fresh Python process, so that no measurement's memory high-water mark hides
another's, and prints its wall time and peak resident memory (getrusage ru_maxrss). A process that only
imports numpy and scalinglaw gives the baseline. Bytes per run (per cell) are (peak - baseline) / size,
and bytes per added run (per added cell) the slope between two sizes, free of fixed costs: memory is
linear in the input when that slope stays the same from the smallest size to the largest.

Fit: synthetic runs, N log-uniform in [1e7, 1e11] parameters, D in [1e9, 1e13] tokens, loss from Hoffmann
et al.'s fitted law times exp(2% Gaussian noise); Hoffmann et al.'s 4500 starts (or every K-th), threads
= all cores. Besides the three input arrays (24 B/run) and a temporary made with them (8 B/run), the
core holds log N, log D, log L (24 B/run), one workspace per worker thread (9 arrays, 72 B/run each) and
one more for the diagnostics at the optimum, so bytes per run grow with the thread count, not the size.
"fit only" is the fit's own peak above the memory in use just before it (the data included), i.e. what
the call costs beyond its input.

read_csv: a file of 10^4 - 10^6 runs (N, C, loss written by repr, ~55 bytes a row); "read only" is the
peak above the memory in use before the call, i.e. the file's text and what is parsed from it.

Bootstrap: 4000 resamples (--resamples) of 10^5 synthetic runs (as for the fit), refitted from the
default starts (bootstrap_starts) with threads = all cores; the full-data fit (from every 50th grid start,
to keep the case short) is given as estimate=. Each resample is drawn where it is refitted, so the
memory is the runs and per-thread scratch (rows, logs, a workspace: ~110 B/run per thread), not the
R x n index table (4000 x 10^5 x 8 B = 3.2 GB, twice: in the core and in numpy, before issue 18).

Grid: loss_grid(law, N_axis, C_axis) in float32, written into a preallocated out= array or allocating its
result; 4 bytes per cell either way, the axes are negligible. The 10^9-cell grid is 32768 x 30518 (4 GB).

Numbers from a shared machine are provisional: the script prints the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
import scalinglaw

LAW = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al.'s fit
FIT_SIZES = [10**4, 10**5, 10**6]
BOOTSTRAP_RUNS = 10**5
GRID_SHAPES = [(3163, 3162), (10000, 10000), (32768, 30518)]  # 10^7, 10^8, 10^9 cells


def peak_bytes() -> int:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_bytes() -> int | None:
    """Resident memory now (Linux only)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------------
# What runs in a child process: one measurement, printed as one line of JSON.


def child_baseline() -> dict[str, Any]:
    return {}  # the imports at the top are the whole baseline


def synthetic_runs(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` runs: N, D log-uniform, Hoffmann et al.'s law times 2% log-normal noise."""
    rng = np.random.default_rng(2022)
    # Built in place, one temporary at a time, so that making the data does not set the peak.
    n = rng.uniform(7.0, 11.0, count)
    np.power(10.0, n, out=n)
    d = rng.uniform(9.0, 13.0, count)
    np.power(10.0, d, out=d)
    loss = np.power(d, -LAW["beta"])
    loss *= LAW["B"]
    loss += LAW["E"]
    term = np.power(n, -LAW["alpha"])
    term *= LAW["A"]
    loss += term
    rng.standard_normal(out=term)
    term *= 0.02
    np.exp(term, out=term)
    loss *= term
    del term
    return n, d, loss


def child_fit(count: int, every: int) -> dict[str, Any]:
    n, d, loss = synthetic_runs(count)
    starts = scalinglaw.default_starts()[::every]
    before = current_bytes()
    start = time.perf_counter()
    result = scalinglaw.fit(n, d, loss, starts=starts)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "starts": len(starts),
        "rss_before": before,
        "status": result.status,
        "starts_at_best": result.starts_at_best,
        "params": result.params,
        "iterations_mean": float(result.starts.iterations.mean()),
    }


def child_bootstrap(count: int, resamples: int) -> dict[str, Any]:
    n, d, loss = synthetic_runs(count)
    estimate = scalinglaw.fit(n, d, loss, starts=scalinglaw.default_starts()[::50])
    before = current_bytes()
    start = time.perf_counter()
    result = scalinglaw.bootstrap(
        n, d, loss, n_resamples=resamples, seed=0, estimate=estimate, progress=False
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rss_before": before,
        "converged": result.n_converged,
        "alpha_se": result.standard_error["alpha"],
    }


def child_grid(rows: int, columns: int, preallocated: bool) -> dict[str, Any]:
    n_axis = np.geomspace(1e6, 1e12, rows)
    c_axis = np.geomspace(1e17, 1e25, columns)
    out = np.empty((rows, columns), dtype=np.float32) if preallocated else None
    before = current_bytes()
    start = time.perf_counter()
    grid = scalinglaw.loss_grid(LAW, n_axis, c_axis, out=out, dtype=np.float32)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rss_before": before,
        "finite": bool(np.isfinite(grid[:: max(rows // 64, 1)]).all()),
    }


def child_csv(count: int) -> dict[str, Any]:
    """read_csv of a file of `count` runs (written in chunks first, so that writing sets no peak)."""
    import tempfile

    rng = np.random.default_rng(2022)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "runs.csv")
        with open(path, "w") as file:
            file.write("Model Size,Training FLOP,loss\n")
            for first in range(0, count, 10**5):
                size = min(10**5, count - first)
                n, c = 10 ** rng.uniform(7, 11, size), 10 ** rng.uniform(18, 24, size)
                loss = 1.7 + rng.uniform(0, 2, size)
                file.write(
                    "".join(f"{a!r},{b!r},{x!r}\n" for a, b, x in zip(n.tolist(), c.tolist(), loss.tolist()))
                )
        size_on_disk = os.path.getsize(path)
        before = current_bytes()
        start = time.perf_counter()
        runs = scalinglaw.read_csv(path)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_before": before, "runs": len(runs), "file_bytes": size_on_disk}


def run_child(arguments: list[str]) -> dict[str, Any]:
    """One measurement in a fresh interpreter; its JSON line, with its peak memory."""
    command = [sys.executable, os.path.abspath(__file__), "--child", *arguments]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed ({finished.returncode}):\n{finished.stderr}")
    record: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return record


def child_main(arguments: list[str]) -> None:
    kind, *rest = arguments
    if kind == "baseline":
        record = child_baseline()
    elif kind == "fit":
        record = child_fit(int(rest[0]), int(rest[1]))
    elif kind == "csv":
        record = child_csv(int(rest[0]))
    elif kind == "bootstrap":
        record = child_bootstrap(int(rest[0]), int(rest[1]))
    else:
        record = child_grid(int(rest[0]), int(rest[1]), rest[2] == "out")
    record["peak"] = peak_bytes()
    print(json.dumps(record))


# ---------------------------------------------------------------------------------------------------
# The parent: runs the children and prints the table.


def mib(count: float) -> str:
    return f"{count / 2**20:10.1f}"


def added(smaller: tuple[int, int] | None, larger: tuple[int, int]) -> str:
    """Bytes per item between two sizes: the slope of memory against size, free of fixed costs."""
    if smaller is None:
        return f"{'':>12}"
    return f"{(larger[1] - smaller[1]) / (larger[0] - smaller[0]):12.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="use every K-th of the 4500 starts (default 1)")
    parser.add_argument("--no-fit", action="store_true", help="skip the fits")
    parser.add_argument("--no-grid", action="store_true", help="skip the grids")
    parser.add_argument("--no-csv", action="store_true", help="skip reading CSV files of runs")
    parser.add_argument("--no-bootstrap", action="store_true", help="skip the bootstrap")
    parser.add_argument(
        "--resamples", type=int, default=4000, help="resamples of the bootstrap of 10^5 runs (default 4000)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"scalinglaw {scalinglaw.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
        f"{cores} cores; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    baseline = run_child(["baseline"])["peak"]
    assert isinstance(baseline, int)
    print(f"baseline (a process that imports numpy and scalinglaw): peak {mib(baseline).strip()} MiB\n")

    if not args.no_fit:
        print(
            f"{'fit':<18}{'starts':>7}{'wall s':>9}{'peak MiB':>10}{'B/run':>8}{'B/added run':>12}"
            f"{'fit only B/run':>15}{'mean iter.':>11}  status"
        )
        previous = None
        for count in FIT_SIZES:
            r = run_child(["fit", str(count), str(args.every)])
            peak, before = int(r["peak"]), r["rss_before"]
            own = f"{(peak - int(before)) / count:15.1f}" if before is not None else f"{'-':>15}"
            print(
                f"{count:>12,} runs{r['starts']:>7}{r['seconds']:9.1f}{mib(peak)}"
                f"{(peak - baseline) / count:8.1f}"
                f"{added(previous, (count, peak))}{own}{r['iterations_mean']:11.1f}  {r['status']}, "
                f"{r['starts_at_best']} of {r['starts']} starts at best"
            )
            previous = (count, peak)
        print()

    if not args.no_csv:
        print(
            f"{'read_csv':<18}{'MB':>7}{'wall s':>9}{'peak MiB':>10}{'B/run':>8}{'B/added run':>12}"
            f"{'read only B/run':>16}"
        )
        previous = None
        for count in FIT_SIZES:
            r = run_child(["csv", str(count)])
            peak, before = int(r["peak"]), r["rss_before"]
            own = f"{(peak - int(before)) / count:16.1f}" if before is not None else f"{'-':>16}"
            print(
                f"{count:>12,} runs{r['file_bytes'] / 1e6:7.1f}{r['seconds']:9.1f}{mib(peak)}"
                f"{(peak - baseline) / count:8.1f}{added(previous, (count, peak))}{own}"
            )
            previous = (count, peak)
        print()

    if not args.no_bootstrap:
        count = BOOTSTRAP_RUNS
        r = run_child(["bootstrap", str(count), str(args.resamples)])
        peak, before = int(r["peak"]), r["rss_before"]
        own = f"{(peak - int(before)) / 2**20:.1f} MiB" if before is not None else "-"
        print(
            f"bootstrap of {args.resamples} resamples of {count:,} runs: {r['seconds']:.1f} s, peak RSS "
            f"{mib(peak).strip()} MiB (above the runs and the fit before it: {own}); "
            f"{r['converged']} of {args.resamples} refits converged, SE(alpha) {r['alpha_se']:.2g}\n"
        )

    if not args.no_grid:
        print(
            f"{'float32 loss_grid':<25}{'wall s (3 runs)':>17}{'peak MiB':>10}{'B/cell':>8}"
            f"{'B/added cell':>13}"
        )
        previous_grid: dict[str, tuple[int, int]] = {}
        for rows, columns in GRID_SHAPES:
            cells = rows * columns
            for mode in ("out", "new"):
                # Fresh pages are faulted in during the call; the first touch of a few GB can wait on
                # the kernel (huge-page compaction), so each size runs three times, in fresh processes.
                runs = [run_child(["grid", str(rows), str(columns), mode]) for _ in range(3)]
                assert all(r["finite"] for r in runs)
                seconds = sorted(float(r["seconds"]) for r in runs)
                peak = max(int(r["peak"]) for r in runs)
                label = f"{rows}x{columns} " + ("out=" if mode == "out" else "new array")
                print(
                    f"{label:<25}{seconds[0]:8.2f} - {seconds[-1]:<6.2f}{mib(peak)}"
                    f"{(peak - baseline) / cells:8.2f}"
                    f"{added(previous_grid.get(mode), (cells, peak)):>13}"
                )
                previous_grid[mode] = (cells, peak)
        print()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
