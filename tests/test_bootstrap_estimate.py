"""bootstrap(..., estimate=fit) bootstraps the law the estimate fitted, with its constraints and weights,
unless told otherwise; told otherwise, it refuses to mix two fits."""

import dataclasses
import math

import numpy as np
import pytest
import scalinglaw
from conftest import synthetic_ladder
from scalinglaw.law import DataConstrained, Kaplan

KAPLAN = Kaplan(N_c=8.8e13, D_c=5.4e13, alpha_N=0.076, alpha_D=0.095)
CONSTRAINED = DataConstrained(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37, R_D=15.0, R_N=5.0)
CHINCHILLA = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)


def runs(law, noise=0.005, seed=0):
    n, d, _ = synthetic_ladder(steps=7)  # its grid of sizes and budgets; the losses are drawn here
    rng = np.random.default_rng(seed)
    u = d / np.resize([1.0, 3.0, 10.0, 30.0], d.size)  # for the data-constrained law: 1 to 30 epochs
    loss = law.predict(n, d, u if law.needs_unique_tokens else None) * np.exp(rng.normal(0, noise, n.size))
    return n, d, loss, u


def same_bootstrap(a, b):
    assert type(a.estimate.law) is type(b.estimate.law)
    for key in a.estimate.law.names():
        np.testing.assert_array_equal(a.samples[key], b.samples[key])


def test_a_kaplan_estimate_is_bootstrapped_as_kaplan():
    n, d, loss, _ = runs(KAPLAN)
    start = [[math.log(8.8e13), math.log(5.4e13), 0.076, 0.095]]
    fitted = scalinglaw.fit(n, d, loss, law="kaplan", starts=start)
    implicit = scalinglaw.bootstrap(n, d, loss, estimate=fitted, n_resamples=20, seed=0)
    explicit = scalinglaw.bootstrap(n, d, loss, law="kaplan", estimate=fitted, n_resamples=20, seed=0)
    same_bootstrap(implicit, explicit)
    assert implicit.estimate is fitted and implicit.n_converged == 20
    with pytest.raises(ValueError, match=r"estimate is a fit of the kaplan law, but law='chinchilla'"):
        scalinglaw.bootstrap(n, d, loss, law="chinchilla", estimate=fitted, n_resamples=2)


def test_a_data_constrained_estimate_keeps_its_fixed_parameters():
    n, d, loss, u = runs(CONSTRAINED)
    start = [[math.log(1.8), math.log(480.0), math.log(2100.0), 0.35, 0.37, math.log(15.0), math.log(5.0)]]
    fixed = {"R_N": 5.0}
    fitted = scalinglaw.fit(n, d, loss, law="data_constrained", unique_tokens=u, fixed=fixed, starts=start)
    implicit = scalinglaw.bootstrap(n, d, loss, unique_tokens=u, estimate=fitted, n_resamples=20, seed=0)
    explicit = scalinglaw.bootstrap(
        n,
        d,
        loss,
        law="data_constrained",
        fixed=fixed,
        unique_tokens=u,
        estimate=fitted,
        n_resamples=20,
        seed=0,
    )
    same_bootstrap(implicit, explicit)
    pinned = implicit.samples["R_N"][implicit.status == "converged"]
    np.testing.assert_allclose(pinned, 5.0, rtol=1e-14)  # fixed in every refit (exp of its log)
    with pytest.raises(ValueError, match=r"fixed=\{'R_N': 6.0\}, but the estimate was fitted with"):
        scalinglaw.bootstrap(n, d, loss, unique_tokens=u, estimate=fitted, fixed={"R_N": 6.0}, n_resamples=2)
    with pytest.raises(ValueError, match=r"tied=.*but the estimate was fitted with tied=\[\]"):
        scalinglaw.bootstrap(
            n, d, loss, unique_tokens=u, estimate=fitted, tied=[("alpha", "beta")], n_resamples=2
        )
    # Other unique tokens make other runs than the estimate's: refused, not silently refitted.
    with pytest.raises(ValueError, match="estimate is not a fit of these runs"):
        scalinglaw.bootstrap(n, d, loss, unique_tokens=d, estimate=fitted, n_resamples=2)


def test_ties_and_weights_come_from_the_estimate():
    n, d, loss, _ = runs(CHINCHILLA)
    tied = scalinglaw.fit(n, d, loss, tied=[("alpha", "beta")])
    implicit = scalinglaw.bootstrap(n, d, loss, estimate=tied, n_resamples=10, seed=0)
    same_bootstrap(
        implicit,
        scalinglaw.bootstrap(n, d, loss, estimate=tied, tied=[("beta", "alpha")], n_resamples=10, seed=0),
    )
    converged = implicit.status == "converged"
    assert np.array_equal(implicit.samples["alpha"][converged], implicit.samples["beta"][converged])
    # The estimate's runs hold their weights: taken with them.
    weights = np.linspace(0.5, 1.5, n.size)
    weighted = scalinglaw.fit(n, d, loss, weights=weights)
    implicit = scalinglaw.bootstrap(n, d, loss, estimate=weighted, n_resamples=10, seed=0)
    explicit = scalinglaw.bootstrap(n, d, loss, estimate=weighted, weights=weights, n_resamples=10, seed=0)
    same_bootstrap(implicit, explicit)
    plain = scalinglaw.fit(n, d, loss)
    unweighted = scalinglaw.bootstrap(n, d, loss, estimate=plain, n_resamples=10, seed=0)
    assert not np.array_equal(implicit.samples["A"], unweighted.samples["A"])
    with pytest.raises(ValueError, match="estimate was fitted without"):
        scalinglaw.bootstrap(n, d, loss, estimate=tied, weights=weights, n_resamples=2)
    with pytest.raises(ValueError, match="estimate is not a fit of these runs"):
        scalinglaw.bootstrap(n, d, loss, estimate=weighted, weights=weights[::-1], n_resamples=2)
    # An estimate without its runs cannot lend its weights: they must be given.
    bare = dataclasses.replace(weighted, data=None)
    with pytest.raises(ValueError, match="estimate was fitted with weights: pass the same weights="):
        scalinglaw.bootstrap(n, d, loss, estimate=bare, n_resamples=2)
