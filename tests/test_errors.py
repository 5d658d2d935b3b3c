"""Every bad input gets a ValueError (or FileNotFoundError) that names the problem: through fit(), through
read_csv() and through the command, in process and in a real subprocess that no input may kill."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main
from scalinglaw.io import SkippedRowsWarning

N = np.geomspace(1e8, 1e10, 8)
D = np.geomspace(1e9, 1e11, 8)[::-1].copy()
L = 1.7 + 400 / N**0.34 + 400 / D**0.28


def with_value(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


FIT_CASES = [
    ("nan in N", dict(N=with_value(N, 2, np.nan)), r"N\[2\] = nan is not finite"),
    ("inf in D", dict(D=with_value(D, 0, np.inf)), r"D\[0\] = inf is not finite"),
    ("zero loss", dict(loss=with_value(L, 5, 0.0)), r"loss\[5\] = 0.0 is not > 0"),
    ("negative N", dict(N=with_value(N, 1, -3.0)), r"N\[1\] = -3.0 is not > 0"),
    ("-inf loss", dict(loss=with_value(L, 7, -np.inf)), r"loss\[7\] = -inf is not finite"),
    ("too few runs", dict(N=N[:4], D=D[:4], loss=L[:4]), r"at least 5 runs .* got 4"),
    ("no runs", dict(N=[], D=[], loss=[]), r"at least 5 runs"),
    ("mismatched lengths", dict(D=D[:7]), r"same length: N has 8, D has 7, loss has 8"),
    ("text values", dict(N=[str(v) for v in N]), r"N must be numbers, got text"),
    ("object values", dict(loss=[*L[:7], "x"]), r"loss must be numbers, got text|loss must hold numbers"),
    ("mixed objects", dict(loss=np.array([*L[:7], None], dtype=object)), r"loss must hold numbers only"),
    ("complex", dict(D=D.astype(complex)), r"D must be real numbers, got complex"),
    ("booleans", dict(N=np.ones(8, dtype=bool)), r"N must be numbers, got booleans"),
    ("2-D", dict(N=N.reshape(2, 4)), r"N must be 1-D, got shape \(2, 4\)"),
    ("scalar", dict(N=1e9), r"N must be 1-D, got shape \(\)"),
    ("None", dict(loss=None), r"loss is missing"),
    ("same N", dict(N=np.full(8, 1e9)), r"every run has the same N = 1e\+09: .* cannot be told apart"),
    ("same D", dict(D=np.full(8, 2e10)), r"every run has the same D = 2e\+10: .* cannot be told apart"),
    # Values float64 cannot hold must be named as given, not reported as the inf they would become.
    ("int beyond double", dict(N=[*N[:7], 10**400]), r"N\[7\] = 1e\+400 is beyond the range of double"),
    (
        "long double beyond double",
        dict(D=with_value(D, 0, 1.0).astype(np.longdouble) * np.longdouble("1e400")),
        r"D\[0\] = 1e\+400 is beyond the range of double",
    ),
    (
        "masked array",
        dict(loss=np.ma.masked_array(L, mask=[0, 0, 1, 0, 0, 0, 0, 0])),
        r"loss is a masked array with 1 masked values",
    ),
    ("delta zero", dict(delta=0.0), r"delta must be finite and > 0, got 0.0"),
    ("delta negative", dict(delta=-1e-3), r"delta must be finite and > 0"),
    ("delta nan", dict(delta=float("nan")), r"delta must be finite"),
    ("delta inf", dict(delta=float("inf")), r"delta must be finite"),
    ("delta beyond double", dict(delta=10**400), r"delta must be finite, got 1e\+400"),
    ("delta text", dict(delta="1e-3"), r"delta must be a real number"),
    ("delta complex", dict(delta=1e-3 + 0j), r"delta must be a real number"),
    ("threads negative", dict(threads=-1), r"threads must be >= 0"),
    ("threads float", dict(threads=1.5), r"threads must be a whole number"),
    ("threads beyond int", dict(threads=2**31), r"threads must be <= 2147483647, got 2147483648"),
    ("max_iterations zero", dict(max_iterations=0), r"max_iterations must be >= 1"),
    ("max_iterations beyond int", dict(max_iterations=2**40), r"max_iterations must be <= 2147483647"),
    ("starts wrong width", dict(starts=np.zeros((3, 4))), r"starts must have shape \(k, 5\)"),
    ("starts empty", dict(starts=np.zeros((0, 5))), r"starts must have shape \(k, 5\)"),
    ("starts 3-D", dict(starts=np.zeros((2, 5, 1))), r"starts must have shape \(k, 5\)"),
    ("starts ragged", dict(starts=[[0, 0, 0, 0.5, 0.5], [0, 0]]), r"starts must be an array of numbers"),
    ("starts nan", dict(starts=[[0, 0, 0, 0.5, np.nan]]), r"starts\[0, 4\] \(beta\) = nan is not finite"),
    ("starts text", dict(starts=[["a", "b", "c", "d", "e"]]), r"starts must be numbers, got text"),
    ("starts complex", dict(starts=[[0, 0, 0, 0.5, 0.5j]]), r"starts must be real numbers"),
    ("starts huge", dict(starts=[[1e308, 0, 0, 0.5, 0.5]]), r"the fit failed numerically"),
]


@pytest.mark.parametrize(("case", "change", "message"), FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_bad_fit_input_raises_value_error(case, change, message):
    arguments = {"N": N, "D": D, "loss": L, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.fit(arguments.pop("N"), arguments.pop("D"), arguments.pop("loss"), **arguments)


# ---------------------------------------------------------------------------------------------------
# CSV files: each case is the file's content (text, bytes, or a path to use as it is), read_csv's
# keyword arguments, the exception and the message. The same table runs through the command.

GOOD_ROWS = [[repr(float(n)), repr(float(d)), repr(float(loss))] for n, d, loss in zip(N, D, L)]


def table(header="N,D,loss", changes=(), rows=GOOD_ROWS):
    """The good runs as CSV text, with changes (data row index from 0, column index, new cell); a cell
    of None deletes it and the cells after it (a short row)."""
    rows = [list(row) for row in rows]
    for row, column, cell in changes:
        if cell is None:
            del rows[row][column:]
        else:
            rows[row][column] = cell
    return header + "\n" + "".join(",".join(row) + "\n" for row in rows)


# The runs in training FLOPs: C = 6 N D.
FLOP_ROWS = [[repr(float(n)), repr(float(6 * n * d)), repr(float(loss))] for n, d, loss in zip(N, D, L)]
SKIP = {"on_bad_row": "skip"}

CSV_CASES = [
    # the file itself
    ("missing file", Path("no-such-file.csv"), {}, FileNotFoundError, r"no such file: .*no-such-file\.csv"),
    ("directory", Path("."), {}, ValueError, r"is a directory, not a CSV file"),
    ("device", Path("/dev/zero"), {}, ValueError, r"/dev/zero is not a regular file"),
    ("empty file", "", {}, ValueError, r"the file is empty \(expected a header row"),
    ("blank lines only", "\n  \n,,\n", {}, ValueError, r"the file is empty"),
    ("header only", "N,D,loss\n", {}, ValueError, r"the file has a header but no runs"),
    (
        "non-UTF-8 bytes",
        table().encode() + b"1e9,2e10,2.5\xb5\n",
        {},
        ValueError,
        r"line 10: not UTF-8 text \(byte \d+: b'\\xb5'\); save the CSV as UTF-8",
    ),
    ("UTF-16", table().encode("utf-16"), {}, ValueError, r"line 1: not UTF-8 text .*looks like UTF-16"),
    (
        "unterminated quote",
        table(changes=[(1, 0, '"1e9')]),
        {},
        ValueError,
        r"line \d+: not valid CSV \(unexpected end of data\)",
    ),
    (
        "pipes",
        table(header="N|D|loss").replace(",", "|"),
        {},
        ValueError,
        r"no column for model size N .* is the file separated by '\|'\? save it as CSV",
    ),
    # the columns
    (
        "missing columns",
        "params,steps\n1e9,100\n",
        {},
        ValueError,
        r"no column for loss and tokens D or training FLOPs C \(columns: 'params', 'steps'\); name them",
    ),
    (
        "unknown column n=",
        table(),
        {"n": "size"},
        ValueError,
        r"no column 'size' for n= \(columns: 'N', 'D', 'loss'\)",
    ),
    (
        "unknown column loss=",
        table(),
        {"loss": "val"},
        ValueError,
        r"no column 'val' for loss= \(columns: 'N', 'D', 'loss'\)",
    ),
    (
        "ambiguous columns",
        table(header="N,D,train_loss,val_loss", rows=[[*r, r[2]] for r in GOOD_ROWS]),
        {},
        ValueError,
        r"ambiguous columns 'train_loss' and 'val_loss' could each be loss; choose one with "
        r"loss=\.\.\. \(columns: 'N', 'D', 'train_loss', 'val_loss'\)",
    ),
    (
        "ambiguous name given",
        table(header="Model Size,model_size,D,loss", rows=[[r[0], *r] for r in GOOD_ROWS]),
        {"n": "model size"},
        ValueError,
        r"n='model size' could be 'Model Size' and 'model_size'; give the exact",
    ),
    ("one column twice", table(), {"n": "loss"}, ValueError, r"column 'loss' cannot be both N and loss"),
    ("d= and c=", table(), {"d": "D", "c": "D"}, ValueError, r"give d= \(tokens\) or c= \(FLOPs\), not both"),
    ("duplicate header", table(header="N,loss,loss"), {}, ValueError, r"duplicate column names 'loss'"),
    # the cells: column, row (the line in the file, the header being row 1) and the problem
    (
        "text cell",
        table(changes=[(1, 2, "diverged")]),
        {},
        ValueError,
        r"column 'loss', row 3: 'diverged' is not a number",
    ),
    ("blank cell", table(changes=[(2, 1, "")]), {}, ValueError, r"column 'D', row 4: empty is not a number"),
    (
        "NaN cell",
        table(changes=[(0, 0, "NaN")]),
        {},
        ValueError,
        r"column 'N', row 2: 'NaN' is not a number \(NaN\)",
    ),
    ("inf cell", table(changes=[(7, 1, "inf")]), {}, ValueError, r"column 'D', row 9: 'inf' is not finite"),
    ("zero cell", table(changes=[(3, 2, "0")]), {}, ValueError, r"column 'loss', row 5: '0' is not > 0"),
    (
        "negative cell",
        table(changes=[(4, 0, "-1e9")]),
        {},
        ValueError,
        r"column 'N', row 6: '-1e9' is not > 0",
    ),
    (
        "overflowing cell",
        table(changes=[(5, 1, "1e400")]),
        {},
        ValueError,
        r"column 'D', row 7: '1e400' is beyond double precision",
    ),
    (
        "underflowing cell",
        table(changes=[(5, 1, "1e-400")]),
        {},
        ValueError,
        r"column 'D', row 7: '1e-400' is too small for double precision \(it rounds to 0\)",
    ),
    (
        "percent",
        table(changes=[(1, 2, "25%")]),
        {},
        ValueError,
        r"column 'loss', row 3: '25%' is a percentage: give plain numbers",
    ),
    (
        "thousands separators",
        table(changes=[(0, 0, '"6,000,000"')]),
        {},
        ValueError,
        r"column 'N', row 2: '6,000,000' has thousands separators: write 6000000",
    ),
    (
        "decimal comma",
        table(changes=[(2, 2, '"2,5"')]),
        {},
        ValueError,
        r"column 'loss', row 4: '2,5' has a decimal comma: write 2\.5",
    ),
    (
        "comma either way",
        table(changes=[(2, 0, '"1,500"')]),
        {},
        ValueError,
        r"column 'N', row 4: '1,500' has a comma that could be a thousands separator or a decimal comma",
    ),
    (
        "points as separators",
        table(changes=[(2, 0, "1.000.000")]),
        {},
        ValueError,
        r"column 'N', row 4: '1\.000\.000' has points as thousands separators: write 1000000",
    ),
    (  # read in N and D (70M, 1.4B), never in a loss
        "unit suffix",
        table(changes=[(6, 2, "2.5k")]),
        {},
        ValueError,
        r"column 'loss', row 8: '2\.5k' has a unit suffix: write plain numbers \(e\.g\. 2\.5e3\)",
    ),
    (
        "decimal comma and point",
        table(header="N;D;loss", changes=[(3, 2, "2,5")]).replace(",", ";").replace("2;5", "2,5"),
        {},
        ValueError,
        r"column 'loss', row 5: '2,5' has a decimal comma but column 'N', row 2: '100000000\.0' has a "
        r"decimal point; write every number with the same decimal mark",
    ),
    (
        "short row",
        table(changes=[(1, 2, None)]),
        {},
        ValueError,
        r"column 'loss', row 3: missing \(the row has 2 cells, the header 3 columns\)",
    ),
    (
        "long row",
        table(changes=[(1, 2, "2.5,7")]),
        {},
        ValueError,
        r"row 3 has 4 cells but the header names 3 columns",
    ),
    (
        "rows counted with blank lines",
        table().replace("\n", "\n\n", 2) + "1e9,,2.5\n",
        {},
        ValueError,
        r"column 'D', row 12: empty is not a number",
    ),
    (
        "several bad rows",
        table(changes=[(1, 2, ""), (3, 2, "x"), (5, 0, "0")]),
        {},
        ValueError,
        r"column 'loss', row 3: empty is not a number; 3 of 8 rows have such problems \(on_bad_row='skip'",
    ),
    (
        "overflowing D = C / 6N",
        table(header="N,C,loss", rows=FLOP_ROWS, changes=[(2, 0, "0.01"), (2, 1, "1e308")]),
        {},
        ValueError,
        r"column 'C', row 4: tokens D = C / \(6 N\) = 1e\+308 / \(6 \* 0\.01\) is not a finite number",
    ),
    (
        "overflowing C = 6ND",
        table(changes=[(2, 0, "1e200"), (2, 1, "1e200")]),
        {},
        ValueError,
        r"row 4: C = 6 N D = 6 \* 1e\+200 \* 1e\+200 is beyond double precision",
    ),
    # problems of the runs as a whole, found by the fit
    (
        "one N for every run",
        table(changes=[(i, 0, "1e9") for i in range(8)]),
        {},
        ValueError,
        r"every run has the same N = 1e\+09: .* cannot be told apart",
    ),
    ("fewer runs than parameters", table(rows=GOOD_ROWS[:4]), {}, ValueError, r"at least 5 runs .* got 4"),
    # skipping bad rows: never silent, never everything, never a number format it would have to guess
    (
        "skip: every row bad",
        table(changes=[(i, 2, "n/a") for i in range(8)]),
        SKIP,
        ValueError,
        r"every row has a problem, no runs are left; the first: column 'loss', row 2: 'n/a' is not a number",
    ),
    (
        "skip: format still refused",
        table(changes=[(0, 2, ""), (4, 0, '"6,000,000"')]),
        SKIP,
        ValueError,
        r"column 'N', row 6: '6,000,000' has thousands separators",
    ),
    (
        "skip: too few left",
        table(changes=[(i, 1, "") for i in range(4)]),
        SKIP,
        ValueError,
        r"at least 5 runs .* got 4",
    ),
    (
        "on_bad_row unknown",
        table(),
        {"on_bad_row": "drop"},
        ValueError,
        r"on_bad_row must be 'raise' or 'skip', got 'drop'",
    ),
]
# Cases that fail only once the runs are fitted; read_csv itself accepts them.
FIT_LEVEL = {"one N for every run", "fewer runs than parameters", "skip: too few left"}
CLI_OPTIONS = {"n": "--n", "d": "--d", "c": "--c", "loss": "--loss"}


def write_case(tmp_path, content):
    """The path a case's CSV is read from."""
    if isinstance(content, Path):
        return content if content.is_absolute() else tmp_path / content
    path = tmp_path / "runs.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def as_command(message):
    """A read_csv message's regex as the command prints it: --loss where Python says loss=."""

    def option(match):
        following = message[match.end() : match.end() + 1]
        return f"--{match[1]}" + ("" if following in ("", ",", " ") else " ")

    return re.sub(r"(?<![\w-])(n|d|c|loss|group)=", option, message)


