#pragma once
// Private: second-order forward differentiation, so that each law's log-prediction is written once, as a
// template over its number type, and gives its value (double), its analytic Jacobian and the Hessian
// (Jet<K>: value, gradient and Hessian in K slots, carried through every operation by the chain rule).
// Only what the laws use: + - * /, exp, log, expm1, log1p. Branches read value().

#include <cmath>

namespace scalinglaw::detail {

template <int K>
struct Jet {
    double v = 0.0;
    double g[K] = {};
    double h[K][K] = {};

    Jet() = default;
    Jet(double value) : v(value) {}  // NOLINT: constants mix with jets implicitly
    /// The coordinate of value `value` whose derivative sits in `slot` (-1: held constant).
    static Jet variable(double value, int slot) {
        Jet out(value);
        if (slot >= 0) out.g[slot] = 1.0;
        return out;
    }
};

inline double value(double x) { return x; }
template <int K>
double value(const Jet<K>& x) {
    return x.v;
}

// f(x) from f, f', f'' at x.v.
template <int K>
Jet<K> chain(const Jet<K>& x, double f0, double f1, double f2) {
    Jet<K> out(f0);
    for (int i = 0; i < K; ++i) out.g[i] = f1 * x.g[i];
    for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) out.h[i][j] = f1 * x.h[i][j] + f2 * x.g[i] * x.g[j];
    return out;
}

template <int K>
Jet<K> operator+(const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(a.v + b.v);
    for (int i = 0; i < K; ++i) out.g[i] = a.g[i] + b.g[i];
    for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) out.h[i][j] = a.h[i][j] + b.h[i][j];
    return out;
}
template <int K>
Jet<K> operator-(const Jet<K>& a) {
    return chain(a, -a.v, -1.0, 0.0);
}
template <int K>
Jet<K> operator-(const Jet<K>& a, const Jet<K>& b) {
    return a + (-b);
}
template <int K>
Jet<K> operator*(const Jet<K>& a, const Jet<K>& b) {
    Jet<K> out(a.v * b.v);
    for (int i = 0; i < K; ++i) out.g[i] = a.g[i] * b.v + a.v * b.g[i];
    for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j)
            out.h[i][j] = a.h[i][j] * b.v + a.v * b.h[i][j] + a.g[i] * b.g[j] + b.g[i] * a.g[j];
    return out;
}
template <int K>
Jet<K> reciprocal(const Jet<K>& x) {
    const double r = 1.0 / x.v;
    return chain(x, r, -r * r, 2.0 * r * r * r);
}
template <int K>
Jet<K> operator/(const Jet<K>& a, const Jet<K>& b) {
    return a * reciprocal(b);
}
// Mixed with double (a constant): through the jet operations, which treat it as a jet without slots.
template <int K>
Jet<K> operator+(const Jet<K>& a, double b) {
    return chain(a, a.v + b, 1.0, 0.0);
}
template <int K>
Jet<K> operator+(double a, const Jet<K>& b) {
    return b + a;
}
template <int K>
Jet<K> operator-(const Jet<K>& a, double b) {
    return a + (-b);
}
template <int K>
Jet<K> operator-(double a, const Jet<K>& b) {
    return (-b) + a;
}
template <int K>
Jet<K> operator*(const Jet<K>& a, double b) {
    return chain(a, a.v * b, b, 0.0);
}
template <int K>
Jet<K> operator*(double a, const Jet<K>& b) {
    return b * a;
}
template <int K>
Jet<K> operator/(const Jet<K>& a, double b) {
    return a * (1.0 / b);
}
template <int K>
Jet<K> operator/(double a, const Jet<K>& b) {
    return reciprocal(b) * a;
}

template <int K>
Jet<K> exp(const Jet<K>& x) {
    const double e = std::exp(x.v);
    return chain(x, e, e, e);
}
template <int K>
Jet<K> expm1(const Jet<K>& x) {
    const double e = std::exp(x.v);
    return chain(x, std::expm1(x.v), e, e);
}
template <int K>
Jet<K> log(const Jet<K>& x) {
    const double r = 1.0 / x.v;
    return chain(x, std::log(x.v), r, -r * r);
}
template <int K>
Jet<K> log1p(const Jet<K>& x) {
    const double r = 1.0 / (1.0 + x.v);
    return chain(x, std::log1p(x.v), r, -r * r);
}

}  // namespace scalinglaw::detail
