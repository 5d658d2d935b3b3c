#pragma once
// The runs a law is fitted to, as a read-only view of caller-owned arrays (not copied, read only during
// the call). Units: N in parameters, D and unique tokens in tokens, L in nats per token; run i is
// n[i], d[i], loss[i] (and unique_tokens[i], weight[i] where given). Thread-safe: only read.

#include <cstddef>

namespace scalinglaw {

/// Read-only view of `size` runs in separate arrays. n, d, loss: finite and > 0. The optional columns
/// are null when absent (the defaults), so that `RunsView{n, d, loss, size}` stays valid.
struct RunsView {
    const double* n;     ///< model size N, parameters
    const double* d;     ///< training tokens D
    const double* loss;  ///< final loss L
    std::size_t size;
    /// Unique tokens U_D <= D seen in training (the data-constrained law needs them; other laws
    /// ignore them). Finite and > 0.
    const double* unique_tokens = nullptr;
    /// Per-run weight w_i >= 0 (finite, not all 0): the objective becomes sum_i w_i huber(r_i), the
    /// weights taken as given (not normalised), so that an integer weight k counts a run as k copies.
    const double* weight = nullptr;
};

}  // namespace scalinglaw
