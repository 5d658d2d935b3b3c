#pragma once
// Kaplan et al.'s (2020) joint law. Coordinates (log N_c, log D_c, alpha_N, alpha_D):
//   log L = alpha_D logsumexp((alpha_N / alpha_D)(log N_c - log N), log D_c - log D).

#include "common.hpp"

namespace scalinglaw::detail {

struct KaplanLaw {
    static constexpr LawKind kind = LawKind::kaplan;
    static constexpr int size = 4;
    template <class X, class R>
    SCALINGLAW_ALWAYS_INLINE static auto log_predict(const X* x, const R& log_n, const R& log_d,
                                                     const R& /*log_u*/) {
        using T = decltype(x[0] + log_n);
        const X ratio = x[2] / x[3];
        return T(x[3]) * logsumexp<T>(ratio * (x[0] - log_n), x[1] - log_d);
    }
    // log N_c - log N = (log N_c - c_N) - (log N - c_N), likewise log D_c
    static constexpr std::array<Centring, 2> centring{{{0, -1, 0}, {1, -1, 1}}};
    // Moving log N_c by c / alpha_N and log D_c by c / alpha_D moves the logsumexp by c / alpha_D.
    static void shift_direction(const double* x, double* v) {
        v[0] = 1.0 / x[2];
        v[1] = 1.0 / x[3];
        v[2] = v[3] = 0.0;
    }
};

}  // namespace scalinglaw::detail
