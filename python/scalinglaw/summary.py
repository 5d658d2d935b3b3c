"""What the command reports: ``record`` gathers everything computed as plain values (the --json
document), and ``format_summary`` renders that document as lines a person reads at a glance, so the
two never disagree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import __version__
from .bootstrap import BootstrapResult
from .fit import FitResult
from .frontier import compute_optimal, frontier_coefficients
from .io import Runs
from .isoflop import Approach2Result

FRONTIER_FORMULA = "N_opt = G (C/6)^a, D_opt = (C/6)^b / G, C = 6 N D"
#: The exponents whose bootstrap spread is also given robustly (``robust_spread``).
ROBUST_KEYS = ("a", "b", "approach2_a", "approach2_b")


def human(count: float) -> str:
    """73190254382 -> '73.2B'; for parameters and tokens."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.3g}{suffix}"
    return f"{count:.3g}"


def record(
    result: FitResult,
    runs: Runs,
    budgets: Sequence[float],
    *,
    n_excluded: int = 0,
    approach2: Approach2Result | None = None,
    approach2_note: str = "",
    bootstrap: BootstrapResult | None = None,
) -> dict[str, Any]:
    """Everything the command computed, as plain values. ``budgets[0]`` is labelled Gopher;
    ``approach2_note`` says why Approach 2 is missing or what it left out."""
    document: dict[str, Any] = {
        "scalinglaw_version": __version__,
        "data": {
            "source": runs.source,
            "n_runs": len(runs),
            "n_excluded": n_excluded,
            "notes": list(runs.notes),
            "columns": dict(runs.columns),
            "set_aside": list(runs.set_aside),
        },
        "fit": result.to_dict(),
        "frontier": None,
        "budgets": [],
    }
    try:
        coefficients = frontier_coefficients(result)
    except ValueError as error:  # alpha or beta <= 0: the law has no compute-optimal frontier
        document["frontier_error"] = str(error)
    else:
        document["frontier"] = {**coefficients._asdict(), "formula": FRONTIER_FORMULA}
        document["budgets"] = [
            {**plan_row(result, budget), "label": "Gopher" if i == 0 else ""}
            for i, budget in enumerate(budgets)
        ]
    document["approach2"] = None if approach2 is None else approach2.to_dict()
    document["approach2_note"] = approach2_note
    document["bootstrap"] = None if bootstrap is None else bootstrap.to_dict()
    if bootstrap is not None:
        document["bootstrap"]["robust_spread"] = robust_spread(bootstrap)
    return document


def robust_spread(bootstrap: BootstrapResult) -> dict[str, dict[str, float]]:
    """For each of ``ROBUST_KEYS`` resampled: half the central 68.27% percentile interval of the
    converged, finite resamples (the standard error, for a normal spread, but unmoved by a few wild
    refits), and how many resamples lie beyond 3 of it from the median. A few IsoFLOP resamples
    whose parabolas barely curve give wild exponents that inflate the plain standard error past the
    percentile interval."""
    spread = {}
    for key in ROBUST_KEYS:
        if key not in bootstrap.samples:
            continue
        values = bootstrap.samples[key][
            (bootstrap.status == "converged") & np.isfinite(bootstrap.samples[key])
        ]
        if len(values) < 2:
            continue
        low, median, high = np.percentile(values, [15.865, 50.0, 84.135])
        robust = float(high - low) / 2.0
        spread[key] = {
            "robust_se": robust,
            "outliers": int(np.sum(np.abs(values - median) > 3.0 * robust)) if robust > 0 else 0,
        }
    return spread


def _robust_se(boot: dict[str, Any], key: str) -> str:
    """'SE x' with the robust spread, and the plain SE only when the outliers inflate it."""
    plain = boot["standard_error"][key]
    spread = boot.get("robust_spread", {}).get(key)
    if spread is None:
        return f"SE {plain:.4f}"
    text = f"robust SE {spread['robust_se']:.4f}"
    if plain > 1.5 * spread["robust_se"]:
        text += f" (plain SE {plain:.4f}, inflated by {spread['outliers']} outlying resamples)"
    return text


