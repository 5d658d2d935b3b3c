// The Chinchilla law's side of the solver, from one start: its coordinates and centring, the per-run
// state (the shares of the three terms), the fast-range test, the exact Hessian of logsumexp, the
// amplitude pre-fit and the common shift along (a, b, e). The law-independent numerics live in
// solver/: the LM loop (lm.hpp, where the model and damping are explained), the factorisation
// (factor.hpp) and the exact shift (shift.hpp).
//
// The state at a point x is, per run, the shares p_k of the three terms in the prediction and the
// residual r (solver.hpp's Workspace); the Jacobian row of r_i is (p1, p2, p3, -p1 l_i, -p2 m_i).
// Two measures beside the generic loop, each measured on Hoffmann et al.'s 4500 starts (with them, and
// the loop's step cap, all 4500 reach the optimum at ~26 iterations per start instead of ~85-135):
//   * before the first step, the log-amplitudes (a, b, e) alone are fitted with the exponents held:
//     grid starts are often orders of magnitude off in scale (a = 25, alpha = 0 predicts L = 7e10);
//   * every trial point is moved by the exact best common shift c of (a, b, e): it adds c to every
//     residual and leaves the shares unchanged, so it costs no exp or log. With delta = 1e-3 most runs
//     sit in the Huber loss's linear part, where the quadratic model is poorest along this direction.
//     (It must be exact: stopping its search after one or two passes costs 6-30% more iterations.)
//
// Cost: per trial point one pass over the runs with 2 exp and 1 log each (evaluate_runs, which also
// sums what the shift needs at c = 0), ~2 cheap passes for the shift, and for an accepted point one
// pass of derivative sums (plus the reweighted Gram where the Hessian is not positive definite).

#include "solver.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "fast_math.hpp"
#include "kernels.hpp"
#include "solver/factor.hpp"
#include "solver/lm.hpp"
#include "solver/shift.hpp"

