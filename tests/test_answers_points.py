"""predict at the points of a file: io.read_points reads them as read_csv reads runs, the command and
answers.predict give one record per point, named by its file row."""

import dataclasses
import gzip
import io
import json
import re
import sys

import numpy as np
import pytest
import scalinglaw
from conftest import saved_fit_file
from scalinglaw import answers, intervals
from scalinglaw.cli import main
from scalinglaw.io import read_points
from scalinglaw.law import DataConstrained
from scalinglaw.saved import SavedFit, load_fit

PAPER = "E=1.69,A=406.4,B=410.7,alpha=0.336,beta=0.283"
LAW = scalinglaw.Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
POINTS = "name,params,tokens,loss\nsmall,400M,8B,\n\nchinchilla,70B,1.4T,1.9\nmid,1e9,2e10,n/a\n"


@pytest.fixture(scope="module")
def saved(chinchilla_240, fit_240, tmp_path_factory):
    """A saved fit with a few bootstrap draws and the scatter of single runs."""
    n, d, loss = chinchilla_240
    boot = scalinglaw.bootstrap(n, d, loss, n_resamples=30, seed=1, estimate=fit_240)
    return saved_fit_file(n, d, fit_240, boot, tmp_path_factory.mktemp("saved"))


def test_read_points_as_read_csv_reads_runs(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS)
    points = read_points(path)
    np.testing.assert_array_equal(points.N, [4e8, 7e10, 1e9])
    np.testing.assert_array_equal(points.D, [8e9, 1.4e12, 2e10])
    assert points.rows.tolist() == [2, 4, 5]  # the header is row 1; the blank row keeps its number
    assert points.unique_tokens is None and len(points) == 3
    assert points.columns == {"N": "params", "D": "tokens"}  # the loss column is not read
    # Compressed, semicolon-separated with decimal commas, FLOPs instead of tokens, unique tokens.
    text = "Model Size;Training FLOP;U_D\n1,5B;6e21;2e11\n7e10;5,88e23;1,4T\n"
    packed = tmp_path / "points.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    other = read_points(packed)
    np.testing.assert_allclose(other.D, [6e21 / (6 * 1.5e9), 1.4e12], rtol=1e-15)
    np.testing.assert_array_equal(other.unique_tokens, [2e11, 1.4e12])
    assert other.columns == {"N": "Model Size", "C": "Training FLOP", "unique_tokens": "U_D"}
    named = read_points(io.StringIO("a,b,c\n1e9,2e10,3\n"), n="a", d="b")
    assert named.N.tolist() == [1e9] and named.D.tolist() == [2e10]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("N,D\n1e9,2e10\n1e9,abc\n", "column 'D', row 3: 'abc' is not a number"),
        ("N,D\n1e9,2e10\n-1e9,2e10\n", "column 'N', row 3: '-1e9' is not > 0"),
        ("N,D\n1e9,\n", "column 'D', row 2: empty is not a number"),
        ("N,D\n1e9,2e10\n1e9,nan\n1e9,0\n", "row 3: 'nan' is not a number (NaN); 2 of 3 rows"),
        ("N,D\n1e9\n", "column 'D', row 2: missing"),
        ("N,D,unique_tokens\n1e9,2e10,3e10\n", "row 2: U_D = 3e+10 exceeds D = 2e+10"),
        ('N,D\n1e9,"2,000,000"\n', "column 'D', row 2: '2,000,000' has thousands separators"),
        ("params,loss\n1e9,2.5\n", "no column for tokens D or FLOPs C"),
        ("x,y\n1,2\n", "no column for model size N and tokens D or FLOPs C"),
        ("N,D\n", "a header but no points"),
        ("", "the file is empty"),
    ],
)
def test_bad_points_name_column_row_and_value(text, message):
    with pytest.raises(ValueError, match="^<stream>: .*" + re.escape(message)):
        read_points(io.StringIO(text))


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_points("/nonexistent/points.csv")


def run_json(capsys, *argv):
    status = main([*argv, "--json", "-"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out), captured.err


def test_the_command_predicts_each_row(saved, tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text(POINTS)
    document, text = run_json(capsys, "predict", "--fit", str(saved), "--points", str(path))
    records = document["predictions"]
    source = load_fit(saved)
    assert [r["row"] for r in records] == [2, 4, 5]
    assert [r["loss"] for r in records] == source.law.predict([4e8, 7e10, 1e9], [8e9, 1.4e12, 2e10]).tolist()
    assert all(r["loss_interval"][0] < r["loss"] < r["loss_interval"][1] for r in records)
    # Python: the same points through answers.predict give the same records, intervals included.
    assert records == answers.predict(source, read_points(path))
    assert records == [
        {"row": int(row), **record}
        for row, record in zip([2, 4, 5], answers.predict(source, [4e8, 7e10, 1e9], [8e9, 1.4e12, 2e10]))
    ]
    # The text is a table, one line per row, the place of each point beside it.
    lines = text.splitlines()
    assert any(line.split()[:4] == ["4", "70B", "1.4T", f"{records[1]['loss']:.6f}"] for line in lines)
    assert "45.4x the largest run's compute" in text and "inside the data" in text


def test_points_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(POINTS.encode())))
    document, _ = run_json(capsys, "predict", "--params", PAPER, "--points", "-")
    assert [r["loss"] for r in document["predictions"]] == LAW.predict(
        [4e8, 7e10, 1e9], [8e9, 1.4e12, 2e10]
    ).tolist()


