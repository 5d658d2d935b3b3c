#pragma once
// Private, law-independent: what one pass over the runs gives the solver about the Huber objective
// f = sum huber(r_i) in a law's coordinates, named instead of packed at offsets. With J_i the Jacobian
// row of r_i, z_i = r_i (+ the common shift), psi = huber'(z) and w = psi(z) / z:
//   gradient             sum psi J                       (the objective's gradient)
//   reweighted_diagonal  diagonal of sum w J J^T          (the damping scale, the IRLS model's diagonal)
//   gram                 upper triangle, row by row, of sum (psi' - psi) J J^T
// The exact Hessian is the gram term plus sum psi (J J^T + Hess r_i), whose second part each law
// assembles from the gradient and its own second-derivative sums.

namespace scalinglaw::detail {

template <int K>
struct HuberSums {
    static constexpr int triangle = K * (K + 1) / 2;
    double gradient[K];
    double reweighted_diagonal[K];
    double gram[triangle];
};

/// The upper triangle of a symmetric K x K matrix, row by row (as the kernels sum it).
template <int K>
struct Triangle {
    double upper[K * (K + 1) / 2];
};

}  // namespace scalinglaw::detail
