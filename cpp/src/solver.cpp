// Levenberg-Marquardt for the Huber objective of the Chinchilla law, from one start.
//
// The state at a point x is, per run, the shares p_k of the three terms in the prediction and the
// residual r (solver.hpp's Workspace); the Jacobian row of r_i is (p1, p2, p3, -p1 l_i, -p2 m_i).
//
// Model of the objective near x (g the exact gradient; a step h solves (H + lambda D) h = -g):
//   * H = the exact Hessian, sum psi'(r_i) J_i J_i^T + sum psi(r_i) Hess(r_i), whenever it is positive
//     definite: near the optimum this is Newton's method and converges quadratically;
//   * otherwise H = sum w_i J_i J_i^T with w_i = psi(r_i) / r_i (1 inside delta, delta/|r_i| beyond),
//     the iteratively-reweighted Gauss-Newton model: it majorises the Huber loss and is always
//     positive semi-definite, the safe model far from the optimum.
// D is the diagonal of the reweighted model (Marquardt's scaling); lambda follows the ratio of actual to
// predicted decrease. Three further measures, each measured on Hoffmann et al.'s 4500 starts (with them
// all 4500 reach the optimum, at ~30 iterations per start instead of ~85-135):
//   * no step may move a coordinate by more than options.max_step: longer jumps land where a term has
//     vanished and the start is stranded (lambda is raised before such a step is evaluated);
//   * before the first step, the log-amplitudes (a, b, e) alone are fitted with the exponents held:
//     grid starts are often orders of magnitude off in scale (a = 25, alpha = 0 predicts L = 7e10);
//   * every trial point is moved by the exact best common shift c of (a, b, e): it adds c to every
//     residual and leaves the shares unchanged, so it costs no exp or log. With delta = 1e-3 most runs
//     sit in the Huber loss's linear part, where the quadratic model is poorest along this direction.

#include "solver.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace scalinglaw::detail {
namespace {

using Vec5 = Eigen::Matrix<double, 5, 1>;
using Mat5 = Eigen::Matrix<double, 5, 5>;
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;
using Array = Eigen::ArrayXd;
using ArrayMap = Eigen::Map<Array>;
using ConstArrayMap = Eigen::Map<const Array>;

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
    return {x[k_a] + x[k_alpha] * problem.center_n, x[k_b] + x[k_beta] * problem.center_d, x[k_e],
            x[k_alpha], x[k_beta]};
}

double huber_sum(const Array& r, double delta) {
    const Array size = r.abs();
    const double f = (size <= delta).select(0.5 * r.square(), delta * (size - 0.5 * delta)).sum();
    return std::isfinite(f) ? f : infinity;
}

// The state at one point: shares of the three terms and residuals, as views of workspace vectors.
struct State {
    ArrayMap p1, p2, p3, r;
    State(std::vector<double>& a, std::vector<double>& b, std::vector<double>& c, std::vector<double>& d)
        : p1(a.data(), static_cast<Eigen::Index>(a.size())),
          p2(b.data(), static_cast<Eigen::Index>(b.size())),
          p3(c.data(), static_cast<Eigen::Index>(c.size())),
          r(d.data(), static_cast<Eigen::Index>(d.size())) {}
};

// Fills `s` at x and returns the objective (+inf where it is not finite). The direct sum of
// exponentials is used when no term overflows or underflows; otherwise the max-shifted logsumexp,
// which is exact wherever the objective is finite.
double evaluate(const Problem& problem, const Vec5& x, State& s) {
    const Eigen::Index n = s.r.size();
    const ConstArrayMap log_n(problem.log_n.data(), n), log_d(problem.log_d.data(), n),
        log_loss(problem.log_loss.data(), n);
    if (!x.allFinite()) return infinity;
    const double term_e = std::exp(x[k_e]);
    s.p1 = (x[k_a] - x[k_alpha] * log_n).exp();
    s.p2 = (x[k_b] - x[k_beta] * log_d).exp();
    s.r = s.p1 + s.p2 + term_e;  // the prediction, for now
    if (std::isfinite(term_e) && s.r.allFinite() && s.r.minCoeff() >= DBL_MIN) {
        s.p3 = term_e / s.r;
        s.p1 /= s.r;
        s.p2 /= s.r;
        s.r = s.r.log() - log_loss;
    } else {
        const Array u1 = x[k_a] - x[k_alpha] * log_n, u2 = x[k_b] - x[k_beta] * log_d;
        const Array top = u1.max(u2).max(x[k_e]);
        s.p1 = (u1 - top).exp();
        s.p2 = (u2 - top).exp();
        s.p3 = (x[k_e] - top).exp();
        const Array total = s.p1 + s.p2 + s.p3;  // in [1, 3]
        s.p1 /= total;
        s.p2 /= total;
        s.p3 /= total;
        s.r = top + total.log() - log_loss;
    }
    return huber_sum(s.r, problem.delta);
}

