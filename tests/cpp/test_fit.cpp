// The fit: the solver's derivatives against finite differences, recovery of known parameters, every
// status, thread-count independence, argument checks, and exceptions or cancellation in the workers.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parallel.hpp"
#include "scalinglaw/fit.hpp"
#include "scalinglaw/huber.hpp"
#include "scalinglaw/laws.hpp"
#include "solver.hpp"

using namespace scalinglaw;

namespace {

constexpr Params paper{1.69, 406.4, 410.7, 0.34, 0.28};   // Hoffmann et al.'s fit
constexpr Params epoch{1.82, 482.0, 2085.0, 0.35, 0.37};  // Besiroglu et al.'s refit

struct Runs {
    std::vector<double> n, d, loss;
    RunsView view() const { return {n.data(), d.data(), loss.data(), n.size()}; }
};

/// Runs on an IsoFLOP-like grid: every size at every budget, D = C / (6 N). Run i's loss is the law's
/// times exp(noise[i % noise.size()]), so at the true parameters the residuals are exactly -noise.
Runs synthetic_runs(const Params& p, const std::vector<double>& noise = {0.0}) {
    Runs runs;
    for (int c = 0; c < 9; ++c)
        for (int s = 0; s < 12; ++s) {
            const double size = 7e7 * std::pow(1.6e10 / 7e7, s / 11.0);
            const double budget = 6e18 * std::pow(3e21 / 6e18, c / 8.0);
            const double tokens = budget / (6.0 * size);
            const double noise_i = noise[runs.n.size() % noise.size()];
            runs.n.push_back(size);
            runs.d.push_back(tokens);
            runs.loss.push_back(predict(p, size, tokens) * std::exp(noise_i));
        }
    return runs;
}

// Log-residuals of size 3e-4 to 4e-3: some inside delta = 1e-3, some beyond, none near it.
const std::vector<double> noise{3e-4, -2e-3, 5e-4, 4e-3, -3e-4, -5e-4, 2.5e-3, -4e-3, 7e-4, -1.5e-3, 0};

std::array<double, 5> solver_coordinates(const detail::Problem& problem, const LogParams& q) {
    return {q.a - q.alpha * problem.center_n, q.b - q.beta * problem.center_d, q.e, q.alpha, q.beta};
}

std::array<double, 5> moved(std::array<double, 5> x, std::size_t j, double h) {
    x[j] += h;
    return x;
}

/// Every 90th of the default starts: 50 starts across the whole grid.
std::vector<LogParams> some_starts() {
    std::vector<LogParams> starts;
    const std::vector<LogParams> all = default_starts();
    for (std::size_t i = 0; i < all.size(); i += 90) starts.push_back(all[i]);
    return starts;
}

}  // namespace

TEST_CASE("the solver's residuals and objective are the law's") {
    const Runs runs = synthetic_runs(paper, noise);
    const double delta = 1e-3;
    const detail::Problem problem = detail::make_problem(runs.view(), delta);
    const Params p{1.75, 380.0, 520.0, 0.33, 0.3};
    const detail::PointDerivatives at =
        detail::derivatives_at(problem, solver_coordinates(problem, to_log(p)));
    double sum = 0.0;
    for (std::size_t i = 0; i < runs.n.size(); ++i) {
        const double r = std::log(predict(p, runs.n[i], runs.d[i])) - std::log(runs.loss[i]);
        CHECK(at.residuals[i] == doctest::Approx(r).epsilon(1e-12));
        sum += huber(r, delta);
    }
    CHECK(at.objective == doctest::Approx(sum).epsilon(1e-12));
    CHECK(objective(runs.view(), to_log(p), delta) == doctest::Approx(sum).epsilon(1e-12));
}

