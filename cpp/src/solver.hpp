#pragma once
// Private: the Chinchilla law's objective in the solver's coordinates and Levenberg-Marquardt from one
// start (the law-independent loop, factorisation and shift are in solver/).
// The solver works on centred logs: with l_i = log N_i - mean(log N) (likewise m_i for D), the law's
// log-prediction is logsumexp(a' - alpha l_i, b' - beta m_i, e) where a' = a - alpha mean(log N) and
// b' = b - beta mean(log D). Same objective, but the a'-alpha and b'-beta columns of the Jacobian are
// nearly orthogonal, which keeps the damped steps well scaled.

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "scalinglaw/fit.hpp"
#include "solver/best.hpp"

namespace scalinglaw::detail {

struct Problem {
    std::vector<double> log_n;     ///< log N_i - center_n
    std::vector<double> log_d;     ///< log D_i - center_d
    std::vector<double> log_loss;  ///< log L_i
    double center_n = 0.0;
    double center_d = 0.0;
    double delta = 1e-3;
    /// Extremes of log_n and log_d, from which the solver bounds every exponent a - alpha l_i,
    /// b - beta m_i without a pass over the runs. NaN (the default) sends it to the slower exact path.
    double log_n_min = NAN, log_n_max = NAN, log_d_min = NAN, log_d_max = NAN;
};

/// Builds the problem from validated runs; `rows` (optional) picks and repeats runs, e.g. a resample.
Problem make_problem(const RunsView& runs, double delta, const std::vector<std::size_t>* rows = nullptr);

/// The objective at q (natural log-parameters, not centred).
double objective_at(const Problem& problem, const LogParams& q);

/// Per-thread scratch space for two points (current and trial); reused across starts to avoid
/// allocations. Per run: the shares p1, p2, p3 of the three terms in the prediction, the residual r.
struct Workspace {
    std::vector<double> p1, p2, p3, r;
    std::vector<double> trial_p1, trial_p2, trial_p3, trial_r;
    std::vector<double> reweight;  // per-run weights of the reweighted Gauss-Newton model
    void resize(std::size_t n);
};

/// The conditioning of the objective at q and each term's largest share (see FitResult).
struct Diagnostics {
    double hessian_condition;
    double largest_share[3];
};
Diagnostics diagnose(const Problem& problem, const LogParams& q);

/// best_of (solver/best.hpp) for the Chinchilla outcomes.
Best best_outcome(const std::vector<StartOutcome>& outcomes);

/// Runs Levenberg-Marquardt from `start` until one of the options' tests passes.
StartOutcome solve_from(const Problem& problem, const LogParams& start, const FitOptions& options,
                        Workspace& workspace);

/// Fixed and tied coordinates for the fast path, in LogParams order (a, b, e, alpha, beta): slot[j] is
/// the index of j's representative (the lowest of its tie group) or -1 when fixed at fixed[j] (log
/// form, uncentred). The caller guarantees what centring needs: a fixed amplitude (a or b) has a fixed
/// exponent, and the amplitudes are untied.
struct ChinchillaMap {
    int slot[5];
    double fixed[5];
};

/// solve_from under a ChinchillaMap: the kernels sum in full coordinates, the LM loop sees the free ones
/// (g = P^T g, H = P^T H P; a slot that is not free has a unit diagonal). The amplitude pre-fit and the
/// common shift run only when a, b and e are all free.
StartOutcome solve_constrained_from(const Problem& problem, const ChinchillaMap& map, const LogParams& start,
                                    const FitOptions& options, Workspace& workspace);

/// For the tests (tests/cpp/test_fit.cpp): what the solver computes at one point x of its own
/// coordinates (a', b', e, alpha, beta), so that each derivative can be checked by finite differences.
struct PointDerivatives {
    double objective;
    std::vector<double> residuals;                ///< r_i
    std::vector<std::array<double, 5>> jacobian;  ///< d r_i / d x, one row per run
    std::array<double, 5> gradient;               ///< d objective / d x
    std::array<double, 25> hessian;               ///< exact Hessian of the objective, row-major
};
PointDerivatives derivatives_at(const Problem& problem, const std::array<double, 5>& x);

}  // namespace scalinglaw::detail
