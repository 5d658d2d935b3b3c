"""Groups of runs (corpora) fitted apart: --group and fit_groups give each group the fit it has alone,
bit for bit, side by side in the summary, the JSON and the figures; without --group, a file whose runs
of one model size come from a few corpora is warned about."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main

#: Three corpora, each with its own law (E, A, B, alpha, beta).
LAWS = {
    "web": (1.8, 480.0, 2100.0, 0.34, 0.37),
    "code": (1.2, 300.0, 900.0, 0.30, 0.30),
    "books": (2.1, 600.0, 3000.0, 0.36, 0.40),
}
SIZES = np.geomspace(5e7, 5e9, 6)
TOKENS_PER_PARAM = np.geomspace(2.0, 80.0, 5)


def corpus_rows(name: str, seed: int) -> list[tuple[float, float, float]]:
    E, A, B, alpha, beta = LAWS[name]
    noise = np.random.default_rng(seed).normal(0.0, 0.01, len(SIZES) * len(TOKENS_PER_PARAM))
    rows = [(n, n * t) for n in SIZES for t in TOKENS_PER_PARAM]
    return [
        (float(n), float(d), float((E + A / n**alpha + B / d**beta) * np.exp(e)))
        for (n, d), e in zip(rows, noise)
    ]


ROWS = {name: corpus_rows(name, seed) for seed, name in enumerate(LAWS)}


def write(path: Path, corpora: list[str], *, header: str = "corpus,N,D,loss") -> Path:
    # Interleaved, as an export sorted by model size would be.
    lines = [
        f"{name},{n!r},{d!r},{loss!r}"
        for i in range(len(ROWS["web"]))
        for name in corpora
        for n, d, loss in [ROWS[name][i]]
    ]
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, scalinglaw.FitResult]:
    """Each corpus fitted from a file of its own runs only."""
    folder = tmp_path_factory.mktemp("alone")
    return {
        name: scalinglaw.fit(*scalinglaw.read_csv(write(folder / f"{name}.csv", [name]))) for name in LAWS
    }


def test_three_corpora_give_three_fits_equal_to_each_alone(tmp_path, alone, capsys):
    path = write(tmp_path / "runs.csv", list(LAWS))
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--group", "corpus", "--bootstrap", "0", "--json", str(out)]) == 0
    printed = capsys.readouterr()
    assert "warning" not in printed.err
    document = json.loads(out.read_text())
    assert document["group"] == "corpus" and list(document["groups"]) == list(LAWS)
    for name, each in document["groups"].items():
        expected = alone[name]
        # JSON keeps every double exactly (shortest repr), so equality here is bit for bit.
        assert {key: each["fit"][key] for key in expected.params} == expected.params
        assert each["fit"]["objective"] == expected.objective
        assert each["data"]["n_runs"] == 30 and each["data"]["columns"]["group"] == "corpus"
        assert each["data"]["source"] == f"{path} [corpus = {name}]"
    # The laws differ: pooling them would have been wrong.
    assert len({round(fit.alpha, 3) for fit in alone.values()}) == 3


def test_fit_groups_equals_each_alone_from_a_file_and_a_dataframe(tmp_path, alone):
    path = write(tmp_path / "runs.csv", list(LAWS))
    from_file = scalinglaw.fit_groups(path, group="corpus")
    assert list(from_file) == list(LAWS) and from_file.column == "corpus"
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(path)
    from_frame = scalinglaw.fit_groups(frame, group="corpus", N="N", D="D", loss="loss")
    split = scalinglaw.read_csv(path, group="corpus")
    from_split = scalinglaw.fit_groups(split)
    for fits in (from_file, from_frame, from_split):
        for name, expected in alone.items():
            assert fits[name].params == expected.params
            assert fits[name].objective == expected.objective
    table = from_file.to_frame()
    assert list(table.index) == list(LAWS) and table.index.name == "corpus"
    assert table.loc["code", "alpha"] == alone["code"].alpha


def test_the_summary_puts_the_groups_side_by_side_as_fit_groups_does(tmp_path, capsys):
    path = write(tmp_path / "runs.csv", list(LAWS))
    assert main(["fit", str(path), "--group", "corpus", "--bootstrap", "0", "--budget", "1e22"]) == 0
    printed = capsys.readouterr().out
    fits = scalinglaw.fit_groups(path, group="corpus")
    assert printed == fits.summary(budgets=[1e22]) + "\n"
    lines = printed.splitlines()
    assert "3 values of column 'corpus', each fitted apart" in lines[1]
    header = next(line for line in lines if line.split() == list(LAWS))
    alpha = next(line for line in lines if line.split()[:1] == ["alpha"])
    assert header.index("books") < alpha.index(f"{fits['books'].alpha:.6g}") + 12
    for name in LAWS:
        assert f"== corpus = {name} ==" in printed
        assert fits[name].summary(budgets=[1e22]) in printed
    html = fits._repr_html_()
    assert html.count("<details>") == 3 and "&#x27;corpus&#x27;" in html


def test_one_figure_per_group(tmp_path, capsys):
    path = write(tmp_path / "runs.csv", list(LAWS))
    assert main(["fit", str(path), "--group", "corpus", "--plot", str(tmp_path / "fig.png")]) == 0
    for name in LAWS:
        assert (tmp_path / f"fig-{name}.png").stat().st_size > 0
    assert "Figure 4 of corpus = web written to" in capsys.readouterr().out


def test_group_paths_are_safe_and_distinct():
    from scalinglaw.plot_groups import group_paths

    paths = group_paths("out/fig.pdf", ["a b", "a_b", "../x", ""])
    assert paths == {
        "a b": "out/fig-a_b.pdf",
        "a_b": "out/fig-a_b-2.pdf",
        "../x": "out/fig-x.pdf",
        "": "out/fig-group.pdf",
    }


def test_pooled_corpora_are_warned_about_without_group(tmp_path, capsys):
    path = write(tmp_path / "runs.csv", list(LAWS))
    with pytest.warns(scalinglaw.PooledGroupsWarning) as caught:
        scalinglaw.read_csv(path)
    message = str(caught[0].message)
    assert "column 'corpus' has 3 values ('web' (30 runs), 'code' (30 runs), 'books' (30 runs))" in message
    assert "--group 'corpus'" in message
    assert main(["fit", str(path)]) == 0
    assert "warning: " in capsys.readouterr().err


def test_a_column_naming_the_models_is_no_group(tmp_path):
    # One name per model size (a W&B run's model name), and one corpus for all: nothing is pooled.
    rows = ROWS["web"]
    lines = [f"model-{int(n)},the_pile,{n!r},{d!r},{loss!r}" for n, d, loss in rows]
    path = tmp_path / "runs.csv"
    path.write_text("name,corpus,N,D,loss\n" + "\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalinglaw.read_csv(path)


def test_pooled_corpora_in_a_dataframe_are_warned_about(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(write(tmp_path / "runs.csv", ["web", "code"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scalinglaw.fit(data=frame)  # pooled, the law is also ill-conditioned
    pooled = [w for w in caught if w.category is scalinglaw.PooledGroupsWarning]
    assert len(pooled) == 1 and "column 'corpus' has 2 values" in str(pooled[0].message)
    assert not [w for w in caught if w.category is scalinglaw.RepeatedRunsWarning]


def test_bad_groups_are_named(tmp_path, capsys):
    path = write(tmp_path / "runs.csv", list(LAWS))
    text = path.read_text().splitlines()
    text[4] = "," + text[4].split(",", 1)[1]  # row 5: no corpus
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="column 'corpus', row 5: empty"):
        scalinglaw.read_csv(path, group="corpus")
    with pytest.warns(scalinglaw.SkippedRowsWarning):
        split = scalinglaw.read_csv(path, group="corpus", on_bad_row="skip")
    assert sum(len(runs) for runs in split.values()) == 89
    with pytest.raises(ValueError, match="group='dataset': no such column"):
        scalinglaw.read_csv(path, group="dataset")
    with pytest.raises(ValueError, match="group='loss' is a column read as"):
        scalinglaw.read_csv(path, group="loss")
    assert main(["fit", "--group", "corpus"]) == 2
    assert "give the CSV too" in capsys.readouterr().err
    small = tmp_path / "small.csv"
    small.write_text(
        path.read_text().splitlines()[0] + "\n" + "\n".join(path.read_text().splitlines()[1:4]) + "\n"
    )
    assert main(["fit", str(small), "--group", "corpus"]) == 2
    assert "--group corpus = 'web': the fit needs at least 5 runs" in capsys.readouterr().err


def test_groups_with_bootstrap_report_each_groups_intervals(tmp_path, capsys):
    path = write(tmp_path / "runs.csv", ["web", "code"])
    out = tmp_path / "fit.json"
    assert (
        main(["fit", str(path), "--group", "corpus", "--bootstrap", "8", "--seed", "3", "--json", str(out)])
        == 0
    )
    document = json.loads(out.read_text())
    for name in ("web", "code"):
        boot = document["groups"][name]["bootstrap"]
        assert boot["n_resamples"] == 8 and boot["seed"] == 3
        runs = scalinglaw.read_csv(path, group="corpus")[name]
        alone = scalinglaw.bootstrap(data=runs, n_resamples=8, seed=3)
        assert boot["standard_error"]["alpha"] == alone.standard_error["alpha"]


def test_fit_groups_names_the_group_that_fails_and_refuses_mixed_arguments(tmp_path):
    split = scalinglaw.read_csv(write(tmp_path / "runs.csv", list(LAWS)), group="corpus")
    split["tiny"] = split["web"].subset(slice(0, 3))
    with pytest.raises(ValueError, match="group 'tiny' of column 'corpus': the fit needs at least 5 runs"):
        scalinglaw.fit_groups(split)
    with pytest.raises(ValueError, match="leave out group="):
        scalinglaw.fit_groups(split, group="corpus")
    with pytest.raises(ValueError, match="group= must name the column"):
        scalinglaw.fit_groups({"N": [1.0], "D": [2.0], "loss": [3.0]})
