"""Hoffmann et al.'s Figure 4 for a fitted law: IsoLoss contours (left) and IsoFLOP slices (right).

The panel functions draw on the Axes they are given and return them; ``figure4`` makes both panels
(or draws on two Axes it is given) and returns the Figure. Nothing here calls ``pyplot.show``. The
look is the paper's (``plot_style``): its loss colours, model sizes as 100M / 1B / 40B, slices in
green, the Gopher budget as black dashed lines, legends clear of the data, text and markers scaled
to the figure. Training compute is C = 6 N D FLOPs throughout.

Any law of N and D is drawn from its own values (``loss_grid``, ``predict``, ``compute_optimal``):
Kaplan et al.'s, and the data-constrained law at U_D = D or under a unique-token budget
(``unique_token_budget``: U_D = min(D, budget)); the panels' titles name any law but the paper's.

Given a ``BootstrapResult`` (``bootstrap=``), the left panel also shows the frontier's percentile
band and the interval of N_opt at the Gopher budget; given an ``Approach2Result`` (``approach2=``),
the right panel marks each budget's parabola minimum (``plot_extras``). Runs that are not an IsoFLOP
design (``isoflop.isoflop_design``) get no slices: the right panel shows loss against model size,
coloured by compute. Bad arguments raise ValueError.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks, plot_args, plot_style
from .bootstrap import BootstrapResult
from .frontier import GOPHER_FLOPS, Allocation
from .io import Runs
from .isoflop import Approach2Result, IsoflopDesign, isoflop_design
from .law import ScalingLaw
from .plot_extras import (
    OTHER_COLOR,
    check_approach2,
    check_bootstrap,
    confidence_label,
    draw_minima,
    frontier_band,
    group_of_minima,
    n_opt_interval,
)
from .plot_style import FRONTIER_COLOR, GOPHER_COLOR, SLICE_COLOR, law_label, run_markers
from .summary import human

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

__all__ = ["draw_isoflop", "draw_isoloss", "figure4", "frontier_band", "save_figure4"]

#: Colour map of training compute, for runs that are not an IsoFLOP design (right panel).
COMPUTE_COLORMAP = "viridis"
PLANNED_COLOR = "tab:purple"
#: Behind small labels drawn over lines: legible, and what lies under them still shows.
_TEXT_BOX = {
    "boxstyle": "round,pad=0.1",
    "facecolor": "white",
    "edgecolor": "none",
    "alpha": 0.7,
}  # budgets the user plans (--budget), on both panels
_NICE_LOSSES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0)


def _size(ax: Axes) -> float:
    """Text/marker scale for the figure holding `ax` (``plot_style.scale``)."""
    return plot_style.scale(float(_root(ax).get_figwidth()))


def _root(ax: Axes) -> Figure:
    """The Figure `ax` is drawn in (checked by ``_check_axes``)."""
    figure = ax.get_figure(root=True)
    if figure is None:
        raise ValueError("ax must belong to a Figure")
    return figure


def _style_axes(ax: Axes, size: float) -> None:
    font = plot_style.BASE_FONT_SIZE * size
    ax.title.set_fontsize(font * 1.1)
    ax.xaxis.label.set_fontsize(font)
    ax.yaxis.label.set_fontsize(font)
    ax.tick_params(labelsize=font * 0.9)


# --- shared pieces ---


def _design(runs: Runs, budgets: Any) -> IsoflopDesign:
    nominal = budgets if budgets is not None else (runs.budgets or None)
    return isoflop_design(runs.N, runs.C, nominal)


def _loss_norm(runs: Runs, excluded: Runs | None) -> Normalize:
    """Log scale over the runs' losses, as the paper's colours are placed (``loss_colormap``)."""
    from matplotlib.colors import LogNorm

    losses = runs.loss if excluded is None else np.concatenate([runs.loss, excluded.loss])
    low, high = float(losses.min()), float(losses.max())
    return LogNorm(vmin=low, vmax=high if high > low else low * 1.01)


def _contour_levels(levels: int | Any, low: float, high: float) -> Any:
    """Round losses (steps of 1, 2, 2.5 or 5 times a power of ten) between low and high."""
    from matplotlib.ticker import MaxNLocator

    if not isinstance(levels, int):
        return levels
    values = np.asarray(MaxNLocator(levels, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high))
    return values[(values > low) & (values <= high)]


def _loss_colorbar(ax: Axes, norm: Normalize, cmap: Colormap, size: float) -> None:
    from matplotlib.cm import ScalarMappable

    bar = _root(ax).colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, aspect=30)
    bar.ax.set_title("Loss", fontsize=plot_style.BASE_FONT_SIZE * size, loc="left")  # clear of y labels
    low, high = float(norm.vmin or 0.0), float(norm.vmax or 0.0)
    ticks = [t for t in _NICE_LOSSES if low <= t <= high]
    bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    bar.ax.tick_params(labelsize=plot_style.BASE_FONT_SIZE * size * 0.9)
    bar.minorticks_off()


def _legend_clear_of(ax: Axes, points: Any, font: float) -> None:
    """The panel's legend at the lower right, as the paper has it; if that box would cover one of
    `points` (data coordinates) once laid out, in two columns below the panel's axis labels."""
    from matplotlib.transforms import offset_copy

    legend = ax.legend(loc="lower right", fontsize=font * 0.8, framealpha=0.9)
    if not _covers(ax, legend, points):
        return
    legend.remove()
    figure = _root(ax)
    tight = ax.get_tightbbox()
    below = ax.bbox.y0 - (tight.y0 if tight is not None else ax.bbox.y0)  # tick and x labels, pixels
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=offset_copy(
            ax.transAxes, fig=figure, y=-(below * 72.0 / figure.dpi + 2.0), units="points"
        ),
        ncols=2,
        fontsize=font * 0.8,
        framealpha=0.9,
    )


