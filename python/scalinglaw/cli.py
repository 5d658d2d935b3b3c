"""The ``scalinglaw`` command: fit a CSV of runs (or the built-in Chinchilla data), print a summary, write
Figure 4 and a JSON record. User errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import numpy as np

from . import cli_answers, progress
from ._checks import LARGEST_INT
from ._core import __version__
from ._outputs import check_outputs, quoted, write_output
from .bootstrap import BootstrapResult, bootstrap
from .fit import FitOptions, FitResult, IllConditionedWarning, ScalingLawWarning, fit
from .frontier import GOPHER_FLOPS
from .io import CLI_OPTIONS, EPOCH_EXCLUSION, Runs, _read_csv, load_chinchilla, strict_json, write_json
from .isoflop import (
    BudgetGroupingWarning,
    IsoflopWarning,
)
from .law import LAWS
from .saved import saved_fields
from .summary import approach2_for, format_groups, format_summary, group_record, plan_row, record
from .trust import DataRange

EXIT_USER_ERROR = 2
#: Every plan comes with its interval unless asked otherwise (--bootstrap 0).
DEFAULT_RESAMPLES = 1000
#: Warnings whose news the summary prints itself (the fit's problems, Approach 2's skipped budgets and
#: ungrouped runs): not repeated on stderr.
SUMMARISED = (IllConditionedWarning, IsoflopWarning, BudgetGroupingWarning)
EXIT_INTERRUPTED = 130
QUIET_HELP = "no progress bars on stderr (shown by default on a terminal for work over 2 s)"
#: The built-in runs: an output must not overwrite them either.
DATA_PATH = resources.files("scalinglaw") / "data" / "chinchilla_fig4_epoch.csv"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalinglaw",
        description="Fit the Chinchilla scaling law L(N, D) = E + A/N^alpha + B/D^beta and plan "
        "compute-optimal training (C = 6 N D FLOPs).",
    )
    parser.add_argument("--version", action="version", version=f"scalinglaw {__version__}")
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fit_cmd = commands.add_parser(
        "fit",
        help="fit runs, print a summary, optionally write Figure 4 and JSON",
        description="Fit runs (a CSV, or the built-in Chinchilla data when omitted) by Hoffmann et al.'s "
        "Huber objective from their 4500 starts; print parameters, convergence and the compute-optimal "
        "allocation at the Gopher budget and any --budget.",
    )
    fit_cmd.add_argument(
        "csv",
        nargs="?",
        metavar="CSV",
        help="runs with columns for N, D (or training FLOPs C) and loss: CSV, TSV or semicolon-separated, "
        "maybe compressed (gzip, bzip2, xz), or Parquet (with pyarrow); '-' reads standard input; default: "
        "the built-in Chinchilla data with Epoch's exclusion of the 5 highest-loss runs",
    )
    columns = fit_cmd.add_argument_group("columns (default: recognised by name)")
    columns.add_argument("--n", metavar="COLUMN", help="model size column (parameters)")
    columns.add_argument("--d", metavar="COLUMN", help="training tokens column")
    columns.add_argument("--c", metavar="COLUMN", help="training FLOPs column (D = C / (6 N))")
    columns.add_argument("--loss", metavar="COLUMN", help="final loss column")
    columns.add_argument(
        "--unique-tokens",
        metavar="COLUMN",
        help="unique tokens U_D of each run (the data_constrained law needs them; a column named "
        "unique_tokens or U_D is recognised)",
    )
    columns.add_argument("--weight", metavar="COLUMN", help="each run's weight in the fit (>= 0)")
    law_args = fit_cmd.add_argument_group("law")
    law_args.add_argument(
        "--law", default="chinchilla", choices=sorted(LAWS), help="the law to fit (default chinchilla)"
    )
    law_args.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pin parameters, e.g. E=1.69 or E=1.69,alpha=0.34 (repeatable)",
    )
    law_args.add_argument(
        "--tie",
        action="append",
        default=[],
        metavar="NAME=NAME",
        help="fit two parameters as one, e.g. alpha=beta",
    )
    fit_cmd.add_argument(
        "--group",
        metavar="COLUMN",
        help="fit the runs of each value of this column apart (corpora, datasets, ...) and report them "
        "side by side (--exclude-highest-loss applies to each group); --plot then writes one figure per "
        "group, named PATH-VALUE.png",
    )
    fit_cmd.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="leave out rows whose N, D (or C) or loss cell is empty, text, NaN, infinite, "
        "zero or negative, and say how many and which (default: refuse the file)",
    )
    delta = FitOptions().delta  # the C++ core's default, read as text and checked as typed
    fit_cmd.add_argument("--delta", default=f"{delta:g}", help=f"Huber threshold (default {delta:g})")
    fit_cmd.add_argument(
        "--exclude-highest-loss",
        type=int,
        metavar="K",
        default=None,
        help="leave out the K highest-loss runs (default 5 for the built-in data, else 0)",
    )
    fit_cmd.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="FLOPS",
        help="also report (and draw in Figure 4) the compute-optimal allocation at this budget (repeatable)",
    )
    fit_cmd.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_RESAMPLES,
        metavar="N",
        help="refit N resamples of the runs (drawn with replacement) for standard errors "
        f"and percentile intervals of every parameter and plan (default {DEFAULT_RESAMPLES}, a fraction "
        "of a second on the built-in data; Epoch AI used 4000; 0 turns it off)",
    )
    fit_cmd.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the bootstrap's resamples (default 0: the same command gives the same intervals)",
    )
    fit_cmd.add_argument(
        "--bootstrap-by",
        metavar="N|COLUMN",
        help="resample whole groups of runs instead of single runs: N, the runs of each model size, or "
        "those of each value of a column of the CSV (for ladders whose runs of one group share errors)",
    )
    fit_cmd.add_argument(
        "--confidence",
        default="0.95",
        help="coverage of the bootstrap's percentile intervals (default 0.95)",
    )
    fit_cmd.add_argument("--plot", metavar="PATH", help="write Figure 4 (PNG, PDF or SVG by extension)")
    fit_cmd.add_argument(
        "--unique-token-budget",
        metavar="TOKENS",
        help="draw Figure 4 of the data_constrained law with this many unique tokens, U_D = min(D, TOKENS) "
        "(default U_D = D: no repeated data; the frontier's bootstrap band is then left out)",
    )
    fit_cmd.add_argument(
        "--diagnostics",
        metavar="PATH",
        help="write the residual figure: residuals against C, tokens per parameter and N; predicted "
        "against observed (PNG, PDF or SVG)",
    )
    fit_cmd.add_argument(
        "--figsize",
        type=float,
        nargs=2,
        default=(13.0, 5.2),
        metavar=("WIDTH", "HEIGHT"),
        help="Figure 4's size in inches (default 13 5.2; 7 2.8 fits a paper's width)",
    )
    fit_cmd.add_argument(
        "--dpi", type=float, default=150.0, help="Figure 4's resolution as PNG (default 150)"
    )
    fit_cmd.add_argument("--json", metavar="PATH", help="write everything machine-readable as JSON")
    fit_cmd.add_argument(
        "--threads", type=int, default=FitOptions().threads, help="worker threads (default 0: all cores)"
    )
    fit_cmd.set_defaults(run=_run_fit)
    cli_answers.add_commands(commands)
    for command in commands.choices.values():  # --quiet after the command too (SUPPRESS: no override)
        command.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP)
    return parser


class UserError(Exception):
    """A problem the user can fix; reported in one line."""


def _load(args: argparse.Namespace) -> tuple[Runs, Runs | None]:
    """(runs to fit, runs left out)."""
    if args.csv is None:
        if any(
            getattr(args, name, None) is not None
            for name in ("n", "d", "c", "loss", "unique_tokens", "weight")
        ):
            raise UserError(
                "--n/--d/--c/--loss/--unique-tokens/--weight name columns of a CSV; give the CSV too"
            )
        # All 245 runs, then by default Epoch's exclusion of the 5 highest-loss runs, as load_chinchilla()
        # does: the 240 runs fitted are the same in Python and here (the left-out ones are drawn).
        runs = load_chinchilla(epoch_exclusion=False)
        exclude = 5 if args.exclude_highest_loss is None else args.exclude_highest_loss
        why = EPOCH_EXCLUSION if exclude == 5 else ""
    else:
        read = _read_file(args)
        assert isinstance(read, Runs)
        runs = read
        exclude = args.exclude_highest_loss or 0
        why = ""
    if exclude == 0:
        return runs, None
    if exclude >= len(runs):
        raise UserError(f"--exclude-highest-loss {exclude} would leave no runs (there are {len(runs)})")
    return runs.split_highest_loss(exclude, why=why)


def _read_file(args: argparse.Namespace, **grouping: Any) -> Any:
    """read_csv of the command's CSV with its column options; messages name the CLI's options (--loss,
    not loss=). ``grouping``: group= (a Groups is returned) and keywords=."""
    return _read_csv(
        args.csv,
        n=args.n,
        d=args.d,
        c=args.c,
        loss=args.loss,
        on_bad_row="skip" if args.skip_bad_rows else "raise",
        unique_tokens=getattr(args, "unique_tokens", None),
        weight=getattr(args, "weight", None),
        **{"keywords": CLI_OPTIONS, **grouping},
    )


def _law_options(args: argparse.Namespace) -> dict[str, Any]:
    """fit()'s law, fixed and tied from --law, --fix NAME=VALUE and --tie NAME=NAME."""
    fixed: dict[str, float] = {}
    for text in (item for given in args.fix for item in given.split(",")):
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise UserError(f"--fix must be NAME=VALUE, e.g. E=1.69, got {_given(text)}")
        fixed[name.strip()] = (
            _number("--fix", value.strip(), "a finite number (inf for R_D, R_N)", accept=lambda x: True)
            if value.strip() not in ("inf", "infinity")
            else math.inf
        )
    tied = []
    for text in args.tie:
        first, equals, second = text.partition("=")
        if not equals or not first.strip() or not second.strip():
            raise UserError(f"--tie must be NAME=NAME, e.g. alpha=beta, got {_given(text)}")
        tied.append((first.strip(), second.strip()))
    return {"law": args.law, "fixed": fixed, "tied": tied}


