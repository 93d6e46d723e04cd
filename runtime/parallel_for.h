// The parallel loop JIT kernels run under: splits [0, n) into contiguous
// chunks over OpenMP's threads. The thread count comes with each call (from
// an engine Options value); the process-wide default it starts from is
// FUSEJIT_NUM_THREADS (read once), else every core the process may use
// (runtime/usable_cores.h), and set_num_threads
// changes that default.
#pragma once

#include <cstdint>
#include <functional>

namespace fusejit {

// The default thread count (at least 1).
int num_threads();
// Sets the default; 0 restores FUSEJIT_NUM_THREADS, else every usable core.
void set_num_threads(int n);

// Calls body(begin, end) on disjoint chunks covering [0, n), on at most
// `threads` threads. Ranges smaller than `min_chunk` per thread run on the
// calling thread: spawning work costs more than it saves on small kernels.
// Exceptions from the body propagate.
void parallel_for(int threads, int64_t n, int64_t min_chunk,
                  const std::function<void(int64_t, int64_t)> &body);
// The same on num_threads() threads.
void parallel_for(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)> &body);

}  // namespace fusejit
