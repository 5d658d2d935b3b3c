#pragma once
// Private: the solver for any law (laws/*.hpp), with fixed and tied parameters and per-run weights. One
// plain pass over the runs per trial point (the law's log-prediction in doubles), and per accepted point
// one pass of second-order jets (laws/jet.hpp) for the gradient, the exact Hessian and the reweighted
// model (both loops vectorised across runs, generic_kernels.hpp); the LM loop (lm.hpp) and the exact
// common shift (shift.hpp) are the Chinchilla path's.
//
// Fixed and tied parameters, as a map from free to full coordinates (Minuit's internal/external map):
// the solver's x has the law's K slots; slot j holds the value of every coordinate whose representative
// is j (the lowest index of its tie group), and 0 for a fixed coordinate or a tied one that is not its
// group's representative. The jets seed coordinate j's derivative in its representative's slot, so
// gradient and Hessian arrive projected (g_free = P^T g, H_free = P^T H P); the slots that are not free
// get a unit diagonal and zero gradient, so every step leaves them at 0. Sizes stay fixed (K x K).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

#include "../laws/jet.hpp"
#include "generic_kernels.hpp"
#include "lm.hpp"
#include "scalinglaw/fit.hpp"
#include "shift.hpp"

namespace scalinglaw::detail {

/// `rows` (optional) picks and repeats runs, e.g. a resample.
GenericRuns make_generic_runs(const RunsView& runs, double delta,
                              const std::vector<std::size_t>* rows = nullptr, bool centre = false);

/// Which coordinates the solver moves (see the top of this file), in the solver's coordinates: the
/// law's, centred where the runs are (coordinate j less (x[exponent[j]] or 1) * offset[j]).
template <int K>
struct CoordinateMap {
    int slot[K];            ///< the representative's index, or -1 when fixed
    double fixed[K];        ///< the coordinate's value where fixed (solver coordinates)
    double fixed_law[K];    ///< the same in the law's coordinates
    bool log_scale[K];      ///< for the overflow check of the answer
    int exponent[K];        ///< centring: the coordinate's exponent, or -1 for a plain translation
    double offset[K];       ///< centring: 0 for a coordinate it leaves alone
    double infinite_at[K];  ///< the coordinate from which parameter j is +infinity (R*), else +inf
    int free_count = 0;

    /// The law's coordinates (solver form) at the solver's x.
    void expand(const Vector<K>& x, double* full) const {
        for (int j = 0; j < K; ++j) full[j] = slot[j] < 0 ? fixed[j] : x[slot[j]];
    }
    /// Law coordinates to solver coordinates and back, in place (exponents are never offset).
    void to_solver(double* full) const {
        for (int j = 0; j < K; ++j)
            if (offset[j] != 0.0) full[j] -= (exponent[j] >= 0 ? full[exponent[j]] : 1.0) * offset[j];
    }
    void from_solver(double* full) const {
        for (int j = 0; j < K; ++j)
            if (offset[j] != 0.0) full[j] += (exponent[j] >= 0 ? full[exponent[j]] : 1.0) * offset[j];
    }
    /// The solver's x for the law's coordinates `law` (a start): fixed and tied entries overridden (in
    /// the law's coordinates, before centring), then each representative's value.
    Vector<K> project(const double* law) const {
        double full[K];
        for (int j = 0; j < K; ++j) full[j] = slot[j] < 0 ? fixed_law[j] : law[slot[j]];
        to_solver(full);
        Vector<K> x = Vector<K>::Zero();
        for (int j = 0; j < K; ++j)
            if (slot[j] == j) x[j] = std::min(full[j], infinite_at[j]);
        return x;
    }
    /// Whether the solver's slot s holds only parameters that may be infinite (a slot the fit may leap
    /// to infinity), and whether x holds it there.
    bool may_leap(int s) const {
        if (slot[s] != s) return false;
        for (int j = 0; j < K; ++j)
            if (slot[j] == s && !(infinite_at[j] < INFINITY)) return false;
        return true;
    }
    bool at_infinity(const Vector<K>& x, int s) const { return slot[s] == s && x[s] >= infinite_at[s]; }
};

/// Per-thread scratch space, reused across starts: residuals, and the shares of a law that caches them
/// (laws/common.hpp), at the current and the trial point.
struct GenericWorkspace {
    std::vector<double> r, trial_r, share, trial_share;
    void resize(std::size_t n) {
        for (auto* v : {&r, &trial_r, &share, &trial_share}) v->resize(n);
    }
};

/// What became of one start, in full coordinates.
struct GenericOutcome {
    std::vector<double> coordinates;
    double objective;
    FitStatus status;
    int iterations;
};

template <class Law>
class GenericObjective {
public:
    static constexpr int size = Law::size;
    static constexpr bool lengthens_steps = true;
    using V = Vector<size>;
    using M = Matrix<size>;

