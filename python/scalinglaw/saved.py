"""A fit saved as JSON and read back: ``scalinglaw fit --json fit.json`` writes it, ``load_fit`` reads it.

The document is self-describing and versioned (``schema_version``): the law's name, formula and
parameters, the units, the columns and options used, the region the runs cover (``data_range``), and,
when there was a bootstrap, every converged resample's parameters (``draws``) and the scatter of single
runs around the law (``scatter``, log residuals; see ``backtest.residual_scatter``), from which plans
and predictions get their intervals without refitting. Floats are written by ``repr``, so a loaded law
answers exactly as the fitted one did.
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
from .law import LAWS, ScalingLaw
from .trust import DataRange

SCHEMA_VERSION = 1
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
    scatter: FloatArray | None  #: log residuals of single runs, for predictive intervals
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
    scatter: Any = None,
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
        fields["scatter"] = [float(v) for v in scatter]
    return fields


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
    scatter = None if document.get("scatter") is None else np.asarray(document["scatter"], dtype=np.float64)
    return SavedFit(law, str(name), draws, confidence, data, scatter, where)
