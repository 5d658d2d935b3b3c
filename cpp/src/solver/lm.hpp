#pragma once
// Private, law-independent: the Levenberg-Marquardt loop for a Huber objective in K coordinates.
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
// lambda 2x, 4x, 16x... barely shortens the step and costs an evaluation each time. No step may move a
// coordinate by more than options.max_step (unless widened, below): longer jumps land where a term has
// vanished and the start is stranded (lambda is raised before such a step is evaluated).
//
// The law's side is an Objective holding a current and a trial point:
//   static constexpr int size;                      K, the coordinates
//   double try_point(Vector<K>& x);                 evaluates the trial point x (which it may move, e.g.
//                                                   by the exact common shift); +inf where not finite
//   void accept();                                  the trial point becomes the current one
//   Derivatives<K> derivatives();                   at the current point
//   Matrix<K> reweighted_model();                   sum w J J^T at the current point, after derivatives()
// and optionally
//   int leap(Vector<K>& x, double& f, const Vector<K>& step, const Derivatives<K>& dv);
//                                                   after an accepted step (dv: derivatives at x): may
//                                                   move x (and f) to a point it evaluates and accepts;
//                                                   returns the evaluations spent
//   bool stranded() const;                          the current point is no answer and no step can
//                                                   make it one (the loop then ends in failure)
//   static constexpr bool lengthens_steps = true;   (1) the longest move (the reach, options.max_step
//                                                   at first) doubles after an accepted step of over
//                                                   half of it whose decrease the model predicted well
//                                                   (ratio > 0.75), stays after one predicted fairly
//                                                   (ratio >= 0.25), and is reset by any other step. A
//                                                   start that walks a long straight valley (e.g.
//                                                   toward a term that vanishes) covers it in a few
//                                                   doubling steps, not max_step at a time. (2) a step
//                                                   whose decrease beat the model's by half again
//                                                   (ratio > 1.5) is extended along its line (extend).

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "factor.hpp"
#include "scalinglaw/fit.hpp"

