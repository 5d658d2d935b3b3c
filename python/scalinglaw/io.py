"""Runs in and out: CSV files, the built-in Chinchilla dataset, JSON.

A run is one trained model: N parameters, D training tokens, final loss L. Files often give the training
compute C instead of D; scalinglaw then takes D = C / (6 N), the usual approximation of a transformer's
training FLOPs (Kaplan et al. 2020; Hoffmann et al. 2022).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Union

import numpy as np

from ._checks import FloatArray, positive_1d, same_length

PathLike = Union[str, "os.PathLike[str]"]

#: Column names recognised for each quantity, compared after lower-casing and dropping spaces,
#: underscores, dashes, dots and brackets ("Model Size" -> "modelsize", "n_params" -> "nparams").
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "N": ("n", "modelsize", "params", "parameters", "nparams", "numparams", "numparameters",
          "nparameters", "paramcount", "parametercount", "size", "model"),
    "D": ("d", "tokens", "ntokens", "numtokens", "trainingtokens", "traintokens", "datasetsize",
          "datasize", "data"),
    "C": ("c", "flops", "flop", "trainingflop", "trainingflops", "compute", "trainflops",
          "computeflops", "budget"),
    "loss": ("loss", "l", "finalloss", "trainloss", "trainingloss", "evalloss", "valloss",
             "validationloss", "testloss"),
}


@dataclass(frozen=True)
class Runs:
    """Training runs as float64 arrays of equal length: ``N`` (parameters), ``D`` (tokens), ``loss``.

    Iterating gives ``(N, D, loss)``, so ``scalinglaw.fit(*runs)`` fits them.
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

    def split_highest_loss(self, count: int) -> tuple[Runs, Runs]:
        """(kept, excluded): the ``count`` highest-loss runs set apart, both kept in file order."""
        if not 0 <= count < len(self):
            raise ValueError(f"count must be between 0 and {len(self) - 1}, got {count}")
        excluded = np.zeros(len(self), dtype=bool)
        excluded[np.argsort(self.loss, kind="stable")[len(self) - count:]] = True
        note = f"excluded the {count} highest-loss runs" if count else ""
        return self.subset(~excluded, note=note), self.subset(excluded)


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
    runs = Runs(runs.N, runs.D, runs.loss, "built-in Chinchilla data (Epoch AI, from Hoffmann et al. Fig. 4)",
                budgets=CHINCHILLA_BUDGETS)
    if epoch_exclusion:
        runs, _ = runs.split_highest_loss(5)
    return runs


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-.()\[\]]+", "", name.strip().lower())


def _find_column(header: Sequence[str], quantity: str, chosen: str | None, path: str) -> int | None:
    """Index of the column for `quantity`: the one the caller named, or the one recognised by name."""
    if chosen is not None:
        if chosen in header:
            return header.index(chosen)
        matches = [i for i, name in enumerate(header) if _normalise(name) == _normalise(chosen)]
        if len(matches) == 1:
            return matches[0]
        raise ValueError(f"{path}: no column {chosen!r} (columns: {', '.join(map(repr, header))})")
    known = COLUMN_NAMES[quantity]
    matches = [i for i, name in enumerate(header) if _normalise(name) in known]
    if len(matches) > 1:
        names = " and ".join(repr(header[i]) for i in matches)
        option = {"N": "n", "D": "d", "C": "c", "loss": "loss"}[quantity]
        raise ValueError(f"{path}: ambiguous columns {names} could each be {quantity}; choose one with {option}=...")
    return matches[0] if matches else None


def read_csv(
    path: PathLike,
    *,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    loss: str | None = None,
) -> Runs:
    """Read runs from a CSV file with a header row.

    Columns are found by name (see ``COLUMN_NAMES``: e.g. ``N``/``Model Size``/``params``,
    ``D``/``tokens``, ``C``/``Training FLOP``/``flops``, ``loss``), or named with ``n=``, ``d=``,
    ``c=``, ``loss=``. Tokens come from the D column if there is one, else from C as D = C / (6 N).
    Raises FileNotFoundError for a missing file and ValueError, naming the column and row, for
    anything else that is wrong.
    """
    text, where = _read_text(path)
    rows = list(csv.reader(text.splitlines()))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{where}: the file is empty (expected a header row, then one row per run)")
    header = [name.strip() for name in rows[0]]
    body = rows[1:]
    if not body:
        raise ValueError(f"{where}: the file has a header but no runs")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate column names {', '.join(map(repr, duplicates))}")

    n_col = _find_column(header, "N", n, where)
    d_col = _find_column(header, "D", d, where)
    c_col = _find_column(header, "C", c, where) if d_col is None or c is not None else None
    loss_col = _find_column(header, "loss", loss, where)
    missing = [what for what, col in (("model size N", n_col), ("loss", loss_col)) if col is None]
    if d_col is None and c_col is None:
        missing.append("tokens D or training FLOPs C")
    if missing:
        raise ValueError(
            f"{where}: no column for {' and '.join(missing)} (columns: {', '.join(map(repr, header))}); "
            "name them with n=, d=, c=, loss="
        )
    assert n_col is not None and loss_col is not None

    def column(index: int) -> FloatArray:
        name = header[index]
        values = np.empty(len(body))
        for row_number, row in enumerate(body, start=2):
            cell = row[index].strip() if index < len(row) else ""
            try:
                value = float(cell)
            except ValueError:
                shown = repr(cell) if cell else "empty"
                raise ValueError(f"{where}: column {name!r}, row {row_number}: {shown} is not a number") from None
            if not (math.isfinite(value) and value > 0):
                raise ValueError(
                    f"{where}: column {name!r}, row {row_number}: {cell!r} must be finite and > 0"
                )
            values[row_number - 2] = value
        return values

    model_size = column(n_col)
    tokens = column(d_col) if d_col is not None else column(c_col) / (6.0 * model_size)  # type: ignore[arg-type]
    if not np.isfinite(tokens).all() or not (tokens > 0).all():
        row = int(np.argmin(np.isfinite(tokens) & (tokens > 0))) + 2
        raise ValueError(f"{where}: row {row}: tokens D = C / (6 N) is not a finite positive number")
    return Runs(model_size, tokens, column(loss_col), where)


def _read_text(path: PathLike) -> tuple[str, str]:
    where = os.fspath(path)
    file = Path(where)
    if file.is_dir():
        raise ValueError(f"{where} is a directory, not a CSV file")
    if not file.exists():
        raise FileNotFoundError(f"no such file: {where}")
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig"), where
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: not UTF-8 text (byte {error.start}); save the CSV as UTF-8") from None


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
