#pragma once
// Private argument checks shared by the core's entry points. Each failure throws std::invalid_argument
// whose message names the argument, the first offending index and value, so that an embedder (and the
// Python layer, which turns it into ValueError) can say exactly what is wrong.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "scalinglaw/fit.hpp"

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace scalinglaw::detail {

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

/// A double for a message: the shortest text that reads back as the same double when 12 significant
/// digits suffice (a value as the caller wrote it: 0.1, 1e-320, 1.8200000001, not 0.10000000000000001 or
/// 9.9998886718268301e-321), else 6 significant digits (a computed value, whose last digits are rounding
/// noise: c2 = -0.05, not -0.050000000000000204).
inline std::string shown(double value) {
    char text[32];
    for (int digits = 1; digits <= 12; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, value);
        if (std::strtod(text, nullptr) == value) return text;
    }
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

/// A double to every digit (17 significant), for messages about values that differ in their last digits.
inline std::string exact(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

template <class T>
decltype(auto) message_part(const T& part) {
    if constexpr (std::is_floating_point_v<T>)
        return shown(static_cast<double>(part));
    else
        return (part);
}

template <class... Parts>
std::string describe(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << message_part(parts));
    return out.str();
}

inline void check_finite(double value, const char* name) {
    if (!std::isfinite(value)) fail(describe(name, " must be finite, got ", value));
}

inline void check_positive(double value, const char* name) {
    if (!(value > 0.0) || !std::isfinite(value)) fail(describe(name, " must be finite and > 0, got ", value));
}

/// Every values[i] finite and > 0.
inline void check_positive_array(const double* values, std::size_t size, const char* name) {
    if (size > 0 && values == nullptr) fail(describe(name, " is a null pointer"));
    for (std::size_t i = 0; i < size; ++i)
        if (!(values[i] > 0.0) || !std::isfinite(values[i]))
            fail(describe(name, "[", i, "] must be finite and > 0, got ", values[i]));
}

/// Every values[i] finite (any sign).
inline void check_finite_array(const double* values, std::size_t size, const char* name) {
    if (size > 0 && values == nullptr) fail(describe(name, " is a null pointer"));
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isfinite(values[i])) fail(describe(name, "[", i, "] must be finite, got ", values[i]));
}

/// This machine's physical memory in bytes; 0 where the system does not say.
inline double physical_memory() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) return static_cast<double>(pages) * static_cast<double>(page);
#endif
    return 0.0;
}

/// A byte count for a message: "7.28 TB (8e+12 bytes)".
inline std::string bytes_text(double bytes) {
    const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    double value = bytes;
    int unit = 0;
    while (value >= 1000.0 && unit < 6) {
        value /= 1000.0;
        ++unit;
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.3g %s (%.3g bytes)", value, units[unit], bytes);
    return text;
}

/// Refuses, before allocating, what needs more than the machine's physical memory (Python's limit too):
/// such an allocation may succeed on paper and have the process killed when its pages are touched.
inline void check_memory(double bytes, const std::string& what) {
    const double limit = physical_memory();
    if (limit > 0.0 && bytes > limit)
        fail(describe(what, " needs ", bytes_text(bytes), ", more than this machine's memory (",
                      bytes_text(limit), ")"));
}

inline void check_threads(int threads) {
    if (threads < 0) fail(describe("threads must be >= 0 (0 = all cores), got ", threads));
}

// The fit's checks (fit.cpp), shared with the bootstrap: at least 5 runs, each finite and > 0, not
// all of one N or one D; options in range; every start finite (index `index` named).
void check_runs(const RunsView& runs);
void check_options(const FitOptions& options);
void check_delta(double delta);
void check_start(const LogParams& q, std::size_t index);

}  // namespace scalinglaw::detail
