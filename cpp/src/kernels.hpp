#pragma once
// Private: the solver's per-run loops, one pass over the runs each. They are compiled for several
// instruction sets (fast_math.hpp); their sums run in an order fixed by the instruction set, so results
// do not depend on the thread count. Arrays have n entries; outputs do not alias inputs.

#include <cstddef>

namespace scalinglaw::detail {

/// Log-space inputs of a problem (centred log N and log D, log L).
struct RunLogs {
    const double* log_n;
    const double* log_d;
    const double* log_loss;
    std::size_t n;
};

/// What the exact common shift c of the residuals needs to know about them at one c, from one pass:
/// g(c) = sum huber(r_i + c), its slope sum psi(r_i + c), how many |r_i + c| <= delta (g's curvature),
/// and how far c can move up or down before some r_i + c crosses +-delta (g' stays linear that far).
struct ShiftSums {
    double value;
    double slope;
    double inside;
    double up;    ///< +inf when no r_i + c meets a kink above
    double down;  ///< likewise below
};

/// One pass at a point: the shares p1, p2, p3 of the terms exp(a - alpha l), exp(b - beta m), exp(e) in
/// each prediction, the residuals r = log(prediction) - log L and their ShiftSums at c = 0. Every
/// exponent must be within fast_exp's range (the caller checks).
void evaluate_runs(const RunLogs& runs, double a, double b, double e, double alpha, double beta, double delta,
                   double* p1, double* p2, double* p3, double* r, ShiftSums* sums);

/// ShiftSums of r at shift c.
void shift_sums(const double* r, std::size_t n, double delta, double c, ShiftSums* sums);

/// The smallest and largest r.
void residual_range(const double* r, std::size_t n, double* r_min, double* r_max);

/// The derivatives' sums in one pass, with J_i = (p1, p2, p3, -p1 l, -p2 m), z_i = r_i + shift and
/// psi = huber' at z:
///   sums[0..4]   gradient, sum psi J;
///   sums[5..6]   sum psi p1 l^2, sum psi p2 m^2 (the exponents' second derivatives of r);
///   sums[7..11]  diagonal of sum w J J^T, with w = psi(z) / z stored in `reweight`;
///   sums[12..26] upper triangle (row by row) of sum (psi' - psi) J J^T.
void derivative_sums(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                     const double* r, double shift, double delta, double* reweight, double* sums);

/// The same restricted to the amplitudes (a, b, e), J_i = (p1, p2, p3): sums[0..2] gradient,
/// sums[3..5] diagonal of sum w J J^T (w in `reweight`), sums[6..11] upper triangle of
/// sum (psi' - psi) J J^T.
void amplitude_derivative_sums(const double* p1, const double* p2, const double* p3, const double* r,
                               std::size_t n, double delta, double* reweight, double* sums);

/// The 15 entries (upper triangle, row by row) of sum_i weight_i J_i J_i^T, J_i = (p1, p2, p3, -p1 l,
/// -p2 m).
void weighted_gram(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                   const double* weight, double* upper);

/// For the amplitude step h (log-amplitude changes of the three terms): q = sum_k p_k e^{h_k},
/// r_out = r + log q; returns sum huber(r_out). scale_k = e^{h_k}.
double amplitude_trial(const double* p1, const double* p2, const double* p3, const double* r, std::size_t n,
                       const double scale[3], double delta, double* q, double* r_out);

/// Applies an accepted amplitude step in place: p_k *= scale_k / q.
void amplitude_accept(double* p1, double* p2, double* p3, std::size_t n, const double scale[3],
                      const double* q);

}  // namespace scalinglaw::detail