TEST_CASE("the Jacobian, gradient and Hessian match central differences") {
    const Runs runs = synthetic_runs(paper, noise);
    const double delta = 1e-3;
    const detail::Problem problem = detail::make_problem(runs.view(), delta);
    const double h = 1e-6;
    // At the truth (residuals on both sides of delta) and away from it (all beyond delta).
    for (const Params& p : {paper, Params{1.6, 300.0, 500.0, 0.32, 0.3}}) {
        CAPTURE(p.E);
        const std::array<double, 5> x = solver_coordinates(problem, to_log(p));
        const detail::PointDerivatives at = detail::derivatives_at(problem, x);
        // Central differences are exact to O(h^2) only where no residual crosses a Huber kink.
        for (double r : at.residuals) REQUIRE(std::abs(std::abs(r) - delta) > 100 * h);

        for (std::size_t j = 0; j < 5; ++j) {
            CAPTURE(j);
            const detail::PointDerivatives up = detail::derivatives_at(problem, moved(x, j, h));
            const detail::PointDerivatives down = detail::derivatives_at(problem, moved(x, j, -h));
            for (std::size_t i = 0; i < runs.n.size(); ++i) {
                const double numeric = (up.residuals[i] - down.residuals[i]) / (2 * h);
                CHECK(at.jacobian[i][j] == doctest::Approx(numeric).epsilon(1e-8).scale(1.0));
            }
            const double gradient_scale = std::abs(at.gradient[0]) + std::abs(at.gradient[3]) + 1e-3;
            CHECK(at.gradient[j] == doctest::Approx((up.objective - down.objective) / (2 * h))
                                        .epsilon(1e-7)
                                        .scale(gradient_scale));
            for (std::size_t k = 0; k < 5; ++k) {
                const double numeric = (up.gradient[k] - down.gradient[k]) / (2 * h);
                CHECK(at.hessian[5 * k + j] == doctest::Approx(numeric).epsilon(1e-7).scale(1.0));
            }
        }
    }
}

TEST_CASE("the fit recovers known parameters from noise-free runs") {
    for (const Params& p : {paper, epoch}) {
        CAPTURE(p.B);
        const Runs runs = synthetic_runs(p);
        const FitResult fit = fit_chinchilla(runs.n, runs.d, runs.loss, some_starts());
        CHECK(fit.status == FitStatus::converged);
        CHECK(fit.objective < 1e-20);
        CHECK(fit.params.E == doctest::Approx(p.E).epsilon(1e-7));
        CHECK(fit.params.A == doctest::Approx(p.A).epsilon(1e-6));
        CHECK(fit.params.B == doctest::Approx(p.B).epsilon(1e-6));
        CHECK(fit.params.alpha == doctest::Approx(p.alpha).epsilon(1e-7));
        CHECK(fit.params.beta == doctest::Approx(p.beta).epsilon(1e-7));
        CHECK(fit.starts.size() == 50);
        // The result describes its best start.
        const StartOutcome& best = fit.starts[fit.best_start];
        CHECK(best.objective == fit.objective);
        CHECK(best.iterations == fit.iterations);
        CHECK(fit.message.find("converged") == 0);
        // The best is chosen by the solver's running objectives; the result reports the best's evaluated
        // at its parameters, so another start may lie below it by the running value's rounding noise.
        for (const StartOutcome& o : fit.starts)
            if (o.status != FitStatus::numerical_failure) CHECK(o.objective >= fit.objective - 1e-15);
    }
}