def _budgets(args: argparse.Namespace) -> list[float]:
    return [
        GOPHER_FLOPS,
        *(_number("--budget", text, "a finite number of FLOPs > 0") for text in args.budget),
    ]


def _number(option: str, text: str, rule: str, *, accept: Callable[[float], bool] = lambda x: x > 0) -> float:
    """The number an option's `text` gives, if finite and accepted; the message quotes the text itself,
    not a double it rounded to (1e-400 is 0 in double precision, 1e400 is inf)."""
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{option} must be {rule}, got {_given(text)}: not a number") from None
    if math.isfinite(value) and accept(value):
        return value
    if value == 0 and any(digit in "123456789" for digit in text.lower().partition("e")[0]):
        raise UserError(f"{option} must be {rule}, got {_given(text)}: below double precision (0 there)")
    raise UserError(f"{option} must be {rule}, got {_given(text)}")


def _whole(option: str, value: int, low: int, high: int, rule: str) -> None:
    if not low <= value <= high:
        raise UserError(f"{option} must be {rule}, got {_given(str(value))}")


def _given(text: str) -> str:
    """What the user typed, for a one-line message: a very long text cut short."""
    return text if len(text) <= 100 else f"{text[:80]}... ({len(text)} characters)"


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unwritable outputs, and outputs that would overwrite the runs or each other, before the work."""
    diagnostics = getattr(args, "diagnostics", None)
    for option, path in (("--plot", args.plot), ("--diagnostics", diagnostics)):
        if path and os.path.splitext(path)[1].lower() not in {".png", ".pdf", ".svg"}:
            raise UserError(f"{option} must name a .png, .pdf or .svg file, got {quoted(path)}")
    json_path = None if args.json == "-" else args.json  # "-": standard output
    outputs = [("--json", json_path), ("--plot", args.plot), ("--diagnostics", diagnostics)]
    check_outputs(outputs, args.csv or str(DATA_PATH))


def _check_options(args: argparse.Namespace) -> None:
    """Every option's value, before any work (nothing is refused after a long fit or bootstrap); the
    messages name the options, not the Python arguments they become."""
    args.delta = _number("--delta", args.delta, "finite and > 0")
    _whole("--threads", args.threads, 0, LARGEST_INT, f">= 0 (0 = all cores) and <= {LARGEST_INT}")
    if args.bootstrap == 1:
        raise UserError(
            f"--bootstrap must be 0 (none) or at least 2 resamples (a spread needs two), got {args.bootstrap}"
        )
    _whole(
        "--bootstrap",
        args.bootstrap,
        0,
        LARGEST_INT,
        f"0 (none) or at least 2 resamples, at most {LARGEST_INT}",
    )
    if args.seed is not None and not args.bootstrap:  # --bootstrap 0 given
        raise UserError("--seed seeds the bootstrap's resamples; give --bootstrap N too (not 0)")
    if args.bootstrap_by is not None and not args.bootstrap:
        raise UserError("--bootstrap-by groups the bootstrap's resamples; give --bootstrap N too (not 0)")
    if args.bootstrap_by not in (None, "N") and args.csv is None:
        raise UserError(
            "--bootstrap-by COLUMN names a column of a CSV; give the CSV too (or --bootstrap-by N)"
        )
    if args.bootstrap_by not in (None, "N") and args.csv == "-":
        raise UserError("--bootstrap-by COLUMN reads the CSV twice: save standard input to a file first")
    if args.seed is not None:
        _whole("--seed", args.seed, 0, 2**64 - 1, "between 0 and 2^64 - 1")
    if args.exclude_highest_loss is not None and args.exclude_highest_loss < 0:
        raise UserError(f"--exclude-highest-loss must be >= 0, got {args.exclude_highest_loss}")
    args.confidence = _number("--confidence", args.confidence, "between 0 and 1", accept=lambda x: 0 < x < 1)
    if args.unique_token_budget is not None:
        if args.law != "data_constrained" or args.plot is None:
            raise UserError(
                "--unique-token-budget sets Figure 4's unique tokens: give --law data_constrained and --plot"
            )
        args.unique_token_budget = _number(
            "--unique-token-budget", args.unique_token_budget, "finite and > 0"
        )
    if not all(math.isfinite(v) and v > 0 for v in (*args.figsize, args.dpi)):
        raise UserError(f"--figsize and --dpi must be finite and > 0, got {args.figsize} and {args.dpi!r}")


def _run_fit(args: argparse.Namespace) -> int:
    if args.group is not None:
        return _run_groups(args)
    _check_options(args)
    budgets = _budgets(args)
    _check_outputs(args)
    # Our warnings are part of the output: each printed once, whatever filters the caller set (an
    # "error" filter must not turn a skipped row or an early stop into a traceback).
    summarised = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingLawWarning)
        try:
            runs, excluded = _load(args)
            _print_warnings(caught)
            _, _, result, found, resampled, document = _fit_runs(args, runs, excluded, budgets)
            document.update(_saved(result, runs, resampled))
            # with --json -, standard output carries the JSON alone and the text goes to stderr
            print(format_summary(document), file=sys.stderr if args.json == "-" else sys.stdout)
            summarised = True
        finally:  # after the summary, or before the error that stopped it
            _print_warnings([w for w in caught if not (summarised and issubclass(w.category, SUMMARISED))])
    # Each output on its own, the JSON first: a figure that fails does not lose the record.
    sys.stdout.flush()  # the summary before an output sent to /dev/stdout
    failures = []
    if args.json == "-":
        json.dump(strict_json(document), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    elif args.json is not None:
        failures.append(write_output("--json", args.json, lambda name: write_json(name, document)))
        if not failures[-1]:
            print(f"\nJSON written to {args.json}")
    if args.plot is not None:
        from .plot import save_figure4

        def draw(name: str) -> None:
            save_figure4(
                name,
                result,
                runs,
                excluded=excluded,
                bootstrap=resampled if args.unique_token_budget is None else None,
                approach2=found,
                planned=budgets[1:] or None,
                figsize=tuple(args.figsize),
                dpi=args.dpi,
                unique_token_budget=args.unique_token_budget,
            )

        failures.append(write_output("--plot", args.plot, draw))
        if not failures[-1]:
            print(f"Figure 4 written to {args.plot}")
    if args.diagnostics is not None:
        from .goodness import goodness_of_fit
        from .plot_trust import residual_figure

        def residuals(name: str) -> None:
            found = goodness_of_fit(result, runs.N, runs.D, runs.loss, unique_tokens=runs.unique_tokens)
            residual_figure(found, runs.N, runs.D, runs.loss).savefig(name)

        failures.append(write_output("--diagnostics", args.diagnostics, residuals))
        if not failures[-1]:
            print(f"Residual figure written to {args.diagnostics}")
    for failure in filter(None, failures):
        print(f"scalinglaw: error: {failure}", file=sys.stderr)
    return EXIT_USER_ERROR if any(failures) else 0


def _seed(args: argparse.Namespace) -> int:
    """The bootstrap's seed: --seed, else 0, so that the command's output does not change between runs."""
    return 0 if args.seed is None else int(args.seed)


def _saved(result: FitResult, runs: Runs, resampled: BootstrapResult | None) -> dict[str, Any]:
    """What the JSON needs for ``scalinglaw plan/predict --fit`` to answer without refitting: the law,
    options, data range, and with a bootstrap its converged draws and the calibration of its predictive
    intervals (``BootstrapResult.scatter``), so that ``predict --fit`` gives ``predict_interval``'s."""
    draws, scatter = None, None
    if resampled is not None:
        usable = resampled.status == "converged"
        draws = {key: resampled.samples[key][usable] for key in result.law.names()}
        if resampled.n_converged >= 2 and resampled.runs is not None:
            scatter = resampled.scatter
    return saved_fields(
        result.law,
        options={"delta": result.delta, "max_iterations": result.options.max_iterations},
        data=DataRange.of(runs.N, runs.D, runs.unique_tokens),
        draws=draws,
        confidence=0.95 if resampled is None else resampled.confidence,
        scatter=scatter,
    )