    GenericObjective(const GenericRuns& runs, const CoordinateMap<size>& map, GenericWorkspace& ws)
        : runs_(runs),
          map_(map),
          current_r_(ws.r.data()),
          trial_r_(ws.trial_r.data()),
          current_share_(ws.share.data()),
          trial_share_(ws.trial_share.data()) {
        for (int s = 0; s < size; ++s) next_leap_[s] = map.may_leap(s) ? -INFINITY : INFINITY;
        leapt_from_.setConstant(NAN);
    }

    /// The objective at x with its residuals in `r` (and shares in `share`) and their ShiftSums at c = 0
    /// (+inf where not finite).
    double evaluate(const V& x, double* r, double* share, ShiftSums& sums) const {
        double full[size];
        map_.expand(x, full);
        const std::size_t n = runs_.size();
        law_residuals<Law>(runs_, full, r, share);
        if (runs_.weight.empty())
            shift_sums(r, n, runs_.delta, 0.0, &sums);
        else
            shift_sums_weighted(r, runs_.weight.data(), n, runs_.delta, 0.0, &sums);
        return std::isfinite(sums.value) ? sums.value : std::numeric_limits<double>::infinity();
    }

    /// Moves x (and r) by the exact common shift when it lowers f and the law's shift direction is
    /// free at x (every coordinate it moves free, tied ones moved alike); returns the objective.
    double shift(V& x, double* r, double f, const ShiftSums& sums) const {
        double full[size], direction[size];
        map_.expand(x, full);
        Law::shift_direction(full, direction);
        V v = V::Zero();
        for (int j = 0; j < size; ++j) {
            if (direction[j] == 0.0) continue;
            const int s = map_.slot[j];
            if (s < 0 || !std::isfinite(direction[j])) return f;
            if (s != j && direction[j] != direction[s]) return f;
            v[s] = direction[j];
        }
        const std::size_t n = runs_.size();
        const double* w = runs_.weight.empty() ? nullptr : runs_.weight.data();
        const Shift best = best_shift(r, n, runs_.delta, 1e-14 * f, sums, w, runs_.total_weight);
        if (!(best.value < f)) return f;
        x += best.c * v;
        for (std::size_t i = 0; i < n; ++i) r[i] += best.c;
        return best.value;
    }

    /// The start: evaluated and shifted; returns f.
    double start(V& x) {
        ShiftSums sums;
        double f = evaluate(x, current_r_, current_share_, sums);
        if (std::isfinite(f)) f = shift(x, current_r_, f, sums);
        current_x_ = x;
        return f;
    }

    double try_point(V& x) {
        ShiftSums sums;
        double f = evaluate(x, trial_r_, trial_share_, sums);
        if (std::isfinite(f)) f = shift(x, trial_r_, f, sums);
        trial_x_ = x;
        return f;
    }
    void accept() {
        std::swap(current_r_, trial_r_);
        std::swap(current_share_, trial_share_);
        current_x_ = trial_x_;
    }

    /// After an accepted step from x - step to x, with dv the derivatives at x: moves a parameter that may
    /// be infinite (R*) to infinity when f there is lower and f behaves, along it, as the tail of an
    /// optimum at infinity. Toward no decay, f(rho) = f(inf) + c e^-rho to first order in e^-rho
    /// (rho = log R*): -f' = f'' = f - f(inf), Newton's steps are one unit of rho each, and the walk ends
    /// only when the gains fall below the tolerance (twenty-odd evaluations). A slot is tried (one
    /// evaluation) when the step moved it up by half a unit or more and the others by at most a tenth of
    /// that (a walk along it alone: while the others move, its own optimum moves too), and -f' > 0 and
    /// f'' agree within 25%; it is taken when f - f(inf) >= 0.9 (-f'). That rules out a finite optimum
    /// beyond x: f dipping below f(inf) needs a negative e^-rho term, and then f - f(inf) < -f' / 2 while
    /// f falls. A failed try is repeated only after rho has risen by one more; `release` checks a leap
    /// once the others have converged. Returns the evaluations spent.
    int leap(V& x, double& f, const V& step, const Derivatives<size>& dv) {
        int spent = 0;
        for (int s = 0; s < size; ++s) {
            if (!(step[s] >= 0.5 && x[s] >= next_leap_[s]) || map_.at_infinity(x, s)) continue;
            double others = 0.0;  // the other coordinates' steps: the walk must be along s alone
            for (int j = 0; j < size; ++j)
                if (j != s) others = std::max(others, std::fabs(step[j]));
            if (!(others <= 0.1 * step[s])) continue;
            const double slope = -dv.gradient[s], curvature = dv.exact(s, s);
            if (!(slope > 0.0 && std::fabs(curvature - slope) <= 0.25 * slope)) continue;
            V x_limit = x;
            x_limit[s] = map_.infinite_at[s];
            const double f_limit = try_point(x_limit);
            ++spent;
            if (f_limit < f && f - f_limit >= 0.9 * slope) {
                leapt_from_[s] = x[s];
                x = x_limit;
                f = f_limit;
                accept();
                return spent;  // the other slots' derivatives have changed
            }
            next_leap_[s] = x[s] + 1.0;
        }
        return spent;
    }

