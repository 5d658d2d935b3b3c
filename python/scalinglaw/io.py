"""Runs in and out: CSV files, the built-in Chinchilla dataset, JSON.

A run is one trained model: N parameters, D training tokens, final loss L. Files often give the training
compute C instead of D; scalinglaw then takes D = C / (6 N), the usual approximation of a transformer's
training FLOPs (Kaplan et al. 2020; Hoffmann et al. 2022).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import re
import stat
from array import array as packed
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from ._checks import FloatArray, positive_1d, same_length
from .warnings import SkippedRowsWarning, warn

PathLike = Union[str, "os.PathLike[str]"]

#: Column names recognised for each quantity, compared after lower-casing and dropping spaces,
#: underscores, dashes, dots and brackets ("Model Size" -> "modelsize", "n_params" -> "nparams").
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "N": (
        "n",
        "modelsize",
        "params",
        "parameters",
        "nparams",
        "numparams",
        "numparameters",
        "nparameters",
        "paramcount",
        "parametercount",
        "size",
        "model",
    ),
    "D": (
        "d",
        "tokens",
        "ntokens",
        "numtokens",
        "trainingtokens",
        "traintokens",
        "datasetsize",
        "datasize",
        "data",
    ),
    "C": (
        "c",
        "flops",
        "flop",
        "trainingflop",
        "trainingflops",
        "compute",
        "trainflops",
        "computeflops",
        "budget",
    ),
    "loss": (
        "loss",
        "l",
        "finalloss",
        "trainloss",
        "trainingloss",
        "evalloss",
        "valloss",
        "validationloss",
        "testloss",
    ),
}


@dataclass(frozen=True)
class Runs:
    """Training runs as float64 arrays of equal length: ``N`` (parameters), ``D`` (tokens), ``loss``.

    Every value is finite and > 0, and so is each run's training compute C = 6 N D (ValueError
    otherwise). Iterating gives ``(N, D, loss)``, so ``scalinglaw.fit(*runs)`` fits them. ``notes``
    records what was done to the data on the way (rows skipped, runs excluded).
    """

    N: FloatArray
    D: FloatArray
    loss: FloatArray
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    #: The sweep's nominal training budgets (FLOPs), when known; see ``isoflop.group_by_budget``.
    budgets: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        n = positive_1d(self.N, "N", what="model size")
        d = positive_1d(self.D, "D", what="token count")
        loss = positive_1d(self.loss, "loss", what="loss")
        same_length(N=n, D=d, loss=loss)
        with np.errstate(over="ignore", under="ignore"):
            bad = ~(np.isfinite(6.0 * n * d) & (6.0 * n * d > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"run [{i}]: the training compute C = 6 N D = 6 * {n[i]:g} * {d[i]:g} is beyond double "
                f"precision ({int(bad.sum())} of {len(n)} runs)"
            )
        for name, array in (("N", n), ("D", d), ("loss", loss)):
            array = array.copy()
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def C(self) -> FloatArray:
        """Training compute in FLOPs, C = 6 N D."""
        return 6.0 * self.N * self.D

    def __len__(self) -> int:
        return len(self.N)

    def __iter__(self) -> Iterator[FloatArray]:
        return iter((self.N, self.D, self.loss))

    def subset(self, rows: Any, *, note: str = "") -> Runs:
        """The runs at ``rows`` (indices or a boolean mask), in their order."""
        picked = np.arange(len(self))[rows]
        notes = (*self.notes, note) if note else self.notes
        return Runs(self.N[picked], self.D[picked], self.loss[picked], self.source, notes, self.budgets)

    def split_highest_loss(self, count: int, *, why: str = "") -> tuple[Runs, Runs]:
        """(kept, excluded): the ``count`` highest-loss runs set apart, both kept in file order. The
        kept runs' notes say so, followed by ``why`` (e.g. ", as Epoch AI did")."""
        if not 0 <= count < len(self):
            raise ValueError(f"count must be between 0 and {len(self) - 1}, got {count}")
        excluded = np.zeros(len(self), dtype=bool)
        excluded[np.argsort(self.loss, kind="stable")[len(self) - count :]] = True
        note = f"left out the {count} highest-loss runs{why}" if count else ""
        return self.subset(~excluded, note=note), self.subset(excluded)


