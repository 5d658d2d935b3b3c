"""The grouped bootstrap (issue 14) and resamples drawn per resample (issue 18): whole groups only,
checked against a pure-Python copy of the generator; one run per group is the ordinary bootstrap; a
ladder whose sizes share errors gets wider intervals; bad groups; the JSON and the command."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scalinglaw
from conftest import scipy_fit
from scalinglaw.cli import main
from test_bootstrap import reference_grouped, reference_indices

LAW = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def shared_error_ladder(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8 model sizes x 6 token counts; each size's runs share one error (3%), each run adds 0.2%."""
    rng = np.random.default_rng(seed)
    n, d = np.meshgrid(np.geomspace(1e7, 3e9, 8), np.geomspace(1e9, 1e12, 6), indexing="ij")
    n, d = n.ravel(), d.ravel()
    loss = LAW["E"] + LAW["A"] / n ** LAW["alpha"] + LAW["B"] / d ** LAW["beta"]
    shared = np.repeat(rng.normal(0, 0.03, 8), 6)
    return n, d, loss * np.exp(shared + rng.normal(0, 0.002, n.size))


def test_resamples_are_regenerated_from_the_seed_one_by_one(chinchilla_240, fit_240):
    r = scalinglaw.bootstrap(*chinchilla_240, n_resamples=7, seed=2024, estimate=fit_240, budgets=())
    reference = reference_indices(240, 7, 2024)
    for k in range(7):
        np.testing.assert_array_equal(r.resample_indices(k), reference[k])
        np.testing.assert_array_equal(scalinglaw.resample_indices(240, 2024, k), reference[k])
    np.testing.assert_array_equal(r.indices, reference)
    assert r.given_indices is None and r.groups is None and r.bootstrap_by is None
    # Each refit is the fit of its regenerated resample: scipy's optimum of those runs.
    n, d, loss = chinchilla_240
    for k in (0, 6):
        rows = r.resample_indices(k)
        assert r.objective[k] == pytest.approx(scipy_fit(n[rows], d[rows], loss[rows]).fun, rel=1e-9)
    with pytest.raises(ValueError, match="k must be below the 7 resamples"):
        r.resample_indices(7)


def test_one_run_per_group_is_the_ordinary_bootstrap(chinchilla_240, fit_240):
    kwargs = dict(n_resamples=12, seed=77, estimate=fit_240)
    plain = scalinglaw.bootstrap(*chinchilla_240, **kwargs)
    grouped = scalinglaw.bootstrap(*chinchilla_240, groups=np.arange(240), **kwargs)
    assert grouped.bootstrap_by == "groups" and grouped.n_groups == 240
    for key in plain.samples:
        np.testing.assert_array_equal(grouped.samples[key], plain.samples[key])
    np.testing.assert_array_equal(grouped.resample_indices(3), plain.resample_indices(3))


def test_a_grouped_resample_holds_whole_groups_only():
    n, d, loss = shared_error_ladder()
    r = scalinglaw.bootstrap(n, d, loss, n_resamples=30, seed=11, groups="N", budgets=())
    assert r.bootstrap_by == "N" and r.n_groups == 8 and r.n_converged == 30
    _, codes = np.unique(n, return_inverse=True)
    np.testing.assert_array_equal(r.groups, codes)
    lengths = set()
    for k in range(30):
        rows = r.resample_indices(k)
        np.testing.assert_array_equal(rows, reference_grouped(codes, 11, k))
        # 8 blocks of 6: each block is all the runs of one size, in input order
        assert len(rows) == 48
        blocks = rows.reshape(8, 6)
        for block in blocks:
            np.testing.assert_array_equal(block, np.flatnonzero(n == n[block[0]]))
        lengths.add(len(np.unique(n[rows])))
    assert min(lengths) < 8  # sizes are drawn with replacement
    # the refit of a resample is the fit of its runs
    rows = r.resample_indices(4)
    assert r.objective[4] == pytest.approx(scipy_fit(n[rows], d[rows], loss[rows]).fun, rel=1e-9)
    with pytest.raises(ValueError, match="differ in length"):
        _ = r.indices


def test_groups_of_unequal_size_and_text_labels():
    n, d, loss = shared_error_ladder()
    labels = np.where(n < 1e8, "small", np.where(n < 1e9, "medium", "large"))
    r = scalinglaw.bootstrap(n, d, loss, n_resamples=6, seed=3, groups=labels, budgets=(), threads=1)
    members = {name: np.flatnonzero(labels == name) for name in np.unique(labels)}
    for k in range(6):
        rows = r.resample_indices(k)
        position = 0
        while position < len(rows):  # the resample is a sequence of whole groups
            group = members[labels[rows[position]]]
            np.testing.assert_array_equal(rows[position : position + len(group)], group)
            position += len(group)
    # a column of data= by name, and the saved record says how the bootstrap was grouped
    data = {"N": n, "D": d, "loss": loss, "family": labels.tolist()}
    by_column = scalinglaw.bootstrap(data=data, n_resamples=6, seed=3, groups="family", budgets=())
    np.testing.assert_array_equal(by_column.samples["alpha"], r.samples["alpha"])
    document = json.loads(json.dumps(by_column.to_dict()))
    assert document["bootstrap_by"] == "family" and document["n_groups"] == 3
    assert "3 groups by family" in repr(by_column)


