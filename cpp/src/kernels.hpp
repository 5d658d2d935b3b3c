#pragma once
// Private: the Chinchilla solver's per-run loops, one pass over the runs each (the law-independent
// shift loops are in solver/shift.hpp). They are compiled for several instruction sets (fast_math.hpp);
// their sums run in an order fixed by the instruction set, so results do not depend on the thread
// count. Arrays have n entries; outputs do not alias inputs.

#include <cstddef>

#include "solver/shift.hpp"
#include "solver/sums.hpp"

namespace scalinglaw::detail {

/// Log-space inputs of a problem (centred log N and log D, log L).
struct RunLogs {
    const double* log_n;
    const double* log_d;
    const double* log_loss;
    std::size_t n;
};

/// One pass at a point: the shares p1, p2, p3 of the terms exp(a - alpha l), exp(b - beta m), exp(e) in
/// each prediction, the residuals r = log(prediction) - log L and their ShiftSums at c = 0. Every
/// exponent must be within fast_exp's range (the caller checks).
void evaluate_runs(const RunLogs& runs, double a, double b, double e, double alpha, double beta, double delta,
                   double* p1, double* p2, double* p3, double* r, ShiftSums* sums);

/// The derivatives' sums of the Chinchilla objective, with J_i = (p1, p2, p3, -p1 l, -p2 m) in the
/// coordinates (a, b, e, alpha, beta) and z_i = r_i + shift (see solver/sums.hpp for `huber`).
struct DerivativeSums {
    HuberSums<5> huber;      ///< w = psi(z) / z is left in `reweight`
    double curvature_alpha;  ///< sum psi p1 l^2: with the gradient, Hess r_i's share of the Hessian
    double curvature_beta;   ///< sum psi p2 m^2
};
void derivative_sums(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                     const double* r, double shift, double delta, double* reweight, DerivativeSums* sums);

/// The same restricted to the amplitudes (a, b, e), J_i = (p1, p2, p3), at shift 0.
void amplitude_derivative_sums(const double* p1, const double* p2, const double* p3, const double* r,
                               std::size_t n, double delta, double* reweight, HuberSums<3>* sums);

/// sum_i weight_i J_i J_i^T, J_i = (p1, p2, p3, -p1 l, -p2 m).
void weighted_gram(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                   const double* weight, Triangle<5>* gram);

/// For the amplitude step h (log-amplitude changes of the three terms): q = sum_k p_k e^{h_k},
/// r_out = r + log q; returns sum huber(r_out). scale_k = e^{h_k}.
double amplitude_trial(const double* p1, const double* p2, const double* p3, const double* r, std::size_t n,
                       const double scale[3], double delta, double* q, double* r_out);

/// Applies an accepted amplitude step in place: p_k *= scale_k / q.
void amplitude_accept(double* p1, double* p2, double* p3, std::size_t n, const double scale[3],
                      const double* q);

}  // namespace scalinglaw::detail
