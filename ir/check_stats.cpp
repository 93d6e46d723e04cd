#include "ir/check_stats.h"

#include <atomic>

namespace fusejit {

namespace {

// Counters only (no setting lives here), so any thread may bump them.
std::atomic<uint64_t> runs[2];

}  // namespace

void count_check(Check check) {
  runs[static_cast<int>(check)].fetch_add(1, std::memory_order_relaxed);
}

CheckStats check_stats() {
  auto get = [](Check c) { return runs[static_cast<int>(c)].load(std::memory_order_relaxed); };
  return {get(Check::Kernel), get(Check::LlvmModule)};
}

}  // namespace fusejit