#: Why the built-in data's 5 highest-loss runs are left out (see ``load_chinchilla``).
EPOCH_EXCLUSION = ", as Epoch AI did before fitting"

#: The nine IsoFLOP budgets of Hoffmann et al.'s Figure 4 (FLOPs).
CHINCHILLA_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)


def load_chinchilla(*, epoch_exclusion: bool = False) -> Runs:
    """The built-in dataset: 245 runs Epoch AI extracted from Figure 4 of Hoffmann et al. (2022).

    Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt"; see ``data/ATTRIBUTION.md``
    in the package. With ``epoch_exclusion=True``, the 5 highest-loss runs are left out as Epoch did
    before fitting (240 runs remain, in file order).
    """
    with resources.as_file(resources.files("scalinglaw") / "data" / "chinchilla_fig4_epoch.csv") as path:
        runs = read_csv(path)
    runs = Runs(
        runs.N,
        runs.D,
        runs.loss,
        "built-in Chinchilla data (Epoch AI, from Hoffmann et al. Fig. 4)",
        budgets=CHINCHILLA_BUDGETS,
    )
    if epoch_exclusion:
        runs, _ = runs.split_highest_loss(5, why=EPOCH_EXCLUSION)
    return runs


#: How many skipped rows a note or warning names one by one.
ROWS_NAMED = 5

# Numbers written for people rather than for programs. float() refuses them all; each gets a message
# that says what is wrong, because a guess ("1,500" is 1500 or 1.5 depending on the locale) could
# silently fit the wrong data. Separators: comma, space, apostrophe, no-break spaces.
_GROUPED = re.compile(r"[+-]?\d{1,3}([,' \u00a0\u202f]\d{3})+([.]\d*)?([eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")
_POINT_GROUPED = re.compile(r"[+-]?\d{1,3}([.]\d{3})+(,\d*)?")  # "1.000.000", "1.234,5"
_SUFFIXED = re.compile(r"[+-]?(\d+[.]?\d*|[.]\d+)\s*([kKMGBT])")
_SUFFIX_POWERS = {"k": 3, "K": 3, "M": 6, "G": 9, "B": 9, "T": 12}


class _FormatError(ValueError):
    """A cell in a number format read_csv will not guess at: refused even when skipping bad rows."""


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-.()\[\]]+", "", name.strip().lower())


def _listed(header: Sequence[str]) -> str:
    return ", ".join(map(repr, header))


