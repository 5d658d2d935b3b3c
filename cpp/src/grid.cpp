// Batch evaluation of the law; see grid.hpp for the layout. A grid is computed in two passes: per-row
// and per-column factors (O(rows + columns) powers), then one multiply-add per cell, in parallel blocks
// of cells. Every cell is computed by the same expression whichever thread does it, so the result does
// not depend on the thread count.

#include "scalinglaw/grid.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define SCALINGLAW_STREAMING_STORES 1
#endif

#include "check.hpp"
#include "parallel.hpp"

namespace scalinglaw {
namespace {

// Cells per unit of work handed to a thread (512 KiB of doubles): large enough that the shared counter
// costs nothing, small enough to balance the cores and to notice a cancel within a millisecond.
constexpr std::size_t block_size = std::size_t{1} << 16;

// With threads = 0, a job gets one thread per core but at least this many items per thread: starting
// and joining a thread costs ~50 us on an idle machine and milliseconds on a busy one (the thread
// waits for a core), more than a small grid takes on one thread.
constexpr std::size_t cells_per_thread = std::size_t{1} << 20;   // one multiply-add each: ~0.3 ms
constexpr std::size_t powers_per_thread = std::size_t{1} << 14;  // one or two pow() each: ~0.5 ms

// Grids larger than this are written with streaming (non-temporal) stores, which skip reading each
// cache line before overwriting it: a 4096 x 4096 grid is then written as fast as a constant by
// ordinary stores, instead of 1.5-2x slower. Smaller grids stay in cache for whoever reads them next.
constexpr std::size_t streaming_bytes = std::size_t{16} << 20;

void check_params(const Params& p) {
    detail::check_positive(p.E, "E");
    detail::check_positive(p.A, "A");
    detail::check_positive(p.B, "B");
    detail::check_finite(p.alpha, "alpha");
    detail::check_finite(p.beta, "beta");
}

void check_out(const void* out, std::size_t rows, std::size_t columns) {
    if (columns != 0 && rows > std::numeric_limits<std::size_t>::max() / columns)
        detail::fail(detail::describe("a grid of ", rows, " x ", columns, " cells is too large"));
    if (rows * columns != 0 && out == nullptr) detail::fail("out is a null pointer");
}

// Calls body(first, last) on consecutive ranges covering [0, count), in parallel.
template <class Body>
void for_blocks(std::size_t count, std::size_t per_thread, int threads, const std::atomic<bool>* cancel,
                Body&& body) {
    if (threads == 0) {
        const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
        threads = static_cast<int>(std::clamp<std::size_t>(count / per_thread, 1, cores));
    }
    const std::size_t blocks = (count + block_size - 1) / block_size;
    detail::parallel_for(
        blocks, threads,
        [&](std::size_t b, std::size_t) { body(b * block_size, std::min(count, (b + 1) * block_size)); },
        cancel);
}

// Calls item(k) for every k < count, in parallel, for items costing a pow() or two.
template <class Item>
void for_each_item(std::size_t count, int threads, const std::atomic<bool>* cancel, Item&& item) {
    for_blocks(count, powers_per_thread, threads, cancel, [&](std::size_t first, std::size_t last) {
        for (std::size_t k = first; k < last; ++k) item(k);
    });
}

// Calls segment(i, j, length, k) for runs of cells (i, j) ... (i, j + length - 1) of one row, k the
// row-major index of (i, j), covering the rows x columns grid in parallel blocks.
template <class Segment>
void for_row_segments(std::size_t rows, std::size_t columns, std::size_t per_thread, int threads,
                      const std::atomic<bool>* cancel, Segment&& segment) {
    auto cells = [&](std::size_t first, std::size_t last) {
        std::size_t i = first / columns, j = first % columns;
        for (std::size_t k = first; k < last; ++i, j = 0) {
            const std::size_t length = std::min(last - k, columns - j);
            segment(i, j, length, k);
            k += length;
        }
    };
    for_blocks(rows * columns, per_thread, threads, cancel, cells);
}

// coefficient * x^exponent for x > 0. pow is accurate to an ulp, but x^exponent can overflow or
// underflow where the product is representable (A = 1e-300, N^-alpha = 1e310); only then exp of a sum
// of logs, accurate to about |log| ulps, where the plain formula would give inf or 0.
double power_term(double coefficient, double x, double exponent) {
    const double power = std::pow(x, exponent);
    if (std::isnormal(power)) return coefficient * power;
    return std::exp(std::log(coefficient) + exponent * std::log(x));
}

// Per-row and per-column terms of a grid whose cell (i, j) is row[i] + scale[i] * column[j].
struct Separable {
    std::vector<double> row, scale, column;
};

#ifdef SCALINGLAW_STREAMING_STORES
// The vector loops of fill_segment with streaming stores to 16-byte aligned o + t; the same arithmetic
// (a multiply, an add, a rounding to float) as the scalar loop. Return where they stopped.
std::size_t stream(double* o, const double* c, std::size_t t, std::size_t length, double r, double s) {
    const __m128d vr = _mm_set1_pd(r), vs = _mm_set1_pd(s);
    for (; t + 2 <= length; t += 2) _mm_stream_pd(o + t, _mm_add_pd(vr, _mm_mul_pd(vs, _mm_loadu_pd(c + t))));
    return t;
}

std::size_t stream(float* o, const double* c, std::size_t t, std::size_t length, double r, double s) {
    const __m128d vr = _mm_set1_pd(r), vs = _mm_set1_pd(s);
    for (; t + 4 <= length; t += 4) {
        const __m128 low = _mm_cvtpd_ps(_mm_add_pd(vr, _mm_mul_pd(vs, _mm_loadu_pd(c + t))));
        const __m128 high = _mm_cvtpd_ps(_mm_add_pd(vr, _mm_mul_pd(vs, _mm_loadu_pd(c + t + 2))));
        _mm_stream_ps(o + t, _mm_movelh_ps(low, high));
    }
    return t;
}
#endif

// o[t] = r + s * c[t] for t < length, rounded to T.
template <class T>
void fill_segment(T* o, const double* c, std::size_t length, double r, double s, bool streaming) {
    std::size_t t = 0;
#ifdef SCALINGLAW_STREAMING_STORES
    if (streaming) {
        for (; t < length && reinterpret_cast<std::uintptr_t>(o + t) % 16 != 0; ++t)
            o[t] = static_cast<T>(r + s * c[t]);
        t = stream(o, c, t, length, r, s);
        _mm_sfence();  // streamed stores are weakly ordered: publish them before the thread moves on
    }
#else
    (void)streaming;
#endif
    for (; t < length; ++t) o[t] = static_cast<T>(r + s * c[t]);
}

template <class T>
void fill(const Separable& g, T* out, int threads, const std::atomic<bool>* cancel) {
    const std::size_t rows = g.row.size(), columns = g.column.size();
    const bool streaming = rows * columns * sizeof(T) > streaming_bytes;
    for_row_segments(rows, columns, cells_per_thread, threads, cancel,
                     [&](std::size_t i, std::size_t j, std::size_t length, std::size_t k) {
                         fill_segment(out + k, g.column.data() + j, length, g.row[i], g.scale[i], streaming);
                     });
}

// E + A N^-alpha for each N: the part of L that depends on the row only.
std::vector<double> row_terms(const Params& p, const double* n_axis, std::size_t n_count, int threads,
                              const std::atomic<bool>* cancel) {
    std::vector<double> row(n_count);
    for_each_item(n_count, threads, cancel,
                  [&](std::size_t i) { row[i] = p.E + power_term(p.A, n_axis[i], -p.alpha); });
    return row;
}

template <class T>
const char* type_name() {
    return sizeof(T) == sizeof(float) ? "float32" : "float64";
}

// A loss beyond the output type's range would be written as inf: refused instead, naming the cell.
template <class T>
[[noreturn]] void fail_overflow(double n, const char* column_name, double column_value) {
    auto shown = [](double x) {  // 6 digits: the cell is named, not reproduced
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", x);
        return std::string(text);
    };
    detail::fail(detail::describe("the loss at N = ", shown(n), ", ", column_name, " = ", shown(column_value),
                                  " exceeds the largest ", type_name<T>(), " (",
                                  shown(static_cast<double>(std::numeric_limits<T>::max())),
                                  "): the law's parameters or the axes are too extreme"));
}

// Before any cell is written: a row's largest cell is row[i] + scale[i] * max(column) (scale > 0),
// so O(rows) checks find any cell whose loss the output type cannot hold.
template <class T>
void check_range(const Separable& g, const double* n_axis, const double* column_axis,
                 const char* column_name) {
    const std::size_t widest =
        static_cast<std::size_t>(std::max_element(g.column.begin(), g.column.end()) - g.column.begin());
    for (std::size_t i = 0; i < g.row.size(); ++i)
        if (!std::isfinite(static_cast<T>(g.row[i] + g.scale[i] * g.column[widest])))
            fail_overflow<T>(n_axis[i], column_name, column_axis[widest]);
}

bool all_normal(const std::vector<double>& values) {
    return std::all_of(values.begin(), values.end(), [](double v) { return std::isnormal(v); });
}

// Splits B / D^beta = [B (6N)^beta] * C^-beta into a factor per row and one per column. Both bases are
// first multiplied by the same power of two 2^-s (exact, and it cancels in the product), centring
// their binary exponents on zero, so the factors stay representable even for large |beta| on wide
// axes. Returns false where they still would not (|beta| log2 of the axes' spread beyond ~1000).
bool split_budget_term(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
                       std::size_t c_count, Separable& g, int threads, const std::atomic<bool>* cancel) {
    long long lowest = LLONG_MAX, highest = LLONG_MIN;
    auto extend = [&](double x) {  // x is finite and > 0 (checked), or inf when 6N overflows
        if (!std::isfinite(x)) return false;
        const long long e = std::ilogb(x);
        lowest = std::min(lowest, e);
        highest = std::max(highest, e);
        return true;
    };
    for (std::size_t i = 0; i < n_count; ++i)
        if (!extend(6.0 * n_axis[i])) return false;
    for (std::size_t j = 0; j < c_count; ++j) extend(c_axis[j]);
    if (highest - lowest > 2000) return false;  // the scaled bases would not all be normal doubles
    const int s = static_cast<int>((lowest + highest) / 2);

    g.scale.resize(n_count);
    g.column.resize(c_count);
    for_each_item(n_count, threads, cancel, [&](std::size_t i) {
        g.scale[i] = power_term(p.B, std::ldexp(6.0 * n_axis[i], -s), p.beta);
    });
    for_each_item(c_count, threads, cancel,
                  [&](std::size_t j) { g.column[j] = std::pow(std::ldexp(c_axis[j], -s), -p.beta); });
    return all_normal(g.scale) && all_normal(g.column);
}

template <class T>
void budget_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
                 std::size_t c_count, T* out, int threads, const std::atomic<bool>* cancel) {
    check_params(p);
    check_out(out, n_count, c_count);
    detail::check_positive_array(n_axis, n_count, "n_axis");
    detail::check_positive_array(c_axis, c_count, "c_axis");
    detail::check_threads(threads);
    if (n_count * c_count == 0) return;

    Separable g;
    g.row = row_terms(p, n_axis, n_count, threads, cancel);
    if (split_budget_term(p, n_axis, n_count, c_axis, c_count, g, threads, cancel)) {
        check_range<T>(g, n_axis, c_axis, "C");
        fill(g, out, threads, cancel);
        return;
    }
    // Exponents too extreme to split: B D^-beta per cell with D = (C / 6) / N, as the formula reads;
    // where D itself is beyond double precision (N = 5e-324, C = 1e280), B D^-beta from the logs
    // (it may still be representable). Copies of the axes, because `out` may overlap them.
    const std::vector<double> n(n_axis, n_axis + n_count), c(c_axis, c_axis + c_count);
    const double log_b = std::log(p.B), log_six = std::log(6.0);
    auto budget_term = [&](double budget, double size) {
        const double tokens = budget / 6.0 / size;
        if (std::isnormal(tokens)) return power_term(p.B, tokens, -p.beta);
        return std::exp(log_b - p.beta * (std::log(budget) - log_six - std::log(size)));
    };
    for_row_segments(n_count, c_count, powers_per_thread, threads, cancel,
                     [&](std::size_t i, std::size_t j, std::size_t length, std::size_t k) {
                         for (std::size_t t = 0; t < length; ++t) {
                             const T cell = static_cast<T>(g.row[i] + budget_term(c[j + t], n[i]));
                             if (!std::isfinite(cell)) fail_overflow<T>(n[i], "C", c[j + t]);
                             out[k + t] = cell;
                         }
                     });
}

template <class T>
void token_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* d_axis,
                std::size_t d_count, T* out, int threads, const std::atomic<bool>* cancel) {
    check_params(p);
    check_out(out, n_count, d_count);
    detail::check_positive_array(n_axis, n_count, "n_axis");
    detail::check_positive_array(d_axis, d_count, "d_axis");
    detail::check_threads(threads);
    if (n_count * d_count == 0) return;

    // (E + A N^-alpha) + B D^-beta, added in the order predict() adds them: the cells equal its values.
    Separable g;
    g.row = row_terms(p, n_axis, n_count, threads, cancel);
    g.scale.assign(n_count, 1.0);  // x * 1.0 is exact
    g.column.resize(d_count);
    for_each_item(d_count, threads, cancel,
                  [&](std::size_t j) { g.column[j] = power_term(p.B, d_axis[j], -p.beta); });
    check_range<T>(g, n_axis, d_axis, "D");
    fill(g, out, threads, cancel);
}

}  // namespace

