// The bootstrap: the generator against known answers, each resample's refit equal to a fit of the
// resampled runs, thread-count independence, failed resamples as data, argument checks, cancellation.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "random.hpp"
#include "scalinglaw/bootstrap.hpp"
#include "scalinglaw/fit.hpp"
#include "scalinglaw/frontier.hpp"
#include "scalinglaw/isoflop.hpp"

using namespace scalinglaw;

namespace {

constexpr Params epoch{1.82, 482.0, 2085.0, 0.35, 0.37};

struct Runs {
    std::vector<double> n, d, loss;
    std::vector<int> group;  // IsoFLOP budget of each run
    RunsView view() const { return {n.data(), d.data(), loss.data(), n.size()}; }
};

const std::vector<double> isoflop_budgets{6e18, 3e19, 1.6e20, 8e20, 3e21};

/// 5 budgets x 8 sizes around the compute-optimal size, losses off the law by a fixed pattern of
/// log-residuals up to 2e-2, so that resamples move the fit.
Runs noisy_sweep() {
    const double noise[] = {0.012, -0.02, 0.005, 0.018, -0.009, -0.004, 0.015, -0.017, 0.007, 0.0, -0.013};
    Runs runs;
    for (std::size_t g = 0; g < isoflop_budgets.size(); ++g) {
        const double n_opt = compute_optimal(epoch, isoflop_budgets[g]).n;
        for (int s = 0; s < 8; ++s) {
            const double size = n_opt * std::exp(-1.4 + 0.4 * s);
            const double tokens = isoflop_budgets[g] / (6.0 * size);
            runs.n.push_back(size);
            runs.d.push_back(tokens);
            runs.loss.push_back(predict(epoch, size, tokens) * std::exp(noise[runs.n.size() % 11]));
            runs.group.push_back(static_cast<int>(g));
        }
    }
    return runs;
}

bool same(const LogParams& x, const LogParams& y) {
    return x.a == y.a && x.b == y.b && x.e == y.e && x.alpha == y.alpha && x.beta == y.beta;
}

bool same_or_both_nan(double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); }

/// The runs of resample r, copied out.
Runs resampled(const Runs& runs, const std::vector<std::size_t>& indices, std::size_t r) {
    Runs out;
    const std::size_t n = runs.n.size();
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t row = indices[r * n + j];
        out.n.push_back(runs.n[row]);
        out.d.push_back(runs.d[row]);
        out.loss.push_back(runs.loss[row]);
        out.group.push_back(runs.group[row]);
    }
    return out;
}

BootstrapOptions options_with(int threads) {
    BootstrapOptions options;
    options.fit.threads = threads;
    options.budgets = {1e21, 5.76e23};
    options.group = noisy_sweep().group;
    options.group_budgets = isoflop_budgets;
    return options;
}

}  // namespace

TEST_CASE("the generator reproduces its reference outputs") {
    // splitmix64's published test vector (seed 1234567).
    std::uint64_t state = 1234567;
    for (std::uint64_t expected : {6457827717110365317u, 3203168211198807973u, 9817491932198370423u,
                                   4593380528125082431u, 16408922859458223821u})
        CHECK(detail::splitmix64(state) == expected);
    // The outputs below were computed by an independent pure-Python implementation of xoshiro256**
    // and Lemire's bounded integers (the one in tests/test_bootstrap.py).
    detail::Xoshiro256 raw(0);
    for (std::uint64_t expected :
         {11091344671253066420u, 13793997310169335082u, 1900383378846508768u, 7684712102626143532u})
        CHECK(raw.next() == expected);
    // A range just above 2^31 rejects about half of the draws: the rejection path is exercised.
    detail::Xoshiro256 wide(7);
    for (std::uint32_t expected : {2127856246u, 224274149u, 1162578065u, 1571653532u, 2016413269u,
                                   1891612607u, 969416322u, 551254732u})
        CHECK(wide.below(2147483649u) == expected);
    const std::vector<std::size_t> first = bootstrap_indices(240, 1, 42);
    const std::vector<std::size_t> expected{20, 90, 163, 221, 238, 184, 172, 204, 182, 140, 163, 69};
    CHECK(std::equal(expected.begin(), expected.end(), first.begin()));
    const std::vector<std::size_t> last_seed = bootstrap_indices(240, 1, 18446744073709551615u);
    const std::vector<std::size_t> expected_last{134, 184, 121, 179, 136, 175, 88, 184, 150, 147, 61, 10};
    CHECK(std::equal(expected_last.begin(), expected_last.end(), last_seed.begin()));
}

