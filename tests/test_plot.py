"""Figure 4's structure: panels, scales, labels, legend entries, one curve per budget, colour
bar; with a bootstrap, the frontier's band; with Approach 2, the parabola minima."""

from __future__ import annotations

import csv
import dataclasses
import re

import matplotlib
import numpy as np
import pytest
import scalinglaw
from scalinglaw.plot import draw_isoflop, draw_isoloss, figure4, save_figure4

matplotlib.use("Agg")

SLICE_GREEN = "#2ca02c"


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
    from matplotlib.colors import to_hex

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
    # nine green dashed slice lines at the nine budgets, as the paper draws them
    green = [line for line in left.get_lines() if to_hex(line.get_color()) == SLICE_GREEN]
    assert {line.get_linestyle() for line in green} == {"--"}
    np.testing.assert_allclose(sorted(line.get_xdata()[0] for line in green), kept.budgets)
    # the Gopher budget: a black dashed vertical and a dashed horizontal at the optimal size there
    black = [line for line in left.get_lines() if to_hex(line.get_color()) == "#000000"]
    assert {line.get_linestyle() for line in black} == {"--"} and len(black) == 2
    gopher = [line for line in black if line.get_label() == "Gopher budget"]
    assert gopher[0].get_xdata()[0] == scalinglaw.GOPHER_FLOPS
    (horizontal,) = [line for line in black if line is not gopher[0]]
    n_gopher = fit_240.compute_optimal(scalinglaw.GOPHER_FLOPS).N
    np.testing.assert_allclose(horizontal.get_ydata(), [n_gopher, n_gopher], rtol=1e-12)
    assert horizontal.get_xdata()[-1] == scalinglaw.GOPHER_FLOPS
    # the frontier line is the closed form
    frontier = next(line for line in left.get_lines() if line.get_label() == "Efficient frontier")
    c, n = frontier.get_data()
    np.testing.assert_allclose(n, fit_240.compute_optimal(c).N, rtol=1e-12)
    assert any(t.get_text() == "73.2B" for t in left.texts)


def test_one_colour_bar_titled_loss_on_a_log_scale(drawn):
    figure, _, _ = drawn
    bars = [ax for ax in figure.axes if ax.get_title(loc="left") == "Loss"]
    assert len(bars) == 1 and len(figure.axes) == 3
    assert bars[0].get_yscale() == "log"
    assert bars[0].get_ylabel() == ""  # titled above, not beside the right panel's "Loss"


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
    if extension == "pdf":  # TrueType (Type 42) fonts, which venues accept, not Type 3
        body = path.read_bytes()
        assert b"/FontFile2" in body and not re.search(rb"/Subtype\s*/Type3", body)
    if extension == "svg":  # text kept as text, not paths
        assert re.search(r"<text[ >][^<]*Model size", path.read_text())


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


# --- Figure 4 as the paper draws it: ticks, colours, legends, layout, vector output, options ---

PAPER_SIZE = (7.0, 2.8)  # a paper's full width
DEFAULT_SIZE = (13.0, 5.2)


def shipped_colours():
    """(loss, RGB) of every shipped run, read here with the csv module."""
    from conftest import DATA
    from matplotlib.colors import to_rgb

    with DATA.open(newline="") as file:
        rows = list(csv.DictReader(file))
    return np.array([float(r["loss"]) for r in rows]), np.array([to_rgb(r["hex_color"]) for r in rows])


def test_loss_colour_map_is_the_papers(fit_240):
    from matplotlib.colors import LogNorm
    from scalinglaw.plot_style import loss_colormap

    loss, rgb = shipped_colours()
    cmap = loss_colormap()
    # its ends are the colours of the lowest and highest loss in the paper (dark purple, light peach)
    np.testing.assert_allclose(cmap(0.0)[:3], rgb[np.argmin(loss)], atol=1.5 / 255)
    np.testing.assert_allclose(cmap(1.0)[:3], rgb[np.argmax(loss)], atol=1.5 / 255)
    assert sum(cmap(0.0)[:3]) < 0.6 < 2.5 < sum(cmap(1.0)[:3])
    # and every run gets back the colour the paper gave it, on a log scale of its losses
    drawn = cmap(LogNorm(loss.min(), loss.max())(loss))[:, :3]
    assert np.abs(drawn - rgb).max() < 12 / 255 and np.median(np.abs(drawn - rgb)) < 2 / 255


