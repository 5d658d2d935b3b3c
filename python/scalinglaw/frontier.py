"""Planning with a fitted law: the compute-optimal frontier and its inverses.

Training compute is C = 6 N D FLOPs (N parameters, D tokens) throughout. Minimising L(N, D) under that
constraint gives (Hoffmann et al. 2022, eq. 4)

    N_opt(C) = G (C/6)^a,   D_opt(C) = G^-1 (C/6)^b,
    G = (alpha A / (beta B))^(1 / (alpha + beta)),   a = beta / (alpha + beta),   b = alpha / (alpha + beta).

The closed forms are computed by the C++ core (``cpp/src/frontier.cpp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, overload

import numpy as np

from . import _checks, _core
from ._checks import FloatArray

#: Training FLOPs of Gopher (280B parameters, 300B tokens), the budget Hoffmann et al. plan for.
GOPHER_FLOPS = 5.76e23


class FrontierCoefficients(NamedTuple):
    a: float  #: N_opt grows as C^a
    b: float  #: D_opt grows as C^b (a + b = 1)
    G: float  #: N_opt = G (C/6)^a


#: What an allocation's fields are: floats for a scalar request, arrays of its shape for an array-like.
V = TypeVar("V", float, FloatArray)


def is_scalar(value: Any) -> bool:
    """A Python or numpy scalar (not an array, not even a 0-d one): its answers are Python floats."""
    return not isinstance(value, np.ndarray) and np.ndim(value) == 0


def scalar_or_array(array: FloatArray, scalar: bool) -> Any:
    """``array`` as a Python float when the request was a scalar, else unchanged."""
    return float(array) if scalar else array


def plain(value: float | FloatArray) -> Any:
    """A float, or an array as nested lists: for JSON."""
    return value.tolist() if isinstance(value, np.ndarray) else float(value)


@dataclass(frozen=True)
class Allocation(Generic[V]):
    """Compute-optimal allocations, one per requested value: Python floats for a scalar request, arrays
    of the request's shape for an array-like (a 0-d array stays one)."""

    C: V  #: training FLOPs, C = 6 N D
    N: V  #: parameters
    D: V  #: tokens
    loss: V  #: predicted loss L(N, D)
    tokens_per_parameter: V  #: D / N

    def __len__(self) -> int:
        return int(np.size(self.C))

    def to_dict(self) -> dict[str, Any]:
        return {
            "C": plain(self.C),
            "N": plain(self.N),
            "D": plain(self.D),
            "loss": plain(self.loss),
            "tokens_per_parameter": plain(self.tokens_per_parameter),
        }


def allocation(raw: Any, request: Any) -> Allocation[Any]:
    """The core's allocations (fields C, N, D, loss, tokens_per_parameter) for ``request``: floats for
    a scalar, arrays otherwise."""
    scalar = is_scalar(request)
    return Allocation(
        *(
            scalar_or_array(getattr(raw, name), scalar)
            for name in ("C", "N", "D", "loss", "tokens_per_parameter")
        )
    )


def _core_params(params: Any) -> _core.Params:
    law = _checks.law_params(params)
    for key in ("alpha", "beta"):
        if not law[key] > 0:
            raise ValueError(
                f"{key} must be > 0 for a compute-optimal frontier, got {_checks.short_float(law[key])}"
            )
    return _core.Params(**law)


def _positive(values: Any, name: str, what: str) -> FloatArray:
    array = _checks.as_float_array(values, name)
    _checks.check_positive(array, name, what=what)
    return array


def frontier_coefficients(params: Any) -> FrontierCoefficients:
    """a, b and G of the frontier of ``params`` (a Law, FitResult or mapping)."""
    raw = _core.frontier_coefficients(_core_params(params))
    return FrontierCoefficients(raw.a, raw.b, raw.G)


@overload
def compute_optimal(params: Any, C: float) -> Allocation[float]: ...
@overload
def compute_optimal(params: Any, C: Any) -> Allocation[FloatArray]: ...
def compute_optimal(params: Any, C: Any) -> Allocation[Any]:
    """For each budget C (FLOPs), the compute-optimal N and D, the loss there and tokens per parameter."""
    p = _core_params(params)
    return allocation(_core.compute_optimal(p, _positive(C, "C", "budget")), C)


@overload
def budget_for_loss(params: Any, loss: float) -> Allocation[float]: ...
@overload
def budget_for_loss(params: Any, loss: Any) -> Allocation[FloatArray]: ...
def budget_for_loss(params: Any, loss: Any) -> Allocation[Any]:
    """For each target loss (> E), the smallest budget that reaches it, and its N and D."""
    p = _core_params(params)
    target = _positive(loss, "loss", "target loss")
    unreachable = target <= p.E
    if unreachable.any():
        first = float(target[unreachable].flat[0])
        raise ValueError(f"target loss {first!r} is not above E = {p.E!r}: no finite model reaches it")
    return allocation(_core.budget_for_loss(p, target), loss)


@overload
def optimal_for_size(params: Any, N: float) -> Allocation[float]: ...
@overload
def optimal_for_size(params: Any, N: Any) -> Allocation[FloatArray]: ...
def optimal_for_size(params: Any, N: Any) -> Allocation[Any]:
    """For each model size N, the tokens D (and budget C = 6 N D) at which N is compute-optimal."""
    p = _core_params(params)
    return allocation(_core.optimal_for_size(p, _positive(N, "N", "model size")), N)
