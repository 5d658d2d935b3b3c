// Grids against predict() cell by cell, any thread count giving the same bits, bad arguments throwing.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "scalinglaw/grid.hpp"

using scalinglaw::Params;

namespace {

const Params chinchilla{1.69, 406.4, 410.7, 0.34, 0.28};

std::vector<double> geomspace(double first, double last, std::size_t count) {
    std::vector<double> v(count);
    for (std::size_t k = 0; k < count; ++k)
        v[k] = first * std::pow(last / first, static_cast<double>(k) / static_cast<double>(count - 1));
    return v;
}

// Largest |a - b| / |b| over two arrays of equal length.
double max_relative_error(const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]) / b[k]);
    return worst;
}

// The same grid by the textbook formula, one cell at a time: L(N, C / (6N)).
std::vector<double> budget_reference(const Params& p, const std::vector<double>& n,
                                     const std::vector<double>& c) {
    std::vector<double> out;
    for (double ni : n)
        for (double cj : c) out.push_back(scalinglaw::predict(p, ni, cj / (6.0 * ni)));
    return out;
}

template <class T>
std::vector<T> budget_grid(const Params& p, const std::vector<double>& n, const std::vector<double>& c,
                           int threads) {
    std::vector<T> out(n.size() * c.size());
    scalinglaw::loss_grid(p, n.data(), n.size(), c.data(), c.size(), out.data(), threads);
    return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("loss_grid_nd equals predict() cell by cell, row-major with rows along N") {
    const auto n = geomspace(1e7, 1e12, 37);
    const auto d = geomspace(1e9, 1e14, 53);
    std::vector<double> grid(n.size() * d.size());
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), d.data(), d.size(), grid.data());
    for (std::size_t i = 0; i < n.size(); ++i)
        for (std::size_t j = 0; j < d.size(); ++j)
            CHECK(grid[i * d.size() + j] == scalinglaw::predict(chinchilla, n[i], d[j]));
}

TEST_CASE("loss_grid over FLOPs equals predict() at D = C / 6N to rounding") {
    const auto n = geomspace(1e3, 1e15, 61);
    const auto c = geomspace(1e10, 1e30, 47);
    CHECK(max_relative_error(budget_grid<double>(chinchilla, n, c, 0), budget_reference(chinchilla, n, c)) <
          1e-14);
    // Exponents whose factors leave double range unless scaled (beta = 15), and ones that cannot be
    // split at all (beta = 40, computed per cell): both still match the formula where it is finite.
    for (double beta : {15.0, 40.0}) {
        const Params steep{1.69, 406.4, 410.7, 0.34, beta};
        const auto grid = budget_grid<double>(steep, n, c, 0);
        const auto reference = budget_reference(steep, n, c);
        for (std::size_t k = 0; k < grid.size(); ++k)
            if (std::isfinite(reference[k])) CHECK(grid[k] == doctest::Approx(reference[k]).epsilon(1e-13));
    }
}

TEST_CASE("a cell is finite wherever its loss is, even where 6N or D = C / 6N is not a double") {
    // L = 1 + 1 + D^-beta, computed here in logs: D = C / (6N) = 5.6e-309 or 3.3e602.
    struct Case {
        double n, c, beta;
    };
    for (const Case& k : {Case{3e307, 1.0, 0.5}, Case{5e-324, 1e280, -0.5}}) {
        CAPTURE(k.n);
        const Params p{1.0, 1.0, 1.0, 0.0, k.beta};
        double cell = 0.0;
        scalinglaw::loss_grid(p, &k.n, 1, &k.c, 1, &cell);
        const double expected = 2.0 + std::exp(-k.beta * (std::log(k.c) - std::log(6.0) - std::log(k.n)));
        CHECK(std::isfinite(expected));
        CHECK(cell == doctest::Approx(expected).epsilon(1e-12));
    }
}

