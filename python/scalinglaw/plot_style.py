"""Figure 4's look, as Hoffmann et al. draw it: the loss colour map read from their figure, model
sizes labelled 100M / 1B / 10B / 40B / 100B, sizes that scale with the figure, and the settings that
keep text as text in PDF and SVG output.

matplotlib is imported inside the functions, so importing scalinglaw stays light.
"""

from __future__ import annotations

import csv
import math
from contextlib import AbstractContextManager
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from .summary import human

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.colors import Colormap

#: The paper's colours: the IsoFLOP slices on the left, its frontier, its Gopher marks.
SLICE_COLOR = "#2ca02c"
FRONTIER_COLOR = "tab:blue"
GOPHER_COLOR = "k"
#: The right panel's budget curves: a light-to-dark stretch of this map, light green to navy.
BUDGET_COLORMAP = "YlGnBu"
BUDGET_RANGE = (0.4, 1.0)
#: The model sizes the paper labels (parameters); decades outside them are labelled alike.
PAPER_SIZE_TICKS = (1e8, 1e9, 1e10, 4e10, 1e11)
#: Text size (points) at the figure's reference width; smaller figures scale it down.
BASE_FONT_SIZE = 10.0
REFERENCE_WIDTH = 13.0  # inches
#: How the figures name each law (the Chinchilla law's Figure 4 is the paper's and names none).
LAW_NAMES = {
    "chinchilla": "Chinchilla law",
    "kaplan": "Kaplan et al.'s law",
    "data_constrained": "data-constrained law",
}
#: Saving: TrueType (Type 42) fonts in PDF, since many venues refuse Type 3; text kept as text in SVG.
VECTOR_RC: dict[str, Any] = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}


@cache
def run_markers(size: float) -> dict[str, Any]:
    """How a fitted run is drawn at figure scale ``size`` (both panels, whatever colours it)."""
    return {"s": 14 * size**2, "edgecolors": "k", "linewidths": 0.3, "zorder": 3}


def paper_colors() -> tuple[tuple[float, ...], tuple[str, ...]]:
    """(losses, hex colours) of the shipped Chinchilla runs, as read from the paper's SVG; one entry
    per distinct colour (the median loss of the runs drawn in it), sorted by loss."""
    text = resources.files("scalinglaw").joinpath("data/chinchilla_fig4_epoch.csv").read_text()
    by_color: dict[str, list[float]] = {}
    for row in csv.DictReader(text.splitlines()):
        by_color.setdefault(row["hex_color"].lower(), []).append(float(row["loss"]))
    pairs = sorted((float(np.median(losses)), color) for color, losses in by_color.items())
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


@cache
def loss_colormap() -> Colormap:
    """The paper's loss colours, dark purple (low) to light peach (high): a colour map through the
    colours of the shipped runs, placed by log loss between the lowest and highest (a LogNorm over
    those losses gives each run back its colour in the paper)."""
    from matplotlib.colors import LinearSegmentedColormap

    losses, colors = paper_colors()
    log = np.log(losses)
    position = (log - log[0]) / (log[-1] - log[0])
    return LinearSegmentedColormap.from_list("chinchilla_loss", list(zip(position, colors)), N=512)


def as_colormap(cmap: Any, name: str = "cmap") -> Colormap:
    """A Colormap from None (the paper's), a registered name or a Colormap; ValueError otherwise."""
    from matplotlib import colormaps
    from matplotlib.colors import Colormap

    if cmap is None:
        return loss_colormap()
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in colormaps:
        return colormaps[cmap]
    raise ValueError(f"{name} must be a matplotlib Colormap or the name of one, got {cmap!r}")


def budget_shades(count: int) -> list[tuple[float, float, float]]:
    """`count` colours of the IsoFLOP budgets' curves, light green (smallest budget) through blue to
    dark navy (largest), as the paper darkens its curves as the budget grows."""
    from matplotlib import colormaps

    ramp = colormaps[BUDGET_COLORMAP]
    shades = []
    for x in np.linspace(*BUDGET_RANGE, count) if count > 1 else [BUDGET_RANGE[1]]:
        red, green, blue, _ = ramp(float(x))
        shades.append((red, green, blue))
    return shades


def size_ticks(low: float, high: float) -> list[float]:
    """Model-size ticks in [low, high]: each decade (every 2nd or 3rd over a wide range, so that at
    most 7 are labelled), plus 40B as the paper labels it when the decades are all shown."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    step = max(1, math.ceil((last - first + 1) / 7))
    ticks = [10.0**k for k in range(first, last + 1, step)]
    if step == 1:
        ticks += [t for t in PAPER_SIZE_TICKS if low <= t <= high and t not in ticks]
    return sorted(ticks)


def label_sizes(axis: Axis, low: float, high: float) -> None:
    """Ticks at `size_ticks(low, high)` labelled 100M, 1B, 40B, ...; no minor labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    axis.set_major_locator(FixedLocator(size_ticks(low, high)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: human(value)))
    axis.set_minor_formatter(NullFormatter())


def decade_span(values: Any, *, low_factor: float, high_factor: float) -> tuple[float, float]:
    """A log range from min/low_factor to max*high_factor."""
    values = np.asarray(values, dtype=float)
    return float(values.min()) / low_factor, float(values.max()) * high_factor


def scale(figure_width: float) -> float:
    """How much text, markers and lines shrink in a figure `figure_width` inches wide (1 at the
    reference 13 in, never below 0.62: 6.2 pt text at a 7-inch column width stays legible)."""
    return float(np.clip(figure_width / REFERENCE_WIDTH, 0.62, 1.0))


def vector_fonts() -> AbstractContextManager[None]:
    """rc settings for saving: Type 42 fonts in PDF, <text> in SVG, only while saving."""
    from matplotlib import rc_context

    return rc_context(dict(VECTOR_RC))  # type: ignore[arg-type]


def law_label(kind: str, unique_tokens: float | None = None) -> str:
    """The law's name for a title; the data-constrained law's with the unique tokens it is drawn at:
    "U_D = D" (no repeated data) or "U_D = min(D, 20B)" (a budget of 20B unique tokens)."""
    name = LAW_NAMES[kind]
    if kind != "data_constrained":
        return name
    budget = "D" if unique_tokens is None else f"min(D, {human(unique_tokens)})"
    return f"{name}, U_D = {budget}"
