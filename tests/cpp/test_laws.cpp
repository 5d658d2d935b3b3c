// The law family: published values against plain formulas written here, each law's analytic Jacobian
// and Hessian against central differences, recovery of known parameters, fixed and tied parameters,
// weights, the data-constrained law at R = inf against Chinchilla, bad input, thread-count independence.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "laws/dispatch.hpp"
#include "scalinglaw/bootstrap.hpp"
#include "scalinglaw/fit.hpp"
#include "scalinglaw/frontier.hpp"
#include "scalinglaw/grid.hpp"
#include "scalinglaw/laws.hpp"

using namespace scalinglaw;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// The laws as the papers write them, independent of the core's log-space code.
double kaplan_plain(double nc, double dc, double an, double ad, double n, double d) {
    return std::pow(std::pow(nc / n, an / ad) + dc / d, ad);
}
double data_constrained_plain(const std::vector<double>& p, double n, double d, double u) {
    const double e = p[0], a = p[1], b = p[2], alpha = p[3], beta = p[4], rd_star = p[5], rn_star = p[6];
    const double g = std::pow(alpha * a / (beta * b), 1.0 / (alpha + beta));
    const double n_opt = g * std::pow(g * u, beta / alpha);
    const double un = std::min(n_opt, n);
    const double rn = std::max(n / un - 1.0, 0.0), rd = d / u - 1.0;
    const double np = un + un * rn_star * (1.0 - std::exp(-rn / rn_star));
    const double dp = u + u * rd_star * (1.0 - std::exp(-rd / rd_star));
    return e + a / std::pow(np, alpha) + b / std::pow(dp, beta);
}

// Muennighoff et al.'s C4 fit: a, b, e are log A, log B, log E.
const std::vector<double> muennighoff{
    std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596, 0.3526596, 15.387756, 5.309743};
const std::vector<double> kaplan_paper{6.4e13, 1.8e13, 0.076, 0.103};
const std::vector<double> chinchilla_paper{1.69, 406.4, 410.7, 0.34, 0.28};

struct Runs {
    std::vector<double> n, d, u, loss, weight;
    RunsView view() const {
        RunsView v{n.data(), d.data(), loss.data(), n.size()};
        if (!u.empty()) v.unique_tokens = u.data();
        if (!weight.empty()) v.weight = weight.data();
        return v;
    }
};

// Noise-free runs of a law at `params` on a grid of sizes and token counts (unique tokens D / epochs).
Runs synthetic(LawKind kind, const std::vector<double>& params, const std::vector<double>& noise = {0.0}) {
    Runs runs;
    for (int s = 0; s < 7; ++s)
        for (int t = 0; t < 7; ++t)
            for (double epochs : {1.0, 3.0, 12.0}) {
                if (kind != LawKind::data_constrained && epochs != 1.0) continue;
                const double n = 5e7 * std::pow(200.0, s / 6.0), d = 1e9 * std::pow(300.0, t / 6.0);
                runs.n.push_back(n);
                runs.d.push_back(d);
                if (kind == LawKind::data_constrained) runs.u.push_back(d / epochs);
                const double k = noise[runs.loss.size() % noise.size()];
                runs.loss.push_back(predict(kind, params, n, d, d / epochs) * std::exp(k));
            }
    return runs;
}

const std::vector<double> noise{3e-4, -2e-3, 5e-4, 4e-3, -3e-4, -5e-4, 2.5e-3, -4e-3, 7e-4, -1.5e-3, 0};

// Every k-th default start: enough to find the optimum of these small problems.
std::vector<std::vector<double>> some_starts(LawKind kind, std::size_t every) {
    std::vector<std::vector<double>> out;
    const auto all = default_starts(kind);
    for (std::size_t i = 0; i < all.size(); i += every) out.push_back(all[i]);
    return out;
}

bool close(double a, double b, double rel) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

}  // namespace

TEST_CASE("laws: names and formulas; law_kind refuses unknown names") {
    CHECK(law_info(LawKind::chinchilla).parameters ==
          std::vector<std::string>{"E", "A", "B", "alpha", "beta"});
    CHECK(law_info(LawKind::kaplan).parameters ==
          std::vector<std::string>{"N_c", "D_c", "alpha_N", "alpha_D"});
    CHECK(law_info(LawKind::data_constrained).parameters ==
          std::vector<std::string>{"E", "A", "B", "alpha", "beta", "R_D", "R_N"});
    for (LawKind kind : all_laws()) CHECK(law_kind(law_info(kind).name) == kind);
    CHECK_THROWS_WITH_AS(law_kind("chinchila"), doctest::Contains("unknown law 'chinchila'"),
                         std::invalid_argument);
}

