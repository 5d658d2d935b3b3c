#pragma once
// The Chinchilla law L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, Approach 3).
// Units: N in parameters, D in training tokens, L in nats per token; every log is natural.
// Pure functions of their arguments: safe to call from any thread.

#include <cmath>

namespace scalinglaw {

/// The law in its natural form. A, B, E > 0; alpha, beta are the exponents.
struct Params {
    double E;
    double A;
    double B;
    double alpha;
    double beta;
};

/// The same law in the log form the fit works in: A = exp(a), B = exp(b), E = exp(e).
/// L = exp(a - alpha log N) + exp(b - beta log D) + exp(e).
struct LogParams {
    double a;
    double b;
    double e;
    double alpha;
    double beta;
};

inline Params from_log(const LogParams& q) {
    return {std::exp(q.e), std::exp(q.a), std::exp(q.b), q.alpha, q.beta};
}

inline LogParams to_log(const Params& p) {
    return {std::log(p.A), std::log(p.B), std::log(p.E), p.alpha, p.beta};
}

/// Predicted loss for N parameters trained on D tokens (no argument checks: N, D > 0 is the caller's).
inline double predict(const Params& p, double n, double d) {
    return p.E + p.A * std::pow(n, -p.alpha) + p.B * std::pow(d, -p.beta);
}

}  // namespace scalinglaw
