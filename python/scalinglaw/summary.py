"""What the command reports: ``record`` gathers everything computed as plain values (the --json
document), ``format_summary`` renders that document as lines a person reads at a glance and
``format_html`` as a notebook's display, so that none of them disagree. The results' ``summary()`` and
``_repr_html_`` come from here; this module sits below them (it knows a fit only by ``to_dict``)."""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ._core import __version__
from .frontier import GOPHER_FLOPS, compute_optimal, frontier_coefficients
from .goodness import goodness_of_fit
from .io import Runs
from .isoflop import Approach2Result, approach2, group_by_budget, isoflop_design
from .law import LAWS
from .trust import DataRange, check_plans
from .warnings import BudgetGroupingWarning, ScalingLawWarning


class Recorded(Protocol):
    """A result that records itself as plain values: a FitResult or a BootstrapResult."""

    def to_dict(self) -> dict[str, Any]: ...


#: Where pandas is missing, what to_frame() says.
PANDAS_MISSING = "to_frame() needs pandas, an optional dependency: pip install pandas"


def pandas() -> Any:
    """The pandas module, or a ValueError naming the install command."""
    try:
        import pandas
    except ImportError:
        raise ValueError(PANDAS_MISSING) from None
    return pandas


def approach2_for(runs: Runs) -> tuple[Approach2Result | None, str, Any]:
    """Approach 2 on the runs' IsoFLOP groups (their nominal budgets, else budgets within 5% of each
    other): (result or None, a note on runs in no group or why it failed, the group budgets). Its
    warnings are not repeated: the summary lists every budget, skipped ones with the reason."""
    design = isoflop_design(runs.N, runs.C, runs.budgets or None)
    if not design.is_isoflop:  # its "budgets" would be invented: say so instead
        return None, f"skipped: {design.reason}", None
    budgets = runs.budgets or tuple(group_by_budget(runs.C).budgets)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingLawWarning)
        try:
            found = approach2(*runs, budgets=budgets)
        except ValueError as error:
            return None, str(error), None
    ungrouped = [w for w in caught if issubclass(w.category, BudgetGroupingWarning)]
    return found, str(ungrouped[0].message) if ungrouped else "", budgets


