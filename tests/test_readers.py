"""Files shaped like real exports (W&B, TSV, semicolons with decimal commas, compressed, Parquet, SI
suffixes, standard input), each read to the same runs as a plain CSV; and what read_csv says it read."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main
from scalinglaw.io import FlopsMismatchWarning, RepeatedRunsWarning, UnitsWarning

# Eight runs as a Pythia-like sweep would name them; the suffixed forms are exact decimal numbers.
SIZES = ["500K", "70M", "160m", "410M", "1.4B", "2.8B", "6.9B", "12B"]
TOKENS = ["10M", "1.4B", "3.2B", "8.2B", "28B", "56B", "138B", "2T"]
POWERS = {"k": 3, "m": 6, "b": 9, "t": 12}


def plain(cell):
    return float(f"{cell[:-1]}e{POWERS[cell[-1].lower()]}")


N = np.array([plain(cell) for cell in SIZES])
D = np.array([plain(cell) for cell in TOKENS])
LOSS = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28


def r(x):
    return repr(float(x))


NAMES = [f"pythia-{size.lower()}" for size in SIZES]


def csv_text(header, rows, sep=","):
    return sep.join(header) + "\n" + "".join(sep.join(map(str, row)) + "\n" for row in rows)


PLAIN = csv_text(["N", "D", "loss"], [(r(a), r(b), r(c)) for a, b, c in zip(N, D, LOSS)])


def wandb_export():
    # "model" and "data" are config columns of text: names that could be N and D, set aside.
    header = [
        "Name",
        "State",
        "model",
        "data",
        "model/params",
        "train/tokens",
        "eval/loss",
        "train/grad_norm",
    ]
    rows = [
        (f"run-{i}", "finished", f"EleutherAI/{name}", "the_pile", int(n), int(d), r(loss), 0.5)
        for i, (name, n, d, loss) in enumerate(zip(NAMES, N, D, LOSS))
    ]
    return csv_text(header, rows).encode()


def semicolons_with_decimal_commas():
    rows = [(int(n), int(d), r(loss).replace(".", ",")) for n, d, loss in zip(N, D, LOSS)]
    return csv_text(["params", "tokens", "loss"], rows, sep=";").encode()


def tab_separated():
    rows = [(name, r(n), r(d), r(loss)) for name, n, d, loss in zip(NAMES, N, D, LOSS)]
    return csv_text(["model name", "num_params", "tokens_seen", "eval_loss"], rows, sep="\t").encode()


def suffixed():
    rows = [(size, tokens, r(loss)) for size, tokens, loss in zip(SIZES, TOKENS, LOSS)]
    return csv_text(["n_params", "train_tokens", "validation_loss"], rows).encode()


def parquet():
    pa = pytest.importorskip("pyarrow")  # in the [test] extra: skipped only where pyarrow is absent
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"run": NAMES, "params": N, "tokens": D.astype(np.int64), "loss": LOSS})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


REAL_SHAPED = {
    "W&B export": ("wandb.csv", wandb_export),
    "TSV, HF-style names": ("runs.tsv", tab_separated),
    "semicolons, decimal commas": ("runs.csv", semicolons_with_decimal_commas),
    "SI suffixes": ("runs.csv", suffixed),
    "gzip": ("runs.csv.gz", lambda: gzip.compress(PLAIN.encode())),
    "bzip2": ("runs.csv.bz2", lambda: bz2.compress(PLAIN.encode())),
    "xz": ("runs.csv.xz", lambda: lzma.compress(PLAIN.encode())),
    "gzip, no suffix": ("runs.dat", lambda: gzip.compress(PLAIN.encode())),
    "xz of a W&B export": ("export", lambda: lzma.compress(wandb_export())),
    "Parquet": ("runs.parquet", parquet),
    "Parquet, no suffix": ("runs.bin", parquet),
}


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    path = tmp_path_factory.mktemp("plain") / "runs.csv"
    path.write_text(PLAIN)
    runs = scalinglaw.read_csv(path)
    np.testing.assert_array_equal(runs.N, N)  # the plain file itself holds the numbers above
    return runs


def assert_same_runs(runs, expected):
    for got, want in zip(runs, expected):
        assert got.dtype == np.float64
        assert np.array_equal(got, want), (got, want)


@pytest.mark.parametrize("case", REAL_SHAPED)
def test_real_shaped_files_read_to_the_same_runs_as_a_plain_csv(tmp_path, expected, case):
    name, make = REAL_SHAPED[case]
    path = tmp_path / name
    path.write_bytes(make())
    runs = scalinglaw.read_csv(path)  # warnings are errors: none may fire on these clean runs
    assert_same_runs(runs, expected)
    assert runs.source == str(path)
    assert set(runs.columns) == {"N", "D", "loss"}
    if "W&B" in case:
        assert runs.columns == {"N": "model/params", "D": "train/tokens", "loss": "eval/loss"}
        assert runs.set_aside == (
            "'model': could be the model size (N is 'model/params')",
            "'data': could be the tokens (D is 'train/tokens')",
        )


@pytest.mark.parametrize("case", ["W&B export", "gzip", "semicolons, decimal commas", "Parquet"])
def test_file_objects_read_like_the_file(expected, case):
    content = REAL_SHAPED[case][1]()
    assert_same_runs(scalinglaw.read_csv(io.BytesIO(content)), expected)
    runs = scalinglaw.read_csv(io.BytesIO(content))
    assert runs.source == "<stream>"
    if case == "W&B export":
        assert_same_runs(scalinglaw.read_csv(io.StringIO(content.decode())), expected)


def test_an_open_file_is_named_by_its_name(tmp_path, expected):
    path = tmp_path / "runs.csv.gz"
    path.write_bytes(gzip.compress(PLAIN.encode()))
    with path.open("rb") as file:
        runs = scalinglaw.read_csv(file)
    assert_same_runs(runs, expected)
    assert runs.source == str(path)


def test_standard_input_is_dash_in_python(expected):
    code = (
        "import json, scalinglaw\n"
        "runs = scalinglaw.read_csv('-')\n"
        "print(json.dumps([runs.source, *(list(map(float.hex, map(float, a))) for a in runs)]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=lzma.compress(wandb_export()), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    source, *columns = json.loads(result.stdout)
    assert source == "<stdin>"
    for got, want in zip(columns, expected):
        assert np.array_equal([float.fromhex(x) for x in got], want)


def test_standard_input_is_dash_for_the_command(tmp_path):
    plain = tmp_path / "runs.csv"
    plain.write_text(PLAIN)
    common = ["--threads", "1", "--exclude-highest-loss", "0", "--bootstrap", "0"]
    assert main(["fit", str(plain), "--json", str(tmp_path / "plain.json"), *common]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "scalinglaw", "fit", "-", "--json", str(tmp_path / "stdin.json"), *common],
        input=tab_separated(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    assert b"<stdin>: 8 runs" in result.stdout
    assert b"columns: N 'num_params', D 'tokens_seen', loss 'eval_loss'" in result.stdout
    from_stdin = json.loads((tmp_path / "stdin.json").read_text())
    from_file = json.loads((tmp_path / "plain.json").read_text())
    assert from_stdin["data"]["columns"] == {"N": "num_params", "D": "tokens_seen", "loss": "eval_loss"}
    assert from_stdin["fit"] == from_file["fit"]  # the same runs give the same fit, bit for bit


@pytest.mark.parametrize(
    "header",
    [
        ("model/params", "train/tokens", "eval/loss"),
        ("num_params", "tokens_seen", "eval_loss"),
        ("n_params", "train_tokens", "validation_loss"),
        ("model_params", "throughput/total_tokens", "val_loss"),
        ("Parameters", "Tokens Trained", "Final Loss"),
        ("total_params", "num_training_tokens", "train/CrossEntropyLoss"),
    ],
)
def test_column_names_of_common_exports_are_recognised(tmp_path, expected, header):
    path = tmp_path / "runs.csv"
    path.write_text(csv_text(header, [(r(a), r(b), r(c)) for a, b, c in zip(N, D, LOSS)]))
    runs = scalinglaw.read_csv(path)
    assert_same_runs(runs, expected)
    assert runs.columns == dict(zip(("N", "D", "loss"), header))


def test_a_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"PAR1" + bytes(8) + b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(
        ValueError, match=r'runs\.parquet is a Parquet file; .*pip install "scalinglaw\[parquet\]"'
    ):
        scalinglaw.read_csv(path)
    assert main(["fit", str(path)]) == 2


def test_broken_compressed_and_parquet_files_are_value_errors(tmp_path):
    path = tmp_path / "runs.csv.gz"
    path.write_bytes(gzip.compress(PLAIN.encode())[:30])
    with pytest.raises(ValueError, match=r"runs\.csv\.gz: not a readable gzip file"):
        scalinglaw.read_csv(path)
    path.write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(ValueError, match=r"a ZIP archive \(an Excel workbook\?\); save the sheet as CSV"):
        scalinglaw.read_csv(path)
    pytest.importorskip("pyarrow")
    path.write_bytes(b"PAR1" + bytes(8) + b"PAR1")
    with pytest.raises(ValueError, match=r"not a readable Parquet file"):
        scalinglaw.read_csv(path)


def test_a_bad_cell_in_a_parquet_file_is_named_by_column_and_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "runs.parquet"
    loss = [*LOSS[:3].tolist(), None, *LOSS[4:].tolist()]
    pq.write_table(pa.table({"N": N, "D": D, "loss": loss}), path)
    with pytest.raises(ValueError, match=r"column 'loss', row 5: empty is not a number"):
        scalinglaw.read_csv(path)


# --- decimal commas only where they are unambiguous ---


def test_decimal_commas_in_a_tab_file_only_where_unambiguous(tmp_path):
    path = tmp_path / "runs.tsv"
    rows = [(int(n), int(d), r(loss).replace(".", ",")) for n, d, loss in zip(N, D, LOSS)]
    path.write_text(csv_text(["N", "D", "loss"], rows, sep="\t"))
    np.testing.assert_array_equal(scalinglaw.read_csv(path).loss, LOSS)
    rows[2] = (rows[2][0], rows[2][1], "2,500")  # a thousands separator, or 2.5?
    path.write_text(csv_text(["N", "D", "loss"], rows, sep="\t"))
    with pytest.raises(ValueError, match=r"column 'loss', row 4: '2,500' has a comma that could be"):
        scalinglaw.read_csv(path)


def test_a_semicolon_file_reads_decimal_points_too(tmp_path, expected):
    path = tmp_path / "runs.csv"
    path.write_text(PLAIN.replace(",", ";"))
    assert_same_runs(scalinglaw.read_csv(path), expected)


def test_si_suffixes_only_for_sizes_and_tokens(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,C,loss\n70M,1.2e20,2.5\n")
    assert scalinglaw.read_csv(path).N[0] == 7e7
    path.write_text("N,C,loss\n7e7,1.2T,2.5\n")
    with pytest.raises(ValueError, match=r"column 'C', row 2: '1\.2T' has a unit suffix"):
        scalinglaw.read_csv(path)


# --- what was read: columns used and set aside ---


def test_total_parameters_are_chosen_over_non_embedding_and_it_is_said(tmp_path):
    path = tmp_path / "runs.csv"
    rows = [(r(n), r(0.8 * n), r(d), r(loss)) for n, d, loss in zip(N, D, LOSS)]
    path.write_text(csv_text(["params", "non_embedding_params", "tokens", "loss"], rows))
    runs = scalinglaw.read_csv(path)
    np.testing.assert_array_equal(runs.N, N)
    assert runs.columns["N"] == "params"
    assert runs.set_aside == ("'non_embedding_params': could be the model size (N is 'params')",)
    assert "set aside 'non_embedding_params'" in repr(runs)
    # Alone, the non-embedding count is the model size; named, any column is.
    path.write_text(csv_text(["non_embedding_params", "tokens", "loss"], [r[1:] for r in rows]))
    assert scalinglaw.read_csv(path).columns["N"] == "non_embedding_params"
    path.write_text(csv_text(["params", "non_embedding_params", "tokens", "loss"], rows))
    chosen = scalinglaw.read_csv(path, n="non_embedding_params")
    np.testing.assert_array_equal(chosen.N, 0.8 * N)
    assert chosen.set_aside == ()


def test_summary_and_json_name_the_columns(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    rows = [(r(n), r(0.8 * n), r(d), r(6 * n * d), r(loss)) for n, d, loss in zip(N, D, LOSS)]
    path.write_text(csv_text(["params", "non_embedding_params", "tokens", "flops", "loss"], rows))
    out = tmp_path / "out.json"
    # 8 runs: some resamples of the default bootstrap would have no frontier (and say so)
    assert main(["fit", str(path), "--json", str(out), "--threads", "1", "--bootstrap", "0"]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "columns: N 'params', D 'tokens', loss 'loss'" in printed.out
    assert "set aside 'non_embedding_params': could be the model size (N is 'params')" in printed.out
    assert "set aside 'flops': the training FLOPs, within " in printed.out
    data = json.loads(out.read_text())["data"]
    assert data["columns"] == {"N": "params", "D": "tokens", "loss": "loss"}
    assert data["set_aside"][0].startswith("'non_embedding_params'")


def test_the_builtin_data_is_the_same_240_runs_in_python_and_the_command(tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["fit", "--json", str(out), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "columns: N 'Model Size', D = C / (6 N), C 'Training FLOP', loss 'loss'" in printed
    data = json.loads(out.read_text())["data"]
    runs = scalinglaw.load_chinchilla()
    assert data["n_runs"] == len(runs) == 240 and data["n_excluded"] == 5
    assert data["columns"] == runs.columns == {"N": "Model Size", "C": "Training FLOP", "loss": "loss"}


def test_the_repr_is_a_few_lines():
    text = repr(scalinglaw.load_chinchilla())
    lines = text.splitlines()
    assert len(lines) == 5, text
    assert lines[0] == "Runs: 240 runs from built-in Chinchilla data (Epoch AI, from Hoffmann et al. Fig. 4)"
    assert "'Model Size'" in lines[1] and "C from 'Training FLOP'" in lines[2]
    assert "5.73e+07 .. 1.62e+10" in lines[1]
    assert "5 highest-loss" in lines[4]
    assert repr(scalinglaw.Runs([1e9], [2e10], [2.5])).splitlines()[0] == "Runs: 1 runs"


# --- warnings: each on its case, none on clean data ---


def write_runs(tmp_path, n, d, loss, header=("N", "D", "loss"), extra=None, **_):
    path = tmp_path / "runs.csv"
    columns = [n, d, loss] if extra is None else [n, d, extra, loss]
    path.write_text(csv_text(header, [tuple(map(r, row)) for row in zip(*columns)]))
    return path


WARNING_CASES = [
    (
        "sizes in billions",
        dict(n=N / 1e9),
        UnitsWarning,
        r"model sizes \(N\) are all below 10\^4 \(the largest is 12\)",
    ),
    (
        "perplexity",
        dict(loss=np.exp(LOSS)),
        UnitsWarning,
        r"loss 'loss' looks like perplexity \(\d of 8 above 20",
    ),
    (
        "a perplexity column",
        dict(header=("N", "D", "val_ppl"), options={"loss": "val_ppl"}),
        UnitsWarning,
        r"loss 'val_ppl' looks like perplexity",
    ),
    ("N and D swapped", dict(n=D * 10, d=N), UnitsWarning, r"every run has fewer tokens than parameters"),
    (
        "FLOPs twice 6ND",
        dict(header=("N", "D", "flops", "loss"), extra=12 * N * D),
        FlopsMismatchWarning,
        r"column 'flops' is 2 times 6 N D \(N from 'N', D from 'D'\): 8 of 8 runs differ by more than 10%; "
        r"D was taken from 'D', and C = 6 N D is what the fit and the plans use",
    ),
    (
        "FLOPs in PF-days",
        dict(header=("N", "D", "C", "loss"), extra=6 * N * D / 8.64e19),
        FlopsMismatchWarning,
        r"column 'C' is 1\.16e-20 times 6 N D",
    ),
    (
        "repeated pairs",
        dict(n=np.r_[N, N[:3]], d=np.r_[D, D[:3]], loss=np.r_[LOSS, LOSS[:3] + 0.01]),
        RepeatedRunsWarning,
        r"3 runs repeat the \(N, D\) of another run \(e\.g\. N = 5e\+05, D = 1e\+07\)",
    ),
    (
        "checkpoints of one run",
        dict(
            n=np.r_[N, [1e9] * 6], d=np.r_[D, 2e9 * np.arange(1, 7)], loss=np.r_[LOSS, 3 - 0.1 * np.arange(6)]
        ),
        RepeatedRunsWarning,
        r"6 runs of model size N = 1e\+09 are at evenly spaced token counts \(every 2e\+09 tokens\)",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "category", "message"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES]
)
def test_implausible_data_is_warned_about(tmp_path, case, change, category, message):
    arguments = {"n": N, "d": D, "loss": LOSS, **change}
    path = write_runs(tmp_path, **arguments)
    with pytest.warns(category, match=message) as caught:
        scalinglaw.read_csv(path, **change.get("options", {}))
    for warning in caught:  # from where read_csv was called, naming the file
        assert str(warning.message).startswith(f"{path}: ") and warning.filename == __file__


def test_tokens_in_billions_are_warned_about_twice(tmp_path):
    # D < 10^4 is also D < N for every real model size: both are said.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scalinglaw.read_csv(write_runs(tmp_path, N, D / 1e9, LOSS))
    messages = [str(w.message) for w in caught if w.category is UnitsWarning]
    assert len(caught) == len(messages) == 2
    assert "token counts (D) are all below 10^4 (the largest is 2000)" in messages[0]
    assert "fewer tokens than parameters" in messages[1]


def test_a_flops_column_that_agrees_with_6nd_is_noted_not_warned(tmp_path):
    flops = 6 * N * D * np.linspace(1.0, 1.08, len(N))  # attention adds a few percent
    runs = scalinglaw.read_csv(write_runs(tmp_path, N, D, LOSS, ("N", "D", "flops", "loss"), flops))
    assert runs.set_aside == ("'flops': the training FLOPs, within 8.0% of 6 N D",)


def test_no_warning_fires_on_the_shipped_data(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for exclusion in (True, False):
            runs = scalinglaw.load_chinchilla(epoch_exclusion=exclusion)
            scalinglaw.io.check_plausible(runs)
    assert main(["fit", "--threads", "1", "--exclude-highest-loss", "0"]) == 0
    assert capsys.readouterr().err == ""


def test_the_delimiter_is_the_one_that_splits_the_header_most(tmp_path, expected):
    path = tmp_path / "runs.csv"
    # A quoted header cell with a semicolon in a comma file; commas inside cells of a tab file.
    path.write_text(PLAIN.replace("N,D,loss", 'N,D,"loss; eval"'))
    assert scalinglaw.read_csv(path, loss="loss; eval").columns["loss"] == "loss; eval"
    rows = [(name.replace("-", ", "), r(n), r(d), r(loss)) for name, n, d, loss in zip(NAMES, N, D, LOSS)]
    path.write_text(csv_text(["run", "N", "D", "loss"], rows, sep="\t"))
    assert_same_runs(scalinglaw.read_csv(path), expected)


def test_dash_on_a_terminal_is_refused_rather_than_waited_on(monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("N,D,loss\n"))
    with pytest.raises(ValueError, match=r"'-' reads the runs from standard input: pipe or redirect"):
        scalinglaw.read_csv("-")
    assert main(["fit", "-"]) == 2
    assert "pipe or redirect a file into it" in capsys.readouterr().err


def test_a_repetition_study_is_not_taken_for_checkpoints():
    # Muennighoff et al.'s runs: one size and token count on several unique-token budgets, and epochs
    # of one data set at even steps, are separate runs of the design.
    path = os.path.join(os.path.dirname(__file__), "data", "muennighoff_c4.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RepeatedRunsWarning)
        runs = scalinglaw.read_csv(path)
    assert len(runs) == 182 and runs.unique_tokens is not None
    assert len(np.unique(np.c_[runs.N, runs.D], axis=0)) < 182  # without U_D, repeats
    # The same (N, D) twice on the same unique tokens is still a repeat.
    twice = scalinglaw.Runs(
        N=np.r_[runs.N, runs.N[:1]],
        D=np.r_[runs.D, runs.D[:1]],
        loss=np.r_[runs.loss, runs.loss[:1] + 0.01],
        unique_tokens=np.r_[runs.unique_tokens, runs.unique_tokens[:1]],
    )
    with pytest.warns(RepeatedRunsWarning, match=r"1 runs repeat the \(N, D\) of another run"):
        scalinglaw.io.check_plausible(twice)
