#pragma once
// Private: what fit() and the law bootstrap share: the ParameterMap resolved against a law, the run
// checks, the coordinate map the generic solver reads, and the choice of the Chinchilla fast path.

#include <optional>
#include <type_traits>
#include <vector>

#include "laws/chinchilla.hpp"
#include "laws/kaplan.hpp"
#include "laws/common.hpp"
#include "solver.hpp"

#include "scalinglaw/fit.hpp"
#include "scalinglaw/huber.hpp"
#include "solver/generic.hpp"

namespace scalinglaw::detail {

/// The resolved ParameterMap of a law with K parameters.
struct Resolved {
    std::vector<int> slot;  // representative index, -1 fixed
    std::vector<double> fixed;
    int free_count = 0;
    bool empty = true;
};

template <class Law, class = void>
struct HasCentring : std::false_type {};
template <class Law>
struct HasCentring<Law, std::void_t<decltype(Law::centring)>> : std::true_type {};

/// Whether the solver may centre log N and log D for this law under this map: the law says how its
/// coordinates move, and each moved coordinate is untied, and fixed only with its exponent (a fixed
/// amplitude beside a free exponent is no fixed coordinate once centred).
template <class Law>
bool can_centre(const Resolved& r) {
    if constexpr (!HasCentring<Law>::value) {
        return false;
    } else {
        for (const Centring& c : Law::centring) {
            const int j = c.coordinate;
            if (r.slot[j] >= 0 && r.slot[j] != j) return false;
            for (int i = 0; i < Law::size; ++i)
                if (i != j && r.slot[i] == j) return false;
            if (r.slot[j] < 0 && c.exponent >= 0 && r.slot[c.exponent] >= 0) return false;
        }
        return true;
    }
}

/// sum w_i huber(log-prediction_i - log L_i) at the law's coordinates x, on uncentred runs: the
/// objective a fit reports (the solver's running value is noise near a perfect fit).
template <class Law>
double huber_sum(const GenericRuns& runs, const double* x) {
    double f = 0.0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const double r = Law::log_predict(x, runs.log_n[i], runs.log_d[i], runs.log_u[i]) - runs.log_loss[i];
        f += (runs.weight.empty() ? 1.0 : runs.weight[i]) * huber(r, runs.delta);
    }
    return f;
}

/// The coordinate map of `r` for runs made by make_generic_runs (centred when they are).
template <class Law>
CoordinateMap<Law::size> coordinate_map(const Resolved& r, const GenericRuns& runs) {
    constexpr int K = Law::size;
    const LawInfo& info = law_info(Law::kind);
    CoordinateMap<K> map;
    for (int j = 0; j < K; ++j) {
        map.slot[j] = r.slot[j];
        map.fixed[j] = map.fixed_law[j] = r.fixed[j];
        map.log_scale[j] = info.log_scale[j];
        map.exponent[j] = -1;
        map.offset[j] = 0.0;
        map.infinite_at[j] = info.may_be_infinite[j] ? infinite_coordinate : INFINITY;
    }
    if constexpr (HasCentring<Law>::value) {
        if (runs.centre_n != 0.0 || runs.centre_d != 0.0)
            for (const Centring& c : Law::centring) {
                map.exponent[c.coordinate] = c.exponent;
                map.offset[c.coordinate] = c.axis == 0 ? runs.centre_n : runs.centre_d;
            }
    }
    map.to_solver(map.fixed);  // a fixed amplitude has a fixed exponent (can_centre)
    map.free_count = r.free_count;
    return map;
}

/// The map checked against the law's names and values (throws std::invalid_argument).
Resolved resolve(LawKind kind, const ParameterMap& map);

/// Kaplan's fit is solved in KaplanRatioLaw's coordinates (q, log D_c, k, alpha_D) where its map has an
/// equivalent there: N_c free and untied, alpha_N free and untied or tied to alpha_D alone (k = 1),
/// D_c and alpha_D free or fixed. The map there, or none (a fixed N_c or alpha_N is no fixed
/// coordinate there: such fits keep the law's coordinates).
std::optional<Resolved> kaplan_ratio_map(const Resolved& r);
/// Starts of Kaplan's law (its coordinates), their fixed and tied entries applied, in KaplanRatioLaw's.
std::vector<std::vector<double>> kaplan_ratio_starts(const Resolved& resolved,
                                                     const std::vector<std::vector<double>>& starts);
/// A KaplanRatioLaw outcome in Kaplan's coordinates: a failed start where k went to 0 and took N_c
/// beyond the doubles.
void to_kaplan(GenericOutcome& outcome);

/// Runs for a fit of `kind` with `free_count` free parameters: sizes, values, unique tokens, weights.
void check_law_runs(LawKind kind, const RunsView& runs, std::size_t free_count);

/// The unconstrained, unweighted Chinchilla fit runs the hand-vectorised solver.
inline bool chinchilla_fast_path(LawKind kind, const Resolved& resolved, const RunsView& runs) {
    return kind == LawKind::chinchilla && resolved.empty && runs.weight == nullptr;
}

/// Chinchilla with fixed or tied parameters, unweighted, where centring allows: the fast kernels under
/// a ChinchillaMap (solver.hpp).
inline bool chinchilla_constrained_path(LawKind kind, const Resolved& resolved, const RunsView& runs) {
    return kind == LawKind::chinchilla && !resolved.empty && runs.weight == nullptr &&
           can_centre<ChinchillaLaw>(resolved);
}

/// The resolved map in the fast path's LogParams order (a, b, e, alpha, beta).
inline ChinchillaMap chinchilla_map(const Resolved& resolved) {
    constexpr int to_log[5] = {2, 0, 1, 3, 4};  // from the law's order (e, a, b, alpha, beta)
    ChinchillaMap map;
    for (std::size_t j = 0; j < 5; ++j) {
        const int s = resolved.slot[j];
        map.slot[to_log[j]] = s < 0 ? -1 : to_log[s];
        map.fixed[to_log[j]] = resolved.fixed[j];
    }
    return map;
}

}  // namespace scalinglaw::detail
