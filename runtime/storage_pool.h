// A process-wide pool of storage blocks. Freed blocks are kept (up to a
// bound) and handed out again for requests of a similar size, so running the
// same plan repeatedly reuses warm memory instead of page-faulting fresh
// pages every time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "runtime/buffer.h"

namespace fusejit {

// Storage of at least `bytes` bytes; returns to the pool when the last
// reference drops.
std::shared_ptr<Storage> acquire_storage(size_t bytes);

struct PoolStats {
  uint64_t hits = 0;    // requests served from the pool
  uint64_t misses = 0;  // requests that allocated
  size_t cached_bytes = 0;
};
PoolStats storage_pool_stats();
// Bytes the pool may keep while unused (FUSEJIT_POOL_MB, default 1024 MiB).
void set_storage_pool_limit(size_t bytes);
// Frees everything the pool keeps.
void trim_storage_pool();

}  // namespace fusejit