def _run_groups(args: argparse.Namespace) -> int:
    """_run_fit for each group of --group's column: the groups side by side, then each one's summary;
    one JSON document holding each group's; one figure per group."""
    _check_options(args)
    budgets = _budgets(args)
    _check_outputs(args)
    if args.csv is None:
        raise UserError("--group names a column of a CSV; give the CSV too")
    summarised = False
    done: dict[str, tuple[Any, ...]] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingLawWarning)
        try:
            groups = _read_file(args, group=args.group)
            assert isinstance(groups, dict)
            _print_warnings(caught)
            for name, runs in groups.items():
                try:
                    done[name] = _fit_group(args, runs, budgets)
                except (UserError, ValueError) as error:
                    raise UserError(f"--group {args.group} = {name!r}: {error}") from None
            document = group_record(args.group, {name: each[-1] for name, each in done.items()})
            print(format_groups(document))
            summarised = True
        finally:
            _print_warnings([w for w in caught if not (summarised and issubclass(w.category, SUMMARISED))])
    # Each output on its own, the JSON first, as _run_fit writes them.
    sys.stdout.flush()
    failures = []
    if args.json is not None:
        failures.append(write_output("--json", args.json, lambda name: write_json(name, document)))
        if not failures[-1]:
            print(f"\nJSON written to {args.json}")
    if args.plot is not None:
        from .plot import save_figure4
        from .plot_groups import group_paths

        for name, path in group_paths(args.plot, done).items():
            runs, excluded, result, found, resampled, _ = done[name]
            options: dict[str, Any] = {
                "excluded": excluded,
                "bootstrap": resampled if args.unique_token_budget is None else None,
                "approach2": found,
                "planned": budgets[1:] or None,
                "figsize": tuple(args.figsize),
                "dpi": args.dpi,
                "unique_token_budget": args.unique_token_budget,
            }

            def draw(
                file: str, fit: Any = result, runs: Runs = runs, options: dict[str, Any] = options
            ) -> None:
                save_figure4(file, fit, runs, **options)

            failures.append(write_output("--plot", path, draw))
            if not failures[-1]:
                print(f"Figure 4 of {args.group} = {name} written to {path}")
    for failure in filter(None, failures):
        print(f"scalinglaw: error: {failure}", file=sys.stderr)
    return EXIT_USER_ERROR if any(failures) else 0


