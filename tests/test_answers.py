"""plan, predict and backtest from the command line; saved fits read back answer exactly as the fit."""

import json
import math

import pytest
import scalinglaw
from conftest import saved_fit_file
from scalinglaw import answers
from scalinglaw.cli import main
from scalinglaw.saved import SavedFit, from_document, load_fit

PAPER = "E=1.69,A=406.4,B=410.7,alpha=0.336,beta=0.283"


def run_json(capsys, *argv):
    status = main([*argv, "--json", "-"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out), captured.err


def test_plan_with_inference_tokens_reproduces_sardana(capsys):
    document, text = run_json(
        capsys, "plan", "--params", PAPER, "--target-loss", "1.947", "--inference-tokens", "2e12"
    )
    (answer,) = document["answers"]
    assert answer["N"] == pytest.approx(2.41836e10, rel=5e-6)
    assert answer["D"] == pytest.approx(2.65705e12, rel=5e-6)
    assert round(100 * answer["N_ratio"], 2) == 70.96
    assert round(100 * answer["D_ratio"], 2) == 146.77
    assert round(100 * answer["flops_ratio"], 2) == 95.22
    assert "70.96% of the compute-optimal" in text  # the text went to stderr, the JSON alone to stdout


def test_plan_answers_equal_the_law(capsys):
    law = scalinglaw.Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    document, _ = run_json(
        capsys, "plan", "--params", PAPER, "--flops", "1e23", "--target-loss", "2.0", "--n", "7e10"
    )
    by_question = {a["question"]: a for a in document["answers"]}
    assert by_question["C"]["N"] == float(law.compute_optimal(1e23).N)
    assert by_question["C"]["given"] == 1e23  # as the user wrote it
    assert by_question["loss"]["C"] == float(law.budget_for_loss(2.0).C)
    assert by_question["N"]["D"] == float(law.optimal_for_size(7e10).D)
    assert all(a["warnings"] == [] and a["extrapolation"] is None for a in document["answers"])


def test_predict_at_published_parameters(capsys):
    document, _ = run_json(
        capsys, "predict", "--params", PAPER, "--n", "7e10", "--d", "1.4e12", "--n", "1e9", "--d", "2e10"
    )
    expected = [1.69 + 406.4 * n**-0.336 + 410.7 * d**-0.283 for n, d in ((7e10, 1.4e12), (1e9, 2e10))]
    assert [p["loss"] for p in document["predictions"]] == pytest.approx(expected, rel=1e-14)


@pytest.fixture(scope="module")
def saved(chinchilla_240, fit_240, tmp_path_factory):
    """A saved fit with bootstrap draws and scatter, written and read back."""
    n, d, loss = chinchilla_240
    boot = scalinglaw.bootstrap(n, d, loss, n_resamples=200, seed=0, estimate=fit_240)
    path = saved_fit_file(n, d, fit_240, boot, tmp_path_factory.mktemp("saved"))
    return path, boot


def test_a_saved_fit_answers_exactly_as_the_fit(saved, fit_240, capsys):
    path, boot = saved
    loaded = load_fit(path)
    assert loaded.law.params == fit_240.params  # every bit
    assert len(loaded.draws) == int((boot.status == "converged").sum())
    document, _ = run_json(capsys, "plan", "--fit", str(path), "--flops", "5.76e23")
    (answer,) = document["answers"]
    assert answer["N"] == float(fit_240.compute_optimal(5.76e23).N)
    assert answer["N_interval"] == pytest.approx(boot.interval["N_opt"][0].tolist(), rel=1e-12)
    assert answer["extrapolation"] == pytest.approx(44.46, abs=0.01) and answer["warnings"] == []
    far, _ = run_json(capsys, "plan", "--fit", str(path), "--flops", "3.8e25")
    assert any("far outside the data" in w for w in far["answers"][0]["warnings"])
    predicted, _ = run_json(capsys, "predict", "--fit", str(path), "--n", "7e10", "--d", "1.4e12")
    (row,) = predicted["predictions"]
    assert row["loss"] == pytest.approx(float(fit_240.predict(7e10, 1.4e12)), rel=1e-12)
    low, high = row["loss_interval"]
    assert low < row["loss"] < high and row["interval"].startswith("predictive")


def test_intervals_over_draws_skip_draws_without_an_answer(saved):
    source = load_fit(saved[0])
    highest_E = max(law.E for law in source.draws)
    (answer,) = answers.plan(source, loss=[(source.law.E + highest_E) / 2])
    assert answer["undefined_draws"] > 0  # draws whose E is above the target cannot reach it


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--flops", "1e23"], "give --fit PATH"),
        (["plan", "--params", PAPER, "--fit", "x.json", "--flops", "1e23"], "not both"),
        (["plan", "--params", PAPER], "ask for at least one answer"),
        (["plan", "--params", "E=1.69,A=406.4", "--flops", "1e23"], "missing B, alpha, beta"),
        (["plan", "--params", PAPER + ",gamma=1", "--flops", "1e23"], "'gamma=1' is not NAME=VALUE"),
        (
            ["plan", "--params", "E=x,A=406.4,B=410.7,alpha=0.336,beta=0.283", "--flops", "1e23"],
            "E = 'x' is not a number",
        ),
        (["plan", "--params", PAPER, "--law", "gpt", "--flops", "1e23"], "--law must be one of chinchilla"),
        (["plan", "--params", PAPER, "--law", "kaplan", "--flops", "1e23"], "NAME one of N_c, D_c, alpha_N"),
        (["plan", "--params", PAPER, "--flops", "-1"], "--flops must be a finite number > 0"),
        (["plan", "--params", PAPER, "--n", "7e10", "--inference-tokens", "1e12"], "not N"),
        (["plan", "--params", PAPER, "--target-loss", "1.5"], "not above E"),
        (["plan", "--fit", "/nonexistent/fit.json", "--flops", "1e23"], "no such file"),
        (["predict", "--params", PAPER, "--n", "7e10"], "in pairs"),
        (["backtest", "--split", "time:0.5"], "split 'time:0.5' is not one of"),
        (["backtest", "--compare", "gamma=2"], "'gamma=2' is not a setting"),
        (["backtest", "--bootstrap", "1"], "at least 2 resamples"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_files_that_are_no_saved_fit(tmp_path):
    not_json = tmp_path / "a.json"
    not_json.write_text("E=1.69")
    with pytest.raises(ValueError, match="not JSON"):
        load_fit(not_json)
    with pytest.raises(ValueError, match="no schema_version"):
        from_document({"E": 1.69})
    with pytest.raises(ValueError, match="schema_version 99"):
        from_document({"schema_version": 99})
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        from_document(
            {
                "schema_version": 1,
                "law": {"name": "chinchilla", "params": {"E": 1, "A": 1, "B": 1, "alpha": "x", "beta": 1}},
            }
        )
    published = SavedFit.published(
        "chinchilla", {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.336, "beta": 0.283}
    )
    assert published.draws == () and published.data is None and math.isclose(published.law.E, 1.69)


def test_backtest_command_on_the_built_in_data(capsys, tmp_path):
    document, text = run_json(
        capsys, "backtest", "--compare", "delta=0.1", "--plot", str(tmp_path / "bt.png")
    )
    assert document["ranking"][0] in ("delta=0.001", "delta=0.1") and len(document["ranking"]) == 2
    splits = document["settings"]["delta=0.001"]["splits"]
    assert [s["name"] for s in splits] == ["compute:0.5", "compute:0.7", "compute:0.8", "size:0.5", "largest"]
    assert all("coverage" in s and s["plans"][0]["C"] == 5.76e23 for s in splits)
    assert "Ranked by held-out error" in text and (tmp_path / "bt.png").stat().st_size > 0
