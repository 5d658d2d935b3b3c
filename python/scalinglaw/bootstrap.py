"""Bootstrap standard errors and intervals for the Chinchilla fit (Besiroglu et al. 2024).

The runs are drawn with replacement ``n_resamples`` times, and every resample is refitted to
convergence by the C++ core, in parallel over the resamples with the GIL released; a raised Ctrl-C
stops it. The spread of the refits gives each quantity's standard error (the standard deviation of
its samples, ddof=1) and percentile interval (numpy's linear percentiles): the law's E, A, B, alpha,
beta; the frontier's a, b, G (see ``frontier``); N_opt, D_opt and tokens per parameter at the chosen
budgets; and, given IsoFLOP budgets, Approach 2's exponents of the same resamples (see ``isoflop``).

Resamples come from a portable generator (xoshiro256** seeded by splitmix64, Lemire's unbiased
bounded integers; see ``bootstrap_indices``), one generator per resample made from (seed, resample
number): the core draws each resample on the thread that refits it, so a bootstrap holds O(threads x
runs) indices, not O(resamples x runs), and ``BootstrapResult.resample_indices(k)`` regenerates any
one. A seed gives the same resamples on every platform, in C++ and in Python, and the result is
bit-identical for any thread count. ``indices=`` replays anyone's resamples, e.g. Epoch's, drawn with
numpy's legacy generator. ``groups=`` draws whole groups of runs (e.g. all the runs of a model size)
instead of single runs, for ladders whose runs of one group share errors.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks, _core
from . import progress as _progress
from ._checks import FloatArray
from .fit import (
    START_COLUMNS,
    STATUS_NAMES,
    FitOptions,
    FitResult,
    _law_starts,
    _starts_array,
    fit,
    objective,
    parameter_map,
    run_unique_tokens,
    run_weights,
    runs_arrays,
    solver_options,
)
from .frames import runs_of
from .frontier import GOPHER_FLOPS
from .intervals import FittedRuns, Scatter, predict_interval, scatter_of
from .isoflop import Approach2Result, approach2_of_groups, distinct_budgets, group_by_budget
from .law import Chinchilla, ScalingLaw, as_law, law_class
from .summary import approach2_for, format_html, format_summary, pandas, record
from .warnings import BootstrapWarning, warn

__all__ = [
    "BootstrapResult",
    "BootstrapWarning",
    "bootstrap",
    "bootstrap_indices",
    "bootstrap_starts",
    "resample_indices",
]

#: The law's parameters, then the frontier's coefficients: one sample of each per resample.
SCALARS = ("E", "A", "B", "alpha", "beta", "a", "b", "G")
#: Quantities with one sample per resample and budget.
PER_BUDGET = ("N_opt", "D_opt", "tokens_per_parameter")
#: Approach 2's exponents, when IsoFLOP budgets are given.
APPROACH2 = ("approach2_a", "approach2_b")


def bootstrap_indices(n_runs: int, n_resamples: int, seed: int) -> NDArray[np.int64]:
    """The resamples of a seed: an (n_resamples, n_runs) array of indices drawn with replacement.

    The same on every platform and in C++ (``scalinglaw::bootstrap_indices``): row r is
    ``resample_indices(n_runs, seed, r)``, drawn by xoshiro256** whose state is words 4r to 4r + 3 of
    the seed's splitmix64 stream, integers below n_runs by Lemire's multiply-and-reject. A bootstrap
    from a seed never builds this table: it draws each row where it refits it.
    """
    count = _checks.whole_number(n_runs, "n_runs", minimum=1)
    if count >= 2**32:
        raise ValueError(f"n_runs must be below 2^32, got {count}")
    resamples = _checks.whole_number(n_resamples, "n_resamples", minimum=1)
    # the core's table and the array made of it
    _checks.check_memory(
        16.0 * count * resamples, f"the index table of {resamples} resamples of {count} runs"
    )
    return np.asarray(_core.bootstrap_indices(count, resamples, _seed(seed)))


def resample_indices(n_runs: int, seed: int, resample: int, *, groups: Any = None) -> NDArray[np.int64]:
    """Resample ``resample`` (0-based) of a seed: the run indices it draws, regenerated in O(n_runs).

    Without ``groups``, row ``resample`` of ``bootstrap_indices``. With ``groups`` (one group number
    per run, 0 to G - 1, every number used, G >= 2), G groups drawn with replacement, each bringing
    all its runs in input order: the resamples of ``bootstrap(..., groups=...)``, of varying length.
    """
    count = _checks.whole_number(n_runs, "n_runs", minimum=1)
    if count >= 2**32:
        raise ValueError(f"n_runs must be below 2^32, got {count}")
    which = _checks.whole_number(resample, "resample", minimum=0)
    codes = np.empty(0, np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    resampling = _core.Resampling(which + 1, _seed(seed), codes)
    return np.asarray(_core.resample_indices(count, resampling, which))


def bootstrap_starts(optimum: Any) -> FloatArray:
    """The starts each resample is refitted from by default, columns (a, b, e, alpha, beta).

    ``optimum`` is the full-data fit (a ``FitResult`` or ``Law``). The starts are its optimum, then
    Hoffmann et al.'s grid starts (10, 10, -1, 0.5, 0.5) and (5, 10, -0.5, 2, 0.5). The evidence
    (``bench/bench_bootstrap.py --check-starts 300``): on 300 of Epoch's resamples of the 240
    Chinchilla runs, each also refitted from all 4500 grid starts, the optimum alone reached the
    grid's best objective on every resample (to 1.1e-14 relative, in 6.7 iterations on average),
    and so did each of the two grid starts alone, while 29 other grid starts ended in a worse
    minimum (a vanished term) on some resamples. The two grid starts are insurance for data whose
    resamples leave the optimum's basin; they come from different corners of the grid and converge
    fastest among the grid starts that never failed.
    """
    law = as_law(optimum)
    q = _core.LogParams(math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta)
    return _core.bootstrap_starts(q)


@dataclass(frozen=True, repr=False)
class BootstrapResult:
    """Bootstrap samples of the fit and their standard errors and percentile intervals.

    Every dict below has the keys of ``SCALARS`` (values per resample), ``PER_BUDGET`` (per resample
    and budget, columns in the order of ``budgets``) and, with IsoFLOP budgets, ``APPROACH2``.
    Statistics use the resamples whose refit converged and where the quantity is defined.
    """

    estimate: FitResult  #: the full-data fit
    point: dict[str, Any]  #: the full-data value of every quantity (NaN where the law has no frontier)
    samples: dict[str, FloatArray]  #: (n_resamples,) or (n_resamples, n_budgets)
    standard_error: dict[str, Any]  #: float, or (n_budgets,) array: std of the samples, ddof=1
    interval: dict[str, FloatArray]  #: (low, high): shape (2,), or (n_budgets, 2)
    confidence: float  #: of the percentile intervals, e.g. 0.95
    budgets: FloatArray  #: FLOPs of the PER_BUDGET columns
    seed: int | None  #: the seed the resamples came from (None with indices=)
    objective: FloatArray  #: each resample's best objective
    status: NDArray[np.str_]  #: each resample's refit: "converged", "max_iterations", ...
    iterations: NDArray[np.int32]  #: the best start's Levenberg-Marquardt iterations
    best_start: NDArray[np.int64]  #: index into ``starts`` of each resample's best start
    starts: FloatArray  #: (k, 5) the starts of every refit, columns (a, b, e, alpha, beta)
    approach2: Approach2Result | None  #: Approach 2 on the full data, with IsoFLOP budgets
    approach2_used: NDArray[np.int64] | None  #: budgets each resample's exponents rest on
    #: the resamples given by ``indices=``, (n_resamples, n_runs); None when drawn from the seed (see
    #: ``resample_indices``: they are regenerated, never stored)
    given_indices: NDArray[np.int64] | None = field(default=None, compare=False)
    #: in a grouped bootstrap, each run's group number (0 to G - 1); None when runs were drawn singly
    groups: NDArray[np.int64] | None = field(default=None, compare=False)
    #: what whole groups were drawn by: "N" (model size), a column's name, or "groups" (an array)
    bootstrap_by: str | None = None
    #: The runs refitted, for ``scatter`` and ``predict_interval`` (None: built without them).
    runs: FittedRuns | None = field(default=None, compare=False)

    @property
    def scalars(self) -> tuple[str, ...]:
        """The law's parameters, then the frontier's a, b, G (``SCALARS`` for the Chinchilla law)."""
        return (*self.estimate.law.names(), "a", "b", "G")

    @property
    def n_resamples(self) -> int:
        return len(self.objective)

    @property
    def n_groups(self) -> int | None:
        """Groups a grouped bootstrap drew from (None when it drew single runs)."""
        return None if self.groups is None else int(self.groups.max()) + 1

    def resample_indices(self, k: int) -> NDArray[np.int64]:
        """The run indices (positions in the fitted runs) of resample ``k``, regenerated from the seed
        (and groups) in O(runs), or row ``k`` of the given ``indices``."""
        which = _checks.whole_number(k, "k", minimum=0)
        if which >= self.n_resamples:
            raise ValueError(f"k must be below the {self.n_resamples} resamples, got {k!r}")
        if self.given_indices is not None:
            row: NDArray[np.int64] = self.given_indices[which]
            return row
        assert self.seed is not None
        return resample_indices(self.estimate.n_runs, self.seed, which, groups=self.groups)

    @property
    def indices(self) -> NDArray[np.int64]:
        """All the resamples as one (n_resamples, n_runs) table (built on request: n_resamples x n_runs
        integers; ``resample_indices(k)`` gives one). Not for a grouped bootstrap, whose resamples
        differ in length."""
        if self.given_indices is not None:
            return self.given_indices
        if self.groups is not None:
            raise ValueError(
                "a grouped bootstrap's resamples differ in length: use resample_indices(k) for each"
            )
        assert self.seed is not None
        return bootstrap_indices(self.estimate.n_runs, self.n_resamples, self.seed)

    @property
    def n_converged(self) -> int:
        """Resamples whose refit converged: the ones the statistics use."""
        return int(np.sum(self.status == "converged"))

    @property
    def n_failed(self) -> int:
        return self.n_resamples - self.n_converged

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        """Plain Python values (for JSON); the samples themselves only with ``samples=True``."""

        def plain(value: Any) -> Any:
            return value.tolist() if isinstance(value, np.ndarray) else float(value)

        document: dict[str, Any] = {
            "n_resamples": self.n_resamples,
            "n_converged": self.n_converged,
            "n_failed": self.n_failed,
            "seed": self.seed,
            "bootstrap_by": self.bootstrap_by,
            "n_groups": self.n_groups,
            "confidence": self.confidence,
            "delta": self.estimate.delta,
            "budgets": self.budgets.tolist(),
            "starts": [dict(zip(START_COLUMNS, row)) for row in self.starts.tolist()],  # labelled, log form
            "point": {key: plain(value) for key, value in self.point.items()},
            "standard_error": {key: plain(value) for key, value in self.standard_error.items()},
            "interval": {key: value.tolist() for key, value in self.interval.items()},
            "approach2": None if self.approach2 is None else self.approach2.to_dict(),
        }
        if samples:
            document["samples"] = {key: value.tolist() for key, value in self.samples.items()}
        return document

    def _document(self) -> dict[str, Any]:
        runs = self.estimate.data
        found, note = (None, "") if runs is None else approach2_for(runs)[:2]
        return record(
            self.estimate,
            runs,
            self.budgets.tolist(),
            approach2=found,
            approach2_note=note,
            bootstrap=self,
            sensitivity=self.estimate.sensitivity(),
        )

    def summary(self) -> str:
        """The summary ``scalinglaw fit --bootstrap`` prints for this bootstrap of these runs (its
        budgets are the command's Gopher budget and each ``--budget``)."""
        return format_summary(self._document())

    def _repr_html_(self) -> str:
        """The summary as HTML, for notebooks: estimates, standard errors, intervals, plans."""
        return format_html(self._document())

    def to_frame(self) -> Any:
        """Every quantity's estimate, standard error and percentile interval as a pandas DataFrame,
        one row per quantity (per budget for N_opt, D_opt, tokens_per_parameter: "N_opt at C=..."). pandas
        is optional: without it, a ValueError says how to install it."""
        rows: dict[str, tuple[float, float, float, float]] = {}
        for key in (*self.scalars, *(k for k in APPROACH2 if k in self.samples)):
            low, high = self.interval[key]
            rows[key] = (self.point[key], self.standard_error[key], low, high)
        for key in PER_BUDGET:
            for k, budget in enumerate(self.budgets):
                low, high = self.interval[key][k]
                rows[f"{key} at C={budget:.3g}"] = (
                    self.point[key][k],
                    self.standard_error[key][k],
                    low,
                    high,
                )
        columns = ["estimate", "standard_error", "low", "high"]
        frame = pandas().DataFrame.from_dict(
            {name: [float(v) for v in values] for name, values in rows.items()},
            orient="index",
            columns=columns,
        )
        frame.index.name = "quantity"
        return frame

    def __repr__(self) -> str:
        percent = f"{100 * self.confidence:g}%"
        seed = "indices given" if self.seed is None else f"seed={self.seed}"
        if self.bootstrap_by is not None:
            seed += f", {self.n_groups} groups by {self.bootstrap_by}"
        lines = [
            f"BootstrapResult({self.n_resamples} resamples, {self.n_converged} converged, {seed}; "
            f"estimate, standard error, {percent} interval:"
        ]
        for key in (*self.scalars, *(k for k in APPROACH2 if k in self.samples)):
            low, high = self.interval[key]
            lines.append(
                f"  {key:<12} {self.point[key]:<12.6g} SE {self.standard_error[key]:<11.4g} "
                f"[{low:.6g}, {high:.6g}]"
            )
        for key in PER_BUDGET:
            for k, budget in enumerate(self.budgets):
                low, high = self.interval[key][k]
                name = f"{key} at C={budget:.3g}"
                lines.append(
                    f"  {name:<34} {self.point[key][k]:<12.6g} "
                    f"SE {self.standard_error[key][k]:<11.4g} [{low:.6g}, {high:.6g}]"
                )
        return "\n".join(lines) + ")"

    @cached_property
    def scatter(self) -> Scatter:
        """The scatter of single runs around the law and the out-of-sample scores of the predictive
        intervals (``scalinglaw.intervals``), computed on first use from the resamples regenerated one
        at a time (``resample_indices``): O(runs) memory besides the draws."""
        if self.runs is None:
            raise ValueError("this bootstrap does not hold its runs: no scatter of single runs")
        usable = self.status == "converged"
        params = np.column_stack([self.samples[name][usable] for name in self.estimate.law.names()])
        resamples = (self.resample_indices(k) for k in np.flatnonzero(usable).tolist())  # one at a time
        return scatter_of(self.estimate, self.runs, params, resamples, self.starts)

    def predict_interval(
        self, N: Any, D: Any, *, confidence: float | None = None, unique_tokens: Any = None
    ) -> tuple[Any, Any]:
        """The predictive interval (low, high) of the loss a new run at (N, D) would reach: the converged
        resamples' spread (parameter uncertainty) plus the scatter of single runs, calibrated on errors
        of runs predicted by fits that did not see them (see ``scalinglaw.intervals``). N, D broadcast;
        scalars give floats. ``confidence`` defaults to the bootstrap's; ``unique_tokens`` for the
        data-constrained law."""
        usable = self.status == "converged"
        params = np.column_stack([self.samples[name][usable] for name in self.estimate.law.names()])
        level = self.confidence if confidence is None else confidence
        return predict_interval(
            self.estimate.law, params, self.scatter, N, D, confidence=level, unique_tokens=unique_tokens
        )


def _seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be between 0 and 2^64 - 1, got {seed!r}")
    return int(seed)


def _indices(indices: Any, n_resamples: int, n_runs: int) -> NDArray[np.int64]:
    """`indices` checked: an integer array of shape (n_resamples, n_runs), each in [0, n_runs)."""
    try:
        array = np.asarray(indices)
    except Exception as error:  # ragged nested lists
        raise ValueError(f"indices must be an array of run indices: {error}") from None
    if array.dtype.kind not in "iu":
        raise ValueError(f"indices must be whole numbers (an integer array), got dtype {array.dtype}")
    if array.shape != (n_resamples, n_runs):
        raise ValueError(
            "indices must have shape (n_resamples, n_runs) = "
            f"({n_resamples}, {n_runs}), got {array.shape}"
            + (f": pass n_resamples={array.shape[0]}" if array.ndim == 2 and array.shape[1] == n_runs else "")
        )
    bad = (array < 0) | (array >= n_runs)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"indices[{row}, {col}] = {int(array[row, col])} is not a run index: each must be "
            f"between 0 and {n_runs - 1} ({int(bad.sum())} are not)"
        )
    return np.ascontiguousarray(array, dtype=np.int64)