def _covers(ax: Axes, legend: Any, points: Any) -> bool:
    """Whether `legend`'s box, with the figure laid out, holds one of `points` (data coordinates)."""
    figure = _root(ax)
    figure.draw_without_rendering()  # runs the layout engine: boxes as they will be saved
    box = legend.get_window_extent()
    xy = ax.transData.transform(points)
    return bool(
        ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)).any()
    )


def _flops_label(budget: float) -> str:
    return f"{budget:.0e}".replace("e+", "e")


def _optimal(law: ScalingLaw, C: Any, unique: float | None) -> Allocation[Any]:
    """The law's compute-optimal allocations at budgets C (under `unique` tokens, if given)."""
    return law.compute_optimal(C, unique_tokens=unique)


def _along(law: ScalingLaw, N: Any, C: Any, unique: float | None) -> Any:
    """L(N, D = C / 6N), broadcast, with U_D = min(D, `unique`) (None: U_D = D, no repetition)."""
    d = C / (6.0 * N)
    return law.predict(N, d, None if unique is None else np.minimum(d, unique))


def _loss_grid(law: ScalingLaw, n_axis: Any, c_axis: Any, unique: float | None) -> Any:
    """L on model sizes (rows) x budgets (columns): the law's own vectorised grid at U_D = D."""
    if unique is None:
        return law.loss_grid(n_axis, c_axis)
    return _along(law, n_axis[:, None], c_axis[None, :], unique)


def _title(title: str, law: ScalingLaw, unique: float | None) -> str:
    """A panel's title, naming the law and its unique tokens unless it is the paper's (Chinchilla)."""
    return title if law.KIND == "chinchilla" else f"{title}\n{law_label(law.KIND, unique)}"


def _check_band(bootstrap: BootstrapResult | None, unique: float | None) -> None:
    if bootstrap is not None and unique is not None:
        raise ValueError(
            "bootstrap: its band is the frontier's at U_D = D (no repetition), not under "
            f"unique_token_budget = {unique:g}; draw one or the other"
        )


# --- left panel ---


