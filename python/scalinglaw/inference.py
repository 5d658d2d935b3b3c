"""Inference-aware sizing (Sardana et al. 2024, arXiv 2401.00448): when a model will also serve T tokens of
inference, the cheapest model of a given quality is smaller and trained longer than the compute-optimal one.

Training costs 6 N D FLOPs and inference 2 N T (N parameters, D training tokens, T inference tokens). Two
questions, each a one-dimensional problem in x = ln N:

* a target loss l: minimise 6 N D(N) + 2 N T, where D(N) is the token count at which L(N, D) = l; the
  optimum is the root of d/dx [6 N D(N) + 2 N T] = 0;
* a total budget C (training plus inference): minimise L(N, (C - 2 N T) / (6 N)) over 0 < 2 N T < C; the
  optimum is the root of dL/dx = 0.

Both derivatives change sign exactly once on their interval (from minus to plus), so bisection on the sign
finds the optimum to the last bit of x, with no tolerance to choose. With T = 0 both reduce to the
compute-optimal frontier (``compute_optimal``, ``budget_for_loss``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _checks
from .frontier import budget_for_loss
from .law import as_law


@dataclass(frozen=True)
class InferenceAllocation:
    """The cheapest model for a loss (or the best for a budget) once inference is counted, beside the
    compute-optimal model of the same loss serving the same inference tokens."""

    N: float  #: parameters
    D: float  #: training tokens
    loss: float  #: predicted loss L(N, D)
    inference_tokens: float  #: T, tokens served over the model's life
    training_flops: float  #: 6 N D
    inference_flops: float  #: 2 N T
    #: The compute-optimal model (no inference counted) that reaches the same loss.
    chinchilla_N: float
    chinchilla_D: float

    @property
    def total_flops(self) -> float:
        return self.training_flops + self.inference_flops

    @property
    def tokens_per_parameter(self) -> float:
        return self.D / self.N

    @property
    def chinchilla_total_flops(self) -> float:
        """Training plus inference FLOPs of the compute-optimal model of the same loss."""
        return 6.0 * self.chinchilla_N * self.chinchilla_D + 2.0 * self.chinchilla_N * self.inference_tokens

    @property
    def N_ratio(self) -> float:
        """N over the compute-optimal model's N (below 1: a smaller model)."""
        return self.N / self.chinchilla_N

    @property
    def D_ratio(self) -> float:
        return self.D / self.chinchilla_D

    @property
    def flops_ratio(self) -> float:
        """Total FLOPs over those of the compute-optimal model serving the same inference tokens."""
        return self.total_flops / self.chinchilla_total_flops

    @property
    def flops_saved(self) -> float:
        return self.chinchilla_total_flops - self.total_flops

    def to_dict(self) -> dict[str, float]:
        return {
            "N": self.N,
            "D": self.D,
            "loss": self.loss,
            "inference_tokens": self.inference_tokens,
            "training_flops": self.training_flops,
            "inference_flops": self.inference_flops,
            "total_flops": self.total_flops,
            "tokens_per_parameter": self.tokens_per_parameter,
            "chinchilla_N": self.chinchilla_N,
            "chinchilla_D": self.chinchilla_D,
            "chinchilla_total_flops": self.chinchilla_total_flops,
            "N_ratio": self.N_ratio,
            "D_ratio": self.D_ratio,
            "flops_ratio": self.flops_ratio,
            "flops_saved": self.flops_saved,
        }


def _sign_change(positive: Callable[[float], bool], lo: float, hi: float) -> float:
    """The x in [lo, hi] where positive(x) turns from False to True, to the last bit of x."""
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return hi
        if positive(mid):
            hi = mid
        else:
            lo = mid


