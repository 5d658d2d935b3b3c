"""Hoffmann et al.'s Figure 4 for a fitted law: IsoLoss contours (left) and IsoFLOP slices (right).

The panel functions draw on the Axes they are given and return them; ``figure4`` makes both panels
and returns the Figure. Nothing here calls ``pyplot.show``: figures are made with
``matplotlib.figure.Figure`` and saved with ``Figure.savefig``, so no display is needed. matplotlib
is imported when a function here is first called. Training compute is C = 6 N D FLOPs throughout.

Given a ``BootstrapResult`` (``bootstrap=``), the left panel also shows the frontier's percentile
band and the interval of N_opt at the Gopher budget; given an ``Approach2Result`` (``approach2=``),
the right panel marks each budget's parabola minimum (Hoffmann et al.'s Approach 2). Neither sets
an axis range: the ranges follow the runs, as without them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks
from .bootstrap import BootstrapResult
from .frontier import GOPHER_FLOPS, compute_optimal, frontier_coefficients
from .io import Runs
from .isoflop import Approach2Result, BudgetGroups, group_by_budget
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
OTHER_COLOR = "0.6"  # runs (and Approach 2 minima) of budgets not drawn as a slice
SLICE_MIN_RUNS = 3  # a budget group with fewer runs is not drawn as a slice
MINIMUM_MARKER = "D"  # Approach 2's parabola minima (right panel)
BAND_ALPHA = 0.22  # opacity of the frontier's bootstrap band
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


def _check_bootstrap(bootstrap: Any, law: Law | None = None) -> BootstrapResult:
    """`bootstrap` if it is a BootstrapResult (with a band around the law drawn, when `law` is
    given); else ValueError."""
    if not isinstance(bootstrap, BootstrapResult):
        raise ValueError(
            f"bootstrap must be a BootstrapResult (from scalinglaw.bootstrap), got {type(bootstrap).__name__}"
        )
    if law is not None:
        usable = int(_usable(bootstrap).sum())
        if usable < 2:
            raise ValueError(
                f"bootstrap has {usable} of {bootstrap.n_resamples} resamples with a converged "
                "refit and a frontier: a band needs at least 2"
            )
        # The band is the spread of the bootstrap's own fit: drawn around another law's frontier it
        # would mislead. Both frontiers come from the same parameters by the same closed form, so
        # anything beyond rounding (e.g. parameters printed to 7 digits) is another fit.
        drawn = frontier_coefficients(law)
        point = (bootstrap.point["a"], bootstrap.point["G"])
        if not np.allclose(point, (drawn.a, drawn.G), rtol=1e-6, atol=0.0):
            raise ValueError(
                "bootstrap is of another fit: its frontier N_opt = G (C/6)^a has "
                f"a = {point[0]:.6g}, G = {point[1]:.6g}, the law drawn has a = {drawn.a:.6g}, "
                f"G = {drawn.G:.6g}; pass the bootstrap of this fit (scalinglaw.bootstrap(..., "
                "estimate=result))"
            )
    return bootstrap


def _usable(bootstrap: BootstrapResult) -> Any:
    """Resamples whose refit converged and whose frontier N_opt = G (C/6)^a is finite."""
    g, a = bootstrap.samples["G"], bootstrap.samples["a"]
    return (bootstrap.status == "converged") & np.isfinite(g) & (g > 0) & np.isfinite(a)


def frontier_band(bootstrap: BootstrapResult, C: Any) -> tuple[Any, Any]:
    """The percentile interval of N_opt(C) = G (C/6)^a over the bootstrap's resamples, at each C.

    Uses the resamples whose refit converged and whose frontier is finite (alpha, beta > 0), and
    numpy's linear percentiles of N_opt at `bootstrap.confidence`, as ``BootstrapResult.interval``
    does: at a budget of ``bootstrap.budgets`` the band is that budget's N_opt interval. Returns
    (low, high), arrays of the shape of `C`; NaN where fewer than 2 resamples are usable.
    """
    result = _check_bootstrap(bootstrap)
    flops = _checks.as_float_array(C, "C")
    _checks.check_positive(flops, "C", what="budget")
    g, a = result.samples["G"], result.samples["a"]
    usable = _usable(result)
    if usable.sum() < 2:
        nan = np.full(flops.shape, np.nan)
        return nan, nan.copy()
    log_g, a = np.log(g[usable])[:, None], a[usable][:, None]
    tail = 50.0 * (1.0 - result.confidence)
    log_c6 = np.log(flops.ravel() / 6.0)
    low, high = np.empty(log_c6.size), np.empty(log_c6.size)
    step = max(1, 2_000_000 // len(log_g))  # columns per block: bounded memory for big bootstraps
    for start in range(0, log_c6.size, step):
        block = slice(start, start + step)
        # Percentiles of N itself (not of log N), as the bootstrap's intervals; the clip keeps a
        # wild resample's exp finite (it sits in a tail, beyond any percentile drawn).
        n_opt = np.exp(np.clip(log_g + a * log_c6[None, block], -700.0, 700.0))
        low[block], high[block] = np.percentile(n_opt, [tail, 100.0 - tail], axis=0)
    return low.reshape(flops.shape), high.reshape(flops.shape)


def _confidence_label(bootstrap: BootstrapResult) -> str:
    return f"{100.0 * bootstrap.confidence:g}%"


def _n_opt_interval(bootstrap: BootstrapResult, flops: float) -> tuple[float, float] | None:
    """The bootstrap's N_opt interval at budget `flops`, if it has one (``bootstrap.budgets``)."""
    match = np.flatnonzero(np.isclose(bootstrap.budgets, flops, rtol=1e-9, atol=0.0))
    if not match.size:
        return None
    low, high = (float(x) for x in bootstrap.interval["N_opt"][match[0]])
    return (low, high) if np.isfinite([low, high]).all() else None


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
    bootstrap: BootstrapResult | None = None,
) -> Axes:
    """Left panel: iso-loss contours of the law over (training FLOPs, model size), the runs coloured
    by loss on the same scale, the efficient frontier, one dashed line per IsoFLOP slice, the Gopher
    budget and the model size the law makes optimal there.

    With `bootstrap` (a ``BootstrapResult`` of this fit), the frontier also gets its percentile band
    at ``bootstrap.confidence`` (``frontier_band``), clipped to the panel, and the Gopher star an
    error bar from the bootstrap's N_opt interval, if ``bootstrap.budgets`` holds `gopher_flops`.
    """
    from matplotlib.cm import ScalarMappable

    law = as_law(params)
    if bootstrap is not None:
        _check_bootstrap(bootstrap, law)
    groups, shown = _slices(runs, budgets)
    at_gopher = compute_optimal(law, gopher_flops)
    others = [excluded] if excluded else []
    all_c = np.concatenate([runs.C, [gopher_flops], *(r.C for r in others)])
    all_n = np.concatenate([runs.N, np.atleast_1d(at_gopher.N), *(r.N for r in others)])
    c_range, n_range = _span(all_c, factor=4.0), _span(all_n, factor=3.0)

    c_axis = np.geomspace(*c_range, 480)
    n_axis = np.geomspace(*n_range, 400)
    grid = law.loss_grid(n_axis, c_axis)  # rows follow N, columns C: contour(x=C, y=N)
    norm = _loss_norm(law, runs, excluded)
    cmap = LOSS_COLORMAP
    loss_low, loss_high = float(norm.vmin or 0.0), float(norm.vmax or 0.0)  # set by _loss_norm
    contour_levels = np.geomspace(loss_low, loss_high, levels)
    ax.contour(c_axis, n_axis, grid, levels=contour_levels, cmap=cmap, norm=norm, linewidths=1.0)

    ax.scatter(
        runs.C,
        runs.N,
        c=runs.loss,
        cmap=cmap,
        norm=norm,
        s=14,
        edgecolors="k",
        linewidths=0.3,
        label="Empirical data",
        zorder=3,
    )
    if excluded is not None and len(excluded):
        ax.scatter(
            excluded.C,
            excluded.N,
            marker="x",
            c="0.35",
            s=22,
            linewidths=1.0,
            label="Excluded from fit",
            zorder=3,
        )

    frontier = compute_optimal(law, c_axis)
    ax.plot(c_axis, frontier.N, color=FRONTIER_COLOR, linewidth=2.2, label="Efficient frontier", zorder=4)
    if bootstrap is not None:
        # Clipped to the panel's range: a wide band must neither set the limits nor leave them.
        low, high = (np.clip(edge, *n_range) for edge in frontier_band(bootstrap, c_axis))
        ax.fill_between(
            c_axis,
            low,
            high,
            color=FRONTIER_COLOR,
            alpha=BAND_ALPHA,
            linewidth=0,
            label=f"Frontier, {_confidence_label(bootstrap)} bootstrap interval",
            zorder=2.5,
        )

    for color, group in zip(_budget_colors(len(shown)), shown):
        ax.axvline(
            groups.budgets[group],
            color=color,
            linestyle="--",
            linewidth=1.0,
            label="IsoFLOPs slice" if group == shown[0] else None,
        )
    ax.axvline(gopher_flops, color="0.3", linestyle=":", linewidth=1.2, label="Gopher budget")
    n_gopher = float(at_gopher.N)
    ax.scatter([gopher_flops], [n_gopher], marker="*", s=180, color=FRONTIER_COLOR, edgecolors="k", zorder=5)
    interval = None if bootstrap is None else _n_opt_interval(bootstrap, gopher_flops)
    if bootstrap is not None and interval is not None:
        low, high = interval
        ax.errorbar(
            [gopher_flops],
            [n_gopher],
            yerr=[[max(n_gopher - low, 0.0)], [max(high - n_gopher, 0.0)]],
            fmt="none",
            ecolor=FRONTIER_COLOR,
            elinewidth=1.6,
            capsize=5,
            capthick=1.6,
            zorder=4.5,
        )
        # Stacked above-left of the star, clear of the caps and of the band below the frontier.
        ax.annotate(
            f"{human(n_gopher)}",
            (gopher_flops, n_gopher),
            xytext=(-12, 20),
            textcoords="offset points",
            ha="right",
            fontsize=10,
            color=FRONTIER_COLOR,
            fontweight="bold",
        )
        ax.annotate(
            f"{_confidence_label(bootstrap)}: {human(low)} to {human(high)}",
            (gopher_flops, n_gopher),
            xytext=(-12, 8),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color=FRONTIER_COLOR,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
        )
    else:
        ax.annotate(
            f"{human(n_gopher)}",
            (gopher_flops, n_gopher),
            xytext=(-8, 8),
            textcoords="offset points",
            ha="right",
            fontsize=10,
            color=FRONTIER_COLOR,
            fontweight="bold",
        )

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
    ticks = [t for t in _NICE_LOSSES if loss_low <= t <= loss_high]
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
    approach2: Approach2Result | None = None,
) -> Axes:
    """Right panel: loss against model size for each training budget of the runs (the runs as
    points, the law along C = const as a dashed curve), plus the law's curve at the Gopher budget.

    With `approach2` (an ``Approach2Result`` of these runs, grouped by the same budgets), each used
    budget's parabola is drawn faintly over the budget's range of model sizes and its minimum
    (N_opt, loss there) as a diamond in the budget's colour; a minimum outside that range (an
    extrapolation, ``Approach2Result.inside``) is hollow, the parabola dotted on to it. ValueError
    if one of its used budgets is none of the panel's budget groups.
    """
    law = as_law(params)
    approach2 = _check_approach2(approach2)
    groups, shown = _slices(runs, budgets)
    group_of = None if approach2 is None else _group_of_minima(approach2, groups)
    at_gopher = compute_optimal(law, gopher_flops)
    others = [excluded] if excluded else []
    all_n = np.concatenate([runs.N, np.atleast_1d(at_gopher.N), *(r.N for r in others)])
    n_range = _span(all_n, factor=2.0)
    n_axis = np.geomspace(*n_range, 300)

    for color, group in zip(_budget_colors(len(shown)), shown):
        budget = groups.budgets[group]
        members = groups.members(group)
        ax.scatter(runs.N[members], runs.loss[members], color=color, s=14, zorder=3)
        ax.plot(
            n_axis,
            law.predict(n_axis, budget / (6.0 * n_axis)),
            color=color,
            linestyle="--",
            linewidth=1.2,
            label=f"{budget:.0e}".replace("e+", "e"),
        )
    ax.plot(
        n_axis,
        law.predict(n_axis, gopher_flops / (6.0 * n_axis)),
        color="0.2",
        linestyle="--",
        linewidth=1.4,
        label="Gopher",
    )
    in_slice = np.isin(groups.label, shown)
    if not in_slice.all():
        ax.scatter(
            runs.N[~in_slice],
            runs.loss[~in_slice],
            color=OTHER_COLOR,
            s=10,
            zorder=2,
            label="Other runs (no slice)",
        )
    if excluded is not None and len(excluded):
        ax.scatter(
            excluded.N,
            excluded.loss,
            marker="x",
            c="0.35",
            s=22,
            linewidths=1.0,
            label="Excluded from fit",
            zorder=3,
        )

    handles: dict[str, Any] = {}
    if approach2 is not None:
        handles = _draw_minima(ax, approach2, group_of, groups, runs, shown)

    losses = runs.loss if excluded is None else np.concatenate([runs.loss, excluded.loss])
    low = min(float(losses.min()), float(at_gopher.loss)) * 0.95
    ax.set_xscale("log")
    ax.set_xlim(*n_range)
    ax.set_ylim(low, float(losses.max()) * 1.05)
    ax.set_xlabel("Model size")
    ax.set_ylabel("Loss")
    ax.set_title("IsoFLOPs slices")
    entries, labels = ax.get_legend_handles_labels()
    entries = [handles.get(label, entry) for entry, label in zip(entries, labels)]
    ax.legend(
        entries, labels, title="Train. FLOPs", fontsize=8, title_fontsize=8, loc="upper right", framealpha=0.9
    )
    return ax


