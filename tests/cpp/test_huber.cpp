// Huber loss: values in both regions, and the derivative against central differences.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>

#include "scalinglaw/huber.hpp"

using scalinglaw::huber;
using scalinglaw::huber_derivative;

TEST_CASE("huber is quadratic inside delta and linear beyond") {
    const double delta = 1e-3;
    CHECK(huber(0.0, delta) == 0.0);
    CHECK(huber(5e-4, delta) == doctest::Approx(0.5 * 5e-4 * 5e-4).epsilon(1e-15));
    CHECK(huber(-2e-3, delta) == doctest::Approx(delta * (2e-3 - 0.5 * delta)).epsilon(1e-15));
    // continuous at the threshold
    CHECK(huber(delta, delta) == doctest::Approx(0.5 * delta * delta).epsilon(1e-15));
}

TEST_CASE("huber_derivative matches central differences") {
    const double delta = 0.3;
    for (double r : {-2.0, -0.31, -0.2, -1e-3, 0.0, 0.05, 0.29, 0.31, 4.0}) {
        const double h = 1e-6;
        const double numeric = (huber(r + h, delta) - huber(r - h, delta)) / (2 * h);
        CHECK(huber_derivative(r, delta) == doctest::Approx(numeric).epsilon(1e-8));
    }
}