def draw_isoloss(
    ax: Axes,
    params: Any,
    runs: Any,
    *,
    excluded: Any = None,
    budgets: Any = None,
    gopher_flops: float | None = GOPHER_FLOPS,
    planned: Any = None,
    levels: Any = 14,
    cmap: Any = None,
    colorbar: bool = True,
    bootstrap: BootstrapResult | None = None,
    unique_token_budget: float | None = None,
) -> Axes:
    """Left panel: iso-loss contours of the law over (training FLOPs, model size), the runs coloured
    by loss on the same scale, the efficient frontier, one green dashed line per IsoFLOP slice, and
    the Gopher budget (black dashed) with the model size the law makes optimal there.

    `runs` (and `excluded`): Runs, a mapping/DataFrame with columns N, D (or C), loss, or (N, D,
    loss). `budgets`: the sweep's nominal budgets (default ``runs.budgets``). `gopher_flops=None`
    leaves Gopher out; `planned` budgets are marked on the frontier. `levels`: about how many
    contours (at round losses) or the losses themselves; `cmap`: the loss colours (default the
    paper's, ``plot_style.loss_colormap``); `colorbar=False` leaves the colour bar to the caller.
    With `bootstrap` (a ``BootstrapResult`` of this fit), the frontier also gets its percentile band
    (``frontier_band``), clipped to the panel, and the Gopher point an error bar from the
    bootstrap's N_opt interval, if ``bootstrap.budgets`` holds `gopher_flops`.

    `params` may be any law of N and D (``Chinchilla``, ``Kaplan``, ``DataConstrained``, or a fit of
    one): contours and frontier are the law's own (``loss_grid``, ``compute_optimal``), and the title
    names it. The data-constrained law is drawn at U_D = D (no repeated data), or, given
    `unique_token_budget`, with U_D = min(D, that budget), as the title says.
    """
    ax = plot_args.check_axes(ax, "ax")
    law = plot_args.checked_law(params)
    unique = plot_args.unique_token_budget(unique_token_budget, law)
    _check_band(bootstrap, unique)
    runs, excluded = plot_args.as_runs(runs, "runs"), plot_args.optional_runs(excluded, "excluded")
    gopher, plan = plot_args.gopher_budget(gopher_flops), plot_args.planned_budgets(planned)
    levels, colormap = plot_args.check_levels(levels), plot_style.as_colormap(cmap)
    colorbar = plot_args.check_flag(colorbar, "colorbar")
    if bootstrap is not None:
        check_bootstrap(bootstrap, law)
    norm = _loss_norm(runs, excluded)
    points = _draw_isoloss(
        ax,
        law,
        runs,
        excluded,
        _design(runs, budgets),
        gopher,
        plan,
        levels,
        colormap,
        norm,
        bootstrap,
        unique,
    )
    if colorbar:
        _loss_colorbar(ax, norm, colormap, _size(ax))
    _legend_clear_of(ax, points, plot_style.BASE_FONT_SIZE * _size(ax))
    return ax


