#pragma once
// Private: what the law definitions (chinchilla.hpp, kaplan.hpp, data_constrained.hpp) share. A law is a
// struct with
//   static constexpr LawKind kind; static constexpr int size;        its coordinates, as in laws.hpp
//   template <class X, class R> static auto log_predict(x, log_n, log_d, log_u)
//       the log of the predicted loss at coordinates x for one run (log N, log D, log U_D), written
//       once over number types (double, or Jet<K> for the Jacobian and Hessian in either argument);
//   static void shift_direction(const double* x, double* v)
//       v such that x + c v moves every log-prediction by exactly c (the solver's common shift);
// and optionally
//   static double log_predict_derivatives(x, log_n, log_d, log_u, double* g, double* h)
//       the log-prediction with its gradient and Hessian written by hand (doubles; h the upper
//       triangle), which the solver then uses instead of the jets (equal to them, tested);
//   static double log_predict_share(x, log_n, log_d, log_u, double& share) and
//   static void derivatives_from_share(x, log_prediction, log_n, log_d, share, double* g, double* h)
//       the log-prediction with one number per run (e.g. a term's share) that the residual pass keeps,
//       and the derivatives from it without a transcendental function (the solver's derivative pass
//       then reads the residuals and the shares, as the Chinchilla path does);
//   static constexpr std::array<Centring, M> centring
//       how its coordinates change when log N and log D are centred (the law's formula unchanged):
//       the solver then works on centred logs, where an amplitude and its exponent are nearly
//       uncorrelated (see solver.hpp), as the Chinchilla fast path does.

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

#include "jet.hpp"
#include "scalinglaw/laws.hpp"

namespace scalinglaw::detail {

template <class Law, class = void>
struct HasDerivatives : std::false_type {};
template <class Law>
struct HasDerivatives<
    Law, std::void_t<decltype(Law::log_predict_derivatives(nullptr, 0.0, 0.0, 0.0, nullptr, nullptr))>>
    : std::true_type {};

template <class Law, class = void>
struct CachesShare : std::false_type {};
template <class Law>
struct CachesShare<
    Law, std::void_t<decltype(Law::derivatives_from_share(nullptr, 0.0, 0.0, 0.0, 0.0, nullptr, nullptr))>>
    : std::true_type {};

/// With l = log N - c_N and m = log D - c_D, coordinate `coordinate` becomes x - x[exponent] c (an
/// amplitude beside its exponent) or x - c (exponent -1: a plain translation); c is c_N for axis 0,
/// c_D for axis 1.
struct Centring {
    int coordinate;
    int exponent;
    int axis;
};

// The laws' elementary functions on doubles (jets have theirs in jet.hpp): fast_math.hpp's lane_
// functions, which follow std:: to a few ulp and let the solver's loops over runs vectorise.
SCALINGLAW_ALWAYS_INLINE double exp(double x) { return lane_exp(x); }
SCALINGLAW_ALWAYS_INLINE double expm1(double x) { return lane_expm1(x); }
SCALINGLAW_ALWAYS_INLINE double log(double x) { return lane_log(x); }
SCALINGLAW_ALWAYS_INLINE double log1p(double x) { return lane_log1p(x); }

/// log(e^u1 + e^u2) in doubles, and the share e^u1 / (e^u1 + e^u2) of its first term: the larger term's
/// exp(0) = 1 is not computed, so one exp and one log1p. Where the larger is not finite, the value is
/// u1 + u2 (inf or NaN: the objective refuses the point).
struct SoftMax2 {
    double value, first_share;
};
SCALINGLAW_ALWAYS_INLINE SoftMax2 softmax2(double u1, double u2) {
    const double top = u1 < u2 ? u2 : u1;
    const double smaller = exp(-std::fabs(u1 - u2)), share = smaller / (1.0 + smaller);  // the smaller's
    return {std::isfinite(top) ? log1p(smaller) + top : u1 + u2, u1 < u2 ? share : 1.0 - share};
}

/// log(e^u1 + e^u2 + e^u3), shifted by the largest so that nothing overflows.
template <class T>
SCALINGLAW_ALWAYS_INLINE T logsumexp(const T& u1, const T& u2, const T& u3) {
    const double top = std::max(std::max(value(u1), value(u2)), value(u3));  // no array: vectorises
    if constexpr (IsJet<T>::value) {
        if (!std::isfinite(top)) return u1 + u2 + u3;  // inf or NaN: the objective refuses the point
        const T* const u[3] = {&u1, &u2, &u3};
        return logsumexp_below(u, top);
    } else {  // a select, not a branch: loops over runs vectorise
        const double shifted = log(exp(u1 - top) + exp(u2 - top) + exp(u3 - top)) + top;
        return std::isfinite(top) ? shifted : u1 + u2 + u3;
    }
}
template <class T>
SCALINGLAW_ALWAYS_INLINE T logsumexp(const T& u1, const T& u2) {
    const double top = std::max(value(u1), value(u2));
    if constexpr (IsJet<T>::value) {
        if (!std::isfinite(top)) return u1 + u2;
        const T* const u[2] = {&u1, &u2};
        return logsumexp_below(u, top);
    } else {
        return softmax2(u1, u2).value;
    }
}

}  // namespace scalinglaw::detail
