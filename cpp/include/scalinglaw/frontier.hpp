#pragma once
// The compute-optimal frontier of a fitted law (Hoffmann et al. 2022, Approach 3, eq. 4). Training
// compute is C = 6 N D FLOPs throughout (N parameters, D tokens). Minimising L(N, D) subject to
// 6 N D = C gives
//     N_opt(C) = G (C/6)^a,  D_opt(C) = G^-1 (C/6)^b,  G = (alpha A / (beta B))^(1/(alpha+beta)),
//     a = beta / (alpha + beta),  b = alpha / (alpha + beta).
// Pure functions of their arguments: thread-safe. Bad arguments throw std::invalid_argument, and so
// do requests whose answer is beyond double precision (a budget of 5e-324 FLOPs, G overflowing).

#include <vector>

#include "scalinglaw/law.hpp"
#include "scalinglaw/laws.hpp"

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

// ---- Any law (laws.hpp), parameters in the law's order ------------------------------------------------
// Closed forms where they exist: Chinchilla's above; Kaplan's, from minimising (N_c/N)^k + 6 D_c N / C
// with k = alpha_N / alpha_D: N_opt = G (C/6)^a, a = alpha_D / (alpha_N + alpha_D),
// G = (k N_c^k / D_c)^(1 / (k + 1)). The data-constrained law without a unique-token budget (U_D = D:
// no repetition, N' = N at the optimum) has Chinchilla's frontier of its base parameters.

/// The frontier's coefficients where a closed form exists (every law, the data-constrained one without
/// a unique-token budget). Needs every parameter finite and > 0 (R_D, R_N may be +inf).
FrontierCoefficients frontier_coefficients(LawKind kind, const std::vector<double>& params);

/// The compute-optimal allocation for `flops` FLOPs. `unique_tokens` > 0 is a budget of unique tokens
/// for the data-constrained law (each run then sees U_D = min(unique_tokens, D)) and is solved
/// numerically: the minimum of L(N, C / 6N) over log N by bisection on the sign of its exact derivative
/// (to the last bit), N in [1, C/6]; 0 means none (closed form). Ignored by the other laws.
Allocation compute_optimal(LawKind kind, const std::vector<double>& params, double flops,
                           double unique_tokens = 0.0);

/// The compute-optimal allocation whose model has `n` > 0 parameters (C = 6 (n / G)^(1/a)). Under a
/// budget of `unique_tokens` > 0 (data-constrained law, as compute_optimal), the budget whose numeric
/// optimum has n parameters, by bisection on log C (N_opt grows with C), to the last bit.
Allocation optimal_for_size(LawKind kind, const std::vector<double>& params, double n,
                            double unique_tokens = 0.0);

/// The smallest budget whose compute-optimal model reaches `target_loss` > 0, below the loss of the
/// frontier at C = 6 and above its limit (E for chinchilla and data_constrained, 0 for kaplan; under a
/// budget of `unique_tokens` > 0, the data-constrained law's loss as C grows, where repeated data
/// saturates): Chinchilla's closed form, else bisection on log C (L_opt falls as C grows), to the last
/// bit.
Allocation budget_for_loss(LawKind kind, const std::vector<double>& params, double target_loss,
                           double unique_tokens = 0.0);

/// The same by the numeric solve for any law (the closed forms' check, and what laws without one use).
Allocation compute_optimal_numeric(LawKind kind, const std::vector<double>& params, double flops,
                                   double unique_tokens = 0.0);

}  // namespace scalinglaw
