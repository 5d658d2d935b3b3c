"""The commands that answer without refitting (``plan``, ``predict``) and the one that judges a law by
refitting parts of the data (``backtest``). ``cli`` registers them; user errors are ValueErrors, which
``cli.main`` turns into one line and exit status 2."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from . import answers
from .backtest import DEFAULT_SPLITS, BacktestResult, compare
from .frontier import GOPHER_FLOPS
from .io import load_chinchilla, read_csv, read_points, write_json
from .saved import PARAMETER_NAMES, SavedFit, load_fit
from .summary import human


def add_commands(commands: Any) -> None:
    """Adds plan, predict and backtest to the parser's subcommands."""
    plan = commands.add_parser(
        "plan",
        help="plan training from a saved fit or published parameters (no refitting)",
        description="Compute-optimal N, D and loss from a fit saved by 'scalinglaw fit --json' or from "
        "published parameters: for budgets (--flops), target losses (--target-loss) or model sizes (--n), "
        "optionally counting inference (--inference-tokens, Sardana et al. 2024), or, for the "
        "data_constrained law, under a budget of unique tokens repeated for several epochs "
        "(--unique-tokens, Muennighoff et al. 2023). Intervals come from the saved fit's bootstrap draws; "
        "each answer says how far it lies outside the data.",
    )
    _add_source(plan)
    plan.add_argument(
        "--flops", type=float, action="append", default=[], metavar="C", help="a budget (FLOPs)"
    )
    plan.add_argument(
        "--target-loss", type=float, action="append", default=[], metavar="L", help="a loss to reach"
    )
    plan.add_argument(
        "--n", type=float, action="append", default=[], metavar="N", help="a model size (parameters)"
    )
    plan.add_argument(
        "--inference-tokens",
        type=float,
        metavar="T",
        help="tokens the model will serve: minimise training + inference FLOPs (6 N D + 2 N T) for each "
        "--target-loss, or the loss for each --flops taken as training + inference FLOPs",
    )
    plan.add_argument(
        "--unique-tokens",
        type=float,
        metavar="U",
        help="unique tokens available (the data_constrained law): each answer repeats them for as many "
        "epochs as is optimal (default: unlimited, no repetition)",
    )
    _add_json(plan)
    plan.set_defaults(run=run_plan)

    predict = commands.add_parser(
        "predict",
        help="the loss at given model sizes and token counts, from a saved fit or published parameters",
        description="L(N, D) at each --n/--d pair (repeatable, in order), or at each row of a --points "
        "file, with a predictive interval when the saved fit has bootstrap draws.",
    )
    _add_source(predict)
    predict.add_argument("--n", type=float, action="append", default=[], metavar="N", help="model size")
    predict.add_argument("--d", type=float, action="append", default=[], metavar="D", help="training tokens")
    predict.add_argument(
        "--unique-tokens",
        type=float,
        action="append",
        default=[],
        metavar="U",
        help="unique tokens U_D of each --n/--d pair (the data_constrained law; default U_D = D)",
    )
    predict.add_argument(
        "--points",
        metavar="CSV",
        help="a table of points, one per row: N and D (or C) columns recognised by name as for 'fit', "
        "optionally unique tokens; a loss column is not read ('-' reads standard input)",
    )
    _add_json(predict)
    predict.set_defaults(run=run_predict)

    test = commands.add_parser(
        "backtest",
        help="fit the small runs, predict the large ones: how far the law and its plans can be trusted",
        description="For each split (the lowest fraction of compute or model size, or all but the largest "
        "size), fit the runs below the cut, predict the held-out runs with predictive intervals and "
        "compare the plans with the full data's. --compare runs the same splits for other settings and "
        "ranks them by held-out error.",
    )
    test.add_argument("csv", nargs="?", metavar="CSV", help="runs (default: the built-in Chinchilla data)")
    for option, what in (
        ("--n", "model size"),
        ("--d", "tokens"),
        ("--c", "FLOPs"),
        ("--loss", "final loss"),
    ):
        test.add_argument(option, metavar="COLUMN", help=f"{what} column")
    test.add_argument(
        "--split",
        action="append",
        default=[],
        metavar="SPLIT",
        help=f"compute:F, size:F (0 < F < 1) or largest (repeatable; default {' '.join(DEFAULT_SPLITS)})",
    )
    test.add_argument(
        "--budget", type=float, action="append", default=[], metavar="C", help="plan at this budget (FLOPs)"
    )
    test.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="SETTING",
        help="another fit setting to backtest and rank, e.g. delta=0.1 (repeatable)",
    )
    test.add_argument("--delta", type=float, default=1e-3, help="Huber threshold of the base setting")
    test.add_argument(
        "--bootstrap", type=int, default=200, metavar="N", help="resamples per split (default 200)"
    )
    test.add_argument("--seed", type=int, default=0, help="seed of the resamples (default 0)")
    test.add_argument("--plot", metavar="PATH", help="write the backtest figure (PNG, PDF or SVG)")
    _add_json(test)
    test.set_defaults(run=run_backtest)


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fit", metavar="PATH", help="a fit saved by 'scalinglaw fit --json PATH'")
    parser.add_argument(
        "--law",
        default="chinchilla",
        help="the law of --params: chinchilla (default), kaplan, data_constrained",
    )
    parser.add_argument(
        "--params",
        metavar="K=V,...",
        help="published parameters, e.g. E=1.69,A=406.4,B=410.7,alpha=0.336,beta=0.283",
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="PATH", help="write the answers as JSON; '-' writes only the JSON to stdout"
    )


