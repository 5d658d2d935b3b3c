"""Runs from columns in memory: a pandas DataFrame, or any mapping of column names to 1-D arrays.

pandas is never imported here: a DataFrame is read through its mapping interface (``keys()``,
``data[name]``, ``to_numpy``) and its ``index``, whose labels name the rows in errors and notes (a plain
mapping's rows are named by position). Columns are chosen as ``read_csv`` chooses them: the ones named by
``N=``, ``D=`` (or ``C=``, then D = C / (6 N)) and ``loss=``, else recognised by name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import FloatArray, as_float_array
from .io import ROWS_NAMED, Runs, _columns, _Numbers, check_plausible, warn_pooled
from .warnings import SkippedRowsWarning, warn

#: What ``nan_policy`` may be: refuse a missing value (NaN, None, pandas.NA), or leave its row out.
NAN_POLICIES = ("raise", "omit")
#: The data= form's keywords for each quantity, as the messages name them.
KEYWORDS = {"N": "N=", "D": "D=", "C": "C=", "loss": "loss=", "group": "group="}


def nan_policy_checked(nan_policy: Any) -> str:
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    return str(nan_policy)


def runs_from_data(
    data: Any,
    *,
    N: Any = None,
    D: Any = None,
    C: Any = None,
    loss: Any = None,
    nan_policy: str = "raise",
    where: str | None = None,
) -> Runs:
    """The runs in `data` (a DataFrame or a mapping of columns; a ``Runs`` is returned as it is).
    `where` names the data in messages and ``Runs.source`` (default: its type, e.g. "DataFrame")."""
    if isinstance(data, Runs):
        if any(name is not None for name in (N, D, C, loss)):
            raise ValueError("data= is a Runs, whose columns are already chosen: leave out N=, D=, C=, loss=")
        return data
    runs, _, _ = _read(data, N, D, C, loss, nan_policy_checked(nan_policy), None, where)
    return runs


def runs_of(N: Any, D: Any, loss: Any, *, data: Any, C: Any, nan_policy: str) -> Runs | None:
    """The runs of fit's (or bootstrap's) arguments: from ``data=`` (N, D, C, loss name its columns), or
    from arrays with ``C=`` or ``nan_policy="omit"``; None for arrays alone, which are checked as ever."""
    policy = nan_policy_checked(nan_policy)
    if data is not None:
        return runs_from_data(data, N=N, D=D, C=C, loss=loss, nan_policy=policy)
    if C is None and policy == "raise":
        return None
    if C is not None and D is not None:
        raise ValueError("give D (tokens) or C (training FLOPs), not both")
    columns = {"N": N, "D" if C is None else "C": D if C is None else C, "loss": loss}
    missing = [name for name, values in columns.items() if values is None]
    if missing:
        raise ValueError(f"{' and '.join(missing)} missing: give N, D (or C) and loss, or data=")
    runs = runs_from_data(columns, N="N", loss="loss", nan_policy=policy, where="arrays")
    return dataclasses.replace(runs, source="", columns={})


def groups_from_data(
    data: Any,
    *,
    group: str,
    N: Any = None,
    D: Any = None,
    C: Any = None,
    loss: Any = None,
    nan_policy: str = "raise",
) -> dict[str, Runs]:
    """The runs in `data` of each value of column `group`, in order of first appearance."""
    runs, codes, names = _read(data, N, D, C, loss, nan_policy_checked(nan_policy), group, None)
    assert codes is not None
    split = {}
    for code in dict.fromkeys(codes.tolist()):
        part = runs.subset(codes == code)
        split[names[code]] = dataclasses.replace(
            part,
            source=f"{runs.source} [{group} = {names[code]}]",
            columns={**runs.columns, "group": str(group)},
        )
        check_plausible(split[names[code]])
    return split


def _label(value: Any) -> str:
    """A row's index label for a message: 'run-3', 7, Timestamp(...)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _read(
    data: Any, N: Any, D: Any, C: Any, loss: Any, nan_policy: str, group: str | None, where: str | None
) -> tuple[Runs, NDArray[np.int64] | None, dict[int, str]]:
    keys_of = getattr(data, "keys", None)
    if not callable(keys_of) or not hasattr(data, "__getitem__"):
        raise ValueError(
            "data must be a pandas DataFrame or a mapping of column names to columns, "
            f"got {type(data).__name__}"
        )
    where = type(data).__name__ if where is None else where
    keys = list(keys_of())
    header = [str(key) for key in keys]
    choice = _columns(header, where, N, D, C, loss, KEYWORDS)
    chosen = {"N": choice.n, "C" if choice.flops else "D": choice.tokens, "loss": choice.loss}
    index = getattr(data, "index", None)
    index = None if callable(index) else index  # a mapping's index() method is no index
    columns = {
        quantity: _column(data[keys[i]], header[i], where, index, quantity in ("N", "D"))
        for quantity, i in chosen.items()
    }
    count = len(columns["N"])
    for quantity, values in columns.items():
        if len(values) != count:
            raise ValueError(
                f"{where}: column {header[chosen[quantity]]!r} has {len(values)} rows, "
                f"column {header[choice.n]!r} {count}"
            )
    labels: Sequence[Any] = range(count)
    if index is not None and len(index) == count:
        labels = list(index)
    missing = np.zeros(count, dtype=bool)
    for values in columns.values():
        missing |= np.isnan(values)
    codes: NDArray[np.int64] | None = None
    names: dict[int, str] = {}
    if group is not None:
        codes, names, missing_group = _groups(data, keys, header, group, set(chosen.values()), where)
        missing |= missing_group
    notes: tuple[str, ...] = ()
    if missing.any():
        rows = np.flatnonzero(missing)

        def empty(i: int) -> str:
            names = [header[chosen[q]] for q, values in columns.items() if math.isnan(values[i])]
            names += [str(group)] if codes is not None and codes[i] < 0 else []
            return f"row {_label(labels[i])} ({', '.join(map(repr, names))})"

        listed = "; ".join(empty(i) for i in rows[:ROWS_NAMED].tolist())
        more = f"; and {len(rows) - ROWS_NAMED} more" if len(rows) > ROWS_NAMED else ""
        if nan_policy == "raise":
            raise ValueError(
                f"{where}: {len(rows)} of {count} rows have a missing value (NaN): {listed}{more}; "
                "nan_policy='omit' leaves such rows out"
            )
        if len(rows) == count:
            raise ValueError(
                f"{where}: every row has a missing value (NaN), no runs are left: {listed}{more}"
            )
        notes = (f"left out {len(rows)} of {count} rows with a missing value (NaN): {listed}{more}",)
        warn(f"{where}: {notes[0]}", SkippedRowsWarning)
    keep = ~missing
    kept = [labels[i] for i in np.flatnonzero(keep).tolist()]
    for quantity, values in columns.items():
        columns[quantity] = values[keep]
        _check_positive(columns[quantity], header[chosen[quantity]], kept, where)
    n = columns["N"]
    if choice.flops:
        with np.errstate(over="ignore", under="ignore"):
            tokens = columns["C"] / (6.0 * n)
        _check_positive(tokens, f"D = C / (6 N) of {header[choice.tokens]}", kept, where)
    else:
        tokens = columns["D"]
    runs = Runs(
        n,
        tokens,
        columns["loss"],
        where,
        notes,
        columns={quantity: header[i] for quantity, i in chosen.items()},
        set_aside=tuple(f"{header[i]!r}: {why}" for i, why in sorted(choice.aside.items())),
    )
    if codes is not None:
        return runs, codes[keep], names
    pooled = [
        codes
        for i, key in enumerate(keys)
        if i not in chosen.values() and (codes := _pooled(data[key], header[i], n, keep, where)) is not None
    ]
    check_plausible(runs, pooled[0] if pooled else None)
    return runs, None, {}