def _check_approach2(approach2: Any) -> Approach2Result | None:
    if approach2 is None or isinstance(approach2, Approach2Result):
        return approach2
    raise ValueError(
        f"approach2 must be an Approach2Result (from scalinglaw.approach2), got {type(approach2).__name__}"
    )


def _group_of_minima(approach2: Approach2Result, groups: BudgetGroups) -> Any:
    """For each budget of `approach2`, the index of the panel's budget group with that budget (-1
    for a budget Approach 2 did not use); ValueError for a used budget that is no group's."""
    position = np.full(len(approach2.budgets), -1, dtype=np.intp)
    for k in np.flatnonzero(approach2.used):
        # By value: the same nominal budgets give equal values; budgets found by grouping runs
        # (geometric means of their C) agree to rounding if the same runs were grouped.
        close = np.isclose(groups.budgets, approach2.budgets[k], rtol=1e-6, atol=0.0)
        match = np.flatnonzero(close)
        if not match.size:
            listed = ", ".join(f"{c:.3g}" for c in groups.budgets)
            raise ValueError(
                f"approach2's budget {approach2.budgets[k]:.4g} FLOPs is none of the panel's "
                f"IsoFLOP budgets ({listed} FLOPs): pass approach2 of these runs, grouped by the "
                "same budgets"
            )
        position[k] = match[0]
    return position