def _source(args: argparse.Namespace) -> SavedFit:
    if (args.fit is None) == (args.params is None):
        raise ValueError("give --fit PATH (a saved fit) or --params K=V,... (published parameters), not both")
    if args.fit is not None:
        return load_fit(args.fit)
    if args.law not in PARAMETER_NAMES:
        raise ValueError(f"--law must be one of {', '.join(PARAMETER_NAMES)}, got {args.law!r}")
    names = PARAMETER_NAMES[args.law]
    params: dict[str, float] = {}
    for item in args.params.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in names:
            raise ValueError(
                f"--params: {item.strip()!r} is not NAME=VALUE with NAME one of {', '.join(names)}"
            )
        if key in params:
            raise ValueError(f"--params: {key} is given twice")
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"--params: {key} = {value.strip()!r} is not a number") from None
    return SavedFit.published(args.law, params)


def _positive(values: Sequence[float], option: str) -> list[float]:
    for value in values:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{option} must be a finite number > 0, got {value!r}")
    return list(values)


def _emit(args: argparse.Namespace, document: dict[str, Any], text: str) -> None:
    """The text to stdout, or to stderr when the JSON goes to stdout."""
    if args.json == "-":
        print(text, file=sys.stderr)
        json.dump(_plain(document), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
        return
    print(text)
    if args.json:
        write_json(args.json, document)
        print(f"JSON written to {args.json}")


def _plain(value: Any) -> Any:
    """Non-finite floats as null: strict JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _describe_source(source: SavedFit) -> list[str]:
    lines = [f"Law:   {source.name}, {', '.join(f'{k} = {v:.6g}' for k, v in source.law.params.items())}"]
    origin = source.source
    if source.draws:
        origin += f"; {len(source.draws)} bootstrap draws, {100 * source.confidence:g}% intervals"
    lines.append(f"From:  {origin}")
    if source.data is not None:
        data = source.data
        lines.append(
            f"Data:  N {human(data.N[0])} to {human(data.N[1])}, C {data.C[0]:.3g} to {data.C[1]:.3g} FLOPs, "
            f"{data.tokens_per_parameter[0]:.3g} to {data.tokens_per_parameter[1]:.3g} tokens/param"
        )
    return lines


def _span(record: dict[str, Any], key: str, form: Any = human) -> str:
    interval = record.get(f"{key}_interval")
    return f" [{form(interval[0])} - {form(interval[1])}]" if interval else ""


def _place(record: dict[str, Any]) -> str:
    if record.get("extrapolation") is None:
        return ""
    where = (
        "inside the data"
        if record["inside_data"]
        else f"{record['extrapolation']:.3g}x the largest run's compute"
    )
    return f"; {where}"


def run_plan(args: argparse.Namespace) -> int:
    source = _source(args)
    flops = _positive(args.flops, "--flops")
    losses = _positive(args.target_loss, "--target-loss")
    sizes = _positive(args.n, "--n")
    tokens = args.inference_tokens
    if tokens is not None and not (math.isfinite(tokens) and tokens >= 0):
        raise ValueError(f"--inference-tokens must be a finite number >= 0, got {tokens!r}")
    unique = None if args.unique_tokens is None else _positive([args.unique_tokens], "--unique-tokens")[0]
    found = answers.plan(source, C=flops, loss=losses, N=sizes, inference_tokens=tokens, unique_tokens=unique)
    lines = _describe_source(source)
    for record in found:
        lines.append("")
        if tokens is None:
            asked = {"C": f"Budget {record['given']:.3g} FLOPs", "loss": f"Target loss {record['given']:.6g}"}
            under = "" if unique is None else f" with {human(unique)} unique tokens"
            lines.append(asked.get(record["question"], f"Model size {human(record['given'])}") + under + ":")
            epochs = "" if unique is None else f" ({record['epochs']:.3g} epochs)"
            lines.append(
                f"  N {human(record['N'])}{_span(record, 'N')}, D {human(record['D'])}{_span(record, 'D')}"
                f"{epochs}, {record['tokens_per_parameter']:.3g} tokens/param, loss {record['loss']:.5f}"
                f"{_span(record, 'loss', lambda v: f'{v:.5f}')}, C {record['C']:.4g} FLOPs{_place(record)}"
            )
        else:
            asked = {
                "C": f"Total budget {record['given']:.3g} FLOPs",
                "loss": f"Target loss {record['given']:.6g}",
            }
            lines.append(f"{asked[record['question']]} with {tokens:.3g} inference tokens:")
            lines.append(
                f"  N {human(record['N'])}{_span(record, 'N')} ({100 * record['N_ratio']:.2f}% of the "
                f"compute-optimal {human(record['chinchilla_N'])}), "
                f"D {human(record['D'])}{_span(record, 'D')} "
                f"({100 * record['D_ratio']:.2f}%), loss {record['loss']:.5f}"
            )
            lines.append(
                f"  training {record['training_flops']:.4g} + inference {record['inference_flops']:.4g} = "
                f"{record['total_flops']:.4g} FLOPs: {100 * record['flops_ratio']:.2f}% of the "
                f"compute-optimal model's {record['chinchilla_total_flops']:.4g} "
                f"(saves {record['flops_saved']:.4g}){_place(record)}"
            )
        lines += [f"Warning: {warning}" for warning in record["warnings"]]
    _emit(
        args, {"law": {"name": source.name, "params": source.law.params}, "answers": found}, "\n".join(lines)
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    source = _source(args)
    if args.points is not None:
        if args.n or args.d or args.unique_tokens:
            raise ValueError("give --points CSV or --n/--d pairs, not both")
        found = answers.predict(source, read_points(args.points))
    else:
        if not args.n or len(args.n) != len(args.d):
            raise ValueError(f"give --n and --d in pairs (got {len(args.n)} --n and {len(args.d)} --d)")
        if args.unique_tokens and len(args.unique_tokens) != len(args.n):
            raise ValueError(
                f"give one --unique-tokens per --n/--d pair (got {len(args.unique_tokens)} for {len(args.n)})"
            )
        unique = _positive(args.unique_tokens, "--unique-tokens") or None
        found = answers.predict(
            source, _positive(args.n, "--n"), _positive(args.d, "--d"), unique_tokens=unique
        )
    lines = _describe_source(source)
    lines.append("")
    lines += _prediction_table(found) if args.points is not None else _prediction_lines(found)
    _emit(
        args,
        {"law": {"name": source.name, "params": source.law.params}, "predictions": found},
        "\n".join(lines),
    )
    return 0


def _prediction_lines(found: list[dict[str, Any]]) -> list[str]:
    lines = []
    for record in found:
        unique = f", U_D {human(record['unique_tokens'])}" if "unique_tokens" in record else ""
        lines.append(
            f"N {human(record['N'])}, D {human(record['D'])}{unique}: loss {record['loss']:.6f}"
            f"{_span(record, 'loss', lambda v: f'{v:.6f}')}{_place(record)}"
        )
        lines += [f"Warning: {warning}" for warning in record.get("warnings", [])]
    return lines


def _prediction_table(found: list[dict[str, Any]]) -> list[str]:
    """One line per point, named by its file row; the warnings after the table, by row."""
    unique = any("unique_tokens" in record for record in found)
    interval = any("loss_interval" in record for record in found)
    placed = any(record.get("extrapolation") is not None for record in found)
    head = f"{'row':>6} {'N':>8} {'D':>8}" + (f" {'U_D':>8}" if unique else "") + f" {'loss':>9}"
    if interval:
        confidence = next(record["confidence"] for record in found if "confidence" in record)
        head += f"  {f'{100 * confidence:g}% interval':<21}"
    if placed:
        head += "  place"
    lines = [head.rstrip()]
    for record in found:
        line = f"{record['row']:>6} {human(record['N']):>8} {human(record['D']):>8}"
        if unique:
            line += f" {human(record['unique_tokens']):>8}"
        line += f" {record['loss']:>9.6f}"
        if interval:
            low, high = record["loss_interval"]
            line += f"  {f'{low:.6f} - {high:.6f}':<21}"
        if placed:
            line += "  " + _place(record).removeprefix("; ")
        lines.append(line.rstrip())
    lines += [f"Warning: row {r['row']}: {warning}" for r in found for warning in r.get("warnings", [])]
    if interval:
        lines.append(f"Intervals: {found[0]['interval']}")
    return lines


def _setting(text: str) -> tuple[str, dict[str, Any]]:
    options: dict[str, Any] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if key != "delta" or not sep:
            raise ValueError(f"--compare: {item.strip()!r} is not a setting (known: delta=VALUE)")
        try:
            options[key] = float(value)
        except ValueError:
            raise ValueError(f"--compare: {key} = {value.strip()!r} is not a number") from None
        if not (math.isfinite(options[key]) and options[key] > 0):
            raise ValueError(f"--compare: delta must be a finite number > 0, got {value.strip()}")
    return text, options


def run_backtest(args: argparse.Namespace) -> int:
    splits = args.split or list(DEFAULT_SPLITS)
    budgets = _positive([GOPHER_FLOPS, *args.budget], "--budget")
    if args.bootstrap < 2:
        raise ValueError(f"--bootstrap must be at least 2 resamples per split, got {args.bootstrap}")
    if not (math.isfinite(args.delta) and args.delta > 0):
        raise ValueError(f"--delta must be a finite number > 0, got {args.delta!r}")
    settings = dict(
        [(f"delta={args.delta:g}", {"delta": args.delta}), *(_setting(text) for text in args.compare)]
    )
    if args.csv is None:
        if any(getattr(args, name) is not None for name in ("n", "d", "c", "loss")):
            raise ValueError("--n/--d/--c/--loss name columns of a CSV; give the CSV too")
        runs = load_chinchilla()
    else:
        runs = read_csv(args.csv, n=args.n, d=args.d, c=args.c, loss=args.loss)
    options = {"splits": splits, "budgets": budgets, "n_resamples": args.bootstrap, "seed": args.seed}
    ranked = compare(settings, *runs, **options)
    lines = [f"Backtest of {runs.source}: {len(runs)} runs, {args.bootstrap} resamples per split"]
    for label, result in ranked:
        lines += [
            "",
            f"Setting {label}: mean held-out ARE {100 * result.are_mean:.3g}%",
            *_split_lines(result),
        ]
    if len(ranked) > 1:
        lines += ["", "Ranked by held-out error: " + " < ".join(label for label, _ in ranked)]
    document = {
        "source": runs.source,
        "n_runs": len(runs),
        "ranking": [label for label, _ in ranked],
        "settings": {label: result.to_dict() for label, result in ranked},
    }
    if args.plot:
        from .plot_trust import backtest_figure

        backtest_figure(dict(ranked)[next(iter(settings))]).savefig(args.plot)
        lines.append(f"\nBacktest figure written to {args.plot}")
    _emit(args, document, "\n".join(lines))
    return 0


def _split_lines(result: BacktestResult) -> list[str]:
    lines = [
        f"  {'split':<12} {'fit':>4} {'held':>4} {'extrap':>7} {'ARE mean':>9} {'max':>7} {'signed':>8} "
        f"{'covered':>8}  plan drift at each budget (N_opt / full data's; * = full plan outside interval)"
    ]
    for split in result.splits:
        drifts = ", ".join(
            f"{plan.C:.3g}: {plan.drift:.3g}{'' if plan.full_inside else '*'}" for plan in split.plans
        )
        lines.append(
            f"  {split.name:<12} {split.n_train:>4} {split.n_heldout:>4} {split.extrapolation:>6.3g}x "
            f"{100 * split.are_mean:>8.2f}% {100 * split.are_max:>6.2f}% {100 * split.signed_mean:>+7.2f}% "
            f"{100 * split.coverage:>7.0f}%  {drifts}"
        )
    lines += [f"  skipped {name}: {why}" for name, why in result.skipped.items()]
    return lines
