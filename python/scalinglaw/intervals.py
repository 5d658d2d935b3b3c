"""Predictive intervals of the loss a new run would reach: the bootstrap's parameter uncertainty plus the
scatter of single runs around the law, calibrated on errors measured out of sample.

The interval at (N, D) is log L(N, D) +- z s(N, D), L the full-data law, with
s^2 = s0^2 + v(N, D) + (g x)^2: v the variance of the converged resamples' log L_r(N, D) (parameter
uncertainty), s0^2 the variance of single runs around the law, and g x the law's own error as it
extrapolates, x decades past the runs' range in N, D or C (the farthest; 0 inside). z is a quantile of
*studentized scores* -- errors of runs predicted by fits that did not see them, each divided by its own
s: a normalized split-conformal interval (Papadopoulos et al. 2008; Lei et al. 2018) whose local scale
is the bootstrap's standard error, the runs' scatter and the extrapolation error.

* Inside the runs' range the scores are the runs' *out-of-bag* residuals: run i against the mean log
  prediction of the resamples that did not draw it (the jackknife+-after-bootstrap of Kim, Xu &
  Barber 2020, at no extra fit), summed one resample at a time (its runs regenerated from the seed):
  O(runs) memory, never a (resamples, runs) table. A fit's own residuals understate how far unseen
  runs stray, since the fit bent towards them; s0^2 is the residuals' mean square less the
  resamples' variance there.
* Beyond it the errors of two *forward* splits inside the runs also count: fit the lower half of the
  range of log C (likewise log N), bootstrap that fit (``FORWARD_RESAMPLES`` resamples) for its own
  v, and predict the upper half. Their mean squared error beyond s0^2 + v gives the growth g per
  decade (g^2 = max(0, sum(e^2 - s0^2 - v) / sum(x^2))): the bootstrap trusts the law, while real
  ladders bend away from it as it extrapolates (on the Chinchilla data, held-out large runs stray
  about twice as far as fitted ones; the bootstrap alone covered 12-79% of held-out runs). Where the
  law is true, g is about 0 and the interval is the bootstrap's with the runs' scatter added.
  Extrapolating intervals take the larger of the two scores' quantiles: the forward splits' errors
  share one or two inner fits' parameter errors, a weak ground for narrowing the runs' own scatter.

Scores enter by magnitude (symmetric intervals: the errors of one inner fit all lean one way), with
split conformal's finite-sample correction (the level (1 + 1/m) quantile of m scores; with fewer than
about 1/(1 - level) scores, the largest). Coverage of held-out runs measured on the Chinchilla data,
Gadre et al.'s ladder and law-true synthetic ladders: tests/test_backtest.py.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks, _core
from ._checks import FloatArray
from .fit import STATUS_NAMES, FitResult, fit, parameter_map
from .law import ScalingLaw

#: Resamples of each forward split's fit, for its parameter variance at the runs it predicts.
FORWARD_RESAMPLES = 100
#: Predictions held at once by predict_interval (resamples x points), 32 MB.
CHUNK = 4_000_000
#: Runs a forward split needs to be refitted (the Chinchilla law has 5 parameters).
MINIMUM_FIT = 5


@dataclass(frozen=True)
class FittedRuns:
    """The runs a bootstrap refitted, as the intervals need them."""

    N: FloatArray
    D: FloatArray
    loss: FloatArray
    unique_tokens: FloatArray | None = None
    weights: FloatArray | None = None


@dataclass(frozen=True)
class Scatter:
    """Single runs' scatter around the law and the studentized out-of-sample scores (see the module)."""

    scale: float  #: s0, the standard deviation of single runs around the law, in log loss
    growth: float  #: g, the growth per decade of the law's error beyond the bootstrap's (misspecification)
    inside: FloatArray  #: studentized out-of-bag residuals of the runs
    beyond: FloatArray  #: studentized errors of the forward splits' held-out runs
    log_range: FloatArray  #: (3, 2) lowest and highest log10 N, D, C of the runs

    def distance(self, N: FloatArray, D: FloatArray) -> FloatArray:
        """Decades from the runs' range in N, D or C, the farthest of the three (0 inside it)."""
        return _distance(N, D, self.log_range)

    def to_dict(self) -> dict[str, Any]:
        """The calibration in brief (for JSON): s0, g, and how many scores of each kind."""
        return {
            "scale": self.scale,
            "growth": self.growth,
            "n_inside": int(self.inside.size),
            "n_beyond": int(self.beyond.size),
        }


def _log_range(n: FloatArray, d: FloatArray) -> FloatArray:
    return np.array([[v.min(), v.max()] for v in (np.log10(n), np.log10(d), np.log10(6.0 * n * d))])


def _distance(n: FloatArray, d: FloatArray, log_range: FloatArray) -> FloatArray:
    values = np.stack(np.broadcast_arrays(np.log10(n), np.log10(d), np.log10(6.0 * n * d)))
    flat = values.reshape(3, -1)
    low, high = log_range[:, :1], log_range[:, 1:]
    outside = np.maximum(low - flat, 0.0) + np.maximum(flat - high, 0.0)
    return np.asarray(outside.max(axis=0).reshape(values.shape[1:]))


