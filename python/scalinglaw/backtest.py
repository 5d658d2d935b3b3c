"""Backtests: fit the small runs, predict the large ones, and see how far the answers can be trusted.

A split keeps the runs below a cut for fitting and holds out the rest, as practitioners judge a law
(Choshen et al. 2024, arXiv 2410.11840; OLMo-core's rollout):

* ``compute:F`` fits the runs whose training compute C = 6 N D lies in the lowest fraction F of the runs'
  range of log C (for a ladder of budgets evenly spaced in log C: the lowest F of the budgets);
* ``size:F`` likewise in log N (the smallest model sizes);
* ``largest`` holds out the largest model size (runs within 5% of the largest N).

For each split: how many runs were fitted and held out, how far the held-out runs extrapolate in
compute, the absolute relative error of the predicted loss (mean and max) and its mean signed error,
how many held-out runs the predictive intervals cover, and the plan drift at the budgets: the
training fit's N_opt over the full-data fit's, and whether the full-data plan lies inside the training
fit's bootstrap interval. ``compare`` runs the same splits for several settings and ranks them by
held-out error.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks
from . import progress as _progress
from ._checks import FloatArray
from .bootstrap import bootstrap
from .fit import FitResult, fit, runs_arrays
from .frontier import GOPHER_FLOPS
from .intervals import Scatter

DEFAULT_SPLITS = ("compute:0.5", "compute:0.7", "compute:0.8", "size:0.5", "largest")
#: Runs within this factor of the largest N count as the largest model size (ladders step by >= 1.3x).
LARGEST_SIZE_FACTOR = 1.05
_SPLIT = re.compile(r"^(compute|size):(0?\.\d+|1\.0*)$")


@dataclass(frozen=True)
class PlanDrift:
    """At one budget: the training fit's plan beside the full-data fit's."""

    C: float  #: budget, FLOPs
    N_opt: float  #: the training fit's compute-optimal parameters
    N_opt_full: float  #: the full-data fit's
    N_opt_interval: tuple[float, float]  #: the training fit's bootstrap interval of N_opt
    tokens_per_parameter: float
    tokens_per_parameter_full: float

    @property
    def drift(self) -> float:
        """N_opt over N_opt_full: 1 is no drift, 10 or 0.1 an order of magnitude."""
        return self.N_opt / self.N_opt_full

    @property
    def full_inside(self) -> bool:
        """Whether the full-data plan lies inside the training fit's interval."""
        low, high = self.N_opt_interval
        return bool(low <= self.N_opt_full <= high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "N_opt": self.N_opt,
            "N_opt_full": self.N_opt_full,
            "N_opt_interval": list(self.N_opt_interval),
            "drift": self.drift,
            "full_inside": self.full_inside,
            "tokens_per_parameter": self.tokens_per_parameter,
            "tokens_per_parameter_full": self.tokens_per_parameter_full,
        }


