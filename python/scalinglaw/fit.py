"""Fitting the Chinchilla law L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, Approach 3).

The objective is Hoffmann et al.'s: the sum over runs of Huber_delta(r_i), with log-space residuals
r_i = logsumexp(a - alpha log N_i, b - beta log D_i, e) - log L_i and A = e^a, B = e^b, E = e^e. The C++
core minimises it by Levenberg-Marquardt from every start, in parallel, and keeps the best.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _checks, _core
from ._checks import FloatArray
from ._core import FitOptions
from .frames import runs_of
from .frontier import GOPHER_FLOPS, Allocation, FrontierCoefficients
from .io import Runs
from .law import Law
from .summary import format_html, format_summary, pandas, report
from .trust import SENSITIVITY_SETTINGS
from .warnings import ConvergenceWarning, IllConditionedWarning, ScalingLawWarning, warn

__all__ = [
    "ConvergenceWarning",  # from .warnings, importable from here as before
    "FitOptions",
    "FitResult",
    "IllConditionedWarning",
    "ScalingLawWarning",
    "StartOutcomes",
    "default_starts",
    "fit",
    "objective",
    "solver_options",
    "start_grid",
]

#: Order of the columns of a start (and of ``StartOutcomes.params``).
START_COLUMNS = ("a", "b", "e", "alpha", "beta")


#: Condition number of the objective's Hessian at the optimum (scaled to unit diagonal) beyond which
#: the fit is flagged: some combination of the parameters is then barely determined by the data. The
#: Chinchilla data give ~2.5e3; a law with a vanished term gives ~1e10 or more.
ILL_CONDITIONED = 1e8
#: A term whose share of every predicted loss is below this has vanished: the optimum lies on a
#: boundary of the law (its log-amplitude -> -inf), where its amplitude and exponent mean nothing.
VANISHED_SHARE = 1e-6
_TERMS = ("A / N^alpha", "B / D^beta", "E")
#: The names of the C++ FitStatus values, indexed by value.
STATUS_NAMES = np.array(list(_core.FitStatus.__members__))


def default_starts() -> FloatArray:
    """Hoffmann et al.'s grid of 4500 starts, columns (a, b, e, alpha, beta): alpha, beta in
    {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}."""
    return np.asarray(_core.default_starts())


def start_grid(
    *,
    a: Sequence[float],
    b: Sequence[float],
    e: Sequence[float],
    alpha: Sequence[float],
    beta: Sequence[float],
) -> FloatArray:
    """The Cartesian product of values for each parameter, as a (k, 5) array of starts
    (alpha slowest, b fastest, like ``default_starts``)."""
    axes = {
        name: np.atleast_1d(_checks.as_float_array(values, name))
        for name, values in (("a", a), ("b", b), ("e", e), ("alpha", alpha), ("beta", beta))
    }
    for name, values in axes.items():
        if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
            raise ValueError(f"{name} must be a non-empty list of finite numbers")
    product = itertools.product(axes["alpha"], axes["beta"], axes["e"], axes["a"], axes["b"])
    return np.array([(a_, b_, e_, al, be) for al, be, e_, a_, b_ in product], dtype=np.float64)


@dataclass(frozen=True)
class StartOutcomes:
    """What became of each start, in the order of the starts."""

    starts: FloatArray  #: (k, 5) the starts, columns (a, b, e, alpha, beta)
    params: FloatArray  #: (k, 5) where each ended, same columns
    objective: FloatArray  #: (k,) objective there (inf where the objective was not finite)
    status: NDArray[np.str_]  #: (k,) "converged", "max_iterations" or "numerical_failure"
    iterations: NDArray[np.int32]  #: (k,)


@dataclass(frozen=True, repr=False)
class FitResult:
    """The best fit of the Chinchilla law (``law``), with how it was reached. It predicts and plans
    through its law: ``result.compute_optimal(C)`` is ``result.law.compute_optimal(C)``."""

    law: Law  #: the fitted parameters
    objective: float  #: sum of Huber losses of the log-residuals at the optimum
    status: str  #: the best start's: "converged", "max_iterations", "numerical_failure"
    message: str
    iterations: int  #: the best start's Levenberg-Marquardt iterations
    best_start: int  #: index of the best start (ties: lowest index)
    starts_at_best: int  #: starts whose objective is within 1e-8 relative of the best
    n_runs: int
    #: Condition number of the objective's Hessian at the optimum, scaled to unit diagonal (inf when it
    #: is not positive definite): large means some parameter combination is barely determined.
    hessian_condition: float
    #: Largest share, over the runs, of each term (A / N^alpha, B / D^beta, E) in the predicted loss.
    term_shares: tuple[float, float, float]
    starts: StartOutcomes = field(compare=False)
    options: FitOptions = field(compare=False)  #: the solver options of the fit
    #: The runs fitted, with what was read (source, columns, notes), for ``summary()`` and the displays.
    data: Runs | None = field(default=None, compare=False)

    # The law's parameters and methods, forwarded.
    @property
    def E(self) -> float:
        return self.law.E

    @property
    def A(self) -> float:
        return self.law.A

    @property
    def B(self) -> float:
        return self.law.B

    @property
    def alpha(self) -> float:
        return self.law.alpha

    @property
    def beta(self) -> float:
        return self.law.beta

    @property
    def params(self) -> dict[str, float]:
        """E, A, B, alpha, beta."""
        return self.law.params

    def predict(self, N: Any, D: Any, *, threads: int = 0) -> FloatArray:
        """L(N, D), with numpy broadcasting of N and D; see ``Law.predict``."""
        return self.law.predict(N, D, threads=threads)

    def loss_grid(
        self,
        N_axis: Any,
        C_axis: Any,
        *,
        out: NDArray[Any] | None = None,
        dtype: DTypeLike | None = None,
        threads: int = 0,
    ) -> NDArray[Any]:
        """L on the grid of model sizes x FLOP budgets; see ``scalinglaw.grid.loss_grid``."""
        return self.law.loss_grid(N_axis, C_axis, out=out, dtype=dtype, threads=threads)

    def loss_grid_nd(
        self,
        N_axis: Any,
        D_axis: Any,
        *,
        out: NDArray[Any] | None = None,
        dtype: DTypeLike | None = None,
        threads: int = 0,
    ) -> NDArray[Any]:
        """L on the grid of model sizes x token counts; see ``scalinglaw.grid.loss_grid_nd``."""
        return self.law.loss_grid_nd(N_axis, D_axis, out=out, dtype=dtype, threads=threads)

    def frontier_coefficients(self) -> FrontierCoefficients:
        """a, b, G of N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b; see ``Law.frontier_coefficients``."""
        return self.law.frontier_coefficients()

    def compute_optimal(self, C: Any) -> Allocation:
        """Compute-optimal allocations at budgets C (FLOPs); see ``Law.compute_optimal``."""
        return self.law.compute_optimal(C)

    def budget_for_loss(self, loss: Any) -> Allocation:
        """The smallest budgets reaching the target losses; see ``Law.budget_for_loss``."""
        return self.law.budget_for_loss(loss)

    def optimal_for_size(self, N: Any) -> Allocation:
        """Tokens (and budget) at which N parameters are compute-optimal; see ``Law.optimal_for_size``."""
        return self.law.optimal_for_size(N)

    @property
    def delta(self) -> float:
        """The Huber threshold of the fit, ``options.delta``."""
        return self.options.delta

    @property
    def a(self) -> float:
        return math.log(self.A)

    @property
    def b(self) -> float:
        return math.log(self.B)

    @property
    def e(self) -> float:
        return math.log(self.E)

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def n_starts(self) -> int:
        return len(self.starts.objective)

    @property
    def problems(self) -> tuple[str, ...]:
        """Why the parameters should not be read as a clean fit (empty when there is no such reason):
        an ill-conditioned optimum, a vanished term, an exponent that is not positive."""
        found = []
        for term, share in zip(_TERMS, self.term_shares):
            if share < VANISHED_SHARE:
                found.append(
                    f"the term {term} has vanished (at most {share:.1e} of any predicted loss): the optimum "
                    "lies on a boundary of the law and the data do not determine that term"
                )
        for name, value, what in (("alpha", self.alpha, "model size"), ("beta", self.beta, "tokens")):
            if not value > 0:
                found.append(f"{name} = {value:.4g} is not > 0: the fitted loss does not fall with {what}")
        # Only an optimum has a conditioning worth reporting; an early stop is reported on its own.
        if self.converged and not self.hessian_condition <= ILL_CONDITIONED:
            found.append(
                f"the optimum is ill-conditioned (Hessian condition number {self.hessian_condition:.2g} > "
                f"{ILL_CONDITIONED:.0e}): some combination of the parameters is barely determined by the data"
            )
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-start arrays, as plain Python values (for JSON)."""
        return {
            **self.params,
            "objective": self.objective,
            "status": self.status,
            "message": self.message,
            "iterations": self.iterations,
            "best_start": self.best_start,
            "starts_at_best": self.starts_at_best,
            "n_starts": self.n_starts,
            "n_runs": self.n_runs,
            "delta": self.delta,
            "hessian_condition": self.hessian_condition,
            "term_shares": list(self.term_shares),
            "problems": list(self.problems),
        }

    def sensitivity(self) -> dict[str, Law]:
        """The laws of these runs refitted under each other reasonable setting of
        ``trust.SENSITIVITY_SETTINGS`` (e.g. delta = 0.1), by label: how far a plan moves under them
        says how firmly the data pin it down. Empty without the runs (``data``); a setting whose fit
        fails is left out."""
        if self.data is None:
            return {}
        laws = {}
        for label, setting in SENSITIVITY_SETTINGS.items():
            with warnings.catch_warnings():  # the other fit's own problems are not this fit's news
                warnings.simplefilter("ignore", ScalingLawWarning)
                try:
                    other = fit(*self.data, options=self.options, threads=self.options.threads, **setting)
                except ValueError:
                    continue
            laws[label] = other.law
        return laws

    def summary(self, budgets: Sequence[float] = ()) -> str:
        """The summary ``scalinglaw fit`` prints for this fit of these runs (with ``--budget`` for
        each of `budgets`): data and columns, convergence, parameters, goodness of fit, plans at
        Gopher's budget and `budgets` with their checks, and Approach 2 on the runs' IsoFLOP groups."""
        budgets = [GOPHER_FLOPS, *budgets]
        return format_summary(report(self, self.data, budgets, sensitivity=self.sensitivity()))

    def _repr_html_(self) -> str:
        """The summary as HTML, for notebooks."""
        return format_html(report(self, self.data))

    def to_frame(self) -> Any:
        """The parameters as a pandas DataFrame (index E, A, B, alpha, beta; column "estimate").
        pandas is optional: without it, a ValueError says how to install it."""
        frame = pandas().DataFrame({"estimate": self.params})
        frame.index.name = "parameter"
        return frame

    def __repr__(self) -> str:
        return (
            f"FitResult(E={self.E:.6g}, A={self.A:.6g}, B={self.B:.6g}, alpha={self.alpha:.6g}, "
            f"beta={self.beta:.6g}, objective={self.objective:.12g}, status={self.status!r}, "
            f"starts_at_best={self.starts_at_best}/{self.n_starts}, n_runs={self.n_runs}"
            + (f", problems={len(self.problems)})" if self.problems else ")")
        )