TEST_CASE("laws: published values (Kaplan et al. 2020, Muennighoff et al. 2023) and plain formulas") {
    const std::vector<double>& k = kaplan_paper;
    CHECK(predict(LawKind::kaplan, k, 1e9, 2e10) == doctest::Approx(2.3738824).epsilon(5e-8));
    CHECK(predict(LawKind::kaplan, k, 1e9, 2e10) ==
          doctest::Approx(kaplan_plain(k[0], k[1], k[2], k[3], 1e9, 2e10)).epsilon(1e-14));
    CHECK(predict(LawKind::data_constrained, muennighoff, 8.67e9, 178e9, 25e9) ==
          doctest::Approx(2.2269634).epsilon(5e-8));
    CHECK(predict(LawKind::data_constrained, muennighoff, 1e9, 1e11, 1e10) ==
          doctest::Approx(2.4376920).epsilon(5e-8));
    for (double n : {1e8, 1e9, 3e10})
        for (double d : {1e10, 1e11})
            for (double u : {1e9, 1e10, 1e11}) {
                if (u > d) continue;
                CAPTURE(n);
                CAPTURE(d);
                CAPTURE(u);
                CHECK(predict(LawKind::data_constrained, muennighoff, n, d, u) ==
                      doctest::Approx(data_constrained_plain(muennighoff, n, d, u)).epsilon(1e-13));
            }
    // R = inf: no decay, Chinchilla's law whatever U_D
    std::vector<double> no_decay = chinchilla_paper;
    no_decay.push_back(inf);
    no_decay.push_back(inf);
    for (double u : {1e9, 1e10})
        CHECK(predict(LawKind::data_constrained, no_decay, 3e9, 1e10, u) ==
              doctest::Approx(predict(LawKind::chinchilla, chinchilla_paper, 3e9, 1e10)).epsilon(1e-14));
}

