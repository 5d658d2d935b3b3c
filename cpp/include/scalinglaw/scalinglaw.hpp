#pragma once
// scalinglaw: fit the Chinchilla scaling law L(N, D) = E + A/N^alpha + B/D^beta and plan compute-optimal
// training. This umbrella header is the one include an embedder needs; link the CMake target
// scalinglaw::core. Public headers use standard types only.

#include "scalinglaw/fit.hpp"
#include "scalinglaw/frontier.hpp"
#include "scalinglaw/grid.hpp"
#include "scalinglaw/huber.hpp"
#include "scalinglaw/law.hpp"
#include "scalinglaw/version.hpp"
