// The compute-optimal frontier of any law (frontier.hpp): closed forms, and the numeric solve on log N.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "check.hpp"
#include "laws/dispatch.hpp"
#include "scalinglaw/frontier.hpp"

namespace scalinglaw {
namespace {

void check_law_params(LawKind kind, const std::vector<double>& params) {
    const LawInfo& info = law_info(kind);
    if (params.size() != info.parameters.size())
        detail::fail(detail::describe("params must hold the ", info.parameters.size(), " parameters of the ",
                                      info.name, " law, got ", params.size()));
    for (std::size_t j = 0; j < params.size(); ++j) {
        if (info.may_be_infinite[j] && params[j] == INFINITY) continue;
        detail::check_positive(params[j], info.parameters[j].c_str());
    }
}

Params base(const std::vector<double>& p) { return {p[0], p[1], p[2], p[3], p[4]}; }

// log L(e^u, C / (6 e^u)) and its derivative in u.
template <class Law>
detail::Jet<1> log_loss_along(const std::vector<double>& x, double u, double log_half, double log_budget) {
    using J = detail::Jet<1>;
    const J log_n = J::variable(u, 0);
    const J log_d = log_half - log_n;
    const J log_u = log_budget < log_d.v ? J(log_budget) : log_d;  // U_D = min(budget, D)
    return Law::log_predict(x.data(), log_n, log_d, log_u);
}

Allocation allocation(LawKind kind, const std::vector<double>& params, double n, double d, double u,
                      double flops) {
    Allocation a{flops, n, d, predict(kind, params, n, d, std::min(u, d)), d / n};
    for (double v : {a.n, a.d, a.loss, a.tokens_per_parameter})
        if (!(std::isnormal(v) && v > 0.0))
            detail::fail(detail::describe("the compute-optimal allocation for a budget of ", flops,
                                          " FLOPs is beyond double precision (N = ", a.n, ", D = ", a.d,
                                          ", loss = ", a.loss, ")"));
    return a;
}

/// The ends of the bracket in [low, high] where `short_of` turns false (true below, false above), by
/// bisection until the midpoint is one of the ends: to the last bit, with no tolerance to choose.
struct Bracket {
    double low, high;
};
template <class ShortOf>
Bracket bisect(double low, double high, ShortOf&& short_of) {
    for (int i = 0; i < 200 && low < high; ++i) {
        const double mid = 0.5 * (low + high);
        if (mid <= low || mid >= high) break;
        (short_of(mid) ? low : high) = mid;
    }
    return {low, high};
}

/// The minimum of L(N, C / 6N) over log N, and whether it is flat: the slope exactly 0 there, every
/// derivative having underflowed (the data-constrained law's terms saturated: N' and D' within e^-745 of
/// their limits), so that no N there is better than another.
struct NumericOptimum {
    Allocation allocation;
    bool flat;
};

std::string found_with(double unique_tokens) {
    return unique_tokens > 0.0 ? detail::describe(" with ", unique_tokens, " unique tokens") : std::string();
}

NumericOptimum numeric_optimum(LawKind kind, const std::vector<double>& params, double flops,
                               double unique_tokens) {
    check_law_params(kind, params);
    detail::check_positive(flops, "flops");
    if (!(unique_tokens >= 0.0) || std::isinf(unique_tokens))
        detail::fail(
            detail::describe("unique_tokens must be finite and >= 0 (0: none), got ", unique_tokens));
    const std::vector<double> x = to_coordinates(kind, params);
    const double log_half = std::log(flops / 6.0);
    const double log_budget = unique_tokens > 0.0 ? std::log(unique_tokens) : INFINITY;
    // Bisection on the sign of d log L / d log N over N in [1, C/6] (D >= 1): each halving is exact
    // arithmetic on the bracket, so it ends when the midpoint is one of its ends.
    double low = 0.0, high = log_half;
    const auto slope = [&](double u) {
        return detail::visit_law(
            kind, [&](auto law) { return log_loss_along<decltype(law)>(x, u, log_half, log_budget).g[0]; });
    };
    if (!(high >= low))
        detail::fail(detail::describe("flops must be >= 6 (one parameter, one token), got ", flops));
    bool flat = false;
    if (slope(low) >= 0.0) {
        high = low;
    } else if (slope(high) <= 0.0) {
        low = high;
    } else {
        const Bracket root = bisect(low, high, [&](double v) { return !(slope(v) > 0.0); });
        low = root.low;
        high = root.high;
        // At a root the computed slope may be exactly 0 (its terms cancel); a hundredth of a unit of log N
        // below, a minimum's slope is clearly negative, and only a saturated (flat) one is still 0.
        flat = slope(std::max(0.0, low - 0.01)) == 0.0;
    }
    const double u = 0.5 * (low + high);
    const double n = std::exp(u), d = std::exp(log_half - u);
    return {allocation(kind, params, n, d, unique_tokens > 0.0 ? unique_tokens : d, flops), flat};
}

// The bisections on u = log(C / 6) search u in [0, largest_log_half]: C from 6 to ~6e304 FLOPs.
constexpr double largest_log_half = 700.0;

bool budgeted(LawKind kind, double unique_tokens) {
    return kind == LawKind::data_constrained && unique_tokens > 0.0;
}

/// optimal_for_size under a unique-token budget: the budget whose numeric optimum has n parameters
/// (N_opt grows with C: more compute buys more parameters as well as more repetitions).
Allocation optimal_for_size_numeric(LawKind kind, const std::vector<double>& params, double n,
                                    double unique_tokens) {
    check_law_params(kind, params);
    detail::check_positive(n, "n");
    if (!(n >= 1.0))
        detail::fail(detail::describe("n must be >= 1 (the optimum at the smallest budget, 6 FLOPs, has one ",
                                      "parameter), got ", n));
    const auto optimum = [&](double u) {
        return numeric_optimum(kind, params, 6.0 * std::exp(u), unique_tokens);
    };
    const double log_n = std::log(n);
    const auto short_of = [&](double u) { return std::log(optimum(u).allocation.n) < log_n; };
    if (short_of(largest_log_half))
        detail::fail(detail::describe("n = ", n,
                                      " is larger than the compute-optimal model of any budget up ",
                                      "to 6e304 FLOPs with ", unique_tokens, " unique tokens"));
    const double u = bisect(0.0, largest_log_half, short_of).high;
    const NumericOptimum found = optimum(u);
    const Allocation& a = found.allocation;
    if (found.flat)
        detail::fail(detail::describe("no budget's compute-optimal model has n = ", n, " parameters",
                                      found_with(unique_tokens), ": at ", a.flops, " FLOPs the ",
                                      law_info(kind).name, " law's loss, ", a.loss,
                                      ", no longer depends on how the budget is split between N and D"));
    // N_opt(C) is continuous where the minimum along each budget is unique; where it jumps, no budget
    // makes n optimal.
    if (!(std::fabs(std::log(a.n) - log_n) <= 1e-9))
        detail::fail(detail::describe("no budget's compute-optimal model has n = ", n, " parameters",
                                      found_with(unique_tokens), ": the optimum jumps to ", a.n,
                                      " parameters at ", a.flops, " FLOPs"));
    return a;
}

}  // namespace

FrontierCoefficients frontier_coefficients(LawKind kind, const std::vector<double>& params) {
    check_law_params(kind, params);
    if (kind == LawKind::kaplan) {
        const double nc = params[0], dc = params[1], an = params[2], ad = params[3];
        const double k = an / ad;
        const double g = std::exp((std::log(k) + k * std::log(nc) - std::log(dc)) / (k + 1.0));
        if (!(std::isnormal(g) && g > 0.0))
            detail::fail(detail::describe("the frontier's G = (k N_c^k / D_c)^(1 / (k + 1)) = ", g,
                                          " is beyond double precision for these parameters"));
        return {ad / (an + ad), an / (an + ad), g};
    }
    return frontier_coefficients(base(params));  // chinchilla; data_constrained without a budget
}

Allocation compute_optimal(LawKind kind, const std::vector<double>& params, double flops,
                           double unique_tokens) {
    if (kind == LawKind::data_constrained && unique_tokens > 0.0)
        return compute_optimal_numeric(kind, params, flops, unique_tokens);
    const FrontierCoefficients f = frontier_coefficients(kind, params);
    detail::check_positive(flops, "flops");
    const double log_half = std::log(flops / 6.0);
    const double n = f.G * std::exp(f.a * log_half), d = std::exp(f.b * log_half) / f.G;
    return allocation(kind, params, n, d, kind == LawKind::data_constrained ? d : 0.0, flops);
}

Allocation optimal_for_size(LawKind kind, const std::vector<double>& params, double n, double unique_tokens) {
    if (budgeted(kind, unique_tokens)) return optimal_for_size_numeric(kind, params, n, unique_tokens);
    if (kind != LawKind::kaplan) {
        check_law_params(kind, params);
        const Allocation a = optimal_for_size(base(params), n);
        return kind == LawKind::chinchilla ? a : allocation(kind, params, a.n, a.d, a.d, a.flops);
    }
    const FrontierCoefficients f = frontier_coefficients(kind, params);
    detail::check_positive(n, "n");
    const double log_half = std::log(n / f.G) / f.a;  // n = G (C/6)^a
    const double d = std::exp(log_half - std::log(n));
    return allocation(kind, params, n, d, 0.0, 6.0 * std::exp(log_half));
}

Allocation budget_for_loss(LawKind kind, const std::vector<double>& params, double target_loss,
                           double unique_tokens) {
    const bool numeric = budgeted(kind, unique_tokens);
    if (kind != LawKind::kaplan && !numeric) {
        check_law_params(kind, params);
        const Allocation a = budget_for_loss(base(params), target_loss);
        return kind == LawKind::chinchilla ? a : allocation(kind, params, a.n, a.d, a.d, a.flops);
    }
    check_law_params(kind, params);
    detail::check_positive(target_loss, "target_loss");
    // The frontier's loss at C = 6 e^u: Kaplan's closed form, or the numeric optimum under the budget.
    const FrontierCoefficients f = numeric ? FrontierCoefficients{} : frontier_coefficients(kind, params);
    const auto frontier_loss = [&](double u) {
        if (numeric) return numeric_optimum(kind, params, 6.0 * std::exp(u), unique_tokens).allocation.loss;
        return predict(kind, params, f.G * std::exp(f.a * u), std::exp(f.b * u) / f.G);
    };
    // log L_opt - log target, decreasing in u; bisection on its sign over u in [0, largest_log_half].
    const auto excess = [&](double u) { return std::log(frontier_loss(u)) - std::log(target_loss); };
    double low = 0.0, high = largest_log_half;
    const double at_largest = excess(high);
    if (!(at_largest < 0.0)) {
        if (numeric)  // the law's loss has a floor above E: N' and D' saturate as the data repeat
            detail::fail(detail::describe(
                "target_loss ", target_loss, " is not reached by any budget up to ", "6e304 FLOPs with ",
                unique_tokens, " unique tokens: repeating them, ",
                "the data_constrained law's loss falls no lower than ", std::exp(at_largest) * target_loss));
        detail::fail(detail::describe("target_loss ", target_loss,
                                      " is not reached by any budget up to 6e304 FLOPs",
                                      " (the law's frontier falls towards 0 too slowly)"));
    }
    // Above the frontier's loss at the smallest budget, every budget reaches the target: there is no
    // smallest one to return (the budget 6 FLOPs would be a wrong answer, its loss not the target's).
    const double at_smallest = excess(low);
    if (at_smallest < 0.0)
        detail::fail(detail::describe("target_loss ", target_loss, " is above the ", law_info(kind).name,
                                      " law's loss at any budget >= 6 FLOPs (",
                                      std::exp(at_smallest) * target_loss,
                                      " at 6 FLOPs): every budget reaches it"));
    if (at_smallest == 0.0) high = low;  // the target is the loss at 6 FLOPs
    high = bisect(low, high, [&](double u) { return excess(u) > 0.0; }).high;
    return compute_optimal(kind, params, 6.0 * std::exp(high), unique_tokens);
}

Allocation compute_optimal_numeric(LawKind kind, const std::vector<double>& params, double flops,
                                   double unique_tokens) {
    const NumericOptimum found = numeric_optimum(kind, params, flops, unique_tokens);
    if (found.flat)
        detail::fail(detail::describe(
            "the compute-optimal model for a budget of ", flops, " FLOPs", found_with(unique_tokens),
            " is not determined: the ", law_info(kind).name, " law's loss there, ", found.allocation.loss,
            ", no longer depends on how the budget is split between N and D (the repeated tokens and the ",
            "excess parameters have both saturated, beyond what doubles resolve)"));
    return found.allocation;
}

}  // namespace scalinglaw
