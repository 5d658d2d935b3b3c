// Approach 2: exact parabolas and exponents recovered, least squares against an independent solve,
// every status with its reason, and argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

#include "scalinglaw/isoflop.hpp"

using namespace scalinglaw;

namespace {

struct Sweep {
    std::vector<double> n, d, loss;
    std::vector<int> group;
    std::vector<double> budgets;
    RunsView view() const { return {n.data(), d.data(), loss.data(), n.size()}; }
    void add(double size, int g, double l) {
        n.push_back(size);
        d.push_back(g >= 0 ? budgets[static_cast<std::size_t>(g)] / (6.0 * size) : 1e10);
        loss.push_back(l);
        group.push_back(g);
    }
};

// Budgets 1e18 .. 1e22 whose profiles are exact parabolas in ln N with minima on N_opt = 0.1 C^0.5
// (so D_opt = C / (6 N_opt) = C^0.5 / 0.6): 7 sizes each, around the minimum but not centred on it.
Sweep exact_sweep() {
    Sweep s;
    s.budgets = {1e18, 1e19, 1e20, 1e21, 1e22};
    for (std::size_t g = 0; g < s.budgets.size(); ++g) {
        const double x_opt = std::log(0.1 * std::sqrt(s.budgets[g]));
        for (double offset : {-1.2, -0.8, -0.4, 0.0, 0.4, 0.8, 1.6}) {
            const double curvature = 0.04 + 0.01 * static_cast<double>(g);
            s.add(std::exp(x_opt + offset), static_cast<int>(g),
                  2.0 + 0.1 * static_cast<double>(g) + curvature * offset * offset);
        }
    }
    return s;
}

}  // namespace

