"""The bootstrap against Epoch AI's published numbers, independent scipy refits, numpy's Approach 2
and a pure-Python copy of the generator; determinism, threads, bad input, Ctrl-C."""

from __future__ import annotations

import json
import math
import signal
import threading

import numpy as np
import pytest
import scalinglaw
from conftest import interrupt, scipy_fit
from scalinglaw.io import CHINCHILLA_BUDGETS


def epoch_indices(count: int = 4000) -> np.ndarray:
    """Epoch's resamples: numpy's legacy RandomState(42), then `count` draws of 240 of 240 runs."""
    state = np.random.RandomState(42)
    return np.array([state.choice(240, 240, replace=True) for _ in range(count)])


@pytest.fixture(scope="module")
def epoch_bootstrap(chinchilla_240, fit_240):
    with pytest.warns(scalinglaw.BudgetGroupingWarning, match="6 of 240 runs"):
        return scalinglaw.bootstrap(
            *chinchilla_240,
            indices=epoch_indices(),
            estimate=fit_240,
            isoflop_budgets=CHINCHILLA_BUDGETS,
        )


# Besiroglu et al. (2024): standard errors and 95% percentile intervals of their 4000 refits.
EPOCH = {
    "A": (124.52, (285.2, 743.6)),
    "B": (1293.28, (1042, 5810)),
    "E": (0.02566, (1.769, 1.871)),
    "alpha": (0.01540, (0.317, 0.373)),
    "beta": (0.02060, (0.331, 0.415)),
}


@pytest.mark.parametrize("name", EPOCH)
def test_epochs_resamples_give_epochs_standard_errors_and_intervals(epoch_bootstrap, name):
    r = epoch_bootstrap
    assert r.n_resamples == 4000 and r.n_converged == 4000 and r.seed is None
    standard_error, (low, high) = EPOCH[name]
    assert r.standard_error[name] == pytest.approx(standard_error, rel=0.02)
    assert r.interval[name][0] == pytest.approx(low, rel=0.01)
    assert r.interval[name][1] == pytest.approx(high, rel=0.01)
    # The statistics are those of the samples, computed here with numpy.
    samples = r.samples[name]
    assert r.standard_error[name] == pytest.approx(np.std(samples, ddof=1), rel=1e-12)
    np.testing.assert_allclose(r.interval[name], np.percentile(samples, [2.5, 97.5]), rtol=1e-12)


def test_epochs_resamples_give_the_frontier_exponent_and_its_error(epoch_bootstrap):
    r = epoch_bootstrap
    assert r.point["a"] == pytest.approx(0.513, abs=1e-3)
    assert r.standard_error["a"] == pytest.approx(0.020, rel=0.02)
    # a and b are functions of each refit's exponents.
    alpha, beta = r.samples["alpha"], r.samples["beta"]
    np.testing.assert_allclose(r.samples["a"], beta / (alpha + beta), rtol=1e-13)
    np.testing.assert_allclose(r.samples["a"] + r.samples["b"], 1.0, rtol=1e-14)


def test_the_starts_are_the_optimum_and_two_grid_starts(fit_240, epoch_bootstrap):
    starts = epoch_bootstrap.starts
    assert starts.shape == (3, 5)
    np.testing.assert_array_equal(starts[0], [fit_240.a, fit_240.b, fit_240.e, fit_240.alpha, fit_240.beta])
    grid = {tuple(row) for row in scalinglaw.default_starts()}
    assert tuple(starts[1]) in grid and tuple(starts[2]) in grid
    np.testing.assert_array_equal(scalinglaw.bootstrap_starts(fit_240), starts)