def log_predictions(
    law: type[ScalingLaw], params: FloatArray, N: FloatArray, D: FloatArray, unique_tokens: Any = None
) -> FloatArray:
    """log L(N, D) of each law of ``params`` (rows: the law's parameters in order), shape (rows, *N)."""
    return np.log(np.stack([law(*row).predict(N, D, unique_tokens) for row in params.tolist()]))


def _log_rows(law: type[ScalingLaw], params: FloatArray, runs: FittedRuns) -> Iterator[FloatArray]:
    """log L_r at the runs, one resample r (a row of ``params``) at a time."""
    for row in params.tolist():
        yield np.log(law(*row).predict(runs.N, runs.D, runs.unique_tokens))


def _log_variance(
    law: type[ScalingLaw], params: FloatArray, runs: FittedRuns, total: FloatArray | None = None
) -> FloatArray:
    """The variance over the rows of ``params`` of log L_r at each run (ddof=1; 0 with one row), one row
    at a time in two passes (the mean, then the squared deviations, as numpy's ``var`` sums them);
    ``total``: the rows' sum, if known."""
    count = len(params)
    variance = np.zeros(len(runs.N))
    if count < 2:
        return variance
    if total is None:
        total = np.zeros(len(runs.N))
        for predicted in _log_rows(law, params, runs):
            total += predicted
    mean = total / count
    for predicted in _log_rows(law, params, runs):
        deviation = predicted - mean
        variance += deviation * deviation
    return np.asarray(variance / (count - 1))


