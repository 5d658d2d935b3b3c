"""IsoFLOP slices: runs grouped by training budget C = 6 N D, and Hoffmann et al.'s Approach 2.

A sweep trains several model sizes at each of a few budgets (Hoffmann et al.'s IsoFLOP profiles).
``group_by_budget`` recovers those groups: given the sweep's nominal budgets, each run joins the nearest
one in log C; without them, runs whose budgets lie within a relative tolerance form a group.

``approach2`` is the paper's Approach 2, the usual cross-check of the fitted law (Approach 3): in
each group, a least-squares parabola of the loss against ln N; its minimum is that budget's
N_opt(C); then N_opt = k_N C^a and D_opt = C / (6 N_opt) = k_D C^b by least squares in ln-ln
across the budgets. The arithmetic is done by the C++ core (``cpp/src/isoflop.cpp``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks, _core
from ._checks import FloatArray
from .warnings import BudgetGroupingWarning, IsoflopWarning, warn

__all__ = [
    "Approach2Result",
    "BudgetGroupingWarning",  # from .warnings, importable from here as before
    "BudgetGroups",
    "IsoflopWarning",
    "approach2",
    "approach2_of_groups",
    "distinct_budgets",
    "group_by_budget",
]


@dataclass(frozen=True)
class BudgetGroups:
    """``label[i]`` is the index into ``budgets`` of run i's group, or -1 when it joins none."""

    budgets: FloatArray  #: the group budgets, ascending (FLOPs)
    label: NDArray[np.intp]  #: per run

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
    if not len(flops):  # no run, no budget (the mean of none would be a NaN budget)
        raise ValueError("C must hold the training FLOPs of at least one run to group, got none")
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

    nominal = np.sort(
        _checks.positive_1d(
            np.atleast_1d(_checks.as_float_array(budgets, "budgets")), "budgets", what="budget"
        )
    )
    distance = np.abs(np.log10(flops)[:, None] - np.log10(nominal)[None, :])
    label = np.argmin(distance, axis=1).astype(np.intp)
    far = distance[np.arange(len(flops)), label] > _checks.positive_number(max_distance, "max_distance")
    label[far] = -1
    if far.any():
        warn(
            f"{int(far.sum())} of {len(flops)} runs lie more than {max_distance} decades from every budget "
            "and join no IsoFLOP group",
            BudgetGroupingWarning,
        )
    return BudgetGroups(nominal, label)


