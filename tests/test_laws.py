"""The law family from Python: the law objects against the C++ core's description and published
numbers; every law and constraint (fixed, tied, weights) against independent scipy references
written here in numpy; bad input refused with a clear ValueError."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
import scalinglaw
from scalinglaw import LAWS, Chinchilla, DataConstrained, Kaplan, _core

# ---- Independent references (numpy/scipy), in each law's natural parameters ----------------------------


def chinchilla_loss(p, n, d):
    E, A, B, alpha, beta = p
    return E + A / n**alpha + B / d**beta


def kaplan_loss(p, n, d):
    N_c, D_c, alpha_N, alpha_D = p
    return ((N_c / n) ** (alpha_N / alpha_D) + D_c / d) ** alpha_D


def data_constrained_loss(p, n, d, u):
    """Muennighoff et al. (2023), eqs. 5-6 and the U_N of their appendix, written from the paper."""
    E, A, B, alpha, beta, R_D, R_N = p
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    repeats_d = d / u - 1
    d_eff = u + u * R_D * -np.expm1(-repeats_d / R_D) if math.isfinite(R_D) else d
    u_n = np.minimum(G * (G * u) ** (beta / alpha), n)
    repeats_n = np.maximum(n / u_n - 1, 0)
    n_eff = u_n + u_n * R_N * -np.expm1(-repeats_n / R_N) if math.isfinite(R_N) else n
    return E + A / n_eff**alpha + B / d_eff**beta


def huber(r, delta=1e-3):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def scipy_best(objective, starts):
    """The best of L-BFGS-B then Nelder-Mead polish from every start (numeric gradient: an
    independent route to the optimum)."""
    from scipy.optimize import minimize

    best = None
    for start in starts:
        first = minimize(objective, start, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12})
        polished = minimize(
            objective,
            first.x,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 20000},
        )
        for candidate in (first, polished):
            if np.isfinite(candidate.fun) and (best is None or candidate.fun < best.fun):
                best = candidate
    return best


def _grid_runs():
    n = np.repeat(np.geomspace(7e7, 1.6e10, 8), 6)
    d = np.tile(np.geomspace(5e9, 5e11, 6), 8)
    return n, d


# ---- The law objects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAWS))
def test_dataclass_fields_are_the_core_parameters(name):
    cls = LAWS[name]
    info = _core.law_info(_core.law_kind(name))
    assert cls.KIND == name == info.name
    assert tuple(f.name for f in dataclasses.fields(cls)) == info.parameters == cls.names()


def test_law_is_chinchilla():
    assert scalinglaw.Law is Chinchilla
    law = scalinglaw.Law(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    assert law.params == {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_kaplan_published_law():
    law = Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
    assert float(law.predict(1e9, 2e10)) == pytest.approx(2.3738824, abs=5e-8)
    assert law.frontier_coefficients().a == pytest.approx(0.575419, abs=5e-7)
    # The frontier is the minimum of L(N, C / 6N): check it against a dense scan in log N.
    budget = 1e21
    plan = law.compute_optimal(budget)
    sizes = np.geomspace(float(plan.N) / 3, float(plan.N) * 3, 20001)
    scan = kaplan_loss((6.4e13, 1.8e13, 0.076, 0.103), sizes, budget / (6 * sizes))
    assert float(plan.loss) <= scan.min() * (1 + 1e-12)
    assert float(plan.N) == pytest.approx(sizes[np.argmin(scan)], rel=1e-3)
    # Its inverses
    back = law.budget_for_loss(float(plan.loss))
    assert float(back.C) == pytest.approx(budget, rel=1e-9)
    with pytest.raises(ValueError, match="above the kaplan law's loss at any budget"):
        law.budget_for_loss(100.0)
    size = law.optimal_for_size(float(plan.N))
    assert float(size.C) == pytest.approx(budget, rel=1e-9)


PAPER = DataConstrained(
    E=math.exp(0.6254804),
    A=math.exp(6.255414),
    B=math.exp(7.3049974),
    alpha=0.3526596,
    beta=0.3526596,
    R_D=15.387756,
    R_N=5.309743,
)


def test_data_constrained_published_predictions():
    assert float(PAPER.predict(8.67e9, 178e9, 25e9)) == pytest.approx(2.2269634, abs=5e-8)
    assert float(PAPER.predict(1e9, 1e11, 1e10)) == pytest.approx(2.4376920, abs=5e-8)
    n, d = _grid_runs()
    u = d / np.linspace(1, 40, len(d))
    expected = data_constrained_loss(dataclasses.astuple(PAPER), n, d, u)
    np.testing.assert_allclose(PAPER.predict(n, d, u), expected, rtol=1e-13)


def test_data_constrained_without_decay_is_chinchilla():
    base = Chinchilla(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)
    law = DataConstrained(**base.params, R_D=math.inf, R_N=math.inf)
    n, d = _grid_runs()
    u = d / np.linspace(1, 40, len(d))
    np.testing.assert_allclose(law.predict(n, d, u), base.predict(n, d), rtol=1e-14)


# ---- Fits: recovery, constraints, weights -------------------------------------------------------------


@pytest.mark.parametrize(
    ("law", "starts"),
    [
        (Chinchilla(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37), None),
        (Kaplan(N_c=8.8e12, D_c=3.1e13, alpha_N=0.095, alpha_D=0.11), None),
        (DataConstrained(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37, R_D=15.0, R_N=5.0), "small"),
    ],
)
def test_recovers_known_parameters_from_noise_free_data(law, starts):
    n, d = _grid_runs()
    u = d / np.tile([1, 2, 4, 8, 16, 32], 8)
    loss = law.predict(n, d, u)
    if starts == "small":
        starts = np.array(
            [[0.5, 5.0, 7.0, 0.3, 0.3, math.log(r), math.log(r)] for r in (4.0, 16.0, 64.0)], dtype=float
        )
    result = scalinglaw.fit(n, d, loss, law=type(law), unique_tokens=u, starts=starts)
    assert result.law.KIND == law.KIND
    for name, value in law.params.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6), name
    assert result.objective < 1e-20


@pytest.fixture(scope="module")
def runs(chinchilla_240):
    return chinchilla_240


def _reduced_objective(runs, build, law_loss):
    n, d, loss = runs
    log_loss = np.log(loss)

    def f(x):
        with np.errstate(all="ignore"):
            r = np.log(law_loss(build(x), n, d)) - log_loss
        value = huber(r).sum()
        return value if np.isfinite(value) else 1e10

    return f


def test_tied_exponents_equal_a_scipy_fit_of_the_four_parameter_law(runs):
    result = scalinglaw.fit(*runs, tied=[("alpha", "beta")])
    assert result.roles == {"E": "free", "A": "free", "B": "free", "alpha": "free", "beta": "tied"}
    assert result.tied == (("alpha", "beta"),)
    assert result.law.alpha == result.law.beta
    f = _reduced_objective(
        runs, lambda x: (math.exp(x[0]), math.exp(x[1]), math.exp(x[2]), x[3], x[3]), chinchilla_loss
    )
    starts = [(e, a, b, s) for e in (-0.5, 0.5) for a in (5.0, 8.0) for b in (5.0, 10.0) for s in (0.3, 0.6)]
    reference = scipy_best(f, starts)
    assert result.objective <= reference.fun * (1 + 1e-9)
    assert result.objective == pytest.approx(reference.fun, rel=1e-7)
    assert result.law.alpha == pytest.approx(reference.x[3], rel=1e-4)


def test_pinned_E_equals_a_scipy_fit_of_the_reduced_law(runs):
    result = scalinglaw.fit(*runs, fixed={"E": 1.69})
    assert result.law.E == 1.69 and result.fixed == {"E": 1.69}
    assert result.free == ("A", "B", "alpha", "beta")
    f = _reduced_objective(
        runs, lambda x: (1.69, math.exp(x[0]), math.exp(x[1]), x[2], x[3]), chinchilla_loss
    )
    starts = [
        (a, b, al, be) for a in (5.0, 8.0) for b in (5.0, 10.0) for al in (0.3, 0.6) for be in (0.3, 0.6)
    ]
    reference = scipy_best(f, starts)
    assert result.objective <= reference.fun * (1 + 1e-9)
    assert result.objective == pytest.approx(reference.fun, rel=1e-7)


def test_integer_weights_equal_repeated_runs(runs):
    n, d, loss = runs
    weights = np.random.default_rng(7).integers(0, 4, len(n)).astype(float)
    weighted = scalinglaw.fit(n, d, loss, weights=weights)
    rows = np.repeat(np.arange(len(n)), weights.astype(int))
    repeated = scalinglaw.fit(n[rows], d[rows], loss[rows], tied=[], fixed={})
    assert weighted.weighted and weighted.objective == pytest.approx(repeated.objective, rel=1e-10)
    for name, value in repeated.params.items():
        assert weighted.params[name] == pytest.approx(value, rel=1e-7), name
    assert scalinglaw.objective(n, d, loss, repeated.law, weights=weights) == pytest.approx(
        repeated.objective, rel=1e-12
    )


def test_unconstrained_chinchilla_is_unchanged(runs, fit_240):
    assert fit_240.objective == pytest.approx(1.01827401780e-3, rel=1e-11)
    assert fit_240.roles == {} and fit_240.free == ("E", "A", "B", "alpha", "beta")
    assert scalinglaw.objective(*runs, fit_240.law) == pytest.approx(fit_240.objective, rel=1e-13)


def test_kaplan_reaches_a_scipy_multistart_fit_of_the_chinchilla_data(runs):
    result = scalinglaw.fit(*runs, law="kaplan")
    f = _reduced_objective(runs, lambda x: (math.exp(x[0]), math.exp(x[1]), x[2], x[3]), kaplan_loss)
    starts = [
        (a, b, x, y)
        for a in (25.0, 30.0, 35.0)
        for b in (25.0, 30.0)
        for x in (0.05, 0.2)
        for y in (0.05, 0.2)
    ]
    reference = scipy_best(f, starts)
    assert result.objective <= reference.fun * (1 + 1e-9)
    assert scalinglaw.objective(*runs, result.law) == pytest.approx(result.objective, rel=1e-12)
    assert f(
        np.array([math.log(result.law.N_c), math.log(result.law.D_c), result.law.alpha_N, result.law.alpha_D])
    ) == pytest.approx(result.objective, rel=1e-9)


def test_data_constrained_reaches_a_scipy_multistart_fit_of_the_chinchilla_data(runs):
    n, d, loss = runs
    starts = scalinglaw.law_default_starts("data_constrained")[::27]
    with warnings.catch_warnings():  # U_D = D: R_D does not enter the law, and the fit says so
        warnings.simplefilter("ignore", scalinglaw.IllConditionedWarning)
        result = scalinglaw.fit(n, d, loss, law="data_constrained", unique_tokens=d, starts=starts)
    assert any("R_D is poorly determined" in problem for problem in result.problems)
    log_loss = np.log(loss)

    def f(x):
        with np.errstate(all="ignore"):
            p = (*np.exp(x[:3]), x[3], x[4], *np.exp(x[5:]))
            value = huber(np.log(data_constrained_loss(p, n, d, d)) - log_loss).sum()
        return value if np.isfinite(value) else 1e10

    reference = scipy_best(
        f,
        [(0.5, a, b, s, s, 2.0, 2.0) for a in (5.0, 8.0) for b in (5.0, 10.0) for s in (0.3, 0.6)],
    )
    assert result.objective <= reference.fun * (1 + 1e-9)
    x = [
        math.log(result.law.E),
        math.log(result.law.A),
        math.log(result.law.B),
        result.law.alpha,
        result.law.beta,
        math.log(result.law.R_D),
        math.log(result.law.R_N),
    ]
    assert f(np.array(x)) == pytest.approx(result.objective, rel=1e-9)


def test_an_optimum_at_no_decay_is_reported_as_infinity(runs, fit_240):
    """Repetition that costs nothing: the Chinchilla runs with U_D = D / 2^k, base pinned at their
    Chinchilla fit. f falls toward R_D = inf as 1 / R_D, and the fit puts R_D there (not at some 1e13 where
    its steps would have become too small to count), R_N at the optimum of a scipy fit with R_D = inf."""
    from scipy.optimize import minimize_scalar

    n, d, loss = runs
    u = d / 2.0 ** (np.arange(len(n)) % 6)
    base = fit_240.law.params
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit: R_N is well determined, R_D's every optimum is inf
        result = scalinglaw.fit(n, d, loss, law="data_constrained", unique_tokens=u, fixed=base)
    log_loss = np.log(loss)

    def f(log_r):
        p = (*base.values(), *np.exp(log_r))
        with np.errstate(all="ignore"):
            value = huber(np.log(data_constrained_loss(p, n, d, u)) - log_loss).sum()
        return value if np.isfinite(value) else 1e10

    assert result.law.R_D == math.inf
    assert result.near_best["R_D"] == (math.inf, math.inf)
    assert result.starts_at_best >= 20  # of 25: leaping to infinity does not strand the starts
    reference = scipy_best(f, [(a, b) for a in (0.0, 3.0, 6.0) for b in (1.0, 4.0, 7.0)])
    assert result.objective <= reference.fun * (1 + 1e-12)  # scipy walks R_D up, toward the limit
    assert np.exp(reference.x[0]) > 1e6
    at_infinity = minimize_scalar(
        lambda b: f(np.array([np.inf, b])), bounds=(0.0, 15.0), method="bounded", options={"xatol": 1e-9}
    )
    assert result.law.R_N == pytest.approx(math.exp(at_infinity.x), rel=1e-6)
    assert result.objective == pytest.approx(at_infinity.fun, rel=1e-12)
    kind = _core.law_kind("data_constrained")
    coordinates = _core.to_coordinates(kind, np.array(list(result.law.params.values())))
    assert np.all(np.isfinite(coordinates))  # coordinates stay finite, and map back to infinity
    assert _core.from_coordinates(kind, coordinates)[5] == math.inf


def test_data_constrained_with_no_decay_fits_as_chinchilla(runs, fit_240):
    n, d, loss = runs
    base = fit_240.law
    starts = np.array(
        [[math.log(base.E), math.log(base.A), math.log(base.B), base.alpha, base.beta, 0.0, 0.0]]
    )
    result = scalinglaw.fit(
        n,
        d,
        loss,
        law="data_constrained",
        unique_tokens=d / 4,
        fixed={"R_D": math.inf, "R_N": math.inf},
        starts=starts,
    )
    assert result.objective == pytest.approx(fit_240.objective, rel=1e-10)
    for name, value in base.params.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6)


def test_bootstrap_of_a_tied_fit(runs):
    boot = scalinglaw.bootstrap(*runs, tied=[("alpha", "beta")], n_resamples=20, seed=3)
    assert boot.estimate.tied == (("alpha", "beta"),)
    np.testing.assert_array_equal(boot.samples["alpha"], boot.samples["beta"])
    assert boot.n_converged == 20 and np.isfinite(boot.standard_error["alpha"])


# ---- Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"law": "data_constrained"}, "needs the unique tokens"),
        ({"law": "data_constrained", "unique_tokens": "twice D"}, "exceeds D"),
        ({"fixed": {"F": 1.0}}, "unknown parameter 'F'"),
        ({"tied": [("alpha", "gamma")]}, "unknown parameter 'gamma'"),
        ({"fixed": {"E": 1.0, "A": 1.0, "B": 1.0, "alpha": 0.3, "beta": 0.3}}, "pins every parameter"),
        ({"tied": [("alpha", "alpha")]}, "with itself"),
        ({"weights": "negative"}, r"weights\[3\] = -1.0"),
        ({"law": "chinchila"}, "law must be one of"),
        ({"fixed": {"E": -1.0}}, "must be finite and > 0"),
        ({"law": "kaplan", "tied": [("N_c", "alpha_D")]}, "different scales"),
    ],
)
def test_bad_input_is_refused_clearly(runs, kwargs, message):
    n, d, loss = runs
    if kwargs.get("unique_tokens") == "twice D":
        kwargs["unique_tokens"] = np.where(np.arange(len(d)) == 5, 2 * d, d)
    if kwargs.get("weights") == "negative":
        kwargs["weights"] = np.where(np.arange(len(d)) == 3, -1.0, 1.0)
    with pytest.raises(ValueError, match=message):
        scalinglaw.fit(n, d, loss, **kwargs)


# ---- Saved fits and the sensitivity check --------------------------------------------------------------


@pytest.mark.parametrize(
    "law",
    [Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103), dataclasses.replace(PAPER, R_N=math.inf)],
)
def test_saved_fits_of_any_law_load_back_exactly(law):
    from scalinglaw.saved import from_document, saved_fields
    from scalinglaw.trust import DataRange

    document = saved_fields(
        law, options={}, data=DataRange((1e8, 1e10), (1e9, 1e11), (1e18, 1e21), (1.0, 100.0))
    )
    loaded = from_document(document)
    assert loaded.law == law and loaded.name == law.KIND
    with pytest.raises(ValueError, match="has parameters"):
        from_document({**document, "law": {"name": law.KIND, "params": {"E": 1.0}}})


def test_sensitivity_includes_tied_exponents(runs):
    laws = scalinglaw.fit(*runs).sensitivity()
    assert set(laws) == {"delta = 0.1", "alpha = beta"}
    assert laws["alpha = beta"].alpha == laws["alpha = beta"].beta
    tied = scalinglaw.fit(*runs, tied=[("alpha", "beta")])
    assert tied.law == laws["alpha = beta"]  # the same refit
    assert set(tied.sensitivity()) == {"delta = 0.1"}  # already tied: nothing more to try
    assert set(scalinglaw.fit(*runs, law="kaplan").sensitivity()) == {"delta = 0.1"}


def test_a_parameter_the_data_do_not_determine_is_said_to_be(runs, fit_240):
    n, d, loss = runs
    # Without repetition (U_D = D) the decay constant R_D does not enter the law: any value fits.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = scalinglaw.fit(n, d, loss, law="data_constrained", unique_tokens=d, fixed=fit_240.law.params)
    said = [str(w.message) for w in caught if issubclass(w.category, scalinglaw.IllConditionedWarning)]
    assert any(m.startswith("R_D is poorly determined") for m in said)
    low, high = result.near_best["R_D"]
    assert high > 2 * low
