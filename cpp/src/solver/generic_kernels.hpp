#pragma once
// Private: the generic solver's two loops over the runs (solver/generic.hpp), for every law. They are
// compiled in generic_kernels.cpp for several instruction sets (fast_math.hpp) and vectorised across
// runs: the laws' log-predictions and their jets are straight-line code on the lane_ functions. Their
// sums run in an order fixed by the instruction set, so results do not depend on the thread count.

#include <cstddef>
#include <vector>

namespace scalinglaw::detail {

/// The runs in the form the generic solver reads: logs of N, D, U_D (U_D: -inf when absent), L, and
/// the weights (empty: every weight 1). When centred, log N and log D (and log U_D) are less their
/// means centre_n, centre_d over the runs (laws/common.hpp's Centring).
struct GenericRuns {
    std::vector<double> log_n, log_d, log_u, log_loss, weight;
    double total_weight = 0.0;
    double delta = 1e-3;
    double centre_n = 0.0, centre_d = 0.0;
    std::size_t size() const { return log_n.size(); }
};

/// r_i = the law's log-prediction at coordinates `x` (the law's, solver form) less log L_i; for a law that
/// caches a share per run (laws/common.hpp), share_i too (else `share` is not read).
template <class Law>
void law_residuals(const GenericRuns& runs, const double* x, double* r, double* share);

/// At coordinates `x`, with coordinate j's derivative in jet slot seed[j] (-1: held), the sums over the
/// runs (weighted) of the Huber objective's gradient psi J (F entries), its exact Hessian
/// psi' J J^T + psi Hess r and the reweighted model (psi / r) J J^T (upper triangles, row by row).
template <class Law, int F>
void jet_sums(const GenericRuns& runs, const double* x, const int* seed, double* gradient, double* exact,
              double* model);

/// The same sums over all K coordinates of a law with hand-written derivatives (laws/common.hpp's
/// log_predict_derivatives), for the caller to project onto the free ones. A law that caches a share per
/// run takes its derivatives from `r` and `share` at x (law_residuals'); the others do not read them.
template <class Law>
void derivative_sums(const GenericRuns& runs, const double* x, const double* r, const double* share,
                     double* gradient, double* exact, double* model);

}  // namespace scalinglaw::detail