@dataclass(frozen=True, repr=False)
class Approach2Result:
    """Approach 2: one parabola per budget (arrays in the order of ``budgets``), and the exponents.

    With x = ln N, a budget's parabola is loss = c0 + c1 (x - center) + c2 (x - center)^2 (centred
    on the group's mean ln N for conditioning); its minimum is N_opt = exp(center - c1 / (2 c2)).
    """

    budgets: FloatArray  #: each group's budget C (FLOPs)
    runs: NDArray[np.int64]  #: runs in each group
    sizes: NDArray[np.int64]  #: distinct model sizes among them
    center: FloatArray  #: mean ln N of each group
    c0: FloatArray  #: the parabola's coefficients (NaN without 3 distinct sizes)
    c1: FloatArray
    c2: FloatArray
    N_opt: FloatArray  #: parameters at each minimum (NaN where the budget was skipped)
    D_opt: FloatArray  #: tokens there, C / (6 N_opt)
    loss_opt: FloatArray  #: the parabola's minimum value
    inside: NDArray[np.bool_]  #: the minimum lies within the group's range of N
    status: tuple[str, ...]  #: "used", "too_few_sizes" or "opens_downward"
    reason: tuple[str, ...]  #: why a budget was skipped ("" when used)
    a: float  #: N_opt = n_coefficient C^a
    n_coefficient: float
    b: float  #: D_opt = d_coefficient C^b (a + b = 1)
    d_coefficient: float

    @property
    def used(self) -> NDArray[np.bool_]:
        """Which budgets' minima the exponents are fitted to."""
        return np.array([s == "used" for s in self.status], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (for JSON)."""
        return {
            "a": self.a,
            "n_coefficient": self.n_coefficient,
            "b": self.b,
            "d_coefficient": self.d_coefficient,
            "budgets": [
                {
                    "C": float(self.budgets[k]),
                    "runs": int(self.runs[k]),
                    "sizes": int(self.sizes[k]),
                    "status": self.status[k],
                    "reason": self.reason[k],
                    "N_opt": float(self.N_opt[k]),
                    "D_opt": float(self.D_opt[k]),
                    "loss_opt": float(self.loss_opt[k]),
                    "inside": bool(self.inside[k]),
                    "center": float(self.center[k]),
                    "c0": float(self.c0[k]),
                    "c1": float(self.c1[k]),
                    "c2": float(self.c2[k]),
                }
                for k in range(len(self.budgets))
            ],
        }

    def __repr__(self) -> str:
        return (
            f"Approach2Result(a={self.a:.5g}, b={self.b:.5g}, "
            f"budgets used={int(self.used.sum())}/{len(self.budgets)})"
        )


def distinct_budgets(budgets: Any, name: str) -> FloatArray:
    """Nominal budgets (FLOPs) as a 1-D float64 array: at least one, finite, > 0, none repeated."""
    values = np.atleast_1d(_checks.as_float_array(budgets, name))
    values = _checks.positive_1d(values, name, what="budget")
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one budget, got none")
    for k in range(1, len(values)):
        earlier = np.flatnonzero(values[:k] == values[k])
        if earlier.size:
            raise ValueError(
                f"{name}[{k}] = {float(values[k])!r} repeats {name}[{earlier[0]}]: each budget "
                "must be distinct"
            )
    return values


def approach2(
    N: Any,
    D: Any,
    loss: Any,
    *,
    budgets: Any = None,
    max_distance: float = 0.3,
    rel_tol: float = 0.05,
) -> Approach2Result:
    """Hoffmann et al.'s Approach 2: the loss-minimising model size of each IsoFLOP profile.

    Parameters
    ----------
    N, D, loss
        Model sizes (parameters), training tokens and final losses: 1-D, equal length, finite, > 0.
        Each run's budget is C = 6 N D.
    budgets
        The sweep's nominal budgets (FLOPs); runs are grouped as by ``group_by_budget`` (each joins
        the nearest within ``max_distance`` decades). Default: groups of runs whose budgets lie
        within ``rel_tol`` of each other.
    max_distance, rel_tol
        As for ``group_by_budget``.

    Returns
    -------
    Approach2Result
        Each budget's parabola and minimum, and the exponents a, b of N_opt and D_opt in C, fitted
        to the budgets whose parabola has a minimum. Every other budget is named in an
        ``IsoflopWarning`` with the reason (fewer than 3 distinct model sizes, or a parabola that
        opens downward).

    Raises
    ------
    ValueError
        For bad runs or budgets, when no run joins any budget, or when fewer than 2 budgets have a
        parabola minimum (no exponents can be fitted).
    """
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    _checks.same_length(N=n, D=d, loss=l_)
    if len(n) == 0:
        raise ValueError("Approach 2 needs runs, got none")
    nominal = None if budgets is None else distinct_budgets(budgets, "budgets")
    groups = group_by_budget(6.0 * n * d, nominal, max_distance=max_distance, rel_tol=rel_tol)
    return approach2_of_groups(n, d, l_, groups)


def approach2_of_groups(
    n: FloatArray, d: FloatArray, loss: FloatArray, groups: BudgetGroups
) -> Approach2Result:
    """Approach 2 on checked runs already grouped (see ``approach2``); warnings point at the
    caller's caller (the user of ``approach2`` or ``bootstrap``)."""
    if not (groups.label >= 0).any():
        raise ValueError(
            f"no run joins any IsoFLOP budget ({len(n)} runs, budgets "
            f"{', '.join(f'{c:.3g}' for c in groups.budgets)} FLOPs): nothing to fit"
        )
    raw = _core.approach2(n, d, loss, groups.label.astype(np.int32), groups.budgets)
    p = raw.parabolas
    result = Approach2Result(
        budgets=np.array([x.C for x in p], dtype=np.float64),
        runs=np.array([x.runs for x in p], dtype=np.int64),
        sizes=np.array([x.sizes for x in p], dtype=np.int64),
        center=np.array([x.center for x in p], dtype=np.float64),
        c0=np.array([x.c0 for x in p], dtype=np.float64),
        c1=np.array([x.c1 for x in p], dtype=np.float64),
        c2=np.array([x.c2 for x in p], dtype=np.float64),
        N_opt=np.array([x.N_opt for x in p], dtype=np.float64),
        D_opt=np.array([x.D_opt for x in p], dtype=np.float64),
        loss_opt=np.array([x.loss_opt for x in p], dtype=np.float64),
        inside=np.array([x.inside for x in p], dtype=bool),
        status=tuple(x.status.name for x in p),
        reason=tuple(x.reason for x in p),
        a=raw.a,
        n_coefficient=raw.n_coefficient,
        b=raw.b,
        d_coefficient=raw.d_coefficient,
    )
    for k, status in enumerate(result.status):
        if status != "used":
            warn(
                f"IsoFLOP budget {result.budgets[k]:.3g} FLOPs left out of Approach 2: {result.reason[k]}",
                IsoflopWarning,
            )
    if not math.isfinite(result.a):
        raise ValueError(f"Approach 2 cannot fit exponents: {raw.message}")
    return result