def _run_groups(groups: Any, n: FloatArray, data: Any) -> tuple[NDArray[np.int64], str]:
    """Each run's group number (0 to G - 1, in sorted order of the labels) and what the groups are
    by: ``"N"`` (model size, ``n``), a column of ``data``, or "groups" (labels given)."""
    n_runs = len(n)
    keys = getattr(data, "keys", None)
    if isinstance(groups, str) and groups == "N":
        labels, by = n, "N"
    elif isinstance(groups, str):
        if not callable(keys):
            raise ValueError(
                f"groups={groups!r} names a column, but no data= with columns was given: pass "
                "groups='N' (model size), a column of data=, or one group label per run"
            )
        columns = [str(key) for key in keys()]
        if groups not in columns:
            raise ValueError(f"groups={groups!r} is not a column of data (its columns: {', '.join(columns)})")
        labels, by = data[groups], groups
    else:
        labels, by = groups, "groups"
    try:
        array = np.asarray(labels)
    except Exception as error:  # ragged nested lists
        raise ValueError(f"groups must give one group label per run: {error}") from None
    if array.ndim != 1 or len(array) != n_runs:
        raise ValueError(
            f"groups must give one group label per run ({n_runs}), got shape {array.shape}"
            + (" (rows left out by nan_policy='omit' count too)" if isinstance(groups, str) else "")
        )
    if array.dtype.kind in "fc":
        missing = np.isnan(array)
    elif array.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in array], bool)
    else:
        missing = np.zeros(len(array), bool)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        value = array[row].item() if isinstance(array[row], np.generic) else array[row]
        raise ValueError(
            f"groups[{row}] is {value!r}: every run needs a group ({int(missing.sum())} have none)"
        )
    try:
        names, codes = np.unique(array, return_inverse=True)
    except TypeError as error:  # labels that cannot be ordered, e.g. numbers mixed with text
        raise ValueError(f"groups must be labels of one kind (all numbers or all text): {error}") from None
    if len(names) < 2:
        only = names[0].item() if isinstance(names[0], np.generic) else names[0]
        raise ValueError(
            f"groups must hold at least 2 groups to resample, got 1 ({only!r} for all {n_runs} runs)"
        )
    return codes.reshape(-1).astype(np.int64), by