def test_each_refit_matches_an_independent_scipy_fit_of_its_resample(chinchilla_240, fit_240):
    n, d, loss = chinchilla_240
    indices = epoch_indices(10)
    r = scalinglaw.bootstrap(
        n,
        d,
        loss,
        indices=indices,
        n_resamples=10,
        estimate=fit_240,
        budgets=[scalinglaw.GOPHER_FLOPS, 1e21],
    )
    for k, rows in enumerate(indices):
        ref = scipy_fit(n[rows], d[rows], loss[rows])
        assert r.objective[k] <= ref.fun * (1 + 1e-12)
        assert r.objective[k] == pytest.approx(ref.fun, rel=1e-9)
        a, b, e, alpha, beta = ref.x
        assert r.samples["E"][k] == pytest.approx(math.exp(e), rel=1e-5)
        assert r.samples["alpha"][k] == pytest.approx(alpha, rel=1e-5)
        assert r.samples["beta"][k] == pytest.approx(beta, rel=1e-5)
        assert r.samples["A"][k] == pytest.approx(math.exp(a), rel=1e-4)
        assert r.samples["B"][k] == pytest.approx(math.exp(b), rel=1e-4)
        # The frontier of the scipy parameters, by the paper's closed form.
        exponent_a = beta / (alpha + beta)
        G = (alpha * math.exp(a) / (beta * math.exp(b))) ** (1 / (alpha + beta))
        assert r.samples["a"][k] == pytest.approx(exponent_a, rel=1e-4)
        assert r.samples["G"][k] == pytest.approx(G, rel=1e-3)
        for j, budget in enumerate(r.budgets):
            n_opt = G * (budget / 6) ** exponent_a
            assert r.samples["N_opt"][k, j] == pytest.approx(n_opt, rel=1e-3)
            assert r.samples["D_opt"][k, j] == pytest.approx(budget / (6 * n_opt), rel=1e-3)
            assert r.samples["tokens_per_parameter"][k, j] == pytest.approx(budget / (6 * n_opt**2), rel=2e-3)


def numpy_approach2_a(n, d, loss, budgets):
    """Approach 2's exponent a by numpy: nearest budget within 0.3 decades, polyfit per budget."""
    log_c = np.log10(6 * n * d)
    nearest = np.argmin(np.abs(log_c[:, None] - np.log10(budgets)[None, :]), axis=1)
    near = np.abs(log_c - np.log10(np.asarray(budgets)[nearest])) <= 0.3
    used_c, n_opt = [], []
    for g, budget in enumerate(budgets):
        members = near & (nearest == g)
        if len(np.unique(n[members])) < 3:
            continue
        c2, c1, _ = np.polyfit(np.log(n[members]), loss[members], 2)
        if c2 > 0:
            used_c.append(budget)
            n_opt.append(-c1 / (2 * c2))
    return np.polyfit(np.log(used_c), n_opt, 1)[0], len(used_c)


def test_each_resamples_approach2_exponent_matches_numpy(chinchilla_240, epoch_bootstrap):
    n, d, loss = chinchilla_240
    r = epoch_bootstrap
    for k in range(0, 4000, 400):
        rows = r.indices[k]
        a, used = numpy_approach2_a(n[rows], d[rows], loss[rows], CHINCHILLA_BUDGETS)
        assert r.samples["approach2_a"][k] == pytest.approx(a, rel=1e-8, abs=1e-10)
        assert r.approach2_used[k] == used
    np.testing.assert_allclose(r.samples["approach2_a"] + r.samples["approach2_b"], 1.0, rtol=1e-12)
    # Reported beside Approach 3's a, with an interval.
    assert r.point["approach2_a"] == pytest.approx(
        numpy_approach2_a(n, d, loss, CHINCHILLA_BUDGETS)[0], rel=1e-9
    )
    low, high = r.interval["approach2_a"]
    assert low < r.point["approach2_a"] < high
    assert 0.4 < low < high < 0.6


def test_result_summarises_itself(epoch_bootstrap):
    r = epoch_bootstrap
    document = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert document["n_resamples"] == 4000 and document["n_converged"] == 4000 and document["n_failed"] == 0
    assert document["standard_error"]["A"] == r.standard_error["A"]
    assert document["interval"]["N_opt"] == [list(r.interval["N_opt"][0])]
    assert document["approach2"]["a"] == r.approach2.a
    assert "samples" not in document
    assert len(r.to_dict(samples=True)["samples"]["beta"]) == 4000
    assert r.samples["N_opt"].shape == (4000, 1) and r.interval["N_opt"].shape == (1, 2)
    assert r.point["N_opt"][0] == pytest.approx(73.19e9, rel=2e-4)
    text = repr(r)
    for piece in (
        "4000 resamples, 4000 converged",
        "95% interval",
        "alpha",
        "approach2_a",
        "N_opt at C=5.76e+23",
    ):
        assert piece in text