TEST_CASE("bootstrap_indices: deterministic, in range, uniform, resample after resample") {
    const std::vector<std::size_t> a = bootstrap_indices(240, 500, 2024);
    CHECK(a.size() == 240 * 500);
    CHECK(a == bootstrap_indices(240, 500, 2024));
    CHECK(a != bootstrap_indices(240, 500, 2025));
    // More resamples extend the sequence: the first resamples do not depend on how many follow.
    const std::vector<std::size_t> fewer = bootstrap_indices(240, 7, 2024);
    CHECK(std::equal(fewer.begin(), fewer.end(), a.begin()));
    // Uniform: Pearson's chi-square over the 240 runs (239 degrees of freedom; mean 239, sd 21.9).
    std::vector<double> counts(240, 0.0);
    for (std::size_t i : a) {
        REQUIRE(i < 240);
        counts[i] += 1.0;
    }
    double chi2 = 0.0;
    for (double c : counts) chi2 += (c - 500.0) * (c - 500.0) / 500.0;
    CHECK(chi2 > 239.0 - 6 * 21.9);
    CHECK(chi2 < 239.0 + 6 * 21.9);
    CHECK(bootstrap_indices(1, 3, 9) == std::vector<std::size_t>{0, 0, 0});
}

TEST_CASE("resample_indices: each resample on its own, in any order; groups drawn whole") {
    const std::vector<std::size_t> table = bootstrap_indices(240, 500, 2024);
    const Resampling seeded{500, 2024, {}};
    for (std::size_t r : {std::size_t{499}, std::size_t{0}, std::size_t{250}}) {
        const std::vector<std::size_t> row = resample_indices(240, seeded, r);
        CHECK(std::equal(row.begin(), row.end(), table.begin() + static_cast<std::ptrdiff_t>(r * 240)));
    }
    // One run per group, numbered as the runs: the ungrouped resamples.
    std::vector<std::size_t> identity(240);
    for (std::size_t i = 0; i < 240; ++i) identity[i] = i;
    CHECK(resample_indices(240, {500, 2024, identity}, 7) == resample_indices(240, seeded, 7));
    // Groups of 2, 3 and 1 runs (in mixed order): each resample is 3 whole groups, runs in input order.
    const std::vector<std::size_t> groups{1, 0, 1, 2, 1, 0};
    const std::vector<std::vector<std::size_t>> members{{1, 5}, {0, 2, 4}, {3}};
    std::size_t lengths = 0;
    for (std::size_t r = 0; r < 50; ++r) {
        const std::vector<std::size_t> rows = resample_indices(6, {50, 9, groups}, r);
        std::size_t at = 0, drawn = 0;
        while (at < rows.size()) {
            const std::vector<std::size_t>& group = members[groups[rows[at]]];
            REQUIRE(at + group.size() <= rows.size());
            CHECK(std::equal(group.begin(), group.end(), rows.begin() + static_cast<std::ptrdiff_t>(at)));
            at += group.size();
            ++drawn;
        }
        CHECK(drawn == 3);
        lengths |= std::size_t{1} << rows.size();
    }
    CHECK(lengths != (std::size_t{1} << 6));  // lengths vary with the groups drawn
    CHECK_THROWS_WITH_AS(resample_indices(6, {50, 9, {0, 0, 1}}, 0),
                         "groups must hold one group per run (6), got 3", std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {50, 9, {0, 0, 2}}, 0),
                         doctest::Contains("no run is in group 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {50, 9, {0, 0, 3}}, 0),
                         "groups[2] must be a group number below the 3 runs, got 3", std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {50, 9, {1, 1, 1}}, 0),
                         doctest::Contains("no run is in group 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {50, 9, {0, 0, 0}}, 0),
                         "groups must hold at least 2 groups to resample, got 1", std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {50, 9, {}}, 50),
                         "resample must be below the 50 resamples, got 50", std::invalid_argument);
    CHECK_THROWS_WITH_AS(resample_indices(3, {0, 9, {}}, 0), "resamples must be >= 1, got 0",
                         std::invalid_argument);
}

