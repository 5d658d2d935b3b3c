#pragma once
// The Huber loss of a residual r with threshold delta > 0, in scipy.special.huber's convention (the one
// Hoffmann et al. used): r^2 / 2 for |r| <= delta, delta * (|r| - delta / 2) beyond. Quadratic near zero,
// linear in the tails, continuous with a continuous first derivative. Pure functions: thread-safe.

#include <cmath>

namespace scalinglaw {

inline double huber(double r, double delta) {
    const double size = std::abs(r);
    return size <= delta ? 0.5 * r * r : delta * (size - 0.5 * delta);
}

/// d huber / d r: r clipped to [-delta, delta].
inline double huber_derivative(double r, double delta) {
    return r > delta ? delta : (r < -delta ? -delta : r);
}

}  // namespace scalinglaw
