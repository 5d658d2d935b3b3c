// The law's two forms and its prediction.
#include <doctest/doctest.h>

#include <cmath>

#include "scalinglaw/law.hpp"

using namespace scalinglaw;

TEST_CASE("natural and log forms round-trip") {
    const Params p{1.69, 406.4, 410.7, 0.34, 0.28};
    const LogParams q = to_log(p);
    CHECK(q.a == doctest::Approx(std::log(406.4)).epsilon(1e-15));
    CHECK(q.e == doctest::Approx(std::log(1.69)).epsilon(1e-15));
    const Params back = from_log(q);
    CHECK(back.E == doctest::Approx(p.E).epsilon(1e-15));
    CHECK(back.A == doctest::Approx(p.A).epsilon(1e-15));
    CHECK(back.B == doctest::Approx(p.B).epsilon(1e-15));
    CHECK(back.alpha == p.alpha);
    CHECK(back.beta == p.beta);
}

TEST_CASE("predict is E + A / N^alpha + B / D^beta in both forms") {
    const Params p{1.69, 406.4, 410.7, 0.34, 0.28};
    const double n = 7e10, d = 1.4e12;
    const double expected = 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(d, 0.28);
    CHECK(predict(p, n, d) == doctest::Approx(expected).epsilon(1e-15));
    const LogParams q = to_log(p);
    const double from_logs =
        std::exp(q.a - q.alpha * std::log(n)) + std::exp(q.b - q.beta * std::log(d)) + std::exp(q.e);
    CHECK(predict(p, n, d) == doctest::Approx(from_logs).epsilon(1e-13));
    CHECK(predict(p, 1e300, 1e300) == doctest::Approx(p.E).epsilon(1e-15));  // the irreducible loss
}
