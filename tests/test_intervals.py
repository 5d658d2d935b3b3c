"""BootstrapResult.predict_interval: shapes, arguments, every law, and coverage where the law is true
(coverage on public ladders' held-out runs: tests/test_backtest.py)."""

import math
import sys

import numpy as np
import pytest
import scalinglaw
from conftest import LADDER_LAW, synthetic_ladder

LAW = LADDER_LAW


@pytest.fixture(scope="module")
def boot():
    return scalinglaw.bootstrap(*synthetic_ladder(), n_resamples=300, seed=0)


def test_scalars_give_floats_and_arrays_broadcast(boot):
    low, high = boot.predict_interval(1e9, 2e10)
    assert type(low) is float and type(high) is float
    assert low < float(boot.estimate.predict(1e9, 2e10)) < high
    lows, highs = boot.predict_interval([1e8, 1e9, 1e10], 2e10)
    assert lows.shape == highs.shape == (3,)
    assert lows[1] == pytest.approx(low, rel=1e-12) and highs[1] == pytest.approx(high, rel=1e-12)
    grid_low, _ = boot.predict_interval(np.array([[1e8], [1e9]]), np.array([1e10, 2e10, 4e10]))
    assert grid_low.shape == (2, 3) and grid_low[1, 1] == pytest.approx(low, rel=1e-12)


def test_confidence_defaults_to_the_bootstraps_and_widens_the_interval(boot):
    assert boot.predict_interval(1e9, 2e10) == boot.predict_interval(1e9, 2e10, confidence=0.95)
    narrow = boot.predict_interval(1e9, 2e10, confidence=0.5)
    wide = boot.predict_interval(1e9, 2e10, confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, math.nan, True, "0.9"])
def test_bad_confidence_is_refused(boot, bad):
    with pytest.raises(ValueError, match="confidence"):
        boot.predict_interval(1e9, 2e10, confidence=bad)


def test_bad_runs_are_refused(boot):
    with pytest.raises(ValueError, match=r"N\[1\] = -1.0"):
        boot.predict_interval([1e9, -1.0], 2e10)
    with pytest.raises(ValueError, match="broadcast"):
        boot.predict_interval([1e9, 2e9], [1e10, 2e10, 3e10])


def test_intervals_widen_with_extrapolation(boot):
    # Relative width at the ladder's largest budget, then 10x and 100x past it, along the frontier.
    budgets = np.array([1e21, 1e22, 1e23])
    plan = boot.estimate.compute_optimal(budgets)
    low, high = boot.predict_interval(plan.N, plan.D)
    width = np.log(high / low)
    assert width[0] < width[1] < width[2]


def test_fresh_runs_where_the_law_is_true_are_covered_about_as_often_as_promised(boot):
    # New runs at the ladder's own points (new noise): the 95% intervals should hold about 95% of them.
    n, d, _ = synthetic_ladder()
    rng = np.random.default_rng(1)
    fresh = LAW.predict(n, d)[None, :] * np.exp(rng.normal(0.0, 0.01, (40, n.size)))
    low, high = boot.predict_interval(n, d)
    covered = float(((low <= fresh) & (fresh <= high)).mean())
    assert 0.9 <= covered <= 0.99, covered


def test_every_law():
    kaplan = scalinglaw.law.Kaplan(N_c=8.8e13, D_c=5.4e13, alpha_N=0.076, alpha_D=0.095)
    n, d, loss = synthetic_ladder(law=kaplan, noise=0.005)
    start = [[math.log(8e13), math.log(5e13), 0.08, 0.1]]
    fitted = scalinglaw.fit(n, d, loss, law="kaplan", starts=start)
    boot = scalinglaw.bootstrap(n, d, loss, law="kaplan", estimate=fitted, n_resamples=100, seed=0)
    low, high = boot.predict_interval(1e9, 2e10)
    assert low < float(fitted.predict(1e9, 2e10)) < high
    tied = scalinglaw.bootstrap(*synthetic_ladder(), tied=[("alpha", "beta")], n_resamples=100, seed=0)
    low, high = tied.predict_interval([1e9, 1e11], 2e10)
    assert np.all(low < tied.estimate.predict([1e9, 1e11], 2e10)) and np.all(high > low)


