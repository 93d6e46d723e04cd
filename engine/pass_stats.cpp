#include "engine/pass_stats.h"

#include <atomic>

namespace fusejit {

namespace {

// Counters only (no setting lives here), so any thread may bump them.
std::atomic<uint64_t> runs[4];

}  // namespace

void count_pass_run(Pass pass) {
  runs[static_cast<int>(pass)].fetch_add(1, std::memory_order_relaxed);
}

PassStats pass_stats() {
  auto get = [](Pass p) { return runs[static_cast<int>(p)].load(std::memory_order_relaxed); };
  return {get(Pass::Canonicalize), get(Pass::RecognizeMatmul), get(Pass::Fuse),
          get(Pass::PlanMemory)};
}

}  // namespace fusejit
