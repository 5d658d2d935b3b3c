// The solver's vectorisable exp and log against the C library, over their whole domains.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>

#include "../../cpp/src/fast_math.hpp"

using scalinglaw::detail::fast_exp;
using scalinglaw::detail::fast_exp_limit;
using scalinglaw::detail::fast_log;

namespace {

// |a - b| in units of the last place of b.
double ulps(double a, double b) {
    const double spacing = std::nextafter(std::abs(b), INFINITY) - std::abs(b);
    return std::abs(a - b) / spacing;
}

}  // namespace

TEST_CASE("fast_exp is within 1 ulp of std::exp on [-700, 700]") {
    std::mt19937_64 random(12345);
    std::uniform_real_distribution<double> wide(-fast_exp_limit, fast_exp_limit), narrow(-2.0, 2.0);
    double worst = 0.0;
    for (int k = 0; k < 400000; ++k) {
        const double x = k % 2 ? wide(random) : narrow(random);
        worst = std::max(worst, ulps(fast_exp(x), std::exp(x)));
    }
    for (double x : {-fast_exp_limit, -1e-300, 0.0, 1e-300, 0.5 * std::log(2.0), fast_exp_limit})
        worst = std::max(worst, ulps(fast_exp(x), std::exp(x)));
    CHECK(worst <= 1.0);
    CHECK(fast_exp(0.0) == 1.0);
}

TEST_CASE("fast_log is within 1 ulp of std::log on positive normal numbers") {
    std::mt19937_64 random(6789);
    std::uniform_real_distribution<double> exponent(-1020.0, 1020.0), near_one(0.5, 2.0);
    double worst = 0.0;
    for (int k = 0; k < 400000; ++k) {
        const double x = k % 2 ? std::exp2(exponent(random)) : near_one(random);
        worst = std::max(worst, ulps(fast_log(x), std::log(x)));
    }
    for (double x : {DBL_MIN, 1.0 - DBL_EPSILON, 1.0, 1.0 + DBL_EPSILON, std::sqrt(2.0),
                     std::sqrt(0.5), DBL_MAX})
        worst = std::max(worst, ulps(fast_log(x), std::log(x)));
    CHECK(worst <= 1.0);
    CHECK(fast_log(1.0) == 0.0);
}