namespace scalinglaw::detail {
namespace {

using Vec5 = Eigen::Matrix<double, 5, 1>;
using Mat5 = Eigen::Matrix<double, 5, 5>;
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;

// Coordinates of the solver's x: centred log-amplitudes, then the exponents.
constexpr int k_a = 0, k_b = 1, k_e = 2, k_alpha = 3, k_beta = 4;

constexpr double infinity = std::numeric_limits<double>::infinity();

// Iterations of the amplitude fit before the first full step; 20 lets it converge from any grid start.
constexpr int amplitude_iterations = 20;

Vec5 centred(const Problem& problem, const LogParams& q) {
    Vec5 x;
    x << q.a - q.alpha * problem.center_n, q.b - q.beta * problem.center_d, q.e, q.alpha, q.beta;
    return x;
}

LogParams uncentred(const Problem& problem, const Vec5& x) {
    return {x[k_a] + x[k_alpha] * problem.center_n, x[k_b] + x[k_beta] * problem.center_d, x[k_e], x[k_alpha],
            x[k_beta]};
}

RunLogs run_logs(const Problem& problem) {
    return {problem.log_n.data(), problem.log_d.data(), problem.log_loss.data(), problem.log_n.size()};
}

double finite_or_infinity(double f) { return std::isfinite(f) ? f : infinity; }

// The state at one point: per run, the shares of the three terms and the residual r[i] + shift (a
// common shift is kept apart: applying it to every residual would cost a pass over the runs).
struct State {
    double *p1, *p2, *p3, *r;
    double shift;
};

// Whether every exponent a - alpha l_i, b - beta m_i and e is within fast_exp's range. Each is affine
// in l_i (or m_i), so its largest size is at an extreme of l (m); a run in between can exceed that by
// an ulp of rounding, which fast_exp (exact to 1 ulp up to |x| = 700, finite up to 709) absorbs.
bool in_fast_range(const Problem& problem, const Vec5& x) {
    const double a = x[k_a], b = x[k_b], alpha = x[k_alpha], beta = x[k_beta];
    const double largest = std::max(
        {std::abs(a - alpha * problem.log_n_min), std::abs(a - alpha * problem.log_n_max),
         std::abs(b - beta * problem.log_d_min), std::abs(b - beta * problem.log_d_max), std::abs(x[k_e])});
    return largest <= fast_exp_limit;  // false for NaN
}

// Fills `s` at x (with shift 0) and `sums` (the residuals' ShiftSums at c = 0), and returns the
// objective (+inf where it is not finite). The direct sum of exponentials serves while every exponent
// is in fast_exp's range; otherwise the max-shifted logsumexp, exact wherever the objective is finite.
double evaluate(const Problem& problem, const Vec5& x, State& s, ShiftSums& sums) {
    s.shift = 0.0;
    if (!x.allFinite()) return infinity;
    const RunLogs runs = run_logs(problem);
    if (in_fast_range(problem, x)) {
        evaluate_runs(runs, x[k_a], x[k_b], x[k_e], x[k_alpha], x[k_beta], problem.delta, s.p1, s.p2, s.p3,
                      s.r, &sums);
    } else {
        for (std::size_t i = 0; i < runs.n; ++i) {
            const double u1 = x[k_a] - x[k_alpha] * runs.log_n[i];
            const double u2 = x[k_b] - x[k_beta] * runs.log_d[i];
            const double top = std::max({u1, u2, x[k_e]});
            const double t1 = std::exp(u1 - top), t2 = std::exp(u2 - top), t3 = std::exp(x[k_e] - top);
            const double total = t1 + t2 + t3;  // in [1, 3]
            s.p1[i] = t1 / total;
            s.p2[i] = t2 / total;
            s.p3[i] = t3 / total;
            s.r[i] = top + std::log(total) - runs.log_loss[i];
        }
        shift_sums(s.r, runs.n, problem.delta, 0.0, &sums);
    }
    return finite_or_infinity(sums.value);
}

// Moves x (and s) by the best common shift if that lowers f; returns the new objective.
double shift_exactly(const Problem& problem, Vec5& x, State& s, double f, const ShiftSums& sums) {
    const Shift best = best_shift(s.r, problem.log_n.size(), problem.delta, 1e-14 * f, sums);
    if (!(best.value < f)) return f;
    s.shift = best.c;
    x.head<3>().array() += best.c;
    return best.value;
}

Derivatives<5> derivatives(const Problem& problem, const State& s, Workspace& ws) {
    DerivativeSums sums;
    derivative_sums(run_logs(problem), s.p1, s.p2, s.p3, s.r, s.shift, problem.delta, ws.reweight.data(),
                    &sums);
    Derivatives<5> out;
    out.gradient = Eigen::Map<const Vec5>(sums.huber.gradient);
    out.reweighted_diagonal = Eigen::Map<const Vec5>(sums.huber.reweighted_diagonal);
    // Hess(r_i) = sum_k p_k m_k m_k^T - J_i J_i^T (the logsumexp of affine functions): its
    // psi-weighted sum is the psi-part of the weighted Gram plus these entries of the gradient.
    out.exact = from_upper<5>(sums.huber.gram);
    const Vec5& g = out.gradient;
    out.exact(k_a, k_a) += g[k_a];
    out.exact(k_b, k_b) += g[k_b];
    out.exact(k_e, k_e) += g[k_e];
    out.exact(k_a, k_alpha) += g[k_alpha];
    out.exact(k_alpha, k_a) += g[k_alpha];
    out.exact(k_b, k_beta) += g[k_beta];
    out.exact(k_beta, k_b) += g[k_beta];
    out.exact(k_alpha, k_alpha) += sums.curvature_alpha;
    out.exact(k_beta, k_beta) += sums.curvature_beta;
    return out;
}

// The reweighted model sum w_i J_i J_i^T (weights left in ws.reweight by derivatives()).
Mat5 reweighted_model(const Problem& problem, const State& s, const Workspace& ws) {
    Triangle<5> gram;
    weighted_gram(run_logs(problem), s.p1, s.p2, s.p3, ws.reweight.data(), &gram);
    return from_upper<5>(gram.upper);
}

// Fits the log-amplitudes (a, b, e) with the exponents held, by damped Newton on the 3x3 block. A
// change h of the amplitudes scales the terms by exp(h_k): the new residual is r + log(q) with
// q = sum_k p_k exp(h_k) and the new shares p_k exp(h_k) / q, so a trial costs one log per run.
// `s` must hold an unshifted state (as evaluate() leaves it); `scratch` is the trial buffer.
double fit_amplitudes(const Problem& problem, Vec5& x, State& s, State& scratch, Workspace& ws, double f,
                      const FitOptions& options, const bool* held) {
    const std::size_t n = problem.log_n.size();
    double lambda = 1e-6;
    // A held amplitude (a fixed one) keeps its value: zero gradient, a unit row and column.
    auto hold = [&](Mat3& m) {
        for (int k = 0; k < 3; ++k)
            if (held[k]) {
                m.row(k).setZero();
                m.col(k).setZero();
                m(k, k) = 1.0;
            }
    };
    for (int iteration = 0; iteration < amplitude_iterations; ++iteration) {
        HuberSums<3> sums;
        amplitude_derivative_sums(s.p1, s.p2, s.p3, s.r, n, problem.delta, ws.reweight.data(), &sums);
        Vec3 g = Eigen::Map<const Vec3>(sums.gradient);
        if (held)
            for (int k = 0; k < 3; ++k) g[k] = held[k] ? 0.0 : g[k];
        if (g.cwiseAbs().maxCoeff() <= options.gradient_tolerance * f) break;
        // The Hessian's amplitude block: the psi-part of the Gram plus the gradient on the diagonal.
        Mat3 exact = from_upper<3>(sums.gram);
        exact.diagonal() += g;
        if (held) hold(exact);
        const bool newton = Factor<3>(exact).ok();
        Mat3 model = newton ? exact : Mat3(reweighted_model(problem, s, ws).topLeftCorner<3, 3>());
        if (held && !newton) hold(model);
        Vec3 scaling = damping_scale<Vec3>(Eigen::Map<const Vec3>(sums.reweighted_diagonal));
        if (held)
            for (int k = 0; k < 3; ++k) scaling[k] = held[k] ? 1.0 : scaling[k];
        bool accepted = false;
        for (int attempt = 0; attempt < 6 && !accepted; ++attempt) {
            Mat3 damped = model;
            damped.diagonal() += lambda * scaling;
            const Factor<3> factor(damped);
            if (!factor.ok()) {
                lambda = std::max(10.0 * lambda, 1e-8);
                continue;
            }
            Vec3 h = factor.solve(-g);
            const double longest = h.cwiseAbs().maxCoeff();
            if (!std::isfinite(longest)) return f;
            if (longest > options.max_step) h *= options.max_step / longest;
            const double predicted = -(g.dot(h) + 0.5 * h.dot(model * h));
            if (predicted <= options.function_tolerance * f) return f;
            const double scale[3] = {std::exp(h[0]), std::exp(h[1]), std::exp(h[2])};
            const double f_trial = finite_or_infinity(
                amplitude_trial(s.p1, s.p2, s.p3, s.r, n, scale, problem.delta, scratch.p1, scratch.r));
            if (f_trial < f) {
                amplitude_accept(s.p1, s.p2, s.p3, n, scale, scratch.p1);
                std::swap(s.r, scratch.r);
                x.head<3>() += h;
                const double ratio = (f - f_trial) / predicted;
                f = f_trial;
                lambda *= ratio > 0.75 ? 1.0 / 3.0 : (ratio < 0.25 ? 2.0 : 1.0);
                accepted = true;
            } else {
                lambda = std::max(4.0 * lambda, 1e-8);
            }
        }
        if (!accepted) break;
    }
    return f;
}

State state(std::vector<double>& p1, std::vector<double>& p2, std::vector<double>& p3,
            std::vector<double>& r) {
    return {p1.data(), p2.data(), p3.data(), r.data(), 0.0};
}

// The Chinchilla objective as the LM loop sees it (solver/lm.hpp): a current and a trial state.
class Objective {
public:
    static constexpr int size = 5;
    Objective(const Problem& problem, Workspace& ws, State& current, State& trial)
        : problem_(problem), ws_(ws), current_(current), trial_(trial) {}
    // A trial point is moved by the exact common shift of (a, b, e) whenever that lowers f.
    double try_point(Vec5& x) {
        double f = evaluate(problem_, x, trial_, summary_);
        if (std::isfinite(f)) f = shift_exactly(problem_, x, trial_, f, summary_);
        return f;
    }
    void accept() { std::swap(current_, trial_); }
    Derivatives<5> derivatives() { return detail::derivatives(problem_, current_, ws_); }
    Mat5 reweighted_model() { return detail::reweighted_model(problem_, current_, ws_); }

private:
    const Problem& problem_;
    Workspace& ws_;
    State& current_;
    State& trial_;
    ShiftSums summary_;
};

// The same under a ChinchillaMap: the loop's z holds the free coordinates in their representatives'
// slots (0 elsewhere); x = expand(z) is the full centred point the kernels see.
class ConstrainedObjective {
public:
    static constexpr int size = 5;
    ConstrainedObjective(const Problem& problem, const ChinchillaMap& map, const Vec5& fixed, Workspace& ws,
                         State& current, State& trial)
        : problem_(problem), map_(map), fixed_(fixed), ws_(ws), current_(current), trial_(trial) {
        shift_ = map.slot[k_a] == k_a && map.slot[k_b] == k_b && map.slot[k_e] == k_e;
    }
    bool amplitudes_free() const { return shift_; }
    /// Whether every amplitude (a, b, e) is free or fixed, none tied: then the amplitudes can be fitted
    /// alone first, the fixed ones held (`held`), as the unconstrained path does.
    bool amplitudes_untied(bool held[3]) const {
        for (int k = 0; k < 3; ++k) {
            held[k] = map_.slot[k] < 0;
            if (!held[k] && map_.slot[k] != k) return false;
            for (int j = 0; j < 5; ++j)
                if (j != k && map_.slot[j] == k) return false;
        }
        return true;
    }
    Vec5 expand(const Vec5& z) const {
        Vec5 x;
        for (int j = 0; j < 5; ++j) x[j] = map_.slot[j] < 0 ? fixed_[j] : z[map_.slot[j]];
        return x;
    }
    Vec5 project(const Vec5& x) const {
        Vec5 z = Vec5::Zero();
        for (int j = 0; j < 5; ++j)
            if (map_.slot[j] == j) z[j] = x[j];
        return z;
    }
    double try_point(Vec5& z) {
        Vec5 x = expand(z);
        double f = evaluate(problem_, x, trial_, summary_);
        if (std::isfinite(f) && shift_) {
            f = shift_exactly(problem_, x, trial_, f, summary_);
            z = project(x);
        }
        return f;
    }
    void accept() { std::swap(current_, trial_); }
    Derivatives<5> derivatives() {
        const Derivatives<5> full = detail::derivatives(problem_, current_, ws_);
        Derivatives<5> out;
        out.gradient = Vec5::Zero();
        out.reweighted_diagonal = Vec5::Zero();
        out.exact = project(full.exact);
        for (int j = 0; j < 5; ++j) {
            const int s = map_.slot[j];
            if (s < 0) continue;
            out.gradient[s] += full.gradient[j];
            // the damping scale of a tie group: the sum of its members' (a scale, not P^T W P's diagonal,
            // which would need the reweighted model's off-diagonal entries, another pass)
            out.reweighted_diagonal[s] += full.reweighted_diagonal[j];
        }
        for (int j = 0; j < 5; ++j)
            if (map_.slot[j] != j) out.reweighted_diagonal[j] = 1.0;
        return out;
    }
    Mat5 reweighted_model() { return project(detail::reweighted_model(problem_, current_, ws_)); }

private:
    // P^T m P with a unit diagonal in the slots that are not free.
    Mat5 project(const Mat5& m) const {
        Mat5 out = Mat5::Zero();
        for (int j = 0; j < 5; ++j)
            for (int k = 0; k < 5; ++k)
                if (map_.slot[j] >= 0 && map_.slot[k] >= 0) out(map_.slot[j], map_.slot[k]) += m(j, k);
        for (int j = 0; j < 5; ++j)
            if (map_.slot[j] != j) {
                out.row(j).setZero();
                out.col(j).setZero();
                out(j, j) = 1.0;
            }
        return out;
    }
    const Problem& problem_;
    const ChinchillaMap& map_;
    Vec5 fixed_;
    Workspace& ws_;
    State& current_;
    State& trial_;
    ShiftSums summary_;
    bool shift_ = false;
};

}  // namespace

Problem make_problem(const RunsView& runs, double delta, const std::vector<std::size_t>* rows) {
    Problem problem;
    problem.delta = delta;
    const std::size_t count = rows ? rows->size() : runs.size;
    problem.log_n.resize(count);
    problem.log_d.resize(count);
    problem.log_loss.resize(count);
    double sum_n = 0.0, sum_d = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = rows ? (*rows)[i] : i;
        problem.log_n[i] = std::log(runs.n[row]);
        problem.log_d[i] = std::log(runs.d[row]);
        problem.log_loss[i] = std::log(runs.loss[row]);
        sum_n += problem.log_n[i];
        sum_d += problem.log_d[i];
    }
    problem.center_n = count ? sum_n / static_cast<double>(count) : 0.0;
    problem.center_d = count ? sum_d / static_cast<double>(count) : 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        problem.log_n[i] -= problem.center_n;
        problem.log_d[i] -= problem.center_d;
    }
    if (count > 0) {
        const auto [n_min, n_max] = std::minmax_element(problem.log_n.begin(), problem.log_n.end());
        const auto [d_min, d_max] = std::minmax_element(problem.log_d.begin(), problem.log_d.end());
        problem.log_n_min = *n_min;
        problem.log_n_max = *n_max;
        problem.log_d_min = *d_min;
        problem.log_d_max = *d_max;
    }
    return problem;
}