def report(
    result: Recorded,
    runs: Runs | None,
    budgets: Sequence[float] = (GOPHER_FLOPS,),
    *,
    bootstrap: Recorded | None = None,
    sensitivity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The command's document of a fit of `runs` (and its bootstrap): plans at `budgets`, Approach 2
    on the runs' IsoFLOP groups (none without runs)."""
    found, note = (None, "") if runs is None else approach2_for(runs)[:2]
    return record(
        result,
        runs,
        budgets,
        approach2=found,
        approach2_note=note,
        bootstrap=bootstrap,
        sensitivity=sensitivity,
    )


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
    result: Recorded,
    runs: Runs | None,
    budgets: Sequence[float],
    *,
    n_excluded: int = 0,
    approach2: Approach2Result | None = None,
    approach2_note: str = "",
    bootstrap: Recorded | None = None,
    sensitivity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the command computed, as plain values (`result` is a FitResult, `bootstrap` a
    BootstrapResult, `sensitivity` the laws of other reasonable fits by label). The budget equal to
    ``GOPHER_FLOPS`` is labelled Gopher; ``approach2_note`` says why Approach 2 is missing or what it
    left out. Each plan carries its interval and its checks against the data (``trust``)."""
    fit = result.to_dict()
    document: dict[str, Any] = {
        "scalinglaw_version": __version__,
        "data": {
            "source": "" if runs is None else runs.source,
            "n_runs": fit["n_runs"] if runs is None else len(runs),
            "n_excluded": n_excluded,
            "notes": [] if runs is None else list(runs.notes),
            "columns": {} if runs is None else dict(runs.columns),
            "set_aside": [] if runs is None else list(runs.set_aside),
        },
        "fit": fit,
        "frontier": None,
        "budgets": [],
    }
    try:
        law = _law_of(result)
        coefficients = law.frontier_coefficients() if law is not None else frontier_coefficients(result)
    except ValueError as error:  # alpha or beta <= 0: the law has no compute-optimal frontier
        document["frontier_error"] = str(error)
    else:
        document["frontier"] = {**coefficients._asdict(), "formula": FRONTIER_FORMULA}
        document["budgets"] = [
            {**plan_row(result, budget), "label": "Gopher" if budget == GOPHER_FLOPS else ""}
            for budget in budgets
        ]
    document["data_range"] = (
        None if runs is None else DataRange.of(runs.N, runs.D, runs.unique_tokens).to_dict()
    )
    document["goodness"] = (
        None
        if runs is None
        else goodness_of_fit(result, runs.N, runs.D, runs.loss, unique_tokens=runs.unique_tokens).to_dict()
    )
    _check_plans(document, result, runs, bootstrap, sensitivity)
    document["approach2"] = None if approach2 is None else approach2.to_dict()
    document["approach2_note"] = approach2_note
    document["bootstrap"] = None if bootstrap is None else bootstrap.to_dict()
    if bootstrap is not None:
        document["bootstrap"]["robust_spread"] = robust_spread(bootstrap)
    return document


#: The per-budget bootstrap quantities each plan's record carries its interval of.
PLAN_INTERVALS = ("N_opt", "D_opt", "tokens_per_parameter")


def _check_plans(
    document: dict[str, Any],
    result: Any,
    runs: Runs | None,
    bootstrap: Any,
    sensitivity: Mapping[str, Any] | None,
) -> None:
    """Each planned budget's record gets its bootstrap intervals and ``trust.check_plans``' facts and
    warnings: so that the JSON holds, per budget, everything a reader needs to weigh the plan."""
    rows = [row for row in document["budgets"] if not row["reason"]]
    if not rows:
        return
    column = {} if bootstrap is None else {float(C): k for k, C in enumerate(bootstrap.budgets)}
    for row in rows:
        k = column.get(row["C"])
        row["interval"] = (
            None
            if k is None
            else {key: np.atleast_2d(bootstrap.interval[key])[k].tolist() for key in PLAN_INTERVALS}
        )
    if runs is None:
        return
    intervals = [row["interval"]["N_opt"] if row["interval"] else [math.nan, math.nan] for row in rows]
    checks = check_plans(
        result,
        DataRange.of(runs.N, runs.D),
        [row["C"] for row in rows],
        intervals=None if bootstrap is None else intervals,
        sensitivity=sensitivity,
    )
    for row, check in zip(rows, checks):
        facts = check.to_dict()
        row["checks"] = {key: value for key, value in facts.items() if key not in ("C", "warnings")}
        row["warnings"] = facts["warnings"]


def robust_spread(bootstrap: Any) -> dict[str, dict[str, float]]:
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


def _law_of(result: Any) -> Any:
    """The law object of a FitResult that is not the Chinchilla law's (None otherwise: the Chinchilla
    functions take the result itself)."""
    law = getattr(result, "law", None)
    return law if law is not None and getattr(law, "KIND", "chinchilla") != "chinchilla" else None


def plan_row(result: Any, budget: float) -> dict[str, Any]:
    """The compute-optimal allocation at one budget; a budget that cannot be planned (the allocation is
    beyond double precision) gets null values and its own ``reason``, and takes no other budget with it."""
    try:
        law = _law_of(result)
        plan = law.compute_optimal([budget]) if law is not None else compute_optimal(result, [budget])
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
        f"scalinglaw {document['scalinglaw_version']}: {_headline(fit)}",
        f"Data:  {data['source'] + ': ' if data['source'] else ''}{data['n_runs']} runs",
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
        if boot.get("bootstrap_by"):  # a grouped bootstrap
            seed += f"; whole groups by {boot['bootstrap_by']}, {boot['n_groups']} groups"
        lines.append(
            f"Bootstrap: {boot['n_resamples']} resamples ({seed}), {boot['n_converged']} refits "
            f"converged; standard errors and {percent} percentile intervals"
        )
    lines += _parameters(fit, boot, percent)
    lines += _goodness(document)
    lines += _frontier(document, boot, percent)
    lines += _approach2(document, boot, percent)
    return "\n".join(lines)


def _headline(fit: dict[str, Any]) -> str:
    """The law a fit's document is of, with its formula."""
    law = LAWS[fit.get("law", "chinchilla")]
    if law.KIND == "chinchilla":
        return f"{law.FORMULA} (Hoffmann et al. 2022, Approach 3)"
    return f"the {law.KIND} law, {law.FORMULA}"


