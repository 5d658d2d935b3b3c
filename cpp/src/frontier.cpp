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

bool representable(double x) { return std::isnormal(x) && x > 0.0; }

// Extreme parameters or requests can put the answer beyond double precision (N = 0, D = inf, C = inf):
// refuse it, naming the request, rather than return such numbers as a plan.
// `request` reads "a budget of", "a model of" or "a target loss of", then `value` and `unit`.
Allocation checked(const Allocation& a, const char* request, double value, const char* unit) {
    for (double x : {a.flops, a.n, a.d, a.loss, a.tokens_per_parameter})
        if (!representable(x))
            detail::fail(detail::describe("the compute-optimal allocation for ", request, " ", value, unit,
                                          " is beyond double precision (C = ", a.flops, ", N = ", a.n,
                                          ", D = ", a.d, ", loss = ", a.loss, ")"));
    return a;
}

}  // namespace

FrontierCoefficients frontier_coefficients(const Params& p) {
    check_params(p);
    const double sum = p.alpha + p.beta;
    const double g = std::exp((std::log(p.alpha * p.A) - std::log(p.beta * p.B)) / sum);
    if (!representable(g))
        detail::fail(detail::describe("the frontier's G = (alpha A / (beta B))^(1 / (alpha + beta)) = ", g,
                                      " is beyond double precision for these parameters"));
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
    return checked(out, "a budget of", flops, " FLOPs");
}

Allocation budget_for_loss(const Params& p, double target_loss) {
    check_params(p);
    detail::check_positive(target_loss, "target_loss");
    if (!(target_loss > p.E))
        detail::fail(detail::describe("target_loss must exceed E = ", p.E,
                                      " (no finite model reaches it), got ", target_loss));
    // L - E = (1 + alpha/beta) A N^-alpha on the frontier: solve for N, then D from N = N_opt(C).
    const double n = std::pow((target_loss - p.E) / ((1.0 + p.alpha / p.beta) * p.A), -1.0 / p.alpha);
    if (!representable(n))
        detail::fail(detail::describe("the compute-optimal allocation for a target loss of ", target_loss,
                                      " is beyond double precision (N = ", n, ")"));
    return checked(optimal_for_size(p, n), "a target loss of", target_loss, "");
}

Allocation optimal_for_size(const Params& p, double n) {
    const FrontierCoefficients f = frontier_coefficients(p);
    detail::check_positive(n, "n");
    // n = G (n d)^a  =>  n d = (n / G)^(1/a)
    const double log_nd = std::log(n / f.G) / f.a;
    const double d = std::exp(log_nd - std::log(n));
    return checked(allocation(p, n, d), "a model of", n, " parameters");
}

}  // namespace scalinglaw
