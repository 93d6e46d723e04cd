// plan_memory: gives every intermediate (Temp) buffer of a plan a storage
// slot, sharing a slot between buffers whose lifetimes (first kernel that
// writes it to last kernel that reads it) do not overlap. Only kernel
// boundaries allocate, and a dead intermediate's memory is reused.
// Before: a plan from fuse. After: every Temp buffer has a slot;
// intermediate_bytes is the total of the slots.
#pragma once

#include "engine/plan.h"

namespace fusejit {

void plan_memory(Plan &plan);

}  // namespace fusejit
