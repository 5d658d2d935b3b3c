#pragma once
// scalinglaw's version: the single source that CMake (project VERSION) and pip (regex provider) read.

#define SCALINGLAW_VERSION "0.1.0"

namespace scalinglaw {
inline constexpr const char* version = SCALINGLAW_VERSION;
}  // namespace scalinglaw
