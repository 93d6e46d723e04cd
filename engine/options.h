// The settings one compilation and run go by, in one value handed from the
// API and the tool down to the passes and the runtime. Environment variables
// only give the process-wide defaults an Options value starts from
// (FUSEJIT_NUMERICS, FUSEJIT_NUM_THREADS, read once, on first use);
// set_numerics and set_num_threads change those defaults, as libtorch's
// torch::set_num_threads does: the documented way to change them at run time.
//
// Process-wide state besides these two defaults is caches only, each behind
// its own lock and each keeping only what the same request would rebuild:
// the plan cache (engine/pipeline.cpp, keyed by the graph's structure, the
// numerics and the fusion switches), the JIT's compiled kernels in memory and
// on disk (codegen/, keyed by the kernel, the numerics and the host CPU), the
// storage pool of free blocks (runtime/storage_pool.cpp), the hash-consing
// node table (ir/graph.cpp), the pass counters (engine/pass_stats.h), and the
// "fusejit" logger (ir/log.h). Their sizes come from FUSEJIT_PLAN_CACHE,
// FUSEJIT_KERNEL_CACHE, FUSEJIT_CACHE_DIR / FUSEJIT_CACHE_MAX_MB and
// FUSEJIT_POOL_MB when each is created; set_plan_cache_capacity and
// set_storage_pool_limit change them later.
#pragma once

#include "codegen/jit.h"
#include "engine/fuse.h"

namespace fusejit {

// Options and default_options() are public (fusejit/settings.h): the
// defaults are FUSEJIT_NUMERICS, else fast, unless set_numerics was called;
// FUSEJIT_NUM_THREADS, else every usable core, unless set_num_threads was
// called (runtime/parallel_for.h); fusion on.

// The fusion pass's options for `options`.
inline FuseOptions fuse_options(const Options &options) { return {options.fusion}; }

// The default numerics (default_options().numerics).
Numerics current_numerics();
void set_numerics(Numerics numerics);
// The default thread count; 0 goes back to FUSEJIT_NUM_THREADS, else every
// core. Kept by the runtime (runtime/parallel_for.h, which also has
// num_threads()); declared here too so that the API reaches both defaults
// from this header.
void set_num_threads(int n);

}  // namespace fusejit
