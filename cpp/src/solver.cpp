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
// D is the diagonal of the reweighted model (Marquardt's scaling). After an accepted step lambda follows
// the ratio of actual to predicted decrease; each model keeps its own lambda. After a rejected step
// the next one is that of the same model whose scaled length |D^1/2 h| is a set fraction of the
// rejected one's (damping_for_length), not lambda times a factor: with lambda D small beside H, raising
// lambda 2x, 4x, 16x... barely shortens the step and costs an evaluation each time. Three further
// measures, each measured on Hoffmann et al.'s 4500 starts (with them all 4500 reach the optimum, at
// ~26 iterations per start instead of ~85-135):
//   * no step may move a coordinate by more than options.max_step: longer jumps land where a term has
//     vanished and the start is stranded (lambda is raised before such a step is evaluated);
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

// Factorization L D L^T (L unit lower triangular, D diagonal) of a small symmetric matrix, of which
// the lower triangle is read; ok() is true when it is positive definite (every pivot of D > 0; NaN
// fails), and only then may the solves be called. Written out for fixed N, with no square roots and
// one division per column: Eigen's LLT costs several times more at these sizes.
template <int N>
class Factor {
public:
    using Vector = Eigen::Matrix<double, N, 1>;
    explicit Factor(const Eigen::Matrix<double, N, N>& a) {
#pragma GCC unroll 5
        for (int j = 0; j < N; ++j) {
            double pivot = a(j, j);
#pragma GCC unroll 5
            for (int k = 0; k < j; ++k) pivot -= l_[j][k] * ld_[j][k];
            if (!(pivot > 0.0)) return;
            pivot_[j] = pivot;
#pragma GCC unroll 5
            for (int i = j + 1; i < N; ++i) {
                double v = a(i, j);
#pragma GCC unroll 5
                for (int k = 0; k < j; ++k) v -= l_[i][k] * ld_[j][k];
                ld_[i][j] = v;  // L(i, j) * D(j)
                l_[i][j] = v / pivot;
            }
        }
        ok_ = true;
    }
    bool ok() const { return ok_; }
    /// (L D L^T)^-1 b.
    Vector solve(const Vector& b) const {
        Vector y = lower(b);
#pragma GCC unroll 5
        for (int i = 0; i < N; ++i) y[i] /= pivot_[i];
#pragma GCC unroll 5
        for (int i = N - 1; i >= 0; --i)
#pragma GCC unroll 5
            for (int k = i + 1; k < N; ++k) y[i] -= l_[k][i] * y[k];
        return y;
    }
    /// b' (L D L^T)^-1 b.
    double inverse_form(const Vector& b) const {
        const Vector y = lower(b);
        double sum = 0.0;
#pragma GCC unroll 5
        for (int i = 0; i < N; ++i) sum += y[i] * y[i] / pivot_[i];
        return sum;
    }

private:
    Vector lower(const Vector& b) const {  // L^-1 b
        Vector y = b;
#pragma GCC unroll 5
        for (int i = 1; i < N; ++i)
#pragma GCC unroll 5
            for (int k = 0; k < i; ++k) y[i] -= l_[i][k] * y[k];
        return y;
    }
    double l_[N][N];   // strictly lower part used
    double ld_[N][N];  // L(i, j) D(j), strictly lower part used
    double pivot_[N];  // D(j)
    bool ok_ = false;
};

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

// The c minimising g(c) = sum huber(r_i + c): a convex 1-D problem whose derivative, sum psi(r_i + c),
// is monotone and piecewise linear. Each pass over the runs (shift_sums) gives g, g', g'' and how far
// g' stays linear around c. Newton steps from c = 0 (the pass at 0 comes with the evaluation): a step
// that stays within the linear piece lands on the minimum exactly, and g there is known without a
// further pass; a longer one is checked by the next pass. When a step leaves the bracket around the
// root, Illinois false position inside it (the bracket starts at -max r - delta and -min r + delta,
// where g' = -+ n delta, found by a pass only when needed). Otherwise stops once g(c) is provably
// within `tolerance` of the minimum (convexity: g(c) - min g <= |g'| * bracket width). Returns c, g(c).
struct Shift {
    double c, value;
};

