"""Approach 2 (IsoFLOP parabolas) against numpy.polyfit on the Chinchilla data; skipped budgets
warn; nothing groupable is an error."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scalinglaw
from scalinglaw.io import CHINCHILLA_BUDGETS


def numpy_groups(n, d, budgets, max_distance=0.3):
    """Each run's nearest budget in log10 C, or -1 beyond max_distance decades (as documented)."""
    log_c = np.log10(6 * n * d)
    distance = np.abs(log_c[:, None] - np.log10(budgets)[None, :])
    label = np.argmin(distance, axis=1)
    label[distance[np.arange(len(n)), label] > max_distance] = -1
    return label


@pytest.fixture(scope="module")
def chinchilla_approach2(chinchilla_all):
    with pytest.warns(scalinglaw.BudgetGroupingWarning, match="6 of 245 runs"):
        return scalinglaw.approach2(*chinchilla_all, budgets=CHINCHILLA_BUDGETS)


def test_each_budgets_minimum_is_numpys_polyfit(chinchilla_all, chinchilla_approach2):
    n, d, loss = chinchilla_all
    r = chinchilla_approach2
    np.testing.assert_array_equal(r.budgets, CHINCHILLA_BUDGETS)
    label = numpy_groups(n, d, np.array(CHINCHILLA_BUDGETS))
    assert r.used.all()
    for g, budget in enumerate(CHINCHILLA_BUDGETS):
        members = label == g
        c2, c1, c0 = np.polyfit(np.log(n[members]), loss[members], 2)
        n_opt = np.exp(-c1 / (2 * c2))
        assert r.N_opt[g] == pytest.approx(n_opt, rel=1e-9), budget
        assert r.D_opt[g] == pytest.approx(budget / (6 * n_opt), rel=1e-9)
        assert r.loss_opt[g] == pytest.approx(c0 - c1**2 / (4 * c2), rel=1e-10)
        assert r.c2[g] == pytest.approx(c2, rel=1e-9)
        assert r.runs[g] == members.sum()
        assert r.sizes[g] == len(np.unique(n[members]))
        assert r.inside[g] == (n[members].min() <= n_opt <= n[members].max())
    # The exponents: least squares in ln-ln across the budgets.
    a, log_k = np.polyfit(np.log(CHINCHILLA_BUDGETS), np.log(r.N_opt), 1)
    b, log_kd = np.polyfit(
        np.log(CHINCHILLA_BUDGETS), np.log(np.array(CHINCHILLA_BUDGETS) / (6 * r.N_opt)), 1
    )
    assert r.a == pytest.approx(a, rel=1e-9)
    assert r.n_coefficient == pytest.approx(np.exp(log_k), rel=1e-6)
    assert r.b == pytest.approx(b, rel=1e-9)
    assert r.d_coefficient == pytest.approx(np.exp(log_kd), rel=1e-6)
    assert r.a + r.b == pytest.approx(1.0, rel=1e-12)
    # Hoffmann et al. report a = 0.49 (0.462, 0.534) for Approach 2; the extracted data give 0.52.
    assert 0.46 < r.a < 0.56


def test_result_summarises_itself(chinchilla_approach2):
    r = chinchilla_approach2
    document = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert document["a"] == r.a
    assert [row["C"] for row in document["budgets"]] == list(CHINCHILLA_BUDGETS)
    assert all(row["status"] == "used" and row["reason"] == "" for row in document["budgets"])
    assert "budgets used=9/9" in repr(r)


def sweep(budgets, sizes_per_budget, curvature):
    """Runs on exact parabolas in ln N, minima at N_opt = 0.1 sqrt(C); `curvature` per budget."""
    n, d, loss = [], [], []
    for budget, sizes, c2 in zip(budgets, sizes_per_budget, curvature):
        x_opt = np.log(0.1 * np.sqrt(budget))
        for offset in sizes:
            size = np.exp(x_opt + offset)
            n.append(size)
            d.append(budget / (6 * size))
            loss.append(2.0 + c2 * offset**2)
    return np.array(n), np.array(d), np.array(loss)


