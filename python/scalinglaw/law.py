"""The law L(N, D) = E + A / N^alpha + B / D^beta as a value, and what can be read from it.

``Law`` holds the five parameters; every fitted ``FitResult`` is a ``Law`` too, so the methods below work
on a fit directly: ``scalinglaw.fit(*runs).compute_optimal(5.76e23)``. The work is done by the free
functions of ``scalinglaw.frontier`` (planning) and ``scalinglaw.grid`` (evaluation), in C++.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _checks

if TYPE_CHECKING:
    from ._checks import FloatArray
    from .frontier import Allocation, FrontierCoefficients


@dataclass(frozen=True)
class Law:
    """L(N, D) = E + A / N^alpha + B / D^beta: N parameters, D training tokens, L loss (nats/token)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    @property
    def params(self) -> dict[str, float]:
        """E, A, B, alpha, beta."""
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}

    def predict(self, N: Any, D: Any, *, threads: int = 0) -> FloatArray:
        """L(N, D), with numpy broadcasting of N and D."""
        from .grid import predict

        return predict(self, N, D, threads=threads)

    def loss_grid(self, N_axis: Any, C_axis: Any, **options: Any) -> FloatArray:
        """L on the grid of model sizes x FLOP budgets; see ``scalinglaw.grid.loss_grid``."""
        from .grid import loss_grid

        return loss_grid(self, N_axis, C_axis, **options)

    def loss_grid_nd(self, N_axis: Any, D_axis: Any, **options: Any) -> FloatArray:
        """L on the grid of model sizes x token counts; see ``scalinglaw.grid.loss_grid_nd``."""
        from .grid import loss_grid_nd

        return loss_grid_nd(self, N_axis, D_axis, **options)

    def frontier_coefficients(self) -> FrontierCoefficients:
        """a, b, G of N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b."""
        from .frontier import frontier_coefficients

        return frontier_coefficients(self)

    def compute_optimal(self, C: Any) -> Allocation:
        """Compute-optimal N, D, loss and tokens per parameter for budgets C (FLOPs, C = 6 N D)."""
        from .frontier import compute_optimal

        return compute_optimal(self, C)

    def budget_for_loss(self, loss: Any) -> Allocation:
        """The smallest budgets (with their N, D) whose compute-optimal models reach the target losses."""
        from .frontier import budget_for_loss

        return budget_for_loss(self, loss)

    def optimal_for_size(self, N: Any) -> Allocation:
        """The tokens (and budget) for which a model of N parameters is compute-optimal."""
        from .frontier import optimal_for_size

        return optimal_for_size(self, N)


def as_law(params: Any) -> Law:
    """A ``Law`` from a Law (or FitResult) or a mapping with keys E, A, B, alpha, beta, checked."""
    if isinstance(params, Mapping):
        missing = [key for key in ("E", "A", "B", "alpha", "beta") if key not in params]
        if missing:
            raise ValueError(f"params is missing {', '.join(missing)}")
        values = {key: params[key] for key in ("E", "A", "B", "alpha", "beta")}
    elif all(hasattr(params, key) for key in ("E", "A", "B", "alpha", "beta")):
        values = {key: getattr(params, key) for key in ("E", "A", "B", "alpha", "beta")}
    else:
        raise ValueError(
            f"params must be a Law, a FitResult or a mapping of E, A, B, alpha, beta; got {params!r}"
        )
    for key in ("E", "A", "B"):
        values[key] = _checks.positive_number(values[key], key)
    for key in ("alpha", "beta"):
        values[key] = _checks.real_number(values[key], key)
    return Law(**values)