def plan_row(result: FitResult, budget: float) -> dict[str, Any]:
    """The compute-optimal allocation at one budget; a budget that cannot be planned (the allocation is
    beyond double precision) gets null values and its own ``reason``, and takes no other budget with it."""
    try:
        plan = compute_optimal(result, [budget])
    except ValueError as error:
        empty: dict[str, Any] = dict.fromkeys(("N_opt", "D_opt", "tokens_per_parameter", "loss"))
        return {"C": float(budget), **empty, "reason": str(error)}
    return {
        "C": float(plan.C[0]),
        "N_opt": float(plan.N[0]),
        "D_opt": float(plan.D[0]),
        "tokens_per_parameter": float(plan.tokens_per_parameter[0]),
        "loss": float(plan.loss[0]),
        "reason": "",
    }


def _loss(value: float) -> str:
    """A planned loss to 5 decimals, or to 4 significant digits when far from 1 (a budget of 1e-300
    FLOPs plans a loss of 9.6e+56, not a 57-digit number)."""
    return f"{value:.5f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"


def _interval(bounds: Sequence[float], form: str = ".4g") -> str:
    low, high = bounds
    return f"[{low:{form}}, {high:{form}}]" if math.isfinite(low) else "[n/a]"


def format_summary(document: dict[str, Any]) -> str:
    """The summary of a ``record`` document."""
    data, fit, boot = document["data"], document["fit"], document["bootstrap"]
    at_best = f"{fit['starts_at_best']} of {fit['n_starts']} starts reached the best objective"
    lines = [
        f"scalinglaw {document['scalinglaw_version']}: L(N, D) = E + A / N^alpha + B / D^beta "
        "(Hoffmann et al. 2022, Approach 3)",
        f"Data:  {data['source']}: {data['n_runs']} runs",
        *_columns_read(data),
        *(f"       {note}" for note in data["notes"]),
        f"Fit:   Huber delta {fit['delta']:g} on log-residuals; {fit['status']} "
        f"({fit['iterations']} iterations); {at_best}",
        *(f"Warning: {problem}" for problem in fit["problems"]),
    ]
    percent = ""
    if boot is not None:
        percent = f"{100 * boot['confidence']:g}%"
        seed = "given resamples" if boot["seed"] is None else f"seed {boot['seed']}"
        lines.append(
            f"Bootstrap: {boot['n_resamples']} resamples ({seed}), {boot['n_converged']} refits "
            f"converged; standard errors and {percent} percentile intervals"
        )
    lines += _parameters(fit, boot, percent)
    lines += _frontier(document, boot, percent)
    lines += _approach2(document, boot, percent)
    return "\n".join(lines)


def _columns_read(data: dict[str, Any]) -> list[str]:
    """Which column gave N, D (or C) and loss, and which were set aside; nothing for arrays."""
    columns = data.get("columns") or {}
    if not columns:
        return []
    tokens = f"D {columns['D']!r}" if "D" in columns else f"D = C / (6 N), C {columns['C']!r}"
    lines = [f"       columns: N {columns['N']!r}, {tokens}, loss {columns['loss']!r}"]
    return lines + [f"       set aside {item}" for item in data.get("set_aside", [])]


_MEANINGS = {
    "E": "loss no model size or data reaches",
    "alpha": "exponent of N (parameters)",
    "beta": "exponent of D (tokens)",
}


def _parameters(fit: dict[str, Any], boot: dict[str, Any] | None, percent: str) -> list[str]:
    lines = [""]
    if boot is not None:
        lines.append(f"  {'':<5}   {'estimate':>12}   {'std. error':>10}   {percent} interval")
    for name in ("E", "A", "B", "alpha", "beta"):
        line = f"  {name:<5} = {fit[name]:12.6g}"
        if boot is not None:
            line += f"   {boot['standard_error'][name]:10.4g}   {_interval(boot['interval'][name]):<22}"
        meaning = _MEANINGS.get(name, "")
        lines.append(f"{line}   {meaning}".rstrip())
    lines.append(f"  objective = {fit['objective']:.11e}  (sum of Huber losses over {fit['n_runs']} runs)")
    return lines


