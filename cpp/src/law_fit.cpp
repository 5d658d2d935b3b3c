// fit() and objective() for any law: checks, the parameter map, the choice of path (the hand-vectorised
// Chinchilla solver or the generic one), the starts on the thread pool, the best.

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check.hpp"
#include "laws/dispatch.hpp"
#include "parallel.hpp"
#include "scalinglaw/fit.hpp"
#include "solver.hpp"
#include "law_fit_detail.hpp"
#include "solver/generic.hpp"

namespace scalinglaw {
namespace detail {

GenericRuns make_generic_runs(const RunsView& runs, double delta, const std::vector<std::size_t>* rows,
                              bool centre) {
    GenericRuns out;
    out.delta = delta;
    const std::size_t count = rows ? rows->size() : runs.size;
    for (auto* v : {&out.log_n, &out.log_d, &out.log_u, &out.log_loss}) v->resize(count);
    if (runs.weight) out.weight.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = rows ? (*rows)[i] : i;
        out.log_n[i] = std::log(runs.n[row]);
        out.log_d[i] = std::log(runs.d[row]);
        out.log_u[i] = runs.unique_tokens ? std::log(runs.unique_tokens[row]) : -INFINITY;
        out.log_loss[i] = std::log(runs.loss[row]);
        if (runs.weight) {
            out.weight[i] = runs.weight[row];
            out.total_weight += runs.weight[row];
        }
    }
    if (centre && count > 0) {
        double sum_n = 0.0, sum_d = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            sum_n += out.log_n[i];
            sum_d += out.log_d[i];
        }
        out.centre_n = sum_n / static_cast<double>(count);
        out.centre_d = sum_d / static_cast<double>(count);
        for (std::size_t i = 0; i < count; ++i) {
            out.log_n[i] -= out.centre_n;
            out.log_d[i] -= out.centre_d;
            out.log_u[i] -= out.centre_d;
        }
    }
    return out;
}

namespace {
std::size_t index_of(const LawInfo& info, const std::string& name, const char* where) {
    for (std::size_t j = 0; j < info.parameters.size(); ++j)
        if (info.parameters[j] == name) return j;
    std::string known;
    for (const std::string& p : info.parameters) known += (known.empty() ? "" : ", ") + p;
    fail(describe(where, ": unknown parameter '", name, "' of the ", info.name,
                  " law (its parameters: ", known, ")"));
}

}  // namespace

Resolved resolve(LawKind kind, const ParameterMap& map) {
    const LawInfo& info = law_info(kind);
    const std::size_t k = info.parameters.size();
    Resolved out;
    out.empty = map.fixed.empty() && map.tied.empty();
    out.slot.resize(k);
    out.fixed.assign(k, 0.0);
    std::vector<bool> is_fixed(k, false);
    for (const auto& [name, value] : map.fixed) {
        const std::size_t j = index_of(info, name, "fixed");
        const bool infinite_ok = info.may_be_infinite[j] && value == INFINITY;
        if (!infinite_ok) {
            if (info.log_scale[j] ? !(value > 0.0) || !std::isfinite(value) : !std::isfinite(value))
                fail(describe("fixed ", name, " must be finite", info.log_scale[j] ? " and > 0" : "",
                              info.may_be_infinite[j] ? " (or +inf)" : "", ", got ", value));
        }
        is_fixed[j] = true;
        out.fixed[j] = info.log_scale[j] ? std::log(value) : value;
    }
    std::vector<std::size_t> parent(k);
    for (std::size_t j = 0; j < k; ++j) parent[j] = j;
    auto root = [&](std::size_t j) {
        while (parent[j] != j) j = parent[j];
        return j;
    };
    for (const auto& [first, second] : map.tied) {
        const std::size_t a = index_of(info, first, "tied"), b = index_of(info, second, "tied");
        if (a == b) fail(describe("tied: cannot tie ", first, " to itself"));
        for (std::size_t j : {a, b})
            if (is_fixed[j])
                fail(describe("tied: ", info.parameters[j],
                              " is also fixed; fix every parameter of the group "
                              "or tie without fixing"));
        if (info.log_scale[a] != info.log_scale[b])
            fail(describe("tied: ", first, " and ", second, " are fitted on different scales (",
                          info.log_scale[a] ? "log" : "linear", " and ", info.log_scale[b] ? "log" : "linear",
                          "), so they cannot share one value"));
        const std::size_t ra = root(a), rb = root(b);
        parent[std::max(ra, rb)] = std::min(ra, rb);
    }
    for (std::size_t j = 0; j < k; ++j) {
        out.slot[j] = is_fixed[j] ? -1 : static_cast<int>(root(j));
        if (out.slot[j] == static_cast<int>(j)) ++out.free_count;
    }
    if (out.free_count == 0)
        fail(describe("every parameter of the ", info.name, " law is fixed: nothing to fit"));
    return out;
}

