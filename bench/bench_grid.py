"""Loss grids L(N, C / 6N): scalinglaw.loss_grid against what a user would otherwise write.

Run:  pip install numexpr && python bench/bench_grid.py

For each grid shape (rows = model sizes N, columns = FLOP budgets C) it times, best of a few runs:

  scalinglaw, out=          loss_grid into a preallocated array, all cores (and 1 thread)
  scalinglaw float32        loss_grid into a preallocated float32 array (half the bytes)
  scalinglaw, new array     loss_grid allocating its result (page faults included)
  numpy broadcasting        E + A / N**alpha + B / (C / (6 N))**beta on N[:, None], C[None, :]
  numpy separable           row + outer(B (6N)^beta, C^-beta), written into out= (the trick we use)
  numexpr, out=             the broadcast formula compiled by numexpr, all cores
  write floor, out=         writing a constant into the same array: numpy's fill, from 1 thread and
                            from one Python thread per core (numpy releases the GIL), the faster of
                            the two (also for float32). No grid can be written faster, whatever
                            it computes; numpy's fill stores as fast as a C++ loop does.
  write floor, new array    np.empty(shape).fill(1.0): allocation and page faults, then the fill

and prints ratios from this one run, like compared with like: numpy broadcasting against ours
allocating its result (both pay for fresh pages) and against ours into out=; numexpr and the write
floor against ours into out=. Numbers from a shared machine are provisional: rerun on an idle one.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

import numpy as np
import scalinglaw

try:
    import numexpr
except ImportError:  # the ratios that need it are skipped, and the script says so
    numexpr = None

LAW = scalinglaw.Law(E=1.82, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
SHAPES = [(1024, 1024), (4096, 4096), (16384, 4096)]
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def best_times(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Fastest of `rounds` timed runs of each, in seconds.

    The rounds interleave the methods, so that load from other work on a shared machine falls on all
    of them alike; each timed run follows an untimed one of the same method, so that none pays for
    the state of caches (or numexpr's worker threads) its predecessor left behind.
    """
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, run in runs.items():
            run()
            start = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - start)
    return {label: min(values) for label, values in times.items()}


def numpy_broadcast(N: np.ndarray, C: np.ndarray) -> np.ndarray:
    n = N[:, None]
    return LAW.E + LAW.A / n**LAW.alpha + LAW.B / (C[None, :] / (6 * n)) ** LAW.beta


def numpy_separable(N: np.ndarray, C: np.ndarray, out: np.ndarray) -> np.ndarray:
    row = LAW.E + LAW.A * N**-LAW.alpha
    np.multiply.outer(LAW.B * (6 * N) ** LAW.beta, C**-LAW.beta, out=out)
    out += row[:, None]
    return out


def numexpr_formula(N: np.ndarray, C: np.ndarray, out: np.ndarray) -> np.ndarray:
    assert numexpr is not None
    names = {"n": N[:, None], "c": C[None, :], **LAW.params}
    return numexpr.evaluate("E + A / n**alpha + B / (c / (6 * n))**beta", names, out=out)


def fill_in_threads(out: np.ndarray, threads: int) -> None:
    """out[...] = 1.0, the rows split between `threads` Python threads."""
    parts = np.array_split(out, threads)
    workers = [threading.Thread(target=part.fill, args=(1.0,)) for part in parts[1:]]
    for worker in workers:
        worker.start()
    parts[0].fill(1.0)
    for worker in workers:
        worker.join()


