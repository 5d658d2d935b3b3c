#pragma once
// Private argument checks shared by the core's entry points. Each failure throws std::invalid_argument
// whose message names the argument, the first offending index and value, so that an embedder (and the
// Python layer, which turns it into ValueError) can say exactly what is wrong.

#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

#include "scalinglaw/fit.hpp"

namespace scalinglaw::detail {

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

template <class... Parts>
std::string describe(const Parts&... parts) {
    std::ostringstream out;
    out.precision(17);
    (out << ... << parts);
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
