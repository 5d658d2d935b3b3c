"""Figure 4's structure: panels, scales, labels, legend entries, one curve per budget, colour bar."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import scalinglaw
from scalinglaw.plot import draw_isoflop, figure4, save_figure4

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def drawn(fit_240):
    everything = scalinglaw.load_chinchilla()
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
    assert {"Empirical data", "Efficient frontier", "IsoFLOPs slice", "Gopher budget",
            "Excluded from fit"} <= set(legend_texts(left))
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
    figure, kept, _ = drawn
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
