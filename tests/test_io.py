"""Reading runs: the built-in dataset and CSV files with their many column names."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaw


def test_builtin_dataset_is_the_epoch_data(chinchilla_all):
    runs = scalinglaw.load_chinchilla()
    assert len(runs) == 245
    for got, expected in zip(runs, chinchilla_all):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(runs.C, 6 * runs.N * runs.D)
    assert "Epoch" in runs.source


def test_epoch_exclusion_drops_the_five_highest_losses_in_file_order(chinchilla_240):
    everything = scalinglaw.load_chinchilla()
    kept = scalinglaw.load_chinchilla(epoch_exclusion=True)
    assert len(kept) == 240
    for got, expected in zip(kept, chinchilla_240):
        np.testing.assert_array_equal(got, expected)
    assert kept.loss.max() < np.sort(everything.loss)[-5]
    _, excluded = everything.split_highest_loss(5)
    np.testing.assert_array_equal(np.sort(excluded.loss), np.sort(everything.loss)[-5:])
    assert any("5 highest-loss" in note for note in kept.notes)


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
    assert scalinglaw.read_csv(path).D[0] == 5e10


def test_ambiguous_columns_ask_for_a_choice(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,train_loss,val_loss\n1e9,2e10,2.5,2.6\n")
    with pytest.raises(ValueError, match=r"ambiguous columns 'train_loss' and 'val_loss'.*loss="):
        scalinglaw.read_csv(path)
    assert scalinglaw.read_csv(path, loss="val_loss").loss[0] == 2.6


def test_a_csv_fits_like_the_arrays(tmp_path, chinchilla_240):
    n, d, loss = chinchilla_240
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n" + "".join(f"{float(a)!r},{float(b)!r},{float(c)!r}\n" for a, b, c in zip(n, d, loss)))
    runs = scalinglaw.read_csv(path)
    starts = scalinglaw.default_starts()[::50]
    assert scalinglaw.fit(*runs, starts=starts).params == scalinglaw.fit(n, d, loss, starts=starts).params