def test_a_single_resample_gives_no_interval():
    with pytest.warns(scalinglaw.BootstrapWarning, match="fewer than 2 usable samples"):
        single = scalinglaw.bootstrap(*synthetic_ladder(), n_resamples=1, seed=0)
    with pytest.raises(ValueError, match="fewer than 2 converged resamples"):
        single.predict_interval(1e9, 2e10)


def table_reference(boot):
    """The out-of-bag residuals and parameter variance from the whole (resamples, runs) tables, as
    intervals.py computed them before it streamed over the resamples: the reference it must equal."""
    usable = boot.status == "converged"
    names = boot.estimate.law.names()
    runs = boot.runs
    log_predicted = np.log(
        np.stack(
            [
                type(boot.estimate.law)(*(boot.samples[k][r] for k in names)).predict(runs.N, runs.D)
                for r in np.flatnonzero(usable)
            ]
        )
    )
    indices = np.stack([boot.resample_indices(k) for k in np.flatnonzero(usable)])
    drawn = np.zeros(log_predicted.shape, dtype=bool)
    drawn[np.repeat(np.arange(len(indices)), indices.shape[1]), indices.ravel()] = True
    count = (~drawn).sum(axis=0)
    seen = count > 0
    total = np.where(~drawn, log_predicted, 0.0).sum(axis=0)
    residuals = np.log(runs.loss[seen]) - total[seen] / count[seen]
    return log_predicted.var(axis=0, ddof=1), residuals, seen


@pytest.mark.parametrize("given", [False, True])
def test_out_of_bag_streamed_over_resamples_equals_the_whole_tables(boot, given):
    from scalinglaw import intervals

    if given:  # resamples given by indices=, e.g. Epoch's
        n, d, loss = synthetic_ladder()
        rows = np.random.default_rng(3).integers(0, n.size, (40, n.size))
        boot = scalinglaw.bootstrap(n, d, loss, indices=rows, n_resamples=40, tied=[("alpha", "beta")])
    variance, residuals, seen = table_reference(boot)
    usable = boot.status == "converged"
    params = np.column_stack([boot.samples[k][usable] for k in boot.estimate.law.names()])
    streamed = intervals.out_of_bag(
        type(boot.estimate.law), params, (boot.resample_indices(k) for k in np.flatnonzero(usable)), boot.runs
    )
    np.testing.assert_array_equal(streamed[0], variance)
    np.testing.assert_array_equal(streamed[1], residuals)
    np.testing.assert_array_equal(streamed[2], seen)
    assert 0 < seen.sum() and residuals.size == seen.sum()


def test_the_out_of_bag_residuals_hold_no_table_of_resamples():
    # 20000 runs, 200 resamples: their tables would hold 32 MB of indices and 32 MB of predictions.
    import tracemalloc

    from scalinglaw import intervals

    rng = np.random.default_rng(0)
    n = np.exp(rng.uniform(np.log(1e7), np.log(1e9), 20000))
    d = 20 * n * np.exp(rng.uniform(-1, 1, n.size))
    runs = intervals.FittedRuns(n, d, LAW.predict(n, d) * np.exp(rng.normal(0, 0.01, n.size)))
    params = np.array([[1.8, 480.0, 2100.0, 0.35, 0.37]]) * np.exp(rng.normal(0, 0.01, (200, 5)))
    resamples = (scalinglaw.resample_indices(n.size, 0, k) for k in range(200))
    tracemalloc.start()
    variance, residuals, seen = intervals.out_of_bag(scalinglaw.Law, params, resamples, runs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4e6, peak  # a few arrays of 20000 numbers, not 200 x 20000
    assert seen.all() and np.all(variance > 0) and np.isfinite(residuals).all()


def test_a_grouped_bootstrap_gives_intervals(monkeypatch):
    # Its resamples differ in length (whole groups of runs): regenerated one at a time, no table.
    def refused(*args, **kwargs):
        raise AssertionError("the (resamples, runs) index table was built")

    monkeypatch.setattr(sys.modules["scalinglaw.bootstrap"], "bootstrap_indices", refused)
    plain = scalinglaw.bootstrap(*synthetic_ladder(), n_resamples=50, seed=0)
    assert plain.scatter.inside.size > 0
    grouped = scalinglaw.bootstrap(*synthetic_ladder(), n_resamples=100, seed=0, groups="N")
    low, high = grouped.predict_interval(1e9, 2e10)
    assert low < float(grouped.estimate.predict(1e9, 2e10)) < high
    assert grouped.scatter.inside.size > 0
