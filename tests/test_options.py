"""FitOptions: one object, the C++ defaults its only defaults, taken by every function that refits."""

from __future__ import annotations

import copy
import inspect
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import scalinglaw
from scalinglaw import FitOptions

HEADER = Path(__file__).resolve().parents[1] / "cpp" / "include" / "scalinglaw" / "fit.hpp"
FIELDS = (
    "delta",
    "max_iterations",
    "gradient_tolerance",
    "function_tolerance",
    "parameter_tolerance",
    "max_step",
    "threads",
)
RUNS = scalinglaw.load_chinchilla(epoch_exclusion=True)
FEW_STARTS = scalinglaw.default_starts()[::300]


def test_defaults_are_the_cpp_headers():
    struct = HEADER.read_text().split("struct FitOptions {", 1)[1].split("};", 1)[0]
    written = dict(re.findall(r"^\s*(?:double|int) (\w+) = ([^;]+);", struct, flags=re.M))
    cpp_name = {"delta": "huber_delta"}  # the C++ spelling, kept for embedders
    assert set(written) == {cpp_name.get(name, name) for name in FIELDS}
    options = FitOptions()
    for name in FIELDS:
        assert getattr(options, name) == float(written[cpp_name.get(name, name)]), name


def test_options_are_read_only_and_keyword_only():
    options = FitOptions(max_iterations=7, threads=1)
    assert (options.max_iterations, options.threads, options.delta) == (7, 1, FitOptions().delta)
    with pytest.raises(AttributeError):
        options.max_iterations = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        FitOptions(1e-3)  # type: ignore[misc]
    assert "max_iterations=7" in repr(options)


def test_options_are_values_that_pickle_with_the_result():
    options = FitOptions(max_iterations=7, delta=2e-3)
    assert options == FitOptions(delta=2e-3, max_iterations=7) and options != FitOptions()
    assert pickle.loads(pickle.dumps(options)) == options and copy.deepcopy(options) == options
    result = scalinglaw.fit(*RUNS, starts=FEW_STARTS, options=options, max_iterations=1000)
    back = pickle.loads(pickle.dumps(result))
    assert back == result and back.options == result.options == FitOptions(delta=2e-3)
    np.testing.assert_array_equal(back.starts.params, result.starts.params)


def test_no_python_function_writes_a_default_of_its_own():
    for function in (scalinglaw.fit, scalinglaw.bootstrap, scalinglaw.objective):
        parameters = inspect.signature(function).parameters
        for name in ("delta", "threads", "max_iterations"):
            if name in parameters:
                assert parameters[name].default is None, f"{function.__name__}({name}=...)"


def test_fit_takes_the_options_object_and_keywords_replace_its_fields():
    options = FitOptions(max_iterations=3, threads=1)
    with pytest.warns(scalinglaw.ConvergenceWarning):
        by_object = scalinglaw.fit(*RUNS, starts=FEW_STARTS, options=options)
    with pytest.warns(scalinglaw.ConvergenceWarning):
        by_keyword = scalinglaw.fit(*RUNS, starts=FEW_STARTS, max_iterations=3, threads=1)
    assert by_object == by_keyword
    assert by_object.options.max_iterations == 3 and by_object.delta == FitOptions().delta
    assert by_object.iterations <= 3
    wider = scalinglaw.fit(*RUNS, starts=FEW_STARTS, options=options, max_iterations=1000, delta=2e-3)
    assert (wider.options.max_iterations, wider.options.threads, wider.delta) == (1000, 1, 2e-3)
    with pytest.raises(ValueError, match=r"options must be a scalinglaw\.FitOptions, got dict"):
        scalinglaw.fit(*RUNS, options={"max_iterations": 3})  # type: ignore[arg-type]
    # Fields of an options object are checked at the door under their Python names, like the keywords.
    for bad, message in [
        (FitOptions(delta=0.0), r"delta must be finite and > 0, got 0\.0"),
        (FitOptions(max_iterations=0), r"max_iterations must be >= 1, got 0"),
        (FitOptions(max_step=float("inf")), r"max_step must be finite"),
        (FitOptions(gradient_tolerance=-1.0), r"gradient_tolerance must be finite and >= 0, got -1\.0"),
        (FitOptions(threads=-1), r"threads must be >= 0, got -1"),
    ]:
        with pytest.raises(ValueError, match=message):
            scalinglaw.fit(*RUNS, options=bad)


def test_bootstrap_refits_with_the_same_options():
    estimate = scalinglaw.fit(*RUNS, starts=FEW_STARTS)
    with pytest.warns(scalinglaw.BootstrapWarning, match="2 of 2 resamples did not converge"):
        short = scalinglaw.bootstrap(
            *RUNS, n_resamples=2, seed=5, estimate=estimate, options=FitOptions(max_iterations=1)
        )
    assert np.all(short.iterations == 1) and np.all(short.status == "max_iterations")
    full = scalinglaw.bootstrap(*RUNS, n_resamples=2, seed=5, estimate=estimate, max_iterations=1000)
    assert np.all(full.status == "converged")
