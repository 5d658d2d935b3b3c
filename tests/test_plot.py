"""Figure 4's structure: panels, scales, labels, legend entries, one curve per budget, colour
bar; with a bootstrap, the frontier's band; with Approach 2, the parabola minima."""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pytest
import scalinglaw
from scalinglaw.plot import draw_isoflop, draw_isoloss, figure4, save_figure4

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def drawn(fit_240):
    everything = scalinglaw.load_chinchilla(epoch_exclusion=False)
    kept, excluded = everything.split_highest_loss(5)
    return figure4(fit_240, kept, excluded=excluded), kept, excluded


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_two_panels_with_the_papers_titles_and_log_scales(drawn):
    figure, _, _ = drawn
    left, right = [ax for ax in figure.axes if ax.get_title()]
    assert left.get_title() == "IsoLoss contours" and right.get_title() == "IsoFLOPs slices"
    assert (left.get_xscale(), left.get_yscale()) == ("log", "log")
    assert right.get_xscale() == "log"
    assert (left.get_xlabel(), left.get_ylabel()) == ("Training FLOPs", "Model size")
    assert (right.get_xlabel(), right.get_ylabel()) == ("Model size", "Loss")


def test_left_panel_has_contours_runs_frontier_slices_and_gopher(drawn, fit_240):
    figure, kept, _ = drawn
    left = figure.axes[0]
    assert {
        "Empirical data",
        "Efficient frontier",
        "IsoFLOPs slice",
        "Gopher budget",
        "Excluded from fit",
    } <= set(legend_texts(left))
    from matplotlib.contour import ContourSet

    contours = [c for c in left.collections if isinstance(c, ContourSet)]
    assert len(contours) == 1 and len(contours[0].levels) >= 10
    # nine dashed slice lines at the nine budgets, plus the Gopher budget line
    verticals = sorted({line.get_xdata()[0] for line in left.get_lines() if line.get_linestyle() == "--"})
    np.testing.assert_allclose(verticals, kept.budgets)
    gopher = [line for line in left.get_lines() if line.get_label() == "Gopher budget"]
    assert gopher[0].get_xdata()[0] == scalinglaw.GOPHER_FLOPS
    # the frontier line is the closed form
    frontier = next(line for line in left.get_lines() if line.get_label() == "Efficient frontier")
    c, n = frontier.get_data()
    np.testing.assert_allclose(n, fit_240.compute_optimal(c).N, rtol=1e-12)
    assert any(t.get_text() == "73.2B" for t in left.texts)


def test_colour_bar_is_labelled_loss_on_a_log_scale(drawn):
    figure, _, _ = drawn
    bars = [ax for ax in figure.axes if ax.get_ylabel() == "Loss" and not ax.get_title()]
    assert len(bars) == 1
    assert bars[0].get_yscale() == "log"


def test_right_panel_has_one_dashed_curve_per_budget_plus_gopher(drawn, fit_240):
    figure, _, _ = drawn
    right = figure.axes[1]
    labels = legend_texts(right)
    assert labels[:9] == ["6e18", "1e19", "3e19", "6e19", "1e20", "3e20", "6e20", "1e21", "3e21"]
    assert "Gopher" in labels and "Excluded from fit" in labels
    assert right.get_legend().get_title().get_text() == "Train. FLOPs"
    curves = [line for line in right.get_lines() if line.get_linestyle() == "--"]
    assert len(curves) == 10
    n, loss = curves[0].get_data()  # the 6e18 curve is the law along C = 6e18
    np.testing.assert_allclose(loss, fit_240.predict(n, 6e18 / (6 * n)), rtol=1e-12)


def test_axis_ranges_follow_the_data():
    law = scalinglaw.Law(E=1.7, A=400.0, B=400.0, alpha=0.34, beta=0.28)
    n, c = np.meshgrid(np.geomspace(1e5, 1e6, 4), [1e14, 1e15, 1e16])
    d = c.ravel() / (6 * n.ravel())
    runs = scalinglaw.Runs(n.ravel(), d, law.predict(n.ravel(), d))
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    draw_isoflop(ax, law, runs)
    low, high = ax.get_xlim()
    assert low <= 1e5 and high >= 1e6 and high < 1e12  # not the Chinchilla range
    assert len([line for line in ax.get_lines() if line.get_linestyle() == "--"]) == 4