Shift best_shift(const double* r, std::size_t n, double delta, double tolerance, const ShiftSums& at_zero) {
    double low = -infinity, high = infinity;
    double slope_low = -static_cast<double>(n) * delta, slope_high = -slope_low;
    double c = 0.0;
    ShiftSums s = at_zero;
    int last_side = 0;
    for (int pass = 0; pass < 100; ++pass) {
        if (s.slope == 0.0) break;
        if (s.inside > 0.0) {  // g = quadratic up to the nearest kink: g(c + h) = g + g' h + g'' h^2 / 2
            const double step = -s.slope / s.inside;
            if (step > 0.0 ? step <= s.up : -step <= s.down)
                return {c + step, s.value + 0.5 * s.slope * step};
        }
        const int side = s.slope > 0 ? 1 : -1;
        if (side > 0) {
            high = c;
            slope_high = s.slope;
            if (last_side > 0) slope_low *= 0.5;  // Illinois: keep false position from stalling
        } else {
            low = c;
            slope_low = s.slope;
            if (last_side < 0) slope_high *= 0.5;
        }
        last_side = side;
        if (std::max(-slope_low, slope_high) * (high - low) <= tolerance) break;
        double next = s.inside > 0.0 ? c - s.slope / s.inside : low - 1.0;
        if (!(next > low && next < high) && !(std::isfinite(low) && std::isfinite(high))) {
            double r_min, r_max;
            residual_range(r, n, &r_min, &r_max);
            if (!std::isfinite(low)) low = -r_max - delta;
            if (!std::isfinite(high)) high = -r_min + delta;
        }
        if (!(next > low && next < high)) next = low - slope_low * (high - low) / (slope_high - slope_low);
        if (!(next > low && next < high)) next = 0.5 * (low + high);
        c = next;
        shift_sums(r, n, delta, c, &s);
    }
    return {c, s.value};
}

// Moves x (and s) by the best common shift if that lowers f; returns the new objective.
double shift_exactly(const Problem& problem, Vec5& x, State& s, double f, const ShiftSums& sums) {
    const Shift best = best_shift(s.r, problem.log_n.size(), problem.delta, 1e-14 * f, sums);
    if (!(best.value < f)) return f;
    s.shift = best.c;
    x.head<3>().array() += best.c;
    return best.value;
}

Mat5 from_upper(const double* upper) {
    Mat5 h;
    for (int row = 0, k = 0; row < 5; ++row)
        for (int col = row; col < 5; ++col, ++k) h(row, col) = h(col, row) = upper[k];
    return h;
}

struct Derivatives {
    Vec5 gradient;
    Mat5 exact;                // the Hessian of the objective
    Vec5 reweighted_diagonal;  // of sum w_i J_i J_i^T
};

Derivatives derivatives(const Problem& problem, const State& s, Workspace& ws) {
    const RunLogs runs = run_logs(problem);
    double sums[27];
    derivative_sums(runs, s.p1, s.p2, s.p3, s.r, s.shift, problem.delta, ws.reweight.data(), sums);
    const double* upper = sums + 12;
    Derivatives out;
    out.gradient = Eigen::Map<const Vec5>(sums);
    out.reweighted_diagonal = Eigen::Map<const Vec5>(sums + 7);
    // Hess(r_i) = sum_k p_k m_k m_k^T - J_i J_i^T (the logsumexp of affine functions): its
    // psi-weighted sum is the psi-part of the weighted Gram plus these entries of the gradient.
    out.exact = from_upper(upper);
    const Vec5& g = out.gradient;
    out.exact(k_a, k_a) += g[k_a];
    out.exact(k_b, k_b) += g[k_b];
    out.exact(k_e, k_e) += g[k_e];
    out.exact(k_a, k_alpha) += g[k_alpha];
    out.exact(k_alpha, k_a) += g[k_alpha];
    out.exact(k_b, k_beta) += g[k_beta];
    out.exact(k_beta, k_b) += g[k_beta];
    out.exact(k_alpha, k_alpha) += sums[5];
    out.exact(k_beta, k_beta) += sums[6];
    return out;
}

// The reweighted model sum w_i J_i J_i^T (weights left in ws.reweight by derivatives()).
Mat5 reweighted_model(const Problem& problem, const State& s, const Workspace& ws) {
    double upper[15];
    weighted_gram(run_logs(problem), s.p1, s.p2, s.p3, ws.reweight.data(), upper);
    return from_upper(upper);
}

