"""The compiled module on its own: conversions, C++ exceptions as Python exceptions."""

from __future__ import annotations

import numpy as np
import pytest
from scalinglaw import _core

N = np.geomspace(1e8, 1e10, 6)
D = np.geomspace(1e9, 1e11, 6)
L = 1.7 + 400 / N**0.34 + 400 / D**0.28
FIT_DEFAULTS = dict(max_iterations=100, threads=1)
OPTIONS = _core.FitOptions(**FIT_DEFAULTS)


def test_cpp_argument_checks_arrive_as_value_error():
    bad = L.copy()
    bad[3] = -1.0
    with pytest.raises(ValueError, match=r"loss\[3\] must be finite and > 0, got -1"):
        _core.fit_chinchilla(N, D, bad, _core.default_starts()[:2], OPTIONS)
    with pytest.raises(ValueError, match="at least 5 runs"):
        _core.fit_chinchilla(N[:3], D[:3], L[:3], _core.default_starts()[:2], OPTIONS)
    with pytest.raises(ValueError, match="same length"):
        _core.fit_chinchilla(N, D[:5], L, _core.default_starts()[:2], OPTIONS)
    with pytest.raises(ValueError, match=r"starts\[1\]\.alpha must be finite"):
        _core.fit_chinchilla(N, D, L, np.array([[0, 0, 0, 0, 0], [0, 0, 0, np.nan, 0.0]]), OPTIONS)
    with pytest.raises(ValueError, match="5 columns"):
        _core.fit_chinchilla(N, D, L, np.zeros((2, 3)), OPTIONS)
    for option, value, message in [
        ("delta", 0.0, "huber_delta must be finite and > 0"),
        ("max_iterations", 0, "max_iterations must be >= 1"),
        ("threads", -2, "threads must be >= 0"),
        ("max_step", np.inf, "max_step must be finite and > 0"),
        ("gradient_tolerance", -1.0, "gradient_tolerance must be finite and >= 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            options = _core.FitOptions(**{**FIT_DEFAULTS, option: value})
            _core.fit_chinchilla(N, D, L, _core.default_starts()[:2], options)


def test_integer_arrays_are_converted():
    q = _core.LogParams(6.0, 6.0, 0.5, 0.3, 0.3)
    value = _core.objective(N.astype(np.int64), D.astype(np.int64), L, q)
    assert value == pytest.approx(_core.objective(np.floor(N), np.floor(D), L, q))


def test_objective_is_stable_where_the_terms_overflow():
    # exp(a - alpha log N) overflows a double here, but the objective is finite: logsumexp is exact.
    value = _core.objective(N, D, L, _core.LogParams(800.0, 0.0, 0.0, 0.0, 0.0))
    r = 800.0 - np.log(L)
    assert value == pytest.approx(np.sum(1e-3 * (np.abs(r) - 0.5e-3)), rel=1e-12)
