// Closed forms of the compute-optimal frontier; see frontier.hpp for the formulas.

#include "scalinglaw/frontier.hpp"

#include <cmath>

#include "check.hpp"

namespace scalinglaw {
namespace {

void check_params(const Params& p) {
    detail::check_positive(p.E, "E");
    detail::check_positive(p.A, "A");
    detail::check_positive(p.B, "B");
    detail::check_positive(p.alpha, "alpha");
    detail::check_positive(p.beta, "beta");
}

Allocation allocation(const Params& p, double n, double d) {
    return {6.0 * n * d, n, d, predict(p, n, d), d / n};
}

}  // namespace

FrontierCoefficients frontier_coefficients(const Params& p) {
    check_params(p);
    const double sum = p.alpha + p.beta;
    const double g = std::exp((std::log(p.alpha * p.A) - std::log(p.beta * p.B)) / sum);
    return {p.beta / sum, p.alpha / sum, g};
}

Allocation compute_optimal(const Params& p, double flops) {
    const FrontierCoefficients f = frontier_coefficients(p);
    detail::check_positive(flops, "flops");
    const double log_half = std::log(flops / 6.0);
    const double n = f.G * std::exp(f.a * log_half);
    const double d = std::exp(f.b * log_half) / f.G;
    Allocation out = allocation(p, n, d);
    out.flops = flops;  // exact, not re-derived through rounding
    return out;
}

Allocation budget_for_loss(const Params& p, double target_loss) {
    check_params(p);
    detail::check_positive(target_loss, "target_loss");
    if (!(target_loss > p.E))
        detail::fail(detail::describe("target_loss must exceed E = ", p.E,
                                      " (no finite model reaches it), got ", target_loss));
    // L - E = (1 + alpha/beta) A N^-alpha on the frontier: solve for N, then D from N = N_opt(C).
    const double n = std::pow((target_loss - p.E) / ((1.0 + p.alpha / p.beta) * p.A), -1.0 / p.alpha);
    return optimal_for_size(p, n);
}

Allocation optimal_for_size(const Params& p, double n) {
    const FrontierCoefficients f = frontier_coefficients(p);
    detail::check_positive(n, "n");
    // n = G (n d)^a  =>  n d = (n / G)^(1/a)
    const double log_nd = std::log(n / f.G) / f.a;
    const double d = std::exp(log_nd - std::log(n));
    return allocation(p, n, d);
}

}  // namespace scalinglaw