def test_runs_on_both_panels_are_coloured_by_loss_on_the_shared_scale(drawn):
    figure, kept, excluded = drawn
    left, right = figure.axes[:2]
    (runs_left,) = labelled(left.collections, "Empirical data")
    coloured = [c for c in right.collections if c.get_array() is not None]
    assert len(coloured) == 1 and coloured[0].cmap is runs_left.cmap
    assert coloured[0].norm.vmin == runs_left.norm.vmin and coloured[0].norm.vmax == runs_left.norm.vmax
    everything = np.concatenate([kept.loss, excluded.loss])
    assert runs_left.norm.vmin == everything.min() and runs_left.norm.vmax == everything.max()


def test_model_sizes_are_labelled_as_the_paper_does(drawn):
    figure, _, _ = drawn
    left, right = figure.axes[:2]
    figure.draw_without_rendering()
    left_labels = [t.get_text() for t in left.get_yticklabels()]
    right_labels = [t.get_text() for t in right.get_xticklabels()]
    assert {"100M", "1B", "10B", "40B", "100B"} <= set(left_labels)
    assert {"100M", "1B", "10B", "40B"} <= set(right_labels)
    # the left panel spans the paper's 1e18 to 1e23 FLOPs (and the Gopher budget)
    low, high = left.get_xlim()
    assert low == 1e18 and scalinglaw.GOPHER_FLOPS < high < 1e24


def test_contours_are_at_round_losses(drawn):
    from matplotlib.contour import ContourSet

    (contours,) = [c for c in drawn[0].axes[0].collections if isinstance(c, ContourSet)]
    levels = np.asarray(contours.levels)
    np.testing.assert_allclose(levels * 4, np.round(levels * 4))  # steps of 0.25
    assert len(levels) >= 8


def legend_covers(ax, points):
    box = ax.get_legend().get_window_extent()
    xy = ax.transData.transform(points)
    inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
    return int(inside.sum())


def all_data_points(ax):
    """Every scattered point and every vertex of every line of the panel, display-ready."""
    points = [c.get_offsets() for c in ax.collections if hasattr(c, "get_offsets")]
    points = [np.asarray(p) for p in points if len(p)]
    return np.concatenate(points)


@pytest.mark.parametrize("size", [PAPER_SIZE, DEFAULT_SIZE])
@pytest.mark.parametrize("extras", [False, True])
def test_no_legend_covers_a_data_point(size, extras, fit_240, epoch_runs, small_bootstrap, approach2_240):
    everything = scalinglaw.load_chinchilla()
    kept, excluded = everything.split_highest_loss(5)
    if extras:
        figure = figure4(
            fit_240,
            epoch_runs,
            figsize=size,
            bootstrap=small_bootstrap,
            approach2=approach2_240,
            planned=[1e22],
        )
    else:
        figure = figure4(fit_240, kept, excluded=excluded, figsize=size)
    figure.draw_without_rendering()
    for ax in figure.axes[:2]:
        assert legend_covers(ax, all_data_points(ax)) == 0
    if not extras:  # the paper's place for the left legend
        assert figure.axes[0].get_legend()._loc == 4  # lower right