def _draw_minima(
    ax: Axes,
    approach2: Approach2Result,
    group_of: Any,
    groups: BudgetGroups,
    runs: Runs,
    shown: list[int],
) -> dict[str, Any]:
    """Approach 2's parabolas (faint) and minima; returns neutral legend handles by label, since a
    scatter of many colours would show its first point's colour in the legend.

    A minimum is coloured as its budget's slice. Approach 2 may group runs its own way (nearest
    budget) where the panel found budgets by clustering the runs' C: a used budget whose panel group
    has too few runs to be a slice gets the grey of the runs outside slices, and no parabola.
    """
    from matplotlib.lines import Line2D

    slice_colors = dict(zip(shown, _budget_colors(len(shown))))
    colors = [slice_colors.get(int(g), OTHER_COLOR) for g in group_of]

    def parabola(k: int, low: float, high: float, linestyle: str) -> None:
        x = np.linspace(np.log(low), np.log(high), 120)
        u = x - approach2.center[k]
        ax.plot(
            np.exp(x),
            approach2.c0[k] + approach2.c1[k] * u + approach2.c2[k] * u * u,
            color=colors[k],
            linestyle=linestyle,
            linewidth=0.8,
            alpha=0.55,
            zorder=2,
        )

    used = np.flatnonzero(group_of >= 0)
    for k in (int(i) for i in used if group_of[i] in slice_colors):
        members = groups.members(group_of[k])
        low, high = float(runs.N[members].min()), float(runs.N[members].max())
        parabola(k, low, high, "-")  # where the budget has runs
        if not approach2.inside[k]:  # dotted on to an extrapolated minimum
            n_opt = float(approach2.N_opt[k])
            parabola(k, *((n_opt, low) if n_opt < low else (high, n_opt)), ":")

    handles: dict[str, Any] = {}
    label = "Parabola minimum (Approach 2)"
    inside = used[approach2.inside[used]]
    outside = used[~approach2.inside[used]]
    if inside.size:
        ax.scatter(
            approach2.N_opt[inside],
            approach2.loss_opt[inside],
            marker=MINIMUM_MARKER,
            s=60,
            c=[colors[k] for k in inside],
            edgecolors="k",
            linewidths=1.1,
            label=label,
            zorder=5,
        )
        handles[label] = Line2D(
            [],
            [],
            linestyle="none",
            marker=MINIMUM_MARKER,
            markersize=7,
            markerfacecolor="0.55",
            markeredgecolor="k",
        )
    if outside.size:
        hollow = "Parabola minimum (extrapolated)"
        ax.scatter(
            approach2.N_opt[outside],
            approach2.loss_opt[outside],
            marker=MINIMUM_MARKER,
            s=60,
            facecolors="none",
            edgecolors=[colors[k] for k in outside],
            linewidths=1.6,
            label=hollow,
            zorder=5,
        )
        handles[hollow] = Line2D(
            [],
            [],
            linestyle="none",
            marker=MINIMUM_MARKER,
            markersize=7,
            markerfacecolor="none",
            markeredgecolor="0.3",
            markeredgewidth=1.4,
        )
    return handles


