#pragma once
// Private: second-order forward differentiation, so that each law's log-prediction is written once, as a
// template over its number type, and gives its value (double), its analytic Jacobian and the Hessian
// (Jet<K>: value, gradient and Hessian in K slots, carried through every operation by the chain rule).
// Only what the laws use: + - * /, exp, log, expm1, log1p. Branches read value().
//
// Cost: the solver differentiates every run at every accepted point, so the jets are its hot loop. The
// Hessian is symmetric and kept as its upper triangle (K(K+1)/2 entries, not K^2); an operation with a
// plain double touches only what it changes; and everything is inlined, so that the compiler sees
// through the temporaries, and every loop over the slots is unrolled, so that a loop over runs that
// differentiates each run is straight-line code the compiler vectorises across runs
// (solver/generic_kernels.cpp). The solver sizes K to the free coordinates only (solver/generic.hpp).
// exp, log, expm1 and log1p are fast_math.hpp's lane_ functions: vectorisable, std::'s to a few ulp.

#include <cmath>
#include <type_traits>
#include <utility>

#include "../fast_math.hpp"

namespace scalinglaw::detail {

/// Where entry (a, b), a <= b, of a symmetric size x size matrix sits in its upper triangle stored row
/// by row, as a Jet's h and the solver's sums hold it.
constexpr int upper_index(int a, int b, int size) { return a * size - a * (a - 1) / 2 + (b - a); }

template <int K>
struct Jet {
    static constexpr int packed = K * (K + 1) / 2;
    double v = 0.0;
    double g[K] = {};
    double h[packed] = {};  ///< the Hessian's upper triangle, row by row: (0,0), (0,1), ..., (1,1), ...

