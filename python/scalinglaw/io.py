"""Runs in and out: tables of runs (CSV, TSV, compressed, Parquet), the built-in Chinchilla dataset, JSON.

A run is one trained model: N parameters, D training tokens, final loss L. Files often give the training
compute C instead of D; scalinglaw then takes D = C / (6 N), the usual approximation of a transformer's
training FLOPs (Kaplan et al. 2020; Hoffmann et al. 2022). What was read is said: ``Runs.columns`` names
the columns used, ``Runs.set_aside`` the candidates that were not, and warnings flag what looks wrong.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import re
from array import array as packed
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, Union, overload

import numpy as np
from numpy.typing import NDArray

from ._checks import FloatArray, positive_1d, same_length
from ._tables import Rows, Source, open_table
from .warnings import (
    FlopsMismatchWarning,
    PooledGroupsWarning,
    RepeatedRunsWarning,
    SkippedRowsWarning,
    UnitsWarning,
    warn,
)

PathLike = Union[str, "os.PathLike[str]"]

#: Column names recognised for each quantity, compared after lower-casing and dropping spaces,
#: underscores, dashes, dots, slashes and brackets ("Model Size" -> "modelsize", "n_params" ->
#: "nparams", W&B's "model/params" -> "modelparams"). A name with slashes also matches by its last part
#: ("eval/loss" as "loss", "throughput/total_tokens" as "totaltokens").
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
        "totalparams",
        "totalparameters",
        "modelparams",
        "modelparameters",
        "modelnumparams",
    ),
    "D": (
        "d",
        "tokens",
        "ntokens",
        "numtokens",
        "trainingtokens",
        "traintokens",
        "totaltokens",
        "tokensseen",
        "seentokens",
        "tokenstrained",
        "trainedtokens",
        "numtrainingtokens",
        "ntrainingtokens",
        "datasetsize",
        "datasize",
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
        "totalflops",
        "trainingcompute",
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
        "validloss",
        "validationloss",
        "testloss",
        "lmloss",
        "crossentropy",
        "crossentropyloss",
    ),
}

#: Names taken only when no column of COLUMN_NAMES is there, otherwise set aside and said so: a
#: non-embedding count when the total is there, and vague names ("model" may hold the models' names in a
#: W&B export, "data" a path).
FALLBACK_NAMES: dict[str, tuple[str, ...]] = {
    "N": (
        "nonembeddingparams",
        "nonembeddingparameters",
        "nonembparams",
        "paramsnonembedding",
        "nonembeddingparamcount",
        "size",
        "model",
    ),
    "D": ("data",),
}

_QUANTITY = {"N": "the model size", "D": "the tokens", "C": "the training FLOPs"}


@dataclass(frozen=True, repr=False)
class Runs:
    """Training runs as float64 arrays of equal length: ``N`` (parameters), ``D`` (tokens), ``loss``.

    Every value is finite and > 0, and so is each run's training compute C = 6 N D (ValueError
    otherwise). Iterating gives ``(N, D, loss)``, so ``scalinglaw.fit(*runs)`` fits them. ``notes``
    records what was done to the data on the way (rows skipped, runs excluded); ``columns`` the column
    read for each of ``"N"``, ``"D"`` (or ``"C"``, when D = C / (6 N)) and ``"loss"``; ``set_aside``
    the columns that could have been used and were not, each with why.
    """

    N: FloatArray
    D: FloatArray
    loss: FloatArray
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    #: The sweep's nominal training budgets (FLOPs), when known; see ``isoflop.group_by_budget``.
    budgets: tuple[float, ...] = field(default=())
    columns: dict[str, str] = field(default_factory=dict)
    set_aside: tuple[str, ...] = field(default=())
    #: Optional: each run's unique tokens U_D <= D (the data-constrained law needs them).
    unique_tokens: FloatArray | None = None
    #: Optional: each run's weight in the fit (>= 0).
    weight: FloatArray | None = None

    def __post_init__(self) -> None:
        n = positive_1d(self.N, "N", what="model size")
        d = positive_1d(self.D, "D", what="token count")
        loss = positive_1d(self.loss, "loss", what="loss")
        same_length(N=n, D=d, loss=loss)
        for name in ("unique_tokens", "weight"):
            values = getattr(self, name)
            if values is not None:
                array = np.array(values, dtype=np.float64)
                if array.shape != n.shape:
                    raise ValueError(
                        f"{name} must have one value per run ({len(n)}), got shape {array.shape}"
                    )
                bad = ~np.isfinite(array) | (array < 0) | ((array == 0) & (name == "unique_tokens"))
                if bad.any():
                    i = int(np.argmax(bad))
                    need = "> 0" if name == "unique_tokens" else ">= 0"
                    raise ValueError(f"run [{i}]: {name} = {array[i]!r} must be finite and {need}")
                array.setflags(write=False)
                object.__setattr__(self, name, array)
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

    def __repr__(self) -> str:
        """A few lines: how many runs from where, each quantity's range and column, the notes."""
        lines = [f"Runs: {len(self)} runs" + (f" from {self.source}" if self.source else "")]
        for name, values in (("N", self.N), ("D", self.D), ("loss", self.loss)):
            if name == "D" and "C" in self.columns:
                column = f"  D = C / (6 N), C from {self.columns['C']!r}"
            else:
                column = f"  from {self.columns[name]!r}" if name in self.columns else ""
            span = f"{values.min():.3g} .. {values.max():.3g}" if len(values) else "none"
            lines.append(f"  {name:<4} {span:<20}{column}".rstrip())
        lines += [f"  set aside {item}" for item in self.set_aside]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def subset(self, rows: Any, *, note: str = "") -> Runs:
        """The runs at ``rows`` (indices or a boolean mask), in their order."""
        picked = np.arange(len(self))[rows]
        notes = (*self.notes, note) if note else self.notes
        optional = {
            name: None if getattr(self, name) is None else getattr(self, name)[picked]
            for name in ("unique_tokens", "weight")
        }
        return dataclasses.replace(
            self,
            N=self.N[picked],
            D=self.D[picked],
            loss=self.loss[picked],
            notes=notes,
            unique_tokens=optional["unique_tokens"],
            weight=optional["weight"],
        )

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


