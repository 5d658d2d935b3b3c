"""The answers people ask a law for, without refitting: each one a flat, labelled record (one row per
answer under ``pandas.json_normalize``), with its interval when the law comes with bootstrap draws, and
its place against the data the law was fitted to.

* ``plan(source, C=...)``: the compute-optimal N, D and loss for a budget of C FLOPs;
* ``plan(source, loss=...)``: the smallest budget whose compute-optimal model reaches the loss;
* ``plan(source, N=...)``: the tokens (and budget) for which N parameters is compute-optimal;
* any of these with ``inference_tokens=T`` (a target loss, or a total budget C of training plus
  inference FLOPs): the model that minimises 6 N D + 2 N T (``inference.inference_optimal``);
* ``predict(source, N, D)``: the loss, with a predictive interval when the source has draws and the
  scatter of single runs; ``predict(source, points)`` for the points of a file read by
  ``io.read_points``, each record naming its file row.

Intervals of a plan's N, D, budget and tokens per parameter are percentiles of the same answer computed
from every draw; draws for which the answer does not exist (a target loss at or below a draw's E) are
counted in ``undefined_draws`` and left out. Intervals of the loss a run will reach -- a prediction's,
and a plan's at its (N, D) -- are ``intervals.predict_interval`` of the draws and the saved scatter:
the same as ``BootstrapResult.predict_interval`` of the bootstrap that was saved (parameter uncertainty,
the scatter of single runs, and the law's error growing as it extrapolates, calibrated out of sample).
Without a saved scatter, they are the draws' percentiles alone, labelled "parameters only".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._checks import FloatArray
from .intervals import predict_interval
from .io import Points
from .law import ScalingLaw
from .saved import SavedFit
from .trust import FAR_BEYOND, plan_warnings

Record = dict[str, Any]
#: How many (draw, point) predictions ``predict`` holds at once (8 bytes each, a few copies).
DRAWN_CELLS = 1 << 22
PREDICTIVE = "predictive (parameters, the scatter of single runs, extrapolation; calibrated out of sample)"
PARAMETERS_ONLY = "parameters only"


def _draw_params(source: SavedFit) -> FloatArray:
    """The draws' parameters, one row each in the law's order (as ``intervals.predict_interval`` takes)."""
    names = source.law.names()
    return np.array([[law.params[key] for key in names] for law in source.draws], dtype=np.float64)


def _predictive(source: SavedFit) -> bool:
    """Whether the source gives predictive intervals of the loss: a saved scatter and 2 draws or more."""
    return source.scatter is not None and len(source.draws) >= 2


def _interval(values: Sequence[float], confidence: float) -> list[float] | None:
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if finite.size < 2:
        return None
    tail = 50 * (1 - confidence)
    low, high = np.percentile(finite, [tail, 100 - tail])
    return [float(low), float(high)]


def _over_draws(source: SavedFit, answer: Callable[[ScalingLaw], Record], keys: Sequence[str]) -> Record:
    """Intervals of ``keys`` of ``answer`` over the source's draws."""
    if not source.draws:
        return {}
    per_key: dict[str, list[float]] = {key: [] for key in keys}
    undefined = 0
    for law in source.draws:
        try:
            found = answer(law)
        except ValueError:
            undefined += 1
            continue
        for key in keys:
            per_key[key].append(float(found[key]))
    out: Record = {f"{key}_interval": _interval(values, source.confidence) for key, values in per_key.items()}
    out["confidence"] = source.confidence
    out["undefined_draws"] = undefined
    return out


def _place(source: SavedFit, record: Record) -> Record:
    """Where an answer stands against the data: how far beyond the largest run's compute, whether its
    tokens per parameter lie in the runs' range, and the warnings of ``trust.plan_warnings``."""
    data = source.data
    C = float(record["C"])  # training compute, the runs' kind
    tpp = record["D"] / record["N"]
    interval = record.get("N_interval")
    factor = interval[1] / interval[0] if interval else None
    epochs = record.get("epochs")
    if data is None:
        return {
            "extrapolation": None,
            "inside_data": None,
            "warnings": plan_warnings(
                None, C=C, tokens_per_parameter=tpp, interval_factor=factor, epochs=epochs
            ),
        }
    extrapolation = C / data.C[1]
    low, high = data.tokens_per_parameter
    return {
        "extrapolation": extrapolation,
        "inside_data": bool(extrapolation <= 1 and low <= tpp <= high and not data.repeats_beyond(epochs)),
        "warnings": plan_warnings(data, C=C, tokens_per_parameter=tpp, interval_factor=factor, epochs=epochs),
    }


