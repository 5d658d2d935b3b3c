#pragma once
// Private: what fit() and the law bootstrap share: the ParameterMap resolved against a law, the run
// checks, the coordinate map the generic solver reads, and the choice of the Chinchilla fast path.

#include <type_traits>
#include <vector>

#include "laws/common.hpp"

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

/// Runs for a fit of `kind` with `free_count` free parameters: sizes, values, unique tokens, weights.
void check_law_runs(LawKind kind, const RunsView& runs, std::size_t free_count);

/// The unconstrained, unweighted Chinchilla fit runs the hand-vectorised solver.
inline bool chinchilla_fast_path(LawKind kind, const Resolved& resolved, const RunsView& runs) {
    return kind == LawKind::chinchilla && resolved.empty && runs.weight == nullptr;
}

}  // namespace scalinglaw::detail