def bench_shape(rows: int, columns: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    N = np.sort(10 ** rng.uniform(6, 12, rows))
    C = np.sort(10 ** rng.uniform(17, 25, columns))
    cells = rows * columns
    rounds = 5 if cells <= 1 << 24 else 3
    out = np.ones((rows, columns))  # touched once: timings into it exclude page faults
    out32 = np.ones((rows, columns), dtype=np.float32)

    expected = numpy_broadcast(N, C)
    error = float(np.max(np.abs(scalinglaw.loss_grid(LAW, N, C) - expected) / expected))
    del expected

    runs: dict[str, Callable[[], object]] = {
        "scalinglaw, out=": lambda: scalinglaw.loss_grid(LAW, N, C, out=out),
        "scalinglaw, out=, 1 thread": lambda: scalinglaw.loss_grid(LAW, N, C, out=out, threads=1),
        "scalinglaw float32, out=": lambda: scalinglaw.loss_grid(LAW, N, C, out=out32),
        "scalinglaw, new array": lambda: scalinglaw.loss_grid(LAW, N, C),
        "numpy broadcasting": lambda: numpy_broadcast(N, C),
        "numpy separable, out=": lambda: numpy_separable(N, C, out),
        "write floor, out= (1 thread)": lambda: out.fill(1.0),
        f"write floor, out= ({CORES} threads)": lambda: fill_in_threads(out, CORES),
        "write floor float32, out= (1 thread)": lambda: out32.fill(1.0),
        f"write floor float32, out= ({CORES} threads)": lambda: fill_in_threads(out32, CORES),
        "write floor, new array": lambda: np.empty((rows, columns)).fill(1.0),
    }
    if numexpr is not None:
        numexpr.set_num_threads(CORES)
        runs["numexpr, out="] = lambda: numexpr_formula(N, C, out)
    t = best_times(runs, rounds)
    t["write floor, out="] = min(
        t.pop("write floor, out= (1 thread)"), t.pop(f"write floor, out= ({CORES} threads)")
    )
    t["write floor float32, out="] = min(
        t.pop("write floor float32, out= (1 thread)"),
        t.pop(f"write floor float32, out= ({CORES} threads)"),
    )
    t["max relative error vs numpy"] = error
    return t


# Rows of the table, in order.
LABELS = [
    "scalinglaw, out=",
    "scalinglaw, out=, 1 thread",
    "scalinglaw float32, out=",
    "scalinglaw, new array",
    "numpy broadcasting",
    "numpy separable, out=",
    "numexpr, out=",
    "write floor, out=",
    "write floor float32, out=",
    "write floor, new array",
]
# Ratios printed: (what, numerator, denominator); like compared with like (new arrays or out=).
RATIOS = [
    ("numpy broadcasting / ours, new arrays", "numpy broadcasting", "scalinglaw, new array"),
    ("numpy broadcasting / ours out=", "numpy broadcasting", "scalinglaw, out="),
    ("numexpr / ours, both out=", "numexpr, out=", "scalinglaw, out="),
    ("numpy separable / ours, both out=", "numpy separable, out=", "scalinglaw, out="),
    ("ours / write floor, out=", "scalinglaw, out=", "write floor, out="),
    ("ours / write floor, float32 out=", "scalinglaw float32, out=", "write floor float32, out="),
    ("ours / write floor, new arrays", "scalinglaw, new array", "write floor, new array"),
]


def main() -> None:
    numexpr_version = numexpr.__version__ if numexpr else "not installed"
    print(f"scalinglaw {scalinglaw.__version__}, numpy {np.__version__}, numexpr {numexpr_version}")
    print(f"{CORES} cores; times in ms, best of interleaved runs")
    results = {shape: bench_shape(*shape) for shape in SHAPES}
    header = f"{'':<38}" + "".join(f"{f'{r} x {c}':>14}" for r, c in SHAPES)
    print(header)
    print("-" * len(header))
    for label in LABELS:
        times = [1e3 * results[shape].get(label, np.nan) for shape in SHAPES]
        print(f"{label:<38}" + "".join(f"{value:>14.2f}" for value in times))
    print()
    for text, top, bottom in RATIOS:
        ratios = [results[shape].get(top, np.nan) / results[shape][bottom] for shape in SHAPES]
        print(f"{text:<38}" + "".join(f"{value:>13.2f}x" for value in ratios))
    errors = ", ".join(f"{results[shape]['max relative error vs numpy']:.1e}" for shape in SHAPES)
    print(f"\nmax relative difference from numpy broadcasting: {errors}")
    print("goals at 4096 x 4096 on 2 cores: >= 20x numpy broadcasting, >= 3x numexpr, <= 1.5x floor")
    if numexpr is None:
        print("numexpr is not installed (pip install numexpr): its rows and ratios are missing")


if __name__ == "__main__":
    main()
