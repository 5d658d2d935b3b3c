#pragma once
// Private, law-independent: the L D L^T factorisation of the solver's small symmetric systems and the
// damping scale of Marquardt's method. Header-only so that each use is unrolled for its size.

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>

namespace scalinglaw::detail {

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

// Damping scale: the reweighted model's diagonal, floored so that no direction is undamped.
template <class Vector>
Vector damping_scale(const Vector& diagonal) {
    return diagonal.cwiseMax(1e-12 * std::max(diagonal.maxCoeff(), DBL_MIN));
}

}  // namespace scalinglaw::detail
