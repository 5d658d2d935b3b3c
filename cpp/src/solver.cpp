// Levenberg-Marquardt for the Huber objective of the Chinchilla law, from one start.
//
// Model of the objective near x (g the exact gradient, steps h solve (H + lambda D) h = -g):
//   * H = the exact Hessian, sum psi'(r_i) J_i J_i^T + sum psi(r_i) Hess(r_i), whenever it is positive
//     definite: near the optimum this is Newton's method and converges quadratically;
//   * otherwise H = sum w_i J_i J_i^T with w_i = psi(r_i) / r_i (1 inside delta, delta/|r_i| beyond),
//     the iteratively-reweighted Gauss-Newton model, which majorises the Huber loss and is always
//     positive semi-definite: the safe model far from the optimum.
// D is the diagonal of the reweighted model (Marquardt's scaling). lambda follows the ratio of actual to
// predicted decrease; steps longer than options.max_step in any coordinate are shortened by raising
// lambda before they are tried.

#include "solver.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "scalinglaw/huber.hpp"

namespace scalinglaw::detail {
namespace {

using Vec5 = Eigen::Matrix<double, 5, 1>;
using Mat5 = Eigen::Matrix<double, 5, 5>;
using Array = Eigen::ArrayXd;
using ArrayMap = Eigen::Map<Array>;
using ConstArrayMap = Eigen::Map<const Array>;

// Coordinates of the solver's x: centred log-amplitudes, then the exponents.
constexpr int k_a = 0, k_b = 1, k_e = 2, k_alpha = 3, k_beta = 4;

constexpr double infinity = std::numeric_limits<double>::infinity();

Vec5 centred(const Problem& problem, const LogParams& q) {
    Vec5 x;
    x << q.a - q.alpha * problem.center_n, q.b - q.beta * problem.center_d, q.e, q.alpha, q.beta;
    return x;
}

LogParams uncentred(const Problem& problem, const Vec5& x) {
    return {x[k_a] + x[k_alpha] * problem.center_n, x[k_b] + x[k_beta] * problem.center_d, x[k_e],
            x[k_alpha], x[k_beta]};
}

double huber_sum(const Array& r, double delta) {
    const Array size = r.abs();
    return (size <= delta).select(0.5 * r.square(), delta * (size - 0.5 * delta)).sum();
}

// Shares p_k of the three terms in each run's prediction, and residuals r, at x. Returns the objective,
// or +inf where it is not finite. The direct sum of exponentials is used when no term overflows or
// underflows; otherwise the max-shifted logsumexp, which is exact wherever the objective is finite.
double evaluate(const Problem& problem, const Vec5& x, std::vector<double>& p1_out,
                std::vector<double>& p2_out, std::vector<double>& p3_out, std::vector<double>& r_out) {
    const Eigen::Index n = static_cast<Eigen::Index>(problem.log_n.size());
    const ConstArrayMap log_n(problem.log_n.data(), n), log_d(problem.log_d.data(), n),
        log_loss(problem.log_loss.data(), n);
    ArrayMap p1(p1_out.data(), n), p2(p2_out.data(), n), p3(p3_out.data(), n), r(r_out.data(), n);

    if (!x.allFinite()) return infinity;
    const double term_e = std::exp(x[k_e]);
    p1 = (x[k_a] - x[k_alpha] * log_n).exp();
    p2 = (x[k_b] - x[k_beta] * log_d).exp();
    r = p1 + p2 + term_e;  // the prediction, for now
    if (std::isfinite(term_e) && r.allFinite() && r.minCoeff() >= DBL_MIN) {
        p1 /= r;
        p2 /= r;
        p3 = term_e / r;
        r = r.log() - log_loss;
    } else {
        const Array u1 = x[k_a] - x[k_alpha] * log_n, u2 = x[k_b] - x[k_beta] * log_d;
        const Array top = u1.max(u2).max(x[k_e]);
        p1 = (u1 - top).exp();
        p2 = (u2 - top).exp();
        p3 = (x[k_e] - top).exp();
        const Array total = p1 + p2 + p3;  // in [1, 3]
        p1 /= total;
        p2 /= total;
        p3 /= total;
        r = top + total.log() - log_loss;
    }
    const double f = huber_sum(r, problem.delta);
    return std::isfinite(f) ? f : infinity;
}

struct Derivatives {
    Vec5 gradient;
    Mat5 reweighted;  // sum w_i J_i J_i^T
    Mat5 exact;       // the Hessian of the objective
};

// sum_i c_i J_i J_i^T with J_i = (p1, p2, p3, -p1 l, -p2 m), the Jacobian row of r_i.
Mat5 weighted_gram(const Array& c, const Array& p1, const Array& p2, const Array& p3,
                   const ConstArrayMap& l, const ConstArrayMap& m) {
    const Array cp1 = c * p1, cp2 = c * p2, cp3 = c * p3;
    Mat5 h;
    h(0, 0) = (cp1 * p1).sum();
    h(0, 1) = (cp1 * p2).sum();
    h(0, 2) = (cp1 * p3).sum();
    h(0, 3) = -(cp1 * p1 * l).sum();
    h(0, 4) = -(cp1 * p2 * m).sum();
    h(1, 1) = (cp2 * p2).sum();
    h(1, 2) = (cp2 * p3).sum();
    h(1, 3) = -(cp2 * p1 * l).sum();
    h(1, 4) = -(cp2 * p2 * m).sum();
    h(2, 2) = (cp3 * p3).sum();
    h(2, 3) = -(cp3 * p1 * l).sum();
    h(2, 4) = -(cp3 * p2 * m).sum();
    h(3, 3) = (cp1 * p1 * l * l).sum();
    h(3, 4) = (cp1 * p2 * l * m).sum();
    h(4, 4) = (cp2 * p2 * m * m).sum();
    return h.selfadjointView<Eigen::Upper>();
}

Derivatives derivatives(const Problem& problem, const Workspace& ws) {
    const Eigen::Index n = static_cast<Eigen::Index>(problem.log_n.size());
    const ConstArrayMap l(problem.log_n.data(), n), m(problem.log_d.data(), n);
    const ConstArrayMap p1(ws.p1.data(), n), p2(ws.p2.data(), n), p3(ws.p3.data(), n),
        r(ws.r.data(), n);
    const double delta = problem.delta;

    const Array psi = r.max(-delta).min(delta);
    const Array size = r.abs();
    const Array inside = (size <= delta).cast<double>();                // psi'(r)
    const Array reweight = (size <= delta).select(1.0, delta / size);  // psi(r) / r

    Derivatives out;
    const Array psi_p1 = psi * p1, psi_p2 = psi * p2;
    out.gradient << psi_p1.sum(), psi_p2.sum(), (psi * p3).sum(), -(psi_p1 * l).sum(),
        -(psi_p2 * m).sum();
    out.reweighted = weighted_gram(reweight, p1, p2, p3, l, m);
    // Hess(r_i) = sum_k p_k m_k m_k^T - J_i J_i^T (logsumexp of affine functions), whose psi-weighted
    // sum reuses the gradient's entries; only the two squared-log sums are new.
    out.exact = weighted_gram(inside - psi, p1, p2, p3, l, m);
    const Vec5& g = out.gradient;
    out.exact(k_a, k_a) += g[k_a];
    out.exact(k_b, k_b) += g[k_b];
    out.exact(k_e, k_e) += g[k_e];
    out.exact(k_a, k_alpha) += g[k_alpha];
    out.exact(k_alpha, k_a) += g[k_alpha];
    out.exact(k_b, k_beta) += g[k_beta];
    out.exact(k_beta, k_b) += g[k_beta];
    out.exact(k_alpha, k_alpha) += (psi_p1 * l * l).sum();
    out.exact(k_beta, k_beta) += (psi_p2 * m * m).sum();
    return out;
}

// Globalisation before the first step: the log-amplitudes of the grid's starts are often far off (a
// start with a = 25, alpha = 0 predicts a loss of 7e10), and a term started many orders of magnitude
// below the others has a vanishing gradient. Two rounds try, for the common scale of the three terms
// and then for each term alone, a few levels relative to the geometric-mean loss, keeping any level
// that lowers the objective. The exponents are left alone; each trial costs one log per run.
void rescale_amplitudes(const Problem& problem, Vec5& x) {
    const Eigen::Index n = static_cast<Eigen::Index>(problem.log_n.size());
    const ConstArrayMap l(problem.log_n.data(), n), m(problem.log_d.data(), n),
        log_loss(problem.log_loss.data(), n);
    const Array shape_a = (-x[k_alpha] * l).exp(), shape_b = (-x[k_beta] * m).exp();
    if (!shape_a.allFinite() || !shape_b.allFinite() || !x.allFinite()) return;

    const double log_typical_loss = log_loss.mean();
    auto objective_with = [&](const Vec5& y) {
        const Array prediction =
            std::exp(y[k_a]) * shape_a + std::exp(y[k_b]) * shape_b + std::exp(y[k_e]);
        const double f = huber_sum(prediction.log() - log_loss, problem.delta);
        return std::isfinite(f) ? f : infinity;
    };
    constexpr double shares[] = {1e-3, 1e-2, 0.1, 0.3, 0.6, 1.0, 2.0};
    double best = objective_with(x);
    for (int round = 0; round < 2; ++round) {
        for (int term = -1; term < 3; ++term) {  // -1: all three together
            Vec5 best_x = x;
            for (double share : shares) {
                Vec5 y = x;
                const double level = std::log(share) + log_typical_loss;
                if (term < 0) {
                    // log of the prediction's geometric mean, computed stably
                    const double top = std::max({x[k_a], x[k_b], x[k_e]});
                    const double log_mean = top + (std::exp(x[k_a] - top) * shape_a +
                                                   std::exp(x[k_b] - top) * shape_b +
                                                   std::exp(x[k_e] - top))
                                                      .log()
                                                      .mean();
                    if (!std::isfinite(log_mean)) continue;
                    y.head<3>().array() += level - log_mean;
                } else {
                    y[term] = level;  // centred logs: the term's geometric mean over the runs
                }
                const double f = objective_with(y);
                if (f < best) {
                    best = f;
                    best_x = y;
                }
            }
            x = best_x;
        }
    }
}

}  // namespace

Problem make_problem(const RunsView& runs, double delta, const std::vector<std::size_t>* rows) {
    Problem problem;
    problem.delta = delta;
    const std::size_t count = rows ? rows->size() : runs.size;
    problem.log_n.resize(count);
    problem.log_d.resize(count);
    problem.log_loss.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = rows ? (*rows)[i] : i;
        problem.log_n[i] = std::log(runs.n[row]);
        problem.log_d[i] = std::log(runs.d[row]);
        problem.log_loss[i] = std::log(runs.loss[row]);
    }
    double sum_n = 0.0, sum_d = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        sum_n += problem.log_n[i];
        sum_d += problem.log_d[i];
    }
    problem.center_n = count ? sum_n / static_cast<double>(count) : 0.0;
    problem.center_d = count ? sum_d / static_cast<double>(count) : 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        problem.log_n[i] -= problem.center_n;
        problem.log_d[i] -= problem.center_d;
    }
    return problem;
}

