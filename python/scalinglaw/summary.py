"""The text summary the command prints: what was fitted, how well, and what to train at each budget."""

from __future__ import annotations

from typing import Any

from .fit import FitResult
from .io import Runs


def human(count: float) -> str:
    """73190254382 -> '73.2B'; for parameters and tokens."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.3g}{suffix}"
    return f"{count:.3g}"


def format_summary(result: FitResult, runs: Runs, excluded: Runs | None, document: dict[str, Any]) -> str:
    """The summary as lines a person reads at a glance."""
    data = f"{runs.source}: {len(runs)} runs"
    if excluded is not None:
        data += f" (left out the {len(excluded)} highest-loss runs"
        data += ", as Epoch AI did)" if "Chinchilla" in runs.source else ")"
    at_best = f"{result.starts_at_best} of {result.n_starts} starts reached the best objective"
    lines = [
        f"scalinglaw {document['scalinglaw_version']}: L(N, D) = E + A / N^alpha + B / D^beta "
        "(Hoffmann et al. 2022, Approach 3)",
        f"Data:  {data}",
        f"Fit:   Huber delta {result.delta:g} on log-residuals; {result.status} "
        f"({result.iterations} iterations); {at_best}",
        *(f"Warning: {problem}" for problem in result.problems),
        "",
        f"  E     = {result.E:12.6g}   loss no model size or data reaches",
        f"  A     = {result.A:12.6g}",
        f"  B     = {result.B:12.6g}",
        f"  alpha = {result.alpha:12.6g}   exponent of N (parameters)",
        f"  beta  = {result.beta:12.6g}   exponent of D (tokens)",
        f"  objective = {result.objective:.11e}  (sum of Huber losses over {result.n_runs} runs)",
    ]
    frontier = document["frontier"]
    lines += [
        "",
        "Compute-optimal frontier (C = 6 N D FLOPs): "
        f"N_opt = {frontier['G']:.4g} (C/6)^{frontier['a']:.5f},  "
        f"D_opt = {1 / frontier['G']:.4g} (C/6)^{frontier['b']:.5f}",
        f"  {'budget C (FLOPs)':>24}  {'N_opt':>16}  {'D_opt':>17}  {'tokens/param':>12}  {'loss':>8}",
    ]
    for row in document["budgets"]:
        label = f"{row['label']} " if row["label"] else ""
        lines.append(
            f"  {label + format(row['C'], '.3g'):>24}  "
            f"{human(row['N_opt']):>6} ({row['N_opt']:.3e})  "
            f"{human(row['D_opt']):>6} ({row['D_opt']:.3e})  "
            f"{row['tokens_per_parameter']:12.2f}  {row['loss']:8.5f}"
        )
    return "\n".join(lines)
