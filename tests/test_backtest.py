"""Backtests against an independent computation: the split's runs fitted by scipy, the held-out runs
predicted and their errors computed by hand; predictive intervals' coverage where the law is true."""

import json
import math

import numpy as np
import pytest
import scalinglaw
from conftest import gadre_ladder, huber_objective_and_gradient, scipy_fit, synthetic_ladder
from scalinglaw.backtest import DEFAULT_SPLITS, backtest, compare

#: Starts of the independent reference fits, (a, b, e, alpha, beta): corners of Hoffmann et al.'s grid
#: and beyond it.
MANY_STARTS = [
    (a, b, e, alpha, beta)
    for a, b in ((0.0, 0.0), (5.0, 10.0), (10.0, 5.0), (12.0, 12.0))
    for e in (-1.0, 1.0)
    for alpha, beta in ((0.3, 0.3), (0.5, 0.5))
]


def reference_fit(n, d, loss):
    """scipy's L-BFGS-B from each of MANY_STARTS, the best then polished to rounding level."""
    from scipy.optimize import minimize

    args = (np.log(n), np.log(d), np.log(loss), 1e-3)
    ends = [
        minimize(huber_objective_and_gradient, start, args=args, jac=True, method="L-BFGS-B")
        for start in MANY_STARTS
    ]
    best = min(ends, key=lambda end: end.fun)
    return scipy_fit(n, d, loss, starts=(best.x,))


def by_hand_mask(name, n, d):
    """The split rule as the docs state it: a cut at a fraction of the range of log C (or log N)."""
    if name == "largest":
        return n < n.max() / 1.05
    kind, fraction = name.split(":")
    values = np.log(6 * n * d) if kind == "compute" else np.log(n)
    return values <= values.min() + float(fraction) * (values.max() - values.min())


def law_of(x):
    a, b, e, alpha, beta = x
    return math.exp(e), math.exp(a), math.exp(b), alpha, beta


def n_opt(params, C):
    _, A, B, alpha, beta = params
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


@pytest.fixture(scope="module")
def chinchilla_backtest(chinchilla_240):
    return backtest(*chinchilla_240, n_resamples=200, seed=0)


@pytest.fixture(scope="module")
def gadre_backtest():
    # The 4 small sizes and 1B fitted, the 7B predicted (and 1B too, by "size:0.7"), as in the paper.
    return backtest(*gadre_ladder(), splits=[*DEFAULT_SPLITS, "size:0.7"], n_resamples=200, seed=0)


def check_against_an_independent_computation(runs, result):
    """Each split's numbers from scipy fits (16 starts) of its training runs and arithmetic by hand."""
    n, d, loss = runs
    full = law_of(reference_fit(n, d, loss).x)
    for split in result.splits:
        train = by_hand_mask(split.name, n, d)
        assert np.array_equal(split.train, train)
        reference = reference_fit(n[train], d[train], loss[train])
        assert split.fit.objective == pytest.approx(reference.fun, rel=1e-6)
        E, A, B, alpha, beta = law_of(reference.x)
        held = ~train
        predicted = E + A * n[held] ** -alpha + B * d[held] ** -beta
        error = (predicted - loss[held]) / loss[held]
        assert split.n_train == train.sum() and split.n_heldout == held.sum()
        assert split.are_mean == pytest.approx(np.abs(error).mean(), rel=1e-4)
        assert split.are_max == pytest.approx(np.abs(error).max(), rel=1e-4)
        assert split.signed_mean == pytest.approx(error.mean(), rel=1e-3, abs=1e-7)
        inside = (split.low <= loss[held]) & (loss[held] <= split.high)
        assert split.coverage == inside.mean()
        assert np.all((split.low < predicted) & (predicted < split.high))
        c = 6 * n * d
        assert split.extrapolation == pytest.approx(c[held].max() / c[train].max(), rel=1e-12)
        plan = split.plans[0]
        assert plan.C == scalinglaw.GOPHER_FLOPS
        assert plan.drift == pytest.approx(
            n_opt((E, A, B, alpha, beta), plan.C) / n_opt(full, plan.C), rel=1e-3
        )
        low, high = plan.N_opt_interval
        assert plan.full_inside == (low <= n_opt(full, plan.C) <= high)


