"""scalinglaw: fit neural scaling laws (Chinchilla, Approach 3) and plan compute-optimal training.

>>> import scalinglaw
>>> runs = scalinglaw.load_chinchilla()  # Epoch's 240 runs
>>> result = scalinglaw.fit(*runs)
"""

from ._core import __version__
from .backtest import BacktestResult, backtest, compare
from .bootstrap import BootstrapResult, bootstrap, bootstrap_indices, bootstrap_starts, resample_indices
from .fit import (
    FitOptions,
    FitResult,
    StartOutcomes,
    data_constrained_starts,
    default_starts,
    fit,
    law_default_starts,
    objective,
    start_columns,
    start_grid,
)
from .frontier import (
    GOPHER_FLOPS,
    Allocation,
    FrontierCoefficients,
    budget_for_loss,
    compute_optimal,
    frontier_coefficients,
    optimal_for_size,
)
from .goodness import GoodnessOfFit, goodness_of_fit
from .grid import loss_grid, loss_grid_nd, predict
from .groups import GroupFits, fit_groups
from .inference import InferenceAllocation, inference_optimal
from .io import Runs, load_chinchilla, read_csv
from .isoflop import Approach2Result, BudgetGroups, approach2, group_by_budget
from .law import LAWS, Chinchilla, DataConstrained, Kaplan, Law, ScalingLaw
from .saved import SavedFit, load_fit
from .trust import DataRange, check_plans
from .warnings import (
    BootstrapWarning,
    BudgetGroupingWarning,
    ConvergenceWarning,
    FlopsMismatchWarning,
    IllConditionedWarning,
    IsoflopWarning,
    PooledGroupsWarning,
    RepeatedRunsWarning,
    ScalingLawWarning,
    SkippedRowsWarning,
    UnitsWarning,
)

__all__ = [
    "GOPHER_FLOPS",
    "LAWS",
    "Allocation",
    "Approach2Result",
    "BacktestResult",
    "BootstrapResult",
    "BootstrapWarning",
    "BudgetGroupingWarning",
    "BudgetGroups",
    "Chinchilla",
    "ConvergenceWarning",
    "DataConstrained",
    "DataRange",
    "FitOptions",
    "FitResult",
    "FlopsMismatchWarning",
    "FrontierCoefficients",
    "GoodnessOfFit",
    "GroupFits",
    "IllConditionedWarning",
    "InferenceAllocation",
    "IsoflopWarning",
    "Kaplan",
    "Law",
    "PooledGroupsWarning",
    "RepeatedRunsWarning",
    "Runs",
    "SavedFit",
    "ScalingLaw",
    "ScalingLawWarning",
    "SkippedRowsWarning",
    "StartOutcomes",
    "UnitsWarning",
    "__version__",
    "approach2",
    "backtest",
    "bootstrap",
    "bootstrap_indices",
    "bootstrap_starts",
    "budget_for_loss",
    "check_plans",
    "compare",
    "compute_optimal",
    "data_constrained_starts",
    "default_starts",
    "fit",
    "fit_groups",
    "frontier_coefficients",
    "goodness_of_fit",
    "group_by_budget",
    "inference_optimal",
    "law_default_starts",
    "load_chinchilla",
    "load_fit",
    "loss_grid",
    "loss_grid_nd",
    "objective",
    "optimal_for_size",
    "predict",
    "read_csv",
    "resample_indices",
    "start_columns",
    "start_grid",
]
