"""The laws as values: ``Chinchilla`` (also ``Law``), ``Kaplan`` and ``DataConstrained``, and what can be
read from them.

Each is a small frozen dataclass whose fields are the law's parameters, in the C++ core's order and with
its names (``cpp/include/scalinglaw/laws.hpp``); ``LAWS`` maps each law's name to its class. A fitted
``FitResult`` holds one (``result.law``). The Chinchilla law keeps its closed-form, vectorised paths
(``scalinglaw.frontier``, ``scalinglaw.grid``); the others ask the core's law-generic functions, with a
numeric frontier where no closed form exists.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, overload

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _checks, _core, frontier, grid, inference
from ._checks import FloatArray
from .frontier import Allocation, FrontierCoefficients, allocation, is_scalar, scalar_or_array
from .inference import InferenceAllocation


@dataclass(frozen=True)
class ScalingLaw:
    """A law L(N, D) (the data-constrained one also of unique tokens U_D): N parameters, D training
    tokens, L loss (nats/token). Subclasses are the laws of ``LAWS``."""

    KIND: ClassVar[str] = ""
    FORMULA: ClassVar[str] = ""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The parameters, in the law's order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def info(cls) -> _core.LawInfo:
        """The C++ core's description of the law (formula, coordinates, which parameters are logs)."""
        return _core.law_info(_core.law_kind(cls.KIND))

    @property
    def params(self) -> dict[str, float]:
        """The parameters by name, in the law's order."""
        return {name: float(getattr(self, name)) for name in self.names()}

    @property
    def needs_unique_tokens(self) -> bool:
        return bool(self.info().needs_unique_tokens)

    def _values(self) -> FloatArray:
        return np.array(list(self.params.values()), dtype=np.float64)

    @overload
    def predict(
        self, N: float, D: float, unique_tokens: float | None = None, *, threads: int = 0
    ) -> float: ...
    @overload
    def predict(self, N: Any, D: Any, unique_tokens: Any = None, *, threads: int = 0) -> FloatArray: ...
    def predict(self, N: Any, D: Any, unique_tokens: Any = None, *, threads: int = 0) -> Any:
        """L(N, D) (with U_D = ``unique_tokens`` for the data-constrained law; default U_D = D, no
        repetition), with numpy broadcasting: a Python float when every argument is a scalar."""
        scalar = is_scalar(N) and is_scalar(D) and (unique_tokens is None or is_scalar(unique_tokens))
        return scalar_or_array(self._predict(N, D, unique_tokens, threads), scalar)

    def _predict(self, N: Any, D: Any, unique_tokens: Any, threads: int) -> FloatArray:
        n = _checks.as_float_array(N, "N")
        d = _checks.as_float_array(D, "D")
        _checks.check_positive(n, "N", what="model size")
        _checks.check_positive(d, "D", what="token count")
        u = None
        if self.needs_unique_tokens:
            u = d if unique_tokens is None else _checks.as_float_array(unique_tokens, "unique_tokens")
            _checks.check_positive(u, "unique_tokens", what="unique token count")
        arrays = [n, d] if u is None else [n, d, u]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ValueError(
                "N, D and unique_tokens cannot be broadcast together: shapes "
                + ", ".join(str(a.shape) for a in arrays)
            ) from None
        full = [np.asarray(np.broadcast_to(a, shape), order="C") for a in arrays]
        if u is not None:
            _check_unique_tokens(full[2], full[1])
        return _core.law_predict(
            _core.law_kind(self.KIND),
            self._values(),
            full[0],
            full[1],
            full[2] if u is not None else None,
            threads=_checks.threads(threads),
        )

    def loss_grid(
        self,
        N_axis: Any,
        C_axis: Any,
        *,
        out: NDArray[Any] | None = None,
        dtype: DTypeLike | None = None,
        threads: int = 0,
    ) -> NDArray[Any]:
        """L on the grid of model sizes x FLOP budgets, ``grid[i, j] = L(N_axis[i], C_axis[j] / (6 N))``
        (float64; U_D = D for the data-constrained law)."""
        rows = _checks.as_float_array(N_axis, "N_axis").ravel()
        columns = _checks.as_float_array(C_axis, "C_axis").ravel()
        _checks.check_positive(rows, "N_axis", what="model size")
        _checks.check_positive(columns, "C_axis", what="budget")
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise ValueError(f"the {self.KIND} law's grids are float64, got dtype {np.dtype(dtype)}")
        target = np.empty((rows.size, columns.size)) if out is None else out
        kind = _core.law_kind(self.KIND)
        return _core.law_loss_grid(kind, self._values(), rows, columns, target, _checks.threads(threads))

    def frontier_coefficients(self) -> FrontierCoefficients:
        """a, b, G of N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b (C = 6 N D; U_D = D for the
        data-constrained law)."""
        raw = _core.law_frontier_coefficients(_core.law_kind(self.KIND), self._values())
        return FrontierCoefficients(raw.a, raw.b, raw.G)

    @overload
    def compute_optimal(self, C: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def compute_optimal(self, C: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def compute_optimal(self, C: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """Compute-optimal N, D, loss and tokens per parameter for budgets C (FLOPs, C = 6 N D); for the
        data-constrained law, under a budget of ``unique_tokens`` (default none: U_D = D). Python
        floats for a scalar C, arrays of its shape otherwise."""
        return allocation(self._compute_optimal(C, unique_tokens), C)

    def _compute_optimal(self, C: Any, unique_tokens: float | None) -> Any:
        budget = _checks.as_float_array(C, "C")
        _checks.check_positive(budget, "C", what="budget")
        u = _unique_budget(unique_tokens)
        return _core.law_compute_optimal(_core.law_kind(self.KIND), self._values(), budget, u)

    @overload
    def budget_for_loss(self, loss: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def budget_for_loss(self, loss: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def budget_for_loss(self, loss: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """The smallest budgets whose compute-optimal models reach the target losses (the frontier's
        loss falls with C: bisection on log C in the core, to the last bit); for the data-constrained
        law, under a budget of ``unique_tokens`` (as ``compute_optimal``), where repeated data put a
        floor under the loss any budget reaches."""
        return allocation(self._budget_for_loss(loss, unique_tokens), loss)

    def _budget_for_loss(self, loss: Any, unique_tokens: float | None) -> Any:
        target = _checks.as_float_array(loss, "loss")
        _checks.check_positive(target, "loss", what="target loss")
        u = _unique_budget(unique_tokens)
        raw = _core.law_budget_for_loss(_core.law_kind(self.KIND), self._values(), target, u)
        missed = ~np.isclose(raw.loss, target, rtol=1e-9, atol=0.0)
        if missed.any():  # above the frontier's loss at the smallest budget, C = 6 FLOPs
            first = float(target[missed].flat[0])
            raise ValueError(
                f"target loss {first!r} is above the {self.KIND} law's loss at any budget >= 6 FLOPs"
            )
        return raw

    @overload
    def optimal_for_size(self, N: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def optimal_for_size(self, N: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def optimal_for_size(self, N: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """The tokens (and budget) for which a model of N parameters is compute-optimal, from the
        frontier N_opt = G (C/6)^a; for the data-constrained law under a budget of ``unique_tokens``,
        the budget whose numeric optimum has N parameters."""
        return allocation(self._optimal_for_size(N, unique_tokens), N)

    def _optimal_for_size(self, N: Any, unique_tokens: float | None) -> Any:
        n = _checks.as_float_array(N, "N")
        _checks.check_positive(n, "N", what="model size")
        u = _unique_budget(unique_tokens)
        return _core.law_optimal_for_size(_core.law_kind(self.KIND), self._values(), n, u)

    @overload
    def inference_optimal(
        self, inference_tokens: float, *, loss: float, C: None = None, unique_tokens: float | None = None
    ) -> InferenceAllocation[float]: ...
    @overload
    def inference_optimal(
        self, inference_tokens: float, *, loss: None = None, C: float, unique_tokens: float | None = None
    ) -> InferenceAllocation[float]: ...
    @overload
    def inference_optimal(
        self, inference_tokens: float, *, loss: Any = None, C: Any = None, unique_tokens: float | None = None
    ) -> InferenceAllocation[FloatArray]: ...
    def inference_optimal(
        self, inference_tokens: float, *, loss: Any = None, C: Any = None, unique_tokens: float | None = None
    ) -> InferenceAllocation[Any]:
        """The cheapest model for a target ``loss``, or the best for a total budget ``C`` of training
        plus inference FLOPs, when it will serve ``inference_tokens`` tokens (Sardana et al. 2024); see
        ``scalinglaw.inference.inference_optimal``."""
        return inference.inference_optimal(
            self, inference_tokens, loss=loss, C=C, unique_tokens=unique_tokens
        )


@dataclass(frozen=True)
class Chinchilla(ScalingLaw):
    """L(N, D) = E + A / N^alpha + B / D^beta: N parameters, D training tokens, L loss (nats/token)."""

    KIND: ClassVar[str] = "chinchilla"
    FORMULA: ClassVar[str] = "L(N, D) = E + A / N^alpha + B / D^beta"

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def _predict(self, N: Any, D: Any, unique_tokens: Any, threads: int) -> FloatArray:
        # unique_tokens does not enter this law
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

    # The closed forms (scalinglaw.frontier).
    def _compute_optimal(self, C: Any, unique_tokens: float | None) -> Any:
        return frontier.compute_optimal(self, C)

    def _budget_for_loss(self, loss: Any, unique_tokens: float | None) -> Any:
        return frontier.budget_for_loss(self, loss)

    def _optimal_for_size(self, N: Any, unique_tokens: float | None) -> Any:
        return frontier.optimal_for_size(self, N)


#: Today's name of the Chinchilla law.
Law = Chinchilla


@dataclass(frozen=True)
class Kaplan(ScalingLaw):
    """Kaplan et al.'s (2020, eq. 1.5) joint law
    L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D."""

    KIND: ClassVar[str] = "kaplan"
    FORMULA: ClassVar[str] = "L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D"

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float


@dataclass(frozen=True)
class DataConstrained(ScalingLaw):
    """Muennighoff et al.'s (2023) law of repeated data, L = E + A / N'^alpha + B / D'^beta with the
    effective N', D' of U_D unique tokens (R_D, R_N: the paper's R*_D, R*_N; inf means no decay, the
    Chinchilla law)."""

    KIND: ClassVar[str] = "data_constrained"
    FORMULA: ClassVar[str] = "L(N, D, U_D) = E + A / N'^alpha + B / D'^beta"

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    R_D: float
    R_N: float


#: Every law by its name (the names are the API: ``fit(..., law="kaplan")``, ``--law kaplan``).
LAWS: dict[str, type[ScalingLaw]] = {
    "chinchilla": Chinchilla,
    "kaplan": Kaplan,
    "data_constrained": DataConstrained,
}


def law_class(law: Any) -> type[ScalingLaw]:
    """The class of a law given by name or class; a ValueError lists the names otherwise."""
    if isinstance(law, type) and issubclass(law, ScalingLaw) and law.KIND in LAWS:
        return law
    if isinstance(law, str) and law in LAWS:
        return LAWS[law]
    raise ValueError(f"law must be one of {', '.join(repr(name) for name in LAWS)}, got {law!r}")


def _unique_budget(unique_tokens: float | None) -> float:
    """The core's form of a unique-token budget: 0 for none."""
    return 0.0 if unique_tokens is None else _checks.positive_number(unique_tokens, "unique_tokens")


def _check_unique_tokens(u: FloatArray, d: FloatArray) -> None:
    above = u > d
    if above.any():
        index = np.unravel_index(int(np.argmax(above)), u.shape) if u.ndim else ()
        where = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
        raise ValueError(
            f"unique_tokens{where} = {float(u[index]):g} exceeds D{where} = {float(d[index]):g}: a run "
            "cannot see more unique tokens than it trains on"
        )


def as_law(params: Any) -> Chinchilla:
    """A ``Chinchilla`` law from a Law (or FitResult) or a mapping with keys E, A, B, alpha, beta, checked."""
    return Chinchilla(**_checks.law_params(params))