// The c minimising sum huber(r_i + c): a convex 1-D problem whose derivative sum psi(r_i + c) is
// monotone. Safeguarded Newton inside the bracket where that derivative changes sign.
double best_shift(const ConstArrayMap& r, double delta) {
    double low = -r.maxCoeff() - delta, high = -r.minCoeff() + delta;
    double c = (low <= 0.0 && 0.0 <= high) ? 0.0 : 0.5 * (low + high);
    for (int k = 0; k < 100; ++k) {
        double slope = 0.0;
        int inside = 0;
        for (Eigen::Index i = 0; i < r.size(); ++i) {
            const double z = r[i] + c;
            if (std::abs(z) <= delta) {
                slope += z;
                ++inside;
            } else {
                slope += z > 0 ? delta : -delta;
            }
        }
        if (slope > 0) high = c;
        else low = c;
        if (slope == 0.0) break;
        double next = inside > 0 ? c - slope / inside : 0.5 * (low + high);
        if (!(next > low && next < high)) next = 0.5 * (low + high);
        const bool settled = std::abs(next - c) <= 1e-15 * (1.0 + std::abs(c));
        c = next;
        if (settled || high - low <= 1e-15 * (1.0 + std::abs(c))) break;
    }
    return c;
}

// Moves x (and s) by the best common shift if that lowers f; returns the new objective.
double shift_exactly(const Problem& problem, Vec5& x, State& s, double f) {
    const double c = best_shift(ConstArrayMap(s.r.data(), s.r.size()), problem.delta);
    const double shifted = huber_sum(s.r + c, problem.delta);
    if (!(shifted < f)) return f;
    s.r += c;
    x.head<3>().array() += c;
    return shifted;
}

// sum_i c_i J_i J_i^T with J_i = (p1, p2, p3, -p1 l, -p2 m), the Jacobian row of r_i.
Mat5 weighted_gram(const Array& c, const State& s, const ConstArrayMap& l, const ConstArrayMap& m) {
    const Array cp1 = c * s.p1, cp2 = c * s.p2, cp3 = c * s.p3;
    const Array cp1l = cp1 * l, cp2m = cp2 * m;
    Mat5 h;
    h(0, 0) = (cp1 * s.p1).sum();
    h(0, 1) = (cp1 * s.p2).sum();
    h(0, 2) = (cp1 * s.p3).sum();
    h(0, 3) = -(cp1l * s.p1).sum();
    h(0, 4) = -(cp2m * s.p1).sum();
    h(1, 1) = (cp2 * s.p2).sum();
    h(1, 2) = (cp2 * s.p3).sum();
    h(1, 3) = -(cp1l * s.p2).sum();
    h(1, 4) = -(cp2m * s.p2).sum();
    h(2, 2) = (cp3 * s.p3).sum();
    h(2, 3) = -(cp1l * s.p3).sum();
    h(2, 4) = -(cp2m * s.p3).sum();
    h(3, 3) = (cp1l * s.p1 * l).sum();
    h(3, 4) = (cp1l * s.p2 * m).sum();
    h(4, 4) = (cp2m * s.p2 * m).sum();
    return h.selfadjointView<Eigen::Upper>();
}

struct Derivatives {
    Vec5 gradient;
    Mat5 exact;       // the Hessian of the objective
    Mat5 reweighted;  // sum w_i J_i J_i^T
};