def _statistics(
    samples: FloatArray, usable: NDArray[np.bool_], confidence: float
) -> tuple[Any, FloatArray, int]:
    """Standard error (ddof=1), percentile interval (low, high) and how many samples were usable, of
    each column; NaN where fewer than 2 are."""
    columns = samples.reshape(len(samples), -1)
    errors, intervals, left_out = [], [], 0
    tail = 50 * (1 - confidence)
    for column in columns.T:
        keep = usable & np.isfinite(column)
        left_out = max(left_out, int(np.sum(usable & ~np.isfinite(column))))
        values = column[keep]
        if len(values) < 2:
            errors.append(math.nan)
            intervals.append((math.nan, math.nan))
            continue
        # scaled by the largest size, so that samples near the largest double do not overflow when squared
        scale = float(np.max(np.abs(values)))
        errors.append(float(np.std(values / scale, ddof=1)) * scale if scale > 0 else 0.0)
        low, high = np.percentile(values, [tail, 100 - tail])
        intervals.append((float(low), float(high)))
    if samples.ndim == 1:
        return errors[0], np.array(intervals[0]), left_out
    return np.array(errors), np.array(intervals).reshape(-1, 2), left_out


def bootstrap(
    N: Any = None,
    D: Any = None,
    loss: Any = None,
    *,
    data: Any = None,
    C: Any = None,
    nan_policy: str = "raise",
    n_resamples: int = 4000,
    seed: int | None = None,
    indices: Any = None,
    delta: float | None = None,
    threads: int | None = None,
    max_iterations: int | None = None,
    options: FitOptions | None = None,
    starts: Any = None,
    budgets: Any = (GOPHER_FLOPS,),
    isoflop_budgets: Any = None,
    confidence: float = 0.95,
    estimate: FitResult | None = None,
    law: str | type[ScalingLaw] | None = None,
    fixed: Mapping[str, float] | None = None,
    tied: Sequence[tuple[str, str]] | None = None,
    weights: Any = None,
    unique_tokens: Any = None,
    groups: Any = None,
    progress: bool | None = None,
) -> BootstrapResult:
    """Bootstrap the fit: refit ``n_resamples`` resamples of the runs and summarise their spread.

    Parameters
    ----------
    N, D, loss, data, C, nan_policy
        The runs, as for ``fit``: arrays, or columns of ``data`` (a DataFrame, a mapping of columns,
        a ``Runs``); ``C`` for FLOPs instead of tokens; ``nan_policy="omit"`` leaves out rows with a
        missing value (``indices`` then count the rows kept).
    n_resamples
        Resamples to draw and refit (>= 1). Epoch used 4000.
    seed
        Seed of the resamples (0 <= seed < 2^64); None draws a fresh one, recorded in the result so
        that the run can be repeated. The same seed gives the same result on any machine and thread
        count.
    indices
        Instead of a seed: the resamples themselves, an integer array of shape (n_resamples, n_runs)
        whose row r lists the runs (0-based positions in N, D, loss) drawn for resample r.
    delta, max_iterations, options
        Solver options of every refit (and of the full-data fit), as for ``fit``.
    threads
        Worker threads (0, the default: every core). They share out whole resamples; the result does
        not depend on their number.
    starts
        (k, 5) starts, columns (a, b, e, alpha, beta), of every refit (and of the full-data fit,
        unless ``estimate`` is given). Default: the full-data fit from Hoffmann et al.'s 4500
        starts, and each resample from ``bootstrap_starts`` of its optimum.
    budgets
        Budgets (FLOPs) at which N_opt, D_opt and tokens per parameter are reported; may be empty.
    isoflop_budgets
        The sweep's nominal IsoFLOP budgets (e.g. ``Runs.budgets``): each resample's Approach 2
        exponents are then reported too (runs grouped as by ``group_by_budget``).
    confidence
        Coverage of the percentile intervals, in (0, 1).
    estimate
        The full-data fit, if already computed (e.g. by ``fit``), so that it is not repeated. Its law,
        fixed and tied parameters (and its weights, when it holds its runs) are the bootstrap's unless
        given; given ones must agree with it.
    law, fixed, tied, weights, unique_tokens
        The law and its constraints, the runs' weights and unique tokens, as for ``fit`` (a run's weight
        and unique tokens travel with it into the resamples). The law defaults to the estimate's, else
        ``"chinchilla"``. Approach 2 (``isoflop_budgets``) is
        offered for the unconstrained Chinchilla law only; ``starts`` are then in the law's
        coordinates (``start_columns(law)``), by default the full-data optimum.
    groups
        Draw whole groups of runs instead of single runs, for ladders whose runs of one group share
        errors (e.g. one model size trained once per budget): ``"N"`` groups the runs by model size,
        another name a column of ``data``, or give one label per run (numbers or text). Each resample
        draws as many groups as there are, with replacement, and takes all the runs of each, so it
        varies in length. At least 2 groups; not with ``indices``. With one run per group numbered as
        the runs (``groups=range(n)``) the resamples are the ungrouped ones.
    progress
        A bar of the resamples done on stderr: None (default) when stderr is a terminal and the work
        lasts over 2 s, True always, False never (also for the full-data fit, when it is made here).
        The result is the same either way.

    Returns
    -------
    BootstrapResult
        Samples, standard errors and intervals. A ``BootstrapWarning`` names any resamples left out
        of the statistics (a refit that did not converge, or an undefined quantity).

    Raises
    ------
    ValueError
        For bad runs or arguments (n_resamples < 1, malformed ``indices``, both ``seed`` and
        ``indices``, ``groups`` of the wrong length, with a missing label or a single group, IsoFLOP
        budgets no run can be grouped into, more resamples or budgets than the machine's memory
        holds, ...). Ctrl-C raises KeyboardInterrupt.
    """
    runs = runs_of(N, D, loss, data=data, C=C, nan_policy=nan_policy)
    if runs is not None and weights is None:
        weights = runs.weight
    if estimate is None:
        cls = law_class("chinchilla" if law is None else law)
    else:
        cls, fixed, tied, weights = _as_estimated(estimate, law, fixed, tied, weights)
    generic = cls is not Chinchilla or bool(fixed) or bool(tied) or weights is not None
    n, d, l_ = runs_arrays(N, D, loss, minimum=1 if generic else 5) if runs is None else runs_arrays(*runs)
    solver = solver_options(options, delta=delta, threads=threads, max_iterations=max_iterations)
    count = _checks.whole_number(n_resamples, "n_resamples", minimum=1)
    level = _checks.real_number(confidence, "confidence")
    if not 0 < level < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    budget_array = np.atleast_1d(_checks.as_float_array(budgets, "budgets"))
    if budget_array.ndim != 1:
        raise ValueError(f"budgets must be 1-D, got shape {budget_array.shape}")
    _checks.check_positive(budget_array, "budgets", what="budget")
    _progress.checked(progress)
    # Per resample, its results: under 512 bytes besides the budgets' N_opt, D_opt, tokens per
    # parameter (40 bytes each in the core, 24 in the samples). Its indices are drawn where it is
    # refitted (a given table is the caller's, copied once by the core).
    given = 0.0 if indices is None else 8.0 * count * len(n)
    _checks.check_memory(
        given + count * (64.0 * len(budget_array) + 512.0),
        f"a bootstrap of {count} resamples of {len(n)} runs at {len(budget_array)} budgets",
    )
    codes, by = (None, None) if groups is None else _run_groups(groups, n, data)
    rows: NDArray[np.int64] | None = None
    if indices is not None:
        if seed is not None:
            raise ValueError("give seed or indices, not both: indices are the resamples themselves")
        if groups is not None:
            raise ValueError("give groups or indices, not both: indices are the resamples themselves")
        rows, used_seed = _indices(indices, count, len(n)), None
        resamples: Any = rows
    else:
        used_seed = secrets.randbits(64) if seed is None else _seed(seed)
        resamples = _core.Resampling(count, used_seed, np.empty(0, np.int64) if codes is None else codes)
    drawn = {"given_indices": rows, "groups": codes, "bootstrap_by": by}
    if generic:
        if isoflop_budgets is not None:
            raise ValueError(
                "isoflop_budgets (Approach 2) are offered for the unconstrained chinchilla law only"
            )
        constraints = {
            "law": cls,
            "fixed": fixed,
            "tied": tied,
            "weights": weights,
            "unique_tokens": unique_tokens,
        }
        given_estimate = estimate is not None
        if estimate is None:
            estimate = (
                fit(n, d, l_, options=solver, progress=progress, **constraints)
                if runs is None
                else fit(data=runs, options=solver, progress=progress, **constraints)
            )
        kind = _core.law_kind(cls.KIND)
        if runs is not None:
            weights = runs.weight if weights is None else weights
            unique_tokens = runs.unique_tokens if unique_tokens is None else unique_tokens
        w, u = run_weights(weights, len(n)), run_unique_tokens(unique_tokens, d)
        if given_estimate:  # the same runs, weights and unique tokens as the estimate's
            _check_estimate(estimate, n, d, l_, solver.delta, weights=w, unique_tokens=u)
        optimum = _core.to_coordinates(kind, np.array(list(estimate.law.params.values())))
        law_starts = _core.law_bootstrap_starts(kind, optimum) if starts is None else _law_starts(cls, starts)
        pmap = parameter_map(cls, fixed, tied)
        with _progress.bar(progress, count, "bootstrap", "resamples") as report:
            law_raw = _core.law_bootstrap(
                kind, n, d, l_, u, w, resamples, law_starts, pmap, budget_array, solver, report
            )
        _warn_degenerate(n, d, resamples)
        result = _law_result(law_raw, estimate, drawn, used_seed, law_starts, budget_array, level)
        return replace(result, runs=FittedRuns(n, d, l_, u, w))
    start_array = None if starts is None else _starts_array(starts)
    isoflop = None
    if isoflop_budgets is not None:
        isoflop = group_by_budget(6.0 * n * d, distinct_budgets(isoflop_budgets, "isoflop_budgets"))
        if not (isoflop.label >= 0).any():
            raise ValueError("no run lies near any of isoflop_budgets: Approach 2 has nothing to group")

    if estimate is None:
        estimate = (
            fit(n, d, l_, starts=start_array, options=solver, progress=progress)
            if runs is None
            else fit(data=runs, starts=start_array, options=solver, progress=progress)
        )
    else:
        _check_estimate(estimate, n, d, l_, solver.delta)
    if start_array is None:
        start_array = bootstrap_starts(estimate)
    full_approach2 = None if isoflop is None else approach2_of_groups(n, d, l_, isoflop)

    with _progress.bar(progress, count, "bootstrap", "resamples") as report:
        raw = _core.bootstrap(
            n,
            d,
            l_,
            resamples,
            start_array,
            budget_array,
            np.empty(0, np.int32) if isoflop is None else isoflop.label.astype(np.int32),
            np.empty(0) if isoflop is None else isoflop.budgets,
            solver,
            report,
        )
    _warn_degenerate(n, d, resamples)
    result = _result(raw, estimate, full_approach2, drawn, used_seed, start_array, budget_array, level)
    return replace(result, runs=FittedRuns(n, d, l_))


