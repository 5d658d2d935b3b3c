// predict() and loss_grid() for any law (grid.hpp): the Chinchilla law through its separable fast
// path, the others cell by cell through the law's one definition. Each cell is computed by the same
// expression whichever thread does it.

#include <algorithm>
#include <cmath>
#include <vector>

#include "check.hpp"
#include "laws/dispatch.hpp"
#include "parallel.hpp"
#include "scalinglaw/grid.hpp"

namespace scalinglaw {
namespace {

constexpr std::size_t rows_per_block = 4096;

void check_law_params(LawKind kind, const std::vector<double>& params) {
    const LawInfo& info = law_info(kind);
    if (params.size() != info.parameters.size())
        detail::fail(detail::describe("params must hold the ", info.parameters.size(), " parameters of the ",
                                      info.name, " law, got ", params.size()));
    for (std::size_t j = 0; j < params.size(); ++j) {
        if (info.may_be_infinite[j] && params[j] == INFINITY) continue;
        if (info.log_scale[j])
            detail::check_positive(params[j], info.parameters[j].c_str());
        else
            detail::check_finite(params[j], info.parameters[j].c_str());
    }
}

Params chinchilla(const std::vector<double>& p) { return {p[0], p[1], p[2], p[3], p[4]}; }

// Calls item(k) for k < count in parallel blocks; `threads` = 0: all cores for large jobs only.
template <class Item>
void for_items(std::size_t count, int threads, const std::atomic<bool>* cancel, Item&& item) {
    const std::size_t blocks = (count + rows_per_block - 1) / rows_per_block;
    if (threads == 0 && count < 4 * rows_per_block) threads = 1;
    detail::parallel_for(
        blocks, threads,
        [&](std::size_t b, std::size_t) {
            for (std::size_t k = b * rows_per_block; k < std::min(count, (b + 1) * rows_per_block); ++k)
                item(k);
        },
        cancel);
}

double checked(double loss, const char* what, std::size_t index) {
    if (!std::isfinite(loss))
        detail::fail(
            detail::describe("the loss at ", what, "[", index, "] is beyond double precision: ", loss));
    return loss;
}

}  // namespace

void predict(LawKind kind, const std::vector<double>& params, const double* n, const double* d,
             const double* unique_tokens, std::size_t count, double* out, int threads,
             const std::atomic<bool>* cancel) {
    check_law_params(kind, params);
    detail::check_threads(threads);
    if (kind == LawKind::chinchilla) return predict(chinchilla(params), n, d, count, out, threads, cancel);
    detail::check_positive_array(n, count, "n");
    detail::check_positive_array(d, count, "d");
    const bool needs_u = law_info(kind).needs_unique_tokens;
    if (needs_u) {
        if (count > 0 && unique_tokens == nullptr)
            detail::fail(detail::describe("the ", law_info(kind).name, " law needs unique_tokens, got none"));
        detail::check_positive_array(unique_tokens, count, "unique_tokens");
        for (std::size_t k = 0; k < count; ++k)
            if (unique_tokens[k] > d[k])
                detail::fail(detail::describe("unique_tokens[", k, "] = ", unique_tokens[k], " exceeds d[", k,
                                              "] = ", d[k]));
    }
    if (count > 0 && out == nullptr) detail::fail("out is a null pointer");
    const std::vector<double> x = to_coordinates(kind, params);
    detail::visit_law(kind, [&](auto law) {
        using Law = decltype(law);
        for_items(count, threads, cancel, [&](std::size_t k) {
            const double log_u = needs_u ? std::log(unique_tokens[k]) : 0.0;
            out[k] = checked(std::exp(Law::log_predict(x.data(), std::log(n[k]), std::log(d[k]), log_u)),
                             "out", k);
        });
    });
}

void loss_grid(LawKind kind, const std::vector<double>& params, const double* n_axis, std::size_t n_count,
               const double* c_axis, std::size_t c_count, double* out, int threads,
               const std::atomic<bool>* cancel, double unique_tokens) {
    check_law_params(kind, params);
    detail::check_threads(threads);
    if (!(unique_tokens >= 0.0) || std::isinf(unique_tokens))
        detail::fail(
            detail::describe("unique_tokens must be finite and >= 0 (0: U_D = D), got ", unique_tokens));
    if (kind == LawKind::chinchilla)
        return loss_grid(chinchilla(params), n_axis, n_count, c_axis, c_count, out, threads, cancel);
    detail::check_positive_array(n_axis, n_count, "n_axis");
    detail::check_positive_array(c_axis, c_count, "c_axis");
    if (n_count * c_count > 0 && out == nullptr) detail::fail("out is a null pointer");
    const std::vector<double> x = to_coordinates(kind, params);
    // the axes are read before any cell is written: out may overlap them
    std::vector<double> log_n(n_count), log_half(c_count);
    for (std::size_t i = 0; i < n_count; ++i) log_n[i] = std::log(n_axis[i]);
    for (std::size_t j = 0; j < c_count; ++j) log_half[j] = std::log(c_axis[j] / 6.0);
    const double log_budget = unique_tokens > 0.0 ? std::log(unique_tokens) : INFINITY;
    detail::visit_law(kind, [&](auto law) {
        using Law = decltype(law);
        for_items(n_count, threads, cancel, [&](std::size_t i) {
            for (std::size_t j = 0; j < c_count; ++j) {
                const double log_d = log_half[j] - log_n[i];
                const double log_u = std::min(log_budget, log_d);
                out[i * c_count + j] = checked(std::exp(Law::log_predict(x.data(), log_n[i], log_d, log_u)),
                                               "out", i * c_count + j);
            }
        });
    });
}

}  // namespace scalinglaw
