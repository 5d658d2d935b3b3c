"""The notebook front door: fit(data=df, N=..., D=... or C=..., loss=...), the NaN policy naming rows by
their index labels, summary() equal to the command's, the HTML display, to_frame() with and without
pandas."""

from __future__ import annotations

import subprocess
import sys
import warnings
from html import escape

import numpy as np
import pytest
import scalinglaw
from scalinglaw.cli import main

pd = pytest.importorskip("pandas")  # in the [test] extra; optional at run time

RUNS = scalinglaw.load_chinchilla()


@pytest.fixture(scope="module")
def reference() -> scalinglaw.FitResult:
    return scalinglaw.fit(*RUNS)


def frame(**columns) -> pd.DataFrame:
    data = {"params": RUNS.N, "tokens": RUNS.D, "loss": RUNS.loss, **columns}
    return pd.DataFrame(data, index=[f"run-{i}" for i in range(len(RUNS))])


def test_a_dataframe_fits_like_the_arrays(reference):
    df = frame()
    by_name = scalinglaw.fit(data=df, N="params", D="tokens", loss="loss")
    recognised = scalinglaw.fit(data=df)  # params, tokens, loss: recognised as read_csv does
    plain_dict = scalinglaw.fit(data={"N": list(RUNS.N), "D": RUNS.D, "loss": RUNS.loss})
    for result in (by_name, recognised, plain_dict):
        assert result.params == reference.params and result.objective == reference.objective
    assert by_name.data is not None and by_name.data.columns == {"N": "params", "D": "tokens", "loss": "loss"}
    assert by_name.data.source == "DataFrame"


def test_flops_instead_of_tokens(reference):
    flops = 6.0 * RUNS.N * RUNS.D
    result = scalinglaw.fit(data=frame(flops=flops).drop(columns="tokens"), N="params", C="flops")
    expected = scalinglaw.fit(RUNS.N, flops / (6.0 * RUNS.N), RUNS.loss)
    assert result.params == expected.params
    assert scalinglaw.fit(RUNS.N, C=flops, loss=RUNS.loss).params == expected.params
    np.testing.assert_allclose(result.law.params["alpha"], reference.alpha, rtol=1e-6)
    with pytest.raises(ValueError, match=r"give D= \(tokens\) or C= \(FLOPs\), not both"):
        scalinglaw.fit(data=frame(flops=flops), D="tokens", C="flops")


def test_a_missing_value_is_named_by_its_index_label():
    df = frame()
    df.loc["run-7", "loss"] = np.nan
    df.loc["run-9", "params"] = np.nan
    with pytest.raises(ValueError) as error:
        scalinglaw.fit(data=df, N="params", D="tokens", loss="loss")
    message = str(error.value)
    assert "2 of 240 rows have a missing value (NaN): row 'run-7' ('loss'); row 'run-9' ('params')" in message
    assert "nan_policy='omit'" in message


def test_omit_leaves_out_the_rows_and_names_them(reference):
    df = frame()
    df.loc["run-7", "loss"] = np.nan
    with pytest.warns(
        scalinglaw.SkippedRowsWarning, match=r"left out 1 of 240 rows .*row 'run-7' \('loss'\)"
    ):
        result = scalinglaw.fit(data=df, nan_policy="omit")
    kept = np.arange(len(RUNS)) != 7
    assert result.params == scalinglaw.fit(RUNS.N[kept], RUNS.D[kept], RUNS.loss[kept]).params
    assert result.data is not None and "row 'run-7'" in result.data.notes[0]
    assert "row 'run-7'" in result.summary()
    # Arrays too: positions name the rows.
    loss = RUNS.loss.copy()
    loss[7] = np.nan
    with pytest.warns(scalinglaw.SkippedRowsWarning, match=r"row 7 \('loss'\)"):
        assert scalinglaw.fit(RUNS.N, RUNS.D, loss, nan_policy="omit").params == result.params
    with pytest.raises(ValueError, match="nan_policy must be 'raise' or 'omit', got 'drop'"):
        scalinglaw.fit(data=df, nan_policy="drop")


def test_nullable_and_object_columns_count_none_and_na_as_missing():
    df = frame()
    df["params"] = df["params"].astype("Float64")
    df.loc["run-3", "params"] = pd.NA
    with pytest.raises(ValueError, match=r"row 'run-3' \('params'\)"):
        scalinglaw.fit(data=df)
    losses = [None if i == 5 else value for i, value in enumerate(RUNS.loss.tolist())]
    with pytest.raises(ValueError, match=r"row 5 \('loss'\)"):
        scalinglaw.fit(data={"N": RUNS.N, "D": RUNS.D, "loss": losses})


def test_bad_values_and_columns_are_named():
    df = frame()
    df.loc["run-4", "tokens"] = -1.0
    with pytest.raises(ValueError, match=r"column 'tokens', row 'run-4': -1.0 is not > 0"):
        scalinglaw.fit(data=df)
    with pytest.raises(ValueError, match=r"no column 'size' for N="):
        scalinglaw.fit(data=frame(), N="size")
    text = frame(loss=[*RUNS.loss[:5].tolist(), "low", *RUNS.loss[6:].tolist()])
    with pytest.raises(ValueError, match=r"column 'loss', row 'run-5': 'low' is not a number"):
        scalinglaw.fit(data=text)
    with pytest.raises(ValueError, match=r"column 'loss', row 'run-5': 'low' is not a number"):
        scalinglaw.fit(data=text.astype({"loss": "string"}))
    with pytest.raises(ValueError, match=r"column 'N', row 1: 'x' is not a number"):
        scalinglaw.fit(data={"N": [1.0, "x"], "D": [1.0, 2.0], "loss": [2.0, 2.0]})
    with pytest.raises(ValueError, match="data must be a pandas DataFrame or a mapping"):
        scalinglaw.fit(data=[1, 2, 3])


