#pragma once
// The compute-optimal frontier of a fitted law (Hoffmann et al. 2022, Approach 3, eq. 4). Training
// compute is C = 6 N D FLOPs throughout (N parameters, D tokens). Minimising L(N, D) subject to
// 6 N D = C gives
//     N_opt(C) = G (C/6)^a,  D_opt(C) = G^-1 (C/6)^b,  G = (alpha A / (beta B))^(1/(alpha+beta)),
//     a = beta / (alpha + beta),  b = alpha / (alpha + beta).
// Pure functions of their arguments: thread-safe. Bad arguments throw std::invalid_argument, and so
// do requests whose answer is beyond double precision (a budget of 5e-324 FLOPs, G overflowing).

#include "scalinglaw/law.hpp"

namespace scalinglaw {

/// The exponents and coefficient of the frontier.
struct FrontierCoefficients {
    double a;  ///< N_opt grows as C^a
    double b;  ///< D_opt grows as C^b; a + b = 1
    double G;  ///< N_opt = G (C/6)^a
};

/// A compute-optimal allocation. (Python and JSON name the fields by the law's symbols: C, N, D, loss,
/// tokens_per_parameter.)
struct Allocation {
    double flops;                 ///< C, FLOPs
    double n;                     ///< N_opt, parameters
    double d;                     ///< D_opt, tokens
    double loss;                  ///< L(N_opt, D_opt), in the unit of the fitted losses
    double tokens_per_parameter;  ///< D_opt / N_opt
};

/// Needs A, B, E, alpha, beta finite and > 0.
FrontierCoefficients frontier_coefficients(const Params& p);

/// The compute-optimal N and D for a budget of `flops` > 0 FLOPs.
Allocation compute_optimal(const Params& p, double flops);

/// The smallest budget whose compute-optimal model reaches `target_loss`, which must exceed E (the
/// loss no finite model reaches). Inverts L_opt(C) = E + (1 + alpha/beta) A N_opt(C)^-alpha.
Allocation budget_for_loss(const Params& p, double target_loss);

/// The number of tokens for which a model of `n` > 0 parameters is compute-optimal, and that budget.
Allocation optimal_for_size(const Params& p, double n);

}  // namespace scalinglaw
