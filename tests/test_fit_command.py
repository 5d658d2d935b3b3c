"""The fit command's record: a saved fit that plan and predict answer from exactly, plans with their
intervals and checks in their own records, goodness of fit, a bootstrap by default."""

import json

import pytest
from scalinglaw.cli import DEFAULT_RESAMPLES, main


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    assert main(["fit", "--seed", "0", "--budget", "1e18", "--budget", "3.8e25", "--json", str(path)]) == 0
    return path, json.loads(path.read_text())


def answer(capsys, *argv):
    assert main([*argv, "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_and_predict_from_a_saved_fit_equal_the_fit(saved, fit_240, capsys):
    path, _ = saved
    (plan,) = answer(capsys, "plan", "--fit", str(path), "--flops", "5.76e23")["answers"]
    assert plan["N"] == float(fit_240.compute_optimal(5.76e23).N)  # exactly: 73.19B on the built-in data
    assert f"{plan['N']:.4g}" == "7.319e+10"
    (row,) = answer(capsys, "predict", "--fit", str(path), "--n", "7e10", "--d", "1.4e12")["predictions"]
    assert row["loss"] == pytest.approx(float(fit_240.predict(7e10, 1.4e12)), rel=1e-12)


def test_the_record_is_a_versioned_self_describing_saved_fit(saved, fit_240):
    _, document = saved
    assert document["schema_version"] == 2
    assert document["law"]["name"] == "chinchilla" and document["law"]["params"] == fit_240.params
    assert set(document["units"]) == {"N", "D", "C", "loss"}
    assert document["data"]["columns"] and document["data_range"]["C"][1] == pytest.approx(1.3e22, rel=0.01)
    assert len(document["draws"]["params"]["alpha"]) == document["bootstrap"]["n_converged"]
    assert document["bootstrap"]["n_resamples"] == DEFAULT_RESAMPLES  # a bootstrap by default
    assert all(set(start) == {"a", "b", "e", "alpha", "beta"} for start in document["bootstrap"]["starts"])
    assert {"rms_log_residual", "are_max", "worst", "outliers"} <= set(document["goodness"])


def test_each_budget_carries_its_interval_checks_and_warnings(saved, capsys):
    path, document = saved
    text = path.read_text()
    assert '"C": 1e+18' in text  # the budget as the user wrote it, not 9.999999999999986e+17
    rows = {row["C"]: row for row in document["budgets"]}
    gopher, small, far = rows[5.76e23], rows[1e18], rows[3.8e25]
    low, high = gopher["interval"]["N_opt"]
    assert low < gopher["N_opt"] < high and gopher["warnings"] == []
    assert gopher["checks"]["extrapolation"] == pytest.approx(44.46, abs=0.01)
    assert "delta = 0.1" in gopher["checks"]["sensitivity"]
    assert any("far outside the data" in warning for warning in far["warnings"])
    assert small["checks"]["extrapolation"] < 1
    pandas = pytest.importorskip("pandas")
    table = pandas.json_normalize(document["budgets"])
    assert len(table) == 3 and "interval.N_opt" in table.columns


def test_bootstrap_zero_turns_it_off(tmp_path, capsys):
    path = tmp_path / "fit.json"
    assert main(["fit", "--bootstrap", "0", "--json", str(path)]) == 0
    document = json.loads(path.read_text())
    assert document["bootstrap"] is None and document["draws"] is None
    assert document["budgets"][0]["interval"] is None and "Bootstrap:" not in capsys.readouterr().out


def test_json_to_standard_output_alone(capsys):
    assert main(["fit", "--bootstrap", "0", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["schema_version"] == 2  # nothing but the JSON on stdout
    assert captured.err.startswith("scalinglaw ") and "Compute-optimal frontier" in captured.err


def test_the_residual_figure(tmp_path, capsys):
    path = tmp_path / "residuals.svg"
    assert main(["fit", "--bootstrap", "0", "--diagnostics", str(path)]) == 0
    assert "<svg" in path.read_text() and "Residual figure written to" in capsys.readouterr().out
    assert main(["fit", "--bootstrap", "0", "--diagnostics", str(tmp_path / "r.txt")]) == 2
    assert "--diagnostics must name a .png, .pdf or .svg file" in capsys.readouterr().err
