#pragma once
// The Chinchilla law for the generic solver (constrained or weighted fits; the unconstrained fit has
// its own hand-vectorised path, solver.cpp). Coordinates (e, a, b, alpha, beta):
//   log L = logsumexp(a - alpha log N, b - beta log D, e).

#include "common.hpp"

namespace scalinglaw::detail {

struct ChinchillaLaw {
    static constexpr LawKind kind = LawKind::chinchilla;
    static constexpr int size = 5;
    template <class X, class R>
    SCALINGLAW_ALWAYS_INLINE static auto log_predict(const X* x, R log_n, R log_d, R /*log_u*/) {
        using T = decltype(x[0] + log_n);
        return logsumexp<T>(x[1] - x[3] * log_n, x[2] - x[4] * log_d, T(x[0]));
    }
    // a - alpha log N = (a - alpha c_N) - alpha (log N - c_N), likewise b
    static constexpr std::array<Centring, 2> centring{{{1, 3, 0}, {2, 4, 1}}};
    static void shift_direction(const double* /*x*/, double* v) {
        const double d[size] = {1.0, 1.0, 1.0, 0.0, 0.0};
        std::copy(d, d + size, v);
    }
};

}  // namespace scalinglaw::detail