# ---- the generator ---------------------------------------------------------------------------

MASK = 2**64 - 1


GAMMA = 0x9E3779B97F4A7C15


def reference_generator(seed: int, resample: int):
    """Resample `resample`'s stream: xoshiro256** whose state is words 4r .. 4r + 3 of the seed's
    splitmix64 stream (word k = mix(seed + (k + 1) * gamma)), written from the papers' code."""
    words = []
    for k in range(4 * resample, 4 * resample + 4):
        z = (seed + (k + 1) * GAMMA) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
    s0, s1, s2, s3 = words

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    while True:
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        yield result


def below(stream, bound: int) -> int:
    """Lemire's unbiased integer in [0, bound) from the top 32 bits of each draw."""
    threshold = (2**32 - bound) % bound
    while True:
        product = (next(stream) >> 32) * bound
        if (product & 0xFFFFFFFF) >= threshold:
            return product >> 32


def reference_indices(n_runs: int, n_resamples: int, seed: int) -> np.ndarray:
    """Each resample from its own generator: n_runs draws below n_runs."""
    rows = []
    for r in range(n_resamples):
        stream = reference_generator(seed, r)
        rows.append([below(stream, n_runs) for _ in range(n_runs)])
    return np.array(rows)


def reference_grouped(groups, seed: int, resample: int) -> np.ndarray:
    """A grouped resample: G draws below G (G groups), each bringing its runs in input order."""
    groups = np.asarray(groups)
    count = int(groups.max()) + 1
    stream = reference_generator(seed, resample)
    drawn = [below(stream, count) for _ in range(count)]
    return np.concatenate([np.flatnonzero(groups == g) for g in drawn])


@pytest.mark.parametrize(
    ("n_runs", "n_resamples", "seed"), [(240, 5, 42), (7, 30, 0), (1, 3, 5), (97, 4, 2**64 - 1)]
)
def test_generator_matches_a_pure_python_reference(n_runs, n_resamples, seed):
    np.testing.assert_array_equal(
        scalinglaw.bootstrap_indices(n_runs, n_resamples, seed),
        reference_indices(n_runs, n_resamples, seed),
    )


def test_seed_indices_and_fresh_seeds(chinchilla_240, fit_240):
    kwargs = dict(n_resamples=6, estimate=fit_240, budgets=())
    first = scalinglaw.bootstrap(*chinchilla_240, seed=123, **kwargs)
    again = scalinglaw.bootstrap(*chinchilla_240, seed=123, **kwargs)
    other = scalinglaw.bootstrap(*chinchilla_240, seed=124, **kwargs)
    np.testing.assert_array_equal(first.indices, scalinglaw.bootstrap_indices(240, 6, 123))
    for key in first.samples:
        np.testing.assert_array_equal(first.samples[key], again.samples[key])
    assert not np.array_equal(first.samples["alpha"], other.samples["alpha"])
    replay = scalinglaw.bootstrap(*chinchilla_240, indices=first.indices, **kwargs)
    np.testing.assert_array_equal(replay.samples["alpha"], first.samples["alpha"])
    fresh = scalinglaw.bootstrap(*chinchilla_240, **kwargs)
    assert isinstance(fresh.seed, int) and 0 <= fresh.seed < 2**64
    repeated = scalinglaw.bootstrap(*chinchilla_240, seed=fresh.seed, **kwargs)
    np.testing.assert_array_equal(repeated.samples["beta"], fresh.samples["beta"])
    assert first.samples["N_opt"].shape == (6, 0)


