"""Figures for judging a fit: a backtest's held-out predictions and plan drift, and a fit's residuals.

Like ``plot``, nothing here needs a display: figures are ``matplotlib.figure.Figure`` objects, imported
lazily, and the caller saves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .backtest import BacktestResult
from .goodness import GoodnessOfFit

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def backtest_figure(result: BacktestResult, *, figsize: tuple[float, float] = (11.0, 4.5)) -> Figure:
    """Left: predicted against observed loss of every split's held-out runs, with their predictive
    intervals. Right: each split's plan drift (N_opt of the training fit over the full data's) at each
    budget, with the training fit's interval; 1 is no drift."""
    from matplotlib.figure import Figure

    if not isinstance(result, BacktestResult):
        raise ValueError(f"result must be a BacktestResult, got {type(result).__name__}")
    if not result.splits:
        raise ValueError("the backtest has no split to draw (every split was skipped)")
    figure = Figure(figsize=figsize, layout="constrained")
    held, drift = figure.subplots(1, 2)
    colors = [f"C{k % 10}" for k in range(len(result.splits))]
    lows, highs = [], []
    for split, color in zip(result.splits, colors):
        errors = np.abs(np.vstack([split.predicted - split.low, split.high - split.predicted]))
        held.errorbar(
            split.observed,
            split.predicted,
            yerr=errors,
            fmt="o",
            markersize=3,
            elinewidth=0.6,
            alpha=0.7,
            color=color,
            label=f"{split.name} (ARE {100 * split.are_mean:.2g}%, cover {100 * split.coverage:.0f}%)",
        )
        lows.append(min(split.observed.min(), split.low.min()))
        highs.append(max(split.observed.max(), split.high.max()))
    span = [min(lows), max(highs)]
    held.plot(span, span, color="0.4", linewidth=0.8, linestyle="--", zorder=0)
    held.set(xlabel="observed loss (held out)", ylabel="predicted loss", title="Held-out runs")
    held.legend(fontsize="small", loc="upper left")

    positions = np.arange(len(result.splits))
    budgets = [plan.C for plan in result.splits[0].plans]
    width = 0.8 / max(len(budgets), 1)
    for k, budget in enumerate(budgets):
        offset = positions + (k - (len(budgets) - 1) / 2) * width
        ratio = np.array([split.plans[k].drift for split in result.splits])
        bounds = np.array([split.plans[k].N_opt_interval for split in result.splits]) / np.array(
            [[split.plans[k].N_opt_full] for split in result.splits]
        )
        drift.errorbar(
            offset,
            ratio,
            yerr=np.abs(np.vstack([ratio - bounds[:, 0], bounds[:, 1] - ratio])),
            fmt="s",
            markersize=4,
            capsize=2,
            label=f"C = {budget:.3g} FLOPs",
        )
    drift.axhline(1.0, color="0.4", linewidth=0.8, linestyle="--")
    drift.set_yscale("log")
    drift.set_xticks(positions, [split.name for split in result.splits], rotation=20)
    drift.set(ylabel="N_opt (training fit) / N_opt (all runs)", title="Plan drift")
    drift.legend(fontsize="small")
    return figure


def residual_figure(
    goodness: GoodnessOfFit, N: Any, D: Any, loss: Any, *, figsize: tuple[float, float] = (11.0, 8.0)
) -> Figure:
    """Residuals (log observed - log predicted) against compute, tokens per parameter and model size,
    and predicted against observed loss; possible outliers ringed."""
    from matplotlib.figure import Figure

    if not isinstance(goodness, GoodnessOfFit):
        raise ValueError(f"goodness must be a GoodnessOfFit, got {type(goodness).__name__}")
    n, d, l_ = (np.asarray(values, dtype=np.float64) for values in (N, D, loss))
    if not n.shape == d.shape == l_.shape == goodness.residuals.shape:
        raise ValueError(
            f"N, D and loss must be the runs the goodness of fit was computed on ({goodness.residuals.size})"
        )
    r = goodness.residuals
    outlier = np.zeros(r.size, dtype=bool)
    outlier[goodness.outliers] = True
    figure = Figure(figsize=figsize, layout="constrained")
    axes = figure.subplots(2, 2)
    for ax, x, label in (
        (axes[0, 0], 6.0 * n * d, "training compute C (FLOPs)"),
        (axes[0, 1], d / n, "tokens per parameter"),
        (axes[1, 0], n, "model size N (parameters)"),
    ):
        ax.scatter(x[~outlier], r[~outlier], s=10, color="C0", alpha=0.7)
        ax.scatter(x[outlier], r[outlier], s=40, facecolors="none", edgecolors="C3", label="possible outlier")
        ax.axhline(0.0, color="0.4", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set(xlabel=label, ylabel="log residual")
    if outlier.any():
        axes[0, 0].legend(fontsize="small")
    predicted = l_ / np.exp(r)
    compare = axes[1, 1]
    compare.scatter(l_, predicted, s=10, color="C0", alpha=0.7)
    compare.scatter(l_[outlier], predicted[outlier], s=40, facecolors="none", edgecolors="C3")
    span = [min(l_.min(), predicted.min()), max(l_.max(), predicted.max())]
    compare.plot(span, span, color="0.4", linewidth=0.8, linestyle="--")
    compare.set(xlabel="observed loss", ylabel="predicted loss")
    figure.suptitle(f"Residuals: rms {goodness.rms:.3g} (log), max ARE {100 * goodness.are_max:.2g}%")
    return figure
