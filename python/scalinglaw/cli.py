"""The ``scalinglaw`` command: fit a CSV of runs (or the built-in Chinchilla data), print a summary, write
Figure 4 and a JSON record. User errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from . import __version__
from ._checks import LARGEST_INT
from .bootstrap import BootstrapResult, bootstrap
from .fit import IllConditionedWarning, ScalingLawWarning, fit
from .frontier import GOPHER_FLOPS
from .io import EPOCH_EXCLUSION, Runs, load_chinchilla, read_csv, write_json
from .isoflop import (
    Approach2Result,
    BudgetGroupingWarning,
    IsoflopWarning,
    approach2,
    group_by_budget,
)
from .summary import format_summary, plan_row, record

EXIT_USER_ERROR = 2
#: Warnings whose news the summary prints itself (the fit's problems, Approach 2's skipped budgets and
#: ungrouped runs): not repeated on stderr.
SUMMARISED = (IllConditionedWarning, IsoflopWarning, BudgetGroupingWarning)
EXIT_INTERRUPTED = 130
#: The built-in runs: an output must not overwrite them either.
DATA_PATH = resources.files("scalinglaw") / "data" / "chinchilla_fig4_epoch.csv"


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
    fit_cmd.add_argument(
        "csv",
        nargs="?",
        metavar="CSV",
        help="runs with columns for N, D (or training FLOPs C) and loss; default: the "
        "built-in Chinchilla data with Epoch's exclusion of the 5 highest-loss runs",
    )
    columns = fit_cmd.add_argument_group("columns (default: recognised by name)")
    columns.add_argument("--n", metavar="COLUMN", help="model size column (parameters)")
    columns.add_argument("--d", metavar="COLUMN", help="training tokens column")
    columns.add_argument("--c", metavar="COLUMN", help="training FLOPs column (D = C / (6 N))")
    columns.add_argument("--loss", metavar="COLUMN", help="final loss column")
    fit_cmd.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="leave out rows whose N, D (or C) or loss cell is empty, text, NaN, infinite, "
        "zero or negative, and say how many and which (default: refuse the file)",
    )
    fit_cmd.add_argument("--delta", default="1e-3", help="Huber threshold (default 1e-3)")
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
        help="also report the compute-optimal allocation at this budget (repeatable)",
    )
    fit_cmd.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="N",
        help="refit N resamples of the runs (drawn with replacement) for standard errors "
        "and percentile intervals of every parameter and plan (Epoch AI used 4000)",
    )
    fit_cmd.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the bootstrap's resamples (default: a fresh one, printed)",
    )
    fit_cmd.add_argument(
        "--confidence",
        default="0.95",
        help="coverage of the bootstrap's percentile intervals (default 0.95)",
    )
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
        why = EPOCH_EXCLUSION if exclude == 5 else ""
    else:
        runs = read_csv(
            args.csv,
            n=args.n,
            d=args.d,
            c=args.c,
            loss=args.loss,
            on_bad_row="skip" if args.skip_bad_rows else "raise",
        )
        exclude = args.exclude_highest_loss or 0
        why = ""
    if exclude == 0:
        return runs, None
    if exclude >= len(runs):
        raise UserError(f"--exclude-highest-loss {exclude} would leave no runs (there are {len(runs)})")
    return runs.split_highest_loss(exclude, why=why)


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
    """Refuse outputs that cannot be written, or would overwrite the runs or each other, before the work:
    each compared with the input and the other output as the file it names (symlinks and hard links
    followed), not as text."""
    outputs = [
        (option, path) for option, path in (("--json", args.json), ("--plot", args.plot)) if path is not None
    ]
    for option, path in outputs:
        if not path:
            raise UserError(f"{option}: the path is empty")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in {".png", ".pdf", ".svg"}:
        raise UserError(f"--plot must name a .png, .pdf or .svg file, got {_shown_path(args.plot)}")
    source = args.csv if args.csv is not None else str(DATA_PATH)
    given = _identity(source) if source else None
    seen: dict[tuple[Any, ...], str] = {}
    for option, path in outputs:
        identity = _output_identity(option, path)
        if identity == given:
            raise UserError(
                f"{option} {_shown_path(path)} is the input file: writing it would destroy the runs"
            )
        if identity in seen:
            raise UserError(f"{seen[identity]} and {option} name the same file {_shown_path(path)}")
        seen[identity] = option


def _shown_path(path: str) -> str:
    """`path` for a one-line message: quoted, a very long one cut short."""
    return repr(path) if len(path) <= 200 else repr(path[:150]) + f"... ({len(path)} characters)"


def _identity(path: str) -> tuple[Any, ...] | None:
    """The file `path` names, as (device, inode); None if it names none."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return ("file", found.st_dev, found.st_ino)


