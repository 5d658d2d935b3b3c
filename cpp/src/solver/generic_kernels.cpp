// The generic solver's loops over the runs (generic_kernels.hpp), instantiated for every law and every
// count of free coordinates.

#include "generic_kernels.hpp"

#include <cmath>

#include "../laws/dispatch.hpp"
#include "../laws/jet.hpp"
#include "huber_lanes.hpp"

namespace scalinglaw::detail {

template <class Law>
SCALINGLAW_MULTIVERSION_TEMPLATE void law_residuals(const GenericRuns& runs, const double* x, double* r,
                                                    double* share) {
    double local[Law::size];  // r cannot alias a local copy: what depends on x alone is computed once
    for (int j = 0; j < Law::size; ++j) local[j] = x[j];
    const double* SCALINGLAW_RESTRICT log_n = runs.log_n.data();
    const double* SCALINGLAW_RESTRICT log_d = runs.log_d.data();
    const double* SCALINGLAW_RESTRICT log_u = runs.log_u.data();
    const double* SCALINGLAW_RESTRICT log_loss = runs.log_loss.data();
    double* SCALINGLAW_RESTRICT out = r;
    const std::size_t n = runs.size();
    if constexpr (CachesShare<Law>::value) {
        double* SCALINGLAW_RESTRICT kept = share;
        SCALINGLAW_SIMD()
        for (std::size_t i = 0; i < n; ++i)
            out[i] = Law::log_predict_share(local, log_n[i], log_d[i], log_u[i], kept[i]) - log_loss[i];
    } else {
        SCALINGLAW_SIMD()
        for (std::size_t i = 0; i < n; ++i)
            out[i] = Law::log_predict(local, log_n[i], log_d[i], log_u[i]) - log_loss[i];
    }
}

namespace {

/// The Huber sums over the runs in F slots (generic_kernels.hpp), from `derivatives(i, j, h)`: run i's
/// log-prediction, with its gradient in j (F) and Hessian in h (upper triangle). Weighted reads the
/// weights; else every weight is 1 and nothing is loaded: a masked load from the empty weights' null
/// address runs through a slow microcode assist on some CPUs (a quarter of the loop's time on AMD's).
/// At an accepted point every run's prediction is finite (weight 0 or not), so weights multiply.
///
/// Each of the F + 2P sums is kept in Lanes partial sums, run i adding to lane i % Lanes, and the loop
/// is vectorised over the lanes of a group of runs: a sum's lanes are one row, loaded and stored whole.
/// (As array reductions, GCC transposed all the accumulators every iteration: half the loop's
/// instructions.) The lanes are added up in a fixed order, so results do not depend on the instruction
/// set or the thread count.
template <int F, bool Weighted, class Derivatives>
SCALINGLAW_ALWAYS_INLINE void huber_sums(const GenericRuns& runs, Derivatives&& derivatives, double* gradient,
                                         double* exact, double* model) {
    constexpr int P = F * (F + 1) / 2, S = F + 2 * P;  // the sums: gradient, exact Hessian, model
    constexpr std::size_t Lanes = 8;
    alignas(64) double partial[S][Lanes] = {};
    const double* SCALINGLAW_RESTRICT log_loss = runs.log_loss.data();
    const double* SCALINGLAW_RESTRICT weight = runs.weight.data();
    const double delta = runs.delta;
    const std::size_t n = runs.size();
    auto add = [&](std::size_t i, std::size_t l) SCALINGLAW_ALWAYS_INLINE_LAMBDA {
        double j[F], h[P];
        const double z = derivatives(i, j, h) - log_loss[i];
        const double w = Weighted ? weight[i] : 1.0;
        const double psi = w * lanes::clip(z, delta);
        const double size = std::fabs(z);
        const double inside = size <= delta ? w : 0.0;                  // w psi'
        const double irls = w * delta / (size > delta ? size : delta);  // w psi / z
        SCALINGLAW_UNROLL
        for (int a = 0; a < F; ++a) partial[a][l] += psi * j[a];
        SCALINGLAW_UNROLL
        for (int a = 0; a < F; ++a)
            for (int b = a; b < F; ++b) {
                const int k = upper_index(a, b, F);
                const double jj = j[a] * j[b];
                partial[F + k][l] += inside * jj + psi * h[k];
                partial[F + P + k][l] += irls * jj;
            }
    };
    const std::size_t whole = n - n % Lanes;
    for (std::size_t first = 0; first < whole; first += Lanes) {
        SCALINGLAW_SIMD()
        for (std::size_t l = 0; l < Lanes; ++l) add(first + l, l);
    }
    for (std::size_t l = 0; whole + l < n; ++l) add(whole + l, l);
    double total[S];
    for (int s = 0; s < S; ++s) {
        total[s] = 0.0;
        for (std::size_t l = 0; l < Lanes; ++l) total[s] += partial[s][l];
    }
    for (int a = 0; a < F; ++a) gradient[a] = total[a];
    for (int k = 0; k < P; ++k) {
        exact[k] = total[F + k];
        model[k] = total[F + P + k];
    }
}

template <int F, class Derivatives>
SCALINGLAW_ALWAYS_INLINE void huber_sums(const GenericRuns& runs, Derivatives&& derivatives, double* gradient,
                                         double* exact, double* model) {
    if (runs.weight.empty())
        huber_sums<F, false>(runs, derivatives, gradient, exact, model);
    else
        huber_sums<F, true>(runs, derivatives, gradient, exact, model);
}

}  // namespace

template <class Law, int F>
SCALINGLAW_MULTIVERSION_TEMPLATE void jet_sums(const GenericRuns& runs, const double* x, const int* seed,
                                               double* gradient, double* exact, double* model) {
    Jet<F> jx[Law::size];
    for (int j = 0; j < Law::size; ++j) jx[j] = Jet<F>::variable(x[j], seed[j]);
    const double* SCALINGLAW_RESTRICT log_n = runs.log_n.data();
    const double* SCALINGLAW_RESTRICT log_d = runs.log_d.data();
    const double* SCALINGLAW_RESTRICT log_u = runs.log_u.data();
    auto derivatives = [&](std::size_t i, double* j, double* h) SCALINGLAW_ALWAYS_INLINE_LAMBDA {
        const Jet<F> lp = Law::log_predict(jx, log_n[i], log_d[i], log_u[i]);
        SCALINGLAW_UNROLL
        for (int a = 0; a < F; ++a) j[a] = lp.g[a];
        SCALINGLAW_UNROLL
        for (int k = 0; k < Jet<F>::packed; ++k) h[k] = lp.h[k];
        return lp.v;
    };
    huber_sums<F>(runs, derivatives, gradient, exact, model);
}

template <class Law>
SCALINGLAW_MULTIVERSION_TEMPLATE void derivative_sums(const GenericRuns& runs, const double* x,
                                                      const double* r, const double* share, double* gradient,
                                                      double* exact, double* model) {
    const double* SCALINGLAW_RESTRICT log_n = runs.log_n.data();
    const double* SCALINGLAW_RESTRICT log_d = runs.log_d.data();
    const double* SCALINGLAW_RESTRICT log_u = runs.log_u.data();
    if constexpr (CachesShare<Law>::value) {
        const double* SCALINGLAW_RESTRICT log_loss = runs.log_loss.data();
        const double* SCALINGLAW_RESTRICT residual = r;
        const double* SCALINGLAW_RESTRICT kept = share;
        auto derivatives = [&](std::size_t i, double* j, double* h) SCALINGLAW_ALWAYS_INLINE_LAMBDA {
            const double log_prediction = residual[i] + log_loss[i];
            Law::derivatives_from_share(x, log_prediction, log_n[i], log_d[i], kept[i], j, h);
            return log_prediction;
        };
        huber_sums<Law::size>(runs, derivatives, gradient, exact, model);
    } else {
        auto derivatives = [&](std::size_t i, double* j, double* h) SCALINGLAW_ALWAYS_INLINE_LAMBDA {
            return Law::log_predict_derivatives(x, log_n[i], log_d[i], log_u[i], j, h);
        };
        huber_sums<Law::size>(runs, derivatives, gradient, exact, model);
    }
}

// Every law, and every count of free coordinates 1..K.
#define SCALINGLAW_LAW_RESIDUALS(Law) \
    template void law_residuals<Law>(const GenericRuns&, const double*, double*, double*);
#define SCALINGLAW_JET_SUMS(Law, F) \
    template void jet_sums<Law, F>(const GenericRuns&, const double*, const int*, double*, double*, double*);
SCALINGLAW_LAW_RESIDUALS(ChinchillaLaw)
SCALINGLAW_LAW_RESIDUALS(KaplanLaw)
SCALINGLAW_LAW_RESIDUALS(KaplanRatioLaw)
SCALINGLAW_LAW_RESIDUALS(DataConstrainedLaw)
#define SCALINGLAW_DERIVATIVE_SUMS(Law)                                                                 \
    template void derivative_sums<Law>(const GenericRuns&, const double*, const double*, const double*, \
                                       double*, double*, double*);
SCALINGLAW_DERIVATIVE_SUMS(KaplanLaw)
SCALINGLAW_DERIVATIVE_SUMS(KaplanRatioLaw)
SCALINGLAW_JET_SUMS(ChinchillaLaw, 1)
SCALINGLAW_JET_SUMS(ChinchillaLaw, 2)
SCALINGLAW_JET_SUMS(ChinchillaLaw, 3)
SCALINGLAW_JET_SUMS(ChinchillaLaw, 4)
SCALINGLAW_JET_SUMS(ChinchillaLaw, 5)
SCALINGLAW_JET_SUMS(KaplanLaw, 1)
SCALINGLAW_JET_SUMS(KaplanLaw, 2)
SCALINGLAW_JET_SUMS(KaplanLaw, 3)
SCALINGLAW_JET_SUMS(KaplanLaw, 4)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 1)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 2)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 3)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 4)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 5)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 6)
SCALINGLAW_JET_SUMS(DataConstrainedLaw, 7)

}  // namespace scalinglaw::detail
