#pragma once
// Private, law-independent: the exact best common shift c of the residuals, minimising
// g(c) = sum huber(r_i + c). For a law with a free additive log-amplitude coordinate per term, adding
// c to each of them moves every log-prediction by c and leaves the terms' shares unchanged, so the
// solver can take this 1-D optimum at every trial point without an exp or a log.

#include <cstddef>

namespace scalinglaw::detail {

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

/// ShiftSums of r at shift c (one vectorised pass).
void shift_sums(const double* r, std::size_t n, double delta, double c, ShiftSums* sums);

/// The same with a weight per residual: sum w_i huber(r_i + c), sum w_i psi, sum w_i [|r_i + c| <= delta].
void shift_sums_weighted(const double* r, const double* weight, std::size_t n, double delta, double c,
                         ShiftSums* sums);

/// The smallest and largest r.
void residual_range(const double* r, std::size_t n, double* r_min, double* r_max);

/// The minimiser c of g and g(c).
struct Shift {
    double c, value;
};

/// The best shift of the n residuals r, to within `tolerance` in g, given their ShiftSums at c = 0
/// (which the evaluation of a point sums for free). With `weight` (null: every weight 1), g is
/// sum w_i huber(r_i + c) and `total_weight` must be sum w_i.
Shift best_shift(const double* r, std::size_t n, double delta, double tolerance, const ShiftSums& at_zero,
                 const double* weight = nullptr, double total_weight = 0.0);

}  // namespace scalinglaw::detail
