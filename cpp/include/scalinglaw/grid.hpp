#pragma once
// The law evaluated on many points at once, in parallel: predict() over arrays of (N, D) pairs, and
// loss_grid() / loss_grid_nd() over every pair of two axes, written row-major into memory the caller
// owns: out[i * columns + j] is the loss at row i (N = n_axis[i] parameters) and column j (C = c_axis[j]
// FLOPs, i.e. D = C / (6 N) tokens; or D = d_axis[j] tokens). Units as in law.hpp.
// A call holds no global state: concurrent calls on distinct outputs are safe, and every result is
// bit-identical for any thread count. Bad arguments throw std::invalid_argument naming the argument.

#include <atomic>
#include <cstddef>
#include <vector>

#include "scalinglaw/fit.hpp"  // scalinglaw::cancelled
#include "scalinglaw/law.hpp"
#include "scalinglaw/laws.hpp"

namespace scalinglaw {

// Every function below needs E, A, B finite and > 0, alpha and beta finite, every axis or array value
// finite and > 0, `threads` >= 0 (0 = one per hardware thread, fewer for jobs too small to gain from
// them), and `out` non-null unless it has no cells. `out` may overlap the axes of a grid (they are
// read before any cell is written). A raised `cancel` flag stops the work early with
// scalinglaw::cancelled; `out` is then incomplete. A loss beyond the range of the output type (the
// largest double, or float for the float overloads) throws std::invalid_argument naming its cell,
// instead of writing inf: for the grids before any cell is written, for predict() when it is met.

/// out[k] = L(n[k], d[k]) for k < count. `out` must not overlap n or d, unless it is one of them.
void predict(const Params& p, const double* n, const double* d, std::size_t count, double* out,
             int threads = 0, const std::atomic<bool>* cancel = nullptr);

/// out[i * c_count + j] = L(N, C / (6 N)) at N = n_axis[i], C = c_axis[j]: rows follow N, columns C.
/// The law is separable in these axes, L = E + A N^-alpha + [B (6N)^beta] C^-beta, so a grid costs
/// O(n_count + c_count) powers and one multiply-add per cell. The float overload rounds each cell once
/// from its double value (half the memory, for grids of 10^9 cells).
void loss_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
               std::size_t c_count, double* out, int threads = 0, const std::atomic<bool>* cancel = nullptr);
void loss_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
               std::size_t c_count, float* out, int threads = 0, const std::atomic<bool>* cancel = nullptr);

/// out[i * d_count + j] = L(n_axis[i], d_axis[j]): rows follow N, columns D; one add per cell.
void loss_grid_nd(const Params& p, const double* n_axis, std::size_t n_count, const double* d_axis,
                  std::size_t d_count, double* out, int threads = 0,
                  const std::atomic<bool>* cancel = nullptr);
void loss_grid_nd(const Params& p, const double* n_axis, std::size_t n_count, const double* d_axis,
                  std::size_t d_count, float* out, int threads = 0,
                  const std::atomic<bool>* cancel = nullptr);

// ---- Any law (laws.hpp), parameters in the law's order. The Chinchilla law uses the functions above;
// the others evaluate every cell (one exp and a few logs each). Parameters: log-scale ones finite and
// > 0 (R_D, R_N may be +inf), the others finite.

/// out[k] = L(n[k], d[k]) (with U_D = unique_tokens[k] <= d[k], needed by the data-constrained law and
/// otherwise ignored; may be null for the other laws).
void predict(LawKind kind, const std::vector<double>& params, const double* n, const double* d,
             const double* unique_tokens, std::size_t count, double* out, int threads = 0,
             const std::atomic<bool>* cancel = nullptr);

/// out[i * c_count + j] = L(N, C / (6 N)) at N = n_axis[i], C = c_axis[j]. `unique_tokens` > 0 is the
/// data-constrained law's budget of unique tokens (each cell sees U_D = min(unique_tokens, D)); 0 means
/// U_D = D (no repetition).
void loss_grid(LawKind kind, const std::vector<double>& params, const double* n_axis, std::size_t n_count,
               const double* c_axis, std::size_t c_count, double* out, int threads = 0,
               const std::atomic<bool>* cancel = nullptr, double unique_tokens = 0.0);

}  // namespace scalinglaw
