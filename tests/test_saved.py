"""A saved fit carries the calibration of the predictive intervals: predictions from it are the
bootstrap's own ``predict_interval``, for every law; older documents are still read."""

import json
import math

import numpy as np
import pytest
import scalinglaw
from conftest import LADDER_LAW, synthetic_ladder
from scalinglaw import answers
from scalinglaw.cli import main
from scalinglaw.law import DataConstrained, Kaplan
from scalinglaw.saved import SCHEMA_VERSION, from_document, load_fit, saved_fields
from scalinglaw.trust import DataRange

LAW = LADDER_LAW
POINTS_N = [1e8, 1e9, 7e10, 1e12]
POINTS_D = [2e9, 2e10, 1.4e12, 2e13]


def document_of(boot, unique_tokens=None):
    usable = boot.status == "converged"
    runs = boot.runs
    return saved_fields(
        boot.estimate.law,
        options={"delta": boot.estimate.delta},
        data=DataRange.of(runs.N, runs.D),
        draws={key: boot.samples[key][usable] for key in boot.estimate.law.names()},
        confidence=boot.confidence,
        scatter=boot.scatter,
    )


def test_predict_from_the_saved_fit_is_the_bootstraps_interval(tmp_path, capsys):
    n, d, loss = synthetic_ladder()
    path = tmp_path / "runs.csv"
    path.write_text(
        "N,D,loss\n"
        + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(n.tolist(), d.tolist(), loss.tolist()))
    )
    saved = tmp_path / "fit.json"
    assert main(["fit", str(path), "--bootstrap", "60", "--seed", "0", "--json", str(saved)]) == 0
    capsys.readouterr()
    # The same fit and bootstrap in Python.
    fitted = scalinglaw.fit(n, d, loss)
    boot = scalinglaw.bootstrap(n, d, loss, n_resamples=60, seed=0, estimate=fitted)
    document = json.loads(saved.read_text())
    assert document["schema_version"] == SCHEMA_VERSION == 2
    assert document["law"]["params"] == fitted.params  # every bit
    assert document["draws"]["params"]["alpha"] == boot.samples["alpha"][boot.status == "converged"].tolist()
    scatter = document["scatter"]
    assert scatter["scale"] == boot.scatter.scale and scatter["growth"] == boot.scatter.growth
    assert (
        sorted(scatter["log_range"]) == ["C", "D", "N"] and len(scatter["inside"]) == boot.scatter.inside.size
    )
    argv = ["predict", "--fit", str(saved), "--json", "-"]
    for a, b in zip(POINTS_N, POINTS_D):
        argv += ["--n", repr(a), "--d", repr(b)]
    assert main(argv) == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    low, high = boot.predict_interval(POINTS_N, POINTS_D)
    np.testing.assert_allclose([p["loss_interval"][0] for p in predictions], low, rtol=1e-12, atol=0)
    np.testing.assert_allclose([p["loss_interval"][1] for p in predictions], high, rtol=1e-12, atol=0)
    assert all(p["interval"].startswith("predictive") for p in predictions)
    # Extrapolating points widen with the law's error growth: the interval is not the draws' alone.
    tail = 2.5
    drawn = np.log([[law.predict(7e10, 1.4e12) for law in load_fit(saved).draws]])
    parameters_only = np.exp(np.percentile(drawn, [tail, 100 - tail]))
    assert high[2] / low[2] > parameters_only[1] / parameters_only[0]


def _laws():
    kaplan = Kaplan(N_c=8.8e13, D_c=5.4e13, alpha_N=0.076, alpha_D=0.095)
    constrained = DataConstrained(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37, R_D=15.0, R_N=5.0)
    log = math.log
    starts = {  # the true law, in the coordinates of start_columns(law)
        "kaplan": [log(8.8e13), log(5.4e13), 0.076, 0.095],
        "data_constrained": [log(1.8), log(480.0), log(2100.0), 0.35, 0.37, log(15.0), log(5.0)],
    }
    return {
        "kaplan": (kaplan, starts["kaplan"]),
        "data_constrained": (constrained, starts["data_constrained"]),
    }