def text_boxes(figure):
    """(text, window box) of every label drawn: titles, axis labels, tick labels in view, the
    panels' texts and legends."""
    figure.draw_without_rendering()
    texts = []
    for ax in figure.axes:
        texts += [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            ticks = [t for t in axis.get_major_ticks() if low <= t.get_loc() <= high]
            texts += [label for t in ticks for label in (t.label1, t.label2) if label.get_visible()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [legend.get_title(), *legend.get_texts()]
    return [(t.get_text(), t.get_window_extent()) for t in texts if t.get_visible() and t.get_text().strip()]


def assert_no_text_collides(figure):
    """No label is cut off at the figure's sides, and no two labels overlap."""
    boxes = text_boxes(figure)
    for i, (text, box) in enumerate(boxes):
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1 + 1, text  # nothing cut off
        for other, other_box in boxes[i + 1 :]:
            assert not box.overlaps(other_box), (text, other)


@pytest.mark.parametrize("size", [PAPER_SIZE, DEFAULT_SIZE])
def test_no_two_labels_collide_and_text_scales_with_the_figure(size, fit_240, epoch_runs, approach2_240):
    figure = figure4(fit_240, epoch_runs, figsize=size, approach2=approach2_240)
    assert_no_text_collides(figure)
    titles = [ax.title.get_fontsize() for ax in figure.axes[:2]]
    if size == PAPER_SIZE:
        assert (
            max(titles) < 11 * 0.7 and min(t.get_fontsize() for t in figure.axes[0].get_yticklabels()) >= 5.5
        )
    else:
        assert min(titles) >= 11


def test_vector_output_keeps_text_and_type42_fonts(tmp_path, fit_240, epoch_runs):
    import matplotlib as mpl

    before = mpl.rcParams["pdf.fonttype"]
    save_figure4(tmp_path / "f.pdf", fit_240, epoch_runs, figsize=PAPER_SIZE)
    assert mpl.rcParams["pdf.fonttype"] == before  # set only while saving
    pdf = (tmp_path / "f.pdf").read_bytes()
    assert not re.search(rb"/Subtype\s*/Type3", pdf) and b"/FontFile2" in pdf  # embedded TrueType
    save_figure4(tmp_path / "f.svg", fit_240, epoch_runs, figsize=PAPER_SIZE)
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", (tmp_path / "f.svg").read_text())
    assert {"IsoLoss contours", "IsoFLOPs slices", "100M", "1B", "73.2B"} <= set(texts)


def test_dpi_sets_the_png_size(tmp_path, fit_240, epoch_runs):
    import struct

    save_figure4(tmp_path / "f.png", fit_240, epoch_runs, figsize=PAPER_SIZE, dpi=100)
    width, height = struct.unpack(">II", (tmp_path / "f.png").read_bytes()[16:24])
    assert (width, height) == (700, 280)


def test_drawing_on_given_axes_with_a_colour_map_levels_and_no_colour_bar(fit_240, epoch_runs):
    from matplotlib.contour import ContourSet
    from matplotlib.figure import Figure

    figure = Figure(figsize=PAPER_SIZE)
    left, right = figure.subplots(1, 2)
    assert figure4(fit_240, epoch_runs, ax=(left, right), cmap="viridis") is figure
    assert left.get_title() == "IsoLoss contours" and right.get_title() == "IsoFLOPs slices"
    assert labelled(left.collections, "Empirical data")[0].cmap.name == "viridis"

    ax = Figure().subplots()
    draw_isoloss(ax, fit_240, epoch_runs, levels=[2.2, 2.5, 3.0], colorbar=False, gopher_flops=None)
    (contours,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    np.testing.assert_allclose(contours.levels, [2.2, 2.5, 3.0])
    assert len(ax.figure.axes) == 1  # no colour bar
    assert "Gopher budget" not in legend_texts(ax) and not ax.texts  # no Gopher marks, no size label
    right = draw_isoflop(Figure().subplots(), fit_240, epoch_runs, gopher_flops=None)
    assert "Gopher" not in legend_texts(right)


def test_runs_as_a_mapping_or_a_sequence(fit_240, epoch_runs):
    from matplotlib.figure import Figure

    n, d, loss = epoch_runs
    for given in ({"N": n, "D": d, "loss": loss}, {"N": n, "C": 6 * n * d, "loss": loss}, (n, d, loss)):
        ax = draw_isoflop(Figure().subplots(), fit_240, given)
        np.testing.assert_allclose(
            np.sort(np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])), np.sort(n), rtol=1e-12
        )


def test_planned_budgets_are_drawn_on_both_panels(fit_240, epoch_runs):
    from scalinglaw.summary import human

    figure = figure4(fit_240, epoch_runs, planned=[1e22, 1e23])
    left, right = figure.axes[:2]
    planned = [line for line in left.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_xdata()[0] for line in planned) == [1e22, 1e23]
    texts = [t.get_text() for t in left.texts]
    assert all(human(float(fit_240.compute_optimal(c).N)) in texts for c in (1e22, 1e23))
    curves = {line.get_label(): line for line in right.get_lines()}
    n, loss = curves["1e22 (planned)"].get_data()
    np.testing.assert_allclose(loss, fit_240.predict(n, 1e22 / (6 * n)), rtol=1e-12)
    assert "1e23 (planned)" in curves


BAD_OPTIONS = [
    ({"ax": "left"}, r"ax must be a pair"),
    ({"ax": (1, 2)}, r"ax\[0\] must be a matplotlib Axes, got int"),
    ({"levels": 1}, r"levels must be at least 2"),
    ({"levels": [3.0, 2.0]}, r"levels must be a count or increasing losses"),
    ({"levels": "many"}, r"levels"),
    ({"cmap": "no_such_map"}, r"cmap must be a matplotlib Colormap or the name of one"),
    ({"cmap": 3}, r"cmap must be"),
    ({"figsize": (0, 3)}, r"figsize must be two finite sizes > 0"),
    ({"figsize": "big"}, r"figsize must be \(width, height\)"),
    ({"gopher_flops": -1.0}, r"gopher_flops"),
    ({"gopher_flops": "Gopher"}, r"gopher_flops"),
    ({"planned": [1e22, -1.0]}, r"planned\[1\]"),
    ({"budgets": ["x"]}, r"budgets"),
    ({"excluded": 3}, r"excluded must be Runs"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS)
def test_bad_options_are_value_errors(fit_240, epoch_runs, options, message):
    with pytest.raises(ValueError, match=message):
        figure4(fit_240, epoch_runs, **options)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f, r: draw_isoloss("ax", f, r), r"ax must be a matplotlib Axes, got str"),
        (lambda f, r: draw_isoflop(None, f, r), r"ax must be a matplotlib Axes, got NoneType"),
        (lambda f, r: figure4(42, r), r"params"),
        (lambda f, r: figure4(f, 42), r"runs must be Runs, a mapping"),
        (lambda f, r: figure4(f, {"N": [1.0]}), r"runs must have columns N, D \(or C\) and loss"),
        (lambda f, r: figure4(f, ([1.0, 2.0], [1.0], [3.0, 4.0])), r"same length|length"),
        (lambda f, r: draw_isoloss(_ax(), f, r, colorbar="no"), r"colorbar must be True or False"),
        (lambda f, r: save_figure4("x.png", f, r, dpi=0), r"dpi"),
        (lambda f, r: save_figure4("x.png", f, r, colour="red"), r"unknown option\(s\) colour"),
    ],
)
def test_bad_arguments_are_value_errors(fit_240, epoch_runs, call, message):
    with pytest.raises(ValueError, match=message):
        call(fit_240, epoch_runs)


