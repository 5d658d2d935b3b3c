"""A fit saved as JSON and read back: ``scalinglaw fit --json fit.json`` writes it, ``load_fit`` reads it.

The document is self-describing and versioned (``schema_version``): the law's name, formula and
parameters, the units, the columns and options used, the region the runs cover (``data_range``), and,
when there was a bootstrap, every converged resample's parameters (``draws``) and the calibration of the
predictive intervals (``scatter``: the fields of ``intervals.Scatter``, labelled), from which plans and
predictions get their intervals without refitting. Floats are written by ``repr``, so a loaded law
answers exactly as the fitted one did, and a prediction's interval is the bootstrap's
``predict_interval`` to the last bit.

Version 2 changed ``scatter`` from version 1's list of log residuals (a sample added to the draws'
predictions) to the calibration of ``scalinglaw.intervals``; a version 1 document is still read, its
scatter left out with a warning (its predictions then carry the draws' parameter-only intervals).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ._checks import FloatArray
from .intervals import Scatter
from .law import LAWS, ScalingLaw
from .trust import DataRange
from .warnings import ScalingLawWarning, warn

SCHEMA_VERSION = 2
#: The rows of ``Scatter.log_range``, as labelled in the document.
LOG_RANGE_KEYS = ("N", "D", "C")
#: Each law's parameters, by the law's name (a document names its law; see ``scalinglaw.law.LAWS``).
PARAMETER_NAMES: dict[str, tuple[str, ...]] = {name: cls.names() for name, cls in LAWS.items()}
FORMULAS = {name: cls.FORMULA for name, cls in LAWS.items()}
UNITS = {
    "N": "parameters",
    "D": "training tokens",
    "C": "training FLOPs, C = 6 N D",
    "loss": "the unit of the fitted losses (nats per token for a language model's cross-entropy)",
}

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class SavedFit:
    """A law with what is known of it: its bootstrap draws and the data it was fitted to, if saved."""

    law: ScalingLaw
    name: str  #: the law's name, e.g. "chinchilla"
    draws: tuple[ScalingLaw, ...]  #: converged bootstrap resamples' laws (empty without a bootstrap)
    confidence: float  #: of intervals from the draws
    data: DataRange | None  #: the region the runs cover (None for published parameters)
    scatter: Scatter | None  #: the calibration of the predictive intervals of the loss (with draws)
    source: str  #: where it came from: a file, or "published parameters"

    @classmethod
    def published(cls, name: str, params: Mapping[str, float]) -> SavedFit:
        """A law from published parameters: no draws, no data."""
        return cls(_law(name, params, "params"), name, (), 0.95, None, None, "published parameters")


def _law(name: str, params: Any, where: str) -> ScalingLaw:
    if name not in LAWS:
        raise ValueError(f"{where}: unknown law {name!r}; known: {', '.join(sorted(LAWS))}")
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: the parameters must be a mapping of names to numbers")
    names = PARAMETER_NAMES[name]
    info = LAWS[name].info()
    unknown = sorted(set(params) - set(names))
    missing = [key for key in names if key not in params]
    if unknown or missing:
        said = "; ".join(
            part
            for part in (
                f"unknown {', '.join(unknown)}" if unknown else "",
                f"missing {', '.join(missing)}" if missing else "",
            )
            if part
        )
        raise ValueError(f"{where}: law {name!r} has parameters {', '.join(names)}: {said}")
    values = {}
    for key, positive, may_be_infinite in zip(names, info.log_scale, info.may_be_infinite):
        value = params[key]
        if may_be_infinite and value is None:  # JSON has no infinity: the writer's null (R* = inf)
            value = math.inf
        infinite = may_be_infinite and isinstance(value, float) and value == math.inf
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) or infinite)
        ):
            raise ValueError(f"{where}: {key} must be a finite number, got {value!r}")
        if positive and not value > 0:
            raise ValueError(f"{where}: {key} must be > 0, got {float(value)!r}")
        values[key] = float(value)
    return LAWS[name](**values)


def saved_fields(
    law: ScalingLaw,
    *,
    options: Mapping[str, Any],
    data: DataRange,
    draws: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    scatter: Scatter | None = None,
) -> dict[str, Any]:
    """The keys a fit's JSON document needs to be loaded back (merged into the document's top level)."""
    fields: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "law": {"name": law.KIND, "formula": law.FORMULA, "params": dict(law.params)},
        "units": dict(UNITS),
        "options": dict(options),
        "data_range": data.to_dict(),
        "draws": None,
        "scatter": None,
    }
    if draws is not None:
        fields["draws"] = {
            "confidence": confidence,
            "params": {key: [float(v) for v in draws[key]] for key in law.names()},
        }
    if scatter is not None:
        fields["scatter"] = scatter_fields(scatter)
    return fields


def scatter_fields(scatter: Scatter) -> dict[str, Any]:
    """The document's ``scatter``: s0 and g in log loss, the runs' range in log10 N, D and C (each [lowest,
    highest]), and the studentized scores inside the runs' range and beyond it (see ``intervals``)."""
    return {
        "scale": float(scatter.scale),
        "growth": float(scatter.growth),
        "log_range": {key: [float(v) for v in row] for key, row in zip(LOG_RANGE_KEYS, scatter.log_range)},
        "inside": [float(v) for v in scatter.inside],
        "beyond": [float(v) for v in scatter.beyond],
    }


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _numbers(values: Any, where: str) -> FloatArray:
    if not isinstance(values, list):
        raise ValueError(f"{where} must be a list of numbers, got {type(values).__name__}")
    return np.array([_number(v, f"{where}[{i}]") for i, v in enumerate(values)], dtype=np.float64)


