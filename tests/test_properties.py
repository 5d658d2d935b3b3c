"""Properties over generated inputs (hypothesis): whatever read_csv, fit, predict, the grids and the command
are given, they raise a documented exception or return finite results, and a fit never reports success
with NaN. The examples are derandomized (the same every run) and few, so that CI stays fast."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scalinglaw import cli
from scalinglaw.io import FlopsMismatchWarning, RepeatedRunsWarning, SkippedRowsWarning, UnitsWarning

#: SCALINGLAW_EXAMPLES=5000 pytest tests/test_properties.py searches deeper, with random examples.
DEEPER = int(os.environ.get("SCALINGLAW_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=DEEPER or 60,
    deadline=None,
    derandomize=not DEEPER,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Few starts: on arbitrary data the property is "an exception we document or finite numbers", not
#: "the global optimum", and 4500 starts per example would make the file slow.
STARTS = scalinglaw.start_grid(a=[0.0, 10.0], b=[0.0, 10.0], e=[0.5], alpha=[0.3], beta=[0.3, 1.0])
LARGEST = np.finfo(np.float64).max

ANY_FLOAT = st.floats()  # NaN, infinities, signed zeros, subnormals, 1e308 ...
POSITIVE = st.floats(min_value=5e-324, max_value=LARGEST, allow_nan=False, allow_infinity=False)
PLAUSIBLE = st.floats(min_value=1e-3, max_value=1e15)  # where real runs live, and beyond
EXPONENT = st.floats(min_value=-60.0, max_value=60.0)

# ------------------------------------------------------------------------------------------------------
# CSV text: headers from names read_csv recognises (and some it does not), cells that are numbers, bad
# values, numbers in a format read_csv will not guess at, and arbitrary text; quoted properly or not.

HEADER_NAMES = [
    "N",
    "D",
    "C",
    "loss",
    "params",
    "tokens",
    "flops",
    "Model Size",
    "Training FLOP",
    "val_loss",
    "train_loss",
    "step",
    "",
    "n",
    "L",
]
GOOD_HEADERS = [
    ["N", "D", "loss"],
    ["Model Size", "Training FLOP", "loss"],
    ["params", "tokens", "note", "loss"],
]
ODD_CELLS = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0",
    "-1",
    "n/a",
    "1e400",
    "1e-400",
    "6,000,000",
    "2,5",
    "1,500",
    "25%",
    "7B",
    "1.000.000",
    "0x10",
    "\u22122",
    "1_000",
    '"',
    "\x00",
]
CELL = st.one_of(
    PLAUSIBLE.map(lambda x: f"{x:g}"), ANY_FLOAT.map(repr), st.sampled_from(ODD_CELLS), st.text(max_size=6)
)


@st.composite
def csv_texts(draw, bad_rows=3, min_rows=0):
    """CSV text: one header in four and about one row in `bad_rows` are arbitrary, the others name the
    columns of runs and hold plausible runs."""
    if draw(st.integers(1, 4)) > 1:
        header = draw(st.sampled_from(GOOD_HEADERS))
    else:
        header = draw(st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=5))
    rows = []
    for _ in range(draw(st.integers(min_rows, min_rows + 12))):
        if draw(st.integers(1, bad_rows)) > 1:
            rows.append([draw(PLAUSIBLE.map(repr)) for _ in header])
        else:
            width = max(len(header) + draw(st.sampled_from([0, 0, 0, -1, 1])), 0)
            rows.append(draw(st.lists(CELL, min_size=width, max_size=width)))
    if draw(st.booleans()):  # quoted as a CSV writer would
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
        return out.getvalue()
    return "".join(",".join(row) + "\n" for row in [header, *rows])  # as typed by hand


def plausibility_ignored(test):
    """What generated numbers look like (units, a FLOPs column against 6 N D, checkpoints) is said by
    warnings that test_io checks; here they are beside the point."""

    @functools.wraps(test)
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            for category in (UnitsWarning, FlopsMismatchWarning, RepeatedRunsWarning):
                warnings.simplefilter("ignore", category)
            return test(*args, **kwargs)

    return quiet


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


def data_rows(text):
    """The number of non-blank rows after the header, by the csv module's count."""
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    return len(rows) - 1


