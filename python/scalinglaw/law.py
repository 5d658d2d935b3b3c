"""The law L(N, D) = E + A / N^alpha + B / D^beta as a value, and what can be read from it.

``Law`` holds the five parameters; a fitted ``FitResult`` holds one (``result.law``) and forwards these
methods to it, so that ``scalinglaw.fit(*runs).compute_optimal(5.76e23)`` works. The work is done by the
free functions of ``scalinglaw.frontier`` (planning) and ``scalinglaw.grid`` (evaluation), in C++;
they take any object with the five parameters, and import nothing from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numpy.typing import DTypeLike, NDArray

from . import _checks, frontier, grid
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
        return grid.predict(self, N, D, threads=threads)

    def loss_grid(
        self,
        N_axis: Any,
        C_axis: Any,
        *,
        out: NDArray[Any] | None = None,
        dtype: DTypeLike | None = None,
        threads: int = 0,
    ) -> NDArray[Any]:
        """L on the grid of model sizes x FLOP budgets; see ``scalinglaw.grid.loss_grid``."""
        return grid.loss_grid(self, N_axis, C_axis, out=out, dtype=dtype, threads=threads)

    def loss_grid_nd(
        self,
        N_axis: Any,
        D_axis: Any,
        *,
        out: NDArray[Any] | None = None,
        dtype: DTypeLike | None = None,
        threads: int = 0,
    ) -> NDArray[Any]:
        """L on the grid of model sizes x token counts; see ``scalinglaw.grid.loss_grid_nd``."""
        return grid.loss_grid_nd(self, N_axis, D_axis, out=out, dtype=dtype, threads=threads)

    def frontier_coefficients(self) -> FrontierCoefficients:
        """a, b, G of N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b."""
        return frontier.frontier_coefficients(self)

    def compute_optimal(self, C: Any) -> Allocation:
        """Compute-optimal N, D, loss and tokens per parameter for budgets C (FLOPs, C = 6 N D)."""
        return frontier.compute_optimal(self, C)

    def budget_for_loss(self, loss: Any) -> Allocation:
        """The smallest budgets (with their N, D) whose compute-optimal models reach the target losses."""
        return frontier.budget_for_loss(self, loss)

    def optimal_for_size(self, N: Any) -> Allocation:
        """The tokens (and budget) for which a model of N parameters is compute-optimal."""
        return frontier.optimal_for_size(self, N)


def as_law(params: Any) -> Law:
    """A ``Law`` from a Law (or FitResult) or a mapping with keys E, A, B, alpha, beta, checked."""
    return Law(**_checks.law_params(params))
