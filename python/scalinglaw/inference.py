"""Inference-aware sizing (Sardana et al. 2024, arXiv 2401.00448): when a model will also serve T tokens of
inference, the cheapest model of a given quality is smaller and trained longer than the compute-optimal one.

Training costs 6 N D FLOPs and inference 2 N T (N parameters, D training tokens, T inference tokens). Two
questions, each a one-dimensional problem in x = ln N:

* a target loss l: minimise 6 N D(N) + 2 N T, where D(N) is the token count at which L(N, D) = l; the
  optimum is the root of d/dx [6 N D(N) + 2 N T] = 0;
* a total budget C (training plus inference): minimise L(N, (C - 2 N T) / (6 N)) over 0 < 2 N T < C; the
  optimum is the root of dL/dx = 0.

Every law offered is an increasing function g of a sum S = E + A / N^alpha + B / D^beta, so both answers
are those of the sum: L = l is S = g^-1(l), and minimising L minimises S.

* Chinchilla: g is the identity.
* Kaplan, L = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D: g(S) = S^alpha_D with E = 0,
  A = N_c^(alpha_N / alpha_D), alpha = alpha_N / alpha_D, B = D_c, beta = 1.
* Data-constrained without repetition (U_D = D): L is the Chinchilla sum of its E, A, B, alpha, beta
  wherever N <= N_opt(D) (then U_N = N and N' = N), and above it elsewhere (N' <= N). The optimum of the
  sum has N <= N_opt(D) (its first-order condition, alpha A / N^alpha = beta B / D^beta (1 + 2 N T /
  (6 N D)) >= beta B / D^beta, puts it on the side of more tokens per parameter than the frontier), so it
  is the law's optimum too. Under a budget of unique tokens N' and D' saturate (with a kink at
  N = N_opt(U_D)): the law is no longer a function of the sum, the cost along a target loss need not
  have a single minimum, and no answer is offered.

Both derivatives change sign exactly once on their interval (from minus to plus), so bisection on the sign
finds the optimum to the last bit of x, with no tolerance to choose. With T = 0 both reduce to the
compute-optimal frontier (``compute_optimal``, ``budget_for_loss``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, overload

import numpy as np

from . import _checks, frontier, grid
from ._checks import FloatArray
from .frontier import V, is_scalar, plain


@dataclass(frozen=True)
class InferenceAllocation(Generic[V]):
    """The cheapest model for a loss (or the best for a budget) once inference is counted, beside the
    compute-optimal model of the same loss serving the same inference tokens. Python floats for a
    scalar question, arrays of its shape for an array-like one."""

    N: V  #: parameters
    D: V  #: training tokens
    loss: V  #: predicted loss L(N, D)
    inference_tokens: float  #: T, tokens served over the model's life
    training_flops: V  #: 6 N D
    inference_flops: V  #: 2 N T
    #: The compute-optimal model (no inference counted) that reaches the same loss.
    chinchilla_N: V
    chinchilla_D: V

    @property
    def total_flops(self) -> V:
        return self.training_flops + self.inference_flops

    @property
    def tokens_per_parameter(self) -> V:
        return self.D / self.N

    @property
    def chinchilla_total_flops(self) -> V:
        """Training plus inference FLOPs of the compute-optimal model of the same loss."""
        return 6.0 * self.chinchilla_N * self.chinchilla_D + 2.0 * self.chinchilla_N * self.inference_tokens

    @property
    def N_ratio(self) -> V:
        """N over the compute-optimal model's N (below 1: a smaller model)."""
        return self.N / self.chinchilla_N

    @property
    def D_ratio(self) -> V:
        return self.D / self.chinchilla_D

    @property
    def flops_ratio(self) -> V:
        """Total FLOPs over those of the compute-optimal model serving the same inference tokens."""
        return self.total_flops / self.chinchilla_total_flops

    @property
    def flops_saved(self) -> V:
        return self.chinchilla_total_flops - self.total_flops

    def to_dict(self) -> dict[str, Any]:
        """Every number by name: floats, or (for an array question) nested lists."""
        names = (
            "N D loss inference_tokens training_flops inference_flops total_flops tokens_per_parameter "
            "chinchilla_N chinchilla_D chinchilla_total_flops N_ratio D_ratio flops_ratio flops_saved"
        )
        return {name: plain(getattr(self, name)) for name in names.split()}


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


