"""Figure 4's arguments checked at the door: anything wrong is a ValueError naming the argument,
never a TypeError or AttributeError from deep inside matplotlib."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks
from .io import Runs
from .law import ScalingLaw, as_law

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Columns a mapping or DataFrame of runs may have (D, or C = 6 N D).
RUN_COLUMNS = (("N", "D", "loss"), ("N", "C", "loss"))
#: The options ``save_figure4`` passes to ``figure4``.
FIGURE4_OPTIONS = frozenset(
    {
        "excluded",
        "budgets",
        "gopher_flops",
        "planned",
        "figsize",
        "ax",
        "levels",
        "cmap",
        "bootstrap",
        "approach2",
        "unique_token_budget",
    }
)


def as_runs(runs: Any, name: str) -> Runs:
    """Runs from Runs, a mapping or DataFrame with columns N, D (or C), loss, or a sequence
    (N, D, loss) of array-likes."""
    if isinstance(runs, Runs):
        return runs
    if isinstance(runs, Mapping) or hasattr(runs, "columns"):
        keys = set(runs.keys())
        for n, other, loss in RUN_COLUMNS:
            if {n, other, loss} <= keys:
                values = [_checks.as_float_array(runs[key], f"{name}[{key!r}]") for key in (n, other, loss)]
                d = values[1] if other == "D" else values[1] / (6.0 * values[0])
                return Runs(values[0], d, values[2])
        raise ValueError(f"{name} must have columns N, D (or C) and loss, got {sorted(map(str, keys))}")
    if isinstance(runs, Sequence) and not isinstance(runs, str) and len(runs) == 3:
        sizes, tokens, losses = (_checks.as_float_array(v, f"{name}[{i}]") for i, v in enumerate(runs))
        return Runs(sizes, tokens, losses)
    raise ValueError(
        f"{name} must be Runs, a mapping or DataFrame with columns N, D (or C), loss, or a sequence "
        f"(N, D, loss); got {type(runs).__name__}"
    )


def checked_law(params: Any) -> ScalingLaw:
    """The law to draw: a law object (``Chinchilla``, ``Kaplan``, ``DataConstrained``), the law of a
    FitResult or SavedFit, or the Chinchilla law of a mapping with keys E, A, B, alpha, beta."""
    if isinstance(params, ScalingLaw):
        return params
    law = getattr(params, "law", None)
    if isinstance(law, ScalingLaw):
        return law
    try:
        return as_law(params)
    except (TypeError, AttributeError) as error:
        raise ValueError(f"params must be a law, a FitResult or a mapping: {error}") from error


def unique_token_budget(value: Any, law: ScalingLaw) -> float | None:
    """The unique tokens a data-constrained law is drawn under (None: U_D = D, no repetition);
    ValueError for a law the unique tokens do not enter."""
    if value is None:
        return None
    if not law.needs_unique_tokens:
        raise ValueError(
            f"unique_token_budget applies to a law of repeated data (data_constrained); the {law.KIND} "
            "law does not depend on unique tokens"
        )
    return _checks.positive_number(value, "unique_token_budget")


def optional_runs(runs: Any, name: str) -> Runs | None:
    return None if runs is None else as_runs(runs, name)


def gopher_budget(value: Any) -> float | None:
    return None if value is None else _checks.positive_number(value, "gopher_flops")


def planned_budgets(values: Any) -> Any:
    """Budgets to mark (FLOPs), as a 1-D array (empty for None)."""
    if values is None:
        return np.empty(0)
    return _checks.positive_1d(
        np.atleast_1d(_checks.as_float_array(values, "planned")), "planned", what="budget"
    )


def check_axes(ax: Any, name: str) -> Axes:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes, got {type(ax).__name__}")
    if ax.get_figure(root=True) is None:
        raise ValueError(f"{name} must belong to a Figure")
    return ax


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_levels(levels: Any) -> int | Any:
    """An approximate count (int >= 2) or increasing losses > 0."""
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        if levels < 2:
            raise ValueError(f"levels must be at least 2 contours, got {levels}")
        return int(levels)
    values = np.atleast_1d(_checks.as_float_array(levels, "levels"))
    values = _checks.positive_1d(values, "levels", what="loss")
    if len(values) == 0 or (np.diff(values) <= 0).any():
        raise ValueError(f"levels must be a count or increasing losses, got {list(values)}")
    return values


def check_figsize(figsize: Any) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"figsize must be (width, height) in inches, got {figsize!r}") from None
    if not all(math.isfinite(v) and v > 0 for v in (width, height)):
        raise ValueError(f"figsize must be two finite sizes > 0 (inches), got {figsize!r}")
    return width, height


def check_figure4_options(options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - FIGURE4_OPTIONS)
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)}; figure4 takes {', '.join(sorted(FIGURE4_OPTIONS))}"
        )