def _fit_group(args: argparse.Namespace, runs: Runs, budgets: list[float]) -> tuple[Any, ...]:
    """(runs, excluded, fit, Approach 2, bootstrap, document) of one group, as _run_fit does them."""
    excluded = None
    if args.exclude_highest_loss:
        if args.exclude_highest_loss >= len(runs):
            raise UserError(
                f"--exclude-highest-loss {args.exclude_highest_loss} would leave no runs "
                f"(there are {len(runs)})"
            )
        runs, excluded = runs.split_highest_loss(args.exclude_highest_loss)
    return _fit_runs(args, runs, excluded, budgets)


def _fit_runs(
    args: argparse.Namespace, runs: Runs, excluded: Runs | None, budgets: list[float]
) -> tuple[Any, ...]:
    """(runs, excluded, fit, Approach 2, bootstrap, document) of the runs: the fit, Approach 2, the
    bootstrap and the record, for the command and for each --group alike."""
    law = _law_options(args)
    result = fit(data=runs, delta=args.delta, threads=args.threads, **law)
    found, note, isoflop_budgets = approach2_for(runs)
    if law["law"] != "chinchilla" or law["fixed"] or law["tied"] or runs.weight is not None:
        isoflop_budgets = None  # Approach 2 per resample: the unconstrained Chinchilla law only
    resampled = None
    if args.bootstrap:
        groups = _bootstrap_groups(args, runs)
        resampled = bootstrap(
            data=runs,
            **law,
            n_resamples=args.bootstrap,
            seed=_seed(args),
            delta=args.delta,
            threads=args.threads,
            budgets=[budget for budget in budgets if not plan_row(result, budget)["reason"]],
            isoflop_budgets=isoflop_budgets,
            confidence=args.confidence,
            estimate=result,
            groups=groups,
        )
        if args.bootstrap_by not in (None, "N"):
            resampled = dataclasses.replace(resampled, bootstrap_by=args.bootstrap_by)
    document = record(
        result,
        runs,
        budgets,
        n_excluded=0 if excluded is None else len(excluded),
        approach2=found,
        approach2_note=note,
        bootstrap=resampled,
        sensitivity=result.sensitivity(),
    )
    return runs, excluded, result, found, resampled, document