def _draw_isoloss(
    ax: Axes,
    law: ScalingLaw,
    runs: Runs,
    excluded: Runs | None,
    design: IsoflopDesign,
    gopher: float | None,
    plan: Any,
    levels: int | Any,
    cmap: Colormap,
    norm: Normalize,
    bootstrap: BootstrapResult | None,
    unique: float | None,
) -> Any:
    """Draws the left panel but its legend; returns the (C, N) of the runs drawn, which the legend,
    placed once the figure is complete (``_legend_clear_of``), must not cover."""
    size = _size(ax)
    marked = np.concatenate([[gopher] if gopher else [], plan])
    optimal = _optimal(law, marked, unique) if len(marked) else None
    others = [excluded] if excluded else []
    all_c = np.concatenate([runs.C, marked, *(r.C for r in others)])
    all_n = np.concatenate([runs.N, [] if optimal is None else optimal.N, *(r.N for r in others)])
    # The paper's span: from the decade below the smallest budget to just past the largest.
    c_range = (10.0 ** math.floor(math.log10(all_c.min())), float(all_c.max()) * 1.7)
    n_range = (float(all_n.min()) / 1.5, float(all_n.max()) * 3.0)

    c_axis = np.geomspace(*c_range, 480)
    n_axis = np.geomspace(*n_range, 400)
    grid = _loss_grid(law, n_axis, c_axis, unique)  # rows follow N, columns C: contour(x=C, y=N)
    ax.contour(
        c_axis,
        n_axis,
        grid,
        levels=_contour_levels(
            levels, float(grid.min()), float(norm.vmax or grid.max())
        ),  # over the runs' losses
        cmap=cmap,
        norm=norm,
        linewidths=1.0 * size,
    )
    ax.scatter(
        runs.C,
        runs.N,
        c=runs.loss,
        cmap=cmap,
        norm=norm,
        label="Empirical data",
        **run_markers(size),
    )
    if excluded is not None and len(excluded):
        ax.scatter(
            excluded.C,
            excluded.N,
            marker="x",
            c="0.35",
            s=22 * size**2,
            linewidths=1.0,
            label="Excluded from fit",
            zorder=3,
        )

    frontier = _optimal(law, c_axis, unique)
    ax.plot(
        c_axis, frontier.N, color=FRONTIER_COLOR, linewidth=2.2 * size, label="Efficient frontier", zorder=4
    )
    if bootstrap is not None:
        # Clipped to the panel's range: a wide band must neither set the limits nor leave them.
        low, high = (np.clip(edge, *n_range) for edge in frontier_band(bootstrap, c_axis))
        ax.fill_between(
            c_axis,
            low,
            high,
            color=FRONTIER_COLOR,
            alpha=0.22,
            linewidth=0,
            label=f"Frontier, {confidence_label(bootstrap)} bootstrap interval",
            zorder=2.5,
        )

    for k, group in enumerate(design.slices if design.is_isoflop else ()):
        ax.axvline(
            design.groups.budgets[group],
            color=SLICE_COLOR,
            linestyle="--",
            linewidth=1.0 * size,
            label="IsoFLOPs slice" if k == 0 else None,
            zorder=2,
        )
    font = plot_style.BASE_FONT_SIZE * size
    if gopher is not None and optimal is not None:
        _gopher_marks(ax, gopher, float(optimal.N[0]), c_range, bootstrap, font, size)
    for k, budget in enumerate(plan):
        n_plan = float(optimal.N[k + (gopher is not None)]) if optimal is not None else math.nan
        ax.axvline(
            budget,
            color=PLANNED_COLOR,
            linestyle=":",
            linewidth=1.2 * size,
            label="Planned budget" if k == 0 else None,
            zorder=2,
        )
        ax.plot([budget], [n_plan], "o", color=PLANNED_COLOR, markersize=4 * size, zorder=5)
        ax.annotate(
            human(n_plan),
            (budget, n_plan),
            xytext=(3, -3),  # below right: under the frontier, past the runs
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=font * 0.8,
            color=PLANNED_COLOR,
            bbox=_TEXT_BOX,
        )

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*c_range)
    ax.set_ylim(*n_range)
    plot_style.label_sizes(ax.yaxis, *n_range)
    ax.set_xlabel("Training FLOPs")
    ax.set_ylabel("Model size")
    ax.set_title(_title("IsoLoss contours", law, unique))
    _style_axes(ax, size)
    return np.column_stack(
        [np.concatenate([runs.C, *(r.C for r in others)]), np.concatenate([runs.N, *(r.N for r in others)])]
    )


