// The bootstrap of any law's fit (bootstrap.hpp): each resample refitted on the thread pool, by the
// Chinchilla fast path where fit() would take it, else by the generic solver.

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "law_fit_detail.hpp"
#include "laws/dispatch.hpp"
#include "parallel.hpp"
#include "resampler.hpp"
#include "scalinglaw/bootstrap.hpp"
#include "solver.hpp"

namespace scalinglaw {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

struct Scratch {
    std::vector<std::size_t> rows;
    std::vector<StartOutcome> chinchilla;
    std::vector<LawStartOutcome> outcomes;
    detail::Workspace workspace;
    detail::GenericWorkspace generic;
};

}  // namespace

std::vector<std::vector<double>> bootstrap_starts(LawKind kind, const std::vector<double>& optimum) {
    const LawInfo& info = law_info(kind);
    if (optimum.size() != info.parameters.size())
        detail::fail(detail::describe("optimum must hold the ", info.parameters.size(),
                                      " coordinates of the ", info.name, " law, got ", optimum.size()));
    if (kind != LawKind::chinchilla) return {optimum};
    std::vector<std::vector<double>> out;
    for (const LogParams& q :
         bootstrap_starts(LogParams{optimum[1], optimum[2], optimum[0], optimum[3], optimum[4]}))
        out.push_back({q.e, q.a, q.b, q.alpha, q.beta});
    return out;
}

