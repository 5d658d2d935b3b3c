"""Planning with a fitted law: the compute-optimal frontier and its inverses.

Training compute is C = 6 N D FLOPs (N parameters, D tokens) throughout. Minimising L(N, D) under that
constraint gives (Hoffmann et al. 2022, eq. 4)

    N_opt(C) = G (C/6)^a,   D_opt(C) = G^-1 (C/6)^b,
    G = (alpha A / (beta B))^(1 / (alpha + beta)),   a = beta / (alpha + beta),   b = alpha / (alpha + beta).

The closed forms are computed by the C++ core (``cpp/src/frontier.cpp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from . import _checks, _core
from ._checks import FloatArray

#: Training FLOPs of Gopher (280B parameters, 300B tokens), the budget Hoffmann et al. plan for.
GOPHER_FLOPS = 5.76e23


class FrontierCoefficients(NamedTuple):
    a: float  #: N_opt grows as C^a
    b: float  #: D_opt grows as C^b (a + b = 1)
    G: float  #: N_opt = G (C/6)^a


@dataclass(frozen=True)
class Allocation:
    """Compute-optimal allocations, one per requested value (arrays of the request's shape)."""

    C: FloatArray  #: training FLOPs, C = 6 N D
    N: FloatArray  #: parameters
    D: FloatArray  #: tokens
    loss: FloatArray  #: predicted loss L(N, D)
    tokens_per_parameter: FloatArray  #: D / N

    def __len__(self) -> int:
        return int(np.size(self.C))

    def to_dict(self) -> dict[str, Any]:
        return {
            "C": self.C.tolist(),
            "N": self.N.tolist(),
            "D": self.D.tolist(),
            "loss": self.loss.tolist(),
            "tokens_per_parameter": self.tokens_per_parameter.tolist(),
        }


def _core_params(params: Any) -> _core.Params:
    law = _checks.law_params(params)
    for key in ("alpha", "beta"):
        if not law[key] > 0:
            raise ValueError(
                f"{key} must be > 0 for a compute-optimal frontier, got {_checks.short_float(law[key])}"
            )
    return _core.Params(**law)


def _allocation(raw: _core.Allocations) -> Allocation:
    return Allocation(raw.C, raw.N, raw.D, raw.loss, raw.tokens_per_parameter)


def _positive(values: Any, name: str, what: str) -> FloatArray:
    array = _checks.as_float_array(values, name)
    _checks.check_positive(array, name, what=what)
    return array


def frontier_coefficients(params: Any) -> FrontierCoefficients:
    """a, b and G of the frontier of ``params`` (a Law, FitResult or mapping)."""
    raw = _core.frontier_coefficients(_core_params(params))
    return FrontierCoefficients(raw.a, raw.b, raw.G)


def compute_optimal(params: Any, C: Any) -> Allocation:
    """For each budget C (FLOPs), the compute-optimal N and D, the loss there and tokens per parameter."""
    p = _core_params(params)
    return _allocation(_core.compute_optimal(p, _positive(C, "C", "budget")))


def budget_for_loss(params: Any, loss: Any) -> Allocation:
    """For each target loss (> E), the smallest budget that reaches it, and its N and D."""
    p = _core_params(params)
    target = _positive(loss, "loss", "target loss")
    unreachable = target <= p.E
    if unreachable.any():
        first = float(target[unreachable].flat[0])
        raise ValueError(f"target loss {first!r} is not above E = {p.E!r}: no finite model reaches it")
    return _allocation(_core.budget_for_loss(p, target))


def optimal_for_size(params: Any, N: Any) -> Allocation:
    """For each model size N, the tokens D (and budget C = 6 N D) at which N is compute-optimal."""
    p = _core_params(params)
    return _allocation(_core.optimal_for_size(p, _positive(N, "N", "model size")))
