#pragma once
// Fitting the Chinchilla law to training runs (Hoffmann et al. 2022, Approach 3). The objective is
//     f(a, b, e, alpha, beta) = sum_i huber_delta( r_i ),
//     r_i = logsumexp(a - alpha log N_i, b - beta log D_i, e) - log L_i,
// minimised by Levenberg-Marquardt (analytic Jacobian) from many starts, in parallel over the starts.
// Any law of laws.hpp is fitted the same way by fit(LawKind, ...): f = sum_i w_i huber(r_i) with r_i the
// law's log-prediction less log L_i, in the law's coordinates, optionally with fixed and tied parameters.
// Inputs are plain arrays (N parameters, D tokens, L loss; natural logs throughout), outputs plain
// structs. A call holds no global state: concurrent calls from several threads are safe, and the result
// is bit-identical for any thread count. Bad arguments throw std::invalid_argument naming the argument.

#include <atomic>
#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "scalinglaw/law.hpp"
#include "scalinglaw/laws.hpp"
#include "scalinglaw/runs.hpp"

namespace scalinglaw {

/// Every field: what it means, its unit, why this default.
struct FitOptions {
    /// Huber threshold on the log-space residuals r_i (dimensionless). 1e-3 is Hoffmann et al.'s value.
    /// (`delta` in Python and JSON.)
    double huber_delta = 1e-3;
    /// Iterations per start, accepted and rejected steps alike. Starts on the default grid need < 300.
    int max_iterations = 1000;
    /// Converged when max_j |g_j| * max(1, |x_j|) <= gradient_tolerance * f, g the gradient of f at the
    /// log-parameters x: relative to the objective's own scale, so a fit whose objective is 1e-3
    /// is held to the same standard as one whose objective is 10.
    double gradient_tolerance = 1e-10;
    /// Converged when the step the local model proposes would lower f by at most function_tolerance * f:
    /// nothing is left to gain above rounding error.
    double function_tolerance = 1e-15;
    /// Converged when an accepted step h satisfies |h| <= parameter_tolerance * (|x| + parameter_tolerance).
    double parameter_tolerance = 1e-10;
    /// Largest change of any log-parameter or exponent in one step. Long jumps land where a term of the
    /// law has vanished (its gradient is then ~0 and the start is stranded); 5 is a factor e^5 ~ 150.
    /// The generic solver (any law but the plain Chinchilla fit) doubles it after a step that used over
    /// half of it and lowered the objective as its model predicted, keeps it after a step that did
    /// fairly well, and resets it otherwise: a start walking a long valley crosses it in a few steps.
    double max_step = 5.0;
    /// Worker threads; 0 means one per hardware thread, and more than that are not started (each would
    /// add a workspace, not speed). The result does not depend on it.
    int threads = 0;
    /// Optional: polled by the workers. Once it reads true, the fit stops and throws `cancelled`.
    const std::atomic<bool>* cancel = nullptr;
    /// Optional: incremented as each start of a fit (each resample of a bootstrap) finishes, for another
    /// thread to report progress. Never read by the core: the result does not depend on it.
    std::atomic<std::size_t>* progress = nullptr;
};

enum class FitStatus {
    converged,          ///< one of the three tolerance tests above passed
    max_iterations,     ///< stopped by max_iterations before converging
    numerical_failure,  ///< the objective was not finite at the start, or no step could be computed
};

/// Thrown when FitOptions::cancel becomes true during a fit.
class cancelled : public std::runtime_error {
public:
    cancelled() : std::runtime_error("scalinglaw: cancelled") {}
};

/// What became of one start.
struct StartOutcome {
    LogParams start;
    LogParams params;
    /// The solver's value at params, to rounding (near a perfect fit, rounding noise, even below 0);
    /// the best start's is evaluated at its params, as FitResult::objective.
    double objective;
    FitStatus status;
    int iterations;
};

struct FitResult {
    Params params;               ///< the best start's optimum, natural form
    LogParams log_params;        ///< the same in log form
    double objective;            ///< f evaluated at params (the solver's running value is noise near 0)
    FitStatus status;            ///< the best start's status
    std::string message;         ///< one line a person reads: what stopped the best start, how many agree
    int iterations;              ///< the best start's iterations
    std::size_t best_start;      ///< index into the starts; ties go to the lowest index
    std::size_t starts_at_best;  ///< starts whose objective is within 1e-8 relative of the best
    /// How well the optimum is determined: the condition number of the objective's exact Hessian at
    /// params (in the solver's coordinates, scaled to unit diagonal); infinity when it is not positive
    /// definite, i.e. some direction is flat or not a minimum.
    double hessian_condition = 0.0;
    /// For each term (A/N^alpha, B/D^beta, E), its largest share of the predicted loss over the runs.
    /// Near 0, the term has vanished: the optimum lies on a boundary of the law (a, b or e -> -inf).
    /// (`term_shares` in Python and JSON.)
    double largest_share[3] = {0.0, 0.0, 0.0};
    std::vector<StartOutcome> starts;  ///< one per start, in the order given
};

/// Hoffmann et al.'s grid of 4500 starts: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
/// a, b in {0, 5, ..., 25}; ordered with alpha slowest and b fastest.
std::vector<LogParams> default_starts();

/// The objective f at q (argument checks as in fit_chinchilla).
double objective(const RunsView& runs, const LogParams& q, double huber_delta = 1e-3);

/// Fits the law: runs every start to convergence and returns the best (lowest objective, then lowest
/// index). Needs at least 5 runs (one per parameter) and one start.
FitResult fit_chinchilla(const RunsView& runs, const std::vector<LogParams>& starts,
                         const FitOptions& options = {});

/// Convenience overload for vectors; the default grid of starts.
FitResult fit_chinchilla(const std::vector<double>& n, const std::vector<double>& d,
                         const std::vector<double>& loss,
                         const std::vector<LogParams>& starts = default_starts(),
                         const FitOptions& options = {});

// ---- Any law (laws.hpp), with fixed and tied parameters and per-run weights ----------------------------

/// Constraints on a law's parameters, by their natural names (laws.hpp). `fixed` pins parameters at
/// natural values (finite, > 0 for log-scale parameters; +infinity where the law allows it: R_D, R_N);
/// `tied` makes each pair share one value (chains join into groups; both must be fitted on the same
/// scale, log or linear, and neither fixed). At least one parameter must stay free.
struct ParameterMap {
    std::map<std::string, double> fixed;
    std::vector<std::pair<std::string, std::string>> tied;
};

/// How a parameter was treated by a fit.
enum class ParameterRole {
    free,   ///< fitted
    fixed,  ///< pinned by ParameterMap::fixed
    tied,   ///< takes the value of the first parameter of its tie group (LawFitResult::tied_to)
};

/// What became of one start (full coordinates of the law, fixed and tied entries included).
struct LawStartOutcome {
    std::vector<double> start;
    std::vector<double> coordinates;
    double objective;
    FitStatus status;
    int iterations;
};

struct LawFitResult {
    LawKind law;
    std::vector<double> params;       ///< the best start's optimum, natural form, in the law's order
    std::vector<double> coordinates;  ///< the same in the fit's coordinates (laws.hpp)
    std::vector<ParameterRole> roles;
    std::vector<std::size_t> tied_to;  ///< for each parameter, the first of its tie group (itself if untied)
    double objective;                  ///< sum_i w_i huber(r_i) at params (w_i = 1 without weights)
    FitStatus status;
    std::string message;
    int iterations;
    std::size_t best_start;
    std::size_t starts_at_best;
    /// The condition number of the exact Hessian over the free coordinates, scaled to unit diagonal;
    /// infinity when it is not positive definite. Large values say the parameters are poorly determined.
    double hessian_condition = 0.0;
    std::vector<LawStartOutcome> starts;  ///< one per start, in the order given
};

/// Fits `kind` to the runs from every start (full coordinate vectors of the law; fixed and tied entries
/// are overridden by the map), keeping the best (lowest objective, then lowest index). Starts that are
/// identical once the map is applied are solved once. The unconstrained, unweighted Chinchilla fit runs
/// fit_chinchilla's hand-vectorised path (bit-identical to it); every other fit the generic path.
/// Throws std::invalid_argument for bad runs, weights, unique tokens (needed by data_constrained,
/// U_D <= D), names, values or starts.
LawFitResult fit(LawKind kind, const RunsView& runs, const std::vector<std::vector<double>>& starts,
                 const ParameterMap& map = {}, const FitOptions& options = {});

/// The objective sum_i w_i huber(r_i) at natural parameters `params` of `kind` (checks as in fit()).
double objective(LawKind kind, const RunsView& runs, const std::vector<double>& params,
                 double huber_delta = 1e-3);

/// "free", "fixed", "tied".
const char* to_string(ParameterRole role);

/// "converged", "max_iterations" or "numerical_failure".
const char* to_string(FitStatus status);

}  // namespace scalinglaw
