#pragma once
// Muennighoff et al.'s (2023) data-constrained law (formulas in laws.hpp). Coordinates
// (e, a, b, alpha, beta, log R_D*, log R_N*):
//   log L = logsumexp(a - alpha log N', b - beta log D', e),
//   log D' = log U_D + log1p(R_D* (1 - e^(-R_D / R_D*))),  R_D = D / U_D - 1,
//   log N' = log U_N + log1p(R_N* (1 - e^(-R_N / R_N*))),  R_N = N / U_N - 1 >= 0,
//   log U_N = min(log N, log N_opt(U_D)),  log N_opt = log G + (beta / alpha)(log G + log U_D),
//   log G = (log alpha + a - log beta - b) / (alpha + beta).
// R* = +infinity (log R* from infinite_coordinate = 700 up, where the difference is below e^-700) takes the
// limit log1p(R), that is log N' = log N and log D' = log D.

#include "common.hpp"

namespace scalinglaw::detail {

struct DataConstrainedLaw {
    static constexpr LawKind kind = LawKind::data_constrained;
    static constexpr int size = 7;

    /// log(1 + R* (1 - e^(-R / R*))) with R* = e^rho and R = e^log_ratio - 1 (D / U_D - 1, or N / U_N - 1):
    /// the log of the effective epochs (or parameters) per unique one. Without decay it is log_ratio.
    template <class T, class X>
    SCALINGLAW_ALWAYS_INLINE static T decay(const T& log_ratio, const X& rho) {
        const bool forever = value(rho) >= infinite_coordinate;
        const X scale = exp(rho);  // inf when forever: decayed is then NaN, and not chosen
        const T decayed = log1p(-(T(scale) * expm1(-expm1(log_ratio) / T(scale))));
        return select(forever, log_ratio, decayed);
    }

    template <class X, class R>
    SCALINGLAW_ALWAYS_INLINE static auto log_predict(const X* x, R log_n, R log_d, R log_u) {
        using T = decltype(x[0] + log_n);
        const X alpha = x[3], beta = x[4];
        const X log_g = (log(alpha) + x[1] - log(beta) - x[2]) / (alpha + beta);
        const T log_n_opt = T(log_g) + T(beta / alpha) * (T(log_g) + T(log_u));
        // min(log N, log N_opt), NaN when log N_opt is (alpha or beta <= 0): selects, no branch
        const T log_un = select(!(value(log_n_opt) >= value(log_n)), log_n_opt, T(log_n));
        const T log_np = log_un + decay(T(T(log_n) - log_un), x[6]);
        const T log_dp = T(log_u) + decay(T(T(log_d) - T(log_u)), x[5]);
        return logsumexp<T>(T(x[1]) - T(alpha) * log_np, T(x[2]) - T(beta) * log_dp, T(x[0]));
    }
    static void shift_direction(const double* /*x*/, double* v) {
        const double d[size] = {1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0};
        std::copy(d, d + size, v);
    }
};

}  // namespace scalinglaw::detail