void check_law_runs(LawKind kind, const RunsView& runs, std::size_t free_count) {
    const LawInfo& info = law_info(kind);
    if (runs.size < std::max<std::size_t>(free_count, 1))
        fail(describe("the fit needs at least ", std::max<std::size_t>(free_count, 1),
                      " runs (one per free parameter), got ", runs.size));
    check_positive_array(runs.n, runs.size, "n");
    check_positive_array(runs.d, runs.size, "d");
    check_positive_array(runs.loss, runs.size, "loss");
    if (info.needs_unique_tokens) {
        if (runs.unique_tokens == nullptr)
            fail(describe("the ", info.name, " law needs unique_tokens (U_D per run), got none"));
        check_positive_array(runs.unique_tokens, runs.size, "unique_tokens");
        for (std::size_t i = 0; i < runs.size; ++i)
            if (runs.unique_tokens[i] > runs.d[i])
                fail(describe("unique_tokens[", i, "] = ", runs.unique_tokens[i], " exceeds d[", i,
                              "] = ", runs.d[i], ": a run cannot see more unique tokens than it trains on"));
    }
    if (runs.weight) {
        std::size_t positive = 0;
        for (std::size_t i = 0; i < runs.size; ++i) {
            if (!(runs.weight[i] >= 0.0) || !std::isfinite(runs.weight[i]))
                fail(describe("weight[", i, "] must be finite and >= 0, got ", runs.weight[i]));
            positive += runs.weight[i] > 0.0;
        }
        if (positive < std::max<std::size_t>(free_count, 1))
            fail(describe("the fit needs at least ", std::max<std::size_t>(free_count, 1),
                          " runs of positive weight (one per free parameter), got ", positive));
    }
}

// Kaplan's fit in KaplanRatioLaw's coordinates (law_fit_detail.hpp).
std::optional<Resolved> kaplan_ratio_map(const Resolved& r) {
    const bool ratio_tied = r.slot[2] == 2 && r.slot[3] == 2;  // alpha_N = alpha_D
    for (int j = 0; j < 4; ++j) {
        const bool own = r.slot[j] == j || (ratio_tied && j == 3);
        const bool may_fix = j == 1 || j == 3;
        if (!(own || (may_fix && r.slot[j] < 0))) return std::nullopt;
    }
    Resolved out = r;
    out.slot = {0, r.slot[1], ratio_tied ? -1 : 2, r.slot[3] < 0 ? -1 : 3};
    out.fixed = {0.0, r.fixed[1], ratio_tied ? 1.0 : 0.0, r.fixed[3]};
    out.free_count = 0;
    for (int j = 0; j < 4; ++j) out.free_count += out.slot[j] == j;
    return out;
}

std::vector<std::vector<double>> kaplan_ratio_starts(const Resolved& resolved,
                                                     const std::vector<std::vector<double>>& starts) {
    std::vector<std::vector<double>> out;
    out.reserve(starts.size());
    for (const std::vector<double>& start : starts) {
        double law[4];
        for (int j = 0; j < 4; ++j) {
            const int s = resolved.slot[j];
            law[j] = s < 0 ? resolved.fixed[j] : start[static_cast<std::size_t>(s)];
        }
        std::vector<double>& x = out.emplace_back(4);
        KaplanRatioLaw::from_law(law, x.data());
    }
    return out;
}

void to_kaplan(GenericOutcome& outcome) {
    std::vector<double> law(4);
    KaplanRatioLaw::to_law(outcome.coordinates.data(), law.data());
    if (!(std::fabs(law[0]) <= std::log(std::numeric_limits<double>::max())))
        outcome.status = FitStatus::numerical_failure;  // k -> 0: N_c beyond the doubles
    outcome.coordinates = law;
}