@pytest.mark.parametrize("name", ["kaplan", "data_constrained"])
def test_answers_from_a_saved_fit_of_any_law(name, tmp_path):
    law, start = _laws()[name]
    n, d, loss = synthetic_ladder(law=law, noise=0.005)
    unique = None
    if name == "data_constrained":
        unique = d / np.resize([1.0, 3.0, 10.0, 30.0], d.size)  # runs repeat their data 1 to 30 times
        loss = law.predict(n, d, unique) * np.exp(np.random.default_rng(2).normal(0.0, 0.005, n.size))
    fitted = scalinglaw.fit(n, d, loss, law=name, unique_tokens=unique, starts=[start])
    boot = scalinglaw.bootstrap(
        n, d, loss, law=name, unique_tokens=unique, estimate=fitted, n_resamples=40, seed=0
    )
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(document_of(boot)))
    source = load_fit(path)
    u = None if unique is None else [1e9, 4e9, 1.4e12, 2e12]
    records = answers.predict(source, POINTS_N, POINTS_D, unique_tokens=u)
    low, high = boot.predict_interval(POINTS_N, POINTS_D, unique_tokens=u)
    np.testing.assert_allclose([r["loss_interval"][0] for r in records], low, rtol=1e-12, atol=0)
    np.testing.assert_allclose([r["loss_interval"][1] for r in records], high, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def boot():
    return scalinglaw.bootstrap(*synthetic_ladder(), n_resamples=40, seed=0)


def test_a_plans_loss_interval_is_the_predictive_interval_at_its_allocation(boot):
    source = from_document(json.loads(json.dumps(document_of(boot))))
    by_budget, by_loss = answers.plan(source, C=[1e22], loss=[2.3])
    for record in (by_budget, by_loss):
        low, high = boot.predict_interval(record["N"], record["D"])
        assert record["loss_interval"] == pytest.approx([low, high], rel=1e-12)
        assert record["loss_interval_kind"].startswith("predictive")
        assert low < record["loss"] < high
    # The other intervals are still the draws' percentiles of the same answer.
    usable = boot.status == "converged"
    budgets = [law.compute_optimal(1e22).N for law in source.draws]
    assert by_budget["N_interval"] == pytest.approx(np.percentile(budgets, [2.5, 97.5]).tolist(), rel=1e-12)
    assert len(source.draws) == int(usable.sum())


def test_a_version_1_document_is_read_with_parameter_only_intervals(boot):
    document = document_of(boot)
    old = dict(document, schema_version=1, scatter=[0.01, -0.02, 0.005])  # version 1: log residuals
    with pytest.warns(scalinglaw.ScalingLawWarning, match="schema_version 1.*write the fit again"):
        source = from_document(old, "old.json")
    assert source.scatter is None and len(source.draws) == len(from_document(document).draws)
    (record,) = answers.predict(source, [1e9], [2e10])
    assert record["interval"] == "parameters only"
    tail = 50 * (1 - source.confidence)
    drawn = np.log([law.predict(1e9, 2e10) for law in source.draws])
    assert record["loss_interval"] == pytest.approx(
        np.exp(np.percentile(drawn, [tail, 100 - tail])), rel=1e-12
    )
    # A version 1 fit saved without a bootstrap means what it always did: no warning.
    plain = dict(document, schema_version=1, draws=None, scatter=None)
    assert from_document(plain).scatter is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scale": "x"}, "scatter: scale must be a finite number, got 'x'"),
        ({"growth": -1.0}, "scale and growth must be >= 0"),
        ({"inside": [0.1, math.inf]}, r"scatter: inside\[1\] must be a finite number"),
        ({"beyond": 3}, "beyond must be a list of numbers"),
        ({"log_range": {"N": [7, 9], "D": [9, 11]}}, "log_range must give"),
        ({"log_range": {"N": [7], "D": [9, 11], "C": [18, 21]}}, "log_range must give"),
    ],
)
def test_a_malformed_scatter_is_refused(boot, change, message):
    document = document_of(boot)
    document["scatter"] = {**document["scatter"], **change}
    with pytest.raises(ValueError, match=message):
        from_document(document, "fit.json")
    del document["scatter"]["inside"]
    with pytest.raises(ValueError, match=r"fit\.json: scatter: missing inside"):
        from_document(document, "fit.json")


@pytest.mark.filterwarnings("default")  # shown, as outside the tests, not raised
def test_the_command_says_a_version_1_warning_in_one_line(boot, tmp_path, capsys):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(dict(document_of(boot), schema_version=1, scatter=[0.01, -0.02])))
    assert main(["predict", "--fit", str(path), "--n", "1e9", "--d", "2e10"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "schema_version 1" in err and err.count("\n") == 1


DC_PARAMS = {"E": 1.87, "A": 520.0, "B": 1490.0, "alpha": 0.35, "beta": 0.35, "R_D": 15.4, "R_N": 5.3}


def test_a_saved_fit_with_no_decay_reads_back_as_infinity(tmp_path):
    """JSON has no infinity: a fit (or a draw) at R* = inf is written as null and read back as inf."""
    law = scalinglaw.DataConstrained(**{**DC_PARAMS, "R_D": math.inf})
    document = saved_fields(
        law,
        options={"delta": 1e-3},
        data=DataRange.of([1e9], [2e10], [1e10]),
        draws={key: [value, value] for key, value in law.params.items()},
    )
    path = tmp_path / "fit.json"
    scalinglaw.io.write_json(path, document)
    assert json.loads(path.read_text())["law"]["params"]["R_D"] is None
    source = load_fit(path)
    assert source.law.params["R_D"] == math.inf and source.law.params["R_N"] == DC_PARAMS["R_N"]
    assert all(draw.params["R_D"] == math.inf for draw in source.draws)
    assert source.law.predict(1e9, 4e10, 1e10) == law.predict(1e9, 4e10, 1e10)
