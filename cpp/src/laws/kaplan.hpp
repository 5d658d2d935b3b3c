#pragma once
// Kaplan et al.'s (2020) joint law. Coordinates (log N_c, log D_c, alpha_N, alpha_D):
//   log L = alpha_D logsumexp((alpha_N / alpha_D)(log N_c - log N), log D_c - log D).

#include "common.hpp"

namespace scalinglaw::detail {

struct KaplanLaw {
    static constexpr LawKind kind = LawKind::kaplan;
    static constexpr int size = 4;
    template <class X, class R>
    SCALINGLAW_ALWAYS_INLINE static auto log_predict(const X* x, R log_n, R log_d, R /*log_u*/) {
        using T = decltype(x[0] + log_n);
        const X ratio = x[2] / x[3];
        return T(x[3]) * logsumexp<T>(ratio * (x[0] - log_n), x[1] - log_d);
    }
    /// The log-prediction, its gradient g (K) and Hessian h (upper triangle, row by row) in doubles: the
    /// jets' values (tests/cpp/test_laws.cpp) at a fraction of their cost, for the solver's hot loop.
    /// With u1 = k (log N_c - log N), k = alpha_N / alpha_D, u2 = log D_c - log D, S = logsumexp(u1,
    /// u2), p and q = 1 - p its softmax shares: log L = alpha_D S, grad S = p grad u1 + q grad u2,
    /// Hess S = p Hess u1 + p q v v^T (v = grad u1 - grad u2; u2 is linear), and
    /// Hess(alpha_D S) = alpha_D Hess S + grad S e_3^T + e_3 grad S^T.
    SCALINGLAW_ALWAYS_INLINE static double log_predict_derivatives(const double* x, double log_n,
                                                                   double log_d, double /*log_u*/, double* g,
                                                                   double* h) {
        const double a_d = x[3], inverse = 1.0 / a_d, k = x[2] * inverse;
        const double d1 = x[0] - log_n, u1 = k * d1, u2 = x[1] - log_d;
        const auto [s, p] = softmax2(u1, u2);
        const double q = 1.0 - p;
        const double v[4] = {k, -1.0, d1 * inverse, -u1 * inverse};  // grad u1 - grad u2
        const double gs[4] = {p * k, q, p * v[2], p * v[3]};         // grad S
        for (int i = 0; i < 4; ++i) g[i] = a_d * gs[i];
        g[3] += s;
        const double pq = a_d * p * q, c = a_d * p * inverse;  // c: alpha_D p / alpha_D times Hess u1
        // Hess u1: (0,2) = 1 / a_d, (0,3) = -k / a_d, (2,3) = -d1 / a_d^2, (3,3) = 2 u1 / a_d^2
        h[0] = pq * v[0] * v[0];
        h[1] = pq * v[0] * v[1];
        h[2] = pq * v[0] * v[2] + c;
        h[3] = pq * v[0] * v[3] - c * k + gs[0];
        h[4] = pq * v[1] * v[1];
        h[5] = pq * v[1] * v[2];
        h[6] = pq * v[1] * v[3] + gs[1];
        h[7] = pq * v[2] * v[2];
        h[8] = pq * v[2] * v[3] - c * d1 * inverse + gs[2];
        h[9] = pq * v[3] * v[3] + 2.0 * c * u1 * inverse + 2.0 * gs[3];
        return a_d * s;
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

/// The same law in the coordinates the solver moves when the constraints allow (law_fit.cpp):
/// (q, log D_c, k, alpha_D) with k = alpha_N / alpha_D and q = k log N_c, so that
///   log L = alpha_D logsumexp(q - k log N, log D_c - log D),
/// a logsumexp of terms linear in the coordinates, scaled. In the law's coordinates a start drifting
/// toward k -> 0 follows the curved valley log N_c ~ q / k (tens of evaluations to walk it off the
/// doubles); here the valley is straight, such starts converge, and the others take fewer steps.
struct KaplanRatioLaw {
    static constexpr LawKind kind = LawKind::kaplan;
    static constexpr int size = 4;
    template <class X, class R>
    SCALINGLAW_ALWAYS_INLINE static auto log_predict(const X* x, R log_n, R log_d, R /*log_u*/) {
        using T = decltype(x[0] + log_n);
        return T(x[3]) * logsumexp<T>(T(x[0]) - T(x[2]) * log_n, T(x[1]) - log_d);
    }
    /// The log-prediction alpha_D S and, in `share`, the first term's share p of S = logsumexp(u1, u2),
    /// u1 = q - k log N, u2 = log D_c - log D (both linear).
    SCALINGLAW_ALWAYS_INLINE static double log_predict_share(const double* x, double log_n, double log_d,
                                                             double /*log_u*/, double& share) {
        const auto [s, p] = softmax2(x[0] - x[2] * log_n, x[1] - log_d);
        share = p;
        return x[3] * s;
    }
    /// The gradient and Hessian from the log-prediction and p: grad S = p grad u1 + (1 - p) grad u2,
    /// Hess S = p (1 - p) v v^T (v = grad u1 - grad u2 = (1, -1, -log N, 0)), and log L = alpha_D S adds
    /// grad S e_3^T + e_3 grad S^T.
    SCALINGLAW_ALWAYS_INLINE static void derivatives_from_share(const double* x, double log_prediction,
                                                                double log_n, double /*log_d*/, double p,
                                                                double* g, double* h) {
        const double a_d = x[3];
        const double q = 1.0 - p, pq = a_d * p * q;
        g[0] = a_d * p;
        g[1] = a_d * q;
        g[2] = -a_d * p * log_n;
        g[3] = log_prediction / a_d;
        h[0] = pq;
        h[1] = -pq;
        h[2] = -pq * log_n;
        h[3] = p;
        h[4] = pq;
        h[5] = pq * log_n;
        h[6] = q;
        h[7] = pq * log_n * log_n;
        h[8] = -p * log_n;
        h[9] = 0.0;
    }
    SCALINGLAW_ALWAYS_INLINE static double log_predict_derivatives(const double* x, double log_n,
                                                                   double log_d, double log_u, double* g,
                                                                   double* h) {
        double p;
        const double value = log_predict_share(x, log_n, log_d, log_u, p);
        derivatives_from_share(x, value, log_n, log_d, p, g, h);
        return value;
    }
    // q - k c_N = k (log N_c - c_N), and log D_c - c_D: the law's centring, in these coordinates
    static constexpr std::array<Centring, 2> centring{{{0, 2, 0}, {1, -1, 1}}};
    // Moving q and log D_c by c / alpha_D moves the logsumexp by c / alpha_D.
    static void shift_direction(const double* x, double* v) {
        v[0] = v[1] = 1.0 / x[3];
        v[2] = v[3] = 0.0;
    }
    /// Kaplan's coordinates (log N_c, log D_c, alpha_N, alpha_D) to these, and back.
    static void from_law(const double* law, double* x) {
        const double k = law[2] / law[3];
        x[0] = k * law[0];
        x[1] = law[1];
        x[2] = k;
        x[3] = law[3];
    }
    static void to_law(const double* x, double* law) {
        law[0] = x[0] / x[2];
        law[1] = x[1];
        law[2] = x[2] * x[3];
        law[3] = x[3];
    }
};

}  // namespace scalinglaw::detail
