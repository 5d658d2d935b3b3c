// The exact common shift of the residuals (shift.hpp).

#include "shift.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scalinglaw::detail {
namespace {
constexpr double infinity = std::numeric_limits<double>::infinity();
}  // namespace

// The c minimising g(c) = sum huber(r_i + c): a convex 1-D problem whose derivative, sum psi(r_i + c),
// is monotone and piecewise linear. Each pass over the runs (shift_sums) gives g, g', g'' and how far
// g' stays linear around c. Newton steps from c = 0 (the pass at 0 comes with the evaluation): a step
// that stays within the linear piece lands on the minimum exactly, and g there is known without a
// further pass; a longer one is checked by the next pass. When a step leaves the bracket around the
// root, Illinois false position inside it (the bracket starts at -max r - delta and -min r + delta,
// where g' = -+ n delta, found by a pass only when needed). Otherwise stops once g(c) is provably
// within `tolerance` of the minimum (convexity: g(c) - min g <= |g'| * bracket width). Returns c, g(c).
Shift best_shift(const double* r, std::size_t n, double delta, double tolerance, const ShiftSums& at_zero,
                 const double* weight, double total_weight) {
    double low = -infinity, high = infinity;
    double slope_low = -(weight ? total_weight : static_cast<double>(n)) * delta, slope_high = -slope_low;
    double c = 0.0;
    ShiftSums s = at_zero;
    int last_side = 0;
    for (int pass = 0; pass < 100; ++pass) {
        if (s.slope == 0.0) break;
        if (s.inside > 0.0) {  // g = quadratic up to the nearest kink: g(c + h) = g + g' h + g'' h^2 / 2
            const double step = -s.slope / s.inside;
            if (step > 0.0 ? step <= s.up : -step <= s.down)
                return {c + step, s.value + 0.5 * s.slope * step};
        }
        const int side = s.slope > 0 ? 1 : -1;
        if (side > 0) {
            high = c;
            slope_high = s.slope;
            if (last_side > 0) slope_low *= 0.5;  // Illinois: keep false position from stalling
        } else {
            low = c;
            slope_low = s.slope;
            if (last_side < 0) slope_high *= 0.5;
        }
        last_side = side;
        if (std::max(-slope_low, slope_high) * (high - low) <= tolerance) break;
        double next = s.inside > 0.0 ? c - s.slope / s.inside : low - 1.0;
        if (!(next > low && next < high) && !(std::isfinite(low) && std::isfinite(high))) {
            double r_min, r_max;
            residual_range(r, n, &r_min, &r_max);
            if (!std::isfinite(low)) low = -r_max - delta;
            if (!std::isfinite(high)) high = -r_min + delta;
        }
        if (!(next > low && next < high)) next = low - slope_low * (high - low) / (slope_high - slope_low);
        if (!(next > low && next < high)) next = 0.5 * (low + high);
        c = next;
        if (weight)
            shift_sums_weighted(r, weight, n, delta, c, &s);
        else
            shift_sums(r, n, delta, c, &s);
    }
    return {c, s.value};
}

void shift_sums_weighted(const double* r, const double* weight, std::size_t n, double delta, double c,
                         ShiftSums* sums) {
    double value = 0.0, slope = 0.0, inside = 0.0, up = infinity, down = infinity;
    for (std::size_t i = 0; i < n; ++i) {
        const double z = r[i] + c, w = weight[i];
        const double psi = z > delta ? delta : (z < -delta ? -delta : z);
        value += w * psi * (z - 0.5 * psi);
        slope += w * psi;
        inside += std::fabs(z) <= delta ? w : 0.0;
        // a run of weight 0 bends nothing: its kinks are no limit
        if (w > 0.0) {
            const double room_up = (z < -delta ? -delta : delta) - z;
            const double room_down = z - (z > delta ? delta : -delta);
            if (room_up >= 0.0) up = std::min(up, room_up);
            if (room_down >= 0.0) down = std::min(down, room_down);
        }
    }
    *sums = {value, slope, inside, up, down};
}

}  // namespace scalinglaw::detail
