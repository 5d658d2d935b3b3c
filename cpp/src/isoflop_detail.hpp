#pragma once
// Private: Approach 2's arithmetic without argument checks or messages, shared by approach2() and the
// bootstrap, which runs it on every resample (so it reuses the caller's memory and allocates nothing
// once that memory has grown to size).

#include <cstddef>
#include <vector>

#include "scalinglaw/isoflop.hpp"

namespace scalinglaw::detail {

/// Runs as Approach 2 sees them: per run, ln N, the loss and its group (an index into the budgets or
/// -1). A bootstrap resample lists a run once per draw.
struct IsoflopPoints {
    std::vector<double> log_n;
    std::vector<double> loss;
    std::vector<int> group;
};

/// The fitted exponents (NaN when fewer than 2 budgets are used) and how many budgets they rest on.
struct IsoflopExponents {
    double a, n_coefficient, b, d_coefficient;
    std::size_t used;
};

/// Per-caller scratch space: one group's points.
struct IsoflopScratch {
    std::vector<double> x, y, sorted;
};

/// Fits every budget's parabola into `parabolas` (resized to budgets.size(); `reason` left as it was)
/// and the exponents across the used budgets. Groups must index `budgets` (or be -1).
IsoflopExponents fit_isoflop(const IsoflopPoints& points, const std::vector<double>& budgets,
                             std::vector<BudgetParabola>& parabolas, IsoflopScratch& scratch);

/// Argument checks shared by approach2() and bootstrap(): group (one per run, each -1 or an index
/// into budgets) and budgets (at least one; finite, > 0, distinct).
void check_groups(const std::vector<int>& group, std::size_t runs, const std::vector<double>& budgets,
                  const char* group_name, const char* budgets_name);

}  // namespace scalinglaw::detail