namespace {

// The condition number of the free block of the exact Hessian at x, scaled to unit diagonal.
template <class Law>
double hessian_condition(const GenericRuns& runs, const CoordinateMap<Law::size>& map, const double* full) {
    constexpr int K = Law::size;
    GenericWorkspace ws;
    ws.resize(runs.size());
    GenericObjective<Law> objective(runs, map, ws);
    Derivatives<K> dv;
    Matrix<K> reweighted;
    std::vector<int> free;  // a parameter at infinity (no decay) is held there, as if fixed
    const Vector<K> x = map.project(full);
    for (int j = 0; j < K; ++j)
        if (map.slot[j] == j && !map.at_infinity(x, j)) free.push_back(j);
    objective.derivatives_at(x, dv, reweighted);
    const int m = static_cast<int>(free.size());
    if (m == 0) return 1.0;  // every free parameter at infinity: no curvature left to condition
    Eigen::MatrixXd h(m, m);
    for (int a = 0; a < m; ++a)
        for (int b = 0; b < m; ++b) h(a, b) = dv.exact(free[a], free[b]);
    const Eigen::VectorXd diagonal = h.diagonal();
    if (!(diagonal.minCoeff() > DBL_EPSILON * diagonal.maxCoeff())) return INFINITY;
    const Eigen::VectorXd scale = diagonal.cwiseSqrt().cwiseInverse();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(scale.asDiagonal() * h * scale.asDiagonal(),
                                                               Eigen::EigenvaluesOnly);
    const double smallest = eigen.eigenvalues().minCoeff(), largest = eigen.eigenvalues().maxCoeff();
    return eigen.info() == Eigen::Success && smallest > 0.0 ? largest / smallest : INFINITY;
}

/// Starts that coincide once mapped are solved once: `first[i]` is the first start with start i's key,
/// `unique` those firsts in order.
struct UniqueStarts {
    std::vector<std::size_t> first, unique;
};
template <class Key>
UniqueStarts unique_starts(std::size_t count, Key&& key_of) {
    UniqueStarts out;
    out.first.resize(count);
    std::map<std::vector<double>, std::size_t> seen;
    for (std::size_t i = 0; i < count; ++i) {
        const auto [it, inserted] = seen.emplace(key_of(i), i);
        out.first[i] = it->second;
        if (inserted) out.unique.push_back(i);
    }
    return out;
}

/// The best of result.starts becomes the result (its start, parameters, objective, status).
void choose_best(LawFitResult& result) {
    const Best chosen = best_of(result.starts);
    const LawStartOutcome& best = result.starts[chosen.index];
    result.best_start = chosen.index;
    result.starts_at_best = chosen.starts_at_best;
    result.coordinates = best.coordinates;
    result.params = from_coordinates(result.law, best.coordinates);
    result.objective = best.objective;
    result.status = best.status;
    result.iterations = best.iterations;
}

/// Every start solved by the generic solver in Law's coordinates (starts that coincide once mapped,
/// once): one outcome per start.
template <class Law>
std::vector<GenericOutcome> solve_starts(const RunsView& runs, const std::vector<std::vector<double>>& starts,
                                         const Resolved& resolved, const FitOptions& options) {
    constexpr int K = Law::size;
    const GenericRuns problem =
        make_generic_runs(runs, options.huber_delta, nullptr, can_centre<Law>(resolved));
    const CoordinateMap<K> map = coordinate_map<Law>(resolved, problem);
    const UniqueStarts distinct = unique_starts(starts.size(), [&](std::size_t i) {
        const Vector<K> x = map.project(starts[i].data());
        return std::vector<double>(x.data(), x.data() + K);
    });
    const std::vector<std::size_t>&first = distinct.first, &unique = distinct.unique;
    std::vector<GenericOutcome> solved(starts.size());
    const std::size_t threads = resolve_threads(options.threads, unique.size());
    std::vector<GenericWorkspace> workspaces(threads);
    parallel_for(
        unique.size(), static_cast<int>(threads),
        [&](std::size_t u, std::size_t worker) {
            const std::size_t i = unique[u];
            solved[i] = solve_generic<Law>(problem, map, starts[i].data(), options, workspaces[worker]);
        },
        options.cancel, options.progress);
    for (std::size_t i = 0; i < starts.size(); ++i) solved[i] = solved[first[i]];
    return solved;
}

/// The fit from every start's outcome (the law's coordinates): the best, its objective at the returned
/// parameters and the condition of the Hessian there.
template <class Law>
LawFitResult finish_fit(const RunsView& runs, const std::vector<std::vector<double>>& starts,
                        const std::vector<GenericOutcome>& solved, const Resolved& resolved,
                        const FitOptions& options) {
    LawFitResult result;
    result.law = Law::kind;
    result.starts.resize(starts.size());
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const GenericOutcome& o = solved[i];
        result.starts[i] = {starts[i], o.coordinates, o.objective, o.status, o.iterations};
    }
    choose_best(result);
    if (result.status != FitStatus::numerical_failure) {
        // As fit_chinchilla: the objective at the returned parameters, not the solver's running value.
        result.objective =
            huber_sum<Law>(make_generic_runs(runs, options.huber_delta), result.coordinates.data());
        result.starts[result.best_start].objective = result.objective;
        const GenericRuns problem =
            make_generic_runs(runs, options.huber_delta, nullptr, can_centre<Law>(resolved));
        result.hessian_condition = hessian_condition<Law>(problem, coordinate_map<Law>(resolved, problem),
                                                          result.coordinates.data());
    }
    return result;
}

