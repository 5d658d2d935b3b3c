"""Goodness of fit: residual statistics by hand, planted outliers found, clean ladders left clean."""

import numpy as np
import pytest
import scalinglaw
from scalinglaw.goodness import goodness_of_fit

LAW = scalinglaw.Law(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)
PLANTED = (0.93, 1.1, 1.15, 1.25, 1.35)  # the range, x0.93 to x1.35


def ladder(seed, noise=0.01):
    rng = np.random.default_rng(seed)
    sizes, budgets = np.geomspace(2e7, 3e9, 9), np.geomspace(1e18, 1e21, 9)
    n, c = (grid.ravel() for grid in np.meshgrid(sizes, budgets))
    d = c / (6 * n)
    return n, d, LAW.predict(n, d) * np.exp(rng.normal(0.0, noise, n.size))


@pytest.mark.parametrize("seed", range(8))
def test_planted_outliers_are_exactly_the_worst_runs(seed):
    n, d, loss = ladder(seed)
    planted = np.random.default_rng(100 + seed).choice(n.size, size=len(PLANTED), replace=False)
    loss[planted] *= PLANTED
    result = scalinglaw.fit(n, d, loss)
    found = goodness_of_fit(result, n, d, loss, worst=5)
    assert set(found.worst.tolist()) == set(planted.tolist())
    assert set(found.outliers.tolist()) == set(planted.tolist())


@pytest.mark.parametrize("seed", range(8))
def test_a_clean_ladder_has_no_outlier(seed):
    n, d, loss = ladder(seed)
    found = goodness_of_fit(scalinglaw.fit(n, d, loss), n, d, loss)
    assert found.outliers.size == 0


def test_statistics_by_hand(chinchilla_240, fit_240):
    n, d, loss = chinchilla_240
    E, A, B, alpha, beta = (fit_240.params[k] for k in ("E", "A", "B", "alpha", "beta"))
    predicted = E + A * n**-alpha + B * d**-beta
    r = np.log(loss / predicted)
    found = goodness_of_fit(fit_240, n, d, loss, worst=3, rows=np.arange(2, n.size + 2))
    assert found.rms == pytest.approx(np.sqrt(np.mean(r**2)), rel=1e-12)
    assert found.are_max == pytest.approx(np.max(np.abs(predicted / loss - 1)), rel=1e-12)
    assert found.worst.tolist() == np.argsort(-np.abs(r))[:3].tolist()
    record = found.to_dict()
    assert record["worst"][0]["row"] == found.worst[0] + 2
    assert "file row" in found.describe(int(found.worst[0]))


def test_epochs_excluded_runs_are_the_five_largest_outliers(chinchilla_all, fit_240):
    # Epoch left out the 5 highest-loss runs by eye; the robust rule finds the same 5 first.
    n, d, loss = chinchilla_all
    found = goodness_of_fit(fit_240, n, d, loss)
    assert set(found.outliers[:5].tolist()) == set(np.argsort(loss)[-5:].tolist())


def test_bad_arguments(chinchilla_240, fit_240):
    with pytest.raises(ValueError, match="rows must have one entry per run"):
        goodness_of_fit(fit_240, *chinchilla_240, rows=[1, 2])
    with pytest.raises(ValueError, match="worst must be >= 0"):
        goodness_of_fit(fit_240, *chinchilla_240, worst=-1)