def _warn_degenerate(n: FloatArray, d: FloatArray, resamples: Any) -> None:
    """A BootstrapWarning when resamples of whole groups hold a single model size or token count: with
    few groups some do (with G sizes grouped by size, a fraction G^(1 - G) of them), and their refits
    cannot tell the law's terms apart, so their parameters are noise that widens the intervals."""
    if not isinstance(resamples, _core.Resampling) or len(resamples.groups) == 0:
        return
    count = resamples.resamples
    single = 0
    for k in range(count):
        rows = _core.resample_indices(len(n), resamples, k)
        single += bool(np.ptp(n[rows]) == 0 or np.ptp(d[rows]) == 0)
    if single:
        groups = int(resamples.groups.max()) + 1
        warn(
            f"bootstrap: {single} of {count} resamples of whole groups ({groups} groups) hold a single "
            "model size or token count, from which the law cannot be fitted: their refits widen the "
            "intervals; more groups (or groups=None) give steadier ones",
            BootstrapWarning,
        )


def _tie_groups(pairs: Any) -> set[frozenset[str]]:
    """The groups of parameters that ``tied`` pairs make (a tie is transitive)."""
    groups: list[set[str]] = []
    for pair in pairs or ():
        joined = set(pair)
        for group in [g for g in groups if g & joined]:
            joined |= group
            groups.remove(group)
        groups.append(joined)
    return {frozenset(group) for group in groups}


