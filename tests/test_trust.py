"""Plans that warn when they should not be believed, and stay clean when they should."""

import numpy as np
import pytest
import scalinglaw
from conftest import gadre_ladder
from scalinglaw.trust import DataRange, check_plans

LAW = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)


def clean_ladder(seed=0):
    """5 sizes x 6 budgets up to 3.3e22 FLOPs, 0.5% noise: a plan at 1e23 is 3x past the largest run."""
    rng = np.random.default_rng(seed)
    sizes, budgets = np.geomspace(1.5e8, 1.2e10, 5), np.geomspace(3.3e19, 3.3e22, 6)
    n, c = (grid.ravel() for grid in np.meshgrid(sizes, budgets))
    d = c / (6 * n)
    keep = (d / n > 2) & (d / n < 400)
    n, d = n[keep], d[keep]
    return n, d, LAW.predict(n, d) * np.exp(rng.normal(0.0, 0.005, n.size))


def checks_for(n, d, loss, budget=1e23, resamples=300):
    fitted = scalinglaw.fit(data=scalinglaw.Runs(n, d, loss))  # keeps the runs: sensitivity() refits them
    boot = scalinglaw.bootstrap(n, d, loss, n_resamples=resamples, seed=0, estimate=fitted, budgets=[budget])
    return check_plans(
        fitted,
        DataRange.of(n, d),
        [budget],
        intervals=boot.interval["N_opt"],
        sensitivity=fitted.sensitivity(),
    )[0]


@pytest.mark.parametrize("seed", range(3))
def test_a_clean_ladder_supports_its_plan(seed):
    n, d, loss = clean_ladder(seed)
    check = checks_for(n, d, loss)
    assert 2.5 < check.extrapolation < 3.5 and check.inside_tokens_range
    assert check.warnings == ()


def test_chinchilla_fitted_up_to_1e20_warns_at_1e23(chinchilla_240):
    # The case: fitting the budgets up to 1e20 plans 5 tokens/param at 1e23 instead of 19.
    n, d, loss = chinchilla_240
    low = 6 * n * d <= 1e20
    check = checks_for(n[low], d[low], loss[low])
    assert check.extrapolation > 100
    assert any("far outside the data" in warning for warning in check.warnings)


def test_a_ladder_without_its_largest_size_warns_at_1e23():
    # The issue's case: Gadre's ladder up to 1B (5 sizes) without its largest size; the 4 small sizes'
    # plan at 1e23 is 154x past their largest run, its interval spans more than an order of magnitude.
    n, d, loss = gadre_ladder()
    small = n < 1e9
    check = checks_for(n[small], d[small], loss[small])
    assert check.extrapolation > 100
    assert any("spans a factor" in warning for warning in check.warnings)
    assert any("far outside the data" in warning for warning in check.warnings)


def test_the_lower_half_of_a_ladders_budgets_warns_at_1e23():
    # The case: fitting the lower half of the budgets (in log C) moves the plan at 1e23 from a
    # few tokens per parameter to thousands.
    n, d, loss = gadre_ladder()
    c = np.log(6 * n * d)
    low = c <= (c.min() + c.max()) / 2
    check = checks_for(n[low], d[low], loss[low])
    assert check.tokens_per_parameter > 1000 and not check.inside_tokens_range
    assert len(check.warnings) >= 3


def test_gopher_plan_of_the_built_in_data_is_labelled_not_warned(chinchilla_240, fit_240):
    check = checks_for(*chinchilla_240, budget=scalinglaw.GOPHER_FLOPS)
    assert check.extrapolation == pytest.approx(44.5, abs=0.1)
    assert check.warnings == ()
    far = checks_for(*chinchilla_240, budget=3.8e25)
    assert any("2.93e+03x the largest run" in warning for warning in far.warnings)


def test_each_rule_fires_on_its_own():
    n, d, _ = clean_ladder()
    data = DataRange.of(n, d)
    (wide,) = check_plans(LAW, data, [1e22], intervals=[[1e9, 2e10]])
    assert len(wide.warnings) == 1 and "spans a factor 20" in wide.warnings[0]
    plan = LAW.compute_optimal(1e22)
    tpp = float(plan.tokens_per_parameter)
    narrow = DataRange(N=data.N, D=data.D, C=data.C, tokens_per_parameter=(2 * tpp, 4 * tpp))
    (outside,) = check_plans(LAW, narrow, [1e22])
    assert len(outside.warnings) == 1 and "outside the runs' range" in outside.warnings[0]
    other = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.30, beta=0.37)
    (moved,) = check_plans(LAW, data, [1e22], sensitivity={"alpha = 0.30": other})
    ratio = float(other.compute_optimal(1e22).N) / float(plan.N)
    assert moved.sensitivity["alpha = 0.30"] == pytest.approx(ratio)
    assert ratio > 2 and len(moved.warnings) == 1 and "moves by a factor" in moved.warnings[0]
    close = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.345, beta=0.37)
    (steady,) = check_plans(LAW, data, [1e22], sensitivity={"alpha = 0.345": close})
    assert steady.warnings == ()
