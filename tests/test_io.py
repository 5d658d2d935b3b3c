"""Reading runs: the built-in dataset and CSV files with their many column names."""

from __future__ import annotations

import numpy as np
import pytest
import scalinglaw
from scalinglaw.io import FlopsMismatchWarning, SkippedRowsWarning


def test_builtin_dataset_is_the_epoch_data(chinchilla_all):
    runs = scalinglaw.load_chinchilla(epoch_exclusion=False)
    assert len(runs) == 245
    for got, expected in zip(runs, chinchilla_all):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(runs.C, 6 * runs.N * runs.D)
    assert "Epoch" in runs.source


def test_epoch_exclusion_drops_the_five_highest_losses_in_file_order(chinchilla_240):
    everything = scalinglaw.load_chinchilla(epoch_exclusion=False)
    kept = scalinglaw.load_chinchilla(epoch_exclusion=True)
    assert len(kept) == 240
    for got, expected in zip(kept, chinchilla_240):
        np.testing.assert_array_equal(got, expected)
    assert kept.loss.max() < np.sort(everything.loss)[-5]
    _, excluded = everything.split_highest_loss(5)
    np.testing.assert_array_equal(np.sort(excluded.loss), np.sort(everything.loss)[-5:])
    assert any("5 highest-loss" in note for note in kept.notes)
    # The default is Epoch's exclusion: the 240 runs the command fits when given no file.
    default = scalinglaw.load_chinchilla()
    for got, expected in zip(default, chinchilla_240):
        np.testing.assert_array_equal(got, expected)


def test_runs_are_read_only_and_iterate_as_n_d_loss():
    runs = scalinglaw.load_chinchilla()
    with pytest.raises(ValueError):
        runs.N[0] = 1.0
    n, d, loss = runs
    assert n is runs.N and d is runs.D and loss is runs.loss


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("N,D,loss", "1e9,2e10,2.5"),
        ("params,tokens,final_loss", "1e9,2e10,2.5"),
        ("Model Size,Training FLOP,loss", "1e9,1.2e20,2.5"),
        ("model_size , num_tokens, Loss", "1e9,2e10,2.5"),
        ("n_params,flops,eval loss", "1e9,1.2e20,2.5"),
    ],
)
def test_common_column_names_are_recognised(tmp_path, header, row):
    path = tmp_path / "runs.csv"
    path.write_text(f"{header}\n{row}\n")
    runs = scalinglaw.read_csv(path)
    assert runs.N[0] == 1e9
    assert runs.D[0] == pytest.approx(2e10)
    assert runs.loss[0] == 2.5