TEST_CASE("the reported objective is the objective at the returned parameters (issue 17)") {
    // Near a perfect fit the solver's running objective is cancellation noise: it once came out
    // negative (all losses equal) or twice the objective at the parameters (noise-free runs).
    const Runs exact = synthetic_runs(paper);
    Runs flat = exact;
    std::fill(flat.loss.begin(), flat.loss.end(), 2.0);
    for (const Runs* runs : {&exact, static_cast<const Runs*>(&flat)}) {
        const FitResult chinchilla = fit_chinchilla(runs->view(), some_starts());
        CHECK(chinchilla.objective >= 0.0);
        CHECK(chinchilla.objective == objective(runs->view(), chinchilla.log_params));
        CHECK(chinchilla.starts[chinchilla.best_start].objective == chinchilla.objective);
        // the law family's entry points: the Chinchilla fast path and the generic solver (weights)
        std::vector<std::vector<double>> starts;
        for (const LogParams& q : some_starts()) starts.push_back({q.e, q.a, q.b, q.alpha, q.beta});
        const std::vector<double> weight(runs->n.size(), 1.0);
        RunsView weighted = runs->view();
        weighted.weight = weight.data();
        ParameterMap tied;  // (the constrained fast path where weights are absent)
        tied.tied = {{"alpha", "beta"}};
        for (const auto& [view, map] : {std::pair{runs->view(), ParameterMap{}},
                                        std::pair{weighted, ParameterMap{}}, std::pair{runs->view(), tied}}) {
            const LawFitResult r = fit(LawKind::chinchilla, view, starts, map);
            CHECK(r.objective >= 0.0);
            CHECK(r.starts[r.best_start].objective == r.objective);
            // objective() takes the natural parameters, whose logs may differ from the solver's in the last
            // digit: the same to that rounding (a log-residual moves by ~1e-15, f by delta times that).
            const double f = objective(LawKind::chinchilla, view, r.params);
            CHECK(std::abs(f - r.objective) <= 1e-12 * 1e-3 * static_cast<double>(view.size) + 1e-9 * f);
        }
    }
}

TEST_CASE("the result reports the optimum's conditioning and each term's share") {
    // Well determined: every term matters and the Hessian is positive definite.
    const Runs runs = synthetic_runs(epoch, noise);
    const FitResult good = fit_chinchilla(runs.view(), some_starts());
    CHECK(good.hessian_condition > 1.0);
    CHECK(good.hessian_condition < 1e8);
    for (double share : good.largest_share) {
        CHECK(share > 0.01);
        CHECK(share <= 1.0);
    }
    // The loss does not depend on D: every exact optimum is degenerate, with B / D^beta vanished (a
    // boundary of the law) or with beta = 0 and B merged into E (rounding decides which a start
    // reaches). Either way some direction is flat: the Hessian is not well conditioned.
    Runs flat = runs;
    for (std::size_t i = 0; i < flat.n.size(); ++i)
        flat.loss[i] = epoch.E + epoch.A * std::pow(flat.n[i], -epoch.alpha);
    const FitResult boundary = fit_chinchilla(flat.view(), some_starts());
    CHECK((boundary.largest_share[1] < 1e-6 || boundary.params.beta <= 1e-6));
    CHECK(boundary.largest_share[0] > 0.01);
    CHECK(!(boundary.hessian_condition < 1e8));
}

TEST_CASE("every status is reachable and failed starts never win") {
    const Runs runs = synthetic_runs(paper, noise);
    const LogParams plain{0, 0, 0, 0, 0};
    // An exponent so large that the objective overflows at the start.
    const LogParams overflowing{0, 0, 0, 1e307, 0};

    FitOptions short_run;
    short_run.max_iterations = 2;
    const FitResult stopped = fit_chinchilla(runs.view(), {plain}, short_run);
    CHECK(stopped.status == FitStatus::max_iterations);
    CHECK(stopped.iterations == 2);
    CHECK(stopped.message.find("max_iterations after 2 iterations") == 0);

    const FitResult failed = fit_chinchilla(runs.view(), {overflowing});
    CHECK(failed.status == FitStatus::numerical_failure);
    CHECK(failed.starts_at_best == 0);
    CHECK(std::string(to_string(failed.status)) == "numerical_failure");

    const FitResult mixed = fit_chinchilla(runs.view(), {overflowing, plain, overflowing});
    CHECK(mixed.status == FitStatus::converged);
    CHECK(mixed.best_start == 1);
    CHECK(mixed.starts[0].status == FitStatus::numerical_failure);
    CHECK(mixed.starts[2].status == FitStatus::numerical_failure);
}

