// The compute-optimal frontier: closed forms against a brute-force minimisation along 6 N D = C,
// the inverse functions round-tripping, and argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "scalinglaw/frontier.hpp"

using namespace scalinglaw;

namespace {

const std::vector<Params> laws{
    {1.69, 406.4, 410.7, 0.34, 0.28},   // Hoffmann et al.
    {1.82, 482.0, 2085.0, 0.35, 0.37},  // Besiroglu et al.
    {0.5, 10.0, 1e4, 0.1, 0.9},         // lopsided: N_opt grows as C^0.9
};
const std::vector<double> budgets{1e18, 5.76e23, 1e27};

/// The N minimising L(N, C / (6N)), by golden-section search on log N (L is convex in log N).
double brute_force_n_opt(const Params& p, double flops) {
    auto loss = [&](double log_n) {
        const double n = std::exp(log_n);
        return predict(p, n, flops / (6.0 * n));
    };
    const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
    double lo = 0.0, hi = std::log(flops / 6.0);  // 1 parameter .. 1 token
    double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
    double f1 = loss(x1), f2 = loss(x2);
    for (int i = 0; i < 200; ++i) {
        if (f1 < f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - ratio * (hi - lo);
            f1 = loss(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + ratio * (hi - lo);
            f2 = loss(x2);
        }
    }
    return std::exp(0.5 * (lo + hi));
}

}  // namespace

TEST_CASE("compute_optimal agrees with a brute-force minimisation along 6 N D = C") {
    for (const Params& p : laws)
        for (double flops : budgets) {
            CAPTURE(p.alpha);
            CAPTURE(flops);
            const Allocation best = compute_optimal(p, flops);
            const double n = brute_force_n_opt(p, flops);
            // The loss is flat at its minimum: a search on loss values pins N only to ~sqrt(eps).
            CHECK(best.n == doctest::Approx(n).epsilon(1e-5));
            CHECK(best.loss == doctest::Approx(predict(p, n, flops / (6.0 * n))).epsilon(1e-13));
            CHECK(best.loss <= predict(p, n, flops / (6.0 * n)) * (1 + 1e-15));
            for (double step : {0.999, 1.001})  // neighbours on the constraint are worse
                CHECK(best.loss < predict(p, best.n * step, flops / (6.0 * best.n * step)));
        }
}

TEST_CASE("an allocation is consistent with itself and with the coefficients") {
    for (const Params& p : laws) {
        const FrontierCoefficients f = frontier_coefficients(p);
        CHECK(f.a + f.b == doctest::Approx(1.0).epsilon(1e-15));
        CHECK(f.a == doctest::Approx(p.beta / (p.alpha + p.beta)).epsilon(1e-15));
        for (double flops : budgets) {
            const Allocation best = compute_optimal(p, flops);
            CHECK(best.flops == flops);
            CHECK(6.0 * best.n * best.d == doctest::Approx(flops).epsilon(1e-13));
            CHECK(best.n == doctest::Approx(f.G * std::pow(flops / 6.0, f.a)).epsilon(1e-13));
            CHECK(best.tokens_per_parameter == doctest::Approx(best.d / best.n).epsilon(1e-15));
            CHECK(best.loss == doctest::Approx(predict(p, best.n, best.d)).epsilon(1e-15));
        }
    }
}

TEST_CASE("budget_for_loss and optimal_for_size invert compute_optimal") {
    for (const Params& p : laws)
        for (double flops : budgets) {
            CAPTURE(p.alpha);
            CAPTURE(flops);
            const Allocation best = compute_optimal(p, flops);
            const Allocation by_loss = budget_for_loss(p, best.loss);
            // Near E the loss carries few significant digits of the budget: a relative error in
            // L - E grows by 1/(a alpha) in C.
            const double digits_lost = p.E / (best.loss - p.E);
            CHECK(by_loss.flops == doctest::Approx(flops).epsilon(1e-13 * digits_lost + 1e-13));
            CHECK(by_loss.n == doctest::Approx(best.n).epsilon(1e-13 * digits_lost + 1e-13));
            CHECK(by_loss.loss == doctest::Approx(best.loss).epsilon(1e-14));

            const Allocation by_size = optimal_for_size(p, best.n);
            CHECK(by_size.flops == doctest::Approx(flops).epsilon(1e-12));
            CHECK(by_size.d == doctest::Approx(best.d).epsilon(1e-12));
            CHECK(by_size.loss == doctest::Approx(best.loss).epsilon(1e-14));
        }
}

TEST_CASE("bad frontier arguments throw std::invalid_argument naming them") {
    const Params good = laws[0];
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    for (double bad : {nan, inf, -inf, 0.0, -1.0}) {
        CAPTURE(bad);
        double Params::* fields[] = {&Params::E, &Params::A, &Params::B, &Params::alpha, &Params::beta};
        const char* names[] = {"E must", "A must", "B must", "alpha must", "beta must"};
        for (int k = 0; k < 5; ++k) {
            Params p = good;
            p.*fields[k] = bad;
            CHECK_THROWS_WITH_AS(frontier_coefficients(p), doctest::Contains(names[k]),
                                 std::invalid_argument);
            CHECK_THROWS_WITH_AS(compute_optimal(p, 1e21), doctest::Contains(names[k]),
                                 std::invalid_argument);
            CHECK_THROWS_WITH_AS(budget_for_loss(p, 3.0), doctest::Contains(names[k]), std::invalid_argument);
            CHECK_THROWS_WITH_AS(optimal_for_size(p, 1e9), doctest::Contains(names[k]),
                                 std::invalid_argument);
        }
        CHECK_THROWS_WITH_AS(compute_optimal(good, bad), doctest::Contains("flops must be finite and > 0"),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(budget_for_loss(good, bad), doctest::Contains("target_loss"),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(optimal_for_size(good, bad), doctest::Contains("n must be finite and > 0"),
                             std::invalid_argument);
    }
    // Answers beyond double precision are refused, not returned as 0, inf or NaN.
    CHECK_THROWS_WITH_AS(compute_optimal(good, 5e-324), doctest::Contains("for a budget of 5e-324 FLOPs"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(compute_optimal(Params{1.8, 1e308, 2e3, 0.35, 1e-3}, 1e21),
                         doctest::Contains("beyond double precision"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(frontier_coefficients(Params{1.8, 480.0, 2e3, 0.35, 1e308}),
                         doctest::Contains("G = "), std::invalid_argument);
    CHECK_THROWS_WITH_AS(optimal_for_size(good, 1e308), doctest::Contains("for a model of 1e+308 parameters"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(budget_for_loss(good, 1e308), doctest::Contains("for a target loss of 1e+308"),
                         std::invalid_argument);
    for (double unreachable : {good.E, good.E * 0.5})
        CHECK_THROWS_WITH_AS(budget_for_loss(good, unreachable), doctest::Contains("must exceed E"),
                             std::invalid_argument);
}
