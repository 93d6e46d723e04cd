#include "engine/plan_memory.h"

#include <algorithm>

#include "engine/pass_stats.h"

namespace fusejit {

void plan_memory(Plan &plan) {
  count_pass_run(Pass::PlanMemory);
  size_t n = plan.buffers.size();
  for (PlanBuffer &b : plan.buffers) b.slot = -1;
  std::vector<int> first(n, -1), last(n, -1);
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    for (const KernelOutput &o : plan.kernels[k].outputs)
      if (first[o.buffer] < 0) first[o.buffer] = static_cast<int>(k);
    for (const KernelInput &in : plan.kernels[k].inputs) last[in.buffer] = static_cast<int>(k);
  }
  // Greedy, in order of definition: take the smallest free slot that is big
  // enough, else the largest free slot grown to fit, else a new one.
  struct Slot {
    int64_t bytes;
    int free_after;  // the last kernel that reads the buffer living in it
  };
  std::vector<Slot> slots;
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    for (const KernelOutput &o : plan.kernels[k].outputs) {
      PlanBuffer &b = plan.buffers[o.buffer];
      if (b.role != PlanBuffer::Role::Temp || b.slot >= 0) continue;
      int64_t bytes = b.bytes();
      int best = -1;
      for (size_t s = 0; s < slots.size(); ++s) {
        if (slots[s].free_after >= static_cast<int>(k)) continue;  // still in use (or read by k)
        bool fits = slots[s].bytes >= bytes;
        if (best < 0 ||
            (fits && (slots[best].bytes < bytes || slots[s].bytes < slots[best].bytes)) ||
            (!fits && slots[best].bytes < bytes && slots[s].bytes > slots[best].bytes))
          best = static_cast<int>(s);
      }
      if (best < 0) {
        slots.push_back({bytes, 0});
        best = static_cast<int>(slots.size()) - 1;
      }
      slots[best].bytes = std::max(slots[best].bytes, bytes);
      // A temp nobody reads (cannot happen after fuse) is freed right after its kernel.
      slots[best].free_after = std::max(last[o.buffer], static_cast<int>(k));
      b.slot = best;
    }
  }
  plan.slot_bytes.clear();
  plan.intermediate_bytes = 0;
  for (const Slot &s : slots) {
    plan.slot_bytes.push_back(s.bytes);
    plan.intermediate_bytes += s.bytes;
  }
}

}  // namespace fusejit