double objective_at(const Problem& problem, const LogParams& q) {
    Workspace ws;
    const std::size_t n = problem.log_n.size();
    ws.p1.resize(n);
    ws.p2.resize(n);
    ws.p3.resize(n);
    ws.r.resize(n);
    return evaluate(problem, centred(problem, q), ws.p1, ws.p2, ws.p3, ws.r);
}

PointDerivatives derivatives_at(const Problem& problem, const std::array<double, 5>& x) {
    const std::size_t n = problem.log_n.size();
    Workspace ws;
    for (auto* v : {&ws.p1, &ws.p2, &ws.p3, &ws.r}) v->resize(n);
    const Vec5 at = Eigen::Map<const Vec5>(x.data());
    PointDerivatives out;
    out.objective = evaluate(problem, at, ws.p1, ws.p2, ws.p3, ws.r);
    out.residuals = ws.r;
    out.jacobian.resize(n);
    for (std::size_t i = 0; i < n; ++i)  // the rows weighted_gram sums: (p1, p2, p3, -p1 l, -p2 m)
        out.jacobian[i] = {ws.p1[i], ws.p2[i], ws.p3[i], -ws.p1[i] * problem.log_n[i],
                           -ws.p2[i] * problem.log_d[i]};
    const Derivatives dv = derivatives(problem, ws);
    for (int j = 0; j < 5; ++j) {
        out.gradient[static_cast<std::size_t>(j)] = dv.gradient[j];
        for (int k = 0; k < 5; ++k) out.hessian[static_cast<std::size_t>(5 * j + k)] = dv.exact(j, k);
    }
    return out;
}

