// Numbers in the core's messages: the value as the caller wrote it, a computed value without its noise.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "check.hpp"

using scalinglaw::detail::describe;
using scalinglaw::detail::shown;

TEST_CASE("a double in a message is the caller's text, or 6 digits of a computed value") {
    CHECK(shown(0.1) == "0.1");
    CHECK(shown(1e-320) == "1e-320");  // the double 9.9998886718268301e-321
    CHECK(shown(5e-324) == "5e-324");
    CHECK(shown(5.76e23) == "5.76e+23");
    CHECK(shown(1.8200000001) == "1.8200000001");
    CHECK(shown(-0.050000000000000204) == "-0.05");
    CHECK(shown(0.1 + 0.2) == "0.3");
    CHECK(shown(-0.12596012089131964) == "-0.12596");
    CHECK(shown(std::numeric_limits<double>::infinity()) == "inf");
    CHECK(shown(-std::numeric_limits<double>::max()) == "-1.79769e+308");
    CHECK(describe("delta must be > 0, got ", -1e-3, " at index ", 7) ==
          "delta must be > 0, got -0.001 at index 7");
    CHECK(describe("x = ", 2.5f) == "x = 2.5");
}