TEST_CASE("one thread and four threads give bit-identical results") {
    const Runs runs = synthetic_runs(epoch, noise);
    const std::vector<LogParams> starts = some_starts();
    FitOptions one, four;
    one.threads = 1;
    four.threads = 4;
    const FitResult a = fit_chinchilla(runs.view(), starts, one);
    const FitResult b = fit_chinchilla(runs.view(), starts, four);
    REQUIRE(a.starts.size() == b.starts.size());
    for (std::size_t i = 0; i < a.starts.size(); ++i) {
        CAPTURE(i);
        const LogParams &x = a.starts[i].params, &y = b.starts[i].params;
        CHECK((x.a == y.a && x.b == y.b && x.e == y.e && x.alpha == y.alpha && x.beta == y.beta));
        CHECK(a.starts[i].objective == b.starts[i].objective);
        CHECK(a.starts[i].status == b.starts[i].status);
        CHECK(a.starts[i].iterations == b.starts[i].iterations);
    }
    CHECK(a.best_start == b.best_start);
    CHECK(a.objective == b.objective);
    CHECK(a.message == b.message);
}

TEST_CASE("every bad argument throws std::invalid_argument naming it") {
    const Runs good = synthetic_runs(paper);
    const std::vector<LogParams> one_start{{0, 0, 0, 0, 0}};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();

    SUBCASE("runs") {
        auto fit_with = [&](Runs runs) { return fit_chinchilla(runs.view(), one_start); };
        for (double bad : {nan, inf, -inf, 0.0, -1.0}) {
            CAPTURE(bad);
            Runs r = good;
            r.n[3] = bad;
            CHECK_THROWS_WITH_AS(fit_with(r), doctest::Contains("n[3] must be finite and > 0"),
                                 std::invalid_argument);
            r = good;
            r.d[0] = bad;
            CHECK_THROWS_WITH_AS(fit_with(r), doctest::Contains("d[0]"), std::invalid_argument);
            r = good;
            r.loss[107] = bad;
            CHECK_THROWS_WITH_AS(fit_with(r), doctest::Contains("loss[107]"), std::invalid_argument);
        }
        RunsView view = good.view();
        view.n = nullptr;
        CHECK_THROWS_WITH_AS(fit_chinchilla(view, one_start), "n is a null pointer", std::invalid_argument);
        view = good.view();
        view.loss = nullptr;
        CHECK_THROWS_WITH_AS(fit_chinchilla(view, one_start), "loss is a null pointer",
                             std::invalid_argument);
        view = good.view();
        view.size = 4;
        CHECK_THROWS_WITH_AS(fit_chinchilla(view, one_start), doctest::Contains("at least 5 runs"),
                             std::invalid_argument);
        for (bool same_n : {true, false}) {  // one model size or one token count: not identifiable
            Runs r = good;
            std::vector<double>& column = same_n ? r.n : r.d;
            std::fill(column.begin(), column.end(), 3e9);
            CHECK_THROWS_WITH_AS(
                fit_with(r),
                doctest::Contains(same_n ? "every run has the same n" : "every run has the same d"),
                std::invalid_argument);
        }
        std::vector<double> shorter(good.d.begin(), good.d.end() - 1);
        CHECK_THROWS_WITH_AS(fit_chinchilla(good.n, shorter, good.loss), doctest::Contains("same length"),
                             std::invalid_argument);
    }
    SUBCASE("options") {
        auto fit_with = [&](FitOptions options) { return fit_chinchilla(good.view(), one_start, options); };
        struct Case {
            FitOptions options;
            const char* message;
        };
        std::vector<Case> cases;
        for (double bad : {nan, inf, 0.0, -1e-3}) {
            cases.push_back({FitOptions{}, "huber_delta must be finite and > 0"});
            cases.back().options.huber_delta = bad;
            cases.push_back({FitOptions{}, "max_step must be finite and > 0"});
            cases.back().options.max_step = bad;
        }
        for (double bad : {nan, inf, -1e-12}) {
            cases.push_back({FitOptions{}, "gradient_tolerance must be finite and >= 0"});
            cases.back().options.gradient_tolerance = bad;
            cases.push_back({FitOptions{}, "function_tolerance must be finite and >= 0"});
            cases.back().options.function_tolerance = bad;
            cases.push_back({FitOptions{}, "parameter_tolerance must be finite and >= 0"});
            cases.back().options.parameter_tolerance = bad;
        }
        for (int bad : {0, -5}) {
            cases.push_back({FitOptions{}, "max_iterations must be >= 1"});
            cases.back().options.max_iterations = bad;
        }
        cases.push_back({FitOptions{}, "threads must be >= 0"});
        cases.back().options.threads = -1;
        for (const Case& c : cases) {
            CAPTURE(c.message);
            CHECK_THROWS_WITH_AS(fit_with(c.options), doctest::Contains(c.message), std::invalid_argument);
        }
    }
    SUBCASE("starts") {
        CHECK_THROWS_WITH_AS(fit_chinchilla(good.view(), {}), doctest::Contains("starts must hold"),
                             std::invalid_argument);
        std::vector<LogParams> starts(3, LogParams{0, 0, 0, 0, 0});
        starts[2].beta = nan;
        CHECK_THROWS_WITH_AS(fit_chinchilla(good.view(), starts),
                             doctest::Contains("starts[2].beta must be finite"), std::invalid_argument);
        starts[2].beta = 0;
        starts[1].a = -inf;
        CHECK_THROWS_WITH_AS(fit_chinchilla(good.view(), starts),
                             doctest::Contains("starts[1].a must be finite"), std::invalid_argument);
    }
    SUBCASE("objective") {
        RunsView empty = good.view();
        empty.size = 0;
        CHECK_THROWS_WITH_AS(objective(empty, {0, 0, 0, 0, 0}), doctest::Contains("at least 1 run"),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(objective(good.view(), {0, 0, nan, 0, 0}),
                             doctest::Contains(".e must be finite"), std::invalid_argument);
        CHECK_THROWS_WITH_AS(objective(good.view(), {0, 0, 0, 0, 0}, -1.0), doctest::Contains("huber_delta"),
                             std::invalid_argument);
    }
}

TEST_CASE("an exception in a worker thread reaches the caller") {
    // Worker 0 is the calling thread: it waits (up to 10 s) until another worker has thrown, so the
    // exception that arrives has crossed threads.
    std::atomic<bool> thrown{false};
    auto body = [&](std::size_t, std::size_t worker) {
        if (worker == 0) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (!thrown && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
            return;
        }
        thrown = true;
        throw std::runtime_error("from worker " + std::to_string(worker));
    };
    CHECK_THROWS_WITH_AS(detail::parallel_for(1000, 4, body), doctest::Contains("from worker"),
                         std::runtime_error);
    CHECK(thrown);
}

TEST_CASE("a raised cancel flag stops the work with scalinglaw::cancelled") {
    SUBCASE("the fit, flag raised before") {
        const Runs runs = synthetic_runs(paper);
        std::atomic<bool> cancel{true};
        FitOptions options;
        options.cancel = &cancel;
        options.threads = 2;
        CHECK_THROWS_AS(fit_chinchilla(runs.view(), some_starts(), options), cancelled);
    }
    SUBCASE("the loop, flag raised by item 10") {
        std::atomic<bool> cancel{false};
        std::atomic<int> done{0};
        auto body = [&](std::size_t i, std::size_t) {
            if (i == 10) cancel = true;
            ++done;
        };
        CHECK_THROWS_AS(detail::parallel_for(100000, 3, body, &cancel), cancelled);
        CHECK(done.load() < 100);  // each worker finishes at most its current item
    }
}