TEST_CASE("laws: the analytic Jacobian and Hessian match central differences") {
    auto check_law = [](auto law, const std::vector<double>& params) {
        using Law = decltype(law);
        constexpr int K = Law::size;
        const std::vector<double> x0 = to_coordinates(Law::kind, params);
        for (double n : {2e8, 7e9})
            for (double d : {5e9, 2e11})
                for (double u : {1e9, 4e9}) {
                    const double ln = std::log(n), ld = std::log(d), lu = std::log(std::min(u, d));
                    detail::Jet<K> jx[K];
                    for (int j = 0; j < K; ++j) jx[j] = detail::Jet<K>::variable(x0[j], j);
                    const detail::Jet<K> jet = Law::log_predict(jx, ln, ld, lu);
                    CHECK(jet.v == doctest::Approx(Law::log_predict(x0.data(), ln, ld, lu)).epsilon(1e-15));
                    for (int j = 0; j < K; ++j) {
                        const double h = 1e-5 * std::max(1.0, std::abs(x0[j]));
                        std::vector<double> up = x0, down = x0;
                        up[j] += h;
                        down[j] -= h;
                        const double fd = (Law::log_predict(up.data(), ln, ld, lu) -
                                           Law::log_predict(down.data(), ln, ld, lu)) /
                                          (2 * h);
                        CAPTURE(j);
                        CHECK(jet.g[j] == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                        // the Hessian's row j: central differences of the analytic gradient
                        detail::Jet<K> ju[K], jd[K];
                        for (int i = 0; i < K; ++i) {
                            ju[i] = detail::Jet<K>::variable(up[i], i);
                            jd[i] = detail::Jet<K>::variable(down[i], i);
                        }
                        const detail::Jet<K> gu = Law::log_predict(ju, ln, ld, lu);
                        const detail::Jet<K> gd = Law::log_predict(jd, ln, ld, lu);
                        for (int i = 0; i < K; ++i)
                            CHECK(jet.hessian(j, i) ==
                                  doctest::Approx((gu.g[i] - gd.g[i]) / (2 * h)).epsilon(1e-5).scale(1.0));
                    }
                }
    };
    check_law(detail::ChinchillaLaw{}, chinchilla_paper);
    check_law(detail::KaplanLaw{}, kaplan_paper);
    check_law(detail::DataConstrainedLaw{}, muennighoff);
    // alpha != beta, so that the data-constrained N_opt depends on every base parameter
    check_law(detail::DataConstrainedLaw{}, {1.8, 480.0, 2000.0, 0.35, 0.3, 20.0, 4.0});
}

template <class Law>
void check_hand_written_derivatives(const std::vector<std::vector<double>>& points) {
    static_assert(detail::HasDerivatives<Law>::value);
    constexpr int K = Law::size;
    for (const std::vector<double>& x : points)
        for (double log_n : {-4.0, 0.0, 19.0})
            for (double log_d : {-3.0, 1.0, 25.0}) {
                detail::Jet<K> jx[K];
                for (int j = 0; j < K; ++j) jx[j] = detail::Jet<K>::variable(x[j], j);
                const detail::Jet<K> jet = Law::log_predict(jx, log_n, log_d, 0.0);
                double g[K], h[K * (K + 1) / 2];
                const double value = Law::log_predict_derivatives(x.data(), log_n, log_d, 0.0, g, h);
                CAPTURE(x[0]);
                CAPTURE(log_n);
                CAPTURE(log_d);
                CHECK(value == doctest::Approx(jet.v).epsilon(1e-14));
                // absolute beside 1: where q = 1 - p is tiny the jets' softmax Hessian (sum p (h + g g^T)
                // - g g^T) cancels, the hand-written p q v v^T does not
                for (int i = 0; i < K; ++i)
                    CHECK(g[i] == doctest::Approx(jet.g[i]).epsilon(1e-12).scale(1.0));
                for (int k = 0; k < K * (K + 1) / 2; ++k)
                    CHECK(h[k] == doctest::Approx(jet.h[k]).epsilon(1e-11).scale(1.0));
            }
}

TEST_CASE("laws: hand-written derivatives (Kaplan's, in both coordinates) equal the jets'") {
    const std::vector<std::vector<double>> points = {
        to_coordinates(LawKind::kaplan, kaplan_paper),
        {-3.0, 2.0, 0.09, 0.11},
        {20.0, 30.0, 0.1, 0.2},
        {-700.0, 34.4, -0.001, 0.087}};  // the last: a start walking off toward alpha_N -> 0
    check_hand_written_derivatives<detail::KaplanLaw>(points);
    std::vector<std::vector<double>> ratio;
    for (const std::vector<double>& x : points) {
        std::vector<double> y(4), back(4);
        detail::KaplanRatioLaw::from_law(x.data(), y.data());
        detail::KaplanRatioLaw::to_law(y.data(), back.data());
        for (int j = 0; j < 4; ++j) CHECK(back[j] == doctest::Approx(x[j]).epsilon(1e-14));
        // the same law: equal log-predictions in either coordinates
        for (double log_n : {-4.0, 0.0, 19.0})
            CHECK(detail::KaplanRatioLaw::log_predict(y.data(), log_n, 1.0, 0.0) ==
                  doctest::Approx(detail::KaplanLaw::log_predict(x.data(), log_n, 1.0, 0.0)).epsilon(1e-13));
        ratio.push_back(y);
    }
    check_hand_written_derivatives<detail::KaplanRatioLaw>(ratio);
}

TEST_CASE("laws: every law recovers known parameters from noise-free runs") {
    struct Case {
        LawKind kind;
        std::vector<double> params;
        std::size_t every;
    };
    for (const Case& c :
         {Case{LawKind::chinchilla, chinchilla_paper, 45}, Case{LawKind::kaplan, kaplan_paper, 4},
          Case{LawKind::data_constrained, {1.8, 480.0, 2000.0, 0.35, 0.3, 20.0, 4.0}, 8}}) {
        CAPTURE(law_info(c.kind).name);
        const Runs runs = synthetic(c.kind, c.params);
        FitOptions options;
        options.threads = 2;
        // weights of 1 send Chinchilla through the generic path too
        Runs weighted = runs;
        weighted.weight.assign(runs.n.size(), 1.0);
        const LawFitResult r = fit(c.kind, weighted.view(), some_starts(c.kind, c.every), {}, options);
        CHECK(r.status == FitStatus::converged);
        CHECK(r.objective < 1e-20);
        for (std::size_t j = 0; j < c.params.size(); ++j) {
            CAPTURE(j);
            CHECK(r.params[j] == doctest::Approx(c.params[j]).epsilon(1e-5));
        }
    }
}

TEST_CASE("laws: the unconstrained Chinchilla fit is fit_chinchilla's, bit for bit") {
    const Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    const auto starts = some_starts(LawKind::chinchilla, 9);
    std::vector<LogParams> log_starts;
    for (const auto& s : starts) log_starts.push_back({s[1], s[2], s[0], s[3], s[4]});
    const FitResult direct = fit_chinchilla(runs.view(), log_starts);
    const LawFitResult r = fit(LawKind::chinchilla, runs.view(), starts);
    CHECK(r.objective == direct.objective);
    CHECK(r.params == std::vector<double>{direct.params.E, direct.params.A, direct.params.B,
                                          direct.params.alpha, direct.params.beta});
    CHECK(r.iterations == direct.iterations);
    CHECK(r.roles == std::vector<ParameterRole>(5, ParameterRole::free));
}

TEST_CASE("laws: a parameter pinned at its optimum reproduces the fit; the generic path agrees") {
    const Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    const auto starts = some_starts(LawKind::chinchilla, 9);
    const LawFitResult free = fit(LawKind::chinchilla, runs.view(), starts);
    REQUIRE(free.status == FitStatus::converged);
    for (std::size_t j = 0; j < 5; ++j) {
        const std::string name = law_info(LawKind::chinchilla).parameters[j];
        CAPTURE(name);
        ParameterMap map;
        map.fixed[name] = free.params[j];
        const LawFitResult pinned = fit(LawKind::chinchilla, runs.view(), starts, map);
        CHECK(pinned.status == FitStatus::converged);
        CHECK(pinned.roles[j] == ParameterRole::fixed);
        CHECK(pinned.params[j] == free.params[j]);
        CHECK(pinned.objective == doctest::Approx(free.objective).epsilon(1e-10));
        for (std::size_t i = 0; i < 5; ++i)
            CHECK(pinned.params[i] == doctest::Approx(free.params[i]).epsilon(1e-6));
    }
}

TEST_CASE("laws: tied alpha = beta is the optimum of the four-parameter law") {
    const Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    ParameterMap map;
    map.tied = {{"alpha", "beta"}};
    const LawFitResult r = fit(LawKind::chinchilla, runs.view(), some_starts(LawKind::chinchilla, 9), map);
    REQUIRE(r.status == FitStatus::converged);
    CHECK(r.params[3] == r.params[4]);
    CHECK(r.roles[4] == ParameterRole::tied);
    CHECK(r.tied_to[4] == 3);
    // No move of (E, A, B, alpha = beta) lowers the objective, measured by objective() itself.
    const double f = objective(LawKind::chinchilla, runs.view(), r.params);
    CHECK(f == doctest::Approx(r.objective).epsilon(1e-12));
    for (int j = 0; j < 4; ++j)
        for (double sign : {-1.0, 1.0}) {
            std::vector<double> p = r.params;
            if (j < 3)
                p[j] *= 1.0 + sign * 1e-4;
            else
                p[3] = p[4] = p[3] + sign * 1e-5;
            CAPTURE(j);
            CHECK(objective(LawKind::chinchilla, runs.view(), p) > f);
        }
    // on data made with alpha = beta the tie recovers them exactly
    const Runs equal = synthetic(LawKind::chinchilla, {1.7, 400.0, 420.0, 0.3, 0.3});
    const LawFitResult e = fit(LawKind::chinchilla, equal.view(), some_starts(LawKind::chinchilla, 9), map);
    CHECK(e.params[3] == doctest::Approx(0.3).epsilon(1e-7));
    CHECK(e.objective < 1e-20);
}

TEST_CASE("laws: integer weights equal repeated rows") {
    for (LawKind kind : {LawKind::chinchilla, LawKind::kaplan}) {
        CAPTURE(law_info(kind).name);
        const std::vector<double>& truth = kind == LawKind::kaplan ? kaplan_paper : chinchilla_paper;
        const Runs runs = synthetic(kind, truth, noise);
        Runs weighted = runs, repeated;
        weighted.weight.clear();
        for (std::size_t i = 0; i < runs.n.size(); ++i) {
            const int k = static_cast<int>(i % 3);  // 0, 1 or 2 copies
            weighted.weight.push_back(k);
            for (int c = 0; c < k; ++c) {
                repeated.n.push_back(runs.n[i]);
                repeated.d.push_back(runs.d[i]);
                repeated.loss.push_back(runs.loss[i]);
            }
        }
        repeated.weight.assign(repeated.n.size(), 1.0);  // the generic path on both sides
        const auto starts = some_starts(kind, kind == LawKind::kaplan ? 4 : 9);
        const LawFitResult a = fit(kind, weighted.view(), starts), b = fit(kind, repeated.view(), starts);
        CHECK(a.objective == doctest::Approx(b.objective).epsilon(1e-10));
        for (std::size_t j = 0; j < truth.size(); ++j)
            CHECK(a.params[j] == doctest::Approx(b.params[j]).epsilon(1e-6));
        CHECK(objective(kind, weighted.view(), a.params) == doctest::Approx(a.objective).epsilon(1e-12));
    }
}

TEST_CASE("laws: the data-constrained law with R_D = R_N = inf fits as Chinchilla's") {
    Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    for (std::size_t i = 0; i < runs.n.size(); ++i) runs.u.push_back(runs.d[i] / (1.0 + i % 4));
    const LawFitResult chinchilla =
        fit(LawKind::chinchilla, runs.view(), some_starts(LawKind::chinchilla, 9));
    ParameterMap map;
    map.fixed = {{"R_D", inf}, {"R_N", inf}};
    std::vector<std::vector<double>> starts;
    for (auto s : some_starts(LawKind::chinchilla, 9)) {
        s.push_back(0.0);
        s.push_back(0.0);
        starts.push_back(s);
    }
    const LawFitResult dc = fit(LawKind::data_constrained, runs.view(), starts, map);
    CHECK(dc.status == FitStatus::converged);
    CHECK(dc.params[5] == inf);
    CHECK(dc.params[6] == inf);
    CHECK(dc.objective == doctest::Approx(chinchilla.objective).epsilon(1e-9));
    for (std::size_t j = 0; j < 5; ++j)
        CHECK(dc.params[j] == doctest::Approx(chinchilla.params[j]).epsilon(1e-6));
}

TEST_CASE("laws: the generic fit is bit-identical on 1 and 4 threads") {
    const Runs runs = synthetic(LawKind::kaplan, kaplan_paper, noise);
    FitOptions one, four;
    one.threads = 1;
    four.threads = 4;
    const auto starts = some_starts(LawKind::kaplan, 3);
    const LawFitResult a = fit(LawKind::kaplan, runs.view(), starts, {}, one);
    const LawFitResult b = fit(LawKind::kaplan, runs.view(), starts, {}, four);
    CHECK(a.objective == b.objective);
    CHECK(a.params == b.params);
    REQUIRE(a.starts.size() == b.starts.size());
    for (std::size_t i = 0; i < a.starts.size(); ++i) {
        CHECK(a.starts[i].coordinates == b.starts[i].coordinates);
        CHECK(a.starts[i].iterations == b.starts[i].iterations);
    }
}

TEST_CASE("laws: bad input is refused with a clear message") {
    Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper);
    const auto starts = some_starts(LawKind::chinchilla, 450);
    auto refuses = [&](const RunsView& view, const ParameterMap& map, const char* message,
                       LawKind kind = LawKind::chinchilla) {
        CAPTURE(message);
        std::vector<std::vector<double>> s = starts;
        if (kind == LawKind::data_constrained)
            for (auto& x : s) x.insert(x.end(), {0.0, 0.0});
        CHECK_THROWS_WITH_AS(fit(kind, view, s, map), doctest::Contains(message), std::invalid_argument);
    };
    ParameterMap unknown;
    unknown.fixed["F"] = 1.0;
    refuses(runs.view(), unknown, "fixed: unknown parameter 'F' of the chinchilla law");
    ParameterMap all;
    all.fixed = {{"E", 1.0}, {"A", 1.0}, {"B", 1.0}, {"alpha", 0.3}, {"beta", 0.3}};
    refuses(runs.view(), all, "every parameter of the chinchilla law is fixed");
    ParameterMap self;
    self.tied = {{"alpha", "alpha"}};
    refuses(runs.view(), self, "cannot tie alpha to itself");
    ParameterMap unknown_tie;
    unknown_tie.tied = {{"alpha", "gamma"}};
    refuses(runs.view(), unknown_tie, "tied: unknown parameter 'gamma'");
    ParameterMap scales;
    scales.tied = {{"E", "alpha"}};
    refuses(runs.view(), scales, "different scales");
    ParameterMap bad_value;
    bad_value.fixed["E"] = -1.0;
    refuses(runs.view(), bad_value, "fixed E must be finite and > 0, got -1");
    ParameterMap infinite;
    infinite.fixed["alpha"] = inf;
    refuses(runs.view(), infinite, "fixed alpha must be finite");
    Runs negative = runs;
    negative.weight.assign(runs.n.size(), 1.0);
    negative.weight[3] = -1.0;
    refuses(negative.view(), {}, "weight[3] must be finite and >= 0, got -1");
    refuses(runs.view(), {}, "the data_constrained law needs unique_tokens", LawKind::data_constrained);
    Runs too_many = runs;
    too_many.u = runs.d;
    too_many.u[5] = 2.0 * runs.d[5];
    refuses(too_many.view(), {}, "unique_tokens[5] = ", LawKind::data_constrained);
    CHECK_THROWS_WITH_AS(fit(LawKind::kaplan, runs.view(), {{1.0, 2.0}}),
                         doctest::Contains("starts[0] must hold the 4"), std::invalid_argument);
}