def _ax():
    from matplotlib.figure import Figure

    return Figure().subplots()


# --- runs that are not an IsoFLOP design ---


@pytest.fixture(scope="module")
def random_sweep():
    """Model sizes and token counts drawn independently: no two runs share a budget."""
    rng = np.random.default_rng(7)
    law = scalinglaw.Law(E=1.8, A=400.0, B=410.0, alpha=0.34, beta=0.28)
    n, d = 10 ** rng.uniform(7, 10, 80), 10 ** rng.uniform(9, 11.5, 80)
    return law, scalinglaw.Runs(n, d, law.predict(n, d) * np.exp(rng.normal(0, 0.01, 80)))


def test_a_random_sweep_gets_no_isoflop_slices(random_sweep):
    from matplotlib.colors import to_hex

    law, runs = random_sweep
    figure = figure4(law, runs, figsize=PAPER_SIZE)
    left, right = figure.axes[:2]
    assert not [line for line in left.get_lines() if to_hex(line.get_color()) == SLICE_GREEN]
    assert "IsoFLOPs slice" not in legend_texts(left)
    assert right.get_title() == "Loss against model size (no IsoFLOP slices)"
    assert [line.get_label() for line in right.get_lines()] == ["Gopher"]  # no invented budget curves
    (points,) = [c for c in right.collections if c.get_array() is not None]
    np.testing.assert_allclose(points.get_array(), runs.C)  # coloured by compute
    assert any(ax.get_title(loc="left") == "FLOPs" for ax in figure.axes)  # with its own colour bar
    figure.draw_without_rendering()
    assert legend_covers(right, points.get_offsets()) == 0


