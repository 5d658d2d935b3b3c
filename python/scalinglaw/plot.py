"""Hoffmann et al.'s Figure 4 for a fitted law: IsoLoss contours (left) and IsoFLOP slices (right).

The panel functions draw on the Axes they are given and return them; ``figure4`` makes both panels
and returns the Figure. Nothing here calls ``pyplot.show``: figures are made with
``matplotlib.figure.Figure`` and saved with ``Figure.savefig``, so no display is needed. matplotlib is
imported when a function here is first called. Training compute is C = 6 N D FLOPs throughout.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .frontier import GOPHER_FLOPS, compute_optimal
from .io import Runs
from .isoflop import BudgetGroups, group_by_budget
from .law import Law, as_law
from .summary import human

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

#: Colour map of losses (contours, runs) and of budgets (slices).
LOSS_COLORMAP = "viridis_r"
BUDGET_COLORMAP = "plasma"
FRONTIER_COLOR = "tab:blue"
SLICE_MIN_RUNS = 3  # a budget group with fewer runs is not drawn as a slice
_NICE_LOSSES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0)


def _slices(runs: Runs, budgets: Any) -> tuple[BudgetGroups, list[int]]:
    """The budget groups and which of them have enough runs to draw as IsoFLOP slices."""
    import warnings

    from .isoflop import BudgetGroupingWarning

    nominal = budgets if budgets is not None else (runs.budgets or None)
    with warnings.catch_warnings():  # runs far from every budget are drawn, just not in a slice
        warnings.simplefilter("ignore", BudgetGroupingWarning)
        groups = group_by_budget(runs.C, nominal)
    shown = [g for g in range(len(groups.budgets)) if len(groups.members(g)) >= SLICE_MIN_RUNS]
    return groups, shown


def _budget_colors(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps[BUDGET_COLORMAP]
    return [cmap(x) for x in np.linspace(0.05, 0.85, max(count, 1))]


def _loss_norm(law: Law, runs: Runs, excluded: Runs | None) -> Normalize:
    from matplotlib.colors import LogNorm

    losses = runs.loss if excluded is None else np.concatenate([runs.loss, excluded.loss])
    low = max(min(float(losses.min()), law.E * 1.02), law.E * 1.0001)
    return LogNorm(vmin=low, vmax=float(losses.max()))


def _span(values: Any, *, factor: float = 2.0) -> tuple[float, float]:
    """A log-axis range covering `values` with a margin of `factor` on each side."""
    values = np.asarray(values, dtype=float)
    return float(values.min()) / factor, float(values.max()) * factor


def draw_isoloss(
    ax: Axes,
    params: Any,
    runs: Runs,
    *,
    excluded: Runs | None = None,
    budgets: Any = None,
    gopher_flops: float = GOPHER_FLOPS,
    levels: int = 14,
) -> Axes:
    """Left panel: iso-loss contours of the law over (training FLOPs, model size), the runs coloured
    by loss on the same scale, the efficient frontier, one dashed line per IsoFLOP slice, the Gopher
    budget and the model size the law makes optimal there."""
    from matplotlib.cm import ScalarMappable

    law = as_law(params)
    groups, shown = _slices(runs, budgets)
    at_gopher = compute_optimal(law, gopher_flops)
    all_c = np.concatenate([runs.C, [gopher_flops]] + ([excluded.C] if excluded else []))
    all_n = np.concatenate([runs.N, np.atleast_1d(at_gopher.N)] + ([excluded.N] if excluded else []))
    c_range, n_range = _span(all_c, factor=4.0), _span(all_n, factor=3.0)

    c_axis = np.geomspace(*c_range, 480)
    n_axis = np.geomspace(*n_range, 400)
    grid = law.loss_grid(n_axis, c_axis)  # rows follow N, columns C: contour(x=C, y=N)
    norm = _loss_norm(law, runs, excluded)
    cmap = LOSS_COLORMAP
    contour_levels = np.geomspace(norm.vmin, norm.vmax, levels)
    ax.contour(c_axis, n_axis, grid, levels=contour_levels, cmap=cmap, norm=norm, linewidths=1.0)

    ax.scatter(runs.C, runs.N, c=runs.loss, cmap=cmap, norm=norm, s=14, edgecolors="k",
               linewidths=0.3, label="Empirical data", zorder=3)
    if excluded is not None and len(excluded):
        ax.scatter(excluded.C, excluded.N, marker="x", c="0.35", s=22, linewidths=1.0,
                   label="Excluded from fit", zorder=3)

    frontier = compute_optimal(law, c_axis)
    ax.plot(c_axis, frontier.N, color=FRONTIER_COLOR, linewidth=2.2, label="Efficient frontier", zorder=4)

    for color, group in zip(_budget_colors(len(shown)), shown):
        ax.axvline(groups.budgets[group], color=color, linestyle="--", linewidth=1.0,
                   label="IsoFLOPs slice" if group == shown[0] else None)
    ax.axvline(gopher_flops, color="0.3", linestyle=":", linewidth=1.2, label="Gopher budget")
    n_gopher = float(at_gopher.N)
    ax.scatter([gopher_flops], [n_gopher], marker="*", s=180, color=FRONTIER_COLOR,
               edgecolors="k", zorder=5)
    ax.annotate(f"{human(n_gopher)}", (gopher_flops, n_gopher), xytext=(-8, 8),
                textcoords="offset points", ha="right", fontsize=10, color=FRONTIER_COLOR,
                fontweight="bold")

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*c_range)
    ax.set_ylim(*n_range)
    ax.set_xlabel("Training FLOPs")
    ax.set_ylabel("Model size")
    ax.set_title("IsoLoss contours")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    colorbar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    colorbar.set_label("Loss")
    ticks = [t for t in _NICE_LOSSES if norm.vmin <= t <= norm.vmax]
    colorbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    colorbar.minorticks_off()
    return ax


def draw_isoflop(
    ax: Axes,
    params: Any,
    runs: Runs,
    *,
    excluded: Runs | None = None,
    budgets: Any = None,
    gopher_flops: float = GOPHER_FLOPS,
) -> Axes:
    """Right panel: loss against model size for each training budget of the runs (the runs as points,
    the law along C = const as a dashed curve), plus the law's curve at the Gopher budget."""
    law = as_law(params)
    groups, shown = _slices(runs, budgets)
    at_gopher = compute_optimal(law, gopher_flops)
    all_n = np.concatenate([runs.N, np.atleast_1d(at_gopher.N)] + ([excluded.N] if excluded else []))
    n_range = _span(all_n, factor=2.0)
    n_axis = np.geomspace(*n_range, 300)

    for color, group in zip(_budget_colors(len(shown)), shown):
        budget = groups.budgets[group]
        members = groups.members(group)
        ax.scatter(runs.N[members], runs.loss[members], color=color, s=14, zorder=3)
        ax.plot(n_axis, law.predict(n_axis, budget / (6.0 * n_axis)), color=color, linestyle="--",
                linewidth=1.2, label=f"{budget:.0e}".replace("e+", "e"))
    ax.plot(n_axis, law.predict(n_axis, gopher_flops / (6.0 * n_axis)), color="0.2", linestyle="--",
            linewidth=1.4, label="Gopher")
    in_slice = np.isin(groups.label, shown)
    if not in_slice.all():
        ax.scatter(runs.N[~in_slice], runs.loss[~in_slice], color="0.6", s=10, zorder=2,
                   label="Other runs (no slice)")
    if excluded is not None and len(excluded):
        ax.scatter(excluded.N, excluded.loss, marker="x", c="0.35", s=22, linewidths=1.0,
                   label="Excluded from fit", zorder=3)

    losses = runs.loss if excluded is None else np.concatenate([runs.loss, excluded.loss])
    low = min(float(losses.min()), float(at_gopher.loss)) * 0.95
    ax.set_xscale("log")
    ax.set_xlim(*n_range)
    ax.set_ylim(low, float(losses.max()) * 1.05)
    ax.set_xlabel("Model size")
    ax.set_ylabel("Loss")
    ax.set_title("IsoFLOPs slices")
    ax.legend(title="Train. FLOPs", fontsize=8, title_fontsize=8, loc="upper right", framealpha=0.9)
    return ax


def figure4(
    params: Any,
    runs: Runs,
    *,
    excluded: Runs | None = None,
    budgets: Any = None,
    gopher_flops: float = GOPHER_FLOPS,
    figsize: tuple[float, float] = (13.0, 5.2),
) -> Figure:
    """Both panels of Hoffmann et al.'s Figure 4 for the law `params` (a FitResult, Law or mapping)
    fitted to `runs`; `excluded` runs are drawn and marked as excluded. Returns the Figure."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    left, right = figure.subplots(1, 2)
    draw_isoloss(left, params, runs, excluded=excluded, budgets=budgets, gopher_flops=gopher_flops)
    draw_isoflop(right, params, runs, excluded=excluded, budgets=budgets, gopher_flops=gopher_flops)
    return figure


def save_figure4(path: str | os.PathLike[str], params: Any, runs: Runs, **options: Any) -> Figure:
    """``figure4`` written to `path`; the format follows the extension (.png, .pdf, .svg)."""
    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if extension not in {"png", "pdf", "svg"}:
        raise ValueError(f"the figure's file name must end in .png, .pdf or .svg, got {os.fspath(path)!r}")
    figure = figure4(params, runs, **options)
    figure.savefig(path, dpi=150)
    return figure
