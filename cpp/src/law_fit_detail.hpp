#pragma once
// Private: what fit() and the law bootstrap share: the ParameterMap resolved against a law, the run
// checks, the coordinate map the generic solver reads, and the choice of the Chinchilla fast path.

#include <vector>

#include "scalinglaw/fit.hpp"
#include "solver/generic.hpp"

namespace scalinglaw::detail {

/// The resolved ParameterMap of a law with K parameters.
struct Resolved {
    std::vector<int> slot;  // representative index, -1 fixed
    std::vector<double> fixed;
    int free_count = 0;
    bool empty = true;
};

template <int K>
CoordinateMap<K> coordinate_map(LawKind kind, const Resolved& r) {
    const LawInfo& info = law_info(kind);
    CoordinateMap<K> map;
    for (int j = 0; j < K; ++j) {
        map.slot[j] = r.slot[j];
        map.fixed[j] = r.fixed[j];
        map.log_scale[j] = info.log_scale[j];
    }
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
