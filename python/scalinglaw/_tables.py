"""From what a user hands ``read_csv`` (a path, ``-`` for standard input, a file object) to a table: a
header and rows of text cells. Compression (gzip, bzip2, xz) and Parquet are recognised by their magic
bytes, whatever the file is called; a text file's delimiter (comma, tab or semicolon) by its header."""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Union

#: What read_csv reads: a file name, "-" for standard input, or a file object (text or binary).
Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]
Rows = Iterator[tuple[int, list[str]]]

#: The extra that brings pyarrow, named in the error when a Parquet file arrives without it.
PARQUET_EXTRA = 'pip install "scalinglaw[parquet]"'

_COMPRESSIONS: tuple[tuple[bytes, str, Callable[[bytes], bytes]], ...] = (
    (b"\x1f\x8b", "gzip", gzip.decompress),
    (b"BZh", "bzip2", bz2.decompress),
    (b"\xfd7zXZ\x00", "xz", lzma.decompress),
)
_PARQUET = b"PAR1"
#: Delimiters tried on the header, in the order that breaks a tie.
DELIMITERS = (",", "\t", ";")


@dataclass(frozen=True)
class Table:
    """A header and, from ``rows(columns)``, each non-blank row with its row number (the header being
    row 1; in a text file, the line a row ends on). Cells outside ``columns`` may be left empty."""

    where: str
    header: list[str]
    #: "," "\t" or ";" for text, "" for Parquet; a decimal comma is read only after ";" or "\t".
    delimiter: str
    rows: Callable[[Sequence[int]], Rows]
    #: The columns typed as text (Parquet), or None where every cell is text and only its content tells.
    text_columns: tuple[int, ...] | None = None


def open_table(source: Source) -> Table:
    """The table in `source`; ValueError (FileNotFoundError for a missing file) saying what is wrong."""
    raw, where = _read_source(source)
    if isinstance(raw, bytes):
        raw = _decompress(raw, where)
        if raw.startswith(_PARQUET):
            return _parquet(raw, where)
        if raw.startswith(b"PK\x03\x04"):
            raise ValueError(f"{where} is a ZIP archive (an Excel workbook?); save the sheet as CSV")
        raw = _decode(raw, where)
    return _text(raw, where)


def _read_source(source: Any) -> tuple[str | bytes, str]:
    if isinstance(source, str) and source == "-":
        if sys.stdin is None or sys.stdin.isatty():  # nothing piped in: reading would wait for typing
            raise ValueError("'-' reads the runs from standard input: pipe or redirect a file into it")
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        return stream.read(), "<stdin>"
    if not isinstance(source, (str, os.PathLike)):
        if callable(getattr(source, "read", None)):
            name = getattr(source, "name", None)
            data = source.read()
            if not isinstance(data, (str, bytes)):
                raise ValueError(f"the file object {source!r} gave {type(data).__name__}, not text or bytes")
            return data, name if isinstance(name, str) else "<stream>"
        raise ValueError(
            "path must be a file name (str or os.PathLike), '-' for standard input or a file object, "
            f"got {source!r}"
        )
    where = os.fspath(source)
    if not isinstance(where, str):
        raise ValueError(f"path must be a file name as text, got {where!r}")
    try:
        mode = os.stat(where).st_mode
    except (FileNotFoundError, NotADirectoryError):  # (the latter: a file used as a directory)
        raise FileNotFoundError(f"no such file: {_path(where)}") from None
    except OSError as error:  # a name too long, a loop of symbolic links
        raise ValueError(f"{_path(where)}: cannot be read ({error.strerror})") from None
    file = Path(where)
    if stat.S_ISDIR(mode):
        raise ValueError(f"{where} is a directory, not a CSV file")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):  # /dev/zero would be read forever
        raise ValueError(f"{where} is not a regular file (a device or socket?); give a CSV file")
    return file.read_bytes(), where


def _path(where: str, longest: int = 200) -> str:
    """A path for a message, its middle left out beyond `longest` characters."""
    return where if len(where) <= longest else f"{where[: longest // 2]}...{where[-longest // 2 + 3 :]}"


