#pragma once
// Hoffmann et al.'s (2022) Approach 2, IsoFLOP profiles: runs grouped by training budget C (FLOPs); in
// each group a least-squares parabola of the loss against x = ln N (N parameters, natural log), whose
// minimum is that budget's N_opt(C); then N_opt = k_N C^a and D_opt = C / (6 N_opt) = k_D C^b by least
// squares in ln-ln across the budgets. Inputs are plain arrays, outputs plain structs; a pure function
// of its arguments, so concurrent calls are safe. Bad arguments throw std::invalid_argument naming them.

#include <cstddef>
#include <string>
#include <vector>

#include "scalinglaw/fit.hpp"  // RunsView

namespace scalinglaw {

/// What became of one budget's group of runs.
enum class ParabolaStatus {
    used,            ///< its minimum is one of the points the exponents are fitted to
    too_few_sizes,   ///< fewer than 3 distinct model sizes: no parabola is determined
    opens_downward,  ///< c2 <= 0 (or so flat that its minimum is not a finite N): no minimum
};

/// "used", "too_few_sizes" or "opens_downward".
const char* to_string(ParabolaStatus status);

/// One budget's IsoFLOP profile. With x = ln N and xc = center, loss = c0 + c1 (x - xc) + c2 (x - xc)^2;
/// centring on the group's mean ln N keeps the fit well conditioned. Its minimum lies at
/// x = xc - c1 / (2 c2): N_opt = exp(xc - c1 / (2 c2)), D_opt = flops / (6 N_opt). (Python names the
/// fields flops, n_opt, d_opt, smallest_n, largest_n by the law's symbols: C, N_opt, D_opt, smallest_N,
/// largest_N.)
struct BudgetParabola {
    double flops = 0.0;       ///< the group's budget C, FLOPs
    std::size_t runs = 0;     ///< runs in the group
    std::size_t sizes = 0;    ///< distinct model sizes among them
    double smallest_n = 0.0;  ///< the group's range of N, parameters (NaN without runs)
    double largest_n = 0.0;
    double center = 0.0;                  ///< mean ln N over the group's runs (NaN without runs)
    double c0 = 0.0, c1 = 0.0, c2 = 0.0;  ///< NaN when status is too_few_sizes
    double n_opt = 0.0;                   ///< parameters at the minimum (NaN unless used)
    double d_opt = 0.0;                   ///< tokens there, flops / (6 n_opt) (NaN unless used)
    double loss_opt = 0.0;  ///< the parabola's value there, c0 - c1^2 / (4 c2) (NaN unless used)
    /// smallest_n <= n_opt <= largest_n: the minimum is interpolated, not extrapolated.
    bool inside = false;
    ParabolaStatus status = ParabolaStatus::too_few_sizes;
    std::string reason;  ///< why the budget was skipped, for a person; empty when used
};

struct Approach2Result {
    std::vector<BudgetParabola> parabolas;  ///< one per budget, in the order of the budgets given
    std::size_t used = 0;                   ///< parabolas whose minima the exponents are fitted to
    /// N_opt = n_coefficient C^a and D_opt = d_coefficient C^b (C in FLOPs), least squares of ln N_opt
    /// and ln D_opt on ln C over the used budgets. Since D_opt = C / (6 N_opt), a + b = 1 up to
    /// rounding. NaN when fewer than 2 budgets are used (see `message`): not an exception, because a
    /// bootstrap resample may lose budgets.
    double a = 0.0;
    double n_coefficient = 0.0;
    double b = 0.0;
    double d_coefficient = 0.0;
    std::string message;  ///< empty when the exponents were fitted; otherwise why not
};

/// Approach 2 on `runs` (every N and loss finite and > 0; D is not used: a run's budget is its group's).
/// group[i] is run i's group, an index into `budgets`, or -1 for a run in no group; budgets (FLOPs) must
/// be finite, > 0 and distinct, and there must be at least one.
Approach2Result approach2(const RunsView& runs, const std::vector<int>& group,
                          const std::vector<double>& budgets);

}  // namespace scalinglaw
