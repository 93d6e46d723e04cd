// What a realization goes by. Process-wide defaults, as libtorch's, are
// what every realize() starts from unless it is given its own Options; the
// environment (FUSEJIT_NUMERICS, FUSEJIT_NUM_THREADS) gives the defaults the
// setters override. The caches are shared by every call, so their sizes are
// process-wide only.
#pragma once

#include <cstddef>

namespace fusejit {

// Floating-point policy of compiled kernels.
enum class Numerics {
  Fast,    // `contract` (FMA) and `reassoc` (reordered reductions) allowed
  Strict,  // neither: results reproducible run to run and thread count to thread count
};

// The numerics of kernels compiled from now on.
void set_numerics(Numerics numerics);

// Threads compiled kernels run on (at least 1); 0 restores the default
// (FUSEJIT_NUM_THREADS, else every core).
void set_num_threads(int n);
int num_threads();

// The settings of one realization: `t.realize(options)` or
// `fusejit::realize({a, b}, options)` use them for that call only.
struct Options {
  Numerics numerics = Numerics::Fast;
  int threads = 1;     // threads its kernels compile and run on (at least 1)
  bool fusion = true;  // off: every op its own kernel, as an eager framework runs
};
// The process's defaults: set_numerics / FUSEJIT_NUMERICS, set_num_threads /
// FUSEJIT_NUM_THREADS, fusion on.
Options default_options();

// Cache sizes (the environment gives their first values: FUSEJIT_PLAN_CACHE,
// FUSEJIT_KERNEL_CACHE, FUSEJIT_POOL_MB). Plans: compiled graphs kept by
// structure; kernels: compiled functions kept loaded; pool: bytes of freed
// buffers kept for reuse. Shrinking evicts the least recently used now.
void set_plan_cache_capacity(size_t plans);
void set_kernel_cache_capacity(size_t kernels);
void set_storage_pool_limit(size_t bytes);

}  // namespace fusejit