TEST_CASE("each resample's refit is the fit of its runs, with their frontier and Approach 2") {
    const Runs runs = noisy_sweep();
    const FitResult full = fit_chinchilla(runs.n, runs.d, runs.loss);
    REQUIRE(full.status == FitStatus::converged);
    const std::vector<LogParams> starts = bootstrap_starts(full.log_params);
    REQUIRE(starts.size() == 3);
    CHECK(same(starts[0], full.log_params));
    const std::size_t count = 6;
    std::vector<std::size_t> indices = bootstrap_indices(runs.n.size(), count, 11);
    // Resample 0 is the data itself: its refit is the full-data fit from the same starts.
    for (std::size_t j = 0; j < runs.n.size(); ++j) indices[j] = j;
    const BootstrapOptions options = options_with(2);
    const BootstrapResult r = bootstrap(runs.view(), indices, starts, options);
    REQUIRE(r.resamples == count);
    REQUIRE(r.budgets == 2);
    REQUIRE(r.optimal.size() == count * 2);
    REQUIRE(r.approach2_a.size() == count);

    FitOptions one_thread;
    one_thread.threads = 1;
    for (std::size_t k = 0; k < count; ++k) {
        CAPTURE(k);
        const Runs sample = resampled(runs, indices, k);
        const FitResult fit = fit_chinchilla(sample.view(), starts, one_thread);
        CHECK(same(r.log_params[k], fit.log_params));
        CHECK(r.objective[k] == fit.objective);
        CHECK(r.status[k] == fit.status);
        CHECK(r.iterations[k] == fit.iterations);
        CHECK(r.best_start[k] == fit.best_start);
        CHECK(r.starts_at_best[k] == fit.starts_at_best);
        CHECK(r.params[k].A == fit.params.A);
        CHECK(r.status[k] == FitStatus::converged);
        const FrontierCoefficients f = frontier_coefficients(fit.params);
        CHECK(r.frontier[k].a == f.a);
        CHECK(r.frontier[k].G == f.G);
        for (std::size_t b = 0; b < 2; ++b) {
            const Allocation plan = compute_optimal(fit.params, options.budgets[b]);
            const Allocation& got = r.optimal[k * 2 + b];
            CHECK(got.flops == options.budgets[b]);
            CHECK(got.n == plan.n);
            CHECK(got.d == plan.d);
            CHECK(got.tokens_per_parameter == plan.tokens_per_parameter);
        }
        const Approach2Result a2 = approach2(sample.view(), sample.group, isoflop_budgets);
        CHECK(same_or_both_nan(r.approach2_a[k], a2.a));
        CHECK(same_or_both_nan(r.approach2_b[k], a2.b));
        CHECK(r.approach2_used[k] == a2.used);
    }
    // The same optimum (the full fit came from other starts): the objective to rounding; the
    // parameters as far as the flat valleys along a-alpha and b-beta determine them.
    CHECK(r.objective[0] == doctest::Approx(full.objective).epsilon(1e-12));
    CHECK(r.log_params[0].alpha == doctest::Approx(full.log_params.alpha).epsilon(1e-6));
    CHECK(r.log_params[0].b == doctest::Approx(full.log_params.b).epsilon(1e-5));
    // Resamples differ from each other and from the data.
    CHECK(r.log_params[1].alpha != r.log_params[2].alpha);
    CHECK(r.log_params[1].alpha != full.log_params.alpha);
}

TEST_CASE("one thread and four threads give bit-identical bootstraps") {
    const Runs runs = noisy_sweep();
    const std::vector<std::size_t> indices = bootstrap_indices(runs.n.size(), 24, 5);
    const std::vector<LogParams> starts = bootstrap_starts(to_log(epoch));
    const BootstrapResult x = bootstrap(runs.view(), indices, starts, options_with(1));
    const BootstrapResult y = bootstrap(runs.view(), indices, starts, options_with(4));
    for (std::size_t k = 0; k < 24; ++k) {
        CAPTURE(k);
        CHECK(same(x.log_params[k], y.log_params[k]));
        CHECK(x.objective[k] == y.objective[k]);
        CHECK(x.iterations[k] == y.iterations[k]);
        CHECK(x.best_start[k] == y.best_start[k]);
        CHECK(x.frontier[k].G == y.frontier[k].G);
        CHECK(x.optimal[2 * k + 1].n == y.optimal[2 * k + 1].n);
        CHECK(same_or_both_nan(x.approach2_a[k], y.approach2_a[k]));
    }
}