    /// At convergence: a slot that leapt to infinity while the others were far from their optimum may
    /// have a finite one now. Each is probed (once per leap) 2 units of rho above where it leapt from,
    /// and taken there when f is lower, for the fit to go on. Returns the evaluations spent.
    int release(V& x, double& f) {
        int spent = 0;
        for (int s = 0; s < size; ++s) {
            if (!map_.at_infinity(x, s) || !std::isfinite(leapt_from_[s])) continue;
            V x_probe = x;
            x_probe[s] = leapt_from_[s] + 2.0;
            leapt_from_[s] = NAN;
            const double f_probe = try_point(x_probe);
            ++spent;
            if (f_probe < f) {
                x = x_probe;
                f = f_probe;
                accept();
                next_leap_[s] = x[s] + 1.0;
                return spent;
            }
        }
        return spent;
    }

    /// A log-scale coordinate (an amplitude such as log N_c) beyond the doubles: the start is walking
    /// off along a valley where a term has lost its dependence on N or D (e.g. alpha_N -> 0 with
    /// N_c -> 0), toward an answer no double can hold. solve_generic refuses such a point at the end
    /// anyway; ending here saves the hundreds of ever-smaller improvements on the way.
    bool stranded() const {
        double full[size];
        map_.expand(current_x_, full);
        map_.from_solver(full);
        for (int j = 0; j < size; ++j)
            if (map_.slot[j] >= 0 && map_.log_scale[j] && !(std::fabs(full[j]) <= largest_log_)) return true;
        return false;
    }

    Derivatives<size> derivatives() {
        Derivatives<size> out;
        with_count<size>(map_.free_count, [&](auto free) {
            derivatives_in<decltype(free)::value>(current_x_, current_r_, current_share_, out, reweighted_);
        });
        return out;
    }
    M reweighted_model() const { return reweighted_; }

    /// Gradient, exact Hessian and reweighted model at any x, in the solver's slots (the trial point's
    /// residuals and shares are overwritten).
    void derivatives_at(const V& x, Derivatives<size>& out, M& reweighted) {
        if constexpr (CachesShare<Law>::value) {
            double full[size];
            map_.expand(x, full);
            law_residuals<Law>(runs_, full, trial_r_, trial_share_);
        }
        with_count<size>(map_.free_count, [&](auto free) {
            derivatives_in<decltype(free)::value>(x, trial_r_, trial_share_, out, reweighted);
        });
    }

private:
    /// f(std::integral_constant<int, count>{}) for 1 <= count <= K: jets sized to the free coordinates.
    template <int N, class F>
    static void with_count(int count, F&& f) {
        if constexpr (N > 1)
            if (count < N) return with_count<N - 1>(count, f);
        f(std::integral_constant<int, N>{});
    }