def command(path, options):
    argv = ["fit", str(path), "--threads", "1"]
    for name, value in options.items():
        if name == "on_bad_row":
            argv += ["--skip-bad-rows"] if value == "skip" else []
        else:
            argv += [CLI_OPTIONS[name], value]
    return argv


def read_and_fit(path, options):
    runs = scalinglaw.read_csv(path, **options)
    return scalinglaw.fit(*runs, starts=scalinglaw.default_starts()[::50], threads=1)


CLI_CASES = [
    case for case in CSV_CASES if case[2].get("on_bad_row", "skip") == "skip"
]  # --skip-bad-rows is a switch


@pytest.mark.parametrize(
    ("case", "content", "options", "error", "message"), CSV_CASES, ids=[c[0] for c in CSV_CASES]
)
def test_bad_csv_raises_with_column_row_and_problem(tmp_path, case, content, options, error, message):
    path = write_case(tmp_path, content)
    if case in FIT_LEVEL:
        # The rows read_csv skips are announced before the fit refuses what is left.
        skipping = options.get("on_bad_row") == "skip"
        announced = pytest.warns(SkippedRowsWarning) if skipping else nullcontext()
        with pytest.raises(error, match=message), announced:
            read_and_fit(path, options)
    else:
        with pytest.raises(error, match=message):
            scalinglaw.read_csv(path, **options)