def _scatter(entry: Any, where: str) -> Scatter:
    """The ``scatter`` of a version 2 document, checked."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be a mapping of scale, growth, log_range, inside, beyond")
    missing = [key for key in ("scale", "growth", "log_range", "inside", "beyond") if key not in entry]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    ranges = entry["log_range"]
    shape = f"{where}: log_range must give [lowest, highest] log10 of each of N, D, C, got {ranges!r}"
    if not isinstance(ranges, Mapping) or sorted(ranges) != sorted(LOG_RANGE_KEYS):
        raise ValueError(shape)
    rows = [_numbers(ranges[key], f"{where}: log_range {key}") for key in LOG_RANGE_KEYS]
    if any(row.shape != (2,) or not row[0] <= row[1] for row in rows):
        raise ValueError(shape)
    log_range = np.array(rows)
    scale, growth = (_number(entry[key], f"{where}: {key}") for key in ("scale", "growth"))
    if scale < 0 or growth < 0:
        raise ValueError(f"{where}: scale and growth must be >= 0, got {scale!r} and {growth!r}")
    return Scatter(
        scale=scale,
        growth=growth,
        inside=_numbers(entry["inside"], f"{where}: inside"),
        beyond=_numbers(entry["beyond"], f"{where}: beyond"),
        log_range=log_range,
    )


def load_fit(path: PathLike) -> SavedFit:
    """Reads a fit written by ``scalinglaw fit --json`` back; its law answers exactly as the fit did."""
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {where}") from None
    except OSError as error:  # a directory, a loop of symbolic links, a name too long, ...
        raise ValueError(f"{where}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not JSON (line {error.lineno}: {error.msg})") from None
    return from_document(document, where)


def from_document(document: Any, where: str = "the document") -> SavedFit:
    if not isinstance(document, Mapping) or "schema_version" not in document:
        raise ValueError(
            f"{where}: not a saved fit (no schema_version): write one with scalinglaw fit ... --json PATH"
        )
    version = document["schema_version"]
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise ValueError(
            f"{where}: schema_version {version!r} is not one this scalinglaw reads (1 to {SCHEMA_VERSION}); "
            "upgrade scalinglaw"
        )
    law_entry = document.get("law")
    if not isinstance(law_entry, Mapping):
        raise ValueError(f"{where}: 'law' must name the law and its params")
    name = law_entry.get("name")
    law = _law(str(name), law_entry.get("params"), f"{where}: law")
    draws: tuple[ScalingLaw, ...] = ()
    confidence = 0.95
    if document.get("draws"):
        entry = document["draws"]
        confidence = float(entry["confidence"])
        columns = entry["params"]
        names = PARAMETER_NAMES[str(name)]
        count = len(columns[names[0]])
        if any(len(columns[key]) != count for key in names):
            raise ValueError(f"{where}: draws: every parameter needs one value per resample")
        draws = tuple(
            _law(str(name), {key: columns[key][r] for key in names}, f"{where}: draw {r}")
            for r in range(count)
        )
    data = None
    if document.get("data_range"):
        ranges = document["data_range"]
        data = DataRange(**{key: (float(ranges[key][0]), float(ranges[key][1])) for key in ranges})
    scatter = None
    if version == 1 and document.get("scatter") and draws:
        warn(
            f"{where}: a schema_version 1 fit, whose scatter of single runs the predictive intervals no "
            "longer use: its predictions carry the draws' parameter-only intervals (narrower); write the "
            "fit again (scalinglaw fit ... --json PATH) for calibrated ones",
            ScalingLawWarning,
        )
    elif version >= 2 and document.get("scatter") is not None:
        scatter = _scatter(document["scatter"], f"{where}: scatter")
    return SavedFit(law, str(name), draws, confidence, data, scatter, where)
