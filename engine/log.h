// fusejit's logging, through spdlog. FUSEJIT_LOG=trace|debug|info|warn|error|off
// sets the level (default warn): debug shows fusion decisions, compile times
// and cache hits and misses; trace also prints the IR after every pass.
#pragma once

#include <spdlog/spdlog.h>

namespace fusejit {

// Reads FUSEJIT_LOG the first time; cheap afterwards. Call before logging.
void init_logging();

}  // namespace fusejit