def load_chinchilla(*, epoch_exclusion: bool = True) -> Runs:
    """The built-in dataset: runs Epoch AI extracted from Figure 4 of Hoffmann et al. (2022).

    Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt"; see ``data/ATTRIBUTION.md``
    in the package. By default the 5 highest-loss runs are left out, as Epoch did before fitting: 240
    runs remain, in file order, the data the ``scalinglaw fit`` command fits when given no file. With
    ``epoch_exclusion=False``, all 245 runs.
    """
    with resources.as_file(resources.files("scalinglaw") / "data" / "chinchilla_fig4_epoch.csv") as path:
        runs = read_csv(path)
    runs = dataclasses.replace(
        runs,
        source="built-in Chinchilla data (Epoch AI, from Hoffmann et al. Fig. 4)",
        budgets=CHINCHILLA_BUDGETS,
    )
    if epoch_exclusion:
        runs, _ = runs.split_highest_loss(5, why=EPOCH_EXCLUSION)
    return runs


#: How many skipped rows a note or warning names one by one.
ROWS_NAMED = 5
#: A FLOPs column within this factor of 6 N D agrees with it.
FLOPS_TOLERANCE = 1.1

# Numbers written for people rather than for programs. float() refuses them all; each gets a message
# that says what is wrong, because a guess ("1,500" is 1500 or 1.5 depending on the locale) could
# silently fit the wrong data. Separators: comma, space, apostrophe, no-break spaces.
_GROUPED = re.compile(r"[+-]?\d{1,3}([,' \u00a0\u202f]\d{3})+([.]\d*)?([eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")
_POINT_GROUPED = re.compile(r"[+-]?\d{1,3}([.]\d{3})+(,\d*)?")  # "1.000.000", "1.234,5"
_SUFFIXED = re.compile(r"[+-]?(\d+[.]?\d*|[.]\d+)\s*([kKMGBT])")
_SUFFIX_POWERS = {"k": 3, "m": 6, "g": 9, "b": 9, "t": 12}
# Counts (model sizes, tokens) with an SI suffix, as in "70M", "1.4B", "2T", "500K", "160m".
_COUNT = re.compile(r"([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([kmgbt])", re.IGNORECASE)


class _FormatError(ValueError):
    """A cell in a number format read_csv will not guess at: refused even when skipping bad rows."""


_SEPARATORS = re.compile(r"[\s_\-.()\[\]/:]+")


def _normalise(name: str) -> str:
    return _SEPARATORS.sub("", name.strip().lower())


def _keys(name: str) -> set[str]:
    """The forms a column name is recognised by: whole, and its last part after a slash."""
    whole = _normalise(name)
    return {whole, _normalise(name.rsplit("/", 1)[-1])} if "/" in name else {whole}


def _listed(header: Sequence[str]) -> str:
    return ", ".join(map(repr, header))


def _recognised(header: Sequence[str], names: Sequence[str]) -> list[int]:
    return [i for i, name in enumerate(header) if _keys(name) & set(names)]


#: How the messages spell the option naming each quantity's column, as it is written before a value:
#: read_csv's keywords (fit's data= form says N=, D=, C=, loss=); the command's options (CLI_OPTIONS).
KEYWORDS = {"N": "n=", "D": "d=", "C": "c=", "loss": "loss=", "group": "group="}
CLI_OPTIONS = {"N": "--n ", "D": "--d ", "C": "--c ", "loss": "--loss ", "group": "--group "}


