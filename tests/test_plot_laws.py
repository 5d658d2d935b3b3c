"""Figure 4 of the laws beside Chinchilla's: Kaplan et al.'s and the data-constrained law (at U_D = D,
or under a unique-token budget). What is drawn is checked against the law's own values: every contour
point lies at its level's loss, the frontier is the law's compute-optimal N (and the minimum of a scan
along each budget), each budget's curve is the law along C = 6 N D."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import scalinglaw
from matplotlib.contour import ContourSet
from scalinglaw import GOPHER_FLOPS, DataConstrained, Kaplan
from scalinglaw.cli import main
from scalinglaw.plot import draw_isoflop, draw_isoloss, figure4, save_figure4

matplotlib.use("Agg")

KAPLAN = Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)  # Kaplan et al. (2020)
BASE = {  # Muennighoff et al.'s (2023) C4 fit
    "E": math.exp(0.6254804),
    "A": math.exp(6.255414),
    "B": math.exp(7.3049974),
    "alpha": 0.3526596,
    "beta": 0.3526596,
}
REPEATED = DataConstrained(**BASE, R_D=15.387756, R_N=5.309743)
UNIQUE = 2e10  # unique tokens: the budgets above ~1e21 FLOPs must repeat them


@pytest.fixture(scope="module")
def runs():
    return scalinglaw.load_chinchilla()


def panels(figure):
    return [ax for ax in figure.axes if ax.get_title() and ax.get_title(loc="left") != "Loss"]


def labelled(lines, label):
    (line,) = [line for line in lines if line.get_label() == label]
    return line


def along(law, n, flops, unique):
    d = flops / (6.0 * n)
    return law.predict(n, d, None if unique is None else np.minimum(d, unique))


def check_contours(ax, law, unique):
    """Every vertex of every drawn contour has the level's loss, by the law's own predict."""
    (contours,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    checked = 0
    for level, path in zip(contours.levels, contours.get_paths()):
        if len(path.vertices) == 0:
            continue
        flops, n = path.vertices[:, 0], path.vertices[:, 1]
        np.testing.assert_allclose(along(law, n, flops, unique), level, rtol=2e-3)
        checked += 1
    assert checked >= 5


def check_frontier(ax, law, unique):
    """The drawn frontier is the law's compute-optimal N, and the loss there is the lowest of a scan of
    model sizes along the budget."""
    frontier = labelled(ax.get_lines(), "Efficient frontier")
    flops, n = frontier.get_xdata(), frontier.get_ydata()
    np.testing.assert_array_equal(n, law.compute_optimal(flops, unique_tokens=unique).N)
    for k in np.linspace(0, len(flops) - 1, 7).astype(int):
        sizes = n[k] * np.geomspace(0.2, 5.0, 4001)
        scan = along(law, sizes, flops[k], unique)
        assert float(along(law, n[k], flops[k], unique)) <= scan.min() * (1 + 1e-9)
        assert n[k] == pytest.approx(sizes[np.argmin(scan)], rel=2e-3)


def check_budget_curves(ax, law, unique, budgets):
    for label, flops in budgets.items():
        curve = labelled(ax.get_lines(), label)
        np.testing.assert_array_equal(curve.get_ydata(), along(law, curve.get_xdata(), flops, unique))


@pytest.mark.parametrize(
    ("law", "unique", "title"),
    [
        (KAPLAN, None, "Kaplan et al.'s law"),
        (REPEATED, None, "data-constrained law, U_D = D"),
        (REPEATED, UNIQUE, "data-constrained law, U_D = min(D, 20B)"),
    ],
)
def test_figure4_draws_the_laws_own_contours_frontier_and_slices(runs, law, unique, title):
    figure = figure4(law, runs, unique_token_budget=unique)
    left, right = panels(figure)
    assert left.get_title() == f"IsoLoss contours\n{title}"
    assert right.get_title() == f"IsoFLOPs slices\n{title}"
    check_contours(left, law, unique)
    check_frontier(left, law, unique)
    budgets = {f"{c:.0e}".replace("e+", "e"): c for c in runs.budgets}
    check_budget_curves(right, law, unique, {**budgets, "Gopher": GOPHER_FLOPS})


def test_a_unique_token_budget_moves_the_frontier_where_data_must_repeat(runs):
    free = labelled(panels(figure4(REPEATED, runs))[0].get_lines(), "Efficient frontier")
    bound = labelled(
        panels(figure4(REPEATED, runs, unique_token_budget=UNIQUE))[0].get_lines(), "Efficient frontier"
    )
    flops = free.get_xdata()
    np.testing.assert_array_equal(flops, bound.get_xdata())
    # Below the budget that trains the optimal model on UNIQUE tokens nothing repeats: the same
    # frontier; above it, repeated tokens are worth less, so the optimum moves to larger models.
    short = REPEATED.compute_optimal(flops).D < UNIQUE
    assert short.any() and (~short).any()
    np.testing.assert_allclose(bound.get_ydata()[short], free.get_ydata()[short], rtol=1e-6)
    long = ~short & (flops > 2 * flops[~short][0])
    assert (bound.get_ydata()[long] < free.get_ydata()[long] * 0.99).all()


def test_a_fitted_kaplan_law_with_its_bootstrap_band(runs):
    starts = scalinglaw.law_default_starts("kaplan")[::20]  # a few of the 400: this tests the figure
    result = scalinglaw.fit(data=runs, law="kaplan", starts=starts)
    resampled = scalinglaw.bootstrap(*runs, estimate=result, law="kaplan", n_resamples=20, seed=1)
    left, _ = panels(figure4(result, runs, bootstrap=resampled))
    check_frontier(left, result.law, None)
    (band,) = [c for c in left.collections if "bootstrap interval" in str(c.get_label())]
    # The band's edges at each C: the percentiles of N_opt = G (C/6)^a over the resamples.
    flops = labelled(left.get_lines(), "Efficient frontier").get_xdata()
    edges = band.get_paths()[0].vertices
    usable = resampled.status == "converged"
    n_opt = resampled.samples["G"][usable, None] * (flops / 6.0) ** resampled.samples["a"][usable, None]
    low, high = np.percentile(n_opt, [2.5, 97.5], axis=0)
    inside = (low > left.get_ylim()[0]) & (high < left.get_ylim()[1])
    for edge in (low[inside], high[inside]):
        assert np.isclose(edge[:, None], edges[:, 1][None, :], rtol=1e-9).any(axis=1).all()


@pytest.mark.parametrize("draw", [draw_isoloss, draw_isoflop])
def test_each_panel_alone_takes_the_unique_token_budget(runs, draw):
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    draw(ax, REPEATED, runs, unique_token_budget=UNIQUE)
    assert ax.get_title().endswith("U_D = min(D, 20B)")


@pytest.mark.parametrize(
    ("law", "options", "message"),
    [
        (KAPLAN, {"unique_token_budget": 1e10}, "the kaplan law does not depend on unique tokens"),
        (REPEATED, {"unique_token_budget": -1.0}, "unique_token_budget"),
        (REPEATED, {"unique_token_budget": math.nan}, "unique_token_budget"),
        (REPEATED, {"unique_token_budget": 1e10, "bootstrap": object()}, "band is the frontier's at U_D = D"),
    ],
)
def test_bad_unique_token_budgets_are_value_errors(runs, law, options, message):
    with pytest.raises(ValueError, match=message):
        figure4(law, runs, **options)


def test_save_figure4_passes_the_unique_token_budget(tmp_path, runs):
    figure = save_figure4(tmp_path / "f.png", REPEATED, runs, unique_token_budget=UNIQUE)
    assert (tmp_path / "f.png").stat().st_size > 0
    assert panels(figure)[0].get_title().endswith("U_D = min(D, 20B)")


def test_cli_draws_the_data_constrained_law_under_a_unique_token_budget(tmp_path, capsys):
    source = Path(__file__).resolve().parent / "data" / "muennighoff_c4.csv"
    fixed = [arg for name, value in BASE.items() for arg in ("--fix", f"{name}={value!r}")]
    path = tmp_path / "figure.svg"
    argv = ["fit", str(source), "--law", "data_constrained", *fixed, "--bootstrap", "0", "--plot", str(path)]
    assert main([*argv, "--unique-token-budget", "2e10", "--figsize", "7", "2.8"]) == 0
    assert "min(D, 20B)" in path.read_text()


@pytest.mark.parametrize(("law", "unique"), [(KAPLAN, None), (REPEATED, UNIQUE)])
@pytest.mark.parametrize("size", [(7.0, 2.8), (13.0, 5.2)])
def test_the_laws_titles_collide_with_no_label(runs, law, unique, size):
    from test_plot import assert_no_text_collides

    assert_no_text_collides(figure4(law, runs, figsize=size, unique_token_budget=unique))
