// The compile pipeline, run in a straight line: canonicalize, fuse, plan
// memory, compile every kernel. Its result is cached by the graph's
// structural key, so rebuilding the same graph compiles nothing and only
// dispatches.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/backend.h"
#include "codegen/jit.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/plan.h"
#include "runtime/buffer.h"

namespace fusejit {

struct CompiledPlan {
  Plan plan;
  // The backend that compiled kernels[i] from plan.kernels[i] and runs them.
  Backend *backend = &default_backend();
  std::vector<std::shared_ptr<const Executable>> kernels;
  Numerics numerics = Numerics::Fast;
  // Input i of the plan is leaf input_slots[i] of the graph's structural key.
  // (The cached plan keeps no pointer into the graph it was made from, so it
  // keeps none of that graph's data alive.)
  std::vector<int> input_slots;
};

struct PipelineStats {
  uint64_t plan_hits = 0;
  uint64_t plan_misses = 0;
  uint64_t kernels_compiled = 0;  // kernels compiled or fetched from the JIT's caches
  uint64_t plans_cached = 0;      // plans in the cache now
};

// The graph's optimized, fused and compiled plan, and the leaves to bind, in
// the plan's input order.
struct PreparedGraph {
  std::shared_ptr<const CompiledPlan> compiled;
  std::vector<const Node *> inputs;
  bool cache_hit = false;
};
PreparedGraph prepare(const std::vector<NodeRef> &roots, Numerics numerics,
                      FuseOptions fuse_options = {});

// Runs the compiled kernels on their backend. `inputs` are the values of
// PreparedGraph::inputs.
std::vector<Buffer> run_compiled(const CompiledPlan &compiled, const std::vector<Buffer> &inputs);
// A runner that launches the compiled kernels on host buffers, for callers
// that wrap it (timing); the plan's backend must run on the host.
KernelRunner jit_runner(const CompiledPlan &compiled);

// Numerics used by realize(): FUSEJIT_NUMERICS, unless set_numerics was called.
Numerics current_numerics();
void set_numerics(Numerics numerics);

PipelineStats pipeline_stats();
// Drops every cached plan (the JIT keeps its compiled kernels).
void clear_plan_cache();
// Bounds the plan cache (FUSEJIT_PLAN_CACHE, else 512 plans): the least
// recently used plans past it are dropped, and with them their hold on the
// JIT's kernels (see JitOptions::max_kernels).
void set_plan_cache_capacity(size_t capacity);

}  // namespace fusejit
