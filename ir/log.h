// fusejit's logger: spdlog's logger named "fusejit", writing to stderr (the
// tool's stdout stays machine-readable). Every layer logs through it and none
// touches spdlog's default logger, which stays the application's.
// FUSEJIT_LOG=trace|debug|info|warn|error|off gives its level when it is
// created (default warn): debug shows fusion decisions, compile times and
// cache hits and misses; trace also prints the IR after every pass. An
// application may change it later through spdlog::get("fusejit").
#pragma once

#include <spdlog/spdlog.h>

namespace fusejit {

// Created on first use (thread-safe); cheap afterwards.
spdlog::logger &logger();

}  // namespace fusejit
