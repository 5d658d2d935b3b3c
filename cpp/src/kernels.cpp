// The solver's per-run loops; see kernels.hpp. Each loop is written for the compiler to vectorise
// across runs: selects instead of branches, inlined fast_math, and sums declared as SIMD reductions
// (OpenMP's simd pragma, no OpenMP runtime), whose order is fixed for a given instruction set.

#include "kernels.hpp"

#include <cmath>

#include "fast_math.hpp"
#include "solver/huber_lanes.hpp"

namespace scalinglaw::detail {

using lanes::clip;
using lanes::huber;
using lanes::infinity;
using lanes::room_down;
using lanes::room_up;
using lanes::smaller;

SCALINGLAW_MULTIVERSION
void evaluate_runs(const RunLogs& runs, double a, double b, double e, double alpha, double beta, double delta,
                   double* SCALINGLAW_RESTRICT p1, double* SCALINGLAW_RESTRICT p2,
                   double* SCALINGLAW_RESTRICT p3, double* SCALINGLAW_RESTRICT r, ShiftSums* sums) {
    const double term_e = fast_exp(e);
    const double* SCALINGLAW_RESTRICT l = runs.log_n;
    const double* SCALINGLAW_RESTRICT m = runs.log_d;
    const double* SCALINGLAW_RESTRICT log_loss = runs.log_loss;
    double value = 0.0, slope = 0.0, inside = 0.0, up = infinity, down = infinity;
    SCALINGLAW_SIMD(reduction(+ : value, slope, inside) reduction(min : up, down))
    for (std::size_t i = 0; i < runs.n; ++i) {
        const double t1 = fast_exp(a - alpha * l[i]), t2 = fast_exp(b - beta * m[i]);
        const double sum = t1 + t2 + term_e;
        const double inverse = 1.0 / sum;
        p1[i] = t1 * inverse;
        p2[i] = t2 * inverse;
        p3[i] = term_e * inverse;
        const double z = fast_log(sum) - log_loss[i];
        r[i] = z;
        const double psi = clip(z, delta);
        value += psi * (z - 0.5 * psi);
        slope += psi;
        inside += std::fabs(z) <= delta ? 1.0 : 0.0;
        up = smaller(up, room_up(z, delta));
        down = smaller(down, room_down(z, delta));
    }
    *sums = {value, slope, inside, up, down};
}

SCALINGLAW_MULTIVERSION
void derivative_sums(const RunLogs& runs, const double* SCALINGLAW_RESTRICT p1,
                     const double* SCALINGLAW_RESTRICT p2, const double* SCALINGLAW_RESTRICT p3,
                     const double* SCALINGLAW_RESTRICT r, double shift, double delta,
                     double* SCALINGLAW_RESTRICT reweight, DerivativeSums* sums) {
    const double* SCALINGLAW_RESTRICT l = runs.log_n;
    const double* SCALINGLAW_RESTRICT m = runs.log_d;
    double g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, c0 = 0, c1 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0;
    double h00 = 0, h01 = 0, h02 = 0, h03 = 0, h04 = 0, h11 = 0, h12 = 0, h13 = 0, h14 = 0, h22 = 0, h23 = 0,
           h24 = 0, h33 = 0, h34 = 0, h44 = 0;
    SCALINGLAW_SIMD_REDUCTION(+ : g0, g1, g2, g3, g4, c0, c1, d0, d1, d2, d3, d4, h00, h01, h02, h03, h04,
                              h11, h12, h13, h14, h22, h23, h24, h33, h34, h44)
    for (std::size_t i = 0; i < runs.n; ++i) {
        const double z = r[i] + shift;
        const double psi = clip(z, delta);
        const double size = std::fabs(z);
        const double exact = (size <= delta ? 1.0 : 0.0) - psi;  // psi' - psi
        const double w = delta / (size > delta ? size : delta);  // psi / z
        reweight[i] = w;
        const double j0 = p1[i], j1 = p2[i], j2 = p3[i], j3 = -p1[i] * l[i], j4 = -p2[i] * m[i];
        g0 += psi * j0;
        g1 += psi * j1;
        g2 += psi * j2;
        g3 += psi * j3;
        g4 += psi * j4;
        c0 -= psi * j3 * l[i];
        c1 -= psi * j4 * m[i];
        d0 += w * j0 * j0;
        d1 += w * j1 * j1;
        d2 += w * j2 * j2;
        d3 += w * j3 * j3;
        d4 += w * j4 * j4;
        const double e0 = exact * j0, e1 = exact * j1, e2 = exact * j2, e3 = exact * j3, e4 = exact * j4;
        h00 += e0 * j0;
        h01 += e0 * j1;
        h02 += e0 * j2;
        h03 += e0 * j3;
        h04 += e0 * j4;
        h11 += e1 * j1;
        h12 += e1 * j2;
        h13 += e1 * j3;
        h14 += e1 * j4;
        h22 += e2 * j2;
        h23 += e2 * j3;
        h24 += e2 * j4;
        h33 += e3 * j3;
        h34 += e3 * j4;
        h44 += e4 * j4;
    }
    *sums = {{{g0, g1, g2, g3, g4},
              {d0, d1, d2, d3, d4},
              {h00, h01, h02, h03, h04, h11, h12, h13, h14, h22, h23, h24, h33, h34, h44}},
             c0,
             c1};
}

SCALINGLAW_MULTIVERSION
void amplitude_derivative_sums(const double* SCALINGLAW_RESTRICT p1, const double* SCALINGLAW_RESTRICT p2,
                               const double* SCALINGLAW_RESTRICT p3, const double* SCALINGLAW_RESTRICT r,
                               std::size_t n, double delta, double* SCALINGLAW_RESTRICT reweight,
                               HuberSums<3>* sums) {
    double g0 = 0, g1 = 0, g2 = 0, d0 = 0, d1 = 0, d2 = 0, h00 = 0, h01 = 0, h02 = 0, h11 = 0, h12 = 0,
           h22 = 0;
    SCALINGLAW_SIMD_REDUCTION(+ : g0, g1, g2, d0, d1, d2, h00, h01, h02, h11, h12, h22)
    for (std::size_t i = 0; i < n; ++i) {
        const double psi = clip(r[i], delta);
        const double size = std::fabs(r[i]);
        const double exact = (size <= delta ? 1.0 : 0.0) - psi;
        const double w = delta / (size > delta ? size : delta);
        reweight[i] = w;
        const double j0 = p1[i], j1 = p2[i], j2 = p3[i];
        g0 += psi * j0;
        g1 += psi * j1;
        g2 += psi * j2;
        d0 += w * j0 * j0;
        d1 += w * j1 * j1;
        d2 += w * j2 * j2;
        const double e0 = exact * j0, e1 = exact * j1, e2 = exact * j2;
        h00 += e0 * j0;
        h01 += e0 * j1;
        h02 += e0 * j2;
        h11 += e1 * j1;
        h12 += e1 * j2;
        h22 += e2 * j2;
    }
    *sums = {{g0, g1, g2}, {d0, d1, d2}, {h00, h01, h02, h11, h12, h22}};
}

SCALINGLAW_MULTIVERSION
void weighted_gram(const RunLogs& runs, const double* SCALINGLAW_RESTRICT p1,
                   const double* SCALINGLAW_RESTRICT p2, const double* SCALINGLAW_RESTRICT p3,
                   const double* SCALINGLAW_RESTRICT weight, Triangle<5>* gram) {
    const double* SCALINGLAW_RESTRICT l = runs.log_n;
    const double* SCALINGLAW_RESTRICT m = runs.log_d;
    double h00 = 0, h01 = 0, h02 = 0, h03 = 0, h04 = 0, h11 = 0, h12 = 0, h13 = 0, h14 = 0, h22 = 0, h23 = 0,
           h24 = 0, h33 = 0, h34 = 0, h44 = 0;
    SCALINGLAW_SIMD_REDUCTION(+ : h00, h01, h02, h03, h04, h11, h12, h13, h14, h22, h23, h24, h33, h34, h44)
    for (std::size_t i = 0; i < runs.n; ++i) {
        const double j0 = p1[i], j1 = p2[i], j2 = p3[i], j3 = -p1[i] * l[i], j4 = -p2[i] * m[i];
        const double w0 = weight[i] * j0, w1 = weight[i] * j1, w2 = weight[i] * j2, w3 = weight[i] * j3,
                     w4 = weight[i] * j4;
        h00 += w0 * j0;
        h01 += w0 * j1;
        h02 += w0 * j2;
        h03 += w0 * j3;
        h04 += w0 * j4;
        h11 += w1 * j1;
        h12 += w1 * j2;
        h13 += w1 * j3;
        h14 += w1 * j4;
        h22 += w2 * j2;
        h23 += w2 * j3;
        h24 += w2 * j4;
        h33 += w3 * j3;
        h34 += w3 * j4;
        h44 += w4 * j4;
    }
    *gram = {{h00, h01, h02, h03, h04, h11, h12, h13, h14, h22, h23, h24, h33, h34, h44}};
}

SCALINGLAW_MULTIVERSION
double amplitude_trial(const double* SCALINGLAW_RESTRICT p1, const double* SCALINGLAW_RESTRICT p2,
                       const double* SCALINGLAW_RESTRICT p3, const double* SCALINGLAW_RESTRICT r,
                       std::size_t n, const double scale[3], double delta, double* SCALINGLAW_RESTRICT q,
                       double* SCALINGLAW_RESTRICT r_out) {
    const double s1 = scale[0], s2 = scale[1], s3 = scale[2];
    double sum = 0.0;
    SCALINGLAW_SIMD_REDUCTION(+ : sum)
    for (std::size_t i = 0; i < n; ++i) {
        // q is a convex combination of positive scales: normal and finite when they are
        q[i] = p1[i] * s1 + p2[i] * s2 + p3[i] * s3;
        r_out[i] = r[i] + fast_log(q[i]);
        sum += huber(r_out[i], delta);
    }
    return sum;
}

SCALINGLAW_MULTIVERSION
void amplitude_accept(double* SCALINGLAW_RESTRICT p1, double* SCALINGLAW_RESTRICT p2,
                      double* SCALINGLAW_RESTRICT p3, std::size_t n, const double scale[3],
                      const double* SCALINGLAW_RESTRICT q) {
    for (std::size_t i = 0; i < n; ++i) {
        const double inverse = 1.0 / q[i];
        p1[i] *= scale[0] * inverse;
        p2[i] *= scale[1] * inverse;
        p3[i] *= scale[2] * inverse;
    }
}

}  // namespace scalinglaw::detail
