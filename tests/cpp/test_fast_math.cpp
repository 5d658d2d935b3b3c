// The solver's vectorisable exp and log against the C library over their whole domains, and the
// per-run kernels built on them against plain loops.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>

#include "../../cpp/src/fast_math.hpp"

using scalinglaw::detail::fast_exp;
using scalinglaw::detail::fast_exp_limit;
using scalinglaw::detail::fast_log;
using scalinglaw::detail::lane_exp;
using scalinglaw::detail::lane_expm1;
using scalinglaw::detail::lane_log;
using scalinglaw::detail::lane_log1p;

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
    for (double x :
         {DBL_MIN, 1.0 - DBL_EPSILON, 1.0, 1.0 + DBL_EPSILON, std::sqrt(2.0), std::sqrt(0.5), DBL_MAX})
        worst = std::max(worst, ulps(fast_log(x), std::log(x)));
    CHECK(worst <= 1.0);
    CHECK(fast_log(1.0) == 0.0);
}

namespace {
// Equal as std:: gives them, NaN to NaN.
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
}  // namespace

TEST_CASE("the lane_ functions follow std:: over their whole domains") {
    std::mt19937_64 random(2468);
    std::uniform_real_distribution<double> wide(-760.0, 760.0), narrow(-2.0, 2.0), exponent(-1074.0, 1023.0);
    double worst_exp = 0.0, worst_expm1 = 0.0, worst_log = 0.0, worst_log1p = 0.0;
    for (int k = 0; k < 400000; ++k) {
        const double x = k % 2 ? wide(random) : narrow(random);
        const double e = std::exp(x), positive = std::exp2(exponent(random));
        if (e > 0.0 && std::isfinite(e)) worst_exp = std::max(worst_exp, ulps(lane_exp(x), e));
        if (std::isfinite(e)) worst_expm1 = std::max(worst_expm1, ulps(lane_expm1(x), std::expm1(x)));
        worst_log = std::max(worst_log, ulps(lane_log(positive), std::log(positive)));
        const double y = k % 3 ? positive : -positive * 0.999;  // in (-1, 0) as well
        if (y > -1.0) worst_log1p = std::max(worst_log1p, ulps(lane_log1p(y), std::log1p(y)));
    }
    for (double x : {1e-300, -1e-300, 1e-17, -1e-17, 0.3465, -0.3466, 0.35, -0.35})
        worst_expm1 = std::max(worst_expm1, ulps(lane_expm1(x), std::expm1(x)));
    CHECK(worst_exp <= 2.0);
    CHECK(worst_expm1 <= 3.0);
    CHECK(worst_log <= 1.0);
    CHECK(worst_log1p <= 3.0);
    const double inf = INFINITY, nan = std::nan("");
    for (double x : {inf, -inf, nan, 0.0, -0.0, 709.7, 709.8, 800.0, -745.2, -746.0, -1e6, 1e6}) {
        CHECK(same(lane_exp(x), std::exp(x)));
        CHECK(same(lane_expm1(x), std::expm1(x)));
    }
    for (double x : {inf, -inf, nan, 0.0, -1.0, 4.9e-324, DBL_MIN / 3, DBL_MAX}) {
        CHECK((same(lane_log(x), std::log(x)) || ulps(lane_log(x), std::log(x)) <= 1.0));
    }
    for (double x : {inf, -inf, nan, 0.0, -1.0, -2.0, 1e-320, DBL_MAX})
        CHECK((same(lane_log1p(x), std::log1p(x)) || ulps(lane_log1p(x), std::log1p(x)) <= 1.0));
}

// The per-run kernels built on them, against plain loops with std::exp/std::log.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "kernels.hpp"

namespace {

struct Reference {
    double value = 0.0, slope = 0.0, inside = 0.0;
    double up = std::numeric_limits<double>::infinity(), down = up;
};

// ShiftSums by their definition: kinks of huber(z) at z = +-delta; a kink exactly at z counts as room 0.
Reference shift_reference(const std::vector<double>& r, double delta, double c) {
    Reference out;
    for (double ri : r) {
        const double z = ri + c;
        const double psi = std::clamp(z, -delta, delta);
        out.value += std::abs(z) <= delta ? 0.5 * z * z : delta * (std::abs(z) - 0.5 * delta);
        out.slope += psi;
        out.inside += std::abs(z) <= delta ? 1.0 : 0.0;
        for (double kink : {-delta, delta}) {
            if (kink >= z) out.up = std::min(out.up, kink - z);
            if (kink <= z) out.down = std::min(out.down, z - kink);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("the kernels' shares, residuals and shift sums are their definitions") {
    using namespace scalinglaw::detail;
    std::mt19937_64 random(2024);
    std::uniform_real_distribution<double> centred_log(-3.0, 3.0), noise(-4e-3, 4e-3);
    const std::size_t n = 203;  // not a multiple of any vector width
    std::vector<double> l(n), m(n), log_loss(n);
    const double a = 0.3, b = -0.7, e = 0.6, alpha = 0.34, beta = 0.28, delta = 1e-3;
    for (std::size_t i = 0; i < n; ++i) {
        l[i] = centred_log(random);
        m[i] = centred_log(random);
        log_loss[i] =
            std::log(std::exp(a - alpha * l[i]) + std::exp(b - beta * m[i]) + std::exp(e)) + noise(random);
    }
    std::vector<double> p1(n), p2(n), p3(n), r(n);
    ShiftSums sums{};
    evaluate_runs(RunLogs{l.data(), m.data(), log_loss.data(), n}, a, b, e, alpha, beta, delta, p1.data(),
                  p2.data(), p3.data(), r.data(), &sums);
    for (std::size_t i = 0; i < n; ++i) {
        const double t1 = std::exp(a - alpha * l[i]), t2 = std::exp(b - beta * m[i]), t3 = std::exp(e);
        const double total = t1 + t2 + t3;
        CHECK(p1[i] == doctest::Approx(t1 / total).epsilon(1e-15));
        CHECK(p2[i] == doctest::Approx(t2 / total).epsilon(1e-15));
        CHECK(p3[i] == doctest::Approx(t3 / total).epsilon(1e-15));
        // r is a difference of logs of size ~1: its error is absolute, a few 1e-16
        CHECK(std::abs(r[i] - (std::log(total) - log_loss[i])) <= 2e-15);
    }
    for (double c : {0.0, 1.3e-3, -2.2e-3, 0.05}) {
        CAPTURE(c);
        ShiftSums got{};
        if (c == 0.0)
            got = sums;
        else
            shift_sums(r.data(), n, delta, c, &got);
        const Reference want = shift_reference(r, delta, c);
        CHECK(got.value == doctest::Approx(want.value).epsilon(1e-13));
        CHECK(got.slope == doctest::Approx(want.slope).epsilon(1e-12).scale(1e-18));
        CHECK(got.inside == want.inside);
        for (auto [g, w] : {std::pair{got.up, want.up}, std::pair{got.down, want.down}}) {
            if (std::isinf(w))
                CHECK(g == w);
            else
                CHECK(g == doctest::Approx(w).epsilon(1e-9).scale(1e-18));
        }
    }
    double r_min = 0.0, r_max = 0.0;
    residual_range(r.data(), n, &r_min, &r_max);
    CHECK(r_min == *std::min_element(r.begin(), r.end()));
    CHECK(r_max == *std::max_element(r.begin(), r.end()));
}
