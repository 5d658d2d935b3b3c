#pragma once
// The bootstrap of the Chinchilla fit (Besiroglu et al. 2024): runs (or whole groups of runs) are drawn
// with replacement and each resample is refitted to convergence, in parallel over the resamples. Per
// resample: the law, the compute-optimal frontier (frontier.hpp) and allocations at the caller's budgets
// (FLOPs, C = 6 N D), and optionally Approach 2's exponents (isoflop.hpp). Results are per-resample
// vectors; allocations are row-major, resample by resample. Resamples are drawn one at a time where they
// are refitted, from (seed, resample number), so that memory is O(threads x runs), not O(resamples x
// runs); a caller's own table of resamples is accepted too. A call holds no global state: concurrent
// calls are safe, and the result is bit-identical for any thread count. Bad arguments throw
// std::invalid_argument.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scalinglaw/fit.hpp"
#include "scalinglaw/frontier.hpp"
#include "scalinglaw/law.hpp"

namespace scalinglaw {

/// How a bootstrap draws its resamples. Resample r has its own generator, made from (seed, r) in O(1):
/// xoshiro256** whose state is words 4r to 4r + 3 of the seed's splitmix64 stream, bounded by Lemire's
/// unbiased multiply-and-reject. The same seed gives the same resamples on every platform and standard
/// library, for any thread count and in any order of drawing.
struct Resampling {
    std::size_t resamples = 0;  ///< R >= 1
    std::uint64_t seed = 0;
    /// Empty: each resample draws n_runs runs with replacement. Otherwise run i's group (not the IsoFLOP
    /// `group` of BootstrapOptions), ids in [0, G) with every id used and G >= 2: each resample draws G
    /// groups with replacement and takes all the runs of each (in input order), group after group, for
    /// runs that share errors (e.g. the runs of one model size). With one run per group, group i = run i,
    /// the resamples are the ungrouped ones.
    std::vector<std::size_t> groups;
};

/// Resample `resample` of `resampling` for n_runs runs: the run indices, each in [0, n_runs), of its
/// draws in order (n_runs of them without groups; the runs of the drawn groups with). Needs
/// 1 <= n_runs < 2^32 and resample < resampling.resamples (groups as documented there).
std::vector<std::size_t> resample_indices(std::size_t n_runs, const Resampling& resampling,
                                          std::size_t resample);

/// The first n_resamples ungrouped resamples of a seed as one table: entry r * n_runs + j is resample r's
/// j-th draw, i.e. resample_indices(n_runs, {n_resamples, seed}, r)[j]. It holds R x n_runs entries: a
/// bootstrap from (seed, R) draws each resample when it refits it instead. Needs 1 <= n_runs < 2^32,
/// n_resamples >= 1.
std::vector<std::size_t> bootstrap_indices(std::size_t n_runs, std::size_t n_resamples, std::uint64_t seed);

/// The starts each resample is refitted from: the full-data optimum, then two of Hoffmann et al.'s grid
/// starts, (a, b, e, alpha, beta) = (10, 10, -1, 0.5, 0.5) and (5, 10, -0.5, 2, 0.5). Chosen by
/// evidence (bench/bench_bootstrap.py --check-starts 300): on 300 of Epoch's resamples of the 240
/// Chinchilla runs, each refitted from all 4500 grid starts, the full-data optimum alone reached the
/// grid's best objective on every resample (to 1.1e-14 relative; 6.7 iterations on average, at most
/// 29), and so did each of these two grid starts alone (14.1 and 15.6 iterations), while 29 other grid
/// starts ended in a worse minimum (a vanished term) on some resamples. The two are insurance for data
/// whose resamples leave the full-data optimum's basin; they come from different corners of the grid
/// (alpha 0.5 and 2) and converge fastest among the grid starts that never failed.
std::vector<LogParams> bootstrap_starts(const LogParams& optimum);

/// Every field: what it means, its unit, why this default.
struct BootstrapOptions {
    /// How each resample is refitted (Huber delta, iterations, tolerances), and `threads` and `cancel`
    /// for the whole call. Threads share out whole resamples (a resample's starts run on one thread),
    /// so that the result does not depend on their number.
    FitOptions fit;
    /// Budgets (FLOPs, each finite and > 0) at which each resample's compute-optimal allocation is
    /// reported; may be empty.
    std::vector<double> budgets;
    /// Approach 2 per resample (optional): run i's IsoFLOP group, an index into group_budgets or -1,
    /// as for approach2(). Both empty: no Approach 2.
    std::vector<int> group;
    std::vector<double> group_budgets;
};

struct BootstrapResult {
    std::size_t resamples = 0;  ///< R
    std::size_t budgets = 0;    ///< K = options.budgets.size()
    // One entry per resample, in the order of the resamples. A resample whose best start failed
    // (status numerical_failure) has NaN parameters and allocations.
    std::vector<LogParams> log_params;  ///< the best start's optimum (lowest objective, then index)
    std::vector<Params> params;         ///< the same, natural form
    std::vector<double> objective;
    std::vector<FitStatus> status;
    std::vector<int> iterations;  ///< the best start's
    std::vector<std::size_t> best_start;
    std::vector<std::size_t> starts_at_best;  ///< starts within 1e-8 relative of the best objective
    /// a, b, G; NaN where the law has no frontier (A, B, E, alpha or beta not finite and > 0), and in
    /// `optimal` where an allocation is beyond double precision (see frontier.hpp).
    std::vector<FrontierCoefficients> frontier;
    /// R x K, row-major: optimal[r * K + k] is resample r's allocation at options.budgets[k].
    std::vector<Allocation> optimal;
    // Approach 2, one entry per resample (empty without options.group): the exponents (NaN where fewer
    // than 2 budgets of the resample have a parabola minimum) and how many budgets they rest on.
    std::vector<double> approach2_a;
    std::vector<double> approach2_b;
    std::vector<std::size_t> approach2_used;
};

/// Refits each resample of `runs` (drawn as `resampling` says, one at a time on the thread that refits
/// it) from every start and keeps the best. Runs as for fit_chinchilla (at least 5, not all of one N or
/// one D); at least one start. options.fit.progress counts the resamples done.
BootstrapResult bootstrap(const RunsView& runs, const Resampling& resampling,
                          const std::vector<LogParams>& starts, const BootstrapOptions& options = {});

/// The same for the caller's resamples: `indices` holds R * runs.size run indices, each < runs.size,
/// resample after resample (e.g. as bootstrap_indices returns them).
BootstrapResult bootstrap(const RunsView& runs, const std::vector<std::size_t>& indices,
                          const std::vector<LogParams>& starts, const BootstrapOptions& options = {});

/// Convenience: fits the runs from default_starts(), then bootstraps n_resamples resamples of `seed`
/// (ungrouped) from bootstrap_starts(that optimum). Throws std::runtime_error if the full-data fit fails
/// numerically. options.fit.progress counts the resamples only.
BootstrapResult bootstrap(const RunsView& runs, std::size_t n_resamples, std::uint64_t seed,
                          const BootstrapOptions& options = {});

// ---- Any law (laws.hpp), with its ParameterMap and the runs' weights and unique tokens ---------------

struct LawBootstrapResult {
    LawKind law = LawKind::chinchilla;
    std::size_t resamples = 0;   ///< R
    std::size_t budgets = 0;     ///< K
    std::size_t parameters = 0;  ///< P, the law's
    /// R x P, row-major, natural form in the law's order; NaN where the resample's best start failed.
    std::vector<double> params;
    std::vector<double> objective;
    std::vector<FitStatus> status;
    std::vector<int> iterations;
    std::vector<std::size_t> best_start;
    std::vector<std::size_t> starts_at_best;
    /// R x K, row-major: the compute-optimal allocation (compute_optimal(kind, params, C)) at each of
    /// options.budgets; NaN where the resample has none or it is beyond double precision.
    std::vector<Allocation> optimal;
};

/// Refits each resample (drawn as `resampling` says, or the rows of `indices`, as for bootstrap(); a run's
/// weight and unique tokens travel with it) from every start (the law's coordinates) under `map`,
/// keeping the best. The unconstrained, unweighted Chinchilla law gives exactly bootstrap()'s refits.
/// Approach 2 (options.group) is not offered here.
LawBootstrapResult bootstrap(LawKind kind, const RunsView& runs, const Resampling& resampling,
                             const std::vector<std::vector<double>>& starts, const ParameterMap& map = {},
                             const BootstrapOptions& options = {});
LawBootstrapResult bootstrap(LawKind kind, const RunsView& runs, const std::vector<std::size_t>& indices,
                             const std::vector<std::vector<double>>& starts, const ParameterMap& map = {},
                             const BootstrapOptions& options = {});

/// The starts a resample is refitted from: the full-data optimum (coordinates), and for the Chinchilla
/// law the two grid starts of bootstrap_starts(LogParams).
std::vector<std::vector<double>> bootstrap_starts(LawKind kind, const std::vector<double>& optimum);

}  // namespace scalinglaw