TEST_CASE("exact parabolas give their minima and the exponents of the frontier") {
    const Sweep s = exact_sweep();
    const Approach2Result r = approach2(s.view(), s.group, s.budgets);
    REQUIRE(r.parabolas.size() == 5);
    CHECK(r.used == 5);
    CHECK(r.message.empty());
    for (std::size_t g = 0; g < 5; ++g) {
        CAPTURE(g);
        const BudgetParabola& p = r.parabolas[g];
        const double n_opt = 0.1 * std::sqrt(s.budgets[g]);
        CHECK(p.status == ParabolaStatus::used);
        CHECK(p.reason.empty());
        CHECK(p.flops == s.budgets[g]);
        CHECK(p.runs == 7);
        CHECK(p.sizes == 7);
        CHECK(p.n_opt == doctest::Approx(n_opt).epsilon(1e-11));
        CHECK(p.d_opt == doctest::Approx(s.budgets[g] / (6.0 * n_opt)).epsilon(1e-11));
        CHECK(p.loss_opt == doctest::Approx(2.0 + 0.1 * static_cast<double>(g)).epsilon(1e-13));
        CHECK(p.c2 == doctest::Approx(0.04 + 0.01 * static_cast<double>(g)).epsilon(1e-12));
        CHECK(p.inside);
        CHECK(p.smallest_n == doctest::Approx(n_opt * std::exp(-1.2)).epsilon(1e-14));
        CHECK(p.largest_n == doctest::Approx(n_opt * std::exp(1.6)).epsilon(1e-14));
        // The parabola in its documented form reproduces every loss of the group.
        for (std::size_t i = 0; i < s.n.size(); ++i)
            if (s.group[i] == static_cast<int>(g)) {
                const double t = std::log(s.n[i]) - p.center;
                CHECK(p.c0 + p.c1 * t + p.c2 * t * t == doctest::Approx(s.loss[i]).epsilon(1e-13));
            }
    }
    CHECK(r.a == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(r.b == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(r.n_coefficient == doctest::Approx(0.1).epsilon(1e-9));
    CHECK(r.d_coefficient == doctest::Approx(1.0 / 0.6).epsilon(1e-9));
}

TEST_CASE("noisy profiles: the least-squares parabola of an independent normal-equations solve") {
    // Raw (uncentred) normal equations in long double, solved by Cramer's rule: a different route to
    // the same least-squares parabola.
    Sweep s;
    s.budgets = {3e19};
    const double noise[] = {0.013, -0.021, 0.008, 0.017, -0.011, 0.0, -0.006, 0.019, -0.014};
    for (int i = 0; i < 9; ++i) {
        const double x = std::log(2e8) + 0.35 * i;
        s.add(std::exp(x), 0, 2.6 + 0.07 * (x - 21.0) * (x - 21.0) + noise[i]);
    }
    long double m[3][4] = {};
    for (std::size_t i = 0; i < s.n.size(); ++i) {
        const long double x = std::log(static_cast<long double>(s.n[i]));
        const long double powers[3] = {1.0L, x, x * x};
        for (int r = 0; r < 3; ++r) {
            for (int c = 0; c < 3; ++c) m[r][c] += powers[r] * powers[c];
            m[r][3] += powers[r] * s.loss[i];
        }
    }
    auto det = [&](int replace) {
        long double a[3][3];
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) a[r][c] = c == replace ? m[r][3] : m[r][c];
        return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
               a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
               a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    };
    const long double whole = det(-1);
    const double k1 = static_cast<double>(det(1) / whole), k2 = static_cast<double>(det(2) / whole);
    const Approach2Result r = approach2(s.view(), s.group, s.budgets);
    const BudgetParabola& p = r.parabolas[0];
    CHECK(p.status == ParabolaStatus::used);
    CHECK(p.c2 == doctest::Approx(k2).epsilon(1e-9));
    CHECK(p.n_opt == doctest::Approx(std::exp(-k1 / (2.0 * k2))).epsilon(1e-9));
    CHECK(r.used == 1);
    CHECK(std::isnan(r.a));  // one budget: a minimum, but no exponents
    CHECK(std::isnan(r.b));
    CHECK(r.message.find("at least 2 budgets, got 1 of 1") != std::string::npos);
}

TEST_CASE("each skipped budget says why; runs in no group are ignored") {
    Sweep s = exact_sweep();
    const Approach2Result clean = approach2(s.view(), s.group, s.budgets);
    s.budgets.push_back(1e23);  // 5: no runs
    s.budgets.push_back(1e24);  // 6: two sizes, four runs
    s.budgets.push_back(1e25);  // 7: opens downward
    s.add(1e11, 6, 2.0);
    s.add(1e11, 6, 2.1);
    s.add(2e11, 6, 1.9);
    s.add(2e11, 6, 1.95);
    for (double offset : {-1.0, 0.0, 1.0}) s.add(3e11 * std::exp(offset), 7, 2.0 - 0.1 * offset * offset);
    s.add(5e9, -1, 50.0);  // in no group: must change nothing
    const Approach2Result r = approach2(s.view(), s.group, s.budgets);
    REQUIRE(r.parabolas.size() == 8);
    CHECK(r.used == 5);
    CHECK(r.parabolas[5].status == ParabolaStatus::too_few_sizes);
    CHECK(r.parabolas[5].reason == "no runs in this group");
    CHECK(r.parabolas[5].runs == 0);
    CHECK(std::isnan(r.parabolas[5].n_opt));
    CHECK(r.parabolas[6].status == ParabolaStatus::too_few_sizes);
    CHECK(r.parabolas[6].runs == 4);
    CHECK(r.parabolas[6].sizes == 2);
    CHECK(r.parabolas[6].reason == "only 2 distinct model sizes among its 4 runs: a parabola needs 3");
    CHECK(std::isnan(r.parabolas[6].c2));
    CHECK(r.parabolas[7].status == ParabolaStatus::opens_downward);
    CHECK(r.parabolas[7].c2 == doctest::Approx(-0.1).epsilon(1e-12));
    CHECK(r.parabolas[7].reason.find("opens downward") != std::string::npos);
    CHECK(std::isnan(r.parabolas[7].n_opt));
    CHECK(std::string(to_string(r.parabolas[7].status)) == "opens_downward");
    // The used budgets, and so the exponents, are those of the clean sweep.
    CHECK(r.a == clean.a);
    CHECK(r.n_coefficient == clean.n_coefficient);
    CHECK(r.b == clean.b);
    for (std::size_t g = 0; g < 5; ++g) CHECK(r.parabolas[g].n_opt == clean.parabolas[g].n_opt);
}

TEST_CASE("a minimum beyond the sampled sizes is reported as extrapolated") {
    Sweep s;
    s.budgets = {1e20, 1e21};
    for (int g = 0; g < 2; ++g)
        for (double offset : {0.0, 0.5, 1.0, 1.5})  // the true minimum (offset -1) is not sampled
            s.add(1e9 * std::exp(offset + g), g, 2.0 + 0.05 * (offset + 1.0) * (offset + 1.0));
    const Approach2Result r = approach2(s.view(), s.group, s.budgets);
    for (const BudgetParabola& p : r.parabolas) {
        CHECK(p.status == ParabolaStatus::used);
        CHECK_FALSE(p.inside);
        CHECK(p.n_opt < p.smallest_n);
    }
    CHECK(r.used == 2);
    CHECK(std::isfinite(r.a));
}

TEST_CASE("a curvature at rounding level is no minimum; a small real one is") {
    // Budget 0: a straight profile (slope 0.1 in ln N) with a curvature whose rise over the sizes
    // (h = 1.5 in ln N) is 7.5e-13 of a loss of 3: noise the solve cannot tell from a straight line,
    // whose "minimum" would lie e^(5e10) parameters out. Budget 1: a rise of 2.25e-6 with its minimum
    // among the sizes, small but real. Budget 2: clean.
    Sweep s;
    s.budgets = {1e20, 1e21, 1e22};
    const double slope[] = {0.1, 2e-6, 0.0}, curvature[] = {1e-12, 1e-6, 0.05};
    for (int g = 0; g < 3; ++g)
        for (double offset : {-1.5, -0.75, 0.0, 0.75, 1.5})
            s.add(1e9 * std::exp(offset + g), g, 3.0 - slope[g] * offset + curvature[g] * offset * offset);
    const Approach2Result r = approach2(s.view(), s.group, s.budgets);
    CHECK(r.parabolas[0].status == ParabolaStatus::opens_downward);
    CHECK(r.parabolas[0].c2 > 0.0);  // positive, yet no minimum
    CHECK(r.parabolas[0].reason.find("straight to rounding") != std::string::npos);
    CHECK(std::isnan(r.parabolas[0].n_opt));
    CHECK(r.parabolas[1].status == ParabolaStatus::used);
    CHECK(r.parabolas[1].c2 == doctest::Approx(1e-6).epsilon(1e-6));
    CHECK(r.parabolas[1].n_opt == doctest::Approx(1e9 * std::exp(2.0)).epsilon(1e-6));  // offset 1
    CHECK(r.parabolas[2].status == ParabolaStatus::used);
    CHECK(r.used == 2);
}

TEST_CASE("every bad argument of approach2 throws std::invalid_argument naming it") {
    const Sweep good = exact_sweep();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto run = [](const Sweep& s) { return approach2(s.view(), s.group, s.budgets); };

    Sweep s = good;
    s.budgets.clear();
    CHECK_THROWS_WITH_AS(run(s), "budgets must hold at least one budget, got none", std::invalid_argument);
    for (double bad : {nan, 0.0, -1e20, std::numeric_limits<double>::infinity()}) {
        s = good;
        s.budgets[2] = bad;
        CHECK_THROWS_WITH_AS(run(s), doctest::Contains("budgets[2] must be finite and > 0"),
                             std::invalid_argument);
    }
    s = good;
    s.budgets[3] = s.budgets[1];
    CHECK_THROWS_WITH_AS(run(s), doctest::Contains("budgets[3] = 1e+19 repeats budgets[1]"),
                         std::invalid_argument);
    s = good;
    s.budgets[3] = s.budgets[1] * (1.0 + 1e-9);  // the same budget, printed to other digits
    CHECK_THROWS_WITH_AS(
        run(s),
        doctest::Contains("budgets[3] = 1.0000000010000001e+19 nearly repeats budgets[1] = 1e+19 "
                          "(relative gap 1.0000000822403709e-09 < 1e-6)"),
        std::invalid_argument);
    s = good;
    s.budgets[3] = s.budgets[1] * (1.0 + 1e-5);  // near, but two budgets: its group is empty
    CHECK_NOTHROW(run(s));
    s = good;
    s.group.pop_back();
    CHECK_THROWS_WITH_AS(run(s), "group must hold one group per run (35), got 34", std::invalid_argument);
    for (int bad : {-2, 5, 1000}) {
        s = good;
        s.group[7] = bad;
        CHECK_THROWS_WITH_AS(run(s),
                             doctest::Contains("group[7] must be -1 (no group) or an index into budgets"),
                             std::invalid_argument);
    }
    s = good;
    s.n[4] = -1.0;
    CHECK_THROWS_WITH_AS(run(s), doctest::Contains("n[4] must be finite and > 0"), std::invalid_argument);
    s = good;
    s.loss[0] = nan;
    CHECK_THROWS_WITH_AS(run(s), doctest::Contains("loss[0] must be finite and > 0"), std::invalid_argument);
    RunsView view = good.view();
    view.d = nullptr;
    CHECK_THROWS_WITH_AS(approach2(view, good.group, good.budgets), "d is a null pointer",
                         std::invalid_argument);
}
