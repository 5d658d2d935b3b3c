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
    "FlopsMismatchWarning",
    "IllConditionedWarning",
    "IsoflopWarning",
    "PooledGroupsWarning",
    "RepeatedRunsWarning",
    "ScalingLawWarning",
    "SkippedRowsWarning",
    "UnitsWarning",
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


class UnitsWarning(ScalingLawWarning):
    """The numbers look like another unit than the one the law needs: model sizes in millions or
    billions, perplexity for loss, N and D swapped."""


class FlopsMismatchWarning(ScalingLawWarning):
    """A file's FLOPs column and its N and D columns disagree on C = 6 N D by more than 10%."""


class RepeatedRunsWarning(ScalingLawWarning):
    """Runs repeat an (N, D) pair, or one model size comes at evenly spaced token counts: rows of a
    loss curve (checkpoints of one run) rather than separate runs."""


class PooledGroupsWarning(ScalingLawWarning):
    """A text column of a few values (corpora, datasets) splits runs of one model size, yet one law is
    fitted to them all; ``--group COLUMN`` (``group=`` in Python) fits each group apart."""


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
