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

/// Shares p1, p2, p3 of the terms exp(a - alpha l), exp(b - beta m), exp(e) in each prediction and
/// residuals r = log(prediction) - log L. Returns false (outputs unspecified) when an exponent leaves
/// the fast range; the caller then uses the exact max-shifted form.
bool shares_and_residuals(const RunLogs& runs, double a, double b, double e, double alpha, double beta,
                          double* p1, double* p2, double* p3, double* r);

/// sum_i huber(r_i + shift).
double huber_sum(const double* r, std::size_t n, double delta, double shift);

/// sum_i psi(r_i + shift) (psi = huber'), and how many |r_i + shift| <= delta.
double huber_slope(const double* r, std::size_t n, double delta, double shift, std::size_t* inside);

/// The derivatives' sums in one pass, with J_i = (p1, p2, p3, -p1 l, -p2 m) and psi = huber':
///   sums[0..4]   gradient, sum psi J;
///   sums[5..6]   sum psi p1 l^2, sum psi p2 m^2 (the exponents' second derivatives of r);
///   sums[7..11]  diagonal of sum w J J^T, with w = psi(r) / r stored in `reweight`;
///   sums[12..26] upper triangle (row by row) of sum (psi' - psi) J J^T.
void derivative_sums(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                     const double* r, double delta, double* reweight, double* sums);

/// The 15 entries (upper triangle, row by row) of sum_i weight_i J_i J_i^T, J_i = (p1, p2, p3, -p1 l,
/// -p2 m).
void weighted_gram(const RunLogs& runs, const double* p1, const double* p2, const double* p3,
                   const double* weight, double* upper);

/// For the amplitude step h (log-amplitude changes of the three terms): q = sum_k p_k e^{h_k},
/// r_out = r + log q; returns sum huber(r_out). scale_k = e^{h_k}.
double amplitude_trial(const double* p1, const double* p2, const double* p3, const double* r,
                       std::size_t n, const double scale[3], double delta, double* q, double* r_out);

/// Applies an accepted amplitude step in place: p_k *= scale_k / q.
void amplitude_accept(double* p1, double* p2, double* p3, std::size_t n, const double scale[3],
                      const double* q);

}  // namespace scalinglaw::detail
