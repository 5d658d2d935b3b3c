"""Figure 4's extras: the frontier's bootstrap band (left panel) and Approach 2's parabola minima
(right panel), with the checks that they belong to the fit and runs drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks
from .bootstrap import BootstrapResult
from .io import Runs
from .isoflop import Approach2Result, BudgetGroups
from .law import ScalingLaw

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OTHER_COLOR = "0.6"  # runs (and Approach 2 minima) of budgets not drawn as a slice
MINIMUM_MARKER = "D"  # Approach 2's parabola minima (right panel)
BAND_ALPHA = 0.22  # opacity of the frontier's bootstrap band


def check_bootstrap(bootstrap: Any, law: ScalingLaw | None = None) -> BootstrapResult:
    """`bootstrap` if it is a BootstrapResult (with a band around the law drawn, when `law` is
    given); else ValueError."""
    if not isinstance(bootstrap, BootstrapResult):
        raise ValueError(
            f"bootstrap must be a BootstrapResult (from scalinglaw.bootstrap), got {type(bootstrap).__name__}"
        )
    if law is not None:
        count = int(usable_resamples(bootstrap).sum())
        if count < 2:
            raise ValueError(
                f"bootstrap has {count} of {bootstrap.n_resamples} resamples with a converged "
                "refit and a frontier: a band needs at least 2"
            )
        # The band is the spread of the bootstrap's own fit: drawn around another law's frontier it
        # would mislead. Both frontiers come from the same parameters by the same closed form, so
        # anything beyond rounding (e.g. parameters printed to 7 digits) is another fit.
        drawn = law.frontier_coefficients()
        point = (bootstrap.point["a"], bootstrap.point["G"])
        if not np.allclose(point, (drawn.a, drawn.G), rtol=1e-6, atol=0.0):
            raise ValueError(
                "bootstrap is of another fit: its frontier N_opt = G (C/6)^a has "
                f"a = {point[0]:.6g}, G = {point[1]:.6g}, the law drawn has a = {drawn.a:.6g}, "
                f"G = {drawn.G:.6g}; pass the bootstrap of this fit (scalinglaw.bootstrap(..., "
                "estimate=result))"
            )
    return bootstrap


def usable_resamples(bootstrap: BootstrapResult) -> Any:
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
    result = check_bootstrap(bootstrap)
    flops = _checks.as_float_array(C, "C")
    _checks.check_positive(flops, "C", what="budget")
    g, a = result.samples["G"], result.samples["a"]
    usable = usable_resamples(result)
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


def confidence_label(bootstrap: BootstrapResult) -> str:
    return f"{100.0 * bootstrap.confidence:g}%"


def n_opt_interval(bootstrap: BootstrapResult, flops: float) -> tuple[float, float] | None:
    """The bootstrap's N_opt interval at budget `flops`, if it has one (``bootstrap.budgets``)."""
    match = np.flatnonzero(np.isclose(bootstrap.budgets, flops, rtol=1e-9, atol=0.0))
    if not match.size:
        return None
    low, high = (float(x) for x in bootstrap.interval["N_opt"][match[0]])
    return (low, high) if np.isfinite([low, high]).all() else None


def check_approach2(approach2: Any) -> Approach2Result | None:
    if approach2 is None or isinstance(approach2, Approach2Result):
        return approach2
    raise ValueError(
        f"approach2 must be an Approach2Result (from scalinglaw.approach2), got {type(approach2).__name__}"
    )


def group_of_minima(approach2: Approach2Result, groups: BudgetGroups) -> Any:
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


def draw_minima(
    ax: Axes,
    approach2: Approach2Result,
    group_of: Any,
    groups: BudgetGroups,
    runs: Runs,
    slice_colors: dict[int, Any],
    size: float = 1.0,
) -> dict[str, Any]:
    """Approach 2's parabolas (faint) and minima; returns neutral legend handles by label, since a
    scatter of many colours would show its first point's colour in the legend.

    A minimum is coloured as its budget's slice. Approach 2 may group runs its own way (nearest
    budget) where the panel found budgets by clustering the runs' C: a used budget whose panel group
    has too few runs to be a slice gets the grey of the runs outside slices, and no parabola.
    """
    from matplotlib.lines import Line2D

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
            s=60 * size**2,
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
            markersize=7 * size,
            markerfacecolor="0.55",
            markeredgecolor="k",
        )
    if outside.size:
        hollow = "Parabola minimum (extrapolated)"
        ax.scatter(
            approach2.N_opt[outside],
            approach2.loss_opt[outside],
            marker=MINIMUM_MARKER,
            s=60 * size**2,
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
            markersize=7 * size,
            markerfacecolor="none",
            markeredgecolor="0.3",
            markeredgewidth=1.4,
        )
    return handles