void Workspace::resize(std::size_t n) {
    for (auto* v : {&p1, &p2, &p3, &r, &trial_p1, &trial_p2, &trial_p3, &trial_r, &reweight}) v->resize(n);
}

double objective_at(const Problem& problem, const LogParams& q) {
    Workspace ws;
    ws.resize(problem.log_n.size());
    State s = state(ws.p1, ws.p2, ws.p3, ws.r);
    ShiftSums summary;
    return evaluate(problem, centred(problem, q), s, summary);
}

PointDerivatives derivatives_at(const Problem& problem, const std::array<double, 5>& x) {
    const std::size_t n = problem.log_n.size();
    Workspace ws;
    ws.resize(n);
    State s = state(ws.p1, ws.p2, ws.p3, ws.r);
    ShiftSums summary;
    const Vec5 at = Eigen::Map<const Vec5>(x.data());
    PointDerivatives out;
    out.objective = evaluate(problem, at, s, summary);
    out.residuals = ws.r;  // evaluate() leaves the shift at 0
    out.jacobian.resize(n);
    for (std::size_t i = 0; i < n; ++i)  // the rows weighted_gram sums: (p1, p2, p3, -p1 l, -p2 m)
        out.jacobian[i] = {ws.p1[i], ws.p2[i], ws.p3[i], -ws.p1[i] * problem.log_n[i],
                           -ws.p2[i] * problem.log_d[i]};
    const Derivatives dv = derivatives(problem, s, ws);
    for (int j = 0; j < 5; ++j) {
        out.gradient[static_cast<std::size_t>(j)] = dv.gradient[j];
        for (int k = 0; k < 5; ++k) out.hessian[static_cast<std::size_t>(5 * j + k)] = dv.exact(j, k);
    }
    return out;
}