@pytest.mark.parametrize(
    ("case", "content", "options", "error", "message"), CLI_CASES, ids=[c[0] for c in CLI_CASES]
)
def test_bad_csv_through_the_command_prints_one_line_and_exits_2(
    tmp_path, capsys, case, content, options, error, message
):
    assert main(command(write_case(tmp_path, content), options)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    # With --skip-bad-rows, the warning about the skipped rows precedes the error about what is left.
    if case in FIT_LEVEL and options.get("on_bad_row") == "skip":
        assert len(lines) == 2 and lines[0].startswith("warning: ") and "skipped 4 of 8 rows" in lines[0]
    else:
        assert len(lines) == 1
    assert lines[-1].startswith("scalinglaw: error: ")
    assert re.search(as_command(message), lines[-1]), lines[-1]
    assert "Traceback" not in captured.err


OPTION_CASES = [
    (["--threads", "99999999999"], r"--threads must be .*<= 2147483647, got 99999999999"),
    (["--delta", "inf"], r"--delta must be finite and > 0, got inf"),
    (["--delta", "-1"], r"--delta must be finite and > 0, got -1$"),
    (["--budget", "nan"], r"--budget must be a finite number of FLOPs > 0, got nan"),
    (["--budget", "inf"], r"--budget must be a finite number of FLOPs > 0, got inf"),
    (["--exclude-highest-loss", "-1"], r"--exclude-highest-loss must be >= 0, got -1"),
    (["--exclude-highest-loss", "8"], r"--exclude-highest-loss 8 would leave no runs \(there are 8\)"),
    (["--loss", "final"], r"no column 'final' for --loss \(columns: 'N', 'D', 'loss'\)"),
]


@pytest.mark.parametrize(("options", "message"), OPTION_CASES, ids=[" ".join(c[0]) for c in OPTION_CASES])
def test_bad_options_with_a_csv_print_one_line_and_exit_2(tmp_path, capsys, options, message):
    path = write_case(tmp_path, table())
    assert main(["fit", str(path), *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert re.search(message, captured.err), captured.err


def run_command(argv):
    return subprocess.run(
        [sys.executable, "-m", "scalinglaw", *argv], capture_output=True, text=True, timeout=120
    )


def test_no_bad_input_kills_the_command(tmp_path):
    """Every case of the table through a real process: exit status 2 (never a negative status, i.e. a
    signal such as SIGSEGV or SIGABRT), the message and no traceback."""
    argvs = {}
    for number, (case, content, options, _, message) in enumerate(CLI_CASES):
        folder = tmp_path / str(number)
        folder.mkdir()
        argvs[case] = (command(write_case(folder, content), options), as_command(message))
    with ThreadPoolExecutor(4) as pool:  # the processes run side by side
        results = dict(zip(argvs, pool.map(lambda item: run_command(item[0]), argvs.values())))
    for case, result in results.items():
        assert result.returncode >= 0, f"{case}: killed by signal {-result.returncode}"
        assert result.returncode == 2, f"{case}: exit status {result.returncode}: {result.stderr}"
        assert "Traceback" not in result.stderr, f"{case}: {result.stderr}"
        assert result.stdout == "", case
        *warned, last = result.stderr.splitlines()
        assert last.startswith("scalinglaw: error: ") and re.search(argvs[case][1], last), f"{case}: {last}"
        assert len(warned) == (case in FIT_LEVEL and "skip" in case), f"{case}: {result.stderr}"
    assert len(results) == len(CLI_CASES) >= 40


def test_a_bad_option_exits_2_from_argparse_in_a_real_process():
    result = run_command(["fit", "--threads", "two"])
    assert result.returncode == 2
    assert "argument --threads: invalid int value: 'two'" in result.stderr
    assert "Traceback" not in result.stderr