namespace scalinglaw::detail {

template <int K>
using Vector = Eigen::Matrix<double, K, 1>;
template <int K>
using Matrix = Eigen::Matrix<double, K, K>;

/// The symmetric matrix whose upper triangle, row by row, is `upper` (as the kernels sum it).
template <int K>
Matrix<K> from_upper(const double* upper) {
    Matrix<K> h;
    for (int row = 0, k = 0; row < K; ++row)
        for (int col = row; col < K; ++col, ++k) h(row, col) = h(col, row) = upper[k];
    return h;
}

/// The objective's derivatives at a point.
template <int K>
struct Derivatives {
    Vector<K> gradient;
    Matrix<K> exact;                ///< the Hessian of the objective
    Vector<K> reweighted_diagonal;  ///< of sum w_i J_i J_i^T
};

/// The local model at a point: the exact Hessian where it is positive definite (Newton), else the
/// reweighted Gauss-Newton model; and the damping scale.
template <int K>
struct Model {
    Matrix<K> h;
    Vector<K> scaling;
    bool newton;
};

template <class Objective, int K = Objective::size>
Model<K> model_at(Objective& objective, const Derivatives<K>& dv) {
    Model<K> m;
    m.newton = Factor<K>(dv.exact).ok();
    m.h = m.newton ? dv.exact : objective.reweighted_model();
    m.scaling = damping_scale<Vector<K>>(dv.reweighted_diagonal);
    return m;
}

/// The damping at which the step's scaled length |D^1/2 h| falls to `target` (or a little above), by
/// Hebden's Newton iteration on 1/|D^1/2 h(lambda)| from `lambda` upwards, as in MINPACK's lmpar: each
/// try costs one K x K factorization, nothing beside the cost of evaluating a point.
template <int K>
double damping_for_length(const Model<K>& model, const Vector<K>& gradient, double lambda, double target) {
    const Vector<K> root = model.scaling.cwiseSqrt();
    for (int attempt = 0; attempt < 8; ++attempt) {
        Matrix<K> damped = model.h;
        damped.diagonal() += lambda * model.scaling;
        const Factor<K> factor(damped);
        if (!factor.ok()) {
            lambda = std::max(4.0 * lambda, 1e-8);
            continue;
        }
        const Vector<K> scaled = root.cwiseProduct(factor.solve(-gradient));
        const double length = scaled.norm();
        if (!(length > 1.1 * target)) break;
        // d|s|/dlambda = -(D^1/2 s)' (H + lambda D)^-1 (D^1/2 s) / |s|
        const double slope_term = factor.inverse_form(root.cwiseProduct(scaled));
        const double next = lambda + (length * length / slope_term) * (length - target) / target;
        lambda = next > lambda ? next : std::max(4.0 * lambda, 1e-8);  // also when next is NaN
    }
    return lambda;
}

template <class Objective, class = void>
struct LengthensSteps : std::false_type {};
template <class Objective>
struct LengthensSteps<Objective, std::enable_if_t<Objective::lengthens_steps>> : std::true_type {};

template <class Objective, class = void>
struct CanLeap : std::false_type {};
template <class Objective>
struct CanLeap<Objective, std::void_t<decltype(std::declval<Objective&>().leap(
                              std::declval<Vector<Objective::size>&>(), std::declval<double&>(),
                              std::declval<const Vector<Objective::size>&>(),
                              std::declval<const Derivatives<Objective::size>&>()))>> : std::true_type {};

template <class Objective, class = void>
struct CanStrand : std::false_type {};
template <class Objective>
struct CanStrand<Objective, std::void_t<decltype(std::declval<const Objective&>().stranded())>>
    : std::true_type {};

/// After an accepted step that lowered f by over half again what the model predicted: the objective is
/// nearly linear along it (most residuals beyond delta, where the Huber loss is linear and only the
/// reweighted model's majorising curvature stops the step), so its minimum along the line lies further.
/// Moves on by the whole way so far, doubling it, while each move lowers f at least as much as the one
/// before (the line still looks straight) and stays within `reach`: one evaluation of residuals per try,
/// no derivatives. Returns the evaluations spent.
template <class Objective, int K = Objective::size>
int extend(Objective& objective, Vector<K>& x, double& f, Vector<K> move, double longest, double reach,
           int budget) {
    int spent = 0;
    double gained = 0.0;  // by the last move
    while (spent < budget && longest <= reach) {
        Vector<K> x_more = x + move;
        const double f_more = objective.try_point(x_more);
        ++spent;
        if (!(f_more < f)) break;
        const bool straight = f - f_more >= gained;
        gained = f - f_more;
        x = x_more;
        f = f_more;
        objective.accept();
        if (!straight) break;
        move *= 2.0;
        longest *= 2.0;
    }
    return spent;
}

/// How the loop ended.
struct LmEnd {
    FitStatus status;
    int iterations;
};

/// Iterates from the objective's current point x (objective f there) until one of the options' tests
/// passes; x and f follow the accepted steps. `f_floor`: objectives below it are rounding noise.
template <class Objective, int K = Objective::size>
LmEnd levenberg_marquardt(Objective& objective, Vector<K>& x, double& f, const FitOptions& options,
                          double f_floor) {
    Derivatives<K> dv = objective.derivatives();
    Model<K> model = model_at(objective, dv);  // changes only when a step is accepted
    // Each model keeps its own damping: the same lambda means different step lengths in the two, and
    // one carried over from the other model misjudges the first step after a switch.
    double lambda = 1e-3, nu = 2.0;
    double other_lambda = lambda;
    double reach = options.max_step;  // the longest move of a coordinate (see lengthens_steps above)
    int iteration = 0;
    while (iteration < options.max_iterations) {
        const double f_scale = std::max(f, f_floor);
        double scaled_gradient = 0.0;
        for (int j = 0; j < K; ++j)
            scaled_gradient =
                std::max(scaled_gradient, std::abs(dv.gradient[j]) * std::max(1.0, std::abs(x[j])));
        if (scaled_gradient <= options.gradient_tolerance * f_scale) return {FitStatus::converged, iteration};

        Matrix<K> damped = model.h;
        damped.diagonal() += lambda * model.scaling;
        const Factor<K> factor(damped);
        if (!factor.ok() || !(lambda <= 1e30)) {
            if (!(lambda <= 1e30)) return {FitStatus::numerical_failure, iteration};  // or NaN
            lambda *= nu;
            nu *= 2.0;
            continue;
        }
        const Vector<K> step = factor.solve(-dv.gradient);
        if (!step.allFinite()) return {FitStatus::numerical_failure, iteration};
        const double longest = step.cwiseAbs().maxCoeff();
        if (longest > reach) {
            lambda = std::max(2.0 * lambda, 1e-8);  // shorten without spending an evaluation
            continue;
        }
        const double predicted = -(dv.gradient.dot(step) + 0.5 * step.dot(model.h * step));
        if (predicted <= options.function_tolerance * f_scale) return {FitStatus::converged, iteration};

        Vector<K> x_trial = x + step;
        const double f_trial = objective.try_point(x_trial);
        ++iteration;
        const double ratio = std::isfinite(f_trial) ? (f - f_trial) / predicted : -1.0;
        if (ratio > 0.0) {
            x = x_trial;
            f = f_trial;
            objective.accept();
            if constexpr (LengthensSteps<Objective>::value)
                if (ratio > 1.5)
                    iteration +=
                        extend(objective, x, f, step, longest, reach, options.max_iterations - iteration);
            if constexpr (CanStrand<Objective>::value)
                if (objective.stranded()) return {FitStatus::numerical_failure, iteration};
            dv = objective.derivatives();
            if constexpr (CanLeap<Objective>::value) {
                const double f_before = f;
                iteration += objective.leap(x, f, step, dv);
                if (f != f_before) dv = objective.derivatives();
            }
            const bool was_newton = model.newton;
            model = model_at(objective, dv);
            lambda *= ratio > 0.75 ? 1.0 / 5.0 : (ratio < 0.25 ? 2.0 : 1.0);
            if (model.newton != was_newton) std::swap(lambda, other_lambda);
            nu = 2.0;
            if constexpr (LengthensSteps<Objective>::value)
                reach = longest <= 0.5 * reach || ratio < 0.25 ? options.max_step
                                                               : (ratio > 0.75 ? 2.0 * reach : reach);
            if (step.norm() <= options.parameter_tolerance * (x.norm() + options.parameter_tolerance))
                return {FitStatus::converged, iteration};
        } else {
            reach = options.max_step;
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
    return {FitStatus::max_iterations, iteration};
}

}  // namespace scalinglaw::detail