TEST_CASE("the convenience overload is the fit, the seeded resamples and the default starts") {
    const Runs runs = noisy_sweep();
    BootstrapOptions options;
    options.budgets = {5.76e23};
    const BootstrapResult quick = bootstrap(runs.view(), 5, 77, options);
    const FitResult full = fit_chinchilla(runs.n, runs.d, runs.loss);
    const BootstrapResult manual = bootstrap(runs.view(), bootstrap_indices(runs.n.size(), 5, 77),
                                             bootstrap_starts(full.log_params), options);
    for (std::size_t k = 0; k < 5; ++k) {
        CHECK(same(quick.log_params[k], manual.log_params[k]));
        CHECK(quick.optimal[k].n == manual.optimal[k].n);
    }
    CHECK(quick.approach2_a.empty());  // no groups given: no Approach 2
}

TEST_CASE("drawn resamples equal the same table; the progress counter counts starts and resamples") {
    const Runs runs = noisy_sweep();
    const FitResult full = fit_chinchilla(runs.n, runs.d, runs.loss);
    const std::vector<LogParams> starts = bootstrap_starts(full.log_params);
    BootstrapOptions options = options_with(2);
    std::atomic<std::size_t> done{0};
    options.fit.progress = &done;
    const BootstrapResult drawn = bootstrap(runs.view(), Resampling{9, 31, {}}, starts, options);
    CHECK(done.load() == 9);
    options.fit.progress = nullptr;
    const BootstrapResult table =
        bootstrap(runs.view(), bootstrap_indices(runs.n.size(), 9, 31), starts, options);
    for (std::size_t k = 0; k < 9; ++k) {
        CHECK(same(drawn.log_params[k], table.log_params[k]));
        CHECK(drawn.objective[k] == table.objective[k]);
    }
    FitOptions counted;
    counted.progress = &done;
    done = 0;
    fit_chinchilla(runs.view(), default_starts(), counted);
    CHECK(done.load() == default_starts().size());
}

TEST_CASE("a resample whose every start fails is reported, not thrown") {
    const Runs runs = noisy_sweep();
    const LogParams overflowing{0, 0, 0, 1e307, 0};
    const std::vector<std::size_t> indices = bootstrap_indices(runs.n.size(), 2, 3);
    const BootstrapResult r = bootstrap(runs.view(), indices, {overflowing}, options_with(1));
    for (std::size_t k = 0; k < 2; ++k) {
        CHECK(r.status[k] == FitStatus::numerical_failure);
        CHECK(std::isnan(r.log_params[k].alpha));
        CHECK(std::isnan(r.params[k].E));
        CHECK(std::isnan(r.frontier[k].a));
        CHECK(std::isnan(r.optimal[2 * k].n));
        CHECK(r.optimal[2 * k].flops == 1e21);
        CHECK(r.starts_at_best[k] == 0);
        CHECK(std::isfinite(r.approach2_a[k]));  // Approach 2 does not depend on the refit
    }
    // A failed start never beats one that converged.
    const BootstrapResult mixed =
        bootstrap(runs.view(), indices, {overflowing, to_log(epoch)}, options_with(1));
    CHECK(mixed.status[0] == FitStatus::converged);
    CHECK(mixed.best_start[0] == 1);
}