def test_skipped_budgets_warn_with_their_reason_and_the_rest_are_used():
    budgets = [1e19, 1e20, 1e21, 1e22]
    five = [-1.0, -0.5, 0.0, 0.5, 1.0]
    two = [-0.5, -0.5, 0.5, 0.5]  # four runs, two sizes
    n, d, loss = sweep(budgets, [five, two, five, five], [0.05, 0.05, -0.05, 0.05])
    with pytest.warns(scalinglaw.IsoflopWarning) as caught:
        r = scalinglaw.approach2(n, d, loss, budgets=budgets)
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        "IsoFLOP budget 1e+20 FLOPs left out of Approach 2: only 2 distinct model sizes among its "
        "4 runs: a parabola needs 3",
        "IsoFLOP budget 1e+21 FLOPs left out of Approach 2: the parabola opens downward (c2 = "
        f"{r.c2[2]:.6g} <= 0): it has no minimum",
    ]
    assert r.status == ("used", "too_few_sizes", "opens_downward", "used")
    assert list(r.used) == [True, False, False, True]
    assert np.isnan(r.N_opt[1]) and np.isnan(r.N_opt[2])
    assert r.a == pytest.approx(0.5, rel=1e-10)  # the exact sweep's exponent, from the two used budgets
    assert r.N_opt[0] == pytest.approx(0.1 * np.sqrt(1e19), rel=1e-10)


def test_without_budgets_runs_of_equal_compute_form_the_groups():
    budgets = [1e19, 1e20, 1e21]
    n, d, loss = sweep(budgets, [[-1.0, 0.0, 1.0, 2.0]] * 3, [0.05] * 3)
    r = scalinglaw.approach2(n, d, loss)
    np.testing.assert_allclose(r.budgets, budgets, rtol=1e-12)
    assert r.a == pytest.approx(0.5, rel=1e-10)


def test_nothing_groupable_or_too_few_minima_is_a_value_error():
    n, d, loss = sweep([1e19, 1e20], [[-1.0, 0.0, 1.0]] * 2, [0.05, 0.05])
    with (
        pytest.warns(scalinglaw.BudgetGroupingWarning, match="6 of 6 runs"),
        pytest.raises(ValueError, match="no run joins any IsoFLOP budget"),
    ):
        scalinglaw.approach2(n, d, loss, budgets=[1e25, 1e26])
    n, d, loss = sweep([1e19, 1e20], [[-1.0, 0.0, 1.0], [-1.0, 1.0]], [0.05, 0.05])
    with (
        pytest.warns(scalinglaw.IsoflopWarning, match="1e\\+20 FLOPs left out"),
        pytest.raises(ValueError, match="the exponents need the minima of at least 2 budgets, got 1 of 2"),
    ):
        scalinglaw.approach2(n, d, loss, budgets=[1e19, 1e20])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(budgets=[1e19, 1e19]), r"budgets\[1\] = 1e\+19 repeats budgets\[0\]"),
        (dict(budgets=[1e19, -1.0]), r"budgets\[1\] = -1.0 is not > 0"),
        (dict(budgets=[]), r"budgets must hold at least one budget"),
        (dict(N=[1e9, 2e9]), r"same length"),
        (dict(loss=[2.0, 2.1, np.nan, 2.0, 2.2, 2.3]), r"loss\[2\] = nan is not finite"),
        (dict(N=[], D=[], loss=[]), r"Approach 2 needs runs, got none"),
    ],
)
def test_bad_input_raises_value_error(change, message):
    n, d, loss = sweep([1e19, 1e20], [[-1.0, 0.0, 1.0]] * 2, [0.05, 0.05])
    arguments = {"N": n, "D": d, "loss": loss, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.approach2(arguments.pop("N"), arguments.pop("D"), arguments.pop("loss"), **arguments)