def _column(values: Any, name: str, where: str, index: Any, counts: bool) -> FloatArray:
    """A column as float64, NaN where a value is missing (NaN, None, pandas.NA); text is read as
    read_csv reads a cell (SI suffixes where `counts`); a value that is no number is named by its
    row's label in `index` (the DataFrame's index; None: by position)."""
    to_numpy = getattr(values, "to_numpy", None)
    if callable(to_numpy) and getattr(getattr(values, "dtype", None), "kind", "") not in "bOSU":
        try:
            array = np.asarray(to_numpy(dtype=np.float64, na_value=np.nan))
        except (TypeError, ValueError):  # text in a string or categorical column: read below
            array = np.asarray(to_numpy(), dtype=object)
    else:
        array = np.asarray(to_numpy() if callable(to_numpy) else values)
    if array.ndim != 1:
        raise ValueError(f"{where}: column {name!r} must be 1-D, got shape {array.shape}")
    if array.dtype.kind in "OSU":  # None (or pandas.NA) for a missing value, text read as in a file
        items = array.tolist()
        numbers = _Numbers(",")
        for i, item in enumerate(items):
            problem = ""
            if _missing(item):
                items[i] = math.nan
            elif isinstance(item, str):
                try:
                    items[i] = numbers.value(item, counts, name, i)
                except ValueError as error:
                    problem = str(error)
            elif isinstance(item, (bool, np.bool_)) or not isinstance(
                item, (int, float, np.integer, np.floating)
            ):
                problem = f"{item!r} is not a number"
            if problem:
                label = _label(index[i]) if index is not None and len(index) == len(items) else str(i)
                raise ValueError(f"{where}: column {name!r}, row {label}: {problem}")
        array = np.array(items, dtype=object)
    return np.array(as_float_array(array, f"{where}: column {name!r}"), dtype=np.float64)


