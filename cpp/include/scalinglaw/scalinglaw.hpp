#pragma once
// scalinglaw: fit scaling laws (Chinchilla's L(N, D) = E + A/N^alpha + B/D^beta, Kaplan's, the
// data-constrained law: laws.hpp), with fixed and tied parameters and per-run weights, and plan
// compute-optimal training. The Chinchilla-only functions (Params, fit_chinchilla, ...) are its
// hand-tuned fast path; the LawKind overloads serve every law. This umbrella header is the one include an
// embedder needs; link the CMake target scalinglaw::core (find_package(scalinglaw CONFIG), or
// add_subdirectory). Public headers use standard types only. Nothing holds global state: any function may be
// called from several threads at once.

#include "scalinglaw/bootstrap.hpp"
#include "scalinglaw/fit.hpp"
#include "scalinglaw/frontier.hpp"
#include "scalinglaw/grid.hpp"
#include "scalinglaw/huber.hpp"
#include "scalinglaw/isoflop.hpp"
#include "scalinglaw/law.hpp"
#include "scalinglaw/laws.hpp"
#include "scalinglaw/runs.hpp"
#include "scalinglaw/version.hpp"