Diagnostics diagnose(const Problem& problem, const LogParams& q) {
    Workspace ws;
    ws.resize(problem.log_n.size());
    State s = state(ws.p1, ws.p2, ws.p3, ws.r);
    ShiftSums summary;
    Diagnostics out{infinity, {0.0, 0.0, 0.0}};
    if (!std::isfinite(evaluate(problem, centred(problem, q), s, summary))) return out;
    const std::size_t n = problem.log_n.size();
    out.largest_share[0] = *std::max_element(s.p1, s.p1 + n);
    out.largest_share[1] = *std::max_element(s.p2, s.p2 + n);
    out.largest_share[2] = *std::max_element(s.p3, s.p3 + n);
    const Mat5 hessian = derivatives(problem, s, ws).exact;
    // A direction whose curvature is below the rounding of the largest is flat as far as doubles can
    // tell (e.g. a vanished term's amplitude: 1e-42 beside 75); scaling it to 1 would only magnify noise.
    const Vec5 diagonal = hessian.diagonal();
    if ((diagonal.array() <= DBL_EPSILON * diagonal.maxCoeff()).any() || !(diagonal.maxCoeff() > 0.0))
        return out;
    const Vec5 scale = diagonal.cwiseSqrt().cwiseInverse();
    const Eigen::SelfAdjointEigenSolver<Mat5> eigen(scale.asDiagonal() * hessian * scale.asDiagonal(),
                                                    Eigen::EigenvaluesOnly);
    const double smallest = eigen.eigenvalues().minCoeff(), largest = eigen.eigenvalues().maxCoeff();
    if (eigen.info() == Eigen::Success && smallest > 0.0) out.hessian_condition = largest / smallest;
    return out;
}