Derivatives derivatives(const Problem& problem, const State& s) {
    const Eigen::Index n = s.r.size();
    const ConstArrayMap l(problem.log_n.data(), n), m(problem.log_d.data(), n);
    const double delta = problem.delta;
    const Array size = s.r.abs();
    const Array psi = s.r.max(-delta).min(delta);
    const Array inside = (size <= delta).cast<double>();                // psi'(r)
    const Array reweight = (size <= delta).select(1.0, delta / size);  // psi(r) / r

    Derivatives out;
    const Array psi_p1 = psi * s.p1, psi_p2 = psi * s.p2;
    out.gradient << psi_p1.sum(), psi_p2.sum(), (psi * s.p3).sum(), -(psi_p1 * l).sum(),
        -(psi_p2 * m).sum();
    out.reweighted = weighted_gram(reweight, s, l, m);
    // Hess(r_i) = sum_k p_k m_k m_k^T - J_i J_i^T (the logsumexp of affine functions), whose
    // psi-weighted sum reuses the gradient's entries; only the two squared-log sums are new.
    out.exact = weighted_gram(inside - psi, s, l, m);
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

// Damping scale: the reweighted model's diagonal, floored so that no direction is undamped.
template <class Vector>
Vector damping_scale(const Vector& diagonal) {
    return diagonal.cwiseMax(1e-12 * std::max(diagonal.maxCoeff(), DBL_MIN));
}

// Fits the log-amplitudes (a, b, e) with the exponents held, by damped Newton on the 3x3 block. A
// change h of the amplitudes scales the terms by exp(h_k): the new residual is r + log(q) with
// q = sum_k p_k exp(h_k) and the new shares p_k exp(h_k) / q, so a trial costs one log per run.
double fit_amplitudes(const Problem& problem, Vec5& x, State& s, State& trial, double f,
                      const FitOptions& options) {
    double lambda = 1e-6;
    for (int iteration = 0; iteration < amplitude_iterations; ++iteration) {
        const Derivatives dv = derivatives(problem, s);
        const Vec3 g = dv.gradient.head<3>();
        if (g.cwiseAbs().maxCoeff() <= options.gradient_tolerance * f) break;
        const Mat3 exact = dv.exact.topLeftCorner<3, 3>();
        const Mat3 reweighted = dv.reweighted.topLeftCorner<3, 3>();
        const Mat3& model = Eigen::LLT<Mat3>(exact).info() == Eigen::Success ? exact : reweighted;
        const Vec3 scaling = damping_scale<Vec3>(reweighted.diagonal());
        bool accepted = false;
        for (int attempt = 0; attempt < 6 && !accepted; ++attempt) {
            Mat3 damped = model;
            damped.diagonal() += lambda * scaling;
            const Eigen::LLT<Mat3> factor(damped);
            if (factor.info() != Eigen::Success) {
                lambda = std::max(10.0 * lambda, 1e-8);
                continue;
            }
            Vec3 h = factor.solve(-g);
            const double longest = h.cwiseAbs().maxCoeff();
            if (!std::isfinite(longest)) return f;
            if (longest > options.max_step) h *= options.max_step / longest;
            const double predicted = -(g.dot(h) + 0.5 * h.dot(model * h));
            if (predicted <= options.function_tolerance * f) return f;
            const Array q = s.p1 * std::exp(h[0]) + s.p2 * std::exp(h[1]) + s.p3 * std::exp(h[2]);
            trial.r = s.r + q.log();
            const double f_trial = huber_sum(trial.r, problem.delta);
            if (f_trial < f) {
                trial.p1 = s.p1 * std::exp(h[0]) / q;
                trial.p2 = s.p2 * std::exp(h[1]) / q;
                trial.p3 = s.p3 * std::exp(h[2]) / q;
                s.p1 = trial.p1;
                s.p2 = trial.p2;
                s.p3 = trial.p3;
                s.r = trial.r;
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
    return problem;
}

void Workspace::resize(std::size_t n) {
    for (auto* v : {&p1, &p2, &p3, &r, &trial_p1, &trial_p2, &trial_p3, &trial_r}) v->resize(n);
}

double objective_at(const Problem& problem, const LogParams& q) {
    Workspace ws;
    ws.resize(problem.log_n.size());
    State s(ws.p1, ws.p2, ws.p3, ws.r);
    return evaluate(problem, centred(problem, q), s);
}

StartOutcome solve_from(const Problem& problem, const LogParams& start, const FitOptions& options,
                        Workspace& ws) {
    ws.resize(problem.log_n.size());
    State first(ws.p1, ws.p2, ws.p3, ws.r), second(ws.trial_p1, ws.trial_p2, ws.trial_p3, ws.trial_r);
    State* current = &first;  // swapped with `trial` when a step is accepted
    State* trial = &second;

    Vec5 x = centred(problem, start);
    double f = evaluate(problem, x, *current);
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
    f = fit_amplitudes(problem, x, *current, *trial, f, options);

    // Objectives below this are rounding noise in the residuals (|r| ~ 1e-15).
    const double f_floor = 1e-30 * static_cast<double>(problem.log_n.size());
    Derivatives dv = derivatives(problem, *current);
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

        const Vec5 scaling = damping_scale<Vec5>(dv.reweighted.diagonal());
        const Mat5& model =
            Eigen::LLT<Mat5>(dv.exact).info() == Eigen::Success ? dv.exact : dv.reweighted;
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

        Vec5 x_trial = x + step;
        double f_trial = evaluate(problem, x_trial, *trial);
        if (std::isfinite(f_trial)) f_trial = shift_exactly(problem, x_trial, *trial, f_trial);
        ++iteration;
        const double ratio = std::isfinite(f_trial) ? (f - f_trial) / predicted : -1.0;
        if (ratio > 0.0) {
            x = x_trial;
            f = f_trial;
            std::swap(current, trial);
            dv = derivatives(problem, *current);
            lambda *= ratio > 0.75 ? 1.0 / 5.0 : (ratio < 0.25 ? 2.0 : 1.0);
            nu = 2.0;
            if (step.norm() <= options.parameter_tolerance * (x.norm() + options.parameter_tolerance))
                return finish(FitStatus::converged, iteration);
        } else {
            lambda *= nu;
            nu *= 2.0;
        }
    }
    return finish(FitStatus::max_iterations, iteration);
}

}  // namespace scalinglaw::detail
