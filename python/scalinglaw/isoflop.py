"""IsoFLOP slices: runs grouped by their training budget C = 6 N D.

A sweep trains several model sizes at each of a few budgets (Hoffmann et al.'s IsoFLOP profiles).
``group_by_budget`` recovers those groups: given the sweep's nominal budgets, each run joins the nearest
one in log C; without them, runs whose budgets lie within a relative tolerance form a group.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks
from ._checks import FloatArray


class BudgetGroupingWarning(UserWarning):
    """Some runs could not be placed in any budget group."""


@dataclass(frozen=True)
class BudgetGroups:
    """``label[i]`` is the index into ``budgets`` of run i's group, or -1 when it joins none."""

    budgets: FloatArray         #: the group budgets, ascending (FLOPs)
    label: NDArray[np.intp]     #: per run

    def members(self, group: int) -> NDArray[np.intp]:
        """Indices of the runs in group ``group``."""
        return np.flatnonzero(self.label == group)

    @property
    def ungrouped(self) -> NDArray[np.intp]:
        return np.flatnonzero(self.label < 0)


def group_by_budget(
    C: Any, budgets: Any = None, *, max_distance: float = 0.3, rel_tol: float = 0.05
) -> BudgetGroups:
    """Group runs by training budget.

    Parameters
    ----------
    C
        Training FLOPs of each run (1-D, finite, > 0).
    budgets
        The sweep's nominal budgets. Each run joins the nearest in log C, if it is within
        ``max_distance`` decades; otherwise it joins none (a ``BudgetGroupingWarning`` says how many).
    max_distance
        Decades (log10 units) a run may lie from its nominal budget.
    rel_tol
        Without ``budgets``: consecutive budgets (sorted) closer than this relative gap join one group,
        whose budget is their geometric mean.
    """
    flops = _checks.positive_1d(C, "C", what="budget")
    if budgets is None:
        tolerance = _checks.positive_number(rel_tol, "rel_tol")
        order = np.argsort(flops, kind="stable")
        log_c = np.log(flops[order])
        breaks = np.flatnonzero(np.diff(log_c) > np.log1p(tolerance)) + 1
        label = np.empty(len(flops), dtype=np.intp)
        centres = []
        for group, block in enumerate(np.split(np.arange(len(flops)), breaks)):
            label[order[block]] = group
            centres.append(float(np.exp(log_c[block].mean())))
        return BudgetGroups(np.array(centres), label)

    nominal = np.sort(_checks.positive_1d(np.atleast_1d(_checks.as_float_array(budgets, "budgets")),
                                          "budgets", what="budget"))
    distance = np.abs(np.log10(flops)[:, None] - np.log10(nominal)[None, :])
    label = np.argmin(distance, axis=1).astype(np.intp)
    far = distance[np.arange(len(flops)), label] > _checks.positive_number(max_distance, "max_distance")
    label[far] = -1
    if far.any():
        warnings.warn(
            f"{int(far.sum())} of {len(flops)} runs lie more than {max_distance} decades from every budget "
            "and join no IsoFLOP group",
            BudgetGroupingWarning,
            stacklevel=2,
        )
    return BudgetGroups(nominal, label)
