"""Published fits on published data (tests/data, README there): Gadre et al.'s (2024) RedPajama ladder
with tied exponents, and Muennighoff et al.'s (2023) 182 data-constrained runs. Each number is quoted
from issue 13 (which quotes the papers' data) or recomputed here with numpy/scipy, never from our output."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from conftest import MUENNIGHOFF_BASE as BASE
from conftest import MUENNIGHOFF_R as PUBLISHED_R
from conftest import data_constrained_loss
from scalinglaw import DataConstrained
from scalinglaw.warnings import IllConditionedWarning
from scipy.optimize import minimize
from scipy.special import huber

DATA = Path(__file__).resolve().parent / "data"
DELTA = 1e-3


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as file:
        return list(csv.DictReader(file))


def columns(rows: list[dict[str, str]], *keys: str) -> tuple[np.ndarray, ...]:
    return tuple(np.array([float(row[key]) for row in rows]) for key in keys)


def best_of(objective, starts):
    """The lowest optimum of Nelder-Mead (no gradient: an independent route) from every start."""
    found = [
        minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-16})
        for start in starts
    ]
    return min((f for f in found if np.isfinite(f.fun)), key=lambda f: f.fun)


# ---- Gadre et al. (2024): open_lm on RedPajama, validation set c4_val ---------------------------------

SMALL = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")


@pytest.fixture(scope="module")
def ladder():
    rows = [row for row in read("gadre_rpj.csv") if row["val"] == "c4_val"]
    small = [row for row in rows if row["model"] in SMALL]
    (largest,) = [row for row in rows if row["model"] == "open_lm_7b"]
    assert len(small) == 32  # 4 sizes x 8 token multipliers
    return columns(small, "N", "D", "loss"), columns([largest], "N", "D", "loss")


def tied_reference(n, d, loss):
    """Hoffmann et al.'s objective of the four-parameter law E + A/N^s + B/D^s in (log A, log B, log E,
    s), with its exact gradient, minimised by scipy's BFGS from a grid of starts."""
    log_n, log_d, log_loss = np.log(n), np.log(d), np.log(loss)

    def objective(x):
        a, b, e, s = x
        terms = np.stack([a - s * log_n, b - s * log_d, np.full_like(log_n, e)])
        top = terms.max(axis=0)
        log_predicted = top + np.log(np.exp(terms - top).sum(axis=0))
        r = log_predicted - log_loss
        share = np.exp(terms - log_predicted)
        psi = np.clip(r, -DELTA, DELTA)  # the Huber loss's derivative
        slope = -(psi * share[0]) @ log_n - (psi * share[1]) @ log_d
        return float(huber(DELTA, r).sum()), np.array([*(share @ psi), slope])

    best = None
    for start in [(a, b, 0.0, s) for a in (2.0, 6.0) for b in (3.0, 8.0) for s in (0.1, 0.6)]:
        found = minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-14})
        if np.isfinite(found.fun) and (best is None or found.fun < best.fun):
            best = found
    return best


def test_tied_fit_of_the_four_small_models_is_the_published_one(ladder):
    (n, d, loss), _ = ladder
    result = scalinglaw.fit(n, d, loss, tied=[("alpha", "beta")])
    quoted = {"E": 1.76059, "A": 137.973, "B": 239.360, "alpha": 0.260852, "beta": 0.260852}
    for name, value in quoted.items():  # to the digits quoted
        assert result.params[name] == pytest.approx(value, abs=0.5 * 10 ** math.floor(math.log10(value) - 5))
    assert result.law.alpha == result.law.beta
    reference = tied_reference(n, d, loss)
    assert result.objective <= reference.fun * (1 + 1e-10)
    assert result.objective == pytest.approx(reference.fun, rel=1e-8)
    a, b, e, s = reference.x
    fitted = result.params
    np.testing.assert_allclose(
        [fitted["A"], fitted["B"], fitted["E"], fitted["alpha"]],
        [math.exp(a), math.exp(b), math.exp(e), s],
        rtol=1e-4,
    )


def test_tied_fit_predicts_the_7b_model_better_than_the_free_fit(ladder):
    (n, d, loss), (n7, d7, loss7) = ladder
    tied = scalinglaw.fit(n, d, loss, tied=[("alpha", "beta")])
    free = scalinglaw.fit(n, d, loss)
    miss_tied = abs(float(tied.predict(n7, d7)[0]) / loss7[0] - 1)
    miss_free = abs(float(free.predict(n7, d7)[0]) / loss7[0] - 1)
    assert round(100 * miss_tied, 2) <= 0.31  # issue 13: within 0.31%
    assert miss_free > 0.03 > 5 * miss_tied  # issue 13: 3-8% free


# ---- Muennighoff et al. (2023): 182 runs on repeated C4 data ------------------------------------------


def reference_objective(r_star, n, d, u, loss):
    params = {**BASE, "R_D": r_star[0], "R_N": r_star[1]}
    return float(huber(DELTA, np.log(data_constrained_loss(params, n, d, u)) - np.log(loss)).sum())


@pytest.fixture(scope="module")
def repeated():
    runs = columns(read("muennighoff_c4.csv"), "N", "D", "unique_tokens", "loss")
    assert len(runs[0]) == 182
    return runs


def test_objective_at_the_published_decay_constants(repeated):
    n, d, u, loss = repeated
    law = DataConstrained(**BASE, R_D=PUBLISHED_R[0], R_N=PUBLISHED_R[1])
    value = scalinglaw.objective(n, d, loss, law, unique_tokens=u)
    assert value == pytest.approx(0.0158259353, rel=1e-8)  # issue 13
    assert value == pytest.approx(reference_objective(PUBLISHED_R, n, d, u, loss), rel=1e-12)


def test_fit_reaches_the_best_multistart_optimum_and_says_the_decay_is_poorly_determined(repeated):
    n, d, u, loss = repeated

    def in_logs(x):
        with np.errstate(over="ignore"):  # a simplex may wander to log R* > 709: R* = inf, no decay
            return reference_objective(np.exp(x), n, d, u, loss)

    grid = np.log([1.0, 4.0, 16.0, 64.0, 256.0])
    reference = best_of(in_logs, [(x, y) for x in grid for y in grid])
    # The best optimum issue 13 quotes, found with many starts; this modest grid finds it too.
    assert reference.fun == pytest.approx(0.0158046625, rel=1e-8)
    np.testing.assert_allclose(np.exp(reference.x), [95.4, 1.71], rtol=0.01)

    with pytest.warns(IllConditionedWarning, match="poorly determined") as caught:
        result = scalinglaw.fit(n, d, loss, law="data_constrained", fixed=BASE, unique_tokens=u)
    assert result.objective <= reference.fun * (1 + 1e-10)
    assert result.params["R_D"] == pytest.approx(95.4, rel=0.01)
    assert result.params["R_N"] == pytest.approx(1.71, rel=0.01)
    said = " ".join(str(w.message) for w in caught)
    assert "R_D is poorly determined" in said and "R_N is poorly determined" in said
    assert {"R_D", "R_N"} <= {p.split()[0] for p in result.problems}
    # The published R* lie among the near-best optima the warning spans.
    low, high = result.near_best["R_D"]
    assert low <= PUBLISHED_R[0] <= high