def _find_column(header: Sequence[str], quantity: str, chosen: str | None, where: str) -> int | None:
    """Index of the column for `quantity`: the one the caller named, or the one recognised by name."""
    option = {"N": "n", "D": "d", "C": "c", "loss": "loss"}[quantity]
    if chosen is not None:
        if not isinstance(chosen, str):
            raise ValueError(f"{option}= must be a column name (a string), got {chosen!r}")
        if chosen in header:
            return header.index(chosen)
        matches = [i for i, name in enumerate(header) if _normalise(name) == _normalise(chosen)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = " and ".join(repr(header[i]) for i in matches)
            raise ValueError(f"{where}: {option}={chosen!r} could be {names}; give the exact column name")
        raise ValueError(f"{where}: no column {chosen!r} for {option}= (columns: {_listed(header)})")
    known = COLUMN_NAMES[quantity]
    matches = [i for i, name in enumerate(header) if _normalise(name) in known]
    if len(matches) > 1:
        names = " and ".join(repr(header[i]) for i in matches)
        raise ValueError(
            f"{where}: ambiguous columns {names} could each be {quantity}; choose one with {option}=... "
            f"(columns: {_listed(header)})"
        )
    return matches[0] if matches else None


def _columns(
    header: list[str], where: str, n: str | None, d: str | None, c: str | None, loss: str | None
) -> tuple[int, int, bool, int]:
    """(N column, D or C column, whether it holds C, loss column), refusing what is missing or unclear."""
    if d is not None and c is not None:
        raise ValueError(f"{where}: give d= (tokens) or c= (FLOPs), not both")
    n_col = _find_column(header, "N", n, where)
    loss_col = _find_column(header, "loss", loss, where)
    # A column the caller named wins over one recognised by name: c= must not lose to a "tokens" column.
    d_col = _find_column(header, "D", d, where) if c is None else None
    c_col = _find_column(header, "C", c, where) if d_col is None else None
    missing = [what for what, col in (("model size N", n_col), ("loss", loss_col)) if col is None]
    if d_col is None and c_col is None:
        missing.append("tokens D or training FLOPs C")
    if missing:
        hint = ""
        if len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
            hint = (
                " (the header is one column: is the file separated by semicolons or tabs? "
                "save it with commas)"
            )
        raise ValueError(
            f"{where}: no column for {' and '.join(missing)} (columns: {_listed(header)}){hint}; "
            "name them with n=, d=, c=, loss="
        )
    assert n_col is not None and loss_col is not None
    tokens_col = d_col if d_col is not None else c_col
    assert tokens_col is not None
    chosen = {"N": n_col, "D" if d_col is not None else "C": tokens_col, "loss": loss_col}
    for first, second in itertools.combinations(chosen, 2):
        if chosen[first] == chosen[second]:
            raise ValueError(
                f"{where}: column {header[chosen[first]]!r} cannot be both {first} and {second}; "
                "name distinct columns with n=, d=, c=, loss="
            )
    return n_col, tokens_col, d_col is None, loss_col


def _cell_value(cell: str) -> float:
    """The positive finite number in `cell`; ValueError saying what is wrong (_FormatError for a number
    written in a format that would need a guess)."""
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        raise _cell_problem(text) from None
    if value > 0 and math.isfinite(value):
        return value
    if math.isnan(value):
        raise ValueError(f"{text!r} is not a number (NaN)")
    if math.isinf(value):
        overflow = value > 0 and "inf" not in text.lower()
        raise ValueError(
            f"{text!r} is beyond double precision (about 1.8e308)" if overflow else f"{text!r} is not finite"
        )
    if value == 0 and any(digit in text for digit in "123456789"):
        raise ValueError(f"{text!r} is too small for double precision (it rounds to 0)")
    raise ValueError(f"{text!r} is not > 0")


def _cell_problem(text: str) -> ValueError:
    if not text:
        return ValueError("empty is not a number")
    if text.endswith("%"):
        return _FormatError(f"{text!r} is a percentage: give plain numbers (e.g. 0.25 for 25%)")
    grouped = _GROUPED.fullmatch(text) is not None
    decimal_comma = _DECIMAL_COMMA.fullmatch(text) is not None
    if grouped and decimal_comma:
        return _FormatError(
            f"{text!r} has a comma that could be a thousands separator or a decimal comma; "
            "write numbers plainly, with a decimal point (e.g. 1500 or 1.5)"
        )
    if grouped:
        plain = re.sub(r"[,' \u00a0\u202f]", "", text)
        return _FormatError(f"{text!r} has thousands separators: write {plain}")
    if decimal_comma:
        return _FormatError(f"{text!r} has a decimal comma: write {text.replace(',', '.')}")
    if _POINT_GROUPED.fullmatch(text):
        plain = text.replace(".", "").replace(",", ".")
        return _FormatError(f"{text!r} has points as thousands separators: write {plain}")
    suffixed = _SUFFIXED.fullmatch(text)
    if suffixed:
        power = _SUFFIX_POWERS[suffixed.group(2)]
        return _FormatError(
            f"{text!r} has a unit suffix: write plain numbers (e.g. {suffixed.group(1)}e{power})"
        )
    return ValueError(f"{text!r} is not a number")


def read_csv(
    path: PathLike,
    *,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    loss: str | None = None,
    on_bad_row: str = "raise",
) -> Runs:
    """Read runs from a CSV file with a header row.

    Parameters
    ----------
    path
        A UTF-8, comma-separated file: a header row, then one row per run. Blank rows are ignored.
    n, d, c, loss
        Column names for model size N, tokens D, training FLOPs C and final loss. By default columns
        are recognised by name (see ``COLUMN_NAMES``: e.g. ``N``/``Model Size``/``params``,
        ``D``/``tokens``, ``C``/``Training FLOP``/``flops``, ``loss``). Tokens come from the D column
        if there is one, else from C as D = C / (6 N).
    on_bad_row
        ``"raise"`` (default): a row whose N, D (or C) or loss cell is empty, text, NaN, infinite,
        zero or negative (or missing from a short row) is an error. ``"skip"``: such rows are left
        out; a ``SkippedRowsWarning`` and ``Runs.notes`` say how many, which and why. Numbers in a
        format that would need a guess (thousands separators, decimal commas, percentages, unit
        suffixes such as ``7B``) are refused either way, as are rows with more cells than the header.

    Returns
    -------
    Runs
        The runs in file order, ``source`` set to `path`.

    Raises
    ------
    FileNotFoundError
        There is no such file.
    ValueError
        For anything else that is wrong, naming the column, the row (its line in the file, the
        header being row 1) and the problem.
    OSError
        The file exists but cannot be read (e.g. PermissionError).
    """
    if on_bad_row not in ("raise", "skip"):
        raise ValueError(f"on_bad_row must be 'raise' or 'skip', got {on_bad_row!r}")
    text, where = _read_text(path)
    records = _records(text, where)
    first = next(records, None)
    if first is None:
        raise ValueError(f"{where}: the file is empty (expected a header row, then one row per run)")
    header = [name.strip() for name in first[1]]
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate column names {_listed(duplicates)}")
    n_col, tokens_col, tokens_are_flops, loss_col = _columns(header, where, n, d, c, loss)

    values, lines, problems = _cells(header, records, (n_col, tokens_col, loss_col), where)
    if not len(lines):
        raise ValueError(f"{where}: the file has a header but no runs")
    model_size, tokens, losses = values
    if tokens_are_flops:
        tokens = _tokens_from_flops(tokens, model_size, header[tokens_col], lines, problems)
    # The runs must also have a representable training compute C = 6 N D (Runs.C).
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        flops = 6.0 * model_size * tokens
    for bad in np.flatnonzero(~(np.isfinite(flops) & (flops > 0))).tolist():
        problems.setdefault(
            bad,
            f"row {lines[bad]}: C = 6 N D = 6 * {model_size[bad]:g} * "
            f"{tokens[bad]:g} is beyond double precision",
        )
    keep, notes = _bad_rows(problems, len(lines), on_bad_row, where)
    return Runs(model_size[keep], tokens[keep], losses[keep], where, notes)


def _cells(
    header: Sequence[str], records: Iterator[tuple[int, list[str]]], columns: Sequence[int], where: str
) -> tuple[list[FloatArray], NDArray[np.int64], dict[int, str]]:
    """The numbers in `columns` of every row (NaN where there is none), each row's line and, by row
    index, what is wrong with the rows that have a bad cell. Raises at once for what skipping cannot
    fix. Rows are read one at a time: a file of 10^6 runs costs its text and 32 bytes per row."""
    values = [packed("d") for _ in columns]
    lines = packed("q")
    problems: dict[int, str] = {}
    for index, (line, row) in enumerate(records):
        lines.append(line)
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            raise ValueError(
                f"{where}: row {line} has {len(row)} cells but the header names {len(header)} columns; "
                "quote cells that contain commas, or give every column a name"
            )
        for slot, col in enumerate(columns):
            value = math.nan
            if index not in problems:
                if col >= len(row):
                    problems[index] = (
                        f"column {header[col]!r}, row {line}: missing (the row has "
                        f"{len(row)} cells, the header {len(header)} columns)"
                    )
                else:
                    try:
                        value = _cell_value(row[col])
                    except _FormatError as error:
                        raise ValueError(f"{where}: column {header[col]!r}, row {line}: {error}") from None
                    except ValueError as error:
                        problems[index] = f"column {header[col]!r}, row {line}: {error}"
            values[slot].append(value)
    return (
        [np.array(column, dtype=np.float64) for column in values],
        np.array(lines, dtype=np.int64),
        problems,
    )


def _bad_rows(
    problems: dict[int, str], count: int, on_bad_row: str, where: str
) -> tuple[NDArray[np.bool_], tuple[str, ...]]:
    """(rows to keep, notes): an error for the first bad row, or, when skipping, a note and a warning
    that say how many rows were left out, which and why."""
    keep = np.ones(count, dtype=bool)
    if not problems:
        return keep, ()
    rows = sorted(problems)
    if on_bad_row == "raise":
        more = f"; {len(rows)} of {count} rows have such problems" if len(rows) > 1 else ""
        raise ValueError(
            f"{where}: {problems[rows[0]]}{more} (on_bad_row='skip', or the command's "
            "--skip-bad-rows, leaves such rows out)"
        )
    if len(rows) == count:
        raise ValueError(
            f"{where}: every row has a problem, no runs are left; the first: {problems[rows[0]]}"
        )
    keep[rows] = False
    named = "; ".join(problems[i] for i in rows[:ROWS_NAMED])
    more = f"; and {len(rows) - ROWS_NAMED} more" if len(rows) > ROWS_NAMED else ""
    note = f"skipped {len(rows)} of {count} rows with bad cells ({named}{more})"
    warn(f"{where}: {note}", SkippedRowsWarning)
    return keep, (note,)


def _records(text: str, where: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of the CSV text, one at a time, each with its line number (the last line of a
    row whose quoted cell spans lines)."""
    reader = csv.reader(_lines(text), strict=True)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise ValueError(f"{where}: line {reader.line_num}: not valid CSV ({error})") from None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time, each with its end (\\n, \\r\\n or \\r), as csv.reader needs
    them to read a quoted cell that spans lines. (io.StringIO would do, but it holds a copy of the
    text at 4 bytes a character.)"""
    for match in _LINE.finditer(text):
        yield match.group()


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _tokens_from_flops(
    flops: FloatArray, model_size: FloatArray, name: str, lines: NDArray[np.int64], problems: dict[int, str]
) -> FloatArray:
    """D = C / (6 N), recording the rows where it is not a finite number > 0 (but leaving `problems`'
    earlier reasons for a row in place)."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        tokens = flops / (6.0 * model_size)
    for bad in np.flatnonzero(~(np.isfinite(tokens) & (tokens > 0))).tolist():
        problems.setdefault(
            bad,
            f"column {name!r}, row {lines[bad]}: tokens D = C / (6 N) = {flops[bad]:g} / "
            f"(6 * {model_size[bad]:g}) is not a finite number > 0 in double precision",
        )
    return tokens


def _read_text(path: PathLike) -> tuple[str, str]:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file name (str or os.PathLike), got {path!r}")
    where = os.fspath(path)
    if not isinstance(where, str):
        raise ValueError(f"path must be a file name as text, got {where!r}")
    file = Path(where)
    if file.is_dir():
        raise ValueError(f"{where} is a directory, not a CSV file")
    if not file.exists():
        raise FileNotFoundError(f"no such file: {where}")
    mode = file.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):  # /dev/zero would be read forever
        raise ValueError(f"{where} is not a regular file (a device or socket?); give a CSV file")
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig"), where
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        hint = "it looks like UTF-16; " if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ValueError(
            f"{where}: line {line}: not UTF-8 text "
            f"(byte {error.start}: {raw[error.start : error.start + 1]!r}); "
            f"{hint}save the CSV as UTF-8"
        ) from None


def write_json(path: PathLike, document: dict[str, Any]) -> None:
    """Write `document` as indented JSON; non-finite floats become null so any JSON reader accepts it."""
    Path(os.fspath(path)).write_text(json.dumps(_finite(document), indent=2) + "\n", encoding="utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