def _meaning(fit: dict[str, Any], name: str) -> str:
    """What a parameter is (the Chinchilla and data-constrained laws' E, alpha, beta), and whether it
    was pinned or tied in the fit."""
    roles = {pinned: "fixed" for pinned in fit.get("fixed", {})}
    roles |= {other: f"tied to {first}" for first, other in fit.get("tied", [])}
    meaning = _MEANINGS.get(name, "") if fit.get("law", "chinchilla") != "kaplan" else ""
    return f"({roles[name]}) {meaning}".rstrip() if name in roles else meaning


def _columns_read(data: dict[str, Any]) -> list[str]:
    """Which column gave N, D (or C) and loss, and which were set aside; nothing for arrays."""
    columns = data.get("columns") or {}
    if not columns:
        return []
    tokens = f"D {columns['D']!r}" if "D" in columns else f"D = C / (6 N), C {columns['C']!r}"
    group = f", group {columns['group']!r}" if "group" in columns else ""
    extra = "".join(
        f", {label} {columns[key]!r}"
        for key, label in (("unique_tokens", "U_D"), ("weight", "weight"))
        if key in columns
    )
    lines = [f"       columns: N {columns['N']!r}, {tokens}, loss {columns['loss']!r}{extra}{group}"]
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
    names = LAWS[fit.get("law", "chinchilla")].names()
    width = max(5, *(len(name) for name in names))
    for name in names:
        line = f"  {name:<{width}} = {fit[name]:12.6g}"
        if boot is not None:
            line += f"   {boot['standard_error'][name]:10.4g}   {_interval(boot['interval'][name]):<22}"
        lines.append(f"{line}   {_meaning(fit, name)}".rstrip())
    lines.append(f"  objective = {fit['objective']:.11e}  (sum of Huber losses over {fit['n_runs']} runs)")
    return lines


