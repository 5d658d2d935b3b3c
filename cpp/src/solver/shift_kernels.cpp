// The shift's per-run loops (shift.hpp), vectorised as the law kernels are (see fast_math.hpp).

#include <cmath>

#include "huber_lanes.hpp"
#include "shift.hpp"

namespace scalinglaw::detail {

using lanes::clip;
using lanes::infinity;
using lanes::larger;
using lanes::room_down;
using lanes::room_up;
using lanes::smaller;

SCALINGLAW_MULTIVERSION
void shift_sums(const double* SCALINGLAW_RESTRICT r, std::size_t n, double delta, double c, ShiftSums* sums) {
    double value = 0.0, slope = 0.0, inside = 0.0, up = infinity, down = infinity;
    SCALINGLAW_SIMD(reduction(+ : value, slope, inside) reduction(min : up, down))
    for (std::size_t i = 0; i < n; ++i) {
        const double z = r[i] + c;
        const double psi = clip(z, delta);
        value += psi * (z - 0.5 * psi);
        slope += psi;
        inside += std::fabs(z) <= delta ? 1.0 : 0.0;
        up = smaller(up, room_up(z, delta));
        down = smaller(down, room_down(z, delta));
    }
    *sums = {value, slope, inside, up, down};
}

SCALINGLAW_MULTIVERSION
void residual_range(const double* SCALINGLAW_RESTRICT r, std::size_t n, double* r_min, double* r_max) {
    double low = infinity, high = -infinity;
    SCALINGLAW_SIMD(reduction(min : low) reduction(max : high))
    for (std::size_t i = 0; i < n; ++i) {
        low = smaller(low, r[i]);
        high = larger(high, r[i]);
    }
    *r_min = low;
    *r_max = high;
}

}  // namespace scalinglaw::detail