def test_unique_tokens_for_the_data_constrained_law(tmp_path, capsys):
    params = {"E": 1.87, "A": 521.0, "B": 1488.0, "alpha": 0.353, "beta": 0.353, "R_D": 15.4, "R_N": 5.3}
    law = DataConstrained(**params)
    path = tmp_path / "points.csv"
    path.write_text("N,D,unique_tokens\n7e10,1.4e12,1e11\n7e10,1.4e12,1.4e12\n")
    argv = [
        "predict",
        "--law",
        "data_constrained",
        "--params",
        ",".join(f"{k}={v}" for k, v in params.items()),
    ]
    document, text = run_json(capsys, *argv, "--points", str(path))
    losses = [r["loss"] for r in document["predictions"]]
    assert losses == law.predict([7e10, 7e10], [1.4e12, 1.4e12], [1e11, 1.4e12]).tolist()
    assert losses[0] > losses[1]  # 14 epochs of 100B tokens are worth less than 1.4T fresh ones
    assert "U_D" in text
    pairs, _ = run_json(capsys, *argv, "--n", "7e10", "--d", "1.4e12", "--unique-tokens", "1e11")
    assert pairs["predictions"][0]["loss"] == losses[0]
    assert (
        answers.predict(SavedFit.published("data_constrained", params), read_points(path))[0]["loss"]
        == losses[0]
    )


@pytest.mark.parametrize(
    ("argv", "text", "message"),
    [
        ([], "N,D\n1e9,2e10\n1e9,abc\n", "column 'D', row 3: 'abc' is not a number"),
        (["--n", "7e10", "--d", "1e12"], "N,D\n1e9,2e10\n", "--points CSV or --n/--d pairs, not both"),
        (["--unique-tokens", "1e9"], "N,D\n1e9,2e10\n", "--points CSV or --n/--d pairs, not both"),
    ],
)
def test_command_errors_are_one_line_and_exit_2(argv, text, message, tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text(text)
    assert main(["predict", "--params", PAPER, "--points", str(path), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_unique_tokens_must_pair_with_the_points_and_need_the_law_that_uses_them(tmp_path, capsys):
    argv = ["predict", "--params", PAPER, "--n", "7e10", "--d", "1e12", "--n", "1e9", "--d", "2e10"]
    assert main([*argv, "--unique-tokens", "1e11"]) == 2
    assert "one --unique-tokens per --n/--d pair" in capsys.readouterr().err
    assert main([*argv, "--unique-tokens", "1e11", "--unique-tokens", "1e10"]) == 2
    assert "the chinchilla law does not use unique tokens" in capsys.readouterr().err
    # A file's column of them is left alone for a law that does not use them.
    path = tmp_path / "points.csv"
    path.write_text("N,D,unique_tokens\n7e10,1.4e12,1e11\n")
    document, _ = run_json(capsys, "predict", "--params", PAPER, "--points", str(path))
    (record,) = document["predictions"]
    assert "unique_tokens" not in record and record["loss"] == LAW.predict(7e10, 1.4e12)


def test_many_points_are_predicted_in_blocks(saved, monkeypatch):
    source = load_fit(saved)
    n = np.geomspace(1e8, 1e11, 50)
    d = 20 * n
    whole = answers.predict(source, n, d)
    monkeypatch.setattr(intervals, "CHUNK", 3 * len(source.draws))  # blocks of 3 points
    blocks = answers.predict(source, n, d)
    assert [r["loss"] for r in blocks] == [r["loss"] for r in whole]
    for block, one in zip(blocks, whole):
        assert block["loss_interval"] == pytest.approx(one["loss_interval"], rel=1e-12)
    assert all(r["loss_interval"][0] < r["loss"] < r["loss_interval"][1] for r in blocks)
    # Without the scatter the intervals are the draws' alone: the blocks change nothing.
    plain = dataclasses.replace(source, scatter=None)
    monkeypatch.setattr(answers, "DRAWN_CELLS", 1 << 22)
    one = answers.predict(plain, n, d)
    monkeypatch.setattr(answers, "DRAWN_CELLS", 3 * len(source.draws))
    assert answers.predict(plain, n, d) == one and one[0]["interval"] == "parameters only"
