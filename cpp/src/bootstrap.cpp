// The bootstrap: resamples drawn one at a time (resampler.hpp), each refitted on the thread pool.

#include "scalinglaw/bootstrap.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "isoflop_detail.hpp"
#include "parallel.hpp"
#include "resampler.hpp"
#include "solver.hpp"

namespace scalinglaw {
namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

namespace detail {

namespace {

// One worker's memory, reused from resample to resample.
struct Scratch {
    std::vector<std::size_t> rows;
    std::vector<StartOutcome> outcomes;
    Workspace workspace;
    IsoflopPoints points;
    IsoflopScratch isoflop;
    std::vector<BudgetParabola> parabolas;
};

}  // namespace
}  // namespace detail

std::vector<std::size_t> resample_indices(std::size_t n_runs, const Resampling& resampling,
                                          std::size_t resample) {
    const detail::Resampler resampler(n_runs, resampling);
    if (resample >= resampling.resamples)
        detail::fail(detail::describe("resample must be below the ", resampling.resamples, " resamples, got ",
                                      resample));
    std::vector<std::size_t> rows;
    resampler.draw(resample, rows);
    return rows;
}

std::vector<std::size_t> bootstrap_indices(std::size_t n_runs, std::size_t n_resamples, std::uint64_t seed) {
    if (n_runs < 1 || n_runs > std::numeric_limits<std::uint32_t>::max())
        detail::fail(detail::describe("n_runs must be between 1 and 2^32 - 1, got ", n_runs));
    if (n_resamples < 1) detail::fail("n_resamples must be >= 1, got 0");
    if (n_resamples > std::numeric_limits<std::size_t>::max() / n_runs)
        detail::fail(
            detail::describe("n_resamples * n_runs must fit in memory, got ", n_resamples, " * ", n_runs));
    detail::check_memory(
        static_cast<double>(n_runs) * static_cast<double>(n_resamples) * sizeof(std::size_t),
        detail::describe("the index table of ", n_resamples, " resamples of ", n_runs, " runs"));
    const detail::Resampler resampler(n_runs, Resampling{n_resamples, seed, {}});
    std::vector<std::size_t> indices(n_runs * n_resamples), rows;
    for (std::size_t r = 0; r < n_resamples; ++r) {
        resampler.draw(r, rows);
        std::copy(rows.begin(), rows.end(), indices.begin() + static_cast<std::ptrdiff_t>(r * n_runs));
    }
    return indices;
}

std::vector<LogParams> bootstrap_starts(const LogParams& optimum) {
    const double values[] = {optimum.a, optimum.b, optimum.e, optimum.alpha, optimum.beta};
    const char* names[] = {"a", "b", "e", "alpha", "beta"};
    for (int j = 0; j < 5; ++j)
        if (!std::isfinite(values[j]))
            detail::fail(detail::describe("optimum.", names[j], " must be finite, got ", values[j]));
    return {optimum, {10.0, 10.0, -1.0, 0.5, 0.5}, {5.0, 10.0, -0.5, 2.0, 0.5}};
}

namespace {

BootstrapResult run_bootstrap(const RunsView& runs, const detail::Resampler& resampler,
                              const std::vector<LogParams>& starts, const BootstrapOptions& options) {
    detail::check_options(options.fit);
    if (starts.empty()) detail::fail("starts must hold at least one start, got none");
    for (std::size_t i = 0; i < starts.size(); ++i) detail::check_start(starts[i], i);
    detail::check_positive_array(options.budgets.data(), options.budgets.size(), "budgets");
    const bool isoflop = !options.group.empty() || !options.group_budgets.empty();
    if (isoflop)
        detail::check_groups(options.group, runs.size, options.group_budgets, "group", "group_budgets");

    const std::size_t n = runs.size, count = resampler.resamples(), budgets = options.budgets.size();
    // (a resample's other fields take under 256 bytes)
    detail::check_memory(
        static_cast<double>(count) * (sizeof(Allocation) * static_cast<double>(budgets) + 256.0),
        detail::describe("the results of ", count, " resamples at ", budgets, " budgets"));
    BootstrapResult out;
    out.resamples = count;
    out.budgets = budgets;
    out.log_params.resize(count);
    out.params.resize(count);
    out.objective.resize(count);
    out.status.resize(count);
    out.iterations.resize(count);
    out.best_start.resize(count);
    out.starts_at_best.resize(count);
    out.frontier.resize(count);
    out.optimal.resize(count * budgets);
    if (isoflop) {
        out.approach2_a.resize(count);
        out.approach2_b.resize(count);
        out.approach2_used.resize(count);
    }
    std::vector<double> log_n;
    if (isoflop)
        for (std::size_t i = 0; i < n; ++i) log_n.push_back(std::log(runs.n[i]));

    const std::size_t threads = detail::resolve_threads(options.fit.threads, count);
    std::vector<detail::Scratch> scratch(threads);
    detail::parallel_for(
        count, static_cast<int>(threads),
        [&](std::size_t r, std::size_t worker) {
            detail::Scratch& s = scratch[worker];
            resampler.draw(r, s.rows);
            const detail::Problem problem = detail::make_problem(runs, options.fit.huber_delta, &s.rows);
            // The starts run in order on this thread; the best as fit_chinchilla chooses it.
            s.outcomes.clear();
            for (const LogParams& start : starts)
                s.outcomes.push_back(detail::solve_from(problem, start, options.fit, s.workspace));
            const detail::Best chosen = detail::best_outcome(s.outcomes);
            const std::size_t best = chosen.index, at_best = chosen.starts_at_best;
            const StartOutcome& b = s.outcomes[best];
            const bool failed = b.status == FitStatus::numerical_failure;
            out.log_params[r] = failed ? LogParams{nan, nan, nan, nan, nan} : b.params;
            out.params[r] = failed ? Params{nan, nan, nan, nan, nan} : from_log(b.params);
            out.objective[r] =
                failed ? b.objective : detail::objective_at(problem, b.params);  // as fit_chinchilla
            out.status[r] = b.status;
            out.iterations[r] = b.iterations;
            out.best_start[r] = best;
            out.starts_at_best[r] = at_best;

            // A resample without a frontier (alpha or beta <= 0, a failed refit) or whose allocation
            // at a budget is beyond double precision gets NaN there: the frontier's functions refuse
            // such laws and requests, and the statistics leave NaN out.
            const Params& p = out.params[r];
            Allocation* row = out.optimal.data() + r * budgets;
            out.frontier[r] = {nan, nan, nan};
            try {
                out.frontier[r] = frontier_coefficients(p);
            } catch (const std::invalid_argument&) {
            }
            for (std::size_t k = 0; k < budgets; ++k) {
                row[k] = {options.budgets[k], nan, nan, nan, nan};
                if (std::isnan(out.frontier[r].G)) continue;
                try {
                    row[k] = compute_optimal(p, options.budgets[k]);
                } catch (const std::invalid_argument&) {
                }
            }

            if (isoflop) {
                s.points.log_n.clear();
                s.points.loss.clear();
                s.points.group.clear();
                for (std::size_t row_index : s.rows) {
                    s.points.log_n.push_back(log_n[row_index]);
                    s.points.loss.push_back(runs.loss[row_index]);
                    s.points.group.push_back(options.group[row_index]);
                }
                const detail::IsoflopExponents e =
                    detail::fit_isoflop(s.points, options.group_budgets, s.parabolas, s.isoflop);
                out.approach2_a[r] = e.a;
                out.approach2_b[r] = e.b;
                out.approach2_used[r] = e.used;
            }
        },
        options.fit.cancel, options.fit.progress);
    return out;
}

}  // namespace

BootstrapResult bootstrap(const RunsView& runs, const Resampling& resampling,
                          const std::vector<LogParams>& starts, const BootstrapOptions& options) {
    detail::check_runs(runs);
    return run_bootstrap(runs, detail::Resampler(runs.size, resampling), starts, options);
}

BootstrapResult bootstrap(const RunsView& runs, const std::vector<std::size_t>& indices,
                          const std::vector<LogParams>& starts, const BootstrapOptions& options) {
    detail::check_runs(runs);
    return run_bootstrap(runs, detail::Resampler(runs.size, indices), starts, options);
}

BootstrapResult bootstrap(const RunsView& runs, std::size_t n_resamples, std::uint64_t seed,
                          const BootstrapOptions& options) {
    FitOptions fit_options = options.fit;
    fit_options.progress = nullptr;  // it counts the resamples
    const FitResult fit = fit_chinchilla(runs, default_starts(), fit_options);
    if (fit.status == FitStatus::numerical_failure)
        throw std::runtime_error("scalinglaw: the full-data fit failed numerically: " + fit.message);
    return bootstrap(runs, Resampling{n_resamples, seed, {}}, bootstrap_starts(fit.log_params), options);
}

}  // namespace scalinglaw