def _decompress(raw: bytes, where: str) -> bytes:
    for magic, name, decompress in _COMPRESSIONS:
        if raw.startswith(magic):
            try:
                return decompress(raw)
            except (OSError, EOFError, ValueError, lzma.LZMAError) as error:
                raise ValueError(f"{where}: not a readable {name} file ({error})") from None
    return raw


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        hint = "it looks like UTF-16; " if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ValueError(
            f"{where}: line {line}: not UTF-8 text "
            f"(byte {error.start}: {raw[error.start : error.start + 1]!r}); "
            f"{hint}save the CSV as UTF-8"
        ) from None


def _text(text: str, where: str) -> Table:
    delimiter = _sniff(text)
    records = _records(text, where, delimiter)
    first = next(records, None)
    header = [] if first is None else [name.strip() for name in first[1]]
    return Table(where, header, delimiter, lambda columns: records)


def _sniff(text: str) -> str:
    """The delimiter that splits the header into the most columns; a tie is broken by the rows that
    follow (the delimiter that gives each of them as many cells), else by the order of DELIMITERS."""
    rows = {delimiter: _head(text, delimiter) for delimiter in DELIMITERS}
    widths = {delimiter: len(head[0]) if head else 0 for delimiter, head in rows.items()}
    best = max(widths.values())
    if best <= 1:  # one column (or none) whichever way: read as CSV
        return ","
    tied = [delimiter for delimiter in DELIMITERS if widths[delimiter] == best]
    if len(tied) > 1:
        regular = [d for d in tied if all(len(row) == best for row in rows[d][1:])]
        tied = regular or tied
    return tied[0]


def _head(text: str, delimiter: str, count: int = 20) -> list[list[str]]:
    """The first `count` non-blank rows as `delimiter` splits them ([] where the text is not CSV)."""
    rows: list[list[str]] = []
    try:
        for _, row in _records(text, "", delimiter, empty_header=True):
            rows.append(row)
            if len(rows) == count:
                break
    except ValueError:
        return rows
    return rows


def _records(text: str, where: str, delimiter: str, *, empty_header: bool = False) -> Rows:
    """The non-blank rows of the text, one at a time, each with its line number (the last line of a
    row whose quoted cell spans lines). Before the header, a row of empty cells is refused (unless
    `empty_header`): it is a header of empty names, and the row below would silently take its place."""
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    header = True
    empty: tuple[int, int] | None = None  # (line, cells) of the first row of empty names
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if header and empty and not empty_header:
                    raise ValueError(
                        f"{where}: line {empty[0]}: a header row of {empty[1]} empty column names; "
                        "name the columns in the first row (or delete the row)"
                    )
                header = False
                yield reader.line_num, row
            elif header and len(row) > 1 and not empty:
                empty = (reader.line_num, len(row))
    except csv.Error as error:
        raise ValueError(f"{where}: line {reader.line_num}: not valid CSV ({error})") from None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time, each with its end (\\n, \\r\\n or \\r), as csv.reader needs
    them to read a quoted cell that spans lines. (io.StringIO would do, but it holds a copy of the
    text at 4 bytes a character.)"""
    for match in _LINE.finditer(text):
        yield match.group()


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _parquet(raw: bytes, where: str) -> Table:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError(f"{where} is a Parquet file; reading it needs pyarrow: {PARQUET_EXTRA}") from None
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"{where}: not a readable Parquet file ({error})") from None
    header = [str(name).strip() for name in table.column_names]

    def rows(columns: Sequence[int]) -> Rows:
        # Cells as the text a CSV would hold (repr of a float reads back to the same float); only the
        # columns asked for are converted.
        wanted = sorted(set(columns))
        cells = [table.column(i).to_pylist() for i in wanted]
        for index in range(table.num_rows):
            row = [""] * len(header)
            for i, values in zip(wanted, cells):
                row[i] = _cell_text(values[index])
            yield index + 2, row

    text = tuple(
        i
        for i, kind in enumerate(table.schema.types)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)
    )
    return Table(where, header, "", rows, text)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