TEST_CASE("every bad argument of the bootstrap throws std::invalid_argument naming it") {
    const Runs runs = noisy_sweep();
    const std::size_t n = runs.n.size();
    const std::vector<LogParams> starts{to_log(epoch)};
    const std::vector<std::size_t> good = bootstrap_indices(n, 2, 1);
    auto run = [&](const std::vector<std::size_t>& indices, const BootstrapOptions& options) {
        return bootstrap(runs.view(), indices, starts, options);
    };
    const BootstrapOptions defaults;

    CHECK_THROWS_WITH_AS(run({}, defaults), "indices must hold at least one resample, got none",
                         std::invalid_argument);
    std::vector<std::size_t> indices(good.begin(), good.end() - 1);
    CHECK_THROWS_WITH_AS(run(indices, defaults), doctest::Contains("whole resamples of 40 draws"),
                         std::invalid_argument);
    indices = good;
    indices[n + 3] = n;
    CHECK_THROWS_WITH_AS(run(indices, defaults),
                         "indices[43] (resample 1, draw 3) must be a run index below 40, got 40",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(bootstrap(runs.view(), good, {}, defaults), doctest::Contains("starts must hold"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        bootstrap(runs.view(), good, {LogParams{0, 0, std::numeric_limits<double>::quiet_NaN(), 0, 0}}),
        doctest::Contains("starts[0].e must be finite"), std::invalid_argument);
    RunsView few = runs.view();
    few.size = 4;
    CHECK_THROWS_WITH_AS(bootstrap(few, std::vector<std::size_t>(4, 0), starts),
                         doctest::Contains("at least 5 runs"), std::invalid_argument);

    BootstrapOptions options;
    options.fit.threads = -1;
    CHECK_THROWS_WITH_AS(run(good, options), doctest::Contains("threads must be >= 0"),
                         std::invalid_argument);
    options = {};
    options.fit.huber_delta = 0.0;
    CHECK_THROWS_WITH_AS(run(good, options), doctest::Contains("huber_delta"), std::invalid_argument);
    options = {};
    options.budgets = {1e20, -5.0};
    CHECK_THROWS_WITH_AS(run(good, options), doctest::Contains("budgets[1] must be finite and > 0"),
                         std::invalid_argument);
    options = {};
    options.group_budgets = isoflop_budgets;  // but no groups
    CHECK_THROWS_WITH_AS(run(good, options), "group must hold one group per run (40), got 0",
                         std::invalid_argument);
    options = options_with(1);
    options.group[0] = 9;
    CHECK_THROWS_WITH_AS(run(good, options), doctest::Contains("group[0] must be -1 (no group) or an index"),
                         std::invalid_argument);
    options = options_with(1);
    options.group_budgets.clear();
    CHECK_THROWS_WITH_AS(run(good, options), doctest::Contains("group_budgets must hold at least one"),
                         std::invalid_argument);

    CHECK_THROWS_WITH_AS(bootstrap_indices(0, 5, 1), doctest::Contains("n_runs must be between 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(bootstrap_indices(10, 0, 1), "n_resamples must be >= 1, got 0",
                         std::invalid_argument);
    if (std::numeric_limits<std::size_t>::max() > std::numeric_limits<std::uint32_t>::max())
        CHECK_THROWS_WITH_AS(bootstrap_indices(std::size_t{1} << 32, 1, 1),
                             doctest::Contains("n_runs must be between 1 and 2^32 - 1"),
                             std::invalid_argument);
    CHECK_THROWS_WITH_AS(bootstrap_indices(1000, std::numeric_limits<std::size_t>::max() / 10, 1),
                         doctest::Contains("must fit in memory"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(bootstrap_starts({0, 0, 0, std::numeric_limits<double>::infinity(), 0}),
                         "optimum.alpha must be finite, got inf", std::invalid_argument);
}

TEST_CASE("requests larger than the machine's memory are refused before allocating (issue 17)") {
    // 2^40 resamples of 240 runs: a 2 PB index table, on any machine
    CHECK_THROWS_WITH_AS(
        bootstrap_indices(240, std::size_t{1} << 40, 1),
        doctest::Contains("the index table of 1099511627776 resamples of 240 runs needs 2.11 PB"),
        std::invalid_argument);
    // 10^6 resamples (40 MB of indices) at 10^6 budgets (8 MB): 4e13 bytes of allocations
    const Runs runs = noisy_sweep();
    const std::vector<std::size_t> indices(runs.n.size() * 1000000, 0);
    BootstrapOptions options;
    options.budgets.assign(1000000, 1e21);
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(bootstrap(runs.view(), indices, {to_log(epoch)}, options),
                         doctest::Contains("the results of 1000000 resamples at 1000000 budgets needs 4"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        bootstrap(LawKind::chinchilla, runs.view(), indices, {{0.6, 6.2, 7.6, 0.35, 0.37}}, {}, options),
        doctest::Contains("the results of 1000000 resamples at 1000000 budgets needs 4"),
        std::invalid_argument);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));  // before any refit
}

TEST_CASE("cancelling from another thread stops a long bootstrap with scalinglaw::cancelled") {
    // 4000 resamples from 90 starts each take many seconds; the flag is raised after 50 ms.
    const Runs runs = noisy_sweep();
    std::vector<LogParams> starts;
    const std::vector<LogParams> grid = default_starts();
    for (std::size_t i = 0; i < grid.size(); i += 50) starts.push_back(grid[i]);
    std::atomic<bool> cancel{false};
    BootstrapOptions options;
    options.fit.threads = 2;
    options.fit.cancel = &cancel;
    std::thread raiser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        cancel = true;
    });
    const auto begin = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(bootstrap(runs.view(), bootstrap_indices(runs.n.size(), 4000, 1), starts, options),
                    cancelled);
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    raiser.join();
    CHECK(elapsed < std::chrono::seconds(2));
}