def _frontier(document: dict[str, Any], boot: dict[str, Any] | None, percent: str) -> list[str]:
    frontier = document["frontier"]
    if frontier is None:
        return ["", f"Compute-optimal frontier: none ({document['frontier_error']})"]
    lines = [
        "",
        "Compute-optimal frontier (C = 6 N D FLOPs): "
        f"N_opt = {frontier['G']:.4g} (C/6)^{frontier['a']:.5f},  "
        f"D_opt = {1 / frontier['G']:.4g} (C/6)^{frontier['b']:.5f}",
    ]
    if boot is not None:
        lines.append(
            f"  a = {frontier['a']:.4f} (SE {boot['standard_error']['a']:.4f}, {percent} "
            f"{_interval(boot['interval']['a'], '.4f')}),  b = {frontier['b']:.4f} "
            f"(SE {boot['standard_error']['b']:.4f}, {percent} {_interval(boot['interval']['b'], '.4f')})"
        )
    lines.append(
        f"  {'budget C (FLOPs)':>24}  {'N_opt':>16}  {'D_opt':>17}  {'tokens/param':>12}  {'loss':>8}"
    )
    # The bootstrap planned only the budgets that could be planned: its columns are found by budget.
    column = {budget: k for k, budget in enumerate(boot["budgets"])} if boot is not None else {}
    for row in document["budgets"]:
        label = f"{row['label']} " if row["label"] else ""
        if row["reason"]:
            lines.append(f"  {label + format(row['C'], '.3g'):>24}  not planned: {row['reason']}")
            continue
        lines.append(
            f"  {label + format(row['C'], '.3g'):>24}  "
            f"{human(row['N_opt']):>6} ({row['N_opt']:.3e})  "
            f"{human(row['D_opt']):>6} ({row['D_opt']:.3e})  "
            f"{row['tokens_per_parameter']:12.2f}  {_loss(row['loss']):>8}"
        )
        if boot is not None and row["C"] in column:
            k = column[row["C"]]
            (n_low, n_high), (d_low, d_high), (t_low, t_high) = (
                boot["interval"][key][k] for key in ("N_opt", "D_opt", "tokens_per_parameter")
            )
            if math.isfinite(n_low):
                lines.append(
                    f"  {percent + ' interval':>24}  {human(n_low):>6} - {human(n_high):<7}  "
                    f"{human(d_low):>6} - {human(d_high):<8}  {t_low:5.1f} - {t_high:.1f}"
                )
    return lines


def _approach2(document: dict[str, Any], boot: dict[str, Any] | None, percent: str) -> list[str]:
    result, note = document["approach2"], document["approach2_note"]
    if result is None:
        if note.startswith("skipped"):  # the runs are not an IsoFLOP design
            return ["", f"Approach 2 (IsoFLOP parabolas): {note}"]
        return ["", f"Approach 2 (IsoFLOP parabolas): not available ({note})"] if note else []
    rows = result["budgets"]
    used = sum(row["status"] == "used" for row in rows)
    frontier = document["frontier"]
    lines = [
        "",
        f"Approach 2 (a parabola of loss in ln N per IsoFLOP budget; {used} of {len(rows)} budgets used): "
        f"N_opt ~ C^{result['a']:.4f}, D_opt ~ C^{result['b']:.4f}"
        + (f"  (Approach 3: a = {frontier['a']:.4f}, b = {frontier['b']:.4f})" if frontier else ""),
    ]
    if boot is not None and "approach2_a" in boot["interval"]:
        lines.append(
            f"  a: {percent} interval {_interval(boot['interval']['approach2_a'], '.4f')}, "
            f"{_robust_se(boot, 'approach2_a')}"
        )
    if note:
        lines.append(f"  {note}")
    lines.append(f"  {'budget C (FLOPs)':>24}  {'runs':>5}  {'N_opt':>7}  {'loss at min':>11}")
    for row in rows:
        if row["status"] == "used":
            where = "" if row["inside"] else "  (extrapolated: outside the budget's model sizes)"
            lines.append(
                f"  {format(row['C'], '.3g'):>24}  {row['runs']:5d}  {human(row['N_opt']):>7}  "
                f"{row['loss_opt']:11.5f}{where}"
            )
        else:
            lines.append(f"  {format(row['C'], '.3g'):>24}  {row['runs']:5d}  skipped: {row['reason']}")
    return lines