// Damping scale: the reweighted model's diagonal, floored so that no direction is undamped.
template <class Vector>
Vector damping_scale(const Vector& diagonal) {
    return diagonal.cwiseMax(1e-12 * std::max(diagonal.maxCoeff(), DBL_MIN));
}

// Fits the log-amplitudes (a, b, e) with the exponents held, by damped Newton on the 3x3 block. A
// change h of the amplitudes scales the terms by exp(h_k): the new residual is r + log(q) with
// q = sum_k p_k exp(h_k) and the new shares p_k exp(h_k) / q, so a trial costs one log per run.
// `s` must hold an unshifted state (as evaluate() leaves it); `scratch` is the trial buffer.
double fit_amplitudes(const Problem& problem, Vec5& x, State& s, State& scratch, Workspace& ws, double f,
                      const FitOptions& options) {
    const std::size_t n = problem.log_n.size();
    double lambda = 1e-6;
    for (int iteration = 0; iteration < amplitude_iterations; ++iteration) {
        double sums[12];
        amplitude_derivative_sums(s.p1, s.p2, s.p3, s.r, n, problem.delta, ws.reweight.data(), sums);
        const Vec3 g = Eigen::Map<const Vec3>(sums);
        if (g.cwiseAbs().maxCoeff() <= options.gradient_tolerance * f) break;
        Mat3 exact;  // the Hessian's amplitude block: the psi-part of the Gram plus the gradient
        exact << sums[6] + g[0], sums[7], sums[8], sums[7], sums[9] + g[1], sums[10], sums[8], sums[10],
            sums[11] + g[2];
        const bool newton = Factor<3>(exact).ok();
        const Mat3 model = newton ? exact : Mat3(reweighted_model(problem, s, ws).topLeftCorner<3, 3>());
        const Vec3 scaling = damping_scale<Vec3>(Eigen::Map<const Vec3>(sums + 3));
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

// The local model at a point: the exact Hessian where it is positive definite (Newton), else the
// reweighted Gauss-Newton model; and the damping scale.
struct Model {
    Mat5 h;
    Vec5 scaling;
    bool newton;
};

Model model_at(const Problem& problem, const State& s, const Workspace& ws, const Derivatives& dv) {
    Model m;
    m.newton = Factor<5>(dv.exact).ok();
    m.h = m.newton ? dv.exact : reweighted_model(problem, s, ws);
    m.scaling = damping_scale<Vec5>(dv.reweighted_diagonal);
    return m;
}

// The damping at which the step's scaled length |D^1/2 h| falls to `target` (or a little above), by
// Hebden's Newton iteration on 1/|D^1/2 h(lambda)| from `lambda` upwards, as in MINPACK's lmpar: each
// try costs one 5x5 factorization, nothing beside the cost of evaluating a point.
double damping_for_length(const Model& model, const Vec5& gradient, double lambda, double target) {
    const Vec5 root = model.scaling.cwiseSqrt();
    for (int attempt = 0; attempt < 8; ++attempt) {
        Mat5 damped = model.h;
        damped.diagonal() += lambda * model.scaling;
        const Factor<5> factor(damped);
        if (!factor.ok()) {
            lambda = std::max(4.0 * lambda, 1e-8);
            continue;
        }
        const Vec5 scaled = root.cwiseProduct(factor.solve(-gradient));
        const double length = scaled.norm();
        if (!(length > 1.1 * target)) break;
        // d|s|/dlambda = -(D^1/2 s)' (H + lambda D)^-1 (D^1/2 s) / |s|
        const double slope_term = factor.inverse_form(root.cwiseProduct(scaled));
        const double next = lambda + (length * length / slope_term) * (length - target) / target;
        lambda = next > lambda ? next : std::max(4.0 * lambda, 1e-8);  // also when next is NaN
    }
    return lambda;
}

State state(std::vector<double>& p1, std::vector<double>& p2, std::vector<double>& p3,
            std::vector<double>& r) {
    return {p1.data(), p2.data(), p3.data(), r.data(), 0.0};
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

Best best_outcome(const std::vector<StartOutcome>& outcomes) {
    auto failed = [](const StartOutcome& o) { return o.status == FitStatus::numerical_failure; };
    Best best{0, 0};
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
        const StartOutcome &o = outcomes[i], &b = outcomes[best.index];
        if (failed(o) != failed(b) ? failed(b) : o.objective < b.objective) best.index = i;
    }
    const StartOutcome& b = outcomes[best.index];
    if (!failed(b))
        for (const StartOutcome& o : outcomes)
            if (!failed(o) && o.objective <= b.objective + 1e-8 * std::abs(b.objective))
                ++best.starts_at_best;
    return best;
}

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
    f = fit_amplitudes(problem, x, current, trial, ws, f, options);

    // Objectives below this are rounding noise in the residuals (|r| ~ 1e-15).
    const double f_floor = 1e-30 * static_cast<double>(problem.log_n.size());
    Derivatives dv = derivatives(problem, current, ws);
    Model model = model_at(problem, current, ws, dv);  // changes only when a step is accepted
    // Each model keeps its own damping: the same lambda means different step lengths in the two, and
    // one carried over from the other model misjudges the first step after a switch.
    double lambda = 1e-3, nu = 2.0;
    double other_lambda = lambda;
    int iteration = 0;
    while (iteration < options.max_iterations) {
        const double f_scale = std::max(f, f_floor);
        double scaled_gradient = 0.0;
        for (int j = 0; j < 5; ++j)
            scaled_gradient =
                std::max(scaled_gradient, std::abs(dv.gradient[j]) * std::max(1.0, std::abs(x[j])));
        if (scaled_gradient <= options.gradient_tolerance * f_scale)
            return finish(FitStatus::converged, iteration);

        Mat5 damped = model.h;
        damped.diagonal() += lambda * model.scaling;
        const Factor<5> factor(damped);
        if (!factor.ok() || !(lambda <= 1e30)) {
            if (!(lambda <= 1e30)) return finish(FitStatus::numerical_failure, iteration);  // or NaN
            lambda *= nu;
            nu *= 2.0;
            continue;
        }
        const Vec5 step = factor.solve(-dv.gradient);
        if (!step.allFinite()) return finish(FitStatus::numerical_failure, iteration);
        if (step.cwiseAbs().maxCoeff() > options.max_step) {
            lambda = std::max(2.0 * lambda, 1e-8);  // shorten without spending an evaluation
            continue;
        }
        const double predicted = -(dv.gradient.dot(step) + 0.5 * step.dot(model.h * step));
        if (predicted <= options.function_tolerance * f_scale) return finish(FitStatus::converged, iteration);

        Vec5 x_trial = x + step;
        double f_trial = evaluate(problem, x_trial, trial, summary);
        if (std::isfinite(f_trial)) f_trial = shift_exactly(problem, x_trial, trial, f_trial, summary);
        ++iteration;
        const double ratio = std::isfinite(f_trial) ? (f - f_trial) / predicted : -1.0;
        if (ratio > 0.0) {
            x = x_trial;
            f = f_trial;
            std::swap(current, trial);
            dv = derivatives(problem, current, ws);
            const bool was_newton = model.newton;
            model = model_at(problem, current, ws, dv);
            lambda *= ratio > 0.75 ? 1.0 / 5.0 : (ratio < 0.25 ? 2.0 : 1.0);
            if (model.newton != was_newton) std::swap(lambda, other_lambda);
            nu = 2.0;
            if (step.norm() <= options.parameter_tolerance * (x.norm() + options.parameter_tolerance))
                return finish(FitStatus::converged, iteration);
        } else {
            // Rejected: a shorter step of the same model. Its scaled length falls to theta times the
            // rejected one's, theta from the parabola through f, the slope along the step and f_trial
            // (in [0.1, 0.5]); raising lambda by fixed factors can take several evaluations to shorten
            // the step at all when lambda D is small beside the model.
            const double descent = -dv.gradient.dot(step);
            const double curvature = f_trial - f + descent;
            const double theta =
                curvature > 0.0 ? std::min(0.5, std::max(0.1, 0.5 * descent / curvature)) : 0.1;
            const double length = model.scaling.cwiseSqrt().cwiseProduct(step).norm();
            lambda = damping_for_length(model, dv.gradient, std::max(lambda, 1e-12), theta * length);
        }
    }
    return finish(FitStatus::max_iterations, iteration);
}

}  // namespace scalinglaw::detail
