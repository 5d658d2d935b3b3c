"""Argument validation shared by the public functions: every problem becomes a ValueError that names
the argument, the first offending position and value, before any C++ runs."""

from __future__ import annotations

import math
import os
import reprlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The largest thread or iteration count the C++ core takes (its parameters are C ints).
LARGEST_INT = 2**31 - 1
#: The longest echo of a value in a message: a set, a generator or a million-element list is shown by
#: its first items (reprlib), never whole.
LONGEST_SHOWN = 200
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 100


def as_float_array(values: Any, name: str) -> FloatArray:
    """`values` as a float64 array, refusing what is not real numbers (text, objects, complex, bool)."""
    if values is None:
        raise ValueError(f"{name} is missing (got None)")
    masked = int(np.count_nonzero(values.mask)) if isinstance(values, np.ma.MaskedArray) else 0
    if masked:  # np.asarray would drop the mask and use whatever value hides under it
        raise ValueError(
            f"{name} is a masked array with {masked} masked values: leave those "
            "entries out (e.g. with .compressed() on every array) rather than mask them"
        )
    try:
        array = np.asarray(values)
    except Exception as error:  # ragged nested lists, exotic objects
        raise ValueError(f"{name} must be an array of numbers: {error}") from None
    kind = array.dtype.kind
    if kind == "O" and array.ndim == 0 and not isinstance(array.item(), (int, float)):
        # numpy wraps what it cannot iterate as an array (a set, a generator, a dict) into one object
        raise ValueError(
            f"{name} must be a sequence or array of numbers, got {type(values).__name__} {shown(values)}"
        )
    if kind == "O":
        problem = _first_non_number(array)
        if problem:
            raise ValueError(f"{name} must hold numbers only, got {problem}")
        return _to_float64(array, name)
    elif kind == "c":
        raise ValueError(f"{name} must be real numbers, got complex values")
    elif kind == "b":
        raise ValueError(f"{name} must be numbers, got booleans")
    elif kind in "USV":
        raise ValueError(f"{name} must be numbers, got text ({array.dtype})")
    elif kind not in "iuf":
        raise ValueError(f"{name} must be numbers, got dtype {array.dtype}")
    if kind == "f" and array.dtype.itemsize > 8:
        return _to_float64(array, name)  # long double holds values beyond float64's range
    return np.asarray(array, dtype=np.float64, order="C")


def _to_float64(array: NDArray[Any], name: str) -> FloatArray:
    """`array` (objects or long doubles) as float64, refusing a value float64 cannot hold: beyond its
    range it would become inf (or an OverflowError), below it 0, and then be reported as a value the
    caller never gave."""
    try:
        with np.errstate(over="ignore", under="ignore"):
            converted = np.asarray(array.astype(np.float64), order="C")
    except OverflowError:  # a Python int beyond 1.8e308
        converted = None
    if converted is None or np.isinf(converted).any() or (converted == 0).any():
        for index, item in np.ndenumerate(array):
            try:
                with np.errstate(over="ignore", under="ignore"):
                    double = float(item)
                over = math.isinf(double) and abs(item) != math.inf
            except OverflowError:
                over = True
            if over:
                raise ValueError(
                    f"{name}{name_index(index)} = {shown(item)} is beyond the range of double "
                    "precision (about 1.8e308)"
                )
            if double == 0 and item != 0:
                raise ValueError(
                    f"{name}{name_index(index)} = {shown(item)} is below the range of double "
                    "precision (about 4.9e-324): it would be 0"
                )
    assert converted is not None
    return converted


def _first_non_number(array: NDArray[Any]) -> str:
    """Where an object array holds something other than a real number ("" if nowhere)."""
    for index, item in np.ndenumerate(array):
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
            return f"{name_index(index)} = {shown(item)}"
    return ""


def shown(value: Any) -> str:
    """`value` for a message: huge numbers in scientific notation, floats as ``short_float``, anything
    else by a bounded repr (reprlib: the first items of a set or a list), at most LONGEST_SHOWN
    characters."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        whole = int(value)
        if abs(whole) < 10**15:
            return str(whole)
        if whole.bit_length() > 16000:  # beyond long double too
            return f"an integer of about {int(whole.bit_length() * 0.30103)} digits"
    if isinstance(value, (int, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return np.format_float_scientific(np.longdouble(value), precision=6, trim="-")
    if isinstance(value, float):
        return short_float(value)
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= LONGEST_SHOWN else text[: LONGEST_SHOWN - 3] + "..."


def short_float(value: float) -> str:
    """`value` as typed when 12 significant digits give it back exactly (0.1, 1e-320, 1.8200000001), else
    to 6 significant digits: a computed value's last digits are rounding noise (-0.12596012089131964
    -> -0.12596), as in the C++ core's messages (check.hpp)."""
    text = repr(value)
    digits = text.lstrip("-").partition("e")[0].replace(".", "").strip("0")
    return text if len(digits) <= 12 else f"{value:.6g}"


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
        raise ValueError(f"{name} must be finite and > 0, got {shown(value)}")
    return number


def real_number(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond 1.8e308
        raise ValueError(f"{name} must be finite, got {shown(value)} (beyond double precision)") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {shown(value)}")
    return number


def whole_number(value: Any, name: str, *, minimum: int, maximum: int = LARGEST_INT) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {shown(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {shown(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {shown(value)}")
    return int(value)


def threads(value: Any) -> int:
    """0 means all cores."""
    return whole_number(value, "threads", minimum=0)


#: The law's parameters, in the order of ``Law``'s fields.
LAW_PARAMS = ("E", "A", "B", "alpha", "beta")


def law_params(params: Any) -> dict[str, float]:
    """E, A, B (> 0), alpha, beta (real) from a Law, a FitResult (anything with those attributes) or a
    mapping with those keys, checked."""
    if isinstance(params, Mapping):
        missing = [key for key in LAW_PARAMS if key not in params]
        if missing:
            raise ValueError(f"params is missing {', '.join(missing)}")
        values = {key: params[key] for key in LAW_PARAMS}
    elif all(hasattr(params, key) for key in LAW_PARAMS):
        values = {key: getattr(params, key) for key in LAW_PARAMS}
    else:
        raise ValueError(
            f"params must be a Law, a FitResult or a mapping of E, A, B, alpha, beta; got {params!r}"
        )
    return {
        key: positive_number(value, key) if key in ("E", "A", "B") else real_number(value, key)
        for key, value in values.items()
    }


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say): the limit of
    ``check_memory``, as of the C++ core's (check.hpp)."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    return pages * page if pages > 0 and page > 0 else None


def bytes_text(count: float) -> str:
    """A byte count for a message: "7.28 TB (8e+12 bytes)"."""
    value, unit = float(count), 0
    units = ("bytes", "kB", "MB", "GB", "TB", "PB", "EB")
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{value:.3g} {units[unit]} ({float(count):.3g} bytes)"


def check_memory(count: float, what: str) -> None:
    """Refuse, before allocating, what needs more bytes than the machine's physical memory: such an
    allocation may succeed on paper and have the process killed when its pages are touched."""
    limit = physical_memory()
    if limit is not None and count > limit:
        raise ValueError(
            f"{what} needs {bytes_text(count)}, more than this machine's memory ({bytes_text(limit)})"
        )
