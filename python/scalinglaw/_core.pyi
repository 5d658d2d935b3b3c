# Stub of the compiled module scalinglaw._core (cpp/bindings/_core.cpp). tests/test_stubs.py checks
# that it names exactly what the module exports.
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str
FIT_STATUSES: tuple[str, ...]

def default_starts() -> NDArray[np.float64]: ...
def objective(
    n: ArrayLike,
    d: ArrayLike,
    loss: ArrayLike,
    a: float,
    b: float,
    e: float,
    alpha: float,
    beta: float,
    huber_delta: float = 1e-3,
) -> float: ...
def fit_chinchilla(
    n: ArrayLike,
    d: ArrayLike,
    loss: ArrayLike,
    starts: ArrayLike,
    huber_delta: float,
    max_iterations: int,
    gradient_tolerance: float,
    function_tolerance: float,
    parameter_tolerance: float,
    max_step: float,
    threads: int,
) -> dict[str, Any]: ...

class Params:
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    def __init__(self, E: float, A: float, B: float, alpha: float, beta: float) -> None: ...

def frontier_coefficients(params: Params) -> tuple[float, float, float]: ...
def compute_optimal(params: Params, flops: ArrayLike) -> dict[str, NDArray[np.float64]]: ...
def budget_for_loss(params: Params, loss: ArrayLike) -> dict[str, NDArray[np.float64]]: ...
def optimal_for_size(params: Params, n: ArrayLike) -> dict[str, NDArray[np.float64]]: ...
def predict(params: Params, n: ArrayLike, d: ArrayLike, threads: int = 0) -> NDArray[np.float64]: ...
def loss_grid(
    params: Params, n_axis: ArrayLike, c_axis: ArrayLike, out: NDArray[Any], threads: int = 0
) -> NDArray[Any]: ...
def loss_grid_nd(
    params: Params, n_axis: ArrayLike, d_axis: ArrayLike, out: NDArray[Any], threads: int = 0
) -> NDArray[Any]: ...
def bootstrap_indices(n_runs: int, n_resamples: int, seed: int) -> NDArray[np.int64]: ...
def bootstrap_starts(a: float, b: float, e: float, alpha: float, beta: float) -> NDArray[np.float64]: ...
def bootstrap(
    n: ArrayLike,
    d: ArrayLike,
    loss: ArrayLike,
    indices: ArrayLike,
    starts: ArrayLike,
    budgets: ArrayLike,
    group: ArrayLike,
    group_budgets: ArrayLike,
    huber_delta: float,
    max_iterations: int,
    gradient_tolerance: float,
    function_tolerance: float,
    parameter_tolerance: float,
    max_step: float,
    threads: int,
) -> dict[str, Any]: ...
def approach2(
    n: ArrayLike, d: ArrayLike, loss: ArrayLike, group: ArrayLike, budgets: ArrayLike
) -> dict[str, Any]: ...