def _output_identity(option: str, path: str) -> tuple[Any, ...]:
    """The file an output will be written to: (device, inode) of an existing one, else its resolved path;
    any reason it cannot be written (a directory, a missing or unwritable folder, a name too long, a
    symlink loop) is a UserError naming the option."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        folder = os.path.dirname(os.path.realpath(path))
        if not os.path.isdir(folder):
            raise UserError(f"{option}: no such directory: {folder}") from None
        if not os.access(folder, os.W_OK):
            raise UserError(
                f"{option}: cannot write {_shown_path(path)}: permission denied in {folder}"
            ) from None
        return ("new", os.path.normcase(os.path.realpath(path)))
    except (OSError, ValueError) as error:  # ENAMETOOLONG, ELOOP, ENOTDIR, EACCES; a NUL byte
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise UserError(f"{option}: cannot write {_shown_path(path)}: {reason}") from None
    if stat.S_ISDIR(found.st_mode):
        raise UserError(f"{option}: {_shown_path(path)} is a directory")
    return ("file", found.st_dev, found.st_ino)


def _write(option: str, path: str, save: Callable[[str], object]) -> str:
    """Write one output with save(name), atomically: into a temporary file beside it, renamed over it
    only once complete, so that a failure never leaves a truncated file (or destroys the previous one).
    What is not a file of ours -- a device, a pipe, a path under /dev or /proc (/dev/stdout, even when
    the shell sent stdout to a file) -- is written in place. Returns "" or the one-line reason it failed."""
    target = os.path.realpath(path)  # through a symlink: the symlink stays, its target is replaced
    try:
        if os.path.abspath(path).startswith(("/dev/", "/proc/")) or (
            os.path.exists(path) and not os.path.isfile(path)
        ):
            save(path)
            return ""
        folder, name = os.path.split(target)
        extension = os.path.splitext(name)[1]
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=".scalinglaw-", suffix=extension if len(extension) <= 16 else ""
        )
        os.close(handle)
        try:
            save(temporary)
            os.chmod(temporary, _new_file_mode(target))
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return f"{option}: could not write {_shown_path(path)}: {reason}"
    return ""


def _new_file_mode(target: str) -> int:
    """The permissions `target` has, or those a newly created file gets (0o666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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
    if args.seed is not None and not args.bootstrap:
        raise UserError("--seed seeds the bootstrap's resamples; give --bootstrap N too")
    if args.seed is not None:
        _whole("--seed", args.seed, 0, 2**64 - 1, "between 0 and 2^64 - 1")
    if args.exclude_highest_loss is not None and args.exclude_highest_loss < 0:
        raise UserError(f"--exclude-highest-loss must be >= 0, got {args.exclude_highest_loss}")
    args.confidence = _number("--confidence", args.confidence, "between 0 and 1", accept=lambda x: 0 < x < 1)


def _approach2(runs: Runs) -> tuple[Approach2Result | None, str, Any]:
    """Approach 2 on the runs' IsoFLOP groups (their nominal budgets, else budgets within 5% of each
    other): (result or None, a note on runs in no group or why it failed, the group budgets). Its
    warnings are not repeated: the summary lists every budget, skipped ones with the reason."""
    budgets = runs.budgets or tuple(group_by_budget(runs.C).budgets)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingLawWarning)
        try:
            found = approach2(*runs, budgets=budgets)
        except ValueError as error:
            return None, str(error), None
    ungrouped = [w for w in caught if issubclass(w.category, BudgetGroupingWarning)]
    return found, str(ungrouped[0].message) if ungrouped else "", budgets


def _run_fit(args: argparse.Namespace) -> int:
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
            result = fit(*runs, delta=args.delta, threads=args.threads)
            found, note, isoflop_budgets = _approach2(runs)
            resampled: BootstrapResult | None = None
            if args.bootstrap:
                resampled = bootstrap(
                    *runs,
                    n_resamples=args.bootstrap,
                    seed=args.seed,
                    delta=args.delta,
                    threads=args.threads,
                    # a budget beyond planning has its reason in the summary, and no interval
                    budgets=[budget for budget in budgets if not plan_row(result, budget)["reason"]],
                    isoflop_budgets=isoflop_budgets,
                    confidence=args.confidence,
                    estimate=result,
                )
            document = record(
                result,
                runs,
                budgets,
                n_excluded=0 if excluded is None else len(excluded),
                approach2=found,
                approach2_note=note,
                bootstrap=resampled,
            )
            print(format_summary(document))
            summarised = True
        finally:  # after the summary, or before the error that stopped it
            _print_warnings([w for w in caught if not (summarised and issubclass(w.category, SUMMARISED))])
    # Each output on its own, the JSON first: a figure that fails does not lose the record.
    sys.stdout.flush()  # the summary before an output sent to /dev/stdout
    failures = []
    if args.json is not None:
        failures.append(_write("--json", args.json, lambda name: write_json(name, document)))
        if not failures[-1]:
            print(f"\nJSON written to {args.json}")
    if args.plot is not None:
        from .plot import save_figure4

        def draw(name: str) -> None:
            save_figure4(name, result, runs, excluded=excluded, bootstrap=resampled, approach2=found)

        failures.append(_write("--plot", args.plot, draw))
        if not failures[-1]:
            print(f"Figure 4 written to {args.plot}")
    for failure in filter(None, failures):
        print(f"scalinglaw: error: {failure}", file=sys.stderr)
    return EXIT_USER_ERROR if any(failures) else 0


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print recorded warnings to stderr, and forget them."""
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