void predict(const Params& p, const double* n, const double* d, std::size_t count, double* out, int threads,
             const std::atomic<bool>* cancel) {
    check_params(p);
    check_out(out, count, 1);
    detail::check_positive_array(n, count, "n");
    detail::check_positive_array(d, count, "d");
    detail::check_threads(threads);
    for_each_item(count, threads, cancel, [&](std::size_t k) {
        const double loss = p.E + power_term(p.A, n[k], -p.alpha) + power_term(p.B, d[k], -p.beta);
        if (!std::isfinite(loss)) fail_overflow<double>(n[k], "D", d[k]);
        out[k] = loss;  // after reading n[k] and d[k]: out may be one of them
    });
}

void loss_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
               std::size_t c_count, double* out, int threads, const std::atomic<bool>* cancel) {
    budget_grid(p, n_axis, n_count, c_axis, c_count, out, threads, cancel);
}

void loss_grid(const Params& p, const double* n_axis, std::size_t n_count, const double* c_axis,
               std::size_t c_count, float* out, int threads, const std::atomic<bool>* cancel) {
    budget_grid(p, n_axis, n_count, c_axis, c_count, out, threads, cancel);
}

void loss_grid_nd(const Params& p, const double* n_axis, std::size_t n_count, const double* d_axis,
                  std::size_t d_count, double* out, int threads, const std::atomic<bool>* cancel) {
    token_grid(p, n_axis, n_count, d_axis, d_count, out, threads, cancel);
}

void loss_grid_nd(const Params& p, const double* n_axis, std::size_t n_count, const double* d_axis,
                  std::size_t d_count, float* out, int threads, const std::atomic<bool>* cancel) {
    token_grid(p, n_axis, n_count, d_axis, d_count, out, threads, cancel);
}

}  // namespace scalinglaw