def test_result_is_bit_identical_for_any_thread_count(chinchilla_240, fit_240):
    results = [
        scalinglaw.bootstrap(*chinchilla_240, n_resamples=30, seed=9, estimate=fit_240, threads=t)
        for t in (1, 2, 3, 8)
    ]
    for other in results[1:]:
        for key in results[0].samples:
            np.testing.assert_array_equal(other.samples[key], results[0].samples[key])
        np.testing.assert_array_equal(other.objective, results[0].objective)
        np.testing.assert_array_equal(other.iterations, results[0].iterations)
        np.testing.assert_array_equal(other.best_start, results[0].best_start)


def test_calls_from_several_python_threads_equal_serial_calls(chinchilla_240, fit_240):
    def run(seed):
        return scalinglaw.bootstrap(*chinchilla_240, n_resamples=40, seed=seed, estimate=fit_240, threads=1)

    serial = [run(seed) for seed in range(4)]
    parallel = [None] * 4

    def worker(seed):
        parallel[seed] = run(seed)

    pool = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    for x, y in zip(serial, parallel):
        for key in x.samples:
            np.testing.assert_array_equal(x.samples[key], y.samples[key])


def test_resamples_that_fail_are_left_out_with_a_warning(chinchilla_240, fit_240):
    overflowing = [[0.0, 0.0, 0.0, 1e307, 0.0]]
    with pytest.warns(
        scalinglaw.BootstrapWarning,
        match=r"3 of 3 resamples did not converge \(3 numerical_failure\)",
    ):
        r = scalinglaw.bootstrap(*chinchilla_240, n_resamples=3, seed=1, estimate=fit_240, starts=overflowing)
    assert r.n_failed == 3 and r.n_converged == 0
    assert np.isnan(r.samples["A"]).all()
    assert math.isnan(r.standard_error["A"])
    # One good start among the failing ones: every resample converges, no warning.
    good = scalinglaw.bootstrap(
        *chinchilla_240,
        n_resamples=3,
        seed=1,
        estimate=fit_240,
        starts=[*overflowing, [6.0, 7.0, 0.5, 0.3, 0.3]],
    )
    assert good.n_converged == 3 and (good.best_start == 1).all()