    Jet() = default;
    Jet(double value) : v(value) {}  // NOLINT: constants mix with jets implicitly
    /// The coordinate of value `value` whose derivative sits in `slot` (-1: held constant).
    static Jet variable(double value, int slot) {
        Jet out(value);
        if (slot >= 0) out.g[slot] = 1.0;
        return out;
    }
    /// d^2 / dx_i dx_j, either order.
    double hessian(int i, int j) const {
        if (i > j) std::swap(i, j);
        return h[i * K - i * (i - 1) / 2 + (j - i)];
    }
};

inline double value(double x) { return x; }
template <int K>
double value(const Jet<K>& x) {
    return x.v;
}

// f(x) from f, f', f'' at x.v.
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> chain(const Jet<K>& x, double f0, double f1, double f2) {
    Jet<K> out(f0);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = f1 * x.g[i];
    SCALINGLAW_UNROLL
    for (int i = 0, k = 0; i < K; ++i)
        for (int j = i; j < K; ++j, ++k) out.h[k] = f1 * x.h[k] + f2 * x.g[i] * x.g[j];
    return out;
}
// x times a constant, in every component.
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> scaled(const Jet<K>& x, double c) {
    Jet<K> out(x.v * c);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = c * x.g[i];
    SCALINGLAW_UNROLL
    for (int k = 0; k < Jet<K>::packed; ++k) out.h[k] = c * x.h[k];
    return out;
}

template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator+(const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(a.v + b.v);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = a.g[i] + b.g[i];
    SCALINGLAW_UNROLL
    for (int k = 0; k < Jet<K>::packed; ++k) out.h[k] = a.h[k] + b.h[k];
    return out;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator-(const Jet<K>& a) {
    return scaled(a, -1.0);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator-(const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(a.v - b.v);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = a.g[i] - b.g[i];
    SCALINGLAW_UNROLL
    for (int k = 0; k < Jet<K>::packed; ++k) out.h[k] = a.h[k] - b.h[k];
    return out;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator*(const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(a.v * b.v);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = a.g[i] * b.v + a.v * b.g[i];
    SCALINGLAW_UNROLL
    for (int i = 0, k = 0; i < K; ++i)
        for (int j = i; j < K; ++j, ++k)
            out.h[k] = a.h[k] * b.v + a.v * b.h[k] + a.g[i] * b.g[j] + b.g[i] * a.g[j];
    return out;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> reciprocal(const Jet<K>& x) {
    const double r = 1.0 / x.v;
    return chain(x, r, -r * r, 2.0 * r * r * r);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator/(const Jet<K>& a, const Jet<K>& b) {
    return a * reciprocal(b);
}
// Mixed with double (a constant): only the components the constant changes.
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator+(Jet<K> a, double b) {
    a.v += b;
    return a;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator+(double a, const Jet<K>& b) {
    return b + a;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator-(Jet<K> a, double b) {
    a.v -= b;
    return a;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator-(double a, const Jet<K>& b) {
    return (-b) + a;
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator*(const Jet<K>& a, double b) {
    return scaled(a, b);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator*(double a, const Jet<K>& b) {
    return scaled(b, a);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator/(const Jet<K>& a, double b) {
    return scaled(a, 1.0 / b);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> operator/(double a, const Jet<K>& b) {
    return scaled(reciprocal(b), a);
}

template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> exp(const Jet<K>& x) {
    const double e = lane_exp(x.v);
    return chain(x, e, e, e);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> expm1(const Jet<K>& x) {
    const double e = lane_exp(x.v);
    return chain(x, lane_expm1(x.v), e, e);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> log(const Jet<K>& x) {
    const double r = 1.0 / x.v;
    return chain(x, lane_log(x.v), r, -r * r);
}
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> log1p(const Jet<K>& x) {
    const double r = 1.0 / (1.0 + x.v);
    return chain(x, lane_log1p(x.v), r, -r * r);
}

/// c ? a : b, component by component (a select in every lane, where a choice of whole jets is not).
SCALINGLAW_ALWAYS_INLINE double select(bool c, double a, double b) { return c ? a : b; }
template <int K>
SCALINGLAW_ALWAYS_INLINE Jet<K> select(bool c, const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(c ? a.v : b.v);
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) out.g[i] = c ? a.g[i] : b.g[i];
    SCALINGLAW_UNROLL
    for (int k = 0; k < Jet<K>::packed; ++k) out.h[k] = c ? a.h[k] : b.h[k];
    return out;
}

template <class T>
struct IsJet : std::false_type {};
template <int K>
struct IsJet<Jet<K>> : std::true_type {};

/// log(sum_m e^{u_m}) with every u_m.v <= top (finite), in one pass: with the softmax weights p_m, the
/// gradient is sum p_m grad u_m and the Hessian sum p_m (Hess u_m + grad u_m grad u_m^T) - grad grad^T
/// (cheaper than the chain through exp, sum and log).
template <int K, int M>
SCALINGLAW_ALWAYS_INLINE Jet<K> logsumexp_below(const Jet<K>* const (&u)[M], double top) {
    double p[M], total = 0.0;
    SCALINGLAW_UNROLL
    for (int m = 0; m < M; ++m) total += p[m] = lane_exp(u[m]->v - top);
    Jet<K> out(lane_log(total) + top);
    SCALINGLAW_UNROLL
    for (int m = 0; m < M; ++m) p[m] /= total;
    SCALINGLAW_UNROLL
    for (int i = 0; i < K; ++i) {
        double gi = 0.0;
        SCALINGLAW_UNROLL
        for (int m = 0; m < M; ++m) gi += p[m] * u[m]->g[i];
        out.g[i] = gi;
    }
    SCALINGLAW_UNROLL
    for (int i = 0, k = 0; i < K; ++i)
        for (int j = i; j < K; ++j, ++k) {
            double hij = 0.0;
            SCALINGLAW_UNROLL
            for (int m = 0; m < M; ++m) hij += p[m] * (u[m]->h[k] + u[m]->g[i] * u[m]->g[j]);
            out.h[k] = hij - out.g[i] * out.g[j];
        }
    return out;
}

}  // namespace scalinglaw::detail