def assert_clean(runs):
    assert len(runs) >= 1
    for values in (runs.N, runs.D, runs.loss, runs.C):
        assert values.dtype == np.float64 and values.shape == (len(runs),)
        assert np.isfinite(values).all() and (values > 0).all()


@SETTINGS
@given(text=csv_texts())
@plausibility_ignored
def test_read_csv_gives_clean_runs_or_a_value_error(folder, text):
    path = folder / "runs.csv"
    path.write_text(text, encoding="utf-8")
    try:
        strict = scalinglaw.read_csv(path)
    except ValueError as error:
        assert str(error).startswith(f"{path}"), error
        strict = None
    else:
        assert_clean(strict)
        assert len(strict) == data_rows(text) and strict.notes == ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedRowsWarning)
        try:
            lenient = scalinglaw.read_csv(path, on_bad_row="skip")
        except ValueError:
            assert strict is None  # skipping never refuses a file that reads without it
            return
    assert_clean(lenient)
    if strict is not None:  # nothing to skip: the same runs, and nothing said
        assert not caught and lenient.notes == ()
        for a, b in zip(strict, lenient):
            np.testing.assert_array_equal(a, b)
        return
    # Rows were left out: said once, with the count, and the count adds up.
    (warning,) = caught
    (note,) = lenient.notes
    skipped, total = map(int, re.match(r"skipped (\d+) of (\d+) rows", note).groups())
    assert str(warning.message) == f"{path}: {note}"
    assert total == data_rows(text) and skipped + len(lenient) == total and skipped > 0


@SETTINGS
@given(raw=st.binary(max_size=300))
@plausibility_ignored
def test_any_bytes_give_runs_or_a_value_error(folder, raw):
    path = folder / "raw.csv"
    path.write_bytes(raw)
    try:
        runs = scalinglaw.read_csv(path)
    except ValueError:
        return
    assert_clean(runs)


@SETTINGS
@given(runs=st.lists(st.tuples(POSITIVE, POSITIVE, POSITIVE), min_size=1, max_size=12), flops=st.booleans())
@plausibility_ignored
def test_numbers_written_by_repr_are_read_exactly(folder, runs, flops):
    n, d, loss = (np.array(column) for column in zip(*runs))
    with np.errstate(all="ignore"):
        c = 6.0 * n * d
        representable = np.isfinite(c) & (c > 0) & np.isfinite(c / (6.0 * n)) & (c / (6.0 * n) > 0)
    path = folder / "exact.csv"
    second = c if flops else d
    path.write_text(
        ("N,C,loss\n" if flops else "N,D,loss\n")
        + "".join(f"{a!r},{b!r},{x!r}\n" for a, b, x in zip(n.tolist(), second.tolist(), loss.tolist()))
    )
    if not representable.all():
        with pytest.raises(ValueError, match=r"row \d+: "):  # C, D or C = 6 N D beyond double precision
            scalinglaw.read_csv(path)
        return
    read = scalinglaw.read_csv(path)
    np.testing.assert_array_equal(read.N, n)
    np.testing.assert_array_equal(read.D, c / (6.0 * n) if flops else d)
    np.testing.assert_array_equal(read.loss, loss)


# ------------------------------------------------------------------------------------------------------
# fit


@st.composite
def run_arrays(draw):
    count = draw(st.integers(0, 20))
    value = st.one_of(PLAUSIBLE, PLAUSIBLE, POSITIVE, ANY_FLOAT) if draw(st.booleans()) else PLAUSIBLE
    return [draw(st.lists(value, min_size=count, max_size=count)) for _ in range(3)]