def _frontier(document: dict[str, Any], boot: dict[str, Any] | None, percent: str) -> list[str]:
    frontier = document["frontier"]
    if frontier is None:
        return ["", f"Compute-optimal frontier: none ({document['frontier_error']})"]
    unique = "; U_D = D, no repeated data" if document["fit"].get("law") == "data_constrained" else ""
    lines = [
        "",
        f"Compute-optimal frontier (C = 6 N D FLOPs{unique}): "
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
        if row.get("checks"):
            lines.append(f"  {'':>24}  {_checks_text(row['checks'])}")
        lines += [f"Warning: {warning}" for warning in row.get("warnings", [])]
    return lines


def _checks_text(checks: dict[str, Any]) -> str:
    """Where a plan stands: how far beyond the runs' compute, whether its shape is inside their range,
    how much it moves under other fits."""
    where = "inside" if checks["inside_tokens_range"] else "outside"
    parts = [
        f"{checks['extrapolation']:.3g}x the largest run's compute",
        f"tokens/param {where} the runs' range",
    ]
    parts += [f"N_opt x{ratio:.3g} under {label}" for label, ratio in checks["sensitivity"].items()]
    return "; ".join(parts)


def _goodness(document: dict[str, Any]) -> list[str]:
    found = document.get("goodness")
    if not found:
        return []

    def run(entry: dict[str, Any]) -> str:
        return f"run {entry['index']} {100 * math.expm1(entry['residual']):+.2f}%"

    lines = [
        "",
        f"Goodness of fit: rms log residual {found['rms_log_residual']:.3g}, largest error "
        f"{100 * found['are_max']:.2g}% of the loss; worst: {', '.join(run(e) for e in found['worst'])}",
    ]
    if found["outliers"]:
        limit = 100 * math.expm1(found["outlier_z"] * found["robust_scale"])
        lines.append(
            f"  possible outliers (beyond {found['outlier_z']:g} robust SD, ~{limit:.2g}%): runs "
            + ", ".join(str(i) for i in found["outliers"])
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


def group_record(column: str, documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The document of fits of groups apart: each group's ``record`` document, by name, in order."""
    return {"scalinglaw_version": __version__, "group": column, "groups": dict(documents)}


def _side_by_side(documents: Mapping[str, dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(row label, one cell per group) of the quantities compared across groups."""

    def gopher(document: dict[str, Any], key: str, form: str) -> str:
        rows = [row for row in document["budgets"] if row["label"] == "Gopher"]
        if not rows or rows[0][key] is None:
            return "n/a"
        return human(rows[0][key]) if form == "human" else format(rows[0][key], form)

    docs = list(documents.values())
    frontier = [doc["frontier"] or {} for doc in docs]
    names = LAWS[docs[0]["fit"].get("law", "chinchilla")].names()  # the groups are fitted with one law
    return [
        ("runs", [str(doc["data"]["n_runs"]) for doc in docs]),
        *(
            (name, [f"{doc['fit'][name]:.6g}" if name in doc["fit"] else "n/a" for doc in docs])
            for name in names
        ),
        ("objective", [f"{doc['fit']['objective']:.4e}" for doc in docs]),
        ("status", [doc["fit"]["status"] for doc in docs]),
        ("problems", [str(len(doc["fit"]["problems"])) for doc in docs]),
        ("a (N_opt ~ C^a)", [f"{f['a']:.4f}" if f else "n/a" for f in frontier]),
        ("b (D_opt ~ C^b)", [f"{f['b']:.4f}" if f else "n/a" for f in frontier]),
        ("N_opt at Gopher", [gopher(doc, "N_opt", "human") for doc in docs]),
        ("D_opt at Gopher", [gopher(doc, "D_opt", "human") for doc in docs]),
        ("tokens/param", [gopher(doc, "tokens_per_parameter", ".2f") for doc in docs]),
    ]


def format_groups(document: dict[str, Any]) -> str:
    """The summary of a ``group_record`` document: the groups side by side, then each group's own."""
    documents: dict[str, dict[str, Any]] = document["groups"]
    names = list(documents)
    width = max(12, *(len(name) + 2 for name in names))
    first: dict[str, Any] = next(iter(documents.values()), {"fit": {}})
    lines = [
        f"scalinglaw {document['scalinglaw_version']}: {_headline(first['fit'])}",
        f"Groups: {len(names)} values of column {document['group']!r}, each fitted apart",
        "",
        f"  {'':<16}" + "".join(f"{name:>{width}}" for name in names),
    ]
    for label, cells in _side_by_side(documents):
        lines.append(f"  {label:<16}" + "".join(f"{cell:>{width}}" for cell in cells))
    for name, each in documents.items():
        lines += ["", f"== {document['group']} = {name} ==", format_summary(each)]
    return "\n".join(lines)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table of text cells, escaped."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def format_html(document: dict[str, Any]) -> str:
    """A notebook's display of a ``record`` document: data and fit, the warnings, the parameters (with
    standard errors and intervals after a bootstrap), the plans, Approach 2. Every text is escaped."""
    data, fit, boot = document["data"], document["fit"], document["bootstrap"]
    e = html.escape
    source = f"{data['source']}: " if data["source"] else ""
    law = LAWS[fit.get("law", "chinchilla")]
    headline = (
        "<b>Chinchilla law</b> L(N, D) = E + A / N<sup>&alpha;</sup> + B / D<sup>&beta;</sup>"
        if law.KIND == "chinchilla"
        else f"<b>The {e(law.KIND)} law</b> {e(law.FORMULA)}"
    )
    parts = [
        "<div>",
        f"<p>{headline}, fitted to {e(source)}{data['n_runs']} runs: {e(fit['status'])} "
        f"({fit['starts_at_best']} of {fit['n_starts']} starts at the best objective "
        f"{fit['objective']:.6e}, Huber &delta; {fit['delta']:g})</p>",
    ]
    columns = _columns_read(data)
    notes = [line.strip() for line in columns] + list(data["notes"])
    if notes:
        parts.append("<p>" + "<br>".join(e(note) for note in notes) + "</p>")
    problems = list(fit["problems"])
    percent = f"{100 * boot['confidence']:g}%" if boot is not None else ""
    if boot is not None:
        seed = "given resamples" if boot["seed"] is None else f"seed {boot['seed']}"
        if boot.get("bootstrap_by"):  # a grouped bootstrap
            seed += f"; whole groups by {boot['bootstrap_by']}, {boot['n_groups']} groups"
        parts.append(
            f"<p>Bootstrap: {boot['n_resamples']} resamples ({e(seed)}), {boot['n_converged']} refits "
            f"converged; standard errors and {percent} percentile intervals</p>"
        )
        if boot["n_failed"]:
            problems.append(
                f"{boot['n_failed']} of {boot['n_resamples']} resamples did not converge and are left out "
                "of every statistic"
            )
    if problems:
        items = "".join(f"<li>{e(problem)}</li>" for problem in problems)
        parts.append(f"<p><b>Warnings</b></p><ul>{items}</ul>")
    header = ["parameter", "estimate"] + (["std. error", f"{percent} interval"] if boot else []) + ["meaning"]
    rows = []
    for name in law.names():
        row = [name, f"{fit[name]:.6g}"]
        if boot is not None:
            row += [f"{boot['standard_error'][name]:.4g}", _interval(boot["interval"][name])]
        rows.append([*row, _meaning(fit, name)])
    parts.append(_table(header, rows))
    if document["frontier"] is None:
        parts.append(f"<p>No compute-optimal frontier: {e(document['frontier_error'])}</p>")
    else:
        frontier = document["frontier"]
        parts.append(
            f"<p>Compute-optimal frontier (C = 6 N D FLOPs): N<sub>opt</sub> = {frontier['G']:.4g} "
            f"(C/6)<sup>{frontier['a']:.5f}</sup>, D<sub>opt</sub> = {1 / frontier['G']:.4g} "
            f"(C/6)<sup>{frontier['b']:.5f}</sup></p>"
        )
        header = ["budget C (FLOPs)", "N_opt", "D_opt", "tokens/param", "loss"]
        rows = []
        column = {budget: k for k, budget in enumerate(boot["budgets"])} if boot is not None else {}
        for row in document["budgets"]:
            budget = f"{row['label']} {row['C']:.3g}".strip()
            if row["reason"]:
                rows.append([budget, f"not planned: {row['reason']}", "", "", ""])
                continue
            cells = [
                budget,
                f"{human(row['N_opt'])}",
                f"{human(row['D_opt'])}",
                f"{row['tokens_per_parameter']:.2f}",
                _loss(row["loss"]),
            ]
            if boot is not None and row["C"] in column:
                for i, key in ((1, "N_opt"), (2, "D_opt"), (3, "tokens_per_parameter")):
                    low, high = boot["interval"][key][column[row["C"]]]
                    if math.isfinite(low):
                        shown = f"{low:.1f} - {high:.1f}" if i == 3 else f"{human(low)} - {human(high)}"
                        cells[i] += f" ({percent}: {shown})"
            rows.append(cells)
        parts.append(_table(header, rows))
    result, note = document["approach2"], document["approach2_note"]
    if result is not None:
        parts.append(
            f"<p>Approach 2 (IsoFLOP parabolas): N<sub>opt</sub> ~ C<sup>{result['a']:.4f}</sup>, "
            f"D<sub>opt</sub> ~ C<sup>{result['b']:.4f}</sup></p>"
        )
    if note:
        parts.append(f"<p>Approach 2: {e(note)}</p>")
    parts.append("</div>")
    return "\n".join(parts)


def format_groups_html(document: dict[str, Any]) -> str:
    """A notebook's display of a ``group_record`` document: the groups side by side, then each one."""
    documents: dict[str, dict[str, Any]] = document["groups"]
    rows = [[label, *cells] for label, cells in _side_by_side(documents)]
    parts = [
        f"<div><p><b>{len(documents)} groups of column {html.escape(repr(document['group']))}</b>, "
        "each fitted apart</p>",
        _table(["", *documents], rows),
    ]
    for name, each in documents.items():
        parts.append(f"<details><summary>{html.escape(name)}</summary>{format_html(each)}</details>")
    parts.append("</div>")
    return "\n".join(parts)
