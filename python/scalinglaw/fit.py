"""Fitting a scaling law: by default the Chinchilla law L(N, D) = E + A / N^alpha + B / D^beta
(Hoffmann et al. 2022, Approach 3), or any law of ``scalinglaw.law.LAWS``, with parameters fixed or tied.

The objective is Hoffmann et al.'s: the sum over runs of w_i Huber_delta(r_i), with log-space residuals
r_i = log L_pred(N_i, D_i) - log L_i (for the Chinchilla law logsumexp(a - alpha log N_i, b - beta log D_i,
e) - log L_i with A = e^a, B = e^b, E = e^e) and weights w_i = 1 unless given (taken as given, not
normalised: an integer weight k counts a run k times). The C++ core minimises it by Levenberg-Marquardt
from every start, in parallel, and keeps the best.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _checks, _core
from . import progress as _progress
from ._checks import FloatArray
from ._core import FitOptions
from .frames import runs_of
from .frontier import GOPHER_FLOPS, Allocation, FrontierCoefficients
from .inference import InferenceAllocation
from .io import Runs
from .law import Chinchilla, Law, ScalingLaw, law_class
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
#: Optima of other starts within this fraction of the best objective count as equally good fits.
NEAR_BEST = 0.005


def _far_apart(low: float, high: float) -> bool:
    """Whether two values of a parameter differ by more than a factor 2 (or, across 0, at all)."""
    if low > 0 and high > 0:
        return high > 2 * low
    return bool(high - low > 0.5 * max(abs(low), abs(high)))


#: Each law's terms, in the order of FitResult.term_shares.
_TERMS = {
    "chinchilla": ("A / N^alpha", "B / D^beta", "E"),
    "kaplan": ("(N_c / N)^(alpha_N / alpha_D)", "D_c / D"),
    "data_constrained": ("A / N'^alpha", "B / D'^beta", "E"),
}
#: Each law's exponents, which must be > 0 for the loss to fall, and with what.
_EXPONENTS = {
    "chinchilla": (("alpha", "model size"), ("beta", "tokens")),
    "kaplan": (("alpha_N", "model size"), ("alpha_D", "tokens")),
    "data_constrained": (("alpha", "model size"), ("beta", "tokens")),
}
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

    law: ScalingLaw  #: the fitted law (a ``Chinchilla`` unless another law was asked for)
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
    #: Largest share, over the runs, of each term of the law in the predicted loss (Chinchilla:
    #: A / N^alpha, B / D^beta, E; see ``term_names``); NaN where it is not computed.
    term_shares: tuple[float, ...]
    starts: StartOutcomes = field(compare=False)
    options: FitOptions = field(compare=False)  #: the solver options of the fit
    #: The runs fitted, with what was read (source, columns, notes), for ``summary()`` and the displays.
    data: Runs | None = field(default=None, compare=False)
    #: Each parameter's role in the fit, "free", "fixed" or "tied" (empty: every parameter free).
    roles: Mapping[str, str] = field(default_factory=dict)
    #: For each tied parameter, the parameter whose value it shares (the first of its group).
    tied_to: Mapping[str, str] = field(default_factory=dict)
    weighted: bool = False  #: whether the runs carried weights
    #: For each free parameter, its (lowest, highest) value over the optima of the starts that ended
    #: within NEAR_BEST of the best objective (empty for the unconstrained Chinchilla fit): a wide span
    #: says the data barely tell those optima apart (a flat objective or several near-equal minima).
    near_best: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def free(self) -> tuple[str, ...]:
        """The parameters fitted freely (a tie group counts by its first parameter)."""
        return tuple(name for name in self.law.names() if self.roles.get(name, "free") == "free")

    @property
    def fixed(self) -> dict[str, float]:
        """The parameters pinned, with their values."""
        return {name: value for name, value in self.law.params.items() if self.roles.get(name) == "fixed"}

    @property
    def tied(self) -> tuple[tuple[str, str], ...]:
        """(first, other) for each parameter tied to the first of its group."""
        return tuple((first, name) for name, first in self.tied_to.items())

    @property
    def term_names(self) -> tuple[str, ...]:
        return _TERMS.get(self.law.KIND, ())

    def _parameter(self, name: str) -> float:
        params = self.law.params
        if name not in params:
            raise AttributeError(
                f"the {self.law.KIND} law has no parameter {name} (it has {', '.join(params)})"
            )
        return params[name]

    # The law's parameters and methods, forwarded.
    @property
    def E(self) -> float:
        return self._parameter("E")

    @property
    def A(self) -> float:
        return self._parameter("A")

    @property
    def B(self) -> float:
        return self._parameter("B")

    @property
    def alpha(self) -> float:
        return self._parameter("alpha")

    @property
    def beta(self) -> float:
        return self._parameter("beta")

    @property
    def params(self) -> dict[str, float]:
        """The law's parameters by name (Chinchilla: E, A, B, alpha, beta)."""
        return self.law.params

    @overload
    def predict(
        self, N: float, D: float, unique_tokens: float | None = None, *, threads: int = 0
    ) -> float: ...
    @overload
    def predict(self, N: Any, D: Any, unique_tokens: Any = None, *, threads: int = 0) -> FloatArray: ...
    def predict(self, N: Any, D: Any, unique_tokens: Any = None, *, threads: int = 0) -> Any:
        """L(N, D), with numpy broadcasting of N and D (a float for scalars); see ``Law.predict``."""
        return self.law.predict(N, D, unique_tokens, threads=threads)

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
        if not isinstance(self.law, Chinchilla):
            raise ValueError(f"loss_grid_nd is offered for the chinchilla law, not {self.law.KIND}")
        return self.law.loss_grid_nd(N_axis, D_axis, out=out, dtype=dtype, threads=threads)

    def frontier_coefficients(self) -> FrontierCoefficients:
        """a, b, G of N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b; see ``Law.frontier_coefficients``."""
        return self.law.frontier_coefficients()

    @overload
    def compute_optimal(self, C: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def compute_optimal(self, C: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def compute_optimal(self, C: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """Compute-optimal allocations at budgets C (FLOPs); see ``Law.compute_optimal``."""
        return self.law.compute_optimal(C, unique_tokens)

    @overload
    def budget_for_loss(self, loss: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def budget_for_loss(self, loss: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def budget_for_loss(self, loss: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """The smallest budgets reaching the target losses; see ``Law.budget_for_loss``."""
        return self.law.budget_for_loss(loss, unique_tokens)

    @overload
    def optimal_for_size(self, N: float, unique_tokens: float | None = None) -> Allocation[float]: ...
    @overload
    def optimal_for_size(self, N: Any, unique_tokens: float | None = None) -> Allocation[FloatArray]: ...
    def optimal_for_size(self, N: Any, unique_tokens: float | None = None) -> Allocation[Any]:
        """Tokens (and budget) at which N parameters are compute-optimal; see ``Law.optimal_for_size``."""
        return self.law.optimal_for_size(N, unique_tokens)

    def inference_optimal(
        self, inference_tokens: float, *, loss: Any = None, C: Any = None, unique_tokens: float | None = None
    ) -> InferenceAllocation[Any]:
        """The cheapest model once inference is counted; see ``Law.inference_optimal``."""
        return self.law.inference_optimal(inference_tokens, loss=loss, C=C, unique_tokens=unique_tokens)

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
        for term, share in zip(self.term_names, self.term_shares):
            if share < VANISHED_SHARE:
                found.append(
                    f"the term {term} has vanished (at most {share:.1e} of any predicted loss): the optimum "
                    "lies on a boundary of the law and the data do not determine that term"
                )
        for name, what in _EXPONENTS[self.law.KIND]:
            value = self.law.params[name]
            if self.roles.get(name) != "fixed" and not value > 0:
                found.append(f"{name} = {value:.4g} is not > 0: the fitted loss does not fall with {what}")
        for name, (low, high) in self.near_best.items():
            if _far_apart(low, high):
                found.append(
                    f"{name} is poorly determined: optima within {NEAR_BEST:.1%} of the best objective put "
                    f"it anywhere from {low:.4g} to {high:.4g} (the objective is flat or has several "
                    "near-equal minima in it)"
                )
        # Only an optimum has a conditioning worth reporting; an early stop is reported on its own.
        if self.converged and not self.hessian_condition <= ILL_CONDITIONED:
            found.append(
                f"the optimum is ill-conditioned (Hessian condition number {self.hessian_condition:.2g} > "
                f"{ILL_CONDITIONED:.0e}): some combination of the parameters is barely determined by the data"
            )
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-start arrays, as plain Python values (for JSON)."""
        constraints = (
            {"free": list(self.free), "fixed": self.fixed, "tied": [list(pair) for pair in self.tied]}
            if self.roles
            else {}
        )
        return {
            "law": self.law.KIND,
            **self.params,
            **constraints,
            **({"weighted": True} if self.weighted else {}),
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

    def sensitivity(self) -> dict[str, ScalingLaw]:
        """The laws of these runs refitted under each other reasonable setting of
        ``trust.SENSITIVITY_SETTINGS`` (delta = 0.1; tied exponents alpha = beta), keeping this fit's
        law, pinned and tied parameters, by label: how far a plan moves under them says how firmly the
        data pin it down. Empty without the runs (``data``); a setting that does not apply (a law
        without alpha and beta, exponents already tied) or whose fit fails is left out."""
        if self.data is None:
            return {}
        laws = {}
        for label, setting in SENSITIVITY_SETTINGS.items():
            tied = [*self.tied, *setting.get("tied", ())]
            if len(set(map(frozenset, tied))) == len(self.tied) and "tied" in setting:
                continue  # already so constrained: the same fit
            options = {**setting, "tied": tied or None}
            with warnings.catch_warnings():  # the other fit's own problems are not this fit's news
                warnings.simplefilter("ignore", ScalingLawWarning)
                try:
                    other = fit(
                        data=self.data,
                        law=self.law.KIND,
                        fixed=self.fixed or None,
                        options=self.options,
                        threads=self.options.threads,
                        **options,
                    )
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
        law = f"law={self.law.KIND!r}, " if self.law.KIND != "chinchilla" else ""
        params = ", ".join(f"{name}={value:.6g}" for name, value in self.params.items())
        return (
            f"FitResult({law}{params}, objective={self.objective:.12g}, status={self.status!r}, "
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


def runs_arrays(N: Any, D: Any, loss: Any, *, minimum: int = 5) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Checked float64 copies of the three arrays of runs (at least `minimum` of them)."""
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    count = _checks.same_length(N=n, D=d, loss=l_)
    if count < minimum:
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
    law: str | type[ScalingLaw] = "chinchilla",
    fixed: Mapping[str, float] | None = None,
    tied: Sequence[tuple[str, str]] | None = None,
    weights: Any = None,
    unique_tokens: Any = None,
    progress: bool | None = None,
) -> FitResult:
    """Fit a law (by default L(N, D) = E + A / N^alpha + B / D^beta) to runs by Hoffmann et al.'s Huber
    objective.

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
        default: Hoffmann et al.'s 4500-point grid (``default_starts()``). For another law, one column
        per coordinate of ``start_columns(law)`` (its default grid: ``law_default_starts(law)``; for
        the data-constrained law, the Chinchilla fit of the runs with a grid of R*_D and R*_N, see
        ``data_constrained_starts``).
    threads
        Worker threads (``options.threads``); 0, the default, uses every core. The result is
        bit-identical for any value.
    max_iterations
        Levenberg-Marquardt iterations allowed per start (``options.max_iterations``).
    options
        The solver options (``FitOptions``: Huber threshold, iterations, tolerances, step, threads);
        default ``FitOptions()``, the C++ core's defaults. ``delta``, ``threads`` and
        ``max_iterations`` replace the fields they name.
    law
        ``"chinchilla"`` (default), ``"kaplan"`` or ``"data_constrained"`` (``scalinglaw.law.LAWS``), or
        the law's class.
    fixed
        Parameters pinned by name, e.g. ``{"E": 1.69}`` (R_D, R_N may be ``math.inf``: no decay).
    tied
        Pairs of parameters that share one value, e.g. ``[("alpha", "beta")]``.
    weights
        Per-run weights w_i >= 0 (not all 0): the objective is sum_i w_i Huber(r_i), the weights taken as
        given (not normalised), so that an integer weight k counts a run k times.
    unique_tokens
        Unique tokens U_D <= D of each run: needed by the data-constrained law, ignored by the others.
    progress
        A bar of the starts done on stderr: None (default) when stderr is a terminal and the fit lasts
        over 2 s, True always, False never. The result is the same either way.

    Returns
    -------
    FitResult
        The best start's optimum. A ``ConvergenceWarning`` is issued when it did not converge, an
        ``IllConditionedWarning`` for each of ``FitResult.problems`` (an ill-conditioned optimum, a
        vanished term, an exponent that is not positive).
    """
    runs = runs_of(N, D, loss, data=data, C=C, nan_policy=nan_policy)
    cls = law_class(law)
    if runs is not None and weights is None:
        weights = runs.weight
    if cls is not Chinchilla or fixed or tied or weights is not None:
        return _fit_law(
            cls,
            runs,
            N,
            D,
            loss,
            starts,
            options,
            delta,
            threads,
            max_iterations,
            fixed=fixed,
            tied=tied,
            weights=weights,
            unique_tokens=unique_tokens,
            progress=progress,
        )
    n, d, l_ = runs_arrays(N, D, loss) if runs is None else runs_arrays(*runs)
    solver = solver_options(options, delta=delta, threads=threads, max_iterations=max_iterations)
    start_array = _starts_array(starts)
    if runs is None:
        runs = _plain_runs(n, d, l_)
    with _progress.bar(progress, len(start_array), "fit", "starts") as report:
        raw = _core.fit_chinchilla(n, d, l_, start_array, solver, report)
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


def start_columns(law: str | type[ScalingLaw]) -> tuple[str, ...]:
    """The columns of a start of `law`: the fit's coordinates (logs of the positive parameters), for the
    Chinchilla law in the order (a, b, e, alpha, beta) of ``default_starts()``."""
    cls = law_class(law)
    return START_COLUMNS if cls is Chinchilla else tuple(cls.info().coordinates)


def law_default_starts(law: str | type[ScalingLaw]) -> FloatArray:
    """The law's default grid of starts, columns ``start_columns(law)``."""
    cls = law_class(law)
    if cls is Chinchilla:
        return default_starts()
    return np.asarray(_core.law_default_starts(_core.law_kind(cls.KIND)))


#: Chinchilla's start columns (a, b, e, alpha, beta) in the core's coordinate order (e, a, b, alpha, beta).
_TO_CORE = [2, 0, 1, 3, 4]
_FROM_CORE = [1, 2, 0, 3, 4]


#: The repetition scales R*_D and R*_N that the data-constrained law's default starts try, each with each.
REPETITION_STARTS = (1.0, 4.0, 16.0, 64.0, 256.0)


def data_constrained_starts(
    N: Any,
    D: Any,
    loss: Any,
    *,
    weights: Any = None,
    fixed: Mapping[str, float] | None = None,
    tied: Sequence[tuple[str, str]] | None = None,
    options: FitOptions | None = None,
) -> FloatArray:
    """Default starts of the data-constrained law, columns as ``start_columns("data_constrained")``:
    its base (E, A, B, alpha, beta) at the Chinchilla fit of the same runs (from Hoffmann et al.'s
    grid, with the constraints and weights that concern the base), R*_D and R*_N each from
    ``REPETITION_STARTS``: 25 starts.

    The law is Chinchilla's with N and D discounted for repetition, so the Chinchilla optimum of the
    runs lies near its base, and the fast Chinchilla fit finds it in a fraction of a second. On
    Muennighoff et al.'s 182 runs, all seven parameters free, these 25 starts reach the optimum of the
    800-point grid (``law_default_starts``) to 1e-13 in 1/100 of its time (0.26 s against 29 s, one
    thread). Where the Chinchilla fit fails, the grid."""
    base_names = Chinchilla.names()
    base_fixed = {k: float(v) for k, v in (fixed or {}).items() if k in base_names}
    base_tied = [(a, b) for a, b in (tied or ()) if a in base_names and b in base_names]
    if len(base_fixed) == len(base_names):
        base = base_fixed  # pinned: the starts' base is overridden anyway
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                base = fit(
                    N,
                    D,
                    loss,
                    fixed=base_fixed or None,
                    tied=base_tied or None,
                    weights=weights,
                    options=options,
                ).law.params
        except ValueError:
            return law_default_starts("data_constrained")
    head = [math.log(base["E"]), math.log(base["A"]), math.log(base["B"]), base["alpha"], base["beta"]]
    grid = itertools.product(REPETITION_STARTS, REPETITION_STARTS)
    return np.array([[*head, math.log(r_d), math.log(r_n)] for r_d, r_n in grid])


def _law_starts(cls: type[ScalingLaw], starts: Any) -> FloatArray:
    """The starts in the core's coordinates, checked."""
    columns = start_columns(cls)
    if starts is None:
        array = law_default_starts(cls)
    else:
        array = _checks.as_float_array(starts, "starts")
        if array.ndim == 1 and array.size == len(columns):
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != len(columns) or array.shape[0] == 0:
            raise ValueError(
                f"starts must have shape (k, {len(columns)}) with columns ({', '.join(columns)}) and k >= 1, "
                f"got shape {array.shape}"
            )
        bad = ~np.isfinite(array)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"starts[{row}, {col}] ({columns[col]}) = {float(array[row, col])!r} is not finite"
            )
    return np.ascontiguousarray(array[:, _TO_CORE] if cls is Chinchilla else array)


def parameter_map(
    cls: type[ScalingLaw], fixed: Mapping[str, float] | None, tied: Sequence[tuple[str, str]] | None
) -> _core.ParameterMap:
    """The fixed and tied parameters of a fit of `cls`, checked by name and value."""
    info = cls.info()
    names = list(info.parameters)
    known = f"the {cls.KIND} law's parameters are {', '.join(names)}"
    pinned: dict[str, float] = {}
    for name, value in (fixed or {}).items():
        if name not in names:
            raise ValueError(f"fixed names an unknown parameter {name!r}: {known}")
        index = names.index(name)
        infinite = isinstance(value, (float, np.floating)) and value == math.inf
        number = math.inf if infinite else _checks.real_number(value, f"fixed[{name!r}]")
        if number == math.inf and info.may_be_infinite[index]:
            pass
        elif not math.isfinite(number) or (info.log_scale[index] and not number > 0):
            need = "finite and > 0" + (" (or inf)" if info.may_be_infinite[index] else "")
            raise ValueError(f"fixed[{name!r}] = {number!r}: the parameter {name} must be {need}")
        pinned[name] = number
    pairs: list[tuple[str, str]] = []
    for pair in tied or ():
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(
                f"tied must hold pairs of parameter names such as ('alpha', 'beta'), got {pair!r}"
            )
        first, second = pair
        for name in (first, second):
            if name not in names:
                raise ValueError(f"tied names an unknown parameter {name!r}: {known}")
            if name in pinned:
                raise ValueError(
                    f"tied names {name!r}, which is also fixed: a parameter is either fixed or tied"
                )
        if first == second:
            raise ValueError(f"tied pairs {first!r} with itself: tie two different parameters")
        if info.log_scale[names.index(first)] != info.log_scale[names.index(second)]:
            raise ValueError(
                f"{first} and {second} are fitted on different scales (log and linear): they cannot be tied"
            )
        pairs.append((str(first), str(second)))
    if len(pinned) == len(names):
        raise ValueError(
            f"fixed pins every parameter of the {cls.KIND} law: nothing is left to fit (use objective())"
        )
    return _core.ParameterMap(pinned, pairs)


def _optional_column(values: Any, name: str, count: int, *, what: str) -> FloatArray | None:
    if values is None:
        return None
    array = _checks.as_float_array(values, name)
    if array.ndim != 1 or len(array) != count:
        raise ValueError(
            f"{name} must be a 1-D array with one value per run ({count}), got shape {array.shape}"
        )
    return array


def run_weights(weights: Any, count: int) -> FloatArray | None:
    """Per-run weights: finite, >= 0, not all 0 (a ValueError names the first bad row)."""
    w = _optional_column(weights, "weights", count, what="weight")
    if w is None:
        return None
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"weights[{row}] = {float(w[row])!r}: every weight must be finite and >= 0")
    if not (w > 0).any():
        raise ValueError("weights are all 0: at least one run must count")
    return w


def run_unique_tokens(unique_tokens: Any, d: FloatArray) -> FloatArray | None:
    """Per-run unique tokens: finite, > 0 and <= D (a ValueError names the first bad row)."""
    u = _optional_column(unique_tokens, "unique_tokens", len(d), what="unique token count")
    if u is None:
        return None
    _checks.check_positive(u, "unique_tokens", what="unique token count")
    above = u > d
    if above.any():
        row = int(np.argmax(above))
        raise ValueError(
            f"unique_tokens[{row}] = {float(u[row]):g} exceeds D[{row}] = {float(d[row]):g}: a run cannot "
            "see more unique tokens than it trains on"
        )
    return u


def _fit_law(
    cls: type[ScalingLaw],
    runs: Runs | None,
    N: Any,
    D: Any,
    loss: Any,
    starts: Any,
    options: FitOptions | None,
    delta: float | None,
    threads: int | None,
    max_iterations: int | None,
    *,
    fixed: Mapping[str, float] | None,
    tied: Sequence[tuple[str, str]] | None,
    weights: Any,
    unique_tokens: Any,
    progress: bool | None = None,
) -> FitResult:
    """fit() of any law, constraints and weights: the core's law-generic path."""
    info = cls.info()
    kind = _core.law_kind(cls.KIND)
    pmap = parameter_map(cls, fixed, tied)
    n, d, l_ = runs_arrays(N, D, loss, minimum=1) if runs is None else runs_arrays(*runs, minimum=1)
    if runs is not None and (weights is None or unique_tokens is None):
        weights = runs.weight if weights is None else weights
        unique_tokens = runs.unique_tokens if unique_tokens is None else unique_tokens
    w = run_weights(weights, len(n))
    u = run_unique_tokens(unique_tokens, d)
    if info.needs_unique_tokens and u is None:
        raise ValueError(
            f"the {cls.KIND} law needs the unique tokens U_D of each run: pass unique_tokens= (the CLI's "
            "--unique-tokens COLUMN)"
        )
    solver = solver_options(options, delta=delta, threads=threads, max_iterations=max_iterations)
    if starts is None and cls.KIND == "data_constrained":
        starts = data_constrained_starts(n, d, l_, weights=w, fixed=fixed, tied=tied, options=solver)
    start_array = _law_starts(cls, starts)
    with _progress.bar(progress, len(start_array), "fit", "starts") as report:
        raw = _core.fit_law(kind, n, d, l_, u, w, start_array, pmap, solver, report)
    status = raw.status.name
    if status == "numerical_failure":
        raise ValueError(f"the fit failed numerically: {raw.message} (are the starts on the data's scale?)")
    names = list(info.parameters)
    given = {name: float(value) for name, value in (fixed or {}).items()}  # exactly, not exp(log(value))
    fitted = cls(*(given.get(name, float(v)) for name, v in zip(names, raw.params)))
    _check_law_amplitudes(fitted, info)
    roles = {name: _core.ParameterRole(int(r)).name for name, r in zip(names, raw.roles)}
    tied_to = {name: names[int(t)] for name, t in zip(names, raw.tied_to) if roles[name] == "tied"}
    outcomes = raw.starts
    order = _FROM_CORE if cls is Chinchilla else list(range(len(names)))
    result = FitResult(
        law=fitted,
        objective=raw.objective,
        status=status,
        message=raw.message,
        iterations=raw.iterations,
        best_start=raw.best_start,
        starts_at_best=raw.starts_at_best,
        n_runs=len(n),
        hessian_condition=raw.hessian_condition,
        term_shares=_term_shares(fitted, n, d, u),
        starts=StartOutcomes(
            starts=start_array[:, order],
            params=outcomes.coordinates[:, order],
            objective=outcomes.objective,
            status=STATUS_NAMES[outcomes.status],
            iterations=outcomes.iterations,
        ),
        options=solver,
        data=runs if runs is not None else _plain_runs(n, d, l_, unique_tokens=u, weight=w),
        roles=roles,
        tied_to=tied_to,
        weighted=w is not None,
        near_best=_near_best(cls, roles, outcomes.coordinates, outcomes.objective, raw.objective),
    )
    if not result.converged:
        warn(f"the fit did not converge: {result.message}", ConvergenceWarning)
    for problem in result.problems:
        warn(problem, IllConditionedWarning)
    return result


def _near_best(
    cls: type[ScalingLaw],
    roles: Mapping[str, str],
    coordinates: FloatArray,
    objective: FloatArray,
    best: float,
) -> dict[str, tuple[float, float]]:
    """Each free parameter's span over the optima within NEAR_BEST of the best objective."""
    near = np.isfinite(objective) & (objective <= best * (1 + NEAR_BEST))
    if not near.any():
        return {}
    # Parameters are coordinates or their exponentials, each alone: the spans' ends are the ends' images.
    kind = _core.law_kind(cls.KIND)
    lowest = _core.from_coordinates(kind, coordinates[near].min(axis=0))
    highest = _core.from_coordinates(kind, coordinates[near].max(axis=0))
    return {
        name: (float(lowest[j]), float(highest[j]))
        for j, name in enumerate(cls.names())
        if roles[name] == "free"
    }


def _term_shares(law: ScalingLaw, n: FloatArray, d: FloatArray, u: FloatArray | None) -> tuple[float, ...]:
    """Each term's largest share of the predicted loss over the runs (Kaplan: of the bracket)."""
    p = law.params
    with np.errstate(all="ignore"):
        if law.KIND == "kaplan":
            terms = [(p["N_c"] / n) ** (p["alpha_N"] / p["alpha_D"]), p["D_c"] / d]
        else:
            if law.KIND == "data_constrained":
                n, d = _effective(p, n, d, d if u is None else u)
            terms = [p["A"] * n ** -p["alpha"], p["B"] * d ** -p["beta"], np.full(n.shape, p["E"])]
        total = np.sum(terms, axis=0)
        return tuple(float(np.max(t / total)) for t in terms)


def _effective(
    p: Mapping[str, float], n: FloatArray, d: FloatArray, u: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The data-constrained law's effective N', D' (laws.hpp; Muennighoff et al. 2023, eqs. 5-6), for
    its terms' shares: the core returns only their sum, which tests/test_laws_terms.py checks these
    against. An infinite R_D (R_N) means no decay: D' = D (N' = N)."""

    def decayed(unique: FloatArray, repeats: FloatArray, r_star: float, plain: FloatArray) -> FloatArray:
        return plain if math.isinf(r_star) else unique - unique * r_star * np.expm1(-repeats / r_star)

    alpha, beta = p["alpha"], p["beta"]
    g = (alpha * p["A"] / (beta * p["B"])) ** (1.0 / (alpha + beta))
    u_n = np.minimum(g * (g * u) ** (beta / alpha), n)
    n_eff = decayed(u_n, np.maximum(n / u_n - 1.0, 0.0), p["R_N"], n)
    return n_eff, decayed(u, d / u - 1.0, p["R_D"], d)


def _check_law_amplitudes(law: ScalingLaw, info: _core.LawInfo) -> None:
    """Refuse an optimum with a positive parameter that is no normal double (0 or overflowing): a law
    with B = 0 would predict and plan with a term that is not there."""
    for (name, value), log_scale, may_be_infinite in zip(
        law.params.items(), info.log_scale, info.may_be_infinite
    ):
        if not log_scale or (may_be_infinite and value == math.inf):
            continue
        if sys.float_info.min <= value <= sys.float_info.max:
            continue
        raise ValueError(
            f"the best fit puts {name} = {value:.6g}, beyond double precision: the law's term lies on a "
            "boundary where the data do not determine it (are the runs spread over several model sizes and "
            "token counts?)"
        )


def _plain_runs(
    n: FloatArray,
    d: FloatArray,
    loss: FloatArray,
    *,
    unique_tokens: FloatArray | None = None,
    weight: FloatArray | None = None,
) -> Runs | None:
    """Arrays as Runs (with their unique tokens and weights, which the summary's goodness of fit and
    the sensitivity refits need), for the summary; None where C = 6 N D is beyond double precision
    (which the fit itself does not need)."""
    try:
        return Runs(n, d, loss, unique_tokens=unique_tokens, weight=weight)
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
    law: ScalingLaw | None = None,
    *,
    delta: float | None = None,
    unique_tokens: Any = None,
    weights: Any = None,
    E: float | None = None,
    A: float | None = None,
    B: float | None = None,
    alpha: float | None = None,
    beta: float | None = None,
) -> float:
    """Hoffmann et al.'s objective (sum of w_i Huber(r_i) of the log-residuals) at the parameters of
    `law` (any law object, e.g. ``Kaplan(...)``), or of the Chinchilla law given by E, A, B, alpha, beta."""
    n = _checks.positive_1d(N, "N", what="model size")
    d = _checks.positive_1d(D, "D", what="token count")
    l_ = _checks.positive_1d(loss, "loss", what="loss")
    _checks.same_length(N=n, D=d, loss=l_)
    if len(n) == 0:
        raise ValueError("the objective needs at least one run")
    keywords = {"E": E, "A": A, "B": B, "alpha": alpha, "beta": beta}
    if law is None:
        missing = [name for name, value in keywords.items() if value is None]
        if missing:
            raise ValueError(
                f"objective needs a law object or every one of E, A, B, alpha, beta (missing {missing})"
            )
        law = Chinchilla(**{name: float(value) for name, value in keywords.items() if value is not None})
    elif any(value is not None for value in keywords.values()):
        raise ValueError("objective takes a law object or E, A, B, alpha, beta, not both")
    if not isinstance(law, ScalingLaw):
        raise ValueError(f"law must be a law object such as scalinglaw.Kaplan(...), got {law!r}")
    h = solver_options(delta=delta).delta
    w = run_weights(weights, len(n))
    u = run_unique_tokens(unique_tokens, d)
    if isinstance(law, Chinchilla) and w is None:
        p = law.params
        for name in ("E", "A", "B"):
            _checks.positive_number(p[name], name)
        q = _core.LogParams(
            math.log(p["A"]),
            math.log(p["B"]),
            math.log(p["E"]),
            _checks.real_number(p["alpha"], "alpha"),
            _checks.real_number(p["beta"], "beta"),
        )
        return _core.objective(n, d, l_, q, delta=h)
    if law.needs_unique_tokens and u is None:
        raise ValueError(f"the {law.KIND} law needs unique_tokens (U_D of each run)")
    values = np.array([_checks.real_number(v, k) for k, v in law.params.items()], dtype=np.float64)
    return _core.law_objective(_core.law_kind(law.KIND), n, d, l_, u, w, values, delta=h)