def _gopher_marks(
    ax: Axes,
    gopher: float,
    n_gopher: float,
    c_range: tuple[float, float],
    bootstrap: BootstrapResult | None,
    font: float,
    size: float,
) -> None:
    """The paper's Gopher marks: a black dashed vertical at its budget and a dashed horizontal at the
    model size the law makes optimal there, labelled at the panel's left edge."""
    ax.axvline(
        gopher, color=GOPHER_COLOR, linestyle="--", linewidth=1.2 * size, label="Gopher budget", zorder=3
    )
    ax.plot(
        [c_range[0], gopher],
        [n_gopher, n_gopher],
        color=GOPHER_COLOR,
        linestyle="--",
        linewidth=1.0 * size,
        zorder=3,
    )
    # Above the horizontal at the left edge: small budgets and large models hold no runs.
    ax.annotate(
        human(n_gopher),
        (c_range[0], n_gopher),
        xytext=(3, 2),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=font,
        color=FRONTIER_COLOR,
        fontweight="bold",
    )
    interval = None if bootstrap is None else n_opt_interval(bootstrap, gopher)
    if bootstrap is None or interval is None:
        return
    low, high = interval
    ax.errorbar(
        [gopher],
        [n_gopher],
        yerr=[[max(n_gopher - low, 0.0)], [max(high - n_gopher, 0.0)]],
        fmt="none",
        ecolor=FRONTIER_COLOR,
        elinewidth=1.6 * size,
        capsize=5 * size,
        capthick=1.6 * size,
        zorder=4.5,
    )
    ax.annotate(
        f"{confidence_label(bootstrap)}: {human(low)} to {human(high)}",
        (c_range[0], n_gopher),
        xytext=(3, -2),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=font * 0.8,
        color=FRONTIER_COLOR,
        bbox=_TEXT_BOX,
    )


# --- right panel ---


def draw_isoflop(
    ax: Axes,
    params: Any,
    runs: Any,
    *,
    excluded: Any = None,
    budgets: Any = None,
    gopher_flops: float | None = GOPHER_FLOPS,
    planned: Any = None,
    cmap: Any = None,
    colorbar: bool = True,
    approach2: Approach2Result | None = None,
    unique_token_budget: float | None = None,
) -> Axes:
    """Right panel: loss against model size for each IsoFLOP budget of the runs (the runs as points
    coloured by loss, the law along C = const as a dashed curve, darker as the budget grows), plus
    the law's curve at the Gopher budget and at each `planned` budget.

    Runs that are not an IsoFLOP design (``isoflop.isoflop_design``) are drawn coloured by their
    compute instead, with no budget curves (and a compute colour bar unless `colorbar=False`).
    Arguments as for ``draw_isoloss``. With `approach2` (an ``Approach2Result`` of these runs,
    grouped by the same budgets), each used budget's parabola is drawn faintly over the budget's
    range of model sizes and its minimum (N_opt, loss there) as a diamond in the budget's colour; a
    minimum outside that range (``Approach2Result.inside``) is hollow, the parabola dotted on to it.
    ValueError if one of its used budgets is none of the panel's budget groups. Any law of N and D,
    with `unique_token_budget` as for ``draw_isoloss``.
    """
    ax = plot_args.check_axes(ax, "ax")
    law = plot_args.checked_law(params)
    unique = plot_args.unique_token_budget(unique_token_budget, law)
    runs, excluded = plot_args.as_runs(runs, "runs"), plot_args.optional_runs(excluded, "excluded")
    gopher, plan = plot_args.gopher_budget(gopher_flops), plot_args.planned_budgets(planned)
    colormap, colorbar = plot_style.as_colormap(cmap), plot_args.check_flag(colorbar, "colorbar")
    approach2 = check_approach2(approach2)
    design = _design(runs, budgets)
    group_of = None if approach2 is None else group_of_minima(approach2, design.groups)
    _draw_isoflop(
        ax,
        law,
        runs,
        excluded,
        design,
        gopher,
        plan,
        colormap,
        _loss_norm(runs, excluded),
        approach2,
        group_of,
        colorbar,
        unique,
    )
    return ax