def _allocation(law: ScalingLaw, question: str, value: float, unique_tokens: float | None = None) -> Record:
    if question == "C":
        found = law.compute_optimal(value, unique_tokens)
    elif question == "loss":
        found = law.budget_for_loss(value, unique_tokens)
    else:
        found = law.optimal_for_size(value, unique_tokens)
    record = {
        "C": float(found.C),
        "N": float(found.N),
        "D": float(found.D),
        "loss": float(found.loss),
        "tokens_per_parameter": float(found.tokens_per_parameter),
    }
    if unique_tokens is not None:  # the run sees U_D = min(U, D) unique tokens, D / U_D times each
        record["epochs"] = record["D"] / min(unique_tokens, record["D"])
    return record


def _inference(
    law: ScalingLaw, question: str, value: float, tokens: float, unique: float | None = None
) -> Record:
    found = law.inference_optimal(tokens, unique_tokens=unique, **{question: value})
    record = found.to_dict()
    record["C"] = found.training_flops
    return record


QUESTIONS = {
    "C": "compute-optimal model for a budget",
    "loss": "smallest budget for a loss",
    "N": "tokens for a size",
}


def plan(
    source: SavedFit,
    *,
    C: Sequence[float] = (),
    loss: Sequence[float] = (),
    N: Sequence[float] = (),
    inference_tokens: float | None = None,
    unique_tokens: float | None = None,
) -> list[Record]:
    """Every answer asked for, in the order: budgets, target losses, sizes. With ``inference_tokens``,
    budgets are totals of training and inference FLOPs, and sizes cannot be asked. With
    ``unique_tokens`` (the data-constrained law only), every answer is under that budget of unique
    tokens, repeated for as many epochs as the optimum takes (each record's ``epochs``)."""
    if not (C or loss or N):
        raise ValueError("ask for at least one answer: a budget C, a target loss or a model size N")
    if inference_tokens is not None and N:
        raise ValueError("inference-aware sizing chooses N: ask for a target loss or a total budget C, not N")
    if unique_tokens is not None:
        if not source.law.needs_unique_tokens:
            raise ValueError(
                f"unique_tokens plans with repeated data, which the {source.law.KIND} law does not model: "
                "fit the data_constrained law (or leave unique_tokens out)"
            )
        unique_tokens = _checks.positive_number(unique_tokens, "unique_tokens")
    records = []
    params = _draw_params(source) if _predictive(source) else None
    for question, values in (("C", C), ("loss", loss), ("N", N)):
        for value in values:
            if inference_tokens is None:
                record: Record = {
                    "question": question,
                    "given": float(value),
                    **({} if unique_tokens is None else {"unique_tokens": unique_tokens}),
                    **_allocation(source.law, question, value, unique_tokens),
                }
                keys = ["C", "N", "D", "loss", "tokens_per_parameter"]
                answer = partial(_allocation, question=question, value=value, unique_tokens=unique_tokens)
                record.update(_over_draws(source, answer, keys))
            else:
                record = {"question": question, "given": float(value)}
                record.update(_inference(source.law, question, value, inference_tokens, unique_tokens))
                keys = ["N", "D", "loss", "total_flops", "flops_saved"]
                record.update(
                    _over_draws(
                        source,
                        partial(_inference, question=question, value=value, tokens=inference_tokens),
                        keys,
                    )
                )
            if params is not None and source.scatter is not None:
                # The loss a run at the plan's N, D would reach, as ``predict`` gives it.
                record["loss_interval"] = list(
                    predict_interval(
                        source.law,
                        params,
                        source.scatter,
                        record["N"],
                        record["D"],
                        confidence=source.confidence,
                        unique_tokens=None if unique_tokens is None else min(unique_tokens, record["D"]),
                    )
                )
            if record.get("loss_interval") is not None:
                record["loss_interval_kind"] = PREDICTIVE if params is not None else PARAMETERS_ONLY
            record.update(_place(source, record))
            records.append(record)
    return records