Best best_outcome(const std::vector<StartOutcome>& outcomes) { return best_of(outcomes); }

StartOutcome solve_from(const Problem& problem, const LogParams& start, const FitOptions& options,
                        Workspace& ws) {
    ws.resize(problem.log_n.size());
    State current = state(ws.p1, ws.p2, ws.p3, ws.r);
    State trial = state(ws.trial_p1, ws.trial_p2, ws.trial_p3, ws.trial_r);

    Vec5 x = centred(problem, start);
    ShiftSums summary;
    double f = evaluate(problem, x, current, summary);
    StartOutcome out{start, start, infinity, FitStatus::numerical_failure, 0};
    auto finish = [&](FitStatus status, int iterations) {
        out.params = uncentred(problem, x);
        out.objective = f;
        // A, B or E beyond the largest double is no answer, however low the objective.
        const double largest_log = std::log(std::numeric_limits<double>::max());
        if (!std::isfinite(f) || std::max({out.params.a, out.params.b, out.params.e}) > largest_log)
            status = FitStatus::numerical_failure;
        out.status = status;
        out.iterations = iterations;
        return out;
    };
    if (!std::isfinite(f)) return finish(FitStatus::numerical_failure, 0);
    f = fit_amplitudes(problem, x, current, trial, ws, f, options, nullptr);

    // Objectives below this are rounding noise in the residuals (|r| ~ 1e-15).
    const double f_floor = 1e-30 * static_cast<double>(problem.log_n.size());
    Objective objective(problem, ws, current, trial);
    const LmEnd end = levenberg_marquardt(objective, x, f, options, f_floor);
    return finish(end.status, end.iterations);
}

}  // namespace scalinglaw::detail

