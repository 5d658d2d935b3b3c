// fit_chinchilla: checks the arguments, runs every start on the thread pool, picks the best.

#include "scalinglaw/fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "check.hpp"
#include "parallel.hpp"
#include "solver.hpp"

namespace scalinglaw {
namespace detail {

void check_runs(const RunsView& runs) {
    if (runs.size < 5)
        fail(describe("the fit needs at least 5 runs (one per parameter of the law), got ", runs.size));
    check_positive_array(runs.n, runs.size, "n");
    check_positive_array(runs.d, runs.size, "d");
    check_positive_array(runs.loss, runs.size, "loss");
    if (runs.weight != nullptr)
        fail("weights are not taken by this Chinchilla-only entry point: use fit(LawKind::chinchilla, ...)");
    // With a single model size (or token count) A/N^alpha is one constant beside E: not identifiable.
    struct Column {
        const double* values;
        const char* name;
        const char* what;
    };
    for (const Column& c : {Column{runs.n, "n", "model size"}, Column{runs.d, "d", "token count"}}) {
        const double first = c.values[0];
        if (std::all_of(c.values, c.values + runs.size, [first](double v) { return v == first; }))
            fail(describe("every run has the same ", c.name, " = ", first, ": with one ", c.what,
                          " the law's terms cannot be told apart; the fit needs runs at several"));
    }
}

void check_delta(double delta) {
    if (!(delta > 0.0) || !std::isfinite(delta))
        fail(describe("huber_delta must be finite and > 0, got ", delta));
}

void check_options(const FitOptions& options) {
    check_delta(options.huber_delta);
    if (options.max_iterations < 1)
        fail(describe("max_iterations must be >= 1, got ", options.max_iterations));
    for (auto [value, name] : {std::pair{options.gradient_tolerance, "gradient_tolerance"},
                               std::pair{options.function_tolerance, "function_tolerance"},
                               std::pair{options.parameter_tolerance, "parameter_tolerance"}})
        if (!(value >= 0.0) || !std::isfinite(value))
            fail(describe(name, " must be finite and >= 0, got ", value));
    check_positive(options.max_step, "max_step");
    check_threads(options.threads);
}

void check_start(const LogParams& q, std::size_t index) {
    const double values[] = {q.a, q.b, q.e, q.alpha, q.beta};
    const char* names[] = {"a", "b", "e", "alpha", "beta"};
    for (int j = 0; j < 5; ++j)
        if (!std::isfinite(values[j]))
            fail(describe("starts[", index, "].", names[j], " must be finite, got ", values[j]));
}

std::string summary(const FitResult& result, std::size_t start_count) {
    return describe(to_string(result.status), " after ", result.iterations, " iterations from start ",
                    result.best_start, "; ", result.starts_at_best, " of ", start_count,
                    " starts reached the best objective");
}

}  // namespace detail

const char* to_string(FitStatus status) {
    switch (status) {
        case FitStatus::converged:
            return "converged";
        case FitStatus::max_iterations:
            return "max_iterations";
        case FitStatus::numerical_failure:
            return "numerical_failure";
    }
    return "unknown";
}

std::vector<LogParams> default_starts() {
    std::vector<LogParams> starts;
    starts.reserve(4500);
    for (int alpha = 0; alpha <= 4; ++alpha)
        for (int beta = 0; beta <= 4; ++beta)
            for (int e = -2; e <= 2; ++e)
                for (int a = 0; a <= 5; ++a)
                    for (int b = 0; b <= 5; ++b)
                        starts.push_back({5.0 * a, 5.0 * b, 0.5 * e, 0.5 * alpha, 0.5 * beta});
    return starts;
}

double objective(const RunsView& runs, const LogParams& q, double huber_delta) {
    if (runs.size == 0) detail::fail("the objective needs at least 1 run, got 0");
    detail::check_positive_array(runs.n, runs.size, "n");
    detail::check_positive_array(runs.d, runs.size, "d");
    detail::check_positive_array(runs.loss, runs.size, "loss");
    detail::check_delta(huber_delta);
    detail::check_start(q, 0);
    return detail::objective_at(detail::make_problem(runs, huber_delta), q);
}

FitResult fit_chinchilla(const RunsView& runs, const std::vector<LogParams>& starts,
                         const FitOptions& options) {
    detail::check_runs(runs);
    detail::check_options(options);
    if (starts.empty()) detail::fail("starts must hold at least one start, got none");
    for (std::size_t i = 0; i < starts.size(); ++i) detail::check_start(starts[i], i);

    const detail::Problem problem = detail::make_problem(runs, options.huber_delta);
    std::vector<StartOutcome> outcomes(starts.size());
    const std::size_t threads = detail::resolve_threads(options.threads, starts.size());
    std::vector<detail::Workspace> workspaces(threads);  // one per worker, reused across its starts
    detail::parallel_for(
        starts.size(), static_cast<int>(threads),
        [&](std::size_t i, std::size_t worker) {
            outcomes[i] = detail::solve_from(problem, starts[i], options, workspaces[worker]);
        },
        options.cancel, options.progress);

    const detail::Best chosen = detail::best_outcome(outcomes);
    FitResult result;
    result.best_start = chosen.index;
    result.starts_at_best = chosen.starts_at_best;
    const StartOutcome& best = outcomes[result.best_start];
    result.log_params = best.params;
    result.params = from_log(best.params);
    result.objective = best.objective;
    result.status = best.status;
    result.iterations = best.iterations;
    if (best.status != FitStatus::numerical_failure) {
        // The solver's objective comes from the exact shift's quadratic model, which near a perfect
        // fit is cancellation noise (even negative): report the objective at the returned parameters.
        result.objective = outcomes[result.best_start].objective = detail::objective_at(problem, best.params);
        const detail::Diagnostics diagnostics = detail::diagnose(problem, best.params);
        result.hessian_condition = diagnostics.hessian_condition;
        std::copy(diagnostics.largest_share, diagnostics.largest_share + 3, result.largest_share);
    }
    result.message = detail::summary(result, outcomes.size());
    result.starts = std::move(outcomes);
    return result;
}

FitResult fit_chinchilla(const std::vector<double>& n, const std::vector<double>& d,
                         const std::vector<double>& loss, const std::vector<LogParams>& starts,
                         const FitOptions& options) {
    if (n.size() != d.size() || n.size() != loss.size())
        detail::fail(detail::describe("n, d and loss must have the same length, got ", n.size(), ", ",
                                      d.size(), " and ", loss.size()));
    return fit_chinchilla(RunsView{n.data(), d.data(), loss.data(), n.size()}, starts, options);
}

}  // namespace scalinglaw