TEST_CASE("laws: the compute-optimal frontier of every law; closed forms equal the numeric solve") {
    // Kaplan et al.'s published law: N_opt grows as C^0.575419 (alpha_D / (alpha_N + alpha_D))
    const FrontierCoefficients k = frontier_coefficients(LawKind::kaplan, kaplan_paper);
    CHECK(k.a == doctest::Approx(0.575419).epsilon(1e-6));
    CHECK(k.a + k.b == doctest::Approx(1.0).epsilon(1e-15));
    std::vector<double> dc_base = muennighoff;
    for (const auto& [kind, params] :
         {std::pair{LawKind::chinchilla, chinchilla_paper}, std::pair{LawKind::kaplan, kaplan_paper},
          std::pair{LawKind::data_constrained, dc_base}})
        for (double flops : {1e19, 5.76e23, 1e26}) {
            CAPTURE(law_info(kind).name);
            CAPTURE(flops);
            const Allocation closed = compute_optimal(kind, params, flops);
            const Allocation numeric = compute_optimal_numeric(kind, params, flops);
            CHECK(closed.n == doctest::Approx(numeric.n).epsilon(1e-9));
            CHECK(closed.d * closed.n * 6.0 == doctest::Approx(flops).epsilon(1e-14));
            CHECK(closed.loss == doctest::Approx(numeric.loss).epsilon(1e-14));
        }
    // the numeric frontier (Kaplan's slope in C) against the published exponent: log-log slope
    const double n1 = compute_optimal_numeric(LawKind::kaplan, kaplan_paper, 1e20).n;
    const double n2 = compute_optimal_numeric(LawKind::kaplan, kaplan_paper, 1e24).n;
    CHECK(std::log(n2 / n1) / std::log(1e4) == doctest::Approx(0.575419).epsilon(1e-6));
    // With a unique-token budget the data-constrained optimum is a minimum along C = 6ND, and a budget
    // beyond every D changes nothing.
    const double flops = 1e23, budget = 2e10;
    const Allocation a = compute_optimal(LawKind::data_constrained, muennighoff, flops, budget);
    for (double factor : {0.99, 1.01}) {
        const double n = a.n * factor, d = flops / (6.0 * n);
        CHECK(predict(LawKind::data_constrained, muennighoff, n, d, std::min(budget, d)) > a.loss);
    }
    CHECK(a.loss > compute_optimal(LawKind::data_constrained, muennighoff, flops).loss);
    CHECK(compute_optimal(LawKind::data_constrained, muennighoff, flops, 1e30).n ==
          doctest::Approx(compute_optimal(LawKind::data_constrained, muennighoff, flops).n).epsilon(1e-9));
    CHECK_THROWS_WITH_AS(compute_optimal(LawKind::kaplan, {1.0, 2.0}, 1e20),
                         doctest::Contains("must hold the 4"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(compute_optimal(LawKind::kaplan, {6.4e13, 1.8e13, -0.076, 0.103}, 1e20),
                         doctest::Contains("alpha_N must be finite and > 0"), std::invalid_argument);
}

TEST_CASE("laws: predict and loss_grid for any law equal the law point by point, on any thread count") {
    const std::vector<double> n_axis{1e8, 3e8, 1e9, 7e9}, c_axis{1e19, 1e21, 1e23};
    for (const auto& [kind, params] :
         {std::pair{LawKind::chinchilla, chinchilla_paper}, std::pair{LawKind::kaplan, kaplan_paper},
          std::pair{LawKind::data_constrained, muennighoff}}) {
        CAPTURE(law_info(kind).name);
        const double budget = kind == LawKind::data_constrained ? 5e9 : 0.0;
        std::vector<double> one(12), four(12);
        loss_grid(kind, params, n_axis.data(), 4, c_axis.data(), 3, one.data(), 1, nullptr, budget);
        loss_grid(kind, params, n_axis.data(), 4, c_axis.data(), 3, four.data(), 4, nullptr, budget);
        CHECK(one == four);
        std::vector<double> n, d, u, points(12);
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                n.push_back(n_axis[i]);
                d.push_back(c_axis[j] / (6.0 * n_axis[i]));
                u.push_back(budget > 0.0 ? std::min(budget, d.back()) : d.back());
                CHECK(one[i * 3 + j] ==
                      doctest::Approx(predict(kind, params, n.back(), d.back(), u.back())).epsilon(1e-13));
            }
        predict(kind, params, n.data(), d.data(), u.data(), 12, points.data(), 2);
        for (std::size_t k = 0; k < 12; ++k) CHECK(points[k] == doctest::Approx(one[k]).epsilon(1e-13));
    }
    std::vector<double> out(1);
    const double n = 1e9, d = 1e10, u = 2e10;
    CHECK_THROWS_WITH_AS(predict(LawKind::data_constrained, muennighoff, &n, &d, nullptr, 1, out.data()),
                         doctest::Contains("needs unique_tokens"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(predict(LawKind::data_constrained, muennighoff, &n, &d, &u, 1, out.data()),
                         doctest::Contains("unique_tokens[0] = "), std::invalid_argument);
}

TEST_CASE("laws: the bootstrap of any law refits each resample as fit() would") {
    // Chinchilla without constraints: bootstrap()'s refits, bit for bit
    const Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    const std::size_t resamples = 6;
    const std::vector<std::size_t> indices = bootstrap_indices(runs.n.size(), resamples, 7);
    BootstrapOptions options;
    options.budgets = {1e21, 5.76e23};
    options.fit.threads = 2;
    const LawFitResult full = fit(LawKind::chinchilla, runs.view(), some_starts(LawKind::chinchilla, 9));
    const auto starts = bootstrap_starts(LawKind::chinchilla, full.coordinates);
    const LawBootstrapResult law = bootstrap(LawKind::chinchilla, runs.view(), indices, starts, {}, options);
    const BootstrapResult plain =
        bootstrap(runs.view(), indices,
                  bootstrap_starts(LogParams{full.coordinates[1], full.coordinates[2], full.coordinates[0],
                                             full.coordinates[3], full.coordinates[4]}),
                  options);
    for (std::size_t r = 0; r < resamples; ++r) {
        CHECK(law.objective[r] == plain.objective[r]);
        CHECK(law.iterations[r] == plain.iterations[r]);
        CHECK(law.params[r * 5 + 0] == plain.params[r].E);
        CHECK(law.params[r * 5 + 3] == plain.params[r].alpha);
        for (std::size_t k = 0; k < 2; ++k) CHECK(law.optimal[r * 2 + k].n == plain.optimal[r * 2 + k].n);
    }
    // Kaplan with weights: each resample is the fit of its rows (weights travelling with them), on
    // any thread count
    Runs kaplan = synthetic(LawKind::kaplan, kaplan_paper, noise);
    for (std::size_t i = 0; i < kaplan.n.size(); ++i) kaplan.weight.push_back(1.0 + i % 3);
    const auto kaplan_starts = some_starts(LawKind::kaplan, 40);
    const std::vector<std::size_t> draws = bootstrap_indices(kaplan.n.size(), 3, 11);
    BootstrapOptions one, three;
    one.fit.threads = 1;
    three.fit.threads = 3;
    one.budgets = three.budgets = {1e22};
    const LawBootstrapResult a = bootstrap(LawKind::kaplan, kaplan.view(), draws, kaplan_starts, {}, one);
    const LawBootstrapResult b = bootstrap(LawKind::kaplan, kaplan.view(), draws, kaplan_starts, {}, three);
    CHECK(a.params == b.params);
    for (std::size_t r = 0; r < 3; ++r) {
        Runs resample;
        for (std::size_t j = 0; j < kaplan.n.size(); ++j) {
            const std::size_t i = draws[r * kaplan.n.size() + j];
            resample.n.push_back(kaplan.n[i]);
            resample.d.push_back(kaplan.d[i]);
            resample.loss.push_back(kaplan.loss[i]);
            resample.weight.push_back(kaplan.weight[i]);
        }
        const LawFitResult f = fit(LawKind::kaplan, resample.view(), kaplan_starts);
        CHECK(a.objective[r] == f.objective);
        for (std::size_t j = 0; j < 4; ++j) CHECK(a.params[r * 4 + j] == f.params[j]);
        CHECK(a.optimal[r].n == compute_optimal(LawKind::kaplan, f.params, 1e22).n);
    }
}

TEST_CASE("laws: the data-constrained decay constants with the base pinned, as Muennighoff et al. fit them") {
    // Runs from 1 to 40 epochs at the paper's parameters; the five base parameters pinned to their
    // values, R_D and R_N fitted from the default starts (which collapse to the 25 R pairs).
    Runs runs;
    for (double n : {1e8, 5e8, 2e9, 9e9})
        for (double u : {1e9, 5e9, 2.5e10})
            for (double epochs : {1.0, 4.0, 12.0, 40.0}) {
                runs.n.push_back(n);
                runs.d.push_back(u * epochs);
                runs.u.push_back(u);
                runs.loss.push_back(predict(LawKind::data_constrained, muennighoff, n, u * epochs, u));
            }
    ParameterMap map;
    const auto& names = law_info(LawKind::data_constrained).parameters;
    for (std::size_t j = 0; j < 5; ++j) map.fixed[names[j]] = muennighoff[j];
    const LawFitResult r =
        fit(LawKind::data_constrained, runs.view(), default_starts(LawKind::data_constrained), map);
    CHECK(r.status == FitStatus::converged);
    CHECK(r.params[5] == doctest::Approx(15.387756).epsilon(1e-6));
    CHECK(r.params[6] == doctest::Approx(5.309743).epsilon(1e-6));
    CHECK(r.objective < 1e-20);
    CHECK(std::isfinite(r.hessian_condition));
    for (std::size_t j = 0; j < 5; ++j) CHECK(r.roles[j] == ParameterRole::fixed);
    CHECK(objective(LawKind::data_constrained, runs.view(), muennighoff) < 1e-25);
    CHECK_THROWS_WITH_AS(predict(LawKind::data_constrained, muennighoff, 1e9, 1e10, 2e10),
                         doctest::Contains("needs 0 < unique_tokens <= d"), std::invalid_argument);
}

TEST_CASE("laws: optimal_for_size and budget_for_loss invert the frontier of every law") {
    for (const auto& [kind, params] :
         {std::pair{LawKind::chinchilla, chinchilla_paper}, std::pair{LawKind::kaplan, kaplan_paper},
          std::pair{LawKind::data_constrained, muennighoff}}) {
        CAPTURE(law_info(kind).name);
        const Allocation at = compute_optimal(kind, params, 5.76e23);
        const Allocation sized = optimal_for_size(kind, params, at.n);
        CHECK(sized.flops == doctest::Approx(5.76e23).epsilon(1e-12));
        CHECK(sized.d == doctest::Approx(at.d).epsilon(1e-12));
        const Allocation reached = budget_for_loss(kind, params, at.loss);
        CHECK(reached.flops == doctest::Approx(5.76e23).epsilon(1e-9));
        CHECK(reached.loss == doctest::Approx(at.loss).epsilon(1e-12));
    }
    // the Chinchilla law's are the closed forms of law.hpp's Params, bit for bit
    const Params p{1.69, 406.4, 410.7, 0.34, 0.28};
    CHECK(budget_for_loss(LawKind::chinchilla, chinchilla_paper, 2.0).flops == budget_for_loss(p, 2.0).flops);
    CHECK(optimal_for_size(LawKind::chinchilla, chinchilla_paper, 7e10).d == optimal_for_size(p, 7e10).d);
    CHECK_THROWS_WITH_AS(budget_for_loss(LawKind::kaplan, kaplan_paper, 1e-30),
                         doctest::Contains("not reached"), std::invalid_argument);
}

TEST_CASE("laws: constrained Chinchilla fits on the fast kernels agree with the generic path") {
    const Runs runs = synthetic(LawKind::chinchilla, chinchilla_paper, noise);
    Runs unit = runs;
    unit.weight.assign(runs.n.size(), 1.0);  // weights send the same fit through the generic path
    const auto starts = some_starts(LawKind::chinchilla, 9);
    std::vector<ParameterMap> maps(4);
    maps[0].tied = {{"alpha", "beta"}};
    maps[1].fixed = {{"E", 1.75}};
    maps[2].fixed = {{"beta", 0.3}};
    maps[3].fixed = {{"A", 400.0}, {"alpha", 0.33}};  // an amplitude pinned with its exponent
    for (const ParameterMap& map : maps) {
        const LawFitResult fast = fit(LawKind::chinchilla, runs.view(), starts, map);
        const LawFitResult generic = fit(LawKind::chinchilla, unit.view(), starts, map);
        CHECK(fast.status == FitStatus::converged);
        CHECK(fast.objective == doctest::Approx(generic.objective).epsilon(1e-10));
        for (std::size_t j = 0; j < 5; ++j)
            CHECK(fast.params[j] == doctest::Approx(generic.params[j]).epsilon(1e-6));
        CHECK(fast.roles == generic.roles);
    }
    // the bootstrap takes the same path: each resample as fit() of its rows
    const std::vector<std::size_t> draws = bootstrap_indices(runs.n.size(), 2, 5);
    const LawBootstrapResult boot = bootstrap(LawKind::chinchilla, runs.view(), draws, starts, maps[0]);
    for (std::size_t r = 0; r < 2; ++r) {
        Runs resample;
        for (std::size_t j = 0; j < runs.n.size(); ++j) {
            const std::size_t i = draws[r * runs.n.size() + j];
            resample.n.push_back(runs.n[i]);
            resample.d.push_back(runs.d[i]);
            resample.loss.push_back(runs.loss[i]);
        }
        const LawFitResult f = fit(LawKind::chinchilla, resample.view(), starts, maps[0]);
        CHECK(boot.objective[r] == f.objective);
        CHECK(boot.params[r * 5 + 3] == f.params[3]);
        CHECK(boot.params[r * 5 + 3] == boot.params[r * 5 + 4]);
    }
}
