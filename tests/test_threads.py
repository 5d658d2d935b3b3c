"""Calls from several Python threads at once give results bit-identical to the same calls made one after
another: fits of different datasets, predict and the grids, mixed, with any thread count inside each call.
The core holds no global state and each call writes only its own output, so nothing may differ."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scalinglaw

STARTS = scalinglaw.default_starts()[::5]  # 900 of Hoffmann et al.'s starts: a real multi-start fit
LAW = scalinglaw.Law(E=1.82, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


def noisy_runs(seed, params, count=120):
    """Runs spread over two decades of N and D, with 1% multiplicative noise."""
    rng = np.random.default_rng(seed)
    n = 10 ** rng.uniform(7.5, 10.5, count)
    d = 10 ** rng.uniform(9, 12, count)
    loss = params["E"] + params["A"] / n ** params["alpha"] + params["B"] / d ** params["beta"]
    return n, d, loss * np.exp(rng.normal(0, 0.01, count))


@pytest.fixture(scope="module")
def datasets(chinchilla_240):
    return {
        "chinchilla": chinchilla_240,
        "paper": noisy_runs(1, {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}),
        "epoch": noisy_runs(2, {"E": 1.8172, "A": 477.83, "B": 2143.4, "alpha": 0.3473, "beta": 0.3672}),
        "steep": noisy_runs(3, {"E": 0.5, "A": 50.0, "B": 9000.0, "alpha": 0.2, "beta": 0.5}, count=60),
    }


def fit_outcome(runs, threads):
    result = scalinglaw.fit(*runs, starts=STARTS, threads=threads)
    s = result.starts
    return (
        result.params,
        result.objective,
        result.status,
        result.best_start,
        result.starts_at_best,
        result.iterations,
        result.hessian_condition,
        result.term_shares,
        s.params.tobytes(),
        s.objective.tobytes(),
        s.iterations.tobytes(),
        tuple(s.status),
    )


def grid_outcomes(threads):
    rng = np.random.default_rng(7)
    n, c = 10 ** rng.uniform(6, 12, 700), 10 ** rng.uniform(17, 25, 900)
    out = np.empty((700, 900), dtype=np.float32)
    return (
        scalinglaw.predict(LAW, n[:300, None], c[None, :400] / 1e10, threads=threads).tobytes(),
        scalinglaw.loss_grid(LAW, n, c, threads=threads).tobytes(),
        scalinglaw.loss_grid(LAW, n, c, out=out, threads=threads).tobytes(),
        scalinglaw.loss_grid_nd(LAW, n, c / 1e10, threads=threads).tobytes(),
    )


def test_fits_and_grids_from_many_python_threads_equal_serial_calls(datasets):
    # Serial reference: each dataset fitted once, one thread inside.
    serial_fits = {name: fit_outcome(runs, 1) for name, runs in datasets.items()}
    serial_grids = grid_outcomes(1)

    # The same work, twice over, in a shuffled order, from 6 Python threads at once, each call with its
    # own thread count (0 = all cores). Count how many calls are in flight, to know they overlapped.
    tasks = [("fit", name, threads) for name in datasets for threads in (0, 1, 2, 3)]
    tasks += [("grids", None, threads) for threads in (0, 1, 2, 5)]
    tasks *= 2
    random.Random(8).shuffle(tasks)
    in_flight, most = 0, 0
    lock = threading.Lock()

    def run(task):
        nonlocal in_flight, most
        kind, name, threads = task
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            return fit_outcome(datasets[name], threads) if kind == "fit" else grid_outcomes(threads)
        finally:
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(run, tasks))
    assert most >= 2, "the calls never overlapped"
    for (kind, name, threads), outcome in zip(tasks, results):
        expected = serial_fits[name] if kind == "fit" else serial_grids
        assert outcome == expected, f"{kind} {name or ''} with threads={threads} differs from the serial call"


def test_serial_fits_are_what_they_should_be(datasets):
    # Guards the comparison above: the fits it compares are real, converged fits of distinct data.
    objectives = set()
    for name, runs in datasets.items():
        result = scalinglaw.fit(*runs, starts=STARTS, threads=1)
        assert result.converged and not result.problems, name
        objectives.add(result.objective)
    assert len(objectives) == len(datasets)