class _Sum(NamedTuple):
    """A law seen as g(E + A / N^alpha + B / D^beta), g increasing: the sum's terms and g^-1."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    inverse: Callable[[float], float]  #: g^-1: a loss to the sum's value


def _sum(law: Any, kind: str) -> _Sum:
    params = law.params if kind else _checks.law_params(law)
    if kind == "kaplan":
        alpha_N, alpha_D = params["alpha_N"], params["alpha_D"]
        if not (alpha_N > 0 and alpha_D > 0):
            raise ValueError(
                f"alpha_N and alpha_D must be > 0 for an optimum, got alpha_N = {alpha_N:.6g}, "
                f"alpha_D = {alpha_D:.6g}"
            )
        alpha = alpha_N / alpha_D
        A = math.exp(alpha * math.log(params["N_c"]))
        if not (0 < A < math.inf):
            raise ValueError(
                f"N_c^(alpha_N / alpha_D) = {params['N_c']:.6g}^{alpha:.6g} is beyond double precision"
            )
        return _Sum(0.0, A, params["D_c"], alpha, 1.0, lambda loss: loss ** (1 / alpha_D))
    if kind not in ("", "chinchilla", "data_constrained"):
        raise ValueError(
            f"inference-aware sizing is offered for chinchilla, kaplan and data_constrained, not {kind}"
        )
    E, A, B, alpha, beta = (params[key] for key in ("E", "A", "B", "alpha", "beta"))
    if not (alpha > 0 and beta > 0):
        raise ValueError(
            f"alpha and beta must be > 0 for an optimum, got alpha = {alpha:.6g}, beta = {beta:.6g}"
        )
    return _Sum(E, A, B, alpha, beta, lambda loss: loss)


def _for_loss(s: _Sum, target: float, T: float) -> tuple[float, float]:
    """(N, D) minimising 6 N D + 2 N T on the curve E + A / N^alpha + B / D^beta = target (> E)."""
    E, A, B, alpha, beta = s.E, s.A, s.B, s.alpha, s.beta
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
    return math.exp(x), math.exp(log_tokens(x))


def _for_budget(s: _Sum, budget: float, T: float) -> tuple[float, float]:
    """(N, D) minimising E + A / N^alpha + B / D^beta with 6 N D + 2 N T = budget."""
    A, B, alpha, beta = s.A, s.B, s.alpha, s.beta
    x_max = math.log(budget / (2 * T)) if T > 0 else math.inf  # inference alone spends the budget

    def tokens(x: float) -> float:
        N = math.exp(x)
        return (budget - 2 * N * T) / (6 * N)

    def rising(x: float) -> bool:  # dS/dx = -alpha A N^-alpha + beta B D^-beta (1 + 2 N T / (C - 2 N T))
        N = math.exp(x)
        left = budget - 2 * N * T
        if not left > 0:
            return True
        gain = alpha * A * math.exp(-alpha * x)
        cost: float = beta * B * tokens(x) ** -beta * (budget / left)
        return cost > gain

    # The compute-optimal N at this budget, N = G (C/6)^a (frontier.py), to start the bracket from.
    center = (math.log(alpha * A) - math.log(beta * B) + beta * math.log(budget / 6)) / (alpha + beta)
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
        raise ValueError(f"C = {budget:.6g} FLOPs leaves no training budget beside {T:.6g} inference tokens")
    return N, D


@overload
def inference_optimal(
    law: Any, inference_tokens: float, *, loss: float, C: None = None, unique_tokens: float | None = None
) -> InferenceAllocation[float]: ...
@overload
def inference_optimal(
    law: Any, inference_tokens: float, *, loss: None = None, C: float, unique_tokens: float | None = None
) -> InferenceAllocation[float]: ...
@overload
def inference_optimal(
    law: Any, inference_tokens: float, *, loss: Any = None, C: Any = None, unique_tokens: float | None = None
) -> InferenceAllocation[FloatArray]: ...
def inference_optimal(
    law: Any,
    inference_tokens: float,
    *,
    loss: Any = None,
    C: Any = None,
    unique_tokens: float | None = None,
) -> InferenceAllocation[Any]:
    """The model size and training tokens that minimise training plus inference FLOPs for a target
    ``loss``, or the loss for a total budget ``C`` (FLOPs, training plus inference), when the model will
    serve ``inference_tokens`` tokens (Sardana et al. 2024). Exactly one of ``loss`` and ``C``: a scalar
    gives an allocation of Python floats, an array-like one of arrays of its shape.

    ``law`` is any law of ``scalinglaw.law.LAWS`` (or a ``FitResult``, or a mapping of the Chinchilla
    law's E, A, B, alpha, beta); ``law.inference_optimal(...)`` is the same. The data-constrained law
    is sized without repetition (U_D = D); a budget of ``unique_tokens`` is refused.

    >>> chinchilla = Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    >>> plan = inference_optimal(chinchilla, 2e12, loss=1.947)  # N 2.42e10, D 2.66e12: 71% of the params
    """
    if not isinstance(law, Mapping):
        law = getattr(law, "law", law)  # a FitResult or a saved fit: its law
    kind: str = "" if isinstance(law, Mapping) else str(getattr(law, "KIND", ""))
    if not kind and not isinstance(law, Mapping):
        raise ValueError(
            f"law must be a scaling law, a FitResult or a mapping of E, A, B, alpha, beta; got {law!r}"
        )
    T = _checks.real_number(inference_tokens, "inference_tokens")
    if T < 0:
        raise ValueError(f"inference_tokens must be >= 0, got {T:.6g}")
    if (loss is None) == (C is None):
        raise ValueError("give exactly one of loss (a target loss) and C (a total budget in FLOPs)")
    if unique_tokens is not None:
        raise ValueError(
            "inference-aware sizing under a budget of unique tokens is not offered: with repeated data "
            "the data-constrained law is no longer an increasing function of E + A / N^alpha + B / D^beta "
            "(N' and D' saturate, with a kink at N = N_opt(U_D)), so the cost along the target loss need "
            "not have a single minimum to find exactly; leave unique_tokens out to size without "
            "repetition (U_D = D)"
        )
    s = _sum(law, kind)
    name, given = ("loss", loss) if loss is not None else ("C", C)
    if is_scalar(given):
        return _answer(law, kind, s, T, name, _checks.positive_number(given, name))
    values = _checks.as_float_array(given, name)
    _checks.check_positive(values, name, what="target loss" if name == "loss" else "budget")
    answers = [_answer(law, kind, s, T, name, float(value)) for value in values.flat]
    fields = ("N", "D", "loss", "training_flops", "inference_flops", "chinchilla_N", "chinchilla_D")
    arrays = {
        field: np.array([getattr(a, field) for a in answers], dtype=np.float64).reshape(values.shape)
        for field in fields
    }
    return InferenceAllocation(inference_tokens=T, **arrays)


def _answer(law: Any, kind: str, s: _Sum, T: float, name: str, value: float) -> InferenceAllocation[float]:
    if name == "loss":
        inner = s.inverse(value)
        if not inner > s.E:
            raise ValueError(
                f"target loss {value:.6g} is not above E = {s.E:.6g}: no finite model reaches it"
            )
        N, D = _for_loss(s, inner, T)
    else:
        N, D = _for_budget(s, value, T)
    if kind:
        reached = float(law.predict(N, D))
        reference = law.budget_for_loss(reached)
    else:
        reached = float(grid.predict(law, N, D))
        reference = frontier.budget_for_loss(law, reached)
    return InferenceAllocation(
        N=N,
        D=D,
        loss=reached,
        inference_tokens=T,
        training_flops=6.0 * N * D,
        inference_flops=2.0 * N * T,
        chinchilla_N=float(reference.N),
        chinchilla_D=float(reference.D),
    )