template <class Law>
LawFitResult fit_generic(const RunsView& runs, const std::vector<std::vector<double>>& starts,
                         const Resolved& resolved, const FitOptions& options) {
    return finish_fit<Law>(runs, starts, solve_starts<Law>(runs, starts, resolved, options), resolved,
                           options);
}

/// Kaplan's fit solved in KaplanRatioLaw's coordinates (`ratio` from kaplan_ratio_map), reported in the
/// law's.
LawFitResult fit_kaplan_ratio(const RunsView& runs, const std::vector<std::vector<double>>& starts,
                              const Resolved& resolved, const Resolved& ratio, const FitOptions& options) {
    std::vector<GenericOutcome> solved =
        solve_starts<KaplanRatioLaw>(runs, kaplan_ratio_starts(resolved, starts), ratio, options);
    for (GenericOutcome& o : solved) to_kaplan(o);
    return finish_fit<KaplanLaw>(runs, starts, solved, resolved, options);
}

// Chinchilla with fixed or tied parameters, unweighted: the fast kernels under a ChinchillaMap.
LawFitResult fit_chinchilla_constrained(const RunsView& runs, const std::vector<std::vector<double>>& starts,
                                        const Resolved& resolved, const FitOptions& options) {
    const ChinchillaMap map = chinchilla_map(resolved);
    const RunsView plain{runs.n, runs.d, runs.loss, runs.size};
    const Problem problem = make_problem(plain, options.huber_delta);
    auto log_params = [](const std::vector<double>& x) { return LogParams{x[1], x[2], x[0], x[3], x[4]}; };
    auto coordinates = [](const LogParams& q) { return std::vector<double>{q.e, q.a, q.b, q.alpha, q.beta}; };
    const UniqueStarts distinct = unique_starts(starts.size(), [&](std::size_t i) {
        std::vector<double> key(5);
        for (std::size_t j = 0; j < 5; ++j) {
            const int s = resolved.slot[j];
            key[j] = s < 0 ? 0.0 : starts[i][static_cast<std::size_t>(s)];
        }
        return key;
    });
    const std::vector<std::size_t>&first = distinct.first, &unique = distinct.unique;
    std::vector<StartOutcome> solved(starts.size());
    const std::size_t threads = resolve_threads(options.threads, unique.size());
    std::vector<Workspace> workspaces(threads);
    parallel_for(
        unique.size(), static_cast<int>(threads),
        [&](std::size_t u, std::size_t worker) {
            const std::size_t i = unique[u];
            solved[i] =
                solve_constrained_from(problem, map, log_params(starts[i]), options, workspaces[worker]);
        },
        options.cancel, options.progress);
    LawFitResult result;
    result.law = LawKind::chinchilla;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const StartOutcome& o = solved[first[i]];
        result.starts.push_back({starts[i], coordinates(o.params), o.objective, o.status, o.iterations});
    }
    choose_best(result);
    if (result.status != FitStatus::numerical_failure) {
        // As fit_chinchilla: the objective at the returned parameters, not the solver's running value.
        result.objective = objective_at(problem, log_params(result.coordinates));
        result.starts[result.best_start].objective = result.objective;
        const GenericRuns generic = make_generic_runs(runs, options.huber_delta, nullptr, true);
        result.hessian_condition = hessian_condition<ChinchillaLaw>(
            generic, coordinate_map<ChinchillaLaw>(resolved, generic), result.coordinates.data());
    }
    return result;
}

LawFitResult from_chinchilla(const FitResult& fit) {
    auto coordinates = [](const LogParams& q) { return std::vector<double>{q.e, q.a, q.b, q.alpha, q.beta}; };
    LawFitResult out;
    out.law = LawKind::chinchilla;
    out.params = {fit.params.E, fit.params.A, fit.params.B, fit.params.alpha, fit.params.beta};
    out.coordinates = coordinates(fit.log_params);
    out.objective = fit.objective;
    out.status = fit.status;
    out.message = fit.message;
    out.iterations = fit.iterations;
    out.best_start = fit.best_start;
    out.starts_at_best = fit.starts_at_best;
    out.hessian_condition = fit.hessian_condition;
    for (const StartOutcome& o : fit.starts)
        out.starts.push_back(
            {coordinates(o.start), coordinates(o.params), o.objective, o.status, o.iterations});
    return out;
}

}  // namespace
}  // namespace detail