def out_of_bag(
    law: type[ScalingLaw], params: FloatArray, resamples: Iterable[NDArray[np.int64]], runs: FittedRuns
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """The variance over the resamples of log L_r at each run (ddof=1; 0 with one resample), each run's
    out-of-bag residual -- its log loss minus the mean log prediction of the resamples that did not
    draw it -- and which runs have one (a run in every resample has none). ``params`` holds one row per
    resample, ``resamples`` the run indices each drew, in the same order.

    One resample at a time, in two passes (the mean, then the squared deviations, as numpy's ``var``
    sums them): memory O(runs), never the (resamples, runs) table of predictions or draws."""
    size = len(runs.N)
    total, out_total = np.zeros(size), np.zeros(size)
    out_count = np.zeros(size, dtype=np.int64)
    done = 0
    for predicted, drawn in zip(_log_rows(law, params, runs), resamples):
        total += predicted
        out = np.ones(size, dtype=bool)
        out[drawn] = False
        out_total += np.where(out, predicted, 0.0)
        out_count += out
        done += 1
    if done != len(params):
        raise ValueError(f"{len(params)} resamples' parameters but {done} resamples' runs")
    variance = _log_variance(law, params, runs, total)
    seen = out_count > 0
    residuals = np.log(runs.loss[seen]) - out_total[seen] / out_count[seen]
    return variance, np.asarray(residuals), np.asarray(seen)


def _studentized(errors: FloatArray, scale: float, variance: FloatArray) -> FloatArray:
    sd = np.sqrt(scale**2 + variance)
    return np.divide(errors, sd, out=np.zeros_like(errors), where=sd > 0)


def _refit(
    estimate: FitResult, runs: FittedRuns, keep: NDArray[np.bool_], starts: FloatArray
) -> tuple[ScalingLaw, FloatArray] | None:
    """The fit of the runs ``keep`` (from the bootstrap's ``starts``) and its converged resamples'
    parameters; None where it fails or does not converge."""
    cls = type(estimate.law)
    n, d, loss = runs.N[keep], runs.D[keep], runs.loss[keep]
    u = None if runs.unique_tokens is None else runs.unique_tokens[keep]
    w = None if runs.weights is None else runs.weights[keep]
    constraints: dict[str, Any] = {"fixed": estimate.fixed or None, "tied": list(estimate.tied) or None}
    with warnings.catch_warnings():  # the inner fit's own problems are not news
        warnings.simplefilter("ignore")
        try:
            part = fit(
                n,
                d,
                loss,
                starts=starts,
                options=estimate.options,
                law=cls,
                weights=w,
                unique_tokens=u,
                **constraints,
            )
        except ValueError:
            return None
    if not part.converged:
        return None
    kind = _core.law_kind(cls.KIND)
    optimum = _core.to_coordinates(kind, np.array(list(part.law.params.values())))
    rows = _core.Resampling(FORWARD_RESAMPLES, 0, np.empty(0, np.int64))  # drawn where refitted
    raw = _core.law_bootstrap(
        kind,
        n,
        d,
        loss,
        u,
        w,
        rows,
        _core.law_bootstrap_starts(kind, optimum),
        parameter_map(cls, estimate.fixed or None, list(estimate.tied) or None),
        np.empty(0),
        estimate.options,
    )
    converged = STATUS_NAMES[raw.status] == "converged"
    return part.law, np.asarray(raw.params)[converged]


def _forward_errors(
    estimate: FitResult, runs: FittedRuns, starts: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log errors of the upper halves of the runs' log C and log N ranges predicted by fits of the lower
    halves, the variance of those fits' resamples there, and the distances from the lower halves."""
    n, d, loss = runs.N, runs.D, runs.loss
    found: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    for values in (np.log(n * d), np.log(n)):
        lower = values <= (values.min() + values.max()) / 2
        upper = ~lower
        if lower.sum() < MINIMUM_FIT or not upper.any():
            continue
        if np.unique(n[lower]).size < 2 or np.unique(d[lower]).size < 2:
            continue
        refit = _refit(estimate, runs, lower, starts)
        if refit is None or len(refit[1]) < 2:
            continue
        law, params = refit
        u = None if runs.unique_tokens is None else runs.unique_tokens[upper]
        variance = _log_variance(type(law), params, FittedRuns(n[upper], d[upper], loss[upper], u))
        errors = np.log(loss[upper]) - np.log(law.predict(n[upper], d[upper], u))
        distance = _distance(n[upper], d[upper], _log_range(n[lower], d[lower]))
        found.append((errors, variance, distance))
    if not found:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    errors, variances, distances = (np.concatenate(parts) for parts in zip(*found))
    return errors, variances, distances


def scatter_of(
    estimate: FitResult,
    runs: FittedRuns,
    params: FloatArray,
    resamples: Iterable[NDArray[np.int64]],
    starts: FloatArray,
) -> Scatter:
    """The scatter of ``runs`` around ``estimate``'s law and its scores (see the module): ``params``
    and ``resamples`` are the converged resamples' parameters and the runs each drew (any iterable,
    e.g. regenerated one at a time), ``starts`` their refits'."""
    log_loss = np.log(runs.loss)
    variance, residuals, seen = out_of_bag(type(estimate.law), params, resamples, runs)
    if residuals.size == 0:  # every run in every resample: the fit's own residuals
        residuals = log_loss - np.log(estimate.predict(runs.N, runs.D, runs.unique_tokens))
        seen = np.ones(len(log_loss), dtype=bool)
    scale = math.sqrt(max(0.0, float(np.mean(residuals**2 - variance[seen]))))
    errors, variances, distances = _forward_errors(estimate, runs, starts)
    far = distances > 0
    growth = 0.0
    if far.any():
        excess = errors[far] ** 2 - scale**2 - variances[far]
        growth = math.sqrt(max(0.0, float(np.sum(excess) / np.sum(distances[far] ** 2))))
    return Scatter(
        scale=scale,
        growth=growth,
        inside=_studentized(residuals, scale, variance[seen]),
        beyond=_studentized(errors, scale, variances + (growth * distances) ** 2),
        log_range=_log_range(runs.N, runs.D),
    )


def _quantile(scores: FloatArray, level: float) -> float:
    """The ``level`` quantile of the scores' magnitudes, with split conformal's finite-sample correction
    (0 without scores)."""
    if scores.size == 0:
        return 0.0
    return float(np.quantile(np.abs(scores), min(1.0, level * (1 + 1 / scores.size)), method="higher"))


def predict_interval(
    law: ScalingLaw,
    params: FloatArray,
    scatter: Scatter,
    N: Any,
    D: Any,
    *,
    confidence: float,
    unique_tokens: Any = None,
) -> tuple[Any, Any]:
    """The predictive interval (low, high) of the loss at (N, D) (broadcast; floats for scalars) from
    the full-data ``law``, the resamples' laws (``params``: one row each) and the scatter (see the
    module)."""
    level = _checks.real_number(confidence, "confidence")
    if not 0 < level < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    if len(params) < 2:
        raise ValueError("the bootstrap has fewer than 2 converged resamples: no parameter uncertainty")
    n = _checks.as_float_array(N, "N")
    d = _checks.as_float_array(D, "D")
    _checks.check_positive(n, "N", what="model size")
    _checks.check_positive(d, "D", what="token count")
    try:
        shape = np.broadcast_shapes(n.shape, d.shape)
    except ValueError:
        raise ValueError(f"N and D cannot be broadcast together: shapes {n.shape} and {d.shape}") from None
    n, d = (np.broadcast_to(a, shape).ravel() for a in (n, d))
    u = None if unique_tokens is None else np.broadcast_to(np.asarray(unique_tokens, float), shape).ravel()
    center = np.log(law.predict(n, d, u))
    variance = np.empty(n.size)
    step = max(1, CHUNK // len(params))  # points at a time: (resamples, points) stays small
    for start in range(0, n.size, step):
        part = slice(start, start + step)
        drawn = log_predictions(type(law), params, n[part], d[part], None if u is None else u[part])
        variance[part] = drawn.var(axis=0, ddof=1)
    distance = scatter.distance(n, d)
    sd = np.sqrt(scatter.scale**2 + variance + (scatter.growth * distance) ** 2)
    inside = _quantile(scatter.inside, level)
    z = np.where(distance > 0, max(inside, _quantile(scatter.beyond, level)), inside)
    low, high = np.exp(center - sd * z), np.exp(center + sd * z)
    if not shape:
        return float(low[0]), float(high[0])
    return low.reshape(shape), high.reshape(shape)