def inference_optimal(
    law: Any, inference_tokens: float, *, loss: Any = None, C: Any = None
) -> InferenceAllocation:
    """The model size and training tokens that minimise training plus inference FLOPs for a target
    ``loss``, or the loss for a total budget ``C`` (FLOPs, training plus inference), when the model will
    serve ``inference_tokens`` tokens (Sardana et al. 2024). Exactly one of ``loss`` and ``C``.

    >>> chinchilla = Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    >>> plan = inference_optimal(chinchilla, 2e12, loss=1.947)  # N 2.42e10, D 2.66e12: 71% of the params
    """
    p = as_law(law)
    T = _checks.real_number(inference_tokens, "inference_tokens")
    if T < 0:
        raise ValueError(f"inference_tokens must be >= 0, got {T:.6g}")
    if (loss is None) == (C is None):
        raise ValueError("give exactly one of loss (a target loss) and C (a total budget in FLOPs)")
    E, A, B, alpha, beta = p.E, p.A, p.B, p.alpha, p.beta
    if not (alpha > 0 and beta > 0):
        raise ValueError(
            f"alpha and beta must be > 0 for an optimum, got alpha = {alpha:.6g}, beta = {beta:.6g}"
        )

    if loss is not None:
        target = _checks.positive_number(loss, "loss")
        if not target > E:
            raise ValueError(f"target loss {target:.6g} is not above E = {E:.6g}: no finite model reaches it")
        x_min = math.log(A / (target - E)) / alpha  # below it A / N^alpha alone exceeds target - E

        def log_tokens(x: float) -> float:  # ln D(N): B / D^beta = target - E - A / N^alpha
            return (math.log(B) - math.log(target - E - A * math.exp(-alpha * x))) / beta

        def rising(x: float) -> bool:  # d/dx [6 N D + 2 N T] = N [6 D (1 + dlnD/dx) + 2 T] > 0
            rest = target - E - A * math.exp(-alpha * x)
            if not rest > 0:
                return False
            slope = 1.0 - alpha * A * math.exp(-alpha * x) / (beta * rest)  # 1 + dlnD/dx
            if slope >= 0:
                return True
            return T > 0 and math.log(2 * T) > math.log(6 * -slope) + log_tokens(x)

        hi = x_min + 1.0
        while not rising(hi):
            hi += 2 * (hi - x_min)
        x = _sign_change(rising, x_min, hi)
        N = math.exp(x)
        D = math.exp(log_tokens(x))
    else:
        budget = _checks.positive_number(C, "C")
        x_max = math.log(budget / (2 * T)) if T > 0 else math.inf  # inference alone spends the budget

        def tokens(x: float) -> float:
            N = math.exp(x)
            return (budget - 2 * N * T) / (6 * N)

        def rising(x: float) -> bool:  # dL/dx = -alpha A N^-alpha + beta B D^-beta (1 + 2 N T / (C - 2 N T))
            N = math.exp(x)
            left = budget - 2 * N * T
            if not left > 0:
                return True
            gain = alpha * A * math.exp(-alpha * x)
            cost: float = beta * B * tokens(x) ** -beta * (budget / left)
            return cost > gain

        center = math.log(p.compute_optimal(budget).N.item())
        hi = min(center, x_max)
        width = 1.0
        lo = hi - width
        while rising(lo):
            width *= 2
            lo = hi - width
        if math.isfinite(x_max):
            hi = x_max
        else:
            while not rising(hi):
                hi += width
        x = _sign_change(rising, lo, hi)
        N = math.exp(x)
        D = tokens(x)
        if not (D > 0 and math.isfinite(D)):
            raise ValueError(
                f"C = {budget:.6g} FLOPs leaves no training budget beside {T:.6g} inference tokens"
            )
    reached = float(p.predict(N, D))
    reference = budget_for_loss(p, reached)
    return InferenceAllocation(
        N=N,
        D=D,
        loss=reached,
        inference_tokens=T,
        training_flops=6.0 * N * D,
        inference_flops=2.0 * N * T,
        chinchilla_N=float(reference.N.item()),
        chinchilla_D=float(reference.D.item()),
    )
