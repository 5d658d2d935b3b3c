#pragma once
// Private: the Huber loss's pieces written for loops the compiler vectorises across runs (selects
// instead of branches; always inlined, so compiled for each instruction set of the caller).

#include "../fast_math.hpp"

namespace scalinglaw::detail::lanes {

constexpr double infinity = __builtin_inf();

// psi(r) = huber'(r): r clipped to [-delta, delta]. Nested selects, which compilers vectorise.
SCALINGLAW_ALWAYS_INLINE double clip(double r, double delta) {
    return r > delta ? delta : (r < -delta ? -delta : r);
}

// huber(r) = psi (r - psi / 2): r^2/2 inside delta, delta (|r| - delta/2) beyond, without a branch.
SCALINGLAW_ALWAYS_INLINE double huber(double r, double delta) {
    const double psi = clip(r, delta);
    return psi * (r - 0.5 * psi);
}

// Written so that GCC vectorises them for AVX2 as well (nested selects with a constant arm are not).
SCALINGLAW_ALWAYS_INLINE double smaller(double x, double y) { return x < y ? x : y; }
SCALINGLAW_ALWAYS_INLINE double larger(double x, double y) { return x > y ? x : y; }

// How far c can rise (up) or fall (down) before z = r + c reaches a kink of huber at +-delta: the
// distance to the next kink in that direction, +inf when there is none.
SCALINGLAW_ALWAYS_INLINE double room_up(double z, double delta) {
    const double room = (z < -delta ? -delta : delta) - z;
    return room >= 0.0 ? room : infinity;
}
SCALINGLAW_ALWAYS_INLINE double room_down(double z, double delta) {
    const double room = z - (z > delta ? delta : -delta);
    return room >= 0.0 ? room : infinity;
}

}  // namespace scalinglaw::detail::lanes