def _missing(item: Any) -> bool:
    if item is None:
        return True
    try:
        return bool(item != item)  # NaN, pandas.NA (whose != is NA, whose bool raises)
    except TypeError:
        return True


def _check_positive(values: FloatArray, name: str, labels: Sequence[Any], where: str) -> None:
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.argmax(bad))
        value = float(values[i])
        problem = "not finite" if not math.isfinite(value) else "not > 0"
        raise ValueError(
            f"{where}: column {name!r}, row {_label(labels[i])}: {value!r} is {problem} "
            f"({int(bad.sum())} of {len(values)} rows are not finite and > 0)"
        )


def _texts(values: Any) -> list[Any] | None:
    """The column's values as a list when every one is text or missing, else None."""
    if getattr(getattr(values, "dtype", None), "kind", "O") in "iufcbmM":  # numbers, at no cost
        return None
    array = np.asarray(
        values.to_numpy() if callable(getattr(values, "to_numpy", None)) else values, dtype=object
    )
    if array.ndim != 1:
        return None
    items = array.tolist()
    return items if all(isinstance(item, str) or _missing(item) for item in items) else None


def _groups(
    data: Any, keys: list[Any], header: list[str], group: str, used: set[int], where: str
) -> tuple[NDArray[np.int64], dict[int, str], NDArray[np.bool_]]:
    """Each row's group code (-1 where missing), the name of each code, and where it is missing."""
    if not isinstance(group, str):
        raise ValueError(f"group= must be a column name (a string), got {group!r}")
    if group not in header:
        raise ValueError(f"{where}: no column {group!r} for group= (columns: {', '.join(map(repr, header))})")
    i = header.index(group)
    if i in used:
        raise ValueError(f"{where}: group={group!r} is a column read as N, D, C or loss")
    column = data[keys[i]]
    items = np.asarray(
        column.to_numpy() if callable(getattr(column, "to_numpy", None)) else column, dtype=object
    )
    values: dict[str, int] = {}
    codes = np.array(
        [-1 if _missing(item) else values.setdefault(str(item), len(values)) for item in items.tolist()],
        dtype=np.int64,
    )
    return codes, {code: name for name, code in values.items()}, codes < 0


def _pooled(
    values: Any, name: str, n: FloatArray, keep: NDArray[np.bool_], where: str
) -> NDArray[np.int64] | None:
    """warn_pooled for a column of texts (others are no groups)."""
    try:
        items = _texts(values)
    except (TypeError, ValueError):
        return None
    if items is None:
        return None
    texts: dict[str, int] = {}
    codes = np.array([texts.setdefault("" if _missing(t) else t, len(texts)) for t in items], dtype=np.int64)
    if len(texts) > 11:  # 10 values and the empty one, at most
        return None
    return warn_pooled(name, codes[keep], {code: text for text, code in texts.items()}, n, where)
