"""Goodness of fit: how far the runs stand from the fitted law, and which runs stand apart.

A converged optimiser says nothing about the data. These numbers do: the rms of the log residuals
r_i = log L_i - log L(N_i, D_i), the largest absolute relative error |L_pred / L - 1|, and the runs with
the largest |r_i|. A run is flagged as a possible outlier when its residual lies more than
``OUTLIER_Z`` robust standard deviations from the median residual (the standard deviation estimated
as 1.4826 times the median absolute deviation, which the outliers themselves barely move). At 5, a
clean sample of 10^4 Gaussian residuals flags a run about once in 200 samples, while a run 7% off on
a ladder with 1% scatter stands 7 deviations out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks
from ._checks import FloatArray

OUTLIER_Z = 5.0
#: The Gaussian standard deviation per median absolute deviation.
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class GoodnessOfFit:
    residuals: FloatArray  #: log L_i - log L(N_i, D_i), in input order
    rms: float  #: root mean square of the residuals
    are_max: float  #: max |L(N_i, D_i) / L_i - 1|
    robust_scale: float  #: 1.4826 median |r_i - median r|
    worst: NDArray[np.int64]  #: positions of the runs with the largest |r_i|, largest first
    outliers: NDArray[np.int64]  #: positions of the runs more than OUTLIER_Z robust scales out
    rows: NDArray[np.int64] | None  #: the file row of each run (1-based, header = 1), when known

    def describe(self, position: int) -> str:
        """One run as a person reads it: position, file row, residual in per cent."""
        where = f"run {position}" + (
            f" (file row {int(self.rows[position])})" if self.rows is not None else ""
        )
        return f"{where}: {100 * (np.exp(self.residuals[position]) - 1):+.2f}% from the law"

    def to_dict(self) -> dict[str, Any]:
        def run(position: int) -> dict[str, Any]:
            entry: dict[str, Any] = {"index": int(position), "residual": float(self.residuals[position])}
            if self.rows is not None:
                entry["row"] = int(self.rows[position])
            entry["outlier"] = bool(position in self.outliers)
            return entry

        return {
            "rms_log_residual": self.rms,
            "are_max": self.are_max,
            "robust_scale": self.robust_scale,
            "outlier_z": OUTLIER_Z,
            "worst": [run(int(i)) for i in self.worst],
            "outliers": [int(i) for i in self.outliers],
        }


def goodness_of_fit(
    law: Any, N: Any, D: Any, loss: Any, *, worst: int = 5, rows: Any = None, unique_tokens: Any = None
) -> GoodnessOfFit:
    """Residual statistics of ``law`` (a law object or FitResult) on the runs; ``worst`` runs are
    listed, ``rows`` (optional) gives each run's row in its file so that the listing can name it.
    ``unique_tokens``: each run's U_D, for the data-constrained law (default U_D = D)."""
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    _checks.same_length(N=n, D=d, loss=l_)
    count = _checks.whole_number(worst, "worst", minimum=0)
    row_array = None
    if rows is not None:
        row_array = np.asarray(rows, dtype=np.int64)
        if row_array.shape != n.shape:
            raise ValueError(f"rows must have one entry per run ({n.size}), got shape {row_array.shape}")
    by_law = law.predict(n, d) if unique_tokens is None else law.predict(n, d, unique_tokens)
    predicted = np.asarray(by_law, dtype=np.float64)
    residuals = np.log(l_) - np.log(predicted)
    deviation = np.abs(residuals - np.median(residuals))
    scale = float(MAD_SCALE * np.median(deviation))
    order = np.argsort(-np.abs(residuals), kind="stable")
    flagged = np.flatnonzero(deviation > OUTLIER_Z * scale) if scale > 0 else np.empty(0, np.int64)
    flagged = flagged[np.argsort(-deviation[flagged], kind="stable")]
    return GoodnessOfFit(
        residuals=residuals,
        rms=float(np.sqrt(np.mean(residuals**2))),
        are_max=float(np.max(np.abs(predicted / l_ - 1))),
        robust_scale=scale,
        worst=order[:count].astype(np.int64),
        outliers=flagged.astype(np.int64),
        rows=row_array,
    )