def test_a_random_sweeps_summary_says_why_approach_2_is_skipped(tmp_path, random_sweep, capsys):
    from scalinglaw.cli import main

    _, runs = random_sweep
    path = tmp_path / "random.csv"
    np.savetxt(path, np.column_stack(list(runs)), delimiter=",", header="N,D,loss", comments="")
    assert main(["fit", str(path), "--plot", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "not an IsoFLOP design" in out and "Approach 2" in out and "skipped" in out
    assert "N_opt ~ C^" not in out  # no exponent from invented budgets


def test_cli_draws_budgets_at_the_size_and_dpi_asked(tmp_path, capsys):
    import struct

    from scalinglaw.cli import main

    path = tmp_path / "f.png"
    argv = ["fit", "--plot", str(path), "--figsize", "7", "2.8", "--dpi", "100", "--budget", "1e22"]
    assert main(argv) == 0
    assert struct.unpack(">II", path.read_bytes()[16:24]) == (700, 280)
    for bad in (["--figsize", "0", "3"], ["--dpi", "-5"], ["--dpi", "nan"]):
        assert main(["fit", "--plot", str(path), *bad]) == 2
        assert "--figsize and --dpi must be finite and > 0" in capsys.readouterr().err


def test_which_sweeps_are_isoflop_designs(random_sweep):
    from scalinglaw.isoflop import isoflop_design

    chinchilla = scalinglaw.load_chinchilla()
    assert isoflop_design(chinchilla.N, chinchilla.C, chinchilla.budgets).is_isoflop
    assert isoflop_design(chinchilla.N, chinchilla.C).is_isoflop  # its budgets found from C alone
    _, runs = random_sweep
    design = isoflop_design(runs.N, runs.C)
    assert not design.is_isoflop and design.in_slices < 2 / 3 * len(runs)
    assert "not an IsoFLOP design" in design.reason
    # a grid of 5 model sizes x 6 token counts: every run has its own budget
    n, d = (a.ravel() for a in np.meshgrid(np.geomspace(1e7, 1e9, 5), np.geomspace(1e9, 3e10, 6)))
    grid = isoflop_design(n, 6 * n * d)
    assert not grid.is_isoflop and grid.slices == ()
    # one long chain of runs 3% apart in C (no budget shared) is no slice, however many sizes it has
    n = np.geomspace(1e7, 1e10, 40)
    chain = isoflop_design(n, 1e18 * 1.03 ** np.arange(40))
    assert len(chain.groups.budgets) == 1 and not chain.is_isoflop


def test_budget_curves_darken_as_the_budget_grows(drawn):
    from matplotlib.colors import to_rgb

    right = drawn[0].axes[1]
    curves = [line for line in right.get_lines() if line.get_label()[:1].isdigit()]
    budgets = [float(line.get_label()) for line in curves]
    assert budgets == sorted(budgets) and len(curves) == 9
    lightness = [sum(to_rgb(line.get_color())) for line in curves]
    assert all(np.diff(lightness) < 0)


def test_size_ticks_over_a_wide_range_are_thinned():
    from scalinglaw.plot_style import size_ticks

    np.testing.assert_allclose(size_ticks(3e7, 2.2e11), [1e8, 1e9, 1e10, 4e10, 1e11])
    wide = size_ticks(500.0, 1e11)  # 9 decades: every 2nd, without the paper's 40B
    np.testing.assert_allclose(wide, [1e3, 1e5, 1e7, 1e9, 1e11])
