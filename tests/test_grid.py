"""Batch evaluation: grids and predict() against numpy's float64 evaluation of the formula."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import scalinglaw
from scalinglaw import Law

CHINCHILLA = Law(E=1.82, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)  # Besiroglu et al.'s refit


def reference_nc(law, N, C):
    """L(N, C / (6 N)) on the grid N x C, as a user would write it in numpy."""
    N = N[:, None]
    D = C[None, :] / (6 * N)
    return law.E + law.A / N**law.alpha + law.B / D**law.beta


def reference_nd(law, N, D):
    return law.E + law.A / N[:, None] ** law.alpha + law.B / D[None, :] ** law.beta


def max_relative_error(actual, expected):
    return float(np.max(np.abs(actual - expected) / expected))


def random_laws(rng, count):
    for _ in range(count):
        yield Law(
            E=rng.uniform(0.5, 3.0),
            A=10 ** rng.uniform(0, 4),
            B=10 ** rng.uniform(0, 4),
            alpha=rng.uniform(0.05, 1.5),
            beta=rng.uniform(0.05, 1.5),
        )


def test_random_axes_match_numpy_to_1e13():
    rng = np.random.default_rng(2022)
    for law in random_laws(rng, 20):
        N = 10 ** rng.uniform(3, 15, size=rng.integers(1, 200))  # unsorted, any length
        C = 10 ** rng.uniform(10, 30, size=rng.integers(1, 200))
        D = 10 ** rng.uniform(-5, 25, size=C.size)
        assert max_relative_error(scalinglaw.loss_grid(law, N, C), reference_nc(law, N, C)) < 1e-13
        assert max_relative_error(scalinglaw.loss_grid_nd(law, N, D), reference_nd(law, N, D)) < 1e-13


@pytest.mark.parametrize("beta", [0.3658, 3.0, 15.0, 40.0])
def test_extreme_axes_match_numpy_to_1e13(beta):
    # N from 1e3 to 1e15 and C from 1e10 to 1e30 put D = C / 6N between 1.7e-6 and 1.7e26. Steep
    # exponents push the per-row and per-column factors out of double range unless they are scaled
    # (beta = 15) or forbid the split altogether (beta = 40): the values must not change.
    law = Law(E=CHINCHILLA.E, A=CHINCHILLA.A, B=CHINCHILLA.B, alpha=CHINCHILLA.alpha, beta=beta)
    N = np.concatenate([np.geomspace(1e3, 1e15, 301), [1e3, 1e15, 7.3e9]])
    C = np.concatenate([np.geomspace(1e10, 1e30, 257), [1e30, 1e10, 5.76e23]])
    with np.errstate(over="ignore"):  # numpy's D**beta overflows where B / D**beta is ~0
        expected = reference_nc(law, N, C)
    assert np.isfinite(expected).all()
    assert max_relative_error(scalinglaw.loss_grid(law, N, C), expected) < 1e-13


def test_orientation_rows_follow_N_columns_follow_C():
    N = np.array([1e8, 1e9, 1e10])
    C = np.array([1e19, 1e20, 1e21, 1e22])
    grid = scalinglaw.loss_grid(CHINCHILLA, N, C)
    assert grid.shape == (3, 4)
    assert grid.dtype == np.float64 and grid.flags.c_contiguous
    for i, n in enumerate(N):
        for j, c in enumerate(C):
            expected = reference_nd(CHINCHILLA, np.array([n]), np.array([c / (6 * n)]))[0, 0]
            assert grid[i, j] == pytest.approx(expected, rel=1e-14)


def test_grid_feeds_matplotlib_contour_with_flops_on_x():
    from matplotlib.figure import Figure

    N = np.geomspace(1e7, 1e12, 40)
    C = np.geomspace(1e18, 1e24, 60)
    axes = Figure().subplots()
    contours = axes.contour(C, N, scalinglaw.loss_grid(CHINCHILLA, N, C), levels=[2.5, 3.0])
    x0, x1, y0, y1 = axes.dataLim.x0, axes.dataLim.x1, axes.dataLim.y0, axes.dataLim.y1
    assert (x0, x1) == pytest.approx((C[0], C[-1])) and (y0, y1) == pytest.approx((N[0], N[-1]))
    assert len(contours.allsegs[0][0]) > 2


def test_loss_grid_nd_cells_equal_predict_exactly():
    N = np.geomspace(1e6, 1e12, 50)
    D = np.geomspace(1e8, 1e14, 70)
    grid = scalinglaw.loss_grid_nd(CHINCHILLA, N, D)
    np.testing.assert_array_equal(grid, scalinglaw.predict(CHINCHILLA, N[:, None], D[None, :]))


def test_predict_broadcasts_like_numpy():
    N = np.geomspace(1e7, 1e11, 6).reshape(3, 2, 1)
    D = np.geomspace(1e9, 1e13, 4)
    result = scalinglaw.predict(CHINCHILLA, N, D)
    assert result.shape == (3, 2, 4) and result.dtype == np.float64
    expected = CHINCHILLA.E + CHINCHILLA.A / N**CHINCHILLA.alpha + CHINCHILLA.B / D**CHINCHILLA.beta
    assert max_relative_error(result, expected) < 1e-15 * 4
    scalar = scalinglaw.predict(CHINCHILLA, 7e10, 1.4e12)
    assert scalar.shape == ()
    assert float(scalar) == pytest.approx(
        reference_nd(CHINCHILLA, np.array([7e10]), np.array([1.4e12]))[0, 0], rel=1e-15
    )
    assert scalinglaw.predict(CHINCHILLA, [1e9, 2e9], 2e10).shape == (2,)
    assert scalinglaw.predict(CHINCHILLA, np.ones((0, 3)), 1e10).shape == (0, 3)


def test_law_methods_and_mappings_give_the_same_grids():
    N = np.geomspace(1e7, 1e12, 30)
    C = np.geomspace(1e18, 1e24, 20)
    grid = scalinglaw.loss_grid(CHINCHILLA, N, C)
    np.testing.assert_array_equal(CHINCHILLA.loss_grid(N, C), grid)
    np.testing.assert_array_equal(scalinglaw.loss_grid(CHINCHILLA.params, N, C), grid)
    np.testing.assert_array_equal(CHINCHILLA.loss_grid_nd(N, C), scalinglaw.loss_grid_nd(CHINCHILLA, N, C))
    np.testing.assert_array_equal(CHINCHILLA.predict(N, 2e10), scalinglaw.predict(CHINCHILLA, N, 2e10))


def test_fit_result_has_the_grid_methods(fit_240):
    N = np.geomspace(1e7, 1e12, 5)
    C = np.geomspace(1e18, 1e24, 6)
    np.testing.assert_allclose(fit_240.loss_grid(N, C), reference_nc(fit_240, N, C), rtol=1e-13)


def test_float32_cells_are_the_float64_cells_rounded_once():
    N = np.geomspace(1e3, 1e15, 333)
    C = np.geomspace(1e10, 1e30, 555)
    grid64 = scalinglaw.loss_grid(CHINCHILLA, N, C)
    grid32 = scalinglaw.loss_grid(CHINCHILLA, N, C, dtype=np.float32)
    assert grid32.dtype == np.float32
    np.testing.assert_array_equal(grid32, grid64.astype(np.float32))
    nd32 = scalinglaw.loss_grid_nd(CHINCHILLA, N, C, dtype="float32")
    np.testing.assert_array_equal(nd32, scalinglaw.loss_grid_nd(CHINCHILLA, N, C).astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_out_is_filled_in_place_and_returned(dtype):
    N = np.geomspace(1e6, 1e12, 64)
    C = np.geomspace(1e17, 1e25, 48)
    out = np.full((64, 48), np.nan, dtype=dtype)
    result = scalinglaw.loss_grid(CHINCHILLA, N, C, out=out)
    assert result is out
    np.testing.assert_array_equal(out, scalinglaw.loss_grid(CHINCHILLA, N, C, dtype=dtype))
    out[...] = np.nan
    assert scalinglaw.loss_grid_nd(CHINCHILLA, N, C, out=out, dtype=dtype) is out
    np.testing.assert_array_equal(out, scalinglaw.loss_grid_nd(CHINCHILLA, N, C, dtype=dtype))


def test_out_may_hold_the_axes_themselves():
    # The axes are read before any cell is written, so an axis that is a view into `out` is safe.
    N = np.geomspace(1e6, 1e12, 8)
    C = np.geomspace(1e17, 1e25, 8)
    expected = scalinglaw.loss_grid(CHINCHILLA, N, C)
    out = np.vstack([C, N, np.zeros((6, 8))])
    scalinglaw.loss_grid(CHINCHILLA, out[1], out[0], out=out)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("threads", [0, 2, 3, 8])
def test_any_thread_count_gives_identical_arrays(threads):
    # Shapes with several blocks of work, block edges inside rows, and grids large enough to be
    # written with streaming stores (> 16 MiB).
    rng = np.random.default_rng(threads)
    N = 10 ** rng.uniform(3, 15, 1531)
    C = 10 ** rng.uniform(10, 30, 2053)
    for dtype in (np.float64, np.float32):
        for grid in (scalinglaw.loss_grid, scalinglaw.loss_grid_nd):
            one = grid(CHINCHILLA, N, C, dtype=dtype, threads=1)
            np.testing.assert_array_equal(grid(CHINCHILLA, N, C, dtype=dtype, threads=threads), one)
    steep = Law(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=40.0)  # cells computed one by one
    np.testing.assert_array_equal(
        scalinglaw.loss_grid(steep, N[:300], C[:300], threads=threads),
        scalinglaw.loss_grid(steep, N[:300], C[:300], threads=1),
    )
    pairs = rng.uniform(1e6, 1e12, 300_000), rng.uniform(1e8, 1e14, 300_000)
    np.testing.assert_array_equal(
        scalinglaw.predict(CHINCHILLA, *pairs, threads=threads),
        scalinglaw.predict(CHINCHILLA, *pairs, threads=1),
    )
    one = scalinglaw.loss_grid(CHINCHILLA, N, C, threads=1)
    assert max_relative_error(one, reference_nc(CHINCHILLA, N, C)) < 1e-13


def test_another_python_thread_runs_while_a_large_grid_is_computed():
    # One thread writing 8192 x 4096 cells takes 15-30 ms. A counter thread stamps the time as fast
    # as it can; had the call held the GIL, no stamp could fall in the middle third of it. Three
    # tries, so that a counter thread the OS leaves unscheduled for a few ms cannot fail the test.
    N = np.geomspace(1e6, 1e12, 8192)
    C = np.geomspace(1e17, 1e25, 4096)
    out = np.ones((8192, 4096), dtype=np.float32)  # touched, so the call is pure computation
    for _ in range(3):
        stamps: list[float] = []
        done = threading.Event()

        def count(stamps=stamps, done=done):
            while not done.is_set():
                stamps.append(time.perf_counter())

        counter = threading.Thread(target=count)
        counter.start()
        try:
            time.sleep(0.01)
            start = time.perf_counter()
            scalinglaw.loss_grid(CHINCHILLA, N, C, out=out, threads=1)
            end = time.perf_counter()
        finally:
            done.set()
            counter.join()
        third = (end - start) / 3
        during = [t for t in stamps if start + third < t < end - third]
        if len(during) > 10:
            break
    assert len(during) > 10, f"no Python progress during the {1e3 * (end - start):.1f} ms call"
    assert np.isfinite(out).all()


def with_value(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


N_AXIS = np.geomspace(1e8, 1e10, 5)
C_AXIS = np.geomspace(1e20, 1e22, 4)
D_AXIS = np.geomspace(1e10, 1e12, 4)

GRID_CASES = [
    (
        "nan in N_axis",
        dict(N_axis=with_value(N_AXIS, 2, np.nan)),
        r"N_axis\[2\] = nan is not finite",
    ),
    (
        "inf in C_axis",
        dict(C_axis=with_value(C_AXIS, 3, np.inf)),
        r"C_axis\[3\] = inf is not finite",
    ),
    ("zero N", dict(N_axis=with_value(N_AXIS, 0, 0.0)), r"N_axis\[0\] = 0.0 is not > 0"),
    ("negative C", dict(C_axis=with_value(C_AXIS, 1, -1e21)), r"C_axis\[1\] = -1e\+21 is not > 0"),
    ("-inf N", dict(N_axis=with_value(N_AXIS, 4, -np.inf)), r"N_axis\[4\] = -inf is not finite"),
    ("2-D N_axis", dict(N_axis=np.ones((2, 3))), r"N_axis must be 1-D, got shape \(2, 3\)"),
    ("scalar C_axis", dict(C_axis=1e21), r"C_axis must be 1-D, got shape \(\)"),
    ("text N_axis", dict(N_axis=["1e9", "2e9"]), r"N_axis must be numbers, got text"),
    ("None C_axis", dict(C_axis=None), r"C_axis is missing"),
    ("complex", dict(C_axis=C_AXIS.astype(complex)), r"C_axis must be real numbers"),
    (
        "out wrong shape",
        dict(out=np.empty((4, 5))),
        r"out must have shape \(len\(N_axis\), len\(C_axis\)\) = \(5, 4\), got \(4, 5\)",
    ),
    ("out 1-D", dict(out=np.empty(20)), r"out must have shape .* got \(20,\)"),
    (
        "out int",
        dict(out=np.empty((5, 4), dtype=np.int64)),
        r"out must have dtype float64 or float32, got int64",
    ),
    (
        "out float16",
        dict(out=np.empty((5, 4), dtype=np.float16)),
        r"out must have dtype float64 or float32, got float16",
    ),
    (
        "out big-endian",
        dict(out=np.empty((5, 4), dtype=">f8")),
        r"out must have dtype float64 or float32, got >f8",
    ),
    ("out Fortran", dict(out=np.empty((5, 4), order="F")), r"out must be C-contiguous"),
    ("out strided", dict(out=np.empty((5, 8))[:, ::2]), r"out must be C-contiguous"),
    (
        "out read-only",
        dict(out=np.broadcast_to(np.empty(4), (5, 4))),
        r"out must be C-contiguous|out must be writeable",
    ),
    ("out list", dict(out=[[0.0] * 4] * 5), r"out must be a numpy array, got list"),
    ("dtype int", dict(dtype=np.int32), r"dtype must be float64 or float32, got int32"),
    (
        "dtype garbage",
        dict(dtype="no such type"),
        r"dtype must be float64 or float32, got 'no such type'",
    ),
    (
        "dtype vs out",
        dict(out=np.empty((5, 4)), dtype=np.float32),
        r"dtype float32 does not match out.dtype float64",
    ),
    ("threads negative", dict(threads=-1), r"threads must be >= 0"),
    ("threads float", dict(threads=2.0), r"threads must be a whole number"),
    ("params missing", dict(params={"E": 1.0, "A": 1.0}), r"params is missing B, alpha, beta"),
    ("params E zero", dict(params={**CHINCHILLA.params, "E": 0.0}), r"E must be finite and > 0"),
    ("params beta nan", dict(params={**CHINCHILLA.params, "beta": np.nan}), r"beta must be finite"),
    ("params wrong type", dict(params=3.0), r"params must be a Law"),
]


@pytest.mark.parametrize(("case", "change", "message"), GRID_CASES, ids=[c[0] for c in GRID_CASES])
def test_bad_grid_input_raises_value_error(case, change, message):
    arguments = {"params": CHINCHILLA, "N_axis": N_AXIS, "C_axis": C_AXIS, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.loss_grid(
            arguments.pop("params"), arguments.pop("N_axis"), arguments.pop("C_axis"), **arguments
        )


def test_read_only_out_raises_value_error():
    out = np.empty((5, 4))
    out.flags.writeable = False
    with pytest.raises(ValueError, match=r"out must be writeable, got a read-only array"):
        scalinglaw.loss_grid(CHINCHILLA, N_AXIS, C_AXIS, out=out)


def test_bad_nd_grid_input_names_D_axis():
    with pytest.raises(ValueError, match=r"D_axis\[1\] = 0.0 is not > 0: every token count"):
        scalinglaw.loss_grid_nd(CHINCHILLA, N_AXIS, with_value(D_AXIS, 1, 0.0))
    with pytest.raises(ValueError, match=r"out must have shape \(len\(N_axis\), len\(D_axis\)\)"):
        scalinglaw.loss_grid_nd(CHINCHILLA, N_AXIS, D_AXIS, out=np.empty((5, 5)))


PREDICT_CASES = [
    ("nan N", dict(N=with_value(N_AXIS, 1, np.nan)), r"N\[1\] = nan is not finite"),
    ("zero D", dict(D=np.zeros((2, 2))), r"D\[0, 0\] = 0.0 is not > 0"),
    ("negative scalar", dict(N=-1.0), r"N\[\] = -1.0 is not > 0"),
    (
        "not broadcastable",
        dict(D=D_AXIS),
        r"N \(shape \(5,\)\) and D \(shape \(4,\)\) cannot be broadcast",
    ),
    ("text D", dict(D="1e10"), r"D must be numbers, got text"),
    ("threads", dict(threads=-3), r"threads must be >= 0"),
]


@pytest.mark.parametrize(("case", "change", "message"), PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES])
def test_bad_predict_input_raises_value_error(case, change, message):
    arguments = {"N": N_AXIS, "D": 2e10, **change}
    with pytest.raises(ValueError, match=message):
        scalinglaw.predict(CHINCHILLA, arguments.pop("N"), arguments.pop("D"), **arguments)


def test_the_compiled_functions_check_their_arguments_too():
    from scalinglaw import _core

    p = _core.Params(1.82, 482.0, 2085.0, 0.35, 0.37)
    with pytest.raises(ValueError, match=r"n_axis\[1\] must be finite and > 0, got -1"):
        _core.loss_grid(p, [1e9, -1.0], [1e20], np.empty((2, 1)))
    with pytest.raises(ValueError, match=r"d_axis\[0\] must be finite and > 0, got nan"):
        _core.loss_grid_nd(p, [1e9], [np.nan], np.empty((1, 1)))
    with pytest.raises(ValueError, match="out must have shape"):
        _core.loss_grid(p, [1e9], [1e20, 1e21], np.empty((2, 1)))
    with pytest.raises(ValueError, match="float64 or float32"):
        _core.loss_grid(p, [1e9], [1e20], np.empty((1, 1), dtype=np.int32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.loss_grid(p, [1e9, 2e9], [1e20, 1e21], np.empty((2, 2), order="F"))
    with pytest.raises(ValueError, match="same shape"):
        _core.predict(p, [1e9, 2e9], [1e10])
    with pytest.raises(ValueError, match="threads must be >= 0"):
        _core.predict(p, [1e9], [1e10], threads=-1)
    with pytest.raises(ValueError, match=r"E must be finite and > 0"):
        _core.predict(_core.Params(0.0, 482.0, 2085.0, 0.35, 0.37), [1e9], [1e10])