def figure4(
    params: Any,
    runs: Runs,
    *,
    excluded: Runs | None = None,
    budgets: Any = None,
    gopher_flops: float = GOPHER_FLOPS,
    figsize: tuple[float, float] = (13.0, 5.2),
    bootstrap: BootstrapResult | None = None,
    approach2: Approach2Result | None = None,
) -> Figure:
    """Both panels of Hoffmann et al.'s Figure 4 for the law `params` (a FitResult, Law or mapping)
    fitted to `runs`; `excluded` runs are drawn and marked as excluded. Returns the Figure.

    `bootstrap` (a ``BootstrapResult`` of this fit) adds the frontier's interval band to the left
    panel, `approach2` (an ``Approach2Result`` of these runs) the parabola minima to the right one;
    see ``draw_isoloss`` and ``draw_isoflop``. Both are checked before anything is drawn.
    """
    from matplotlib.figure import Figure

    law = as_law(params)
    if bootstrap is not None:
        _check_bootstrap(bootstrap, law)
    approach2 = _check_approach2(approach2)
    if approach2 is not None:
        _group_of_minima(approach2, _slices(runs, budgets)[0])
    figure = Figure(figsize=figsize, layout="constrained")
    left, right = figure.subplots(1, 2)
    draw_isoloss(
        left, law, runs, excluded=excluded, budgets=budgets, gopher_flops=gopher_flops, bootstrap=bootstrap
    )
    draw_isoflop(
        right, law, runs, excluded=excluded, budgets=budgets, gopher_flops=gopher_flops, approach2=approach2
    )
    return figure


def save_figure4(path: str | os.PathLike[str], params: Any, runs: Runs, **options: Any) -> Figure:
    """``figure4`` written to `path`; the format follows the extension (.png, .pdf, .svg). `options`
    are those of ``figure4`` (``excluded``, ``budgets``, ``bootstrap``, ``approach2``, ...)."""
    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if extension not in {"png", "pdf", "svg"}:
        raise ValueError(f"the figure's file name must end in .png, .pdf or .svg, got {os.fspath(path)!r}")
    figure = figure4(params, runs, **options)
    figure.savefig(path, dpi=150)
    return figure