const char* to_string(ParameterRole role) {
    switch (role) {
        case ParameterRole::free:
            return "free";
        case ParameterRole::fixed:
            return "fixed";
        case ParameterRole::tied:
            return "tied";
    }
    return "unknown";
}

LawFitResult fit(LawKind kind, const RunsView& runs, const std::vector<std::vector<double>>& starts,
                 const ParameterMap& map, const FitOptions& options) {
    const LawInfo& info = law_info(kind);
    const detail::Resolved resolved = detail::resolve(kind, map);
    detail::check_law_runs(kind, runs, static_cast<std::size_t>(resolved.free_count));
    detail::check_options(options);
    if (starts.empty()) detail::fail("starts must hold at least one start, got none");
    const std::size_t k = info.parameters.size();
    for (std::size_t i = 0; i < starts.size(); ++i) {
        if (starts[i].size() != k)
            detail::fail(detail::describe("starts[", i, "] must hold the ", k, " coordinates of the ",
                                          info.name, " law, got ", starts[i].size()));
        for (std::size_t j = 0; j < k; ++j)
            if (resolved.slot[j] == static_cast<int>(j) && !std::isfinite(starts[i][j]))
                detail::fail(detail::describe("starts[", i, "].", info.coordinates[j],
                                              " must be finite, got ", starts[i][j]));
    }

    LawFitResult result;
    if (detail::chinchilla_fast_path(kind, resolved, runs)) {
        std::vector<LogParams> log_starts;
        log_starts.reserve(starts.size());
        for (const std::vector<double>& s : starts) log_starts.push_back({s[1], s[2], s[0], s[3], s[4]});
        const RunsView plain{runs.n, runs.d, runs.loss, runs.size};
        result = detail::from_chinchilla(fit_chinchilla(plain, log_starts, options));
    } else if (detail::chinchilla_constrained_path(kind, resolved, runs)) {
        result = detail::fit_chinchilla_constrained(runs, starts, resolved, options);
    } else if (const auto ratio =
                   kind == LawKind::kaplan ? detail::kaplan_ratio_map(resolved) : std::nullopt) {
        result = detail::fit_kaplan_ratio(runs, starts, resolved, *ratio, options);
    } else {
        result = detail::visit_law(kind, [&](auto law) {
            return detail::fit_generic<decltype(law)>(runs, starts, resolved, options);
        });
    }
    result.roles.resize(k);
    result.tied_to.resize(k);
    for (std::size_t j = 0; j < k; ++j) {
        const int s = resolved.slot[j];
        result.roles[j] = s < 0 ? ParameterRole::fixed
                                : (s == static_cast<int>(j) ? ParameterRole::free : ParameterRole::tied);
        result.tied_to[j] = s < 0 ? j : static_cast<std::size_t>(s);
    }
    if (result.message.empty())
        result.message =
            detail::describe(to_string(result.status), " after ", result.iterations,
                             " iterations from start ", result.best_start, "; ", result.starts_at_best,
                             " of ", starts.size(), " starts reached the best objective");
    return result;
}

double objective(LawKind kind, const RunsView& runs, const std::vector<double>& params, double huber_delta) {
    const LawInfo& info = law_info(kind);
    detail::check_law_runs(kind, runs, 1);
    detail::check_delta(huber_delta);
    if (params.size() != info.parameters.size())
        detail::fail(detail::describe("params must hold the ", info.parameters.size(), " parameters of the ",
                                      info.name, " law, got ", params.size()));
    for (std::size_t j = 0; j < params.size(); ++j) {
        const bool ok = info.may_be_infinite[j] && params[j] == INFINITY;
        if (!ok &&
            (info.log_scale[j] ? !(params[j] > 0.0) || !std::isfinite(params[j]) : !std::isfinite(params[j])))
            detail::fail(detail::describe("params.", info.parameters[j], " must be finite",
                                          info.log_scale[j] ? " and > 0" : "", ", got ", params[j]));
    }
    const std::vector<double> x = to_coordinates(kind, params);
    const detail::GenericRuns problem = detail::make_generic_runs(runs, huber_delta);
    return detail::visit_law(kind,
                             [&](auto law) { return detail::huber_sum<decltype(law)>(problem, x.data()); });
}

}  // namespace scalinglaw