StartOutcome solve_from(const Problem& problem, const LogParams& start, const FitOptions& options,
                        Workspace& ws) {
    const std::size_t n = problem.log_n.size();
    for (auto* v : {&ws.p1, &ws.p2, &ws.p3, &ws.r, &ws.trial_p1, &ws.trial_p2, &ws.trial_p3,
                    &ws.trial_r})
        v->resize(n);

    StartOutcome out{start, start, infinity, FitStatus::numerical_failure, 0};
    Vec5 x = centred(problem, start);
    rescale_amplitudes(problem, x);
    double f = evaluate(problem, x, ws.p1, ws.p2, ws.p3, ws.r);
    auto finish = [&](FitStatus status, int iterations) {
        out.params = uncentred(problem, x);
        out.objective = f;
        // A, B or E beyond the largest double is no answer, however low the objective.
        const double largest_log = std::log(std::numeric_limits<double>::max());
        if (std::max({out.params.a, out.params.b, out.params.e}) > largest_log)
            status = FitStatus::numerical_failure;
        out.status = status;
        out.iterations = iterations;
        return out;
    };
    if (!std::isfinite(f)) return finish(FitStatus::numerical_failure, 0);

    // Objectives below this are rounding noise in the residuals (|r| ~ 1e-15).
    const double f_floor = 1e-30 * static_cast<double>(n);
    Derivatives dv = derivatives(problem, ws);
    double lambda = 1e-3, nu = 2.0;
    int iteration = 0;
    while (iteration < options.max_iterations) {
        const double f_scale = std::max(f, f_floor);
        double scaled_gradient = 0.0;
        for (int j = 0; j < 5; ++j)
            scaled_gradient =
                std::max(scaled_gradient, std::abs(dv.gradient[j]) * std::max(1.0, std::abs(x[j])));
        if (scaled_gradient <= options.gradient_tolerance * f_scale)
            return finish(FitStatus::converged, iteration);

        const Vec5 scaling = dv.reweighted.diagonal().cwiseMax(
            1e-12 * std::max(dv.reweighted.diagonal().maxCoeff(), DBL_MIN));
        const Eigen::LLT<Mat5> exact_factor(dv.exact);
        const Mat5& model = exact_factor.info() == Eigen::Success ? dv.exact : dv.reweighted;

        Mat5 damped = model;
        damped.diagonal() += lambda * scaling;
        const Eigen::LLT<Mat5> factor(damped);
        if (factor.info() != Eigen::Success || lambda > 1e30) {
            if (lambda > 1e30) return finish(FitStatus::numerical_failure, iteration);
            lambda *= nu;
            nu *= 2.0;
            continue;
        }
        const Vec5 step = factor.solve(-dv.gradient);
        if (!step.allFinite()) return finish(FitStatus::numerical_failure, iteration);
        if (step.cwiseAbs().maxCoeff() > options.max_step) {
            lambda = std::max(4.0 * lambda, 1e-8);  // shorten without spending an evaluation
            continue;
        }
        const double predicted = -(dv.gradient.dot(step) + 0.5 * step.dot(model * step));
        if (predicted <= options.function_tolerance * f_scale)
            return finish(FitStatus::converged, iteration);

        const Vec5 trial = x + step;
        const double f_trial = evaluate(problem, trial, ws.trial_p1, ws.trial_p2, ws.trial_p3,
                                        ws.trial_r);
        ++iteration;
        const double ratio = std::isfinite(f_trial) ? (f - f_trial) / predicted : -1.0;
        if (ratio > 0.0) {
            x = trial;
            f = f_trial;
            std::swap(ws.p1, ws.trial_p1);
            std::swap(ws.p2, ws.trial_p2);
            std::swap(ws.p3, ws.trial_p3);
            std::swap(ws.r, ws.trial_r);
            dv = derivatives(problem, ws);
            lambda *= ratio > 0.75 ? 1.0 / 3.0 : (ratio < 0.25 ? 2.0 : 1.0);
            nu = 2.0;
            if (step.norm() <= options.parameter_tolerance *
                                   (x.norm() + options.parameter_tolerance))
                return finish(FitStatus::converged, iteration);
        } else {
            lambda *= nu;
            nu *= 2.0;
        }
    }
    return finish(FitStatus::max_iterations, iteration);
}

}  // namespace scalinglaw::detail
