#pragma once
// The family of laws the core fits, chosen at run time by LawKind. Each law has an ordered list of
// parameters (natural form, the names are the API) and, in the same order, the coordinates the fit works
// in: the log of each parameter that must be positive (E, A, B, N_c, D_c, R_D, R_N), the parameter itself
// otherwise (the exponents). Units as in law.hpp (N parameters, D and U_D tokens, natural logs).
//   chinchilla        L = E + A / N^alpha + B / D^beta                    (Hoffmann et al. 2022)
//   kaplan            L = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D (Kaplan et al. 2020, eq. 1.5)
//   data_constrained  L = E + A / N'^alpha + B / D'^beta                  (Muennighoff et al. 2023)
//     with U_D unique tokens per run, R_D = D / U_D - 1, D' = U_D + U_D R_D* (1 - e^(-R_D / R_D*));
//     U_N = min(N_opt(U_D), N), N_opt(U_D) = G (G U_D)^(beta / alpha), G = (alpha A / (beta B))^(1 /
//     (alpha + beta)); R_N = max(N / U_N - 1, 0), N' = U_N + U_N R_N* (1 - e^(-R_N / R_N*)). The
//     parameters R_D, R_N are the paper's R*_D, R*_N; +infinity means no decay (the law is then
//     Chinchilla's with N' = N, D' = D).
// Pure functions: thread-safe. Bad arguments throw std::invalid_argument naming them.

#include <cstddef>
#include <string>
#include <vector>

namespace scalinglaw {

enum class LawKind { chinchilla, kaplan, data_constrained };

/// What a law is, for people and for the layers above (Python's dataclasses check their fields
/// against `parameters`).
struct LawInfo {
    LawKind kind;
    std::string name;                      ///< "chinchilla", "kaplan", "data_constrained"
    std::string formula;                   ///< one line, as in this header
    std::vector<std::string> parameters;   ///< natural names, in the law's order
    std::vector<std::string> coordinates;  ///< the fit's coordinates, same order ("e" = log E, ...)
    std::vector<bool> log_scale;           ///< coordinate j is log(parameter j)
    std::vector<bool> may_be_infinite;     ///< parameter j may be fixed at +infinity (R_D, R_N)
    bool needs_unique_tokens;              ///< the runs must carry unique_tokens
};

/// Every law, in the order of LawKind.
const std::vector<LawKind>& all_laws();
const LawInfo& law_info(LawKind kind);
/// The law named `name`; throws std::invalid_argument listing the names otherwise.
LawKind law_kind(const std::string& name);

/// The coordinate (log R*) at and beyond which a parameter that may be infinite (R_D, R_N) is +infinity:
/// the decay's effect there is below e^-700, and the law takes no decay. The fit leaps to it when the
/// optimum lies at no decay, rather than walking toward it one unit of log R* per step.
constexpr double infinite_coordinate = 700.0;

/// Coordinates from natural parameters (log where log_scale) and back. Sizes must match the law. A
/// parameter that may be infinite has the coordinate infinite_coordinate at +infinity and is +infinity
/// at any coordinate from it up (so that coordinates stay finite).
std::vector<double> to_coordinates(LawKind kind, const std::vector<double>& params);
std::vector<double> from_coordinates(LawKind kind, const std::vector<double>& coordinates);

/// The law's default grid of starts, in coordinates. chinchilla: Hoffmann et al.'s 4500 (default_starts()
/// reordered to e, a, b, alpha, beta). kaplan: log N_c, log D_c in {20, 25, ..., 40}, alpha_N, alpha_D in
/// {0.05, 0.1, 0.2, 0.4} (400). data_constrained: a, b in {5, 15}, e in {-1, 1}, alpha, beta in {0.3, 1},
/// R_D, R_N in {1, 4, 16, 64, 256} (800: the seven-parameter fit costs ~100x a Chinchilla start;
/// with the base pinned, as Muennighoff et al. fit it, they collapse to the 25 R pairs).
std::vector<std::vector<double>> default_starts(LawKind kind);

/// L(n, d) of the law at natural parameters `params` (its order). `unique_tokens`: U_D, needed by the
/// data-constrained law (0 < U_D <= d, else std::invalid_argument), ignored by the others. No other
/// checks beyond the sizes: n, d > 0 and sensible parameters are the caller's.
double predict(LawKind kind, const std::vector<double>& params, double n, double d,
               double unique_tokens = 0.0);

}  // namespace scalinglaw