def _as_estimated(
    estimate: Any, law: Any, fixed: Any, tied: Any, weights: Any
) -> tuple[type[ScalingLaw], Any, Any, Any]:
    """The law, fixed and tied parameters and weights of the bootstrap of ``estimate``: the estimate's
    where not given (its weights when it holds its runs), a ValueError where given ones differ."""
    if not isinstance(estimate, FitResult):
        raise ValueError(
            f"estimate must be the FitResult of fit() on these runs, got {type(estimate).__name__}"
        )
    cls = type(estimate.law)
    if law is not None and law_class(law) is not cls:
        raise ValueError(
            f"estimate is a fit of the {cls.KIND} law, but law={law!r}: leave law out to bootstrap the "
            "estimate's, or fit that law"
        )
    own_fixed = estimate.fixed
    if fixed is None:
        fixed = own_fixed or None
    elif set(fixed) != set(own_fixed) or any(
        not math.isclose(float(fixed[key]), own_fixed[key], rel_tol=1e-12) for key in own_fixed
    ):
        raise ValueError(
            f"fixed={dict(fixed)!r}, but the estimate was fitted with fixed={own_fixed!r}: leave fixed "
            "out to take the estimate's"
        )
    if tied is None:
        tied = list(estimate.tied) or None
    elif _tie_groups(tied) != _tie_groups(estimate.tied):
        raise ValueError(
            f"tied={list(tied)!r}, but the estimate was fitted with tied={list(estimate.tied)!r}: leave "
            "tied out to take the estimate's"
        )
    held = None if estimate.data is None else estimate.data.weight
    if weights is None and estimate.weighted:
        if held is None:
            raise ValueError("estimate was fitted with weights: pass the same weights= to the bootstrap")
        weights = held
    elif weights is not None and not estimate.weighted:
        raise ValueError(
            "weights are given (or a weight column of data), but the estimate was fitted without: fit "
            "with the same weights, or leave them out"
        )
    return cls, fixed, tied, weights


