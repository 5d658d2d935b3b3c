"""The warnings scalinglaw issues, as one tree: catch ``ScalingLawWarning`` for all of them.

A warning means a result was computed but needs care. Each points at the user's line (the first frame
outside this package), however deep inside the package it was raised.
"""

from __future__ import annotations

import inspect
import os
import warnings

__all__ = [
    "BootstrapWarning",
    "BudgetGroupingWarning",
    "ConvergenceWarning",
    "IllConditionedWarning",
    "IsoflopWarning",
    "ScalingLawWarning",
    "SkippedRowsWarning",
    "warn",
]


class ScalingLawWarning(UserWarning):
    """Base of scalinglaw's warnings: a result was computed, but needs care."""


class ConvergenceWarning(ScalingLawWarning):
    """The best start stopped before a convergence test passed; the result may not be the optimum."""


class IllConditionedWarning(ScalingLawWarning):
    """The optimum is ill-conditioned or on a boundary of the law: the data do not determine every
    parameter (see ``FitResult.problems``)."""


class BootstrapWarning(ScalingLawWarning):
    """Some resamples were left out of the statistics: their refit did not converge, or a quantity
    is undefined for them (no frontier, or too few IsoFLOP budgets with a parabola minimum)."""


class SkippedRowsWarning(ScalingLawWarning):
    """``read_csv(..., on_bad_row="skip")`` left rows out; ``Runs.notes`` says how many, which and why."""


class BudgetGroupingWarning(ScalingLawWarning):
    """Some runs could not be placed in any budget group."""


class IsoflopWarning(ScalingLawWarning):
    """A budget's IsoFLOP profile was left out of Approach 2: too few model sizes, or no minimum."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[ScalingLawWarning]) -> None:
    """warnings.warn, attributed to the first caller outside the package (not a fixed stacklevel,
    which breaks whenever a function is reached by another path)."""
    frame = inspect.currentframe()
    level = 1  # the stacklevel of `frame`: 1 is `warn` itself
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