    /// The derivatives at x (with its residuals r and shares, for a law that caches them) with jets in F
    /// slots, one per free coordinate (their representatives, in order): a fixed or tied coordinate costs
    /// nothing in the runs' loop.
    template <int F>
    void derivatives_in(const V& x, const double* r, const double* share, Derivatives<size>& out,
                        M& reweighted) const {
        double full[size];
        map_.expand(x, full);
        int slot_of[F] = {}, seed[size] = {};  // the solver's slot of free index a; coordinate j's free index
        for (int j = 0, a = 0; j < size; ++j)
            if (map_.slot[j] == j) slot_of[a++] = j;
        for (int j = 0; j < size; ++j) {
            seed[j] = -1;
            for (int a = 0; a < F; ++a)
                if (map_.slot[j] == slot_of[a]) seed[j] = a;
        }
        double g[F] = {}, exact[Jet<F>::packed] = {}, model[Jet<F>::packed] = {};
        if constexpr (HasDerivatives<Law>::value) {
            // all K coordinates by hand, then projected: free index a sums its coordinates' rows
            constexpr int P = size * (size + 1) / 2;
            double g_all[size], exact_all[P], model_all[P];
            derivative_sums<Law>(runs_, full, r, share, g_all, exact_all, model_all);
            for (int i = 0, k = 0; i < size; ++i) {
                if (seed[i] >= 0) g[seed[i]] += g_all[i];
                for (int j = i; j < size; ++j, ++k) {
                    if (seed[i] < 0 || seed[j] < 0) continue;
                    const int a = std::min(seed[i], seed[j]), b = std::max(seed[i], seed[j]);
                    const int packed = upper_index(a, b, F);
                    const double twice = i != j && a == b ? 2.0 : 1.0;  // (i, j) and (j, i) both land there
                    exact[packed] += twice * exact_all[k];
                    model[packed] += twice * model_all[k];
                }
            }
        } else {
            jet_sums<Law, F>(runs_, full, seed, g, exact, model);
        }
        // Into the K slots; the slots that are not free, or at infinity (where f does not depend on them),
        // are held by a unit diagonal.
        V gradient = V::Zero();
        M exact_k = M::Identity(), model_k = M::Identity();
        for (int a = 0, k = 0; a < F; ++a) {
            const bool held_a = map_.at_infinity(x, slot_of[a]);
            gradient[slot_of[a]] = held_a ? 0.0 : g[a];
            for (int b = a; b < F; ++b, ++k) {
                if (held_a || map_.at_infinity(x, slot_of[b])) continue;
                exact_k(slot_of[a], slot_of[b]) = exact_k(slot_of[b], slot_of[a]) = exact[k];
                model_k(slot_of[a], slot_of[b]) = model_k(slot_of[b], slot_of[a]) = model[k];
            }
        }
        out.gradient = gradient;
        out.exact = exact_k;
        out.reweighted_diagonal = model_k.diagonal();
        reweighted = model_k;
    }

    const GenericRuns& runs_;
    const CoordinateMap<size>& map_;
    double* current_r_;
    double* trial_r_;
    double* current_share_;
    double* trial_share_;
    V current_x_ = V::Zero(), trial_x_ = V::Zero();
    const double largest_log_ = std::log(std::numeric_limits<double>::max());
    M reweighted_ = M::Identity();
    V next_leap_;   ///< leap: slot s is tried at infinity again only from this value up (+inf: never)
    V leapt_from_;  ///< where slot s leapt to infinity from (NaN: it did not, or was probed since)
};

/// Levenberg-Marquardt from `start` (full coordinates; fixed and tied entries are overridden).
template <class Law>
GenericOutcome solve_generic(const GenericRuns& runs, const CoordinateMap<Law::size>& map,
                             const double* start, const FitOptions& options, GenericWorkspace& ws) {
    constexpr int K = Law::size;
    ws.resize(runs.size());
    GenericObjective<Law> objective(runs, map, ws);
    Vector<K> x = map.project(start);
    double f = objective.start(x);
    GenericOutcome out{std::vector<double>(K), f, FitStatus::numerical_failure, 0};
    LmEnd end{FitStatus::numerical_failure, 0};
    if (std::isfinite(f)) {
        const double f_floor = 1e-30 * static_cast<double>(runs.size());
        end = levenberg_marquardt(objective, x, f, options, f_floor);
        while (end.status == FitStatus::converged) {  // until no slot at infinity is released
            const double f_before = f;
            const int spent = objective.release(x, f);
            end.iterations += spent;
            if (f == f_before) break;
            FitOptions rest = options;
            rest.max_iterations = std::max(0, options.max_iterations - end.iterations);
            const LmEnd more = levenberg_marquardt(objective, x, f, rest, f_floor);
            end = {more.status, end.iterations + more.iterations};
        }
    }
    map.expand(x, out.coordinates.data());
    map.from_solver(out.coordinates.data());
    out.objective = f;
    out.status = end.status;
    out.iterations = end.iterations;
    // A log-scale parameter beyond the largest double is no answer, however low the objective.
    const double largest_log = std::log(std::numeric_limits<double>::max());
    for (int j = 0; j < K; ++j)
        if (map.slot[j] >= 0 && map.log_scale[j] && !(out.coordinates[j] <= largest_log))
            out.status = FitStatus::numerical_failure;
    if (!std::isfinite(f)) out.status = FitStatus::numerical_failure;
    return out;
}

}  // namespace scalinglaw::detail
