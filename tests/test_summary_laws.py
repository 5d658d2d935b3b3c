"""The summary and JSON of the laws beside Chinchilla's: the data-constrained law's goodness of fit is
measured with each run's unique tokens (against a numpy evaluation of Muennighoff et al.'s law), its
frontier is said to be at U_D = D, its unique-token column is named; no law's record holds a NaN."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scalinglaw
from conftest import MUENNIGHOFF_BASE as BASE
from conftest import MUENNIGHOFF_RUNS, data_constrained_loss
from scalinglaw.cli import main
from scalinglaw.summary import format_summary, record
from scalinglaw.warnings import IllConditionedWarning

SOURCE = MUENNIGHOFF_RUNS


@pytest.fixture(scope="module")
def repeated():
    runs = scalinglaw.read_csv(SOURCE)  # runs of one (N, D) on different unique tokens: no warning
    with pytest.warns(IllConditionedWarning, match="poorly determined"):
        result = scalinglaw.fit(
            runs.N, runs.D, runs.loss, law="data_constrained", fixed=BASE, unique_tokens=runs.unique_tokens
        )
    return runs, result


def test_goodness_of_fit_uses_each_runs_unique_tokens(repeated):
    runs, result = repeated
    assert result.data is not None and result.data.unique_tokens is not None  # kept from the arrays
    np.testing.assert_array_equal(result.data.unique_tokens, runs.unique_tokens)
    residuals = np.log(runs.loss) - np.log(
        data_constrained_loss(result.law.params, runs.N, runs.D, runs.unique_tokens)
    )
    document = record(result, result.data, [scalinglaw.GOPHER_FLOPS])
    found = document["goodness"]
    assert found["rms_log_residual"] == pytest.approx(float(np.sqrt(np.mean(residuals**2))), rel=1e-10)
    assert found["are_max"] == pytest.approx(float(np.max(np.abs(np.expm1(-residuals)))), rel=1e-10)
    worst = int(np.argmax(np.abs(residuals)))
    assert found["worst"][0]["index"] == worst
    text = result.summary()
    assert f"rms log residual {found['rms_log_residual']:.3g}" in text
    assert "Compute-optimal frontier (C = 6 N D FLOPs; U_D = D, no repeated data)" in text


def test_no_law_records_a_nan(repeated, chinchilla_240):
    _, result = repeated
    kaplan = scalinglaw.fit(
        *chinchilla_240, law="kaplan", starts=scalinglaw.law_default_starts("kaplan")[::20]
    )
    for fitted in (result, kaplan):
        document = record(fitted, fitted.data, [scalinglaw.GOPHER_FLOPS])
        json.dumps(document, allow_nan=False)
        assert all(0 < share <= 1 for share in document["fit"]["term_shares"])
        assert "nan" not in format_summary(document).lower()


def test_cli_names_the_unique_token_column(capsys):
    fixed = [arg for name, value in BASE.items() for arg in ("--fix", f"{name}={value!r}")]
    assert main(["fit", str(SOURCE), "--law", "data_constrained", *fixed, "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "columns: N 'N', D 'D', loss 'loss', U_D 'unique_tokens'" in out


def kaplan_fit(n, d, loss, **options):
    return scalinglaw.fit(
        n, d, loss, law="kaplan", starts=scalinglaw.law_default_starts("kaplan")[::20], **options
    )


def test_notebook_display_of_any_law(repeated, chinchilla_240):
    _, repeated_fit = repeated
    kaplan = kaplan_fit(*chinchilla_240, tied=[("alpha_N", "alpha_D")])
    for fitted in (repeated_fit, kaplan):
        shown = fitted._repr_html_()
        assert f"<b>The {fitted.law.KIND} law</b>" in shown
        for name, value in fitted.params.items():
            assert f"<td>{name}</td><td>{value:.6g}</td>" in shown
    assert "<td>(tied to alpha_N)</td>" in kaplan._repr_html_()
    assert "<td>(fixed) exponent of N (parameters)</td>" in repeated_fit._repr_html_()


def test_groups_side_by_side_list_the_laws_parameters(chinchilla_240):
    from scalinglaw.summary import format_groups, format_groups_html, group_record

    n, d, loss = chinchilla_240
    halves = {name: slice(k, None, 2) for k, name in enumerate("ab")}
    with pytest.warns(IllConditionedWarning):  # half b has two near-equal minima, D_c 2.8e13 and 7.6e13
        fits = {
            name: scalinglaw.fit(n[half], d[half], loss[half], law="kaplan") for name, half in halves.items()
        }
    document = group_record(
        "corpus", {name: record(fit, fit.data, [scalinglaw.GOPHER_FLOPS]) for name, fit in fits.items()}
    )
    text = format_groups(document)
    assert text.splitlines()[0].endswith(
        "the kaplan law, L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D"
    )
    for name in ("N_c", "D_c", "alpha_N", "alpha_D"):
        side_by_side = text.split("\n== ")[0].splitlines()  # before each group's own summary
        (row,) = [line for line in side_by_side if line.split()[:1] == [name]]
        assert row.split()[1:] == [f"{fits[group].params[name]:.6g}" for group in "ab"]
    assert "<td>alpha_D</td>" in format_groups_html(document)