TEST_CASE("a loss beyond the output type's range throws, naming its cell, before any cell is written") {
    const Params huge{1.82, 1e306, 2085.43, 3.0, 0.37};  // A / N^alpha = 1e309 at N = 0.1
    const std::vector<double> n{1e9, 0.1}, c{6e19, 6e21}, d{1e10, 1e11};
    std::vector<double> out(4, -1.0);
    CHECK_THROWS_WITH_AS(scalinglaw::loss_grid(huge, n.data(), 2, c.data(), 2, out.data()),
                         doctest::Contains("the loss at N = 0.1, C = 6e+19 exceeds the largest float64"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(scalinglaw::loss_grid_nd(huge, n.data(), 2, d.data(), 2, out.data()),
                         doctest::Contains("N = 0.1, D = 1e+10 exceeds"), std::invalid_argument);
    CHECK(out == std::vector<double>(4, -1.0));
    CHECK_THROWS_WITH_AS(scalinglaw::predict(huge, n.data(), d.data(), 2, out.data()),
                         doctest::Contains("N = 0.1, D = 1e+11"), std::invalid_argument);
    // float: 1e36 * 0.1^-3 = 1e39 exceeds the largest float, not the largest double.
    const Params large{1.82, 1e36, 2085.43, 3.0, 0.37};
    std::vector<float> out32(4, -1.0f);
    CHECK_THROWS_WITH_AS(scalinglaw::loss_grid(large, n.data(), 2, c.data(), 2, out32.data()),
                         doctest::Contains("exceeds the largest float32 (3.40282e+38)"),
                         std::invalid_argument);
    CHECK(out32 == std::vector<float>(4, -1.0f));
    scalinglaw::loss_grid(large, n.data(), 2, c.data(), 2, out.data());  // fine in double
    CHECK(out[2] == doctest::Approx(1e39).epsilon(1e-12));
}

TEST_CASE("the array predict() equals the scalar one") {
    const auto n = geomspace(1e6, 1e13, 1000);
    const auto d = geomspace(1e15, 1e8, 1000);
    std::vector<double> out(n.size());
    scalinglaw::predict(chinchilla, n.data(), d.data(), n.size(), out.data(), 2);
    for (std::size_t k = 0; k < n.size(); ++k) CHECK(out[k] == scalinglaw::predict(chinchilla, n[k], d[k]));
}

TEST_CASE("1 thread and 4 threads give identical grids; float cells are the double cells rounded") {
    // 300 x 1001 cells: several blocks, block edges in the middle of rows.
    const auto n = geomspace(1e5, 1e13, 300);
    const auto c = geomspace(1e15, 1e27, 1001);
    const auto one = budget_grid<double>(chinchilla, n, c, 1);
    CHECK(same_bits(one, budget_grid<double>(chinchilla, n, c, 4)));
    const auto single = budget_grid<float>(chinchilla, n, c, 1);
    CHECK(same_bits(single, budget_grid<float>(chinchilla, n, c, 4)));
    for (std::size_t k = 0; k < one.size(); ++k) REQUIRE(single[k] == static_cast<float>(one[k]));

    const Params steep{1.69, 406.4, 410.7, 0.34, 40.0};  // the per-cell path
    CHECK(same_bits(budget_grid<double>(steep, n, c, 1), budget_grid<double>(steep, n, c, 4)));

    std::vector<double> nd1(n.size() * c.size()), nd4(nd1.size()), p1(n.size()), p4(n.size());
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), c.data(), c.size(), nd1.data(), 1);
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), c.data(), c.size(), nd4.data(), 4);
    CHECK(same_bits(nd1, nd4));
    scalinglaw::predict(chinchilla, n.data(), c.data(), n.size(), p1.data(), 1);
    scalinglaw::predict(chinchilla, n.data(), c.data(), n.size(), p4.data(), 4);
    CHECK(same_bits(p1, p4));
}

