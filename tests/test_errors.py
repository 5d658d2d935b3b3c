"""Every bad input to the fit gets a ValueError (or FileNotFoundError) that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaw

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
    ("delta zero", dict(delta=0.0), r"delta must be finite and > 0, got 0.0"),
    ("delta negative", dict(delta=-1e-3), r"delta must be finite and > 0"),
    ("delta nan", dict(delta=float("nan")), r"delta must be finite"),
    ("delta text", dict(delta="1e-3"), r"delta must be a real number"),
    ("threads negative", dict(threads=-1), r"threads must be >= 0"),
    ("threads float", dict(threads=1.5), r"threads must be a whole number"),
    ("max_iterations zero", dict(max_iterations=0), r"max_iterations must be >= 1"),
    ("starts wrong width", dict(starts=np.zeros((3, 4))), r"starts must have shape \(k, 5\)"),
    ("starts empty", dict(starts=np.zeros((0, 5))), r"starts must have shape \(k, 5\)"),
    ("starts 3-D", dict(starts=np.zeros((2, 5, 1))), r"starts must have shape \(k, 5\)"),
    ("starts nan", dict(starts=[[0, 0, 0, 0.5, np.nan]]), r"starts\[0, 4\] \(beta\) = nan is not finite"),
    ("starts text", dict(starts=[["a", "b", "c", "d", "e"]]), r"starts must be numbers, got text"),
]


@pytest.mark.parametrize(("case", "change", "message"), FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_bad_fit_input_raises_value_error(case, change, message):
    arguments = {"N": N, "D": D, "loss": L, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.fit(arguments.pop("N"), arguments.pop("D"), arguments.pop("loss"), **arguments)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        scalinglaw.read_csv(tmp_path / "missing.csv")


def test_csv_without_the_needed_columns_names_them(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("params,steps\n1e9,100\n")
    with pytest.raises(ValueError, match=r"no column for loss and tokens D or training FLOPs C"):
        scalinglaw.read_csv(path)


def test_csv_with_a_bad_cell_names_column_and_row(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n1e9,2e10,2.5\n1e9,,2.4\n")
    with pytest.raises(ValueError, match=r"column 'D', row 3: empty is not a number"):
        scalinglaw.read_csv(path)