def fit_quietly(*args, **kwargs):
    """The fit, with our warnings recorded (they are part of the result) and any other an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", scalinglaw.ScalingLawWarning)
        result = scalinglaw.fit(*args, **kwargs)
    return result, caught


@SETTINGS
@given(arrays=run_arrays())
def test_fit_gives_finite_parameters_or_a_value_error(arrays):
    try:
        result, caught = fit_quietly(*arrays, starts=STARTS, threads=1)
    except ValueError:
        return
    numbers = [result.E, result.A, result.B, result.alpha, result.beta, result.objective]
    assert all(math.isfinite(x) for x in numbers), result
    assert result.objective >= 0 and result.A > 0 and result.B > 0 and result.E > 0
    assert result.status in ("converged", "max_iterations")  # a numerical failure is a ValueError
    assert np.isfinite(result.starts.objective[result.best_start])
    # Whatever is not a clean optimum is said: by the status or by a problem, each with its warning.
    said = [str(w.message) for w in caught]
    assert result.converged or any("did not converge" in text for text in said)
    assert all(problem in said for problem in result.problems)


def test_fitted_amplitudes_beyond_double_precision_are_refused():
    N = [1.0, 1.0, 1.0, 2.0, 1.0]
    D = [81046116045738.0, 358657971829004.0, 41818880266544.0, 17042652664835.0, 360805451783976.0]
    loss = [1.0, 1.0, 65.0, 2.0, 27926034.0]
    # The best start's b is about -9e4: e^b is no double, and the fit must not report B = 0.
    with pytest.raises(ValueError, match=r"B = e\^b = e\^-\d+.* below the smallest double"):
        fit_quietly(N, D, loss, starts=STARTS, threads=1)


# ------------------------------------------------------------------------------------------------------
# predict and the grids, against the law evaluated in log space (no overflow there)


def log_loss(law, log_n, log_d):
    terms = [
        math.log(law["A"]) - law["alpha"] * log_n,
        math.log(law["B"]) - law["beta"] * log_d,
        math.log(law["E"]),
    ]
    return functools.reduce(np.logaddexp, terms)


@st.composite
def laws(draw):
    value = st.one_of(PLAUSIBLE, POSITIVE)
    return {
        "E": draw(value),
        "A": draw(value),
        "B": draw(value),
        "alpha": draw(EXPONENT),
        "beta": draw(EXPONENT),
    }


AXIS = st.lists(st.one_of(PLAUSIBLE, PLAUSIBLE, POSITIVE), min_size=1, max_size=6)


def assert_matches_where_representable(values, reference_log, dtype):
    """No NaN, no negative value; where the exact loss is a normal number of `dtype`, that number to its
    precision (the log-space reference is itself accurate to about |log L| ulps); below the smallest
    normal, what rounding leaves. (Beyond the largest, a ValueError: see the test below.)"""
    info = np.finfo(dtype)
    assert values.dtype == dtype
    assert not np.isnan(values).any() and (values >= 0).all()
    normal = (reference_log < math.log(info.max) - 1e-9) & (reference_log > math.log(info.tiny) + 1e-9)
    reference = np.exp(np.where(normal, reference_log, 0.0))
    rtol = 1e-10 if dtype == np.float64 else 2 * info.eps
    np.testing.assert_allclose(values[normal], reference[normal], rtol=rtol)


def assert_values_or_refused(call, reference_log, dtype):
    """The values (see above), or a ValueError saying a loss exceeds the dtype's range, exactly when
    one does (up to the reference's own rounding at the edge)."""
    edge = math.log(np.finfo(dtype).max)
    try:
        values = call()
    except ValueError as error:
        assert "exceeds the largest" in str(error)
        assert (reference_log > edge - 1e-9).any()
        return
    assert not (reference_log > edge + 1e-9).any()
    assert_matches_where_representable(values, reference_log, dtype)


@SETTINGS
@given(law=laws(), n=AXIS, other=AXIS)
def test_predict_and_grids_are_finite_where_the_loss_is(law, n, other):
    n, other = np.array(n), np.array(other)
    log_n, log_other = np.log(n)[:, None], np.log(other)[None, :]
    nd = log_loss(law, log_n, log_other)
    log_d = log_other - math.log(6.0) - log_n  # D = C / (6 N), in logs
    nc = log_loss(law, log_n, log_d)
    assert_values_or_refused(lambda: scalinglaw.predict(law, n[:, None], other[None, :]), nd, np.float64)
    assert_values_or_refused(lambda: scalinglaw.loss_grid_nd(law, n, other), nd, np.float64)
    assert_values_or_refused(lambda: scalinglaw.loss_grid(law, n, other), nc, np.float64)
    assert_values_or_refused(lambda: scalinglaw.loss_grid(law, n, other, dtype=np.float32), nc, np.float32)


@pytest.mark.parametrize(
    ("function", "dtype"),
    [
        ("predict", np.float64),
        ("loss_grid", np.float64),
        ("loss_grid_nd", np.float64),
        ("loss_grid", np.float32),
    ],
)
def test_a_loss_beyond_double_precision_is_refused_not_inf(function, dtype):
    # A / N^alpha = 1e306 * 0.1^-3 = 1e309 at N = 0.1 (float32: 1e36 * 1e3 = 1e39); fine at N = 1e9.
    law = {"E": 1.82, "A": 1e306 if dtype == np.float64 else 1e36, "B": 2085.43, "alpha": 3.0, "beta": 0.37}
    assert log_loss(law, math.log(0.1), math.log(1e10)) > math.log(np.finfo(dtype).max)
    largest = "float64" if dtype == np.float64 else "float32"
    with pytest.raises(ValueError, match=rf"the loss at N = 0.1, (C|D) = \S+ exceeds the largest {largest}"):
        if function == "predict":
            scalinglaw.predict(law, [0.1, 1e9], 1e10)
        elif function == "loss_grid_nd":
            scalinglaw.loss_grid_nd(law, [0.1, 1e9], [1e10])
        else:
            scalinglaw.loss_grid(law, [0.1, 1e9], [6e19], dtype=dtype)


# ------------------------------------------------------------------------------------------------------
# the command


@settings(SETTINGS, max_examples=DEEPER or 40)
@given(text=csv_texts(bad_rows=8, min_rows=4), skip=st.booleans())
def test_the_command_exits_0_or_2_and_says_why(folder, text, skip):
    path = folder / "cli.csv"
    path.write_text(text, encoding="utf-8")
    out = folder / "cli.json"
    out.unlink(missing_ok=True)
    # the command's path with its bootstrap (the default's 1000 resamples cut to 30, for time)
    argv = ["fit", str(path), "--threads", "1", "--bootstrap", "30", "--json", str(out)]
    argv += ["--skip-bad-rows"] if skip else []
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "fit", functools.partial(scalinglaw.fit, starts=STARTS))
        patch.setattr("sys.stdout", stdout)
        patch.setattr("sys.stderr", stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning the command does not handle is a failure
            status = cli.main(argv)
    lines = stderr.getvalue().splitlines()
    assert (
        all(line.startswith("warning: ") for line in lines[:-1] if status == 2)
        and "Traceback" not in stderr.getvalue()
    )
    if status == 2:
        assert lines and lines[-1].startswith("scalinglaw: error: ") and not out.exists()
        return
    assert status == 0
    assert all(line.startswith("warning: ") for line in lines)
    document = json.loads(out.read_text())
    fitted = [document["fit"][key] for key in ("E", "A", "B", "alpha", "beta", "objective")]
    assert all(isinstance(x, float) and math.isfinite(x) for x in fitted), document["fit"]
    assert f"{path}: {document['data']['n_runs']} runs" in stdout.getvalue()
    assert bool(document["data"]["notes"]) == any("skipped" in line for line in lines)


def test_no_generated_input_ends_a_process_by_a_signal(tmp_path):
    """The properties above, run again in a child process: an input that crashed the core (SIGSEGV,
    SIGABRT from a failed assert, std::terminate) would end the child with a negative status instead of
    failing one example."""
    code = (
        "import pathlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_properties as t\n"
        "folder = pathlib.Path(sys.argv[2])\n"
        "t.test_read_csv_gives_clean_runs_or_a_value_error(folder=folder)\n"
        "t.test_any_bytes_give_runs_or_a_value_error(folder=folder)\n"
        "t.test_fit_gives_finite_parameters_or_a_value_error()\n"
        "t.test_predict_and_grids_are_finite_where_the_loss_is()\n"
        "t.test_the_command_exits_0_or_2_and_says_why(folder=folder)\n"
        "print('all examples ran')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr[-2000:]}"
    assert result.returncode == 0 and result.stdout.strip() == "all examples ran", result.stderr[-2000:]