def _draw_isoflop(
    ax: Axes,
    law: ScalingLaw,
    runs: Runs,
    excluded: Runs | None,
    design: IsoflopDesign,
    gopher: float | None,
    plan: Any,
    cmap: Colormap,
    norm: Normalize,
    approach2: Approach2Result | None,
    group_of: Any,
    colorbar: bool,
    unique: float | None,
) -> None:
    size = _size(ax)
    marked = np.concatenate([[gopher] if gopher else [], plan])
    optimal = _optimal(law, marked, unique) if len(marked) else None
    others = [excluded] if excluded else []
    all_n = np.concatenate([runs.N, [] if optimal is None else optimal.N, *(r.N for r in others)])
    n_range = (float(all_n.min()) / 1.5, float(all_n.max()) * 1.3)
    n_axis = np.geomspace(*n_range, 300)
    font = plot_style.BASE_FONT_SIZE * size

    shades = plot_style.budget_shades(len(design.slices))
    slice_colors = dict(zip(design.slices, shades))
    if design.is_isoflop:
        for color, group in zip(shades, design.slices):
            budget = design.groups.budgets[group]
            ax.plot(
                n_axis,
                _along(law, n_axis, budget, unique),
                color=color,
                linestyle="--",
                linewidth=1.2 * size,
                label=_flops_label(budget),
                zorder=2,
            )
        in_slice = np.isin(design.groups.label, design.slices)
        ax.scatter(
            runs.N[in_slice],
            runs.loss[in_slice],
            c=runs.loss[in_slice],
            cmap=cmap,
            norm=norm,
            **run_markers(size),
        )
        if not in_slice.all():
            ax.scatter(
                runs.N[~in_slice],
                runs.loss[~in_slice],
                color=OTHER_COLOR,
                s=10 * size**2,
                zorder=2,
                label="Other runs (no slice)",
            )
        title, legend_title = "IsoFLOPs slices", "Train. FLOPs"
    else:
        from matplotlib.colors import LogNorm

        compute = LogNorm(vmin=float(runs.C.min()), vmax=float(runs.C.max()) * (1 + 1e-9))
        points = ax.scatter(
            runs.N,
            runs.loss,
            c=runs.C,
            cmap=COMPUTE_COLORMAP,
            norm=compute,
            **run_markers(size),
        )
        if colorbar:
            bar = _root(ax).colorbar(points, ax=ax, aspect=30)
            bar.ax.set_title("FLOPs", fontsize=font, loc="left")
            bar.ax.tick_params(labelsize=font * 0.9)
        title, legend_title = "Loss against model size (no IsoFLOP slices)", None
    if gopher is not None:
        ax.plot(
            n_axis,
            _along(law, n_axis, gopher, unique),
            color=GOPHER_COLOR,
            linestyle="--",
            linewidth=1.4 * size,
            label="Gopher",
            zorder=2,
        )
    for budget in plan:
        ax.plot(
            n_axis,
            _along(law, n_axis, budget, unique),
            color=PLANNED_COLOR,
            linestyle=":",
            linewidth=1.4 * size,
            label=f"{_flops_label(budget)} (planned)",
            zorder=2,
        )
    if excluded is not None and len(excluded):
        ax.scatter(
            excluded.N,
            excluded.loss,
            marker="x",
            c="0.35",
            s=22 * size**2,
            linewidths=1.0,
            label="Excluded from fit",
            zorder=3,
        )

    handles: dict[str, Any] = {}
    if approach2 is not None:
        handles = draw_minima(ax, approach2, group_of, design.groups, runs, slice_colors, size)

    losses = runs.loss if excluded is None else np.concatenate([runs.loss, excluded.loss])
    floor = float(losses.min()) if optimal is None else min(float(losses.min()), float(optimal.loss.min()))
    ax.set_xscale("log")
    ax.set_xlim(*n_range)
    ax.set_ylim(floor * 0.95, float(losses.max()) * 1.05)
    plot_style.label_sizes(ax.xaxis, *n_range)
    ax.set_xlabel("Model size")
    ax.set_ylabel("Loss")
    ax.set_title(_title(title, law, unique))
    _style_axes(ax, size)
    entries, labels = ax.get_legend_handles_labels()
    entries = [handles.get(label, entry) for entry, label in zip(entries, labels)]
    if entries:  # beside the panel: a dozen budgets would cover its runs at a column's width
        ax.legend(
            entries,
            labels,
            title=legend_title,
            fontsize=font * 0.8,
            title_fontsize=font * 0.8,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            framealpha=0.9,
        )


# --- both panels ---


