"""The CLI's law options: --law, --fix, --tie, --weight, --unique-tokens, in the summary and JSON."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main


def test_kaplan_with_tied_exponents_names_the_law_in_summary_and_json(tmp_path, capsys, chinchilla_240):
    out = tmp_path / "fit.json"
    assert (
        main(["fit", "--law", "kaplan", "--tie", "alpha_N=alpha_D", "--json", str(out), "--threads", "1"])
        == 0
    )
    text = capsys.readouterr().out
    assert "the kaplan law, L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D" in text
    assert "(tied to alpha_N)" in text
    document = json.loads(out.read_text())["fit"]
    expected = scalinglaw.fit(*chinchilla_240, law="kaplan", tied=[("alpha_N", "alpha_D")])
    assert document["law"] == "kaplan" and document["tied"] == [["alpha_N", "alpha_D"]]
    assert document["alpha_N"] == document["alpha_D"] == expected.law.alpha_N
    assert document["objective"] == expected.objective


def test_fixed_parameter_and_weight_column(tmp_path, capsys, chinchilla_240):
    n, d, loss = chinchilla_240
    weights = np.random.default_rng(1).integers(1, 4, len(n))
    path = tmp_path / "runs.csv"
    path.write_text(
        "N,D,loss,w\n"
        + "".join(
            f"{float(a)!r},{float(b)!r},{float(c)!r},{int(w)}\n" for a, b, c, w in zip(n, d, loss, weights)
        )
    )
    out = tmp_path / "fit.json"
    argv = ["fit", str(path), "--fix", "E=1.69", "--weight", "w", "--json", str(out), "--threads", "1"]
    assert main(argv) == 0
    assert "(fixed)" in capsys.readouterr().out
    document = json.loads(out.read_text())["fit"]
    expected = scalinglaw.fit(n, d, loss, fixed={"E": 1.69}, weights=weights.astype(float))
    assert document["E"] == 1.69 and document["fixed"] == {"E": 1.69} and document["weighted"]
    assert document["objective"] == pytest.approx(expected.objective, rel=1e-12)


def test_unique_tokens_column_is_recognised(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss,U_D\n1e8,1e10,3.1,1e9\n2e8,2e10,2.9,2e10\n")
    runs = scalinglaw.read_csv(path)
    assert runs.unique_tokens is not None and runs.unique_tokens.tolist() == [1e9, 2e10]
    assert runs.columns["unique_tokens"] == "U_D"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "--law", "data_constrained"], "needs the unique tokens"),
        (["fit", "--fix", "F=1"], "unknown parameter 'F'"),
        (["fit", "--fix", "E"], "--fix must be NAME=VALUE"),
        (["fit", "--tie", "alpha=alpha"], "with itself"),
        (["fit", "--tie", "alpha"], "--tie must be NAME=NAME"),
        (["fit", "--weight", "w"], "give the CSV too"),
        (
            ["fit", "--law", "kaplan", "--unique-token-budget", "1e10", "--plot", "f.png"],
            "--law data_constrained",
        ),
        (["fit", "--unique-token-budget", "1e10"], "give --law data_constrained and --plot"),
        (
            ["fit", "--law", "data_constrained", "--plot", "f.png", "--unique-token-budget", "-1"],
            "--unique-token-budget must be finite and > 0",
        ),
    ],
)
def test_law_option_errors_print_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_group_fits_take_the_law_options(tmp_path, capsys, chinchilla_240):
    n, d, loss = chinchilla_240
    path = tmp_path / "runs.csv"
    rows = [
        f"{float(a)!r},{float(b)!r},{float(c)!r},{'ab'[i % 2]}\n"
        for i, (a, b, c) in enumerate(zip(n, d, loss))
    ]
    path.write_text("N,D,loss,corpus\n" + "".join(rows))
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--group", "corpus", "--tie", "alpha=beta", "--json", str(out)]) == 0
    capsys.readouterr()
    document = json.loads(out.read_text())
    for name, keep in (("a", slice(0, None, 2)), ("b", slice(1, None, 2))):
        fitted = document["groups"][name]["fit"]
        expected = scalinglaw.fit(n[keep], d[keep], loss[keep], tied=[("alpha", "beta")])
        assert fitted["tied"] == [["alpha", "beta"]] and fitted["objective"] == expected.objective


def test_fix_takes_a_comma_separated_list_as_the_paper_gives_its_base(tmp_path, capsys):
    # Muennighoff et al.'s 182 runs with their C4 base pinned, as the README shows.
    path = str(pathlib.Path(__file__).parent / "data" / "muennighoff_c4.csv")
    base = {"E": 1.869, "A": 520.5, "B": 1487.0, "alpha": 0.3527, "beta": 0.3527}
    out = tmp_path / "fit.json"
    fix = ",".join(f"{k}={v}" for k, v in base.items())
    argv = ["fit", path, "--law", "data_constrained", "--fix", fix, "--bootstrap", "0", "--json", str(out)]
    with pytest.warns(scalinglaw.IllConditionedWarning, match="R_[DN] is poorly determined"):
        assert main(argv) == 0
        runs = scalinglaw.read_csv(path)
        expected = scalinglaw.fit(data=runs, law="data_constrained", fixed=base)
    document = json.loads(out.read_text())["fit"]
    assert document["fixed"] == base
    assert document["objective"] == pytest.approx(expected.objective, rel=1e-12)
    assert document["R_D"] == pytest.approx(expected.law.R_D, rel=1e-9)