def _check_estimate(
    estimate: Any,
    n: FloatArray,
    d: FloatArray,
    loss: FloatArray,
    delta: float,
    *,
    weights: FloatArray | None = None,
    unique_tokens: FloatArray | None = None,
) -> None:
    if not isinstance(estimate, FitResult):
        raise ValueError(
            f"estimate must be the FitResult of fit() on these runs, got {type(estimate).__name__}"
        )
    if estimate.n_runs != len(n) or estimate.delta != delta:
        raise ValueError(
            f"estimate is a fit of {estimate.n_runs} runs with delta={estimate.delta!r}, but the "
            f"bootstrap has {len(n)} runs and delta={delta!r}"
        )
    value = objective(n, d, loss, estimate.law, delta=delta, weights=weights, unique_tokens=unique_tokens)
    # Rounding the parameters (E = e^e, ...) moves each log-residual by ~1e-15 and the objective by at
    # most delta per run times that: below this, two objectives are the same fit (e.g. noise-free data).
    rounding = 1e-12 * delta * len(n)
    if not math.isclose(value, estimate.objective, rel_tol=1e-9, abs_tol=rounding):
        raise ValueError(
            f"estimate is not a fit of these runs: its objective is {estimate.objective!r}, but "
            f"these runs give {value!r} at its parameters"
        )