namespace {

// The law's runs checked before the resampler is made (it needs their count).
const RunsView& checked(LawKind kind, const RunsView& runs, const ParameterMap& map) {
    detail::check_law_runs(kind, runs, static_cast<std::size_t>(detail::resolve(kind, map).free_count));
    return runs;
}

LawBootstrapResult run_bootstrap(LawKind kind, const RunsView& runs, const detail::Resampler& resampler,
                                 const std::vector<std::vector<double>>& starts, const ParameterMap& map,
                                 const BootstrapOptions& options) {
    const LawInfo& info = law_info(kind);
    const detail::Resolved resolved = detail::resolve(kind, map);
    detail::check_options(options.fit);
    if (starts.empty()) detail::fail("starts must hold at least one start, got none");
    const std::size_t p = info.parameters.size();
    for (std::size_t i = 0; i < starts.size(); ++i) {
        if (starts[i].size() != p)
            detail::fail(detail::describe("starts[", i, "] must hold the ", p, " coordinates of the ",
                                          info.name, " law, got ", starts[i].size()));
        for (std::size_t j = 0; j < p; ++j)
            if (resolved.slot[j] == static_cast<int>(j) && !std::isfinite(starts[i][j]))
                detail::fail(detail::describe("starts[", i, "].", info.coordinates[j],
                                              " must be finite, got ", starts[i][j]));
    }
    detail::check_positive_array(options.budgets.data(), options.budgets.size(), "budgets");
    if (!options.group.empty() || !options.group_budgets.empty())
        detail::fail(
            "group/group_budgets: Approach 2 is offered by the Chinchilla bootstrap(runs, ...) only");

    const std::size_t count = resampler.resamples(), budgets = options.budgets.size();
    detail::check_memory(static_cast<double>(count) * (sizeof(Allocation) * static_cast<double>(budgets) +
                                                       8.0 * static_cast<double>(p) + 64.0),
                         detail::describe("the results of ", count, " resamples at ", budgets, " budgets"));
    LawBootstrapResult out;
    out.law = kind;
    out.resamples = count;
    out.budgets = budgets;
    out.parameters = p;
    out.params.resize(count * p);
    out.objective.resize(count);
    out.status.resize(count);
    out.iterations.resize(count);
    out.best_start.resize(count);
    out.starts_at_best.resize(count);
    out.optimal.resize(count * budgets);
    const bool fast = detail::chinchilla_fast_path(kind, resolved, runs);
    const bool constrained = detail::chinchilla_constrained_path(kind, resolved, runs);
    // (only read on the constrained path, where the law has Chinchilla's five parameters)
    const detail::ChinchillaMap fast_map =
        constrained ? detail::chinchilla_map(resolved) : detail::ChinchillaMap{};
    const std::optional<detail::Resolved> ratio =
        kind == LawKind::kaplan ? detail::kaplan_ratio_map(resolved) : std::nullopt;
    const std::vector<std::vector<double>> ratio_starts =  // converted once, not per resample
        ratio ? detail::kaplan_ratio_starts(resolved, starts) : std::vector<std::vector<double>>{};
    std::vector<LogParams> log_starts;
    if (fast || constrained)
        for (const std::vector<double>& s : starts) log_starts.push_back({s[1], s[2], s[0], s[3], s[4]});

    const std::size_t threads = detail::resolve_threads(options.fit.threads, count);
    std::vector<Scratch> scratch(threads);
    detail::parallel_for(
        count, static_cast<int>(threads),
        [&](std::size_t r, std::size_t worker) {
            Scratch& s = scratch[worker];
            resampler.draw(r, s.rows);
            s.outcomes.clear();
            if (fast || constrained) {
                const detail::Problem problem = detail::make_problem(runs, options.fit.huber_delta, &s.rows);
                for (const LogParams& start : log_starts) {
                    const StartOutcome o = fast ? detail::solve_from(problem, start, options.fit, s.workspace)
                                                : detail::solve_constrained_from(problem, fast_map, start,
                                                                                 options.fit, s.workspace);
                    const LogParams& q = o.params;
                    s.outcomes.push_back(
                        {{}, {q.e, q.a, q.b, q.alpha, q.beta}, o.objective, o.status, o.iterations});
                }
            } else if (ratio) {  // as fit() solves Kaplan's law
                const detail::GenericRuns problem =
                    detail::make_generic_runs(runs, options.fit.huber_delta, &s.rows,
                                              detail::can_centre<detail::KaplanRatioLaw>(*ratio));
                const detail::CoordinateMap<4> cmap =
                    detail::coordinate_map<detail::KaplanRatioLaw>(*ratio, problem);
                for (const std::vector<double>& x : ratio_starts) {
                    detail::GenericOutcome o = detail::solve_generic<detail::KaplanRatioLaw>(
                        problem, cmap, x.data(), options.fit, s.generic);
                    detail::to_kaplan(o);
                    s.outcomes.push_back({{}, o.coordinates, o.objective, o.status, o.iterations});
                }
            } else {
                detail::visit_law(kind, [&](auto law) {
                    using Law = decltype(law);
                    const detail::GenericRuns problem = detail::make_generic_runs(
                        runs, options.fit.huber_delta, &s.rows, detail::can_centre<Law>(resolved));
                    const detail::CoordinateMap<Law::size> cmap =
                        detail::coordinate_map<Law>(resolved, problem);
                    for (const std::vector<double>& start : starts) {
                        const detail::GenericOutcome o =
                            detail::solve_generic<Law>(problem, cmap, start.data(), options.fit, s.generic);
                        s.outcomes.push_back({{}, o.coordinates, o.objective, o.status, o.iterations});
                    }
                });
            }
            const detail::Best chosen = detail::best_of(s.outcomes);
            const LawStartOutcome& b = s.outcomes[chosen.index];
            const bool failed = b.status == FitStatus::numerical_failure;
            const std::vector<double> params =
                failed ? std::vector<double>(p, nan) : from_coordinates(kind, b.coordinates);
            std::copy(params.begin(), params.end(), out.params.begin() + static_cast<std::ptrdiff_t>(r * p));
            // as fit() reports it: evaluated at the returned parameters
            out.objective[r] = b.objective;
            if (!failed && (fast || constrained))
                out.objective[r] =
                    detail::objective_at(detail::make_problem(runs, options.fit.huber_delta, &s.rows),
                                         {b.coordinates[1], b.coordinates[2], b.coordinates[0],
                                          b.coordinates[3], b.coordinates[4]});
            else if (!failed)
                out.objective[r] = detail::visit_law(kind, [&](auto law) {
                    return detail::huber_sum<decltype(law)>(
                        detail::make_generic_runs(runs, options.fit.huber_delta, &s.rows),
                        b.coordinates.data());
                });
            out.status[r] = b.status;
            out.iterations[r] = b.iterations;
            out.best_start[r] = chosen.index;
            out.starts_at_best[r] = chosen.starts_at_best;
            for (std::size_t k = 0; k < budgets; ++k) {
                Allocation& a = out.optimal[r * budgets + k];
                a = {options.budgets[k], nan, nan, nan, nan};
                if (failed) continue;
                try {
                    a = compute_optimal(kind, params, options.budgets[k]);
                } catch (const std::invalid_argument&) {
                }
            }
        },
        options.fit.cancel, options.fit.progress);
    return out;
}

}  // namespace

LawBootstrapResult bootstrap(LawKind kind, const RunsView& runs, const Resampling& resampling,
                             const std::vector<std::vector<double>>& starts, const ParameterMap& map,
                             const BootstrapOptions& options) {
    return run_bootstrap(kind, runs, detail::Resampler(checked(kind, runs, map).size, resampling), starts,
                         map, options);
}

LawBootstrapResult bootstrap(LawKind kind, const RunsView& runs, const std::vector<std::size_t>& indices,
                             const std::vector<std::vector<double>>& starts, const ParameterMap& map,
                             const BootstrapOptions& options) {
    return run_bootstrap(kind, runs, detail::Resampler(checked(kind, runs, map).size, indices), starts, map,
                         options);
}

}  // namespace scalinglaw