def figure4(
    params: Any,
    runs: Any,
    *,
    excluded: Any = None,
    budgets: Any = None,
    gopher_flops: float | None = GOPHER_FLOPS,
    planned: Any = None,
    figsize: tuple[float, float] = (13.0, 5.2),
    ax: Any = None,
    levels: Any = 14,
    cmap: Any = None,
    bootstrap: BootstrapResult | None = None,
    approach2: Approach2Result | None = None,
    unique_token_budget: float | None = None,
) -> Figure:
    """Both panels of Hoffmann et al.'s Figure 4 for the law `params` (a FitResult, Law or mapping)
    fitted to `runs`; `excluded` runs are drawn and marked as excluded. Returns the Figure.

    `ax=(left, right)` draws on two Axes of one Figure (`figsize` is then the caller's affair);
    otherwise a Figure of `figsize` inches with constrained layout is made. Both panels share one
    loss colour bar, beside the left one. `bootstrap` (a ``BootstrapResult`` of this fit) adds the
    frontier's interval band to the left panel, `approach2` (an ``Approach2Result`` of these runs)
    the parabola minima to the right one; the other options are those of ``draw_isoloss`` and
    ``draw_isoflop``. Everything is checked before anything is drawn.

    Any law of N and D may be drawn (a ``Kaplan`` or ``DataConstrained`` law, or a fit of one), its
    name in the panels' titles; the data-constrained law at U_D = D unless `unique_token_budget`
    (unique tokens: U_D = min(D, budget)) is given.
    """
    from matplotlib.figure import Figure

    law = plot_args.checked_law(params)
    unique = plot_args.unique_token_budget(unique_token_budget, law)
    _check_band(bootstrap, unique)
    runs, excluded = plot_args.as_runs(runs, "runs"), plot_args.optional_runs(excluded, "excluded")
    gopher, plan = plot_args.gopher_budget(gopher_flops), plot_args.planned_budgets(planned)
    levels, colormap = plot_args.check_levels(levels), plot_style.as_colormap(cmap)
    if bootstrap is not None:
        check_bootstrap(bootstrap, law)
    approach2 = check_approach2(approach2)
    design = _design(runs, budgets)
    group_of = None if approach2 is None else group_of_minima(approach2, design.groups)
    if ax is None:
        figure = Figure(figsize=plot_args.check_figsize(figsize), layout="constrained")
        left, right = figure.subplots(1, 2)
    else:
        if not (isinstance(ax, Sequence) and len(ax) == 2):
            raise ValueError(f"ax must be a pair (left, right) of Axes, got {type(ax).__name__}")
        left, right = plot_args.check_axes(ax[0], "ax[0]"), plot_args.check_axes(ax[1], "ax[1]")
        if left.figure is not right.figure:
            raise ValueError("ax: both Axes must belong to one Figure")
        figure = _root(left)
    norm = _loss_norm(runs, excluded)
    points = _draw_isoloss(
        left, law, runs, excluded, design, gopher, plan, levels, colormap, norm, bootstrap, unique
    )
    _loss_colorbar(left, norm, colormap, _size(left))
    _draw_isoflop(
        right, law, runs, excluded, design, gopher, plan, colormap, norm, approach2, group_of, True, unique
    )
    _legend_clear_of(left, points, plot_style.BASE_FONT_SIZE * _size(left))  # the layout is final now
    return figure


def save_figure4(
    path: str | os.PathLike[str], params: Any, runs: Any, *, dpi: float = 150.0, **options: Any
) -> Figure:
    """``figure4`` written to `path`; the format follows the extension (.png, .pdf, .svg), at `dpi`
    for PNG. PDFs embed TrueType (Type 42) fonts and SVGs keep text as <text>, as journals want.
    `options` are those of ``figure4`` (``excluded``, ``figsize``, ``bootstrap``, ...)."""
    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if extension not in {"png", "pdf", "svg"}:
        raise ValueError(f"the figure's file name must end in .png, .pdf or .svg, got {os.fspath(path)!r}")
    dots = _checks.positive_number(dpi, "dpi")
    plot_args.check_figure4_options(options)
    figure = figure4(params, runs, **options)
    with plot_style.vector_fonts():
        figure.savefig(path, dpi=dots)
    return figure