def _summarised(
    raw: Any,
    estimate: FitResult,
    point: dict[str, Any],
    samples: dict[str, FloatArray],
    drawn: dict[str, Any],
    seed: int | None,
    starts: Any,
    budgets: FloatArray,
    confidence: float,
    approach2: Approach2Result | None = None,
    approach2_used: Any = None,
) -> BootstrapResult:
    """The statistics of the samples over the converged resamples (one BootstrapWarning naming what was
    left out), and the result: the same for the Chinchilla core's bootstrap and the any-law one."""
    status = STATUS_NAMES[raw.status]
    converged = status == "converged"
    standard_error: dict[str, Any] = {}
    interval: dict[str, FloatArray] = {}
    undefined: dict[str, int] = {}
    for key, values in samples.items():
        values.setflags(write=False)
        standard_error[key], interval[key], left_out = _statistics(values, converged, confidence)
        if left_out:
            undefined[key] = left_out
    _warn(status, undefined, standard_error)
    return BootstrapResult(
        estimate=estimate,
        point=point,
        samples=samples,
        standard_error=standard_error,
        interval=interval,
        confidence=confidence,
        budgets=budgets,
        seed=seed,
        objective=raw.objective,
        status=status,
        iterations=raw.iterations,
        best_start=raw.best_start,
        starts=starts,
        approach2=approach2,
        approach2_used=approach2_used,
        **drawn,
    )