def test_text_cells_are_read_as_read_csv_reads_them():
    # Columns pandas left as text: plain numbers, and SI suffixes for sizes and tokens.
    sizes = [f"{n / 1e9!r}B" for n in RUNS.N.tolist()]
    result = scalinglaw.fit(data=frame(params=sizes, loss=[repr(x) for x in RUNS.loss.tolist()]))
    assert result.data is not None
    np.testing.assert_allclose(result.data.N, RUNS.N, rtol=1e-15)
    np.testing.assert_array_equal(result.data.loss, RUNS.loss)


def test_bootstrap_takes_a_dataframe_too():
    df = frame()
    from_frame = scalinglaw.bootstrap(data=df, n_resamples=4, seed=1)
    from_arrays = scalinglaw.bootstrap(*RUNS, n_resamples=4, seed=1)
    assert from_frame.standard_error["alpha"] == from_arrays.standard_error["alpha"]
    assert from_frame.estimate.data is not None and from_frame.estimate.data.source == "DataFrame"


def test_summary_equals_the_commands(capsys):
    assert main(["fit", "--bootstrap", "0"]) == 0
    printed = capsys.readouterr().out
    assert printed == scalinglaw.fit(data=RUNS).summary() + "\n"


def test_summary_equals_the_commands_for_a_file_and_budgets(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text(
        "params,tokens,loss\n"
        + "".join(f"{n!r},{d!r},{loss!r}\n" for n, d, loss in zip(*map(np.ndarray.tolist, RUNS)))
    )
    assert main(["fit", str(path), "--bootstrap", "0", "--budget", "1e22", "--budget", "3e24"]) == 0
    printed = capsys.readouterr().out
    result = scalinglaw.fit(data=scalinglaw.read_csv(path))
    assert printed == result.summary(budgets=[1e22, 3e24]) + "\n"
    assert f"Data:  {path}: 240 runs" in printed and "columns: N 'params'" in printed


def test_a_bootstraps_summary_equals_the_commands(capsys):
    assert main(["fit", "--bootstrap", "6", "--seed", "5", "--budget", "1e22"]) == 0
    printed = capsys.readouterr().out
    with pytest.warns(scalinglaw.BudgetGroupingWarning):  # which the command's summary says itself
        boot = scalinglaw.bootstrap(
            data=RUNS,
            n_resamples=6,
            seed=5,
            budgets=[scalinglaw.GOPHER_FLOPS, 1e22],
            isoflop_budgets=RUNS.budgets,
        )
    assert printed == boot.summary() + "\n"
    assert "Bootstrap: 6 resamples (seed 5)" in printed


def test_html_shows_parameters_plans_warnings_and_is_escaped():
    runs = scalinglaw.Runs(*RUNS, source="<script>alert(1)</script>")
    html = scalinglaw.fit(data=runs)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for text in ("alpha", "0.34731", "Gopher 5.76e+23", "73.2B", "Approach 2"):
        assert text in html
    # A fit with problems shows them as warnings.
    n = np.geomspace(1e8, 1e10, 12)
    d = np.tile([1e10, 3e10, 1e11], 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalinglaw.IllConditionedWarning)
        starts = [[6.0, 7.0, 0.5, -0.2, 0.3], [0.0, 7.0, 0.4, 0.3, 0.3]]
        bad = scalinglaw.fit(n, d, 1.5 + 1e-4 * n**0.2 + 300 / d**0.3, starts=starts)
    assert bad.problems and "<b>Warnings</b>" in bad._repr_html_()
    assert escape(bad.problems[0]) in bad._repr_html_()


def test_a_bootstraps_html_has_intervals_and_its_failures(reference):
    boot = scalinglaw.bootstrap(*RUNS, n_resamples=4, seed=0, budgets=[1e21])
    html = boot._repr_html_()
    assert "std. error" in html and "95% interval" in html and "4 resamples (seed 0)" in html
    assert f"{boot.standard_error['alpha']:.4g}" in html and "<b>Warnings</b>" not in html
    with pytest.warns(scalinglaw.BootstrapWarning):
        stopped = scalinglaw.bootstrap(
            *RUNS, n_resamples=3, seed=0, starts=[[0, 0, 0, 0, 0]], max_iterations=2, estimate=reference
        )  # the full-data fit is given; the refits alone stop early
    assert "3 of 3 resamples did not converge" in stopped._repr_html_()


def test_to_frame():
    result = scalinglaw.fit(data=RUNS)
    table = result.to_frame()
    assert list(table.index) == ["E", "A", "B", "alpha", "beta"]
    assert table.loc["alpha", "estimate"] == result.alpha
    boot = scalinglaw.bootstrap(*RUNS, n_resamples=4, seed=0, estimate=result)
    table = boot.to_frame()
    assert list(table.columns) == ["estimate", "standard_error", "low", "high"]
    assert table.loc["alpha", "standard_error"] == boot.standard_error["alpha"]
    assert table.loc["N_opt at C=5.76e+23", "low"] == boot.interval["N_opt"][0][0]


def test_to_frame_without_pandas_says_how_to_install_it(monkeypatch):
    result = scalinglaw.fit(data=RUNS)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ValueError, match="pip install pandas"):
        result.to_frame()
    assert "alpha" in result.summary() and "alpha" in result._repr_html_()


def test_pandas_is_not_imported_unless_used():
    code = (
        "import sys, scalinglaw; runs = scalinglaw.load_chinchilla(); "
        "r = scalinglaw.fit(data={'N': runs.N, 'D': runs.D, 'loss': runs.loss}, "
        "starts=[[6, 7, 0.5, 0.3, 0.3]]); "
        "r.summary(); r._repr_html_(); print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
