"""How far a plan can be trusted: where it stands against the data, how wide its interval is, and how much
it moves under other reasonable fits. Each compute-optimal plan gets the facts and, where a user would
otherwise be misled, warnings, with these thresholds:

* ``INTERVAL_FACTOR`` = 10: the plan's bootstrap interval of N_opt spans more than a factor 10 -- an order
  of magnitude, the difference between a 7B and a 70B model, so the plan does not choose a model;
* ``FAR_BEYOND`` = 100: the budget is more than 100 times the largest run's compute. In backtests on the
  Chinchilla data, fits of the runs up to 1/6.5 of the largest compute planned Gopher's budget within
  1.2x of the full data, up to 1/17 within 1.6x, up to 1/100 2.5x off and outside their own interval;
  past two decades the plan is the law's extrapolation, not the data's;
* the recommended tokens per parameter lies outside the range the runs cover (the law then extrapolates
  in shape, not only in scale);
* ``SENSITIVITY_FACTOR`` = 2: N_opt changes by more than 2x under another reasonable fit (the Huber
  threshold delta = 0.1 instead of 1e-3, or tied exponents alpha = beta, which on real ladders often
  extrapolates better than the free fit): the data do not pin the plan down;
* a plan under a budget of unique tokens (the data-constrained law) repeats them more often than the most
  repeated run did: the decay of repeated data is then the law's guess, not the data's.
A plan inside these bounds gets no warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import FloatArray

INTERVAL_FACTOR = 10.0
FAR_BEYOND = 100.0
SENSITIVITY_FACTOR = 2.0


@dataclass(frozen=True)
class DataRange:
    """The region the runs cover."""

    N: tuple[float, float]  #: smallest and largest model size, parameters
    D: tuple[float, float]  #: tokens
    C: tuple[float, float]  #: training compute, FLOPs (6 N D)
    tokens_per_parameter: tuple[float, float]  #: D / N
    #: D / U_D, the epochs of each run's unique tokens, when the runs have unique tokens (else None)
    epochs: tuple[float, float] | None = None

    @classmethod
    def of(cls, N: Any, D: Any, unique_tokens: Any = None) -> DataRange:
        n = np.asarray(N, dtype=np.float64)
        d = np.asarray(D, dtype=np.float64)

        def span(values: FloatArray) -> tuple[float, float]:
            return float(values.min()), float(values.max())

        epochs = None if unique_tokens is None else span(d / np.asarray(unique_tokens, dtype=np.float64))
        return cls(N=span(n), D=span(d), C=span(6.0 * n * d), tokens_per_parameter=span(d / n), epochs=epochs)

    def repeats_beyond(self, epochs: float | None) -> bool:
        """Whether a plan's ``epochs`` of its unique tokens exceed the most repeated run's (False when
        either is unknown)."""
        return epochs is not None and self.epochs is not None and epochs > self.epochs[1] * (1 + 1e-9)

    def to_dict(self) -> dict[str, list[float]]:
        out = {
            "N": list(self.N),
            "D": list(self.D),
            "C": list(self.C),
            "tokens_per_parameter": list(self.tokens_per_parameter),
        }
        if self.epochs is not None:
            out["epochs"] = list(self.epochs)
        return out


@dataclass(frozen=True)
class PlanCheck:
    """One budget's plan against the data, its interval and other fits."""

    C: float  #: budget, FLOPs
    N_opt: float
    tokens_per_parameter: float
    extrapolation: float  #: C over the largest run's compute
    inside_tokens_range: bool  #: tokens per parameter within the runs' range
    interval_factor: float | None  #: high / low of N_opt's interval (None without a bootstrap)
    #: N_opt of each other fit over this one's, by the setting's label.
    sensitivity: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "extrapolation": self.extrapolation,
            "inside_tokens_range": self.inside_tokens_range,
            "interval_factor": self.interval_factor,
            "sensitivity": dict(self.sensitivity),
            "warnings": list(self.warnings),
        }