def _law_result(
    raw: _core.LawBootstrapResult,
    estimate: FitResult,
    drawn: dict[str, Any],
    seed: int | None,
    starts: FloatArray,
    budgets: FloatArray,
    confidence: float,
) -> BootstrapResult:
    """The BootstrapResult of any law's refits: its parameters, the frontier's a, b, G (NaN where a
    resample has none) and the allocations at the budgets."""
    law = estimate.law
    params = raw.params
    samples: dict[str, FloatArray] = {name: params[:, j].copy() for j, name in enumerate(law.names())}
    coefficients = np.full((len(params), 3), math.nan)
    for r, row in enumerate(params):
        try:
            coefficients[r] = tuple(type(law)(*(float(v) for v in row)).frontier_coefficients())
        except ValueError:
            pass  # no frontier for this resample (an exponent <= 0, a failed refit)
    optimal = raw.optimal
    samples.update(
        a=coefficients[:, 0],
        b=coefficients[:, 1],
        G=coefficients[:, 2],
        N_opt=optimal[:, :, 1].copy(),
        D_opt=optimal[:, :, 2].copy(),
        tokens_per_parameter=optimal[:, :, 4].copy(),
    )
    frontier = estimate.frontier_coefficients()
    plan = estimate.compute_optimal(budgets)
    point: dict[str, Any] = {
        **estimate.params,
        "a": frontier.a,
        "b": frontier.b,
        "G": frontier.G,
        "N_opt": plan.N,
        "D_opt": plan.D,
        "tokens_per_parameter": plan.tokens_per_parameter,
    }
    return _summarised(raw, estimate, point, samples, drawn, seed, starts, budgets, confidence)


def _result(
    raw: _core.BootstrapResult,
    estimate: FitResult,
    full_approach2: Approach2Result | None,
    drawn: dict[str, Any],
    seed: int | None,
    starts: FloatArray,
    budgets: FloatArray,
    confidence: float,
) -> BootstrapResult:
    log_params, frontier_rows, optimal = raw.log_params, raw.frontier, raw.optimal
    samples: dict[str, FloatArray] = {
        "E": np.exp(log_params[:, 2]),
        "A": np.exp(log_params[:, 0]),
        "B": np.exp(log_params[:, 1]),
        "alpha": log_params[:, 3].copy(),
        "beta": log_params[:, 4].copy(),
        "a": frontier_rows[:, 0].copy(),
        "b": frontier_rows[:, 1].copy(),
        "G": frontier_rows[:, 2].copy(),
        # optimal: (resample, budget, field), the fields of an Allocation: C, N, D, loss, D / N
        "N_opt": optimal[:, :, 1].copy(),
        "D_opt": optimal[:, :, 2].copy(),
        "tokens_per_parameter": optimal[:, :, 4].copy(),
    }
    point: dict[str, Any] = {**estimate.params}
    try:
        frontier = estimate.frontier_coefficients()
        plan = estimate.compute_optimal(budgets)
        point.update(a=frontier.a, b=frontier.b, G=frontier.G, N_opt=plan.N, D_opt=plan.D)
        point.update(tokens_per_parameter=plan.tokens_per_parameter)
    except ValueError:  # no frontier (alpha or beta <= 0): the law's parameters stand, the rest is NaN
        none = np.full(len(budgets), math.nan)
        point.update(a=math.nan, b=math.nan, G=math.nan, N_opt=none, D_opt=none, tokens_per_parameter=none)
    if full_approach2 is not None:
        samples["approach2_a"], samples["approach2_b"] = raw.approach2_a, raw.approach2_b
        point["approach2_a"], point["approach2_b"] = full_approach2.a, full_approach2.b

    used = None if full_approach2 is None else raw.approach2_used
    return _summarised(
        raw, estimate, point, samples, drawn, seed, starts, budgets, confidence, full_approach2, used
    )


def _warn(status: NDArray[np.str_], undefined: dict[str, int], standard_error: dict[str, Any]) -> None:
    """One BootstrapWarning naming all that was left out: no NaN or thinned statistic is silent."""
    problems = []
    failed = status != "converged"
    if failed.any():
        kinds = ", ".join(f"{int(np.sum(status == s))} {s}" for s in np.unique(status[failed]))
        problems.append(
            f"{int(failed.sum())} of {len(status)} resamples did not converge ({kinds}) and are "
            "left out of every statistic"
        )
    if undefined:
        listed = ", ".join(f"{key} in {k}" for key, k in undefined.items())
        problems.append(
            f"left out where undefined: {listed} converged resamples (no frontier where alpha or "
            "beta <= 0; no Approach 2 exponents where fewer than 2 budgets have a minimum)"
        )
    missing = [key for key, se in standard_error.items() if not np.all(np.isfinite(se))]
    if missing:
        problems.append(
            f"no standard error or interval (fewer than 2 usable samples) for {', '.join(missing)}"
        )
    if problems:
        warn("bootstrap: " + "; ".join(problems), BootstrapWarning)
