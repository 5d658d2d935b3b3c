"""The law evaluated on many points at once: elementwise with broadcasting, and on grids of axes.

A grid is what contour maps and planning tables need. ``loss_grid(law, N_axis, C_axis)[i, j]`` is
the loss of a model of ``N_axis[i]`` parameters trained with ``C_axis[j]`` FLOPs, i.e. on
D = C / (6 N) tokens: rows follow N, columns follow C, so

    grid = scalinglaw.loss_grid(result, N_axis, C_axis)   # shape (len(N_axis), len(C_axis))
    ax.contour(C_axis, N_axis, grid)                      # x = FLOPs, y = model size (Figure 4)

``loss_grid_nd`` does the same over (N, D) axes. The work is done by the C++ core on all cores
with the GIL released. The law is separable on these axes,
L = E + A N^-alpha + [B (6N)^beta] C^-beta, so a grid costs O(rows + columns) powers and one
multiply-add per cell: it runs at the speed memory can be written. With ``out=`` (preallocated)
and ``dtype=np.float32``, grids of 10^8 - 10^9 cells fit in memory. Results agree with the
formula evaluated in float64 to about 1e-15 relative and do not depend on ``threads``. A loss
beyond the range of the output's dtype (1.8e308 for float64, 3.4e38 for float32) raises ValueError
naming its cell rather than being written as inf. A new grid (or predict's broadcast) that needs more
than the machine's physical memory is refused with a ValueError naming its size, before allocating.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _checks, _core
from ._checks import FloatArray

_GRID_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def predict(params: Any, N: Any, D: Any, *, threads: int = 0) -> FloatArray:
    """The loss L(N, D) = E + A / N^alpha + B / D^beta, with numpy broadcasting of N and D.

    Parameters
    ----------
    params
        The law: a ``Law``, a ``FitResult`` or a mapping with keys E, A, B, alpha, beta.
    N, D
        Model sizes (parameters) and training tokens: array-likes of broadcastable shapes, every
        value finite and > 0.
    threads
        Worker threads; 0 means one per core (fewer for small jobs). The result does not depend
        on it.

    Returns
    -------
    numpy.ndarray
        float64 array of the broadcast shape (0-d for two scalars). For every pair of two axes,
        ``loss_grid_nd`` is faster and needs no broadcast copies of N and D.
    """
    p = _core_params(params)
    n = _positive(N, "N", "model size")
    d = _positive(D, "D", "token count")
    try:
        shape = np.broadcast_shapes(n.shape, d.shape)
    except ValueError:
        raise ValueError(
            f"N (shape {n.shape}) and D (shape {d.shape}) cannot be broadcast together"
        ) from None
    count = _checks.threads(threads)
    copies = 1 + (n.shape != shape) + (d.shape != shape)  # the result, and N and D broadcast
    _checks.check_memory(8.0 * math.prod(shape) * copies, f"predict on shape {shape}")
    n_full = np.asarray(np.broadcast_to(n, shape), order="C")  # (ascontiguousarray makes 0-d 1-d)
    d_full = np.asarray(np.broadcast_to(d, shape), order="C")
    return _core.predict(p, n_full, d_full, threads=count)


def loss_grid(
    params: Any,
    N_axis: Any,
    C_axis: Any,
    *,
    out: NDArray[Any] | None = None,
    dtype: DTypeLike | None = None,
    threads: int = 0,
) -> NDArray[Any]:
    """The loss on every (model size, budget) pair: ``grid[i, j] = L(N, C / (6 N))``.

    ``N = N_axis[i]`` and ``C = C_axis[j]``: the model trained on D = C / (6 N) tokens.

    Parameters
    ----------
    params
        The law: a ``Law``, a ``FitResult`` or a mapping with keys E, A, B, alpha, beta.
    N_axis
        Model sizes N (parameters), 1-D, every value finite and > 0, in any order.
    C_axis
        Training budgets C (FLOPs, C = 6 N D), 1-D, every value finite and > 0, in any order.
    out
        Optional C-contiguous, writeable float64 or float32 array of shape
        ``(len(N_axis), len(C_axis))``, filled in place and returned.
    dtype
        float64 or float32. Default: ``out.dtype`` if ``out`` is given, else float64. Each float32
        cell is its float64 value rounded once.
    threads
        Worker threads; 0 means one per core (fewer for small jobs). The result does not depend
        on it.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(N_axis), len(C_axis))``: rows follow N, columns follow C, so
        ``ax.contour(C_axis, N_axis, grid)`` puts FLOPs on x and model size on y.
    """
    p = _core_params(params)
    n = _checks.positive_1d(N_axis, "N_axis", what="model size")
    c = _checks.positive_1d(C_axis, "C_axis", what="budget")
    target = _output(out, dtype, (n.size, c.size), "(len(N_axis), len(C_axis))")
    return _core.loss_grid(p, n, c, target, threads=_checks.threads(threads))


def loss_grid_nd(
    params: Any,
    N_axis: Any,
    D_axis: Any,
    *,
    out: NDArray[Any] | None = None,
    dtype: DTypeLike | None = None,
    threads: int = 0,
) -> NDArray[Any]:
    """The loss on every (model size, token count) pair: ``grid[i, j] = L(N_axis[i], D_axis[j])``.

    Parameters as for ``loss_grid``, with ``D_axis`` (training tokens, 1-D, finite and > 0) in
    place of ``C_axis``. Returns an array of shape ``(len(N_axis), len(D_axis))``: rows follow N,
    columns D, so ``ax.contour(D_axis, N_axis, grid)`` puts tokens on x and model size on y. Each
    cell equals ``predict(params, N, D)`` at its (N, D) exactly.
    """
    p = _core_params(params)
    n = _checks.positive_1d(N_axis, "N_axis", what="model size")
    d = _checks.positive_1d(D_axis, "D_axis", what="token count")
    target = _output(out, dtype, (n.size, d.size), "(len(N_axis), len(D_axis))")
    return _core.loss_grid_nd(p, n, d, target, threads=_checks.threads(threads))


def _core_params(params: Any) -> _core.Params:
    return _core.Params(**_checks.law_params(params))


def _positive(values: Any, name: str, what: str) -> FloatArray:
    array = _checks.as_float_array(values, name)
    _checks.check_positive(array, name, what=what)
    return array


def _output(out: Any, dtype: DTypeLike | None, shape: tuple[int, int], described: str) -> NDArray[Any]:
    """The array a grid is written into: a new one, or `out` once it is checked to fit."""
    wanted = None if dtype is None else _grid_dtype(dtype)
    if out is None:
        made = np.dtype(np.float64 if wanted is None else wanted)
        cells = f"a grid of {shape[0]} x {shape[1]} {made} cells"
        _checks.check_memory(float(shape[0]) * shape[1] * made.itemsize, cells)
        return np.empty(shape, dtype=made)
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a numpy array, got {type(out).__name__}")
    if out.dtype not in _GRID_DTYPES:
        raise ValueError(f"out must have dtype float64 or float32, got {out.dtype}")
    if wanted is not None and out.dtype != wanted:
        raise ValueError(f"dtype {wanted} does not match out.dtype {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"out must have shape {described} = {shape}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous (row-major), got a strided or Fortran array")
    if not out.flags.writeable:
        raise ValueError("out must be writeable, got a read-only array")
    return out


def _grid_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    try:
        wanted = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if wanted not in _GRID_DTYPES:
        raise ValueError(f"dtype must be float64 or float32, got {wanted}")
    return wanted