namespace scalinglaw::detail {

StartOutcome solve_constrained_from(const Problem& problem, const ChinchillaMap& map, const LogParams& start,
                                    const FitOptions& options, Workspace& ws) {
    ws.resize(problem.log_n.size());
    State current = state(ws.p1, ws.p2, ws.p3, ws.r);
    State trial = state(ws.trial_p1, ws.trial_p2, ws.trial_p3, ws.trial_r);
    // Fixed values and the start in the solver's centred coordinates; tied entries take their
    // representative's start value before centring.
    const double given[5] = {start.a, start.b, start.e, start.alpha, start.beta};
    double law[5];
    for (int j = 0; j < 5; ++j) law[j] = map.slot[j] < 0 ? map.fixed[j] : given[map.slot[j]];
    const Vec5 fixed = centred(
        problem, {map.fixed[k_a], map.fixed[k_b], map.fixed[k_e], map.fixed[k_alpha], map.fixed[k_beta]});
    ConstrainedObjective objective(problem, map, fixed, ws, current, trial);
    Vec5 x = centred(problem, {law[k_a], law[k_b], law[k_e], law[k_alpha], law[k_beta]});
    ShiftSums summary;
    double f = evaluate(problem, x, current, summary);
    StartOutcome out{start, start, infinity, FitStatus::numerical_failure, 0};
    Vec5 z = objective.project(x);
    auto finish = [&](FitStatus status, int iterations) {
        out.params = uncentred(problem, objective.expand(z));
        out.objective = f;
        const double largest_log = std::log(std::numeric_limits<double>::max());
        if (!std::isfinite(f) || std::max({out.params.a, out.params.b, out.params.e}) > largest_log)
            status = FitStatus::numerical_failure;
        out.status = status;
        out.iterations = iterations;
        return out;
    };
    if (!std::isfinite(f)) return finish(FitStatus::numerical_failure, 0);
    bool held[3];
    if (objective.amplitudes_untied(held)) {
        f = fit_amplitudes(problem, x, current, trial, ws, f, options,
                           objective.amplitudes_free() ? nullptr : held);
        z = objective.project(x);
    }
    const double f_floor = 1e-30 * static_cast<double>(problem.log_n.size());
    const LmEnd end = levenberg_marquardt(objective, z, f, options, f_floor);
    return finish(end.status, end.iterations);
}

}  // namespace scalinglaw::detail