@pytest.mark.parametrize("extension", ["png", "pdf", "svg"])
def test_saved_in_the_format_of_the_extension(tmp_path, fit_240, extension):
    runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
    path = tmp_path / f"figure4.{extension}"
    save_figure4(path, fit_240, runs)
    head = path.read_bytes()[:8]
    assert {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}[extension] in head


def test_unknown_extension_is_refused(tmp_path, fit_240):
    with pytest.raises(ValueError, match=r"\.png, \.pdf or \.svg"):
        save_figure4(tmp_path / "figure.jpeg", fit_240, scalinglaw.load_chinchilla())


# --- Figure 4 with a bootstrap (left: frontier band) and Approach 2 (right: parabola minima) ---

BAND_LABEL = "Frontier, 95% bootstrap interval"
MINIMUM_LABEL = "Parabola minimum (Approach 2)"
EXTRAPOLATED_LABEL = "Parabola minimum (extrapolated)"


@pytest.fixture(scope="module")
def epoch_runs():
    return scalinglaw.load_chinchilla(epoch_exclusion=True)


@pytest.fixture(scope="module")
def small_bootstrap(epoch_runs, fit_240):
    with pytest.warns(scalinglaw.BudgetGroupingWarning, match="6 of 240 runs"):
        return scalinglaw.bootstrap(
            *epoch_runs, n_resamples=50, seed=1, isoflop_budgets=epoch_runs.budgets, estimate=fit_240
        )


@pytest.fixture(scope="module")
def approach2_240(epoch_runs):
    with pytest.warns(scalinglaw.BudgetGroupingWarning, match="6 of 240 runs"):
        return scalinglaw.approach2(*epoch_runs, budgets=epoch_runs.budgets)


@pytest.fixture(scope="module")
def drawn_with_both(fit_240, epoch_runs, small_bootstrap, approach2_240):
    return figure4(fit_240, epoch_runs, bootstrap=small_bootstrap, approach2=approach2_240)


def labelled(artists, label):
    return [a for a in artists if a.get_label() == label]


def band_edges(band):
    """(C, low, high) of a fill_between polygon: at each C of its edges, the lowest and highest
    N."""
    vertices = np.concatenate([path.vertices for path in band.get_paths()])
    c = np.unique(vertices[:, 0])
    low = np.array([vertices[vertices[:, 0] == x, 1].min() for x in c])
    high = np.array([vertices[vertices[:, 0] == x, 1].max() for x in c])
    return c, low, high


def percentile_band(bootstrap, c):
    """Written out here: N_opt = G (C/6)^a per usable resample, then numpy's percentiles."""
    g, a = bootstrap.samples["G"], bootstrap.samples["a"]
    keep = (bootstrap.status == "converged") & np.isfinite(g) & np.isfinite(a)
    n_opt = g[keep][:, None] * (np.asarray(c)[None, :] / 6.0) ** a[keep][:, None]
    return np.percentile(n_opt, [2.5, 97.5], axis=0)