@dataclass(frozen=True)
class SplitResult:
    """One split: the training fit, its predictions of the held-out runs and its plans."""

    name: str  #: e.g. "compute:0.5"
    train: NDArray[np.bool_]  #: which runs were fitted (positions in the input)
    fit: FitResult  #: the training fit
    predicted: FloatArray  #: predicted loss of each held-out run, in input order
    observed: FloatArray  #: observed loss of each held-out run
    low: FloatArray  #: the predictive interval of each held-out run
    high: FloatArray
    extrapolation: float  #: the largest held-out C over the largest training C
    plans: tuple[PlanDrift, ...]
    #: What the predictive intervals rest on: the runs' scatter and the law's error growth per decade.
    scatter: Scatter | None = None

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_heldout(self) -> int:
        return int(self.predicted.size)

    @property
    def relative_error(self) -> FloatArray:
        """(predicted - observed) / observed for each held-out run."""
        return (self.predicted - self.observed) / self.observed

    @property
    def are_mean(self) -> float:
        return float(np.abs(self.relative_error).mean())

    @property
    def are_max(self) -> float:
        return float(np.abs(self.relative_error).max())

    @property
    def signed_mean(self) -> float:
        return float(self.relative_error.mean())

    @property
    def coverage(self) -> float:
        """The share of held-out runs inside their predictive interval."""
        return float(((self.low <= self.observed) & (self.observed <= self.high)).mean())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_train": self.n_train,
            "n_heldout": self.n_heldout,
            "extrapolation": self.extrapolation,
            "are_mean": self.are_mean,
            "are_max": self.are_max,
            "signed_mean": self.signed_mean,
            "coverage": self.coverage,
            "intervals": None if self.scatter is None else self.scatter.to_dict(),
            "fit": {**self.fit.params, "objective": self.fit.objective, "status": self.fit.status},
            "heldout": [
                {"index": int(i), "observed": o, "predicted": p, "low": lo, "high": hi}
                for i, o, p, lo, hi in zip(
                    np.flatnonzero(~self.train),
                    self.observed.tolist(),
                    self.predicted.tolist(),
                    self.low.tolist(),
                    self.high.tolist(),
                )
            ],
            "plans": [plan.to_dict() for plan in self.plans],
        }


@dataclass(frozen=True)
class BacktestResult:
    full: FitResult  #: the fit of every run
    splits: tuple[SplitResult, ...]
    skipped: dict[str, str]  #: splits that could not be run, and why
    confidence: float  #: of the predictive and plan intervals
    settings: dict[str, Any]  #: the fit options every split used

    @property
    def are_mean(self) -> float:
        """Mean absolute relative error over every split's held-out runs (each split weighs equally)."""
        return float(np.mean([split.are_mean for split in self.splits])) if self.splits else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": {key: _plain(value) for key, value in self.settings.items()},
            "confidence": self.confidence,
            "full": {**self.full.params, "objective": self.full.objective, "status": self.full.status},
            "are_mean": self.are_mean,
            "splits": [split.to_dict() for split in self.splits],
            "skipped": dict(self.skipped),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def split_mask(name: str, N: FloatArray, C: FloatArray) -> NDArray[np.bool_]:
    """The runs a split fits (True) and holds out (False); see the module's docstring."""
    if name == "largest":
        return np.asarray(N < N.max() / LARGEST_SIZE_FACTOR)
    match = _SPLIT.match(name)
    if not match:
        raise ValueError(
            f"split {name!r} is not one of 'compute:F', 'size:F' (0 < F < 1, e.g. 'compute:0.5') or 'largest'"
        )
    fraction = float(match.group(2))
    if not 0 < fraction < 1:
        raise ValueError(f"split {name!r}: the fraction must be between 0 and 1 (exclusive)")
    values = np.log(C if match.group(1) == "compute" else N)
    return np.asarray(values <= values.min() + fraction * (values.max() - values.min()))