def test_shared_errors_widen_the_grouped_intervals():
    """Runs of one size that share an error are not independent draws: resampling single runs
    understates the spread, resampling sizes does not."""
    n, d, loss = shared_error_ladder()
    plain = scalinglaw.bootstrap(n, d, loss, n_resamples=200, seed=1, budgets=())
    grouped = scalinglaw.bootstrap(n, d, loss, n_resamples=200, seed=1, budgets=(), groups="N")
    assert grouped.standard_error["alpha"] > 1.3 * plain.standard_error["alpha"]


def test_grouped_bootstrap_of_another_law_and_threads():
    n, d, loss = shared_error_ladder()
    runs = dict(n_resamples=8, seed=9, groups="N", budgets=(), law="chinchilla", tied=[("alpha", "beta")])
    one = scalinglaw.bootstrap(n, d, loss, threads=1, **runs)
    two = scalinglaw.bootstrap(n, d, loss, threads=2, **runs)
    np.testing.assert_array_equal(one.samples["alpha"], two.samples["alpha"])
    np.testing.assert_array_equal(one.samples["alpha"], one.samples["beta"])
    assert one.bootstrap_by == "N" and len(one.resample_indices(0)) == 48


def test_resamples_of_a_single_size_are_named():
    """Three sizes grouped by size: a ninth of the resamples draw one size three times."""
    n, d, loss = shared_error_ladder()
    keep = n <= np.unique(n)[2]
    n, d, loss = n[keep], d[keep], loss[keep]
    with pytest.warns(scalinglaw.BootstrapWarning, match="resamples of whole groups") as caught:
        r = scalinglaw.bootstrap(n, d, loss, n_resamples=40, seed=4, groups="N", budgets=())
    single = sum(np.unique(n[r.resample_indices(k)]).size == 1 for k in range(40))
    assert single > 0
    assert f"{single} of 40 resamples of whole groups (3 groups) hold a single model size" in str(
        caught[-1].message
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none when every resample spans several sizes
        scalinglaw.bootstrap(*shared_error_ladder(), n_resamples=40, seed=4, groups="N", budgets=())


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (np.arange(5), r"one group label per run \(48\), got shape \(5,\)"),
        (np.where(np.arange(48) == 7, np.nan, 1.0), r"groups\[7\] is nan: every run needs a group"),
        ([None] + ["a"] * 47, r"groups\[0\] is None"),
        (np.zeros(48), r"at least 2 groups to resample, got 1 \(0.0 for all 48 runs\)"),
        (np.array(["a"] * 48, dtype=object), r"got 1 \('a' for all 48 runs\)"),
        ("family", "names a column, but no data="),
        (np.zeros((48, 2)), "one group label per run"),
    ],
)
def test_bad_groups_are_refused(groups, message):
    n, d, loss = shared_error_ladder()
    with pytest.raises(ValueError, match=message):
        scalinglaw.bootstrap(n, d, loss, n_resamples=3, seed=1, groups=groups)


def test_groups_with_indices_or_an_unknown_column_are_refused():
    n, d, loss = shared_error_ladder()
    with pytest.raises(ValueError, match="give groups or indices, not both"):
        scalinglaw.bootstrap(n, d, loss, n_resamples=1, indices=np.zeros((1, 48), int), groups="N")
    with pytest.raises(ValueError, match="'size' is not a column of data"):
        scalinglaw.bootstrap(data={"N": n, "D": d, "loss": loss}, n_resamples=2, seed=0, groups="size")
    with pytest.raises(ValueError, match="group number below"):
        scalinglaw.resample_indices(3, 0, 0, groups=[0, 1, 5])


@pytest.fixture
def ladder_csv(tmp_path):
    n, d, loss = shared_error_ladder()
    path = tmp_path / "ladder.csv"
    family = np.where(n < 1e8, "small", "large")
    rows = [f"{a!r},{b!r},{c!r},{f}" for a, b, c, f in zip(n.tolist(), d.tolist(), loss.tolist(), family)]
    path.write_text("N,D,loss,family\n" + "\n".join(rows) + "\n")
    return path


def test_command_bootstraps_by_model_size_or_column(ladder_csv, tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(ladder_csv), "--bootstrap", "20", "--bootstrap-by", "N", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "whole groups by N, 8 groups" in text
    document = json.loads(out.read_text())
    assert document["bootstrap"]["bootstrap_by"] == "N" and document["bootstrap"]["n_groups"] == 8
    # by a column: the same resamples as the Python call with that column's labels
    assert (
        main(["fit", str(ladder_csv), "--bootstrap", "20", "--bootstrap-by", "family", "--json", str(out)])
        == 0
    )
    document = json.loads(out.read_text())
    assert document["bootstrap"]["bootstrap_by"] == "family" and document["bootstrap"]["n_groups"] == 2
    n, d, loss = shared_error_ladder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        python = scalinglaw.bootstrap(
            n, d, loss, n_resamples=20, seed=0, groups=np.where(n < 1e8, "small", "large")
        )
    assert document["bootstrap"]["standard_error"]["alpha"] == python.standard_error["alpha"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bootstrap-by", "nope"], "--bootstrap-by"),
        (["--bootstrap", "0", "--bootstrap-by", "N"], "give --bootstrap N too"),
    ],
)
def test_command_bootstrap_by_errors_exit_2(ladder_csv, capsys, extra, message):
    assert main(["fit", str(ladder_csv), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_command_bootstrap_by_a_column_needs_a_csv(capsys):
    assert main(["fit", "--bootstrap-by", "family"]) == 2
    assert "names a column of a CSV" in capsys.readouterr().err