def test_left_panel_band_is_the_percentile_interval_of_the_frontier(drawn_with_both, small_bootstrap):
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb

    left = drawn_with_both.axes[0]
    assert BAND_LABEL in legend_texts(left)
    bands = labelled(left.collections, BAND_LABEL)
    assert len(bands) == 1 and isinstance(bands[0], PolyCollection)
    np.testing.assert_allclose(bands[0].get_facecolor()[0][:3], to_rgb("tab:blue"))
    assert 0 < bands[0].get_facecolor()[0][3] < 0.5  # translucent

    c, low, high = band_edges(bands[0])
    frontier = labelled(left.get_lines(), "Efficient frontier")[0]
    np.testing.assert_array_equal(c, frontier.get_xdata())  # along the frontier's C axis
    pick = [0, len(c) // 5, len(c) // 2, 4 * len(c) // 5, len(c) - 1]
    expected = np.clip(percentile_band(small_bootstrap, c[pick]), *left.get_ylim())
    np.testing.assert_allclose(low[pick], expected[0], rtol=1e-10)
    np.testing.assert_allclose(high[pick], expected[1], rtol=1e-10)
    assert (high > low).any() and (high >= low).all()


def test_band_at_a_bootstrap_budget_is_the_bootstraps_own_interval(small_bootstrap):
    from scalinglaw.plot import frontier_band

    low, high = frontier_band(small_bootstrap, [scalinglaw.GOPHER_FLOPS])
    np.testing.assert_allclose([low[0], high[0]], small_bootstrap.interval["N_opt"][0], rtol=1e-10)
    with pytest.raises(ValueError, match=r"C\[1\] = -1\.0 is not > 0"):
        frontier_band(small_bootstrap, [1e20, -1.0])


def test_gopher_star_gets_the_bootstraps_interval(drawn_with_both, small_bootstrap):
    from matplotlib.container import ErrorbarContainer
    from scalinglaw.summary import human

    left = drawn_with_both.axes[0]
    bars = [c for c in left.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    (segment,) = bars[0].lines[2][0].get_segments()
    np.testing.assert_allclose(segment[:, 0], scalinglaw.GOPHER_FLOPS)
    np.testing.assert_allclose(sorted(segment[:, 1]), small_bootstrap.interval["N_opt"][0], rtol=1e-12)
    low, high = small_bootstrap.interval["N_opt"][0]
    texts = [t.get_text() for t in left.texts]
    assert "73.2B" in texts and f"95%: {human(low)} to {human(high)}" in texts


def test_no_gopher_error_bar_without_that_budget_in_the_bootstrap(epoch_runs, fit_240):
    from matplotlib.figure import Figure

    other = scalinglaw.bootstrap(*epoch_runs, n_resamples=20, seed=2, budgets=[1e22], estimate=fit_240)
    ax = draw_isoloss(Figure().subplots(), fit_240, epoch_runs, bootstrap=other)
    assert not ax.containers and [t.get_text() for t in ax.texts] == ["73.2B"]
    assert len(labelled(ax.collections, BAND_LABEL)) == 1


def test_a_wide_band_neither_sets_nor_leaves_the_panels_range(epoch_runs, fit_240, small_bootstrap):
    from matplotlib.figure import Figure

    g = small_bootstrap.samples["G"].copy()
    g[::2] *= 1e12  # half the resamples wildly off: the band covers far more than the panel
    g[1::2] /= 1e12
    wide = dataclasses.replace(small_bootstrap, samples={**small_bootstrap.samples, "G": g})
    plain = draw_isoloss(Figure().subplots(), fit_240, epoch_runs)
    ax = draw_isoloss(Figure().subplots(), fit_240, epoch_runs, bootstrap=wide)
    assert ax.get_xlim() == plain.get_xlim() and ax.get_ylim() == plain.get_ylim()
    _, low, high = band_edges(labelled(ax.collections, BAND_LABEL)[0])
    bottom, top = ax.get_ylim()
    np.testing.assert_allclose(low, bottom)  # clipped to the panel, not beyond it
    np.testing.assert_allclose(high, top)


def test_right_panel_marks_each_parabola_minimum_in_its_budgets_colour(drawn_with_both, approach2_240):
    from matplotlib.colors import to_rgba

    right = drawn_with_both.axes[1]
    assert MINIMUM_LABEL in legend_texts(right) and EXTRAPOLATED_LABEL not in legend_texts(right)
    (minima,) = labelled(right.collections, MINIMUM_LABEL)
    used = approach2_240.used
    assert used.sum() == 9 and approach2_240.inside.all()
    np.testing.assert_allclose(
        minima.get_offsets(), np.column_stack([approach2_240.N_opt, approach2_240.loss_opt])[used]
    )
    dashed = {line.get_label(): line for line in right.get_lines() if line.get_linestyle() == "--"}
    for k, colour in zip(np.flatnonzero(used), minima.get_facecolors()):
        budget_curve = dashed[f"{approach2_240.budgets[k]:.0e}".replace("e+", "e")]
        np.testing.assert_allclose(colour, to_rgba(budget_curve.get_color()))
    assert (minima.get_edgecolors()[:, :3] == 0).all()  # black edges


def test_right_panel_draws_each_parabola_over_its_budgets_runs(drawn_with_both, approach2_240, epoch_runs):
    right = drawn_with_both.axes[1]
    parabolas = [line for line in right.get_lines() if line.get_linestyle() == "-"]
    assert len(parabolas) == approach2_240.used.sum()
    # each run's nearest budget, if within 0.3 decades (the grouping the runs.budgets imply)
    distance = np.abs(np.log10(epoch_runs.C)[:, None] - np.log10(approach2_240.budgets)[None, :])
    nearest = np.where(distance.min(axis=1) <= 0.3, distance.argmin(axis=1), -1)
    for k, line in zip(np.flatnonzero(approach2_240.used), parabolas):
        n, loss = line.get_data()
        u = np.log(n) - approach2_240.center[k]
        np.testing.assert_allclose(
            loss, approach2_240.c0[k] + approach2_240.c1[k] * u + approach2_240.c2[k] * u**2, rtol=1e-12
        )
        near = nearest == k
        np.testing.assert_allclose(
            [n[0], n[-1]], [epoch_runs.N[near].min(), epoch_runs.N[near].max()], rtol=1e-12
        )
        assert loss.min() >= approach2_240.loss_opt[k] - 1e-12  # the minimum is the lowest point


def test_a_minimum_outside_its_budgets_runs_is_hollow_and_labelled_extrapolated():
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    law = scalinglaw.Law(E=1.7, A=400.0, B=400.0, alpha=0.34, beta=0.28)
    # 1e16 FLOPs has its optimum near 1e7 parameters: sampled only below it, Approach 2 extrapolates
    n = np.concatenate([np.geomspace(1e5, 1e7, 5), np.geomspace(3e5, 3e7, 5), np.geomspace(1e5, 2e6, 5)])
    c = np.repeat([1e14, 1e15, 1e16], 5)
    runs = scalinglaw.Runs(n, c / (6 * n), law.predict(n, c / (6 * n)), budgets=(1e14, 1e15, 1e16))
    result = scalinglaw.approach2(*runs, budgets=runs.budgets)
    assert list(result.inside) == [True, True, False] and result.N_opt[2] > 2e6

    ax = draw_isoflop(Figure().subplots(), law, runs, approach2=result)
    assert {MINIMUM_LABEL, EXTRAPOLATED_LABEL} <= set(legend_texts(ax))
    (filled,) = labelled(ax.collections, MINIMUM_LABEL)
    (hollow,) = labelled(ax.collections, EXTRAPOLATED_LABEL)
    np.testing.assert_allclose(filled.get_offsets(), np.column_stack([result.N_opt, result.loss_opt])[:2])
    np.testing.assert_allclose(hollow.get_offsets(), [[result.N_opt[2], result.loss_opt[2]]])
    assert len(hollow.get_facecolors()) == 0 or hollow.get_facecolors()[0][3] == 0
    curve = next(line for line in ax.get_lines() if line.get_label() == "1e16")
    np.testing.assert_allclose(hollow.get_edgecolors()[0], to_rgba(curve.get_color()))
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 1  # the parabola continued from the last run to the minimum
    np.testing.assert_allclose(dotted[0].get_xdata()[[0, -1]], [2e6, result.N_opt[2]], rtol=1e-12)


def test_without_bootstrap_or_approach2_nothing_new_is_drawn(drawn, drawn_with_both):
    from matplotlib.collections import PolyCollection

    figure, _, _ = drawn
    left, right = figure.axes[:2]
    assert not [c for c in left.collections if isinstance(c, PolyCollection)]
    assert not left.containers and [t.get_text() for t in left.texts] == ["73.2B"]
    assert not [line for line in right.get_lines() if line.get_linestyle() in ("-", ":")]
    assert not [t for t in legend_texts(left) + legend_texts(right) if "bootstrap" in t or "Parabola" in t]
    # the same figure gains exactly the new entries when both are given
    both_left, both_right = drawn_with_both.axes[:2]
    assert set(legend_texts(both_left)) - set(legend_texts(left)) == {BAND_LABEL}
    assert set(legend_texts(both_right)) - set(legend_texts(right)) == {MINIMUM_LABEL}


def test_bad_bootstrap_or_approach2_is_refused_with_a_clear_message(
    tmp_path, fit_240, epoch_runs, small_bootstrap, approach2_240
):
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    with pytest.raises(ValueError, match=r"bootstrap must be a BootstrapResult .*got dict"):
        draw_isoloss(ax, fit_240, epoch_runs, bootstrap=small_bootstrap.to_dict())
    with pytest.raises(ValueError, match=r"approach2 must be an Approach2Result .*got dict"):
        draw_isoflop(ax, fit_240, epoch_runs, approach2=approach2_240.to_dict())
    with pytest.raises(ValueError, match=r"BootstrapResult \(.*\), got Approach2Result"):
        figure4(fit_240, epoch_runs, bootstrap=approach2_240)
    with pytest.raises(ValueError, match=r"Approach2Result \(.*\), got BootstrapResult"):
        figure4(fit_240, epoch_runs, approach2=small_bootstrap)
    assert not ax.collections and not ax.get_lines()  # refused before drawing

    other_law = scalinglaw.Law(**{**fit_240.params, "A": fit_240.A * 1.1})
    with pytest.raises(ValueError, match=r"bootstrap is of another fit: .* a = 0\.51"):
        figure4(other_law, epoch_runs, bootstrap=small_bootstrap)
    failed = dataclasses.replace(small_bootstrap, status=np.full(50, "max_iterations"))
    with pytest.raises(ValueError, match="0 of 50 resamples with a converged refit"):
        figure4(fit_240, epoch_runs, bootstrap=failed)
    elsewhere = dataclasses.replace(approach2_240, budgets=approach2_240.budgets * 2)
    with pytest.raises(ValueError, match=r"budget 1\.2e\+19 FLOPs is none of the panel's"):
        figure4(fit_240, epoch_runs, approach2=elsewhere)
    path = tmp_path / "figure4.png"
    with pytest.raises(ValueError, match="bootstrap must be a BootstrapResult"):
        save_figure4(path, fit_240, epoch_runs, bootstrap=[1.0])
    assert not path.exists()


def test_saved_with_bootstrap_and_approach2(tmp_path, fit_240, epoch_runs, small_bootstrap, approach2_240):
    path = tmp_path / "figure4.png"
    save_figure4(path, fit_240, epoch_runs, bootstrap=small_bootstrap, approach2=approach2_240)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_minimum_of_a_budget_with_no_slice_is_grey_and_has_no_parabola():
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    # Approach 2 can group runs differently from the panel (nearest budget vs. clusters of C), so
    # a budget it used may have too few runs on the panel for a slice; here made up from a skip.
    law = scalinglaw.Law(E=1.7, A=400.0, B=400.0, alpha=0.34, beta=0.28)
    n = np.concatenate([np.geomspace(1e5, 1e7, 5), np.geomspace(3e5, 3e7, 5), [1e6, 1e7]])
    c = np.repeat([1e14, 1e15, 1e16], [5, 5, 2])
    runs = scalinglaw.Runs(n, c / (6 * n), law.predict(n, c / (6 * n)))
    with pytest.warns(scalinglaw.IsoflopWarning, match="1e\\+16 FLOPs left out"):
        skipped = scalinglaw.approach2(*runs)
    made_up = dataclasses.replace(
        skipped,
        status=("used",) * 3,
        N_opt=np.append(skipped.N_opt[:2], 8e6),
        loss_opt=np.append(skipped.loss_opt[:2], 5.5),
        inside=np.array([True, True, True]),
    )
    ax = draw_isoflop(Figure().subplots(), law, runs, approach2=made_up)
    (minima,) = labelled(ax.collections, MINIMUM_LABEL)
    np.testing.assert_allclose(minima.get_offsets()[2], [8e6, 5.5])
    np.testing.assert_allclose(minima.get_facecolors()[2], to_rgba("0.6"))
    assert len([line for line in ax.get_lines() if line.get_linestyle() == "-"]) == 2