def check_plans(
    law: Any,
    data: DataRange,
    budgets: Any,
    *,
    intervals: Any = None,
    sensitivity: Mapping[str, Any] | None = None,
) -> tuple[PlanCheck, ...]:
    """The checks of ``law``'s compute-optimal plan at each budget. ``intervals``: (K, 2) bootstrap
    interval of N_opt per budget (e.g. ``BootstrapResult.interval["N_opt"]``); ``sensitivity``: the
    other fits' laws by label (see ``sensitivity_fits``)."""
    budget_array = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    plan = law.compute_optimal(budget_array)
    bounds = None if intervals is None else np.atleast_2d(np.asarray(intervals, dtype=np.float64))
    others = {label: other.compute_optimal(budget_array).N for label, other in (sensitivity or {}).items()}
    low_tpp, high_tpp = data.tokens_per_parameter
    checks = []
    for k, C in enumerate(budget_array.tolist()):
        n_opt = float(np.atleast_1d(plan.N)[k])
        tpp = float(np.atleast_1d(plan.tokens_per_parameter)[k])
        extrapolation = C / data.C[1]
        # no interval where the bootstrap has none for this budget (no usable resample)
        usable = bounds is not None and bool(np.isfinite(bounds[k]).all())
        factor = float(bounds[k, 1] / bounds[k, 0]) if bounds is not None and usable else None
        ratios = {label: float(np.atleast_1d(values)[k]) / n_opt for label, values in others.items()}
        inside = low_tpp <= tpp <= high_tpp
        found = plan_warnings(data, C=C, tokens_per_parameter=tpp, interval_factor=factor, sensitivity=ratios)
        checks.append(
            PlanCheck(
                C=C,
                N_opt=n_opt,
                tokens_per_parameter=tpp,
                extrapolation=extrapolation,
                inside_tokens_range=inside,
                interval_factor=factor,
                sensitivity=ratios,
                warnings=tuple(found),
            )
        )
    return tuple(checks)


def plan_warnings(
    data: DataRange | None,
    *,
    C: float,
    tokens_per_parameter: float,
    interval_factor: float | None = None,
    sensitivity: Mapping[str, float] | None = None,
    epochs: float | None = None,
) -> list[str]:
    """The warnings of one plan (a budget C and the tokens per parameter it recommends, and under a
    unique-token budget its epochs), by the module's rules; ``data`` None (published parameters) knows
    no data to be far from."""
    found = []
    if interval_factor is not None and not interval_factor <= INTERVAL_FACTOR:
        found.append(
            f"N_opt's interval spans a factor {interval_factor:.3g} (> {INTERVAL_FACTOR:g}): the data do "
            "not choose a model size at this budget"
        )
    if data is not None:
        extrapolation = C / data.C[1]
        if extrapolation > FAR_BEYOND:
            found.append(
                f"the budget is {extrapolation:.3g}x the largest run's compute ({data.C[1]:.3g} FLOPs): "
                "an extrapolation far outside the data"
            )
        low, high = data.tokens_per_parameter
        if not low <= tokens_per_parameter <= high:
            found.append(
                f"the plan's {tokens_per_parameter:.3g} tokens per parameter lies outside the runs' range "
                f"({low:.3g} to {high:.3g})"
            )
        if data.repeats_beyond(epochs) and data.epochs is not None:
            found.append(
                f"the plan repeats its unique tokens {epochs:.3g} times, more than the most repeated run "
                f"({data.epochs[1]:.3g} epochs): the loss of so much repetition is the law's extrapolation"
            )
    for label, ratio in (sensitivity or {}).items():
        if not 1 / SENSITIVITY_FACTOR <= ratio <= SENSITIVITY_FACTOR:
            found.append(
                f"the plan moves by a factor {max(ratio, 1 / ratio):.3g} in N_opt under {label}: "
                "the data do not pin it down"
            )
    return found


#: The other reasonable fits a plan is checked against (``FitResult.sensitivity``), by label: the
#: options that differ from the fit's own (a setting that does not apply to a law is left out).
SENSITIVITY_SETTINGS: dict[str, dict[str, Any]] = {
    "delta = 0.1": {"delta": 0.1},
    "alpha = beta": {"tied": [("alpha", "beta")]},
}