def test_every_split_equals_an_independent_computation(chinchilla_240, chinchilla_backtest):
    assert [split.name for split in chinchilla_backtest.splits] == list(DEFAULT_SPLITS)
    check_against_an_independent_computation(chinchilla_240, chinchilla_backtest)


def test_gadres_ladder_equals_an_independent_computation(gadre_backtest):
    assert [split.n_heldout for split in gadre_backtest.splits][-2:] == [1, 3]  # the 7B; the 1Bs and 7B
    check_against_an_independent_computation(gadre_ladder(), gadre_backtest)


def test_predictive_intervals_cover_the_public_ladders_held_out_runs(chinchilla_backtest, gadre_backtest):
    # The bar: 95% intervals cover 85% to 99.5% of held-out runs of realistic ladders (pooled;
    # the parameter-only intervals covered 12-79%).
    splits = [*chinchilla_backtest.splits, *gadre_backtest.splits]
    covered = sum(split.coverage * split.n_heldout for split in splits)
    held = sum(split.n_heldout for split in splits)
    assert 0.85 <= covered / held <= 0.995, (covered, held)
    for result in (chinchilla_backtest, gadre_backtest):
        held = sum(split.n_heldout for split in result.splits)
        assert sum(split.coverage * split.n_heldout for split in result.splits) / held >= 0.85


def test_lower_compute_fits_drift_from_the_full_plan(chinchilla_backtest):
    # The case: a fit of the lower budgets plans far fewer tokens per parameter at Gopher's
    # budget than the full data, and its interval does not hold the full-data plan.
    half = chinchilla_backtest.splits[0].plans[0]
    assert half.tokens_per_parameter < 0.5 * half.tokens_per_parameter_full
    assert not half.full_inside


def law_true_ladder(seed):
    return synthetic_ladder(seed, steps=10)


def test_predictive_intervals_cover_held_out_runs_where_the_law_is_true():
    covered = held = 0
    for seed in range(3):
        result = backtest(*law_true_ladder(seed), n_resamples=200, seed=seed)
        for split in result.splits:
            covered += round(split.coverage * split.n_heldout)
            held += split.n_heldout
    assert 0.85 <= covered / held <= 0.995, (covered, held)


def test_json_is_valid_and_complete(chinchilla_backtest):
    record = json.loads(json.dumps(chinchilla_backtest.to_dict(), allow_nan=False))
    first = record["splits"][0]
    assert first["name"] == "compute:0.5"
    assert len(first["heldout"]) == first["n_heldout"]
    assert set(first["plans"][0]) >= {"C", "N_opt", "N_opt_full", "N_opt_interval", "drift", "full_inside"}
    # The law's error grows as it extrapolates on the Chinchilla data: the intervals say by how much.
    assert first["intervals"]["growth"] > 0 and 0 < first["intervals"]["scale"] < 0.02


def test_compare_ranks_settings_by_held_out_error(chinchilla_240):
    ranked = compare(
        {"delta=1e-3": {}, "delta=0.1": {"delta": 0.1}},
        *chinchilla_240,
        splits=["compute:0.5", "size:0.5"],
        n_resamples=50,
    )
    assert {label for label, _ in ranked} == {"delta=1e-3", "delta=0.1"}
    assert ranked[0][1].are_mean <= ranked[1][1].are_mean
    assert dict(ranked)["delta=0.1"].settings == {"delta": 0.1}


def test_a_split_with_too_few_runs_is_skipped_with_its_reason(chinchilla_240):
    result = backtest(*chinchilla_240, splits=["compute:0.01", "largest"], n_resamples=20)
    assert [split.name for split in result.splits] == ["largest"]
    assert "runs to fit" in result.skipped["compute:0.01"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"splits": ["time:0.5"]}, "split 'time:0.5' is not one of"),
        ({"splits": ["compute:1.5"]}, "is not one of"),
        ({"splits": ["compute:1.0"]}, "between 0 and 1"),
        ({"splits": []}, "non-empty list"),
        ({"splits": "largest"}, "non-empty list"),
        ({"n_resamples": 1}, "n_resamples must be >= 2"),
        ({"confidence": 1.0}, "confidence must be between 0 and 1"),
        ({"budgets": [-1.0]}, "budget"),
    ],
)
def test_bad_arguments(chinchilla_240, kwargs, match):
    with pytest.raises(ValueError, match=match):
        backtest(*chinchilla_240, **kwargs)