def _bootstrap_groups(args: argparse.Namespace, runs: Runs) -> Any:
    """The bootstrap's groups=: None, "N", or each run's value in --bootstrap-by's column. The column is
    read by read_csv's own grouping, and each run takes the value of a row with its numbers: runs that
    share every number are interchangeable, so which of them takes which value changes no resample."""
    if args.bootstrap_by in (None, "N"):
        return args.bootstrap_by
    if not hasattr(args, "bootstrap_labels"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the first reading printed them
            split = _read_file(
                args, group=args.bootstrap_by, keywords={**CLI_OPTIONS, "group": "--bootstrap-by "}
            )
        assert isinstance(split, dict)
        labels: dict[tuple[float, ...], list[str]] = {}
        for name, part in split.items():
            for key in _run_keys(part):
                labels.setdefault(key, []).append(name)
        args.bootstrap_labels = labels
    available = {key: list(names) for key, names in args.bootstrap_labels.items()}
    values = []
    for position, key in enumerate(_run_keys(runs)):
        if not available.get(key):
            raise UserError(
                f"--bootstrap-by {args.bootstrap_by}: the run at position {position} (N={key[0]:g}, "
                f"D={key[1]:g}) has no value in that column"
            )
        values.append(available[key].pop())
    return np.array(values)


def _run_keys(runs: Runs) -> list[tuple[float, ...]]:
    """Each run's numbers (N, D, loss, weight, unique tokens), which tell runs apart."""
    columns = [runs.N, runs.D, runs.loss]
    columns += [c for c in (runs.weight, runs.unique_tokens) if c is not None]
    return list(zip(*(c.tolist() for c in columns)))


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print recorded warnings to stderr, and forget them."""
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    caught.clear()


def _show_warning(message: Warning | str, *_: Any, **__: Any) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 user error, 130 interrupted)."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 itself on unknown options
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # a warning no command printed: one line, as theirs
            if args.quiet:
                with progress.quiet():
                    return int(args.run(args))
            return int(args.run(args))
    except (UserError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"scalinglaw: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader of our output went away (scalinglaw fit | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except OSError as error:  # e.g. writing --plot or --json into a missing directory
        print(
            f"scalinglaw: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except MemoryError:  # a request larger than this machine's memory, e.g. --bootstrap N over many runs
        print(
            "scalinglaw: error: not enough memory for this request (try fewer --bootstrap resamples)",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("scalinglaw: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