def test_columns_can_be_named_explicitly(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("size_a,budget_b,metric\n1e9,1.2e20,2.5\n2e9,1.2e20,2.4\n")
    runs = scalinglaw.read_csv(path, n="size_a", c="budget_b", loss="metric")
    np.testing.assert_allclose(runs.D, 1.2e20 / (6 * np.array([1e9, 2e9])))


def test_d_is_preferred_to_c_when_both_are_present(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,C,loss\n1e9,5e10,1.2e20,2.5\n")
    with pytest.warns(FlopsMismatchWarning, match=r"column 'C' is 0\.4 times 6 N D .* D was taken from 'D'"):
        runs = scalinglaw.read_csv(path)
    assert runs.D[0] == 5e10
    assert runs.columns == {"N": "N", "D": "D", "loss": "loss"}
    assert runs.set_aside == ("'C': the training FLOPs, 0.4 times 6 N D",)


def test_ambiguous_columns_ask_for_a_choice(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,train_loss,val_loss\n1e9,2e10,2.5,2.6\n")
    with pytest.raises(ValueError, match=r"ambiguous columns 'train_loss' and 'val_loss'.*loss="):
        scalinglaw.read_csv(path)
    assert scalinglaw.read_csv(path, loss="val_loss").loss[0] == 2.6


def test_a_csv_fits_like_the_arrays(tmp_path, chinchilla_240):
    n, d, loss = chinchilla_240
    path = tmp_path / "runs.csv"
    path.write_text(
        "N,D,loss\n" + "".join(f"{float(a)!r},{float(b)!r},{float(c)!r}\n" for a, b, c in zip(n, d, loss))
    )
    runs = scalinglaw.read_csv(path)
    starts = scalinglaw.default_starts()[::50]
    assert scalinglaw.fit(*runs, starts=starts).params == scalinglaw.fit(n, d, loss, starts=starts).params


def write(tmp_path, text):
    path = tmp_path / "runs.csv"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = [(1e8, 2e11, 3.1), (3e8, 6e10, 2.9), (1e9, 2e10, 2.8), (3e9, 7e9, 2.85), (1e10, 2e9, 3.0)]


def test_bad_rows_are_skipped_only_when_asked_and_never_silently(tmp_path):
    rows = [",".join(map(repr, run)) for run in GOOD]
    rows[1:1] = ["3e8,,2.9", "4e8,1e10,diverged", "5e8,1e10", "6e8,-1,2.7", "7e8,1e10,nan", "8e8,inf,2.7"]
    path = write(tmp_path, "N,D,loss\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"column 'D', row 3: empty is not a number; 6 of 11 rows"):
        scalinglaw.read_csv(path)
    with pytest.warns(SkippedRowsWarning, match=r"runs.csv: skipped 6 of 11 rows with bad cells") as caught:
        runs = scalinglaw.read_csv(path, on_bad_row="skip")
    np.testing.assert_array_equal(np.column_stack(tuple(runs)), np.array(GOOD))
    (note,) = runs.notes
    assert str(caught[0].message).endswith(note)
    # Each skipped row by its line in the file, with the reason: the first five, then how many more.
    for piece in (
        "column 'D', row 3: empty is not a number",
        "column 'loss', row 4: 'diverged' is not a number",
        "column 'loss', row 5: missing (the row has 2 cells, the header 3 columns)",
        "column 'D', row 6: '-1' is not > 0",
        "column 'loss', row 7: 'nan' is not a number (NaN)",
        "; and 1 more)",
    ):
        assert piece in note
    assert "row 8" not in note
    kept, _ = runs.split_highest_loss(1)
    assert kept.notes[0] == note  # the note travels with the runs


def test_skipping_a_flop_row_whose_tokens_overflow(tmp_path):
    rows = [f"{n!r},{6 * n * d!r},{loss!r}" for n, d, loss in GOOD] + ["1e-5,1e308,2.5"]
    path = write(tmp_path, "N,C,loss\n" + "\n".join(rows) + "\n")
    with pytest.warns(SkippedRowsWarning, match=r"row 7: tokens D = C / \(6 N\) = 1e\+308 / \(6 \* 1e-05\)"):
        runs = scalinglaw.read_csv(path, on_bad_row="skip")
    np.testing.assert_allclose(runs.D, [d for _, d, _ in GOOD], rtol=1e-15)


def test_no_warning_and_no_note_when_nothing_is_skipped(tmp_path):
    path = write(tmp_path, "N,D,loss\n" + "".join(f"{n!r},{d!r},{loss!r}\n" for n, d, loss in GOOD))
    runs = scalinglaw.read_csv(path, on_bad_row="skip")  # filterwarnings=error: any warning would fail
    assert runs.notes == () and len(runs) == 5


def test_spreadsheet_habits_that_are_not_errors(tmp_path):
    # A byte-order mark, CRLF line ends, quoted cells, padding, trailing empty cells, blank rows and a
    # quoted cell spanning two lines (the row number after it is still the line in the file).
    text = (
        '\ufeff"N", D ,"note",loss,,\r\n'
        '"1e9", 2e10 ,"first\r\nrun",2.5,,\r\n'
        ",,,,,\r\n"
        "2e9,1e10,,2.4\r\n"
        "3e9,x,,2.3\r\n"
    )
    path = tmp_path / "runs.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(ValueError, match=r"column 'D', row 6: 'x' is not a number"):
        scalinglaw.read_csv(path)
    path.write_bytes(text.replace("3e9,x", "3e9,5e9").encode("utf-8"))
    runs = scalinglaw.read_csv(path)
    np.testing.assert_array_equal(runs.N, [1e9, 2e9, 3e9])
    np.testing.assert_array_equal(runs.D, [2e10, 1e10, 5e9])
    np.testing.assert_array_equal(runs.loss, [2.5, 2.4, 2.3])


def test_a_named_flops_column_wins_over_a_recognised_tokens_column(tmp_path):
    path = write(tmp_path, "N,tokens,budget,loss\n1e9,3e10,1.2e20,2.5\n")
    with pytest.warns(FlopsMismatchWarning, match=r"'budget' is 0\.667 times 6 N D"):
        assert scalinglaw.read_csv(path).D[0] == 3e10
    with pytest.warns(FlopsMismatchWarning, match=r"taken from 'budget', as c= asked, not from 'tokens'"):
        assert scalinglaw.read_csv(path, c="budget").D[0] == pytest.approx(2e10, rel=1e-15)


def test_runs_refuse_a_training_compute_beyond_double_precision():
    with pytest.raises(
        ValueError, match=r"run \[1\]: the training compute C = 6 N D = 6 \* 1e\+300 \* 1e\+10"
    ):
        scalinglaw.Runs(np.array([1e9, 1e300]), np.array([1e10, 1e10]), np.array([2.5, 2.5]))
    with pytest.raises(ValueError, match=r"run \[0\]: .* is beyond double precision \(1 of 1 runs\)"):
        scalinglaw.Runs([1e-200], [1e-200], [2.5])
    runs = scalinglaw.Runs([1e150], [1e150], [2.5])
    assert np.isfinite(runs.C).all()