#: An IsoFLOP slice: a budget group with at least this many distinct model sizes ...
SLICE_MIN_SIZES = 3
#: ... whose runs' C span at most this factor (runs grouped by closeness, without nominal budgets:
#: chained groups of a continuous spread of C are no profile at one budget).
SLICE_MAX_SPREAD = 1.5
#: The runs are an IsoFLOP design when at least 2 slices hold at least this share of them.
DESIGN_MIN_SHARE = 2.0 / 3.0


@dataclass(frozen=True)
class IsoflopDesign:
    """Whether runs form an IsoFLOP design (several model sizes trained at each of a few budgets).

    ``slices`` are the indices of the groups drawn and fitted as IsoFLOP profiles: at least
    ``SLICE_MIN_SIZES`` distinct model sizes and, for groups found without nominal budgets, C within
    a factor ``SLICE_MAX_SPREAD``. The design is IsoFLOP when at least 2 slices hold at least
    ``DESIGN_MIN_SHARE`` of the runs; ``reason`` says why not ("" when it is).
    """

    groups: BudgetGroups
    slices: tuple[int, ...]
    in_slices: int  #: runs in slices
    reason: str

    @property
    def is_isoflop(self) -> bool:
        return not self.reason


def isoflop_design(N: Any, C: Any, budgets: Any = None, *, rel_tol: float = 0.05) -> IsoflopDesign:
    """The runs' budget groups (``group_by_budget``, quietly) and whether they form an IsoFLOP
    design; see ``IsoflopDesign``. `N`, `C`: model sizes and training FLOPs of each run."""
    n = _checks.positive_1d(N, "N", what="model size")
    flops = _checks.positive_1d(C, "C", what="budget")
    _checks.same_length(N=n, C=flops)
    nominal = budgets is not None and len(np.atleast_1d(budgets)) > 0
    with warnings.catch_warnings():  # runs far from every budget are in no slice, said below
        warnings.simplefilter("ignore", BudgetGroupingWarning)
        groups = group_by_budget(flops, budgets if nominal else None, rel_tol=rel_tol)
    slices = []
    for g in range(len(groups.budgets)):
        members = groups.members(g)
        if len(np.unique(n[members])) < SLICE_MIN_SIZES:
            continue
        if nominal or flops[members].max() <= SLICE_MAX_SPREAD * flops[members].min():
            slices.append(g)
    in_slices = int(np.isin(groups.label, slices).sum())
    reason = ""
    if len(slices) < 2 or in_slices < DESIGN_MIN_SHARE * len(n):
        reason = (
            f"the runs are not an IsoFLOP design: {len(slices)} budget(s) have {SLICE_MIN_SIZES} or more "
            f"model sizes at one C = 6 N D, holding {in_slices} of {len(n)} runs (an IsoFLOP design "
            f"needs 2 or more such budgets holding {DESIGN_MIN_SHARE:.0%} of the runs)"
        )
    return IsoflopDesign(groups, tuple(slices), in_slices, reason)