def _find_column(
    header: Sequence[str], quantity: str, chosen: str | None, where: str, keywords: dict[str, str] = KEYWORDS
) -> int | None:
    """Index of the column for `quantity`: the one the caller named, or the one recognised by name."""
    option = keywords[quantity]
    if chosen is not None:
        if not isinstance(chosen, str):
            raise ValueError(f"{option.strip()} must be a column name (a string), got {chosen!r}")
        if chosen in header:
            return header.index(chosen)
        matches = [i for i, name in enumerate(header) if _normalise(name) == _normalise(chosen)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = " and ".join(repr(header[i]) for i in matches)
            raise ValueError(f"{where}: {option}{chosen!r} could be {names}; give the exact column name")
        raise ValueError(f"{where}: no column {chosen!r} for {option.strip()} (columns: {_listed(header)})")
    for known in (COLUMN_NAMES[quantity], FALLBACK_NAMES.get(quantity, ())):
        matches = _recognised(header, known)
        if len(matches) > 1:
            listed = " and ".join(repr(header[i]) for i in matches)
            raise ValueError(
                f"{where}: ambiguous columns {listed} could each be {quantity}; choose one with "
                f"{option}... (columns: {_listed(header)})"
            )
        if matches:
            return matches[0]
    return None


class _Choice(NamedTuple):
    """The columns read_csv reads: N, D or C (`flops` says which), loss, and the other of D and C
    when the file has both (`other`, compared with 6 N D), and what was set aside, by column."""

    n: int
    tokens: int
    flops: bool
    loss: int
    other: int | None
    aside: dict[int, str]


def _columns(
    header: list[str],
    where: str,
    n: str | None,
    d: str | None,
    c: str | None,
    loss: str | None,
    keywords: dict[str, str] = KEYWORDS,
) -> _Choice:
    """The columns to read, refusing what is missing or unclear."""
    spelled = {quantity: keywords[quantity].strip() for quantity in ("N", "D", "C", "loss")}
    options = ", ".join(spelled.values())
    if d is not None and c is not None:
        raise ValueError(f"{where}: give {spelled['D']} (tokens) or {spelled['C']} (FLOPs), not both")
    n_col = _find_column(header, "N", n, where, keywords)
    loss_col = _find_column(header, "loss", loss, where, keywords)
    # A column the caller named wins over one recognised by name: c= must not lose to a "tokens" column.
    d_col = _find_column(header, "D", d, where, keywords) if c is None else None
    c_col = _find_column(header, "C", c, where, keywords) if d_col is None else None
    missing = [what for what, col in (("model size N", n_col), ("loss", loss_col)) if col is None]
    if d_col is None and c_col is None:
        missing.append("tokens D or training FLOPs C")
    if missing:
        hint = ""
        if len(header) == 1 and "|" in header[0]:
            hint = " (the header is one column: is the file separated by '|'? save it as CSV)"
        raise ValueError(
            f"{where}: no column for {' and '.join(missing)} (columns: {_listed(header)}){hint}; "
            f"name them with {options}"
        )
    assert n_col is not None and loss_col is not None
    tokens_col = d_col if d_col is not None else c_col
    assert tokens_col is not None
    chosen = {"N": n_col, "D" if d_col is not None else "C": tokens_col, "loss": loss_col}
    for first, second in itertools.combinations(chosen, 2):
        if chosen[first] == chosen[second]:
            raise ValueError(
                f"{where}: column {header[chosen[first]]!r} cannot be both {first} and {second}; "
                f"name distinct columns with {options}"
            )
    used = set(chosen.values())
    aside: dict[int, str] = {}
    for quantity, named, col in (("N", n, n_col), ("D", d, d_col)):
        if named is None and col is not None:  # chosen by name over others that could have been
            for i in _recognised(header, (*COLUMN_NAMES[quantity], *FALLBACK_NAMES[quantity])):
                if i not in used:
                    aside[i] = f"could be {_QUANTITY[quantity]} ({quantity} is {header[col]!r})"
    # The other of D and C, recognised by name, to compare with 6 N D.
    other_quantity = "C" if d_col is not None else "D"
    others = [i for i in _recognised(header, COLUMN_NAMES[other_quantity]) if i not in used]
    other = others[0] if len(others) == 1 else None
    for i in others:
        aside[i] = _QUANTITY[other_quantity]
    return _Choice(n_col, tokens_col, d_col is None, loss_col, other, aside)


class _Numbers:
    """Cells as numbers, in the file's convention. A decimal comma is read in a file separated by
    semicolons (the separator of locales whose decimal mark is a comma) or tabs (there only when the
    comma cannot be a thousands separator, as in "2,5" but not "2,500"); never in a file that also
    writes a decimal point, since "1.500" would then be a guess."""

    def __init__(self, delimiter: str) -> None:
        self.comma = delimiter in (";", "\t")
        self.any_comma = delimiter == ";"
        self.first: dict[str, tuple[str, int, str]] = {}  # decimal mark -> its first (column, row, cell)

    def value(self, cell: str, counts: bool, column: str, line: int) -> float:
        """The positive finite number in `cell`; ValueError saying what is wrong (_FormatError for a
        number written in a format that would need a guess). SI suffixes are read when `counts`."""
        text = cell.strip()
        number = text
        if self.comma and _DECIMAL_COMMA.fullmatch(text) and (self.any_comma or not _GROUPED.fullmatch(text)):
            number = text.replace(",", ".")
        try:
            value = float(number)
        except ValueError:
            suffixed = _COUNT.fullmatch(text) if counts else None
            if suffixed is None or ("," in suffixed.group(1) and not self.any_comma):
                raise _cell_problem(text) from None
            number = f"{suffixed.group(1).replace(',', '.')}e{_SUFFIX_POWERS[suffixed.group(2).lower()]}"
            value = float(number)
        if self.comma and "." in number:
            self._mark("," if "," in text else ".", column, line, text)
        return value if 0 < value < math.inf else _positive(text, value)

    def _mark(self, mark: str, column: str, line: int, text: str) -> None:
        self.first.setdefault(mark, (column, line, text))
        if len(self.first) == 2:
            other = "." if mark == "," else ","
            name, row, cell = self.first[other]
            marks = {",": "a decimal comma", ".": "a decimal point"}
            raise _FormatError(
                f"{text!r} has {marks[mark]} but column {name!r}, row {row}: {cell!r} has {marks[other]}; "
                "write every number with the same decimal mark"
            )


def _positive(text: str, value: float) -> float:
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
        power = _SUFFIX_POWERS[suffixed.group(2).lower()]
        return _FormatError(
            f"{text!r} has a unit suffix: write plain numbers (e.g. {suffixed.group(1)}e{power})"
        )
    return ValueError(f"{text!r} is not a number")


@overload
def read_csv(
    path: Source,
    *,
    n: str | None = ...,
    d: str | None = ...,
    c: str | None = ...,
    loss: str | None = ...,
    on_bad_row: str = ...,
    group: None = ...,
    unique_tokens: str | None = ...,
    weight: str | None = ...,
) -> Runs: ...


@overload
def read_csv(
    path: Source,
    *,
    n: str | None = ...,
    d: str | None = ...,
    c: str | None = ...,
    loss: str | None = ...,
    on_bad_row: str = ...,
    group: str,
    unique_tokens: str | None = ...,
    weight: str | None = ...,
) -> dict[str, Runs]: ...


def read_csv(
    path: Source,
    *,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    loss: str | None = None,
    on_bad_row: str = "raise",
    group: str | None = None,
    unique_tokens: str | None = None,
    weight: str | None = None,
) -> Runs | dict[str, Runs]:
    """Read runs from a table with a header row: CSV, TSV, semicolon-separated, compressed or Parquet.

    Parameters
    ----------
    path
        A file name, ``"-"`` for standard input, or a file object open for reading (text or binary).
        Text is UTF-8: a header row, then one row per run; blank rows are ignored. The delimiter
        (comma, tab or semicolon) is the one that splits the header into the most columns. A file
        separated by semicolons may write decimal commas (``2,5``); one separated by tabs too, where
        the comma cannot be a thousands separator; never mixed with decimal points. gzip, bzip2 and xz
        compression are recognised by their first bytes, whatever the name. A Parquet file needs
        pyarrow (``pip install "scalinglaw[parquet]"``); its rows are numbered as a CSV's would be.
    n, d, c, loss
        Column names for model size N, tokens D, training FLOPs C and final loss. By default columns
        are recognised by name (see ``COLUMN_NAMES``: e.g. ``N``/``Model Size``/``params``/
        ``model/params``, ``D``/``tokens``/``train/tokens``, ``C``/``Training FLOP``/``flops``,
        ``loss``/``eval/loss``); a non-embedding parameter count is taken only when there is no total.
        Tokens come from the D column if there is one, else from C as D = C / (6 N). ``Runs.columns``
        and ``Runs.set_aside`` say what was used and what was not.
    on_bad_row
        ``"raise"`` (default): a row whose N, D (or C) or loss cell is empty, text, NaN, infinite,
        zero or negative (or missing from a short row) is an error. ``"skip"``: such rows are left
        out; a ``SkippedRowsWarning`` and ``Runs.notes`` say how many, which and why. Numbers in a
        format that would need a guess (thousands separators, decimal commas in a comma-separated
        file, percentages) are refused either way, as are rows with more cells than the header. Model
        sizes and token counts may carry an SI suffix (``70M``, ``1.4B``, ``2T``, ``500K``); FLOPs
        and losses may not.
    group
        A column of group names (corpora, datasets, architectures): the runs of each group are
        returned apart, to be fitted apart (an empty cell is a bad row). Without it, a text column of
        2 to 10 values that splits runs of one model size gets a ``PooledGroupsWarning``.
    unique_tokens, weight
        Optional columns of each run's unique tokens U_D (for the data-constrained law; by default a
        column named as in ``UNIQUE_TOKEN_NAMES``, e.g. ``unique_tokens`` or ``U_D``, when there is one)
        and of its weight in the fit (only when named). They become ``Runs.unique_tokens`` and
        ``Runs.weight``; a bad cell is a bad row.

    Returns
    -------
    Runs
        The runs in file order, ``source`` set to `path` (``<stdin>`` for standard input). With
        ``group``: a dict from each group's name, in order of first appearance, to its runs (whose
        ``source`` ends with ``[column = name]`` and whose ``columns["group"]`` names the column).

    Warns
    -----
    UnitsWarning, FlopsMismatchWarning, RepeatedRunsWarning, PooledGroupsWarning
        Model sizes all below 10^4, losses above 20 or named perplexity, D < N in every run; a FLOPs
        column more than 10% away from 6 N D; repeated (N, D) pairs or checkpoint-like rows (each
        group on its own); a column of a few groups whose runs are pooled into one fit.

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
    return _read_csv(
        path,
        n=n,
        d=d,
        c=c,
        loss=loss,
        on_bad_row=on_bad_row,
        group=group,
        unique_tokens=unique_tokens,
        weight=weight,
    )


def _read_csv(
    path: Source,
    *,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    loss: str | None = None,
    on_bad_row: str = "raise",
    group: str | None = None,
    unique_tokens: str | None = None,
    weight: str | None = None,
    keywords: dict[str, str] = KEYWORDS,
) -> Runs | dict[str, Runs]:
    """read_csv, its messages naming the column options as `keywords` spells them (the command's:
    CLI_OPTIONS)."""
    if on_bad_row not in ("raise", "skip"):
        raise ValueError(f"on_bad_row must be 'raise' or 'skip', got {on_bad_row!r}")
    table = open_table(path)
    where, header = table.where, table.header
    if not header:
        raise ValueError(f"{where}: the file is empty (expected a header row, then one row per run)")
    duplicates = sorted(name for name, k in Counter(header).items() if name and k > 1)  # linear: wide exports
    if duplicates:
        raise ValueError(f"{where}: duplicate column names {_listed(duplicates)}")
    choice = _columns(header, where, n, d, c, loss, keywords)
    columns = [(choice.n, True), (choice.tokens, not choice.flops), (choice.loss, False)]
    extras = _extra_columns(header, where, unique_tokens, weight)
    columns += [(col, name == "unique_tokens") for name, col in extras.items()]
    if choice.other is not None:
        columns.append((choice.other, choice.flops))
    read = {i for i, _ in columns}
    groups = None if group is None else _Labels(_group_column(header, group, read, where, keywords), header)
    # Without a group column, the text columns are watched for groups a single fit would pool.
    watched = (
        [] if groups is not None else [_Labels(i, header, POOLED_MOST) for i in _text_columns(table, read)]
    )
    trackers = [groups] if groups is not None else watched
    numbers = _Numbers(table.delimiter)
    wanted = sorted(read | {tracker.col for tracker in trackers})
    compared = len(columns) - 1 if choice.other is not None else -1
    values, lines, problems = _cells(header, table.rows(wanted), columns, where, numbers, trackers, compared)
    del table  # and with it the file's text, before the checks below make their temporaries
    if not len(lines):
        raise ValueError(f"{where}: the file has a header but no runs")
    model_size, tokens, losses = values[:3]
    if choice.flops:
        tokens = _tokens_from_flops(tokens, model_size, header[choice.tokens], lines, problems)
    # The runs must also have a representable training compute C = 6 N D (Runs.C).
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        flops = 6.0 * model_size * tokens
    for bad in np.flatnonzero(~(np.isfinite(flops) & (flops > 0))).tolist():
        problems.setdefault(
            bad,
            f"row {lines[bad]}: C = 6 N D = 6 * {model_size[bad]:g} * "
            f"{tokens[bad]:g} is beyond double precision",
        )
    if groups is not None:
        for index in np.flatnonzero(groups.codes() == groups.values.get("", -1)).tolist():
            problems.setdefault(index, f"column {groups.name!r}, row {lines[index]}: empty (no group)")
    keep, notes = _bad_rows(problems, len(lines), on_bad_row, where)
    aside = dict(choice.aside)
    if choice.other is not None:
        names = (header[choice.n], header[choice.tokens], header[choice.other])
        aside[choice.other] += _compare_flops(
            names, choice.flops, model_size[keep], tokens[keep], values[-1][keep], where
        )
    extra = {name: values[3 + k] for k, name in enumerate(extras)}
    runs = Runs(
        model_size[keep],
        tokens[keep],
        losses[keep],
        where,
        notes,
        columns={
            "N": header[choice.n],
            "C" if choice.flops else "D": header[choice.tokens],
            "loss": header[choice.loss],
        },
        set_aside=tuple(f"{header[i]!r}: {why}" for i, why in sorted(aside.items())),
        unique_tokens=extra["unique_tokens"][keep] if "unique_tokens" in extra else None,
        weight=extra["weight"][keep] if "weight" in extra else None,
    )
    for name, col in extras.items():
        runs.columns[name] = header[col]
    if groups is not None:
        return _split(runs, groups, keep)
    pooled = [
        codes for tracker in watched if (codes := _warn_pooled(tracker, runs.N, keep, where)) is not None
    ]
    check_plausible(runs, pooled[0] if pooled else None)
    return runs


#: Column names recognised (compared as for COLUMN_NAMES) for the unique tokens U_D of each run.
UNIQUE_TOKEN_NAMES = ("uniquetokens", "ud", "uniquedata", "numuniquetokens", "nuniquetokens")


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " _-./[]()")


def _extra_columns(
    header: Sequence[str], where: str, unique_tokens: str | None, weight: str | None
) -> dict[str, int]:
    """The columns of the optional unique tokens and weights: named, or U_D recognised by name."""
    found: dict[str, int] = {}
    for name, given in (("unique_tokens", unique_tokens), ("weight", weight)):
        if given is not None:
            if given not in header:
                raise ValueError(
                    f"{where}: no column {given!r} (for {name}); the columns are {_listed(header)}"
                )
            found[name] = header.index(given)
        elif name == "unique_tokens":
            matches = [i for i, h in enumerate(header) if _normal(h) in UNIQUE_TOKEN_NAMES]
            if matches:
                found[name] = matches[0]
    return found


@dataclass(frozen=True)
class Points:
    """Where to predict: model sizes ``N`` and tokens ``D`` (float64, every value finite and > 0), each
    point's unique tokens U_D when the file gives them, and ``rows``, each point's row in the file (the
    header being row 1), to name it by."""

    N: FloatArray
    D: FloatArray
    rows: NDArray[np.int64]
    unique_tokens: FloatArray | None = None
    source: str = ""
    #: The column read for each of "N", "D" (or "C", when D = C / (6 N)) and "unique_tokens".
    columns: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.N)


def read_points(
    path: Source,
    *,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    unique_tokens: str | None = None,
) -> Points:
    """Read the points to predict at from a table with a header row, as ``read_csv`` reads runs (same
    formats, compression, ``"-"`` for standard input, SI suffixes such as ``70M`` or ``1.4B``, columns
    recognised by name or named with ``n``, ``d``, ``c``, ``unique_tokens``): one row per point, N and
    D (or C, D = C / (6 N)), optionally U_D; a loss column, if any, is not read.

    Raises
    ------
    FileNotFoundError
        There is no such file.
    ValueError
        Anything else, naming the column, the row (the header being row 1) and the value.
    """
    table = open_table(path)
    where, header = table.where, table.header
    if not header:
        raise ValueError(f"{where}: the file is empty (expected a header row, then one row per point)")
    if d is not None and c is not None:
        raise ValueError(f"{where}: give d= (tokens) or c= (FLOPs), not both")
    n_col = _find_column(header, "N", n, where)
    d_col = _find_column(header, "D", d, where) if c is None else None
    c_col = _find_column(header, "C", c, where) if d_col is None else None
    tokens_col = d_col if d_col is not None else c_col
    if n_col is None or tokens_col is None:
        missing = " and ".join(
            what
            for what, col in (("model size N", n_col), ("tokens D or FLOPs C", tokens_col))
            if col is None
        )
        raise ValueError(f"{where}: no column for {missing} (columns: {_listed(header)})")
    if n_col == tokens_col:
        raise ValueError(
            f"{where}: column {header[n_col]!r} cannot be both N and {'D' if c_col is None else 'C'}"
        )
    columns = [(n_col, True), (tokens_col, c_col is None)]
    extra = _extra_columns(header, where, unique_tokens, None)
    columns += [(col, True) for col in extra.values()]
    values, lines, problems = _cells(
        header, table.rows(sorted({col for col, _ in columns})), columns, where, _Numbers(table.delimiter)
    )
    del table
    if not len(lines):
        raise ValueError(f"{where}: the file has a header but no points")
    model_size, tokens = values[:2]
    if c_col is not None:
        tokens = _tokens_from_flops(tokens, model_size, header[c_col], lines, problems)
    unique = values[2] if extra else None
    if unique is not None:
        for bad in np.flatnonzero(unique > tokens).tolist():
            problems.setdefault(
                bad,
                f"column {header[extra['unique_tokens']]!r}, row {lines[bad]}: U_D = {unique[bad]:g} exceeds "
                f"D = {tokens[bad]:g} (a run cannot see more unique tokens than it trains on)",
            )
    if problems:
        first = min(problems)
        more = f"; {len(problems)} of {len(lines)} rows have such problems" if len(problems) > 1 else ""
        raise ValueError(f"{where}: {problems[first]}{more}")
    named = {"N": header[n_col], "D" if c_col is None else "C": header[tokens_col]}
    named.update({name: header[col] for name, col in extra.items()})
    return Points(model_size, tokens, lines, unique, where, named)


def _cells(
    header: Sequence[str],
    records: Rows,
    columns: Sequence[tuple[int, bool]],
    where: str,
    numbers: _Numbers,
    trackers: Sequence[_Labels] = (),
    compared: int = -1,
) -> tuple[list[FloatArray], NDArray[np.int64], dict[int, str]]:
    """The numbers in `columns` (index, whether SI suffixes are read) of every row (NaN where there is
    none), each row's line and, by row index, what is wrong with the rows that have a bad cell. A
    fourth column is only compared, never a reason to skip a row. Raises at once for what skipping
    cannot fix. Each of `trackers` records its column's text, until it gives up. Rows are read one at
    a time: a file of 10^6 runs costs its text and 32 bytes per row (and 8 per tracker)."""
    values = [packed("d") for _ in columns]
    lines = packed("q")
    problems: dict[int, str] = {}
    live = list(trackers)
    for index, (line, row) in enumerate(records):
        lines.append(line)
        if live and not all([tracker.add(row) for tracker in live]):
            live = [tracker for tracker in live if tracker.alive]
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            raise ValueError(
                f"{where}: row {line} has {len(row)} cells but the header names {len(header)} columns; "
                "quote cells that contain commas, or give every column a name"
            )
        for slot, (col, counts) in enumerate(columns):
            value = math.nan
            if slot == compared:  # the other of D and C: for comparison only
                try:
                    value = numbers.value(row[col], counts, header[col], line) if col < len(row) else value
                except ValueError:
                    pass
            elif index not in problems:
                if col >= len(row):
                    problems[index] = (
                        f"column {header[col]!r}, row {line}: missing (the row has "
                        f"{len(row)} cells, the header {len(header)} columns)"
                    )
                else:
                    try:
                        value = numbers.value(row[col], counts, header[col], line)
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


def _compare_flops(
    names: tuple[str, str, str],
    flops_used: bool,
    n: FloatArray,
    tokens: FloatArray,
    other: FloatArray,
    where: str,
) -> str:
    """How the set-aside column of D or C agrees with C = 6 N D, for ``Runs.set_aside``, with a
    FlopsMismatchWarning when any run is more than 10% away. `names`: the columns of N, of the D or C
    used, and of the other set aside."""
    with np.errstate(all="ignore"):
        # The file's C over 6 N D, whichever of the two was used.
        ratio = tokens / other if flops_used else other / (6.0 * n * tokens)
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    if not len(ratio):
        return ", no number to compare with 6 N D"
    low, high, middle = float(ratio.min()), float(ratio.max()), float(np.median(ratio))
    far = int(np.count_nonzero((ratio > FLOPS_TOLERANCE) | (ratio < 1 / FLOPS_TOLERANCE)))
    if not far:
        return f", within {max(high - 1, 1 - low):.1%} of 6 N D"
    n_name, used_name, other_name = names
    flops_name, tokens_name = (used_name, other_name) if flops_used else (other_name, used_name)
    agreement = f"{low:.3g} times 6 N D"
    if f"{low:.3g}" != f"{high:.3g}":
        agreement = f"{low:.3g} to {high:.3g} times 6 N D (median {middle:.3g})"
    used = (
        f"D = C / (6 N) was taken from {flops_name!r}, as c= asked, not from {tokens_name!r}"
        if flops_used
        else f"D was taken from {tokens_name!r}, and C = 6 N D is what the fit and the plans use"
    )
    warn(
        f"{where}: column {flops_name!r} is {agreement} (N from {n_name!r}, D from {tokens_name!r}): "
        f"{far} of {len(ratio)} runs differ by more than {FLOPS_TOLERANCE - 1:.0%}; {used}",
        FlopsMismatchWarning,
    )
    return f", {agreement}"


def check_plausible(runs: Runs, groups: NDArray[np.int64] | None = None) -> None:
    """Warn where the runs' numbers look like another unit than the law needs (UnitsWarning) or like
    checkpoints of one run (RepeatedRunsWarning; within each of `groups`, when the runs are of groups
    already warned about, whose runs repeat each other's (N, D) by design); silent on the built-in data."""
    where = f"{runs.source}: " if runs.source else ""
    for name, values, what in (("N", runs.N, "model sizes"), ("D", runs.D, "token counts")):
        if len(values) and values.max() < 1e4:
            warn(
                f"{where}{what} ({name}) are all below 10^4 (the largest is {values.max():.4g}): in "
                "thousands, millions or billions? the law needs plain counts (e.g. 7e9, or 7B)",
                UnitsWarning,
            )
    loss_name = runs.columns.get("loss", "loss")
    high = np.count_nonzero(runs.loss > 20)
    if high or re.search(r"ppl|perplex", loss_name, re.IGNORECASE):
        largest = f"{high} of {len(runs)} above 20, the largest {runs.loss.max():.4g}; " if high else ""
        warn(
            f"{where}loss {loss_name!r} looks like perplexity ({largest}a language model's loss in nats "
            "is rarely above ~11): the law fits the loss, the log of perplexity",
            UnitsWarning,
        )
    if len(runs) and np.all(runs.D < runs.N):
        warn(
            f"{where}every run has fewer tokens than parameters (D < N): are N and D swapped?",
            UnitsWarning,
        )
    # Runs of one size and token count on different unique data are separate runs, and a run's epochs of
    # one data set at even steps are a repetition study's design: with U_D, only repeated (N, D, U_D).
    parts = [np.ones(len(runs), dtype=bool)] if groups is None else [groups == c for c in np.unique(groups)]
    if runs.unique_tokens is not None:
        parts = [p & (runs.unique_tokens == u) for p in parts for u in np.unique(runs.unique_tokens[p])]
    spacing = runs.unique_tokens is None
    found = (_repeated(runs.N[p], runs.D[p], spacing=spacing) for p in parts)
    repeated = next((text for text in found if text), "")
    if repeated:
        warn(
            f"{where}{repeated}: they look like checkpoints of one run (rows of a loss curve), while the law "
            "is fitted to the final losses of separate runs; keep each run's last row",
            RepeatedRunsWarning,
        )


#: A model size with at least this many evenly spaced token counts looks like a loss curve.
CHECKPOINTS = 4


def _repeated(n: FloatArray, d: FloatArray, *, spacing: bool = True) -> str:
    """What looks like checkpoints: runs repeating an (N, D) pair, or (``spacing``) a model size whose
    token counts are mostly evenly spaced (checkpoints every k steps); "" when nothing does."""
    sizes, inverse, per_size = np.unique(n, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    shared = per_size[inverse] > 1  # only runs whose model size another run has can repeat a pair
    if not shared.any():
        return ""
    pairs, counts = np.unique(n[shared] + 1j * d[shared], return_counts=True)  # sorted as (N, D)
    if (counts > 1).any():
        first = pairs[np.argmax(counts > 1)]
        return (
            f"{int((counts - 1).sum())} runs repeat the (N, D) of another run "
            f"(e.g. N = {first.real:.4g}, D = {first.imag:.4g})"
        )
    if not spacing:
        return ""
    by_size = d[np.lexsort((d, inverse))]  # token counts, grouped by model size, each group sorted
    ends = np.cumsum(per_size)
    for k in np.flatnonzero(per_size > CHECKPOINTS).tolist():
        gaps = np.sort(np.diff(by_size[ends[k] - per_size[k] : ends[k]]))
        # The most gaps within 1% of one another.
        alike = int((np.searchsorted(gaps, gaps * 1.01, side="right") - np.arange(len(gaps))).max())
        if alike >= CHECKPOINTS - 1 and 2 * alike >= len(gaps):
            return (
                f"{per_size[k]} runs of model size N = {sizes[k]:.4g} are at evenly spaced token counts "
                f"(every {gaps[len(gaps) // 2]:.4g} tokens)"
            )
    return ""


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


#: A text column of this many distinct values, at most, may name groups of runs (corpora, datasets) that
#: one fit would pool; more look like the names of runs.
POOLED_MOST = 10


class _Labels:
    """The text of one column, row by row, as integer codes into ``values`` (the texts, in order of
    first appearance). With `most`, it gives up (``alive`` false) on a number or past `most` texts."""

    def __init__(self, col: int, header: Sequence[str], most: int | None = None) -> None:
        self.col, self.name, self.most = col, header[col], most
        self.values: dict[str, int] = {}
        self.codes_ = packed("q" if most is None else "b")  # a watched column gives up past `most`
        self.alive = True

    def add(self, row: Sequence[str]) -> bool:
        """Record the row's cell; False once the column is given up."""
        cell = row[self.col].strip() if self.col < len(row) else ""
        code = self.values.setdefault(cell, len(self.values))
        if self.most is not None and code == len(self.values) - 1 and (code >= self.most or _numeric(cell)):
            self.alive = False
        self.codes_.append(code)
        return self.alive

    def codes(self) -> NDArray[np.int64]:
        return np.array(self.codes_, dtype=np.int64)


def _numeric(cell: str) -> bool:
    """A number, maybe with an SI suffix ("70M"): such a column holds quantities, not group names."""
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return _COUNT.fullmatch(cell) is not None
    return True


def _text_columns(table: Any, read: set[int]) -> list[int]:
    """The columns to watch for groups: those typed as text (Parquet), else all but those read."""
    known = table.text_columns
    columns = range(len(table.header)) if known is None else known
    return [i for i in columns if i not in read]


def _group_column(
    header: list[str], group: str, read: set[int], where: str, keywords: dict[str, str] = KEYWORDS
) -> int:
    option = keywords["group"]
    if not isinstance(group, str):
        raise ValueError(f"{option.strip()} must be a column name (a string), got {group!r}")
    matches = [i for i, name in enumerate(header) if name == group] or [
        i for i, name in enumerate(header) if _normalise(name) == _normalise(group)
    ]
    if len(matches) != 1:
        found = "could be " + " and ".join(repr(header[i]) for i in matches) if matches else "no such column"
        raise ValueError(f"{where}: {option}{group!r}: {found} (columns: {_listed(header)})")
    if matches[0] in read:
        raise ValueError(f"{where}: {option}{group!r} is a column read as N, D, C or loss")
    return matches[0]


def _split(runs: Runs, groups: _Labels, keep: NDArray[np.bool_]) -> dict[str, Runs]:
    """The runs of each group, in order of first appearance, each checked for plausibility alone."""
    codes = groups.codes()[keep]
    names = {code: name for name, code in groups.values.items()}
    split: dict[str, Runs] = {}
    for code in dict.fromkeys(codes.tolist()):
        name = names[code]
        part = runs.subset(codes == code)
        split[name] = dataclasses.replace(
            part,
            source=f"{runs.source} [{groups.name} = {name}]",
            columns={**runs.columns, "group": groups.name},
        )
        check_plausible(split[name])
    return split


def _warn_pooled(
    tracker: _Labels, n: FloatArray, keep: NDArray[np.bool_], where: str
) -> NDArray[np.int64] | None:
    if not tracker.alive:
        return None
    names = {code: name for name, code in tracker.values.items()}
    return warn_pooled(tracker.name, tracker.codes()[keep], names, n, where)


def warn_pooled(
    column: str, codes: NDArray[np.int64], names: dict[int, str], n: FloatArray, where: str
) -> NDArray[np.int64] | None:
    """A PooledGroupsWarning when a column of texts (`names` of each run's `codes`) holds 2 to
    POOLED_MOST values and splits runs of one model size: groups (corpora, datasets) that one law is
    fitted to; returns `codes` then, else None. A column that only names the models (one text per model
    size) is no such split."""
    counts = {names[code]: count for code, count in zip(*np.unique(codes, return_counts=True))}
    counts.pop("", None)
    if not 2 <= len(counts) <= POOLED_MOST:
        return None
    if len(np.unique(n + 1j * codes)) == len(np.unique(n)):
        return None  # every model size has one text: the column names the models
    listed = ", ".join(f"{name!r} ({count} runs)" for name, count in counts.items())
    warn(
        f"{where}: column {column!r} has {len(counts)} values ({listed}) and their runs are pooled "
        f"into one fit; to fit each apart: --group {column!r} (group={column!r} in Python)",
        PooledGroupsWarning,
    )
    return codes


def write_json(path: PathLike, document: dict[str, Any]) -> None:
    """Write `document` as indented JSON; non-finite floats become null so any JSON reader accepts it."""
    Path(os.fspath(path)).write_text(json.dumps(_finite(document), indent=2) + "\n", encoding="utf-8")


def strict_json(value: Any) -> Any:
    """`value` with non-finite floats as null and numpy scalars as Python numbers: strict JSON."""
    return _finite(value)


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