def _starts_array(starts: Any) -> FloatArray:
    if starts is None:
        return default_starts()
    array = _checks.as_float_array(starts, "starts")
    if array.ndim == 1 and array.size == 5:
        array = array.reshape(1, 5)
    if array.ndim != 2 or array.shape[1] != 5 or array.shape[0] == 0:
        raise ValueError(
            "starts must have shape (k, 5) with columns (a, b, e, alpha, beta) and k >= 1, "
            f"got shape {array.shape}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"starts[{row}, {col}] ({START_COLUMNS[col]}) = {float(array[row, col])!r} is not finite"
        )
    return array


def runs_arrays(N: Any, D: Any, loss: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Checked float64 copies of the three arrays of runs."""
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    count = _checks.same_length(N=n, D=d, loss=l_)
    if count < 5:
        raise ValueError(f"the fit needs at least 5 runs (one per parameter of the law), got {count}")
    for name, values, what in (("N", n, "model size"), ("D", d, "token count")):
        if (values == values[0]).all():
            raise ValueError(
                f"every run has the same {name} = {values[0]:g}: with a single {what} the law's terms "
                f"cannot be told apart (the fit is not identifiable); it needs runs at several {what}s"
            )
    return n, d, l_


def solver_options(
    options: FitOptions | None = None,
    *,
    delta: float | None = None,
    threads: int | None = None,
    max_iterations: int | None = None,
) -> FitOptions:
    """``options`` (default: ``FitOptions()``, whose defaults are the C++ core's) with the keywords
    given replaced; every field checked (a ValueError names it)."""
    base = FitOptions() if options is None else options
    if not isinstance(base, FitOptions):
        raise ValueError(f"options must be a scalinglaw.FitOptions, got {type(base).__name__}")
    for name in ("gradient_tolerance", "function_tolerance", "parameter_tolerance"):
        value = getattr(base, name)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return FitOptions(
        delta=_checks.positive_number(base.delta if delta is None else delta, "delta"),
        max_iterations=_checks.whole_number(
            base.max_iterations if max_iterations is None else max_iterations, "max_iterations", minimum=1
        ),
        gradient_tolerance=base.gradient_tolerance,
        function_tolerance=base.function_tolerance,
        parameter_tolerance=base.parameter_tolerance,
        max_step=_checks.positive_number(base.max_step, "max_step"),
        threads=_checks.threads(base.threads if threads is None else threads),
    )


def fit(
    N: Any = None,
    D: Any = None,
    loss: Any = None,
    *,
    data: Any = None,
    C: Any = None,
    nan_policy: str = "raise",
    delta: float | None = None,
    starts: Any = None,
    threads: int | None = None,
    max_iterations: int | None = None,
    options: FitOptions | None = None,
) -> FitResult:
    """Fit L(N, D) = E + A / N^alpha + B / D^beta to runs by Hoffmann et al.'s Huber objective.

    Parameters
    ----------
    N, D, loss
        Model sizes (parameters), training tokens and final losses: 1-D, equal length, finite, > 0.
        With ``data``: the names of those columns (default: recognised by name, as ``read_csv`` does).
    data
        A pandas DataFrame, any mapping of column names to columns, or a ``Runs``: e.g.
        ``fit(data=df, N="params", D="tokens", loss="loss")``. pandas is not needed otherwise.
    C
        Training FLOPs instead of ``D`` (an array, or a column of ``data``): D = C / (6 N).
    nan_policy
        ``"raise"`` (default): a missing value (NaN, None, pandas.NA) is an error naming its row (by
        the DataFrame's index label). ``"omit"``: such rows are left out, and a
        ``SkippedRowsWarning`` names them.
    delta
        Huber threshold on log-space residuals (``options.delta``; by default 1e-3, as in
        Hoffmann et al.).
    starts
        (k, 5) starting points, columns (a, b, e, alpha, beta) with A = e^a, B = e^b, E = e^e;
        default: Hoffmann et al.'s 4500-point grid (``default_starts()``).
    threads
        Worker threads (``options.threads``); 0, the default, uses every core. The result is
        bit-identical for any value.
    max_iterations
        Levenberg-Marquardt iterations allowed per start (``options.max_iterations``).
    options
        The solver options (``FitOptions``: Huber threshold, iterations, tolerances, step, threads);
        default ``FitOptions()``, the C++ core's defaults. ``delta``, ``threads`` and
        ``max_iterations`` replace the fields they name.

    Returns
    -------
    FitResult
        The best start's optimum. A ``ConvergenceWarning`` is issued when it did not converge, an
        ``IllConditionedWarning`` for each of ``FitResult.problems`` (an ill-conditioned optimum, a
        vanished term, an exponent that is not positive).
    """
    runs = runs_of(N, D, loss, data=data, C=C, nan_policy=nan_policy)
    n, d, l_ = runs_arrays(N, D, loss) if runs is None else runs_arrays(*runs)
    solver = solver_options(options, delta=delta, threads=threads, max_iterations=max_iterations)
    start_array = _starts_array(starts)
    if runs is None:
        runs = _plain_runs(n, d, l_)
    raw = _core.fit_chinchilla(n, d, l_, start_array, solver)
    status = raw.status.name
    if status == "numerical_failure":
        raise ValueError(f"the fit failed numerically: {raw.message} (are the starts on the data's scale?)")
    q = raw.log_params
    _check_amplitudes(a=q.a, b=q.b, e=q.e, alpha=q.alpha, beta=q.beta)
    outcomes = raw.starts
    result = FitResult(
        law=Law(E=math.exp(q.e), A=math.exp(q.a), B=math.exp(q.b), alpha=q.alpha, beta=q.beta),
        objective=raw.objective,
        status=status,
        message=raw.message,
        iterations=raw.iterations,
        best_start=raw.best_start,
        starts_at_best=raw.starts_at_best,
        n_runs=len(n),
        hessian_condition=raw.hessian_condition,
        term_shares=raw.term_shares,
        starts=StartOutcomes(
            starts=start_array,
            params=outcomes.params,
            objective=outcomes.objective,
            status=STATUS_NAMES[outcomes.status],
            iterations=outcomes.iterations,
        ),
        options=solver,
        data=runs,
    )
    if not result.converged:
        warn(f"the fit did not converge: {result.message}", ConvergenceWarning)
    for problem in result.problems:
        warn(problem, IllConditionedWarning)
    return result


def _plain_runs(n: FloatArray, d: FloatArray, loss: FloatArray) -> Runs | None:
    """Arrays as Runs, for the summary; None where C = 6 N D is beyond double precision (which the
    fit itself does not need)."""
    try:
        return Runs(n, d, loss)
    except ValueError:
        return None


def _check_amplitudes(**log_params: float) -> None:
    """Refuse an optimum whose A = e^a, B = e^b or E = e^e is no normal double: a FitResult with
    B = 0 would predict and plan with a term that is not there (or 0 * inf)."""
    for name, term, exponent in (("a", "A / N^alpha", "alpha"), ("b", "B / D^beta", "beta"), ("e", "E", "")):
        value = log_params[name]
        if math.log(sys.float_info.min) <= value <= math.log(sys.float_info.max):
            continue
        which = "below the smallest" if value < 0 else "beyond the largest"
        shape = f" with {exponent} = {log_params[exponent]:.4g}" if exponent else ""
        raise ValueError(
            f"the best fit puts {name.upper()} = e^{name} = e^{value:.6g} {which} double: the term "
            f"{term}{shape} lies on a boundary of the law, where the data do not determine it "
            "(are the runs spread over several model sizes and token counts?)"
        )


def objective(
    N: Any,
    D: Any,
    loss: Any,
    *,
    E: float,
    A: float,
    B: float,
    alpha: float,
    beta: float,
    delta: float | None = None,
) -> float:
    """Hoffmann et al.'s objective (sum of Huber losses of log-residuals) at the given parameters."""
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    _checks.same_length(N=n, D=d, loss=l_)
    if len(n) == 0:
        raise ValueError("the objective needs at least one run")
    for name, value in (("E", E), ("A", A), ("B", B)):
        _checks.positive_number(value, name)
    q = _core.LogParams(
        math.log(A),
        math.log(B),
        math.log(E),
        _checks.real_number(alpha, "alpha"),
        _checks.real_number(beta, "beta"),
    )
    return _core.objective(n, d, l_, q, delta=solver_options(delta=delta).delta)
