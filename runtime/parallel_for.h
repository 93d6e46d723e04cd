// The parallel loop JIT kernels run under: splits [0, n) into contiguous
// chunks over OpenMP's threads. FUSEJIT_NUM_THREADS caps the thread count
// (default: every core); set_num_threads overrides it for this process.
#pragma once

#include <cstdint>
#include <functional>

namespace fusejit {

// Threads parallel_for uses (at least 1).
int num_threads();
// 0 restores the default (FUSEJIT_NUM_THREADS, else every core).
void set_num_threads(int n);

// Calls body(begin, end) on disjoint chunks covering [0, n). Ranges smaller
// than `min_chunk` per thread run on the calling thread: spawning work costs
// more than it saves on small kernels. Exceptions from the body propagate.
void parallel_for(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)> &body);

}  // namespace fusejit
