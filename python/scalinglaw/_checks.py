"""Argument validation shared by the public functions: every problem becomes a ValueError that names
the argument, the first offending position and value, before any C++ runs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def as_float_array(values: Any, name: str) -> FloatArray:
    """`values` as a float64 array, refusing what is not real numbers (text, objects, complex, bool)."""
    if values is None:
        raise ValueError(f"{name} is missing (got None)")
    try:
        array = np.asarray(values)
    except Exception as error:  # ragged nested lists, exotic objects
        raise ValueError(f"{name} must be an array of numbers: {error}") from None
    kind = array.dtype.kind
    if kind == "O":
        problem = _first_non_number(array)
        if problem:
            raise ValueError(f"{name} must hold numbers only, got {problem}")
        array = array.astype(np.float64)
    elif kind == "c":
        raise ValueError(f"{name} must be real numbers, got complex values")
    elif kind == "b":
        raise ValueError(f"{name} must be numbers, got booleans")
    elif kind in "USV":
        raise ValueError(f"{name} must be numbers, got text ({array.dtype})")
    elif kind not in "iuf":
        raise ValueError(f"{name} must be numbers, got dtype {array.dtype}")
    return np.asarray(array, dtype=np.float64, order="C")


def _first_non_number(array: NDArray[Any]) -> str:
    """Where an object array holds something other than a real number ("" if nowhere)."""
    for index, item in np.ndenumerate(array):
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
            return f"{name_index(index)} = {item!r}"
    return ""


def name_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def positive_1d(values: Any, name: str, *, what: str = "value") -> FloatArray:
    """A 1-D float64 array whose entries are finite and > 0."""
    array = as_float_array(values, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    check_positive(array, name, what=what)
    return array


def check_positive(array: FloatArray, name: str, *, what: str = "value") -> None:
    """Every entry finite and > 0; otherwise name the first that is not."""
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        value = float(array[index])
        problem = "not finite" if not math.isfinite(value) else "not > 0"
        where = name_index(index) if array.ndim != 1 else f"[{index[0]}]"
        raise ValueError(
            f"{name}{where} = {value!r} is {problem}: every {what} must be finite and > 0 "
            f"({int(bad.sum())} of {array.size} are not)"
        )


def same_length(**arrays: FloatArray) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"the arrays must have the same length: {listed}")
    return next(iter(lengths.values()))


def positive_number(value: Any, name: str) -> float:
    """A finite real number > 0 (for delta and the like)."""
    number = real_number(value, name)
    if not number > 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return number


def real_number(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def whole_number(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def threads(value: Any) -> int:
    """0 means all cores."""
    return whole_number(value, "threads", minimum=0)