def predict(
    source: SavedFit,
    N: ArrayLike | Points,
    D: ArrayLike | None = None,
    *,
    unique_tokens: ArrayLike | None = None,
) -> list[Record]:
    """The loss at each (N, D) (U_D = ``unique_tokens`` for the data-constrained law, default D), with a
    predictive interval when the source has draws and scatter (``BootstrapResult.predict_interval`` of
    the bootstrap saved; a parameter-only interval, labelled so, with draws alone). ``N`` may instead be
    the ``Points`` of a file (``io.read_points``): then each record also names its ``row`` in the file."""
    rows = None
    if isinstance(N, Points):
        if D is not None or unique_tokens is not None:
            raise ValueError("give the points of a file, or N and D (and unique_tokens), not both")
        points = N
        N, D, rows = points.N, points.D, points.rows
        # A file's unique-token column is read for the law that needs it, and left for the others.
        unique_tokens = points.unique_tokens if source.law.needs_unique_tokens else None
    elif unique_tokens is not None and not source.law.needs_unique_tokens:
        raise ValueError(f"the {source.name} law does not use unique tokens: give them for data_constrained")
    if D is None:
        raise ValueError("give D, the training tokens at each N")
    n = np.asarray(N, dtype=np.float64)
    d = np.asarray(D, dtype=np.float64)
    if n.shape != d.shape or n.ndim != 1:
        raise ValueError(f"N and D must be equally long lists, got {n.shape} and {d.shape}")
    u = None if unique_tokens is None else np.asarray(unique_tokens, dtype=np.float64)
    if u is not None and u.shape != n.shape:
        raise ValueError(f"unique_tokens must have one value per point ({n.size}), got shape {u.shape}")
    for name, values in (("N", n), ("D", d), ("unique_tokens", u)):
        if values is None:
            continue
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {values[i]!r} is not a finite number > 0")
    loss = source.law.predict(n, d, u)
    low = high = None
    kind: str | None = None
    if _predictive(source):
        assert source.scatter is not None
        kind = PREDICTIVE
        low, high = predict_interval(
            source.law,
            _draw_params(source),
            source.scatter,
            n,
            d,
            confidence=source.confidence,
            unique_tokens=u,
        )
    elif source.draws:
        kind = PARAMETERS_ONLY
        tail = 50 * (1 - source.confidence)
        low, high = np.empty_like(n), np.empty_like(n)
        # Points in blocks of at most DRAWN_CELLS draws x points: a file of many points needs no more memory.
        step = max(1, DRAWN_CELLS // len(source.draws))
        for start in range(0, n.size, step):
            block = slice(start, start + step)
            ub = None if u is None else u[block]
            drawn = np.log(np.stack([law.predict(n[block], d[block], ub) for law in source.draws]))
            low[block], high[block] = np.exp(np.percentile(drawn, [tail, 100 - tail], axis=0))
    records = []
    for i in range(n.size):
        record: Record = {} if rows is None else {"row": int(rows[i])}
        record.update({"N": float(n[i]), "D": float(d[i])})
        if u is not None:
            record["unique_tokens"] = float(u[i])
        record.update({"C": float(6.0 * n[i] * d[i]), "loss": float(loss[i])})
        if low is not None and high is not None:
            record.update(
                {
                    "loss_interval": [float(low[i]), float(high[i])],
                    "interval": kind,
                    "confidence": source.confidence,
                }
            )
        if source.data is not None:
            extrapolation = record["C"] / source.data.C[1]
            tpp = d[i] / n[i]
            lo, hi = source.data.tokens_per_parameter
            record["extrapolation"] = extrapolation
            record["inside_data"] = bool(extrapolation <= 1 and lo <= tpp <= hi)
            record["warnings"] = (
                [f"{extrapolation:.3g}x the largest run's compute: an extrapolation far outside the data"]
                if extrapolation > FAR_BEYOND
                else []
            )
        records.append(record)
    return records