N = np.geomspace(1e8, 1e10, 8)
D = np.geomspace(1e9, 1e11, 8)[::-1].copy()
L = 1.7 + 400 / N**0.34 + 400 / D**0.28
BAD = [
    ("n_resamples zero", dict(n_resamples=0), r"n_resamples must be >= 1, got 0"),
    ("n_resamples negative", dict(n_resamples=-5), r"n_resamples must be >= 1"),
    ("n_resamples float", dict(n_resamples=10.0), r"n_resamples must be a whole number"),
    ("seed negative", dict(seed=-1), r"seed must be between 0 and 2\^64 - 1"),
    ("seed too large", dict(seed=2**64), r"seed must be between 0 and 2\^64 - 1"),
    ("seed float", dict(seed=1.5), r"seed must be a whole number"),
    (
        "seed and indices",
        dict(seed=1, indices=np.zeros((4, 8), int), n_resamples=4),
        r"seed or indices, not both",
    ),
    (
        "indices float",
        dict(indices=np.zeros((4, 8)), n_resamples=4),
        r"indices must be whole numbers .* float64",
    ),
    (
        "indices bool",
        dict(indices=np.zeros((4, 8), bool), n_resamples=4),
        r"indices must be whole numbers",
    ),
    (
        "indices text",
        dict(indices=[["a"] * 8] * 4, n_resamples=4),
        r"indices must be whole numbers",
    ),
    (
        "indices 1-D",
        dict(indices=np.zeros(8, int), n_resamples=1),
        r"shape \(n_resamples, n_runs\) = \(1, 8\), got \(8,\)",
    ),
    (
        "indices rows",
        dict(indices=np.zeros((3, 8), int)),
        r"= \(4000, 8\), got \(3, 8\): pass n_resamples=3",
    ),
    ("indices columns", dict(indices=np.zeros((4, 7), int), n_resamples=4), r"got \(4, 7\)"),
    (
        "indices too big",
        dict(indices=np.full((2, 8), 8), n_resamples=2),
        r"indices\[0, 0\] = 8 is not a run index: each must be between 0 and 7 \(16 are not\)",
    ),
    (
        "indices negative",
        dict(indices=np.array([[0] * 8, [0, 0, -1, 0, 0, 0, 0, 0]]), n_resamples=2),
        r"indices\[1, 2\] = -1 is not a run index",
    ),
    ("confidence one", dict(confidence=1.0), r"confidence must be between 0 and 1"),
    ("confidence zero", dict(confidence=0), r"confidence must be between 0 and 1"),
    ("delta zero", dict(delta=0.0), r"delta must be finite and > 0"),
    ("threads negative", dict(threads=-1), r"threads must be >= 0"),
    ("budgets negative", dict(budgets=[1e21, -1.0]), r"budgets\[1\] = -1.0 is not > 0"),
    ("budgets 2-D", dict(budgets=[[1e21]]), r"budgets must be 1-D"),
    ("starts shape", dict(starts=np.zeros((2, 4))), r"starts must have shape \(k, 5\)"),
    (
        "isoflop duplicate",
        dict(isoflop_budgets=[1e20, 1e20]),
        r"isoflop_budgets\[1\] = 1e\+20 repeats isoflop_budgets\[0\]",
    ),
    (
        "isoflop negative",
        dict(isoflop_budgets=[-1e20]),
        r"isoflop_budgets\[0\] = -1e\+20 is not > 0",
    ),
    (
        "estimate not a fit",
        dict(estimate=scalinglaw.Law(1.7, 400, 400, 0.34, 0.28)),
        r"estimate must be the FitResult",
    ),
    ("too few runs", dict(N=N[:4], D=D[:4], loss=L[:4]), r"at least 5 runs"),
    ("nan in N", dict(N=np.where(np.arange(8) == 2, np.nan, N)), r"N\[2\] = nan is not finite"),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_raises_value_error(case, change, message):
    arguments = {"N": N, "D": D, "loss": L, "n_resamples": 4000, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.bootstrap(arguments.pop("N"), arguments.pop("D"), arguments.pop("loss"), **arguments)


def test_bad_estimate_and_ungroupable_budgets_raise_value_error(chinchilla_240, fit_240):
    n, d, loss = chinchilla_240
    with pytest.raises(
        ValueError,
        match=r"estimate is a fit of 240 runs with delta=0\.001, but the bootstrap has 239",
    ):
        scalinglaw.bootstrap(n[1:], d[1:], loss[1:], n_resamples=2, estimate=fit_240)
    changed = loss.copy()
    changed[0] *= 1.1
    with pytest.raises(ValueError, match="estimate is not a fit of these runs"):
        scalinglaw.bootstrap(n, d, changed, n_resamples=2, estimate=fit_240)
    with (
        pytest.warns(scalinglaw.BudgetGroupingWarning, match="240 of 240 runs"),
        pytest.raises(ValueError, match="no run lies near any of isoflop_budgets"),
    ):
        scalinglaw.bootstrap(n, d, loss, n_resamples=2, estimate=fit_240, isoflop_budgets=[1e30, 1e31])


@pytest.mark.parametrize("shown", [False, True], ids=["quiet", "with a progress bar"])
def test_ctrl_c_interrupts_a_long_bootstrap(shown):
    # 300 resamples from 900 starts each take ~20 s on 2 cores; SIGINT must end it within seconds, also
    # while the waiting thread feeds a progress bar.
    seconds, stdout, stderr, status = interrupt(
        f"""
        import scalinglaw
        runs = scalinglaw.load_chinchilla(epoch_exclusion=True)
        estimate = scalinglaw.fit(*runs)
        print("started", flush=True)
        scalinglaw.bootstrap(*runs, n_resamples=300, seed=1, estimate=estimate,
                             starts=scalinglaw.default_starts()[::5], threads=2, progress={shown})
        print("finished", flush=True)
        """,
        after=1.0,
        timeout=20,
    )
    assert seconds < 5
    assert "finished" not in stdout
    assert "KeyboardInterrupt" in stderr
    assert ("resamples" in stderr) == shown  # the bar, when asked for
    assert status == -signal.SIGINT