TEST_CASE("large grids, written with streaming stores from any alignment, keep the same values") {
    // 1501 x 3001 cells: 36 MB of doubles, 18 MB of floats, both above the streaming threshold; odd
    // row lengths and an output starting one element past an allocation vary the alignment.
    const auto n = geomspace(1e6, 1e12, 1501);
    const auto d = geomspace(1e8, 1e14, 3001);
    const std::size_t cells = n.size() * d.size();
    std::vector<double> one(cells + 1), two(cells + 1);
    std::vector<float> single(cells + 1);
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), d.data(), d.size(), one.data() + 1, 1);
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), d.data(), d.size(), two.data(), 2);
    scalinglaw::loss_grid_nd(chinchilla, n.data(), n.size(), d.data(), d.size(), single.data() + 1, 2);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < n.size(); ++i)
        for (std::size_t j = 0; j < d.size(); ++j) {
            const std::size_t k = i * d.size() + j;
            const double expected = scalinglaw::predict(chinchilla, n[i], d[j]);
            mismatches +=
                one[k + 1] != expected || two[k] != expected || single[k + 1] != static_cast<float>(expected);
        }
    CHECK(mismatches == 0);
}

TEST_CASE("bad arguments throw std::invalid_argument; a raised cancel flag throws cancelled") {
    const std::vector<double> n{1e8, 1e9}, c{1e20, 1e21, 1e22};
    std::vector<double> out(6);
    auto grid = [&](const Params& p, const std::vector<double>& n_axis, const std::vector<double>& c_axis,
                    int threads = 0) {
        scalinglaw::loss_grid(p, n_axis.data(), n_axis.size(), c_axis.data(), c_axis.size(), out.data(),
                              threads);
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(grid(chinchilla, {1e8, 0.0}, c), "n_axis[1] must be finite and > 0, got 0",
                         std::invalid_argument);
    CHECK_THROWS_AS(grid(chinchilla, {-1e8, 1e9}, c), std::invalid_argument);
    CHECK_THROWS_AS(grid(chinchilla, n, {1e20, nan, 1e22}), std::invalid_argument);
    CHECK_THROWS_AS(grid(chinchilla, n, {1e20, 1e21, inf}), std::invalid_argument);
    CHECK_THROWS_WITH_AS(grid(chinchilla, n, c, -1), "threads must be >= 0 (0 = all cores), got -1",
                         std::invalid_argument);
    CHECK_THROWS_AS(grid({0.0, 406.4, 410.7, 0.34, 0.28}, n, c), std::invalid_argument);
    CHECK_THROWS_AS(grid({1.69, -1.0, 410.7, 0.34, 0.28}, n, c), std::invalid_argument);
    CHECK_THROWS_AS(grid({1.69, 406.4, 410.7, nan, 0.28}, n, c), std::invalid_argument);
    CHECK_THROWS_AS(grid({1.69, 406.4, 410.7, 0.34, inf}, n, c), std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        scalinglaw::loss_grid(chinchilla, n.data(), 2, c.data(), 3, static_cast<double*>(nullptr)),
        "out is a null pointer", std::invalid_argument);
    CHECK_THROWS_AS(scalinglaw::loss_grid_nd(chinchilla, nullptr, 2, c.data(), 3, out.data()),
                    std::invalid_argument);
    // Cell counts that overflow std::size_t are refused before any axis value is read.
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    CHECK_THROWS_AS(scalinglaw::loss_grid_nd(chinchilla, n.data(), huge, c.data(), 3, out.data()),
                    std::invalid_argument);
    CHECK_THROWS_AS(scalinglaw::predict(chinchilla, n.data(), c.data(), 2, nullptr), std::invalid_argument);
    CHECK_NOTHROW(scalinglaw::loss_grid(chinchilla, nullptr, 0, c.data(), 3,
                                        static_cast<double*>(nullptr)));  // an empty grid

    std::atomic<bool> cancel{true};
    CHECK_THROWS_AS(scalinglaw::loss_grid(chinchilla, n.data(), 2, c.data(), 3, out.data(), 0, &cancel),
                    scalinglaw::cancelled);
}