def backtest(
    N: Any,
    D: Any,
    loss: Any,
    *,
    splits: Sequence[str] = DEFAULT_SPLITS,
    budgets: Any = (GOPHER_FLOPS,),
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    threads: int = 0,
    progress: bool | None = None,
    **fit_options: Any,
) -> BacktestResult:
    """Fit each split's training runs, predict its held-out runs, and compare its plans with the
    full-data fit's.

    Parameters
    ----------
    N, D, loss
        The runs, as for ``fit``.
    splits
        Which splits (see the module's docstring); a split that leaves fewer than 5 runs to fit, or
        none to predict, is skipped with its reason in ``BacktestResult.skipped``.
    budgets
        Budgets (FLOPs) at which the plans are compared.
    n_resamples, seed, confidence
        The bootstrap of every training fit, which gives the predictive and plan intervals.
    progress
        A bar of the splits done on stderr: None (default) when stderr is a terminal and the backtest
        lasts over 2 s, True always, False never (the fits inside show none). The result is the same.
    **fit_options
        Passed to ``fit`` and ``bootstrap`` for every fit (e.g. ``delta``), so that settings can be
        compared on the same splits.
    """
    n, d, l_ = runs_arrays(N, D, loss)
    c = 6.0 * n * d
    count = _checks.whole_number(n_resamples, "n_resamples", minimum=2)
    level = _checks.real_number(confidence, "confidence")
    if not 0 < level < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    budget_array = np.atleast_1d(_checks.as_float_array(budgets, "budgets"))
    _checks.check_positive(budget_array, "budgets", what="budget")
    if isinstance(splits, str) or not splits:
        raise ValueError("splits must be a non-empty list of split names, e.g. ['compute:0.5', 'largest']")
    masks = {name: split_mask(name, n, c) for name in splits}

    _progress.checked(progress)
    full = fit(n, d, l_, threads=threads, progress=False, **fit_options)
    full_plan = full.compute_optimal(budget_array)
    results, skipped = [], {}
    for name, train in _progress.each(progress, list(masks.items()), "backtest", "splits"):
        reason = _unusable(train, n, d)
        if reason:
            skipped[name] = reason
            continue
        with warnings.catch_warnings():
            # A training fit's own problems are part of what the backtest measures, not news.
            warnings.simplefilter("ignore")
            part = fit(n[train], d[train], l_[train], threads=threads, progress=False, **fit_options)
            boot = bootstrap(
                n[train],
                d[train],
                l_[train],
                n_resamples=count,
                seed=seed,
                budgets=budget_array,
                confidence=level,
                estimate=part,
                threads=threads,
                progress=False,
                **fit_options,
            )
        held = ~train
        low, high = boot.predict_interval(n[held], d[held])
        plan = part.compute_optimal(budget_array)
        intervals = np.atleast_2d(boot.interval["N_opt"])
        plans = tuple(
            PlanDrift(
                C=float(budget_array[k]),
                N_opt=float(plan.N[k]),
                N_opt_full=float(full_plan.N[k]),
                N_opt_interval=(float(intervals[k, 0]), float(intervals[k, 1])),
                tokens_per_parameter=float(plan.tokens_per_parameter[k]),
                tokens_per_parameter_full=float(full_plan.tokens_per_parameter[k]),
            )
            for k in range(budget_array.size)
        )
        results.append(
            SplitResult(
                name=name,
                train=train,
                fit=part,
                predicted=part.predict(n[held], d[held]),
                observed=l_[held],
                low=low,
                high=high,
                extrapolation=float(c[held].max() / c[train].max()),
                plans=plans,
                scatter=boot.scatter,
            )
        )
    return BacktestResult(
        full=full,
        splits=tuple(results),
        skipped=skipped,
        confidence=level,
        settings=dict(fit_options),
    )


def _unusable(train: NDArray[np.bool_], n: FloatArray, d: FloatArray) -> str:
    fitted, held = int(train.sum()), int((~train).sum())
    if held == 0:
        return "it holds out no run"
    if fitted < 5:
        return f"it leaves {fitted} runs to fit (the law has 5 parameters)"
    if np.unique(n[train]).size < 2 or np.unique(d[train]).size < 2:
        return "its training runs span a single model size or token count (not identifiable)"
    return ""


def compare(
    settings: Mapping[str, Mapping[str, Any]],
    N: Any,
    D: Any,
    loss: Any,
    **backtest_options: Any,
) -> list[tuple[str, BacktestResult]]:
    """The same backtest for several fit settings (e.g. ``{"delta=1e-3": {}, "delta=0.1": {"delta":
    0.1}}``), ranked by mean held-out error, best first."""
    if not settings:
        raise ValueError("settings must name at least one setting")
    ranked = [
        (label, backtest(N, D, loss, **backtest_options, **dict(options)))
        for label, options in settings.items()
    ]
    return sorted(ranked, key=lambda item: (not math.isfinite(item[1].are_mean), item[1].are_mean))
