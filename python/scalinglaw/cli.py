"""The ``scalinglaw`` command: fit a CSV of runs (or the built-in Chinchilla data), print a summary, write
Figure 4 and a JSON record. User errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from . import __version__
from .fit import FitResult, ScalingLawWarning, fit
from .frontier import GOPHER_FLOPS, compute_optimal, frontier_coefficients
from .io import Runs, load_chinchilla, read_csv, write_json
from .summary import format_summary

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalinglaw",
        description="Fit the Chinchilla scaling law L(N, D) = E + A/N^alpha + B/D^beta and plan "
        "compute-optimal training (C = 6 N D FLOPs).",
    )
    parser.add_argument("--version", action="version", version=f"scalinglaw {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fit_cmd = commands.add_parser(
        "fit",
        help="fit runs, print a summary, optionally write Figure 4 and JSON",
        description="Fit runs (a CSV, or the built-in Chinchilla data when omitted) by Hoffmann et al.'s "
        "Huber objective from their 4500 starts; print parameters, convergence and the compute-optimal "
        "allocation at the Gopher budget and any --budget.",
    )
    fit_cmd.add_argument("csv", nargs="?", metavar="CSV",
                         help="runs with columns for N, D (or training FLOPs C) and loss; default: the "
                         "built-in Chinchilla data with Epoch's exclusion of the 5 highest-loss runs")
    columns = fit_cmd.add_argument_group("columns (default: recognised by name)")
    columns.add_argument("--n", metavar="COLUMN", help="model size column (parameters)")
    columns.add_argument("--d", metavar="COLUMN", help="training tokens column")
    columns.add_argument("--c", metavar="COLUMN", help="training FLOPs column (D = C / (6 N))")
    columns.add_argument("--loss", metavar="COLUMN", help="final loss column")
    fit_cmd.add_argument("--skip-bad-rows", action="store_true",
                         help="leave out rows whose N, D (or C) or loss cell is empty, text, NaN, infinite, "
                         "zero or negative, and say how many and which (default: refuse the file)")
    fit_cmd.add_argument("--delta", type=float, default=1e-3, help="Huber threshold (default 1e-3)")
    fit_cmd.add_argument("--exclude-highest-loss", type=int, metavar="K", default=None,
                         help="leave out the K highest-loss runs (default 5 for the built-in data, else 0)")
    fit_cmd.add_argument("--budget", type=float, action="append", default=[], metavar="FLOPS",
                         help="also report the compute-optimal allocation at this budget (repeatable)")
    fit_cmd.add_argument("--plot", metavar="PATH", help="write Figure 4 (PNG, PDF or SVG by extension)")
    fit_cmd.add_argument("--json", metavar="PATH", help="write everything machine-readable as JSON")
    fit_cmd.add_argument("--threads", type=int, default=0, help="worker threads (default: all cores)")
    return parser


class UserError(Exception):
    """A problem the user can fix; reported in one line."""


def _load(args: argparse.Namespace) -> tuple[Runs, Runs | None]:
    """(runs to fit, runs left out)."""
    if args.csv is None:
        if any(getattr(args, name) is not None for name in ("n", "d", "c", "loss")):
            raise UserError("--n/--d/--c/--loss name columns of a CSV; give the CSV too")
        runs = load_chinchilla()
        exclude = 5 if args.exclude_highest_loss is None else args.exclude_highest_loss
    else:
        runs = read_csv(args.csv, n=args.n, d=args.d, c=args.c, loss=args.loss,
                        on_bad_row="skip" if args.skip_bad_rows else "raise")
        exclude = args.exclude_highest_loss or 0
    if exclude < 0:
        raise UserError(f"--exclude-highest-loss must be >= 0, got {exclude}")
    if exclude == 0:
        return runs, None
    if exclude >= len(runs):
        raise UserError(f"--exclude-highest-loss {exclude} would leave no runs (there are {len(runs)})")
    return runs.split_highest_loss(exclude)


def _budgets(args: argparse.Namespace) -> list[float]:
    for value in args.budget:
        if not (math.isfinite(value) and value > 0):
            raise UserError(f"--budget must be a finite number of FLOPs > 0, got {value!r}")
    return [GOPHER_FLOPS, *args.budget]


def record(result: FitResult, runs: Runs, excluded: Runs | None, budgets: Sequence[float]) -> dict[str, Any]:
    """Everything the command computed, as plain values (the --json document)."""
    coefficients = frontier_coefficients(result)
    allocation = compute_optimal(result, list(budgets))
    return {
        "scalinglaw_version": __version__,
        "data": {
            "source": runs.source,
            "n_runs": len(runs),
            "n_excluded": 0 if excluded is None else len(excluded),
            "notes": list(runs.notes),
        },
        "fit": result.to_dict(),
        "frontier": {
            "a": coefficients.a,
            "b": coefficients.b,
            "G": coefficients.G,
            "formula": "N_opt = G (C/6)^a, D_opt = (C/6)^b / G, C = 6 N D",
        },
        "budgets": [
            {"C": float(allocation.C[i]), "N_opt": float(allocation.N[i]), "D_opt": float(allocation.D[i]),
             "tokens_per_parameter": float(allocation.tokens_per_parameter[i]),
             "loss": float(allocation.loss[i]), "label": "Gopher" if i == 0 else ""}
            for i in range(len(allocation))
        ],
    }


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unwritable outputs before the work, not after it."""
    if args.plot and os.path.splitext(args.plot)[1].lower() not in {".png", ".pdf", ".svg"}:
        raise UserError(f"--plot must name a .png, .pdf or .svg file, got {args.plot!r}")
    for option, path in (("--plot", args.plot), ("--json", args.json)):
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise UserError(f"{option}: no such directory: {folder}")


def _run_fit(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.delta) and args.delta > 0):
        raise UserError(f"--delta must be finite and > 0, got {args.delta!r}")
    if args.threads < 0:
        raise UserError(f"--threads must be >= 0 (0 = all cores), got {args.threads}")
    budgets = _budgets(args)
    _check_outputs(args)
    # Our warnings are part of the output: each printed once, whatever filters the caller set (an
    # "error" filter must not turn a skipped row or an early stop into a traceback).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingLawWarning)
        runs, excluded = _load(args)
        _print_warnings(caught)
        result = fit(*runs, delta=args.delta, threads=args.threads)
    try:
        document = record(result, runs, excluded, budgets)
        print(format_summary(result, runs, excluded, document))
    finally:  # after the summary, or before the error that stopped it (a fit with alpha <= 0 has no frontier)
        _print_warnings(caught)
    if args.plot:
        from .plot import save_figure4

        save_figure4(args.plot, result, runs, excluded=excluded)
        print(f"\nFigure 4 written to {args.plot}")
    if args.json:
        write_json(args.json, document)
        print(f"JSON written to {args.json}")
    return 0


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print the warnings recorded so far to stderr, and forget them."""
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    caught.clear()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 user error, 130 interrupted)."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 itself on unknown options
    try:
        return _run_fit(args)
    except (UserError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"scalinglaw: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:  # e.g. writing --plot or --json into a missing directory
        print(f"scalinglaw: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("scalinglaw: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
