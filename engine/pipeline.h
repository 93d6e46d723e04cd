// The compile pipeline, run in a straight line by run_pipeline: the graph
// passes (canonicalize, recognize_matmul, canonicalize), fuse, plan_memory.
// Everything that shows or runs a graph goes through it: realize() and
// `fusejit run` compile its plan (prepare, cached by the graph's structural
// key, so rebuilding the same graph compiles nothing and only dispatches);
// `dump` and `--explain` print its artifacts. LLVM IR and assembly are made
// on demand from the plan's kernels (codegen/compile_kernel.h dump_kernel).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/backend.h"
#include "codegen/jit.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/options.h"
#include "engine/pass_stats.h"
#include "engine/plan.h"
#include "engine/recognize_matmul.h"
#include "runtime/buffer.h"

namespace fusejit {

// What one run of the pipeline made, stage by stage. The vectors of values
// hold the roots, then the `also` values of the request, in that order.
struct PipelineArtifacts {
  size_t num_roots = 0;
  std::vector<NodeRef> graph;      // as given
  std::vector<NodeRef> canonical;  // after the first canonicalize (what recognize_matmul saw)
  std::vector<NodeRef> optimized;  // after the graph passes
  // Every sum of a binary zip recognize_matmul looked at, in its order; each
  // `sum` points into `canonical`'s graph.
  std::vector<MatmulDecision> matmuls;
  // Of the roots alone (not the `also` values): fused and memory-planned,
  // with the unfused figure measured on `graph`.
  Plan plan;
  FuseTrace fusion;  // why each kernel ends where it does; points into `optimized`
};

struct PipelineRequest {
  // Values (of the roots' graph) to carry through the graph passes too, so
  // that a printer can name their images: optimizing them as roots yields
  // the very nodes of the roots' optimized graph (the passes rewrite each node
  // from its args alone, and nodes are hash-consed). They are not fused.
  std::vector<NodeRef> also;
  // false: stop after the graph passes (no plan).
  bool plan = true;
  // false: fuse without row kernels (FuseOptions::rows).
  bool rows = true;
};

PipelineArtifacts run_pipeline(const std::vector<NodeRef> &roots, const Options &options,
                               const PipelineRequest &request = {});

// The notes the kernels stage prints: one per matmul recognized or missed
// among the roots' values, then one per value fusion materialized.
std::vector<std::string> pipeline_notes(const PipelineArtifacts &artifacts);

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
PreparedGraph prepare(const std::vector<NodeRef> &roots, const Options &options);
// The same with the default options but these numerics and fusion switches.
PreparedGraph prepare(const std::vector<NodeRef> &roots, Numerics numerics, FuseOptions fuse = {});

// Runs the compiled kernels on their backend, `threads` host threads per
// launch (0: num_threads()). `inputs` are the values of PreparedGraph::inputs.
std::vector<Buffer> run_compiled(const CompiledPlan &compiled, const std::vector<Buffer> &inputs,
                                 int threads = 0);
// A runner that launches the compiled kernels on host buffers, for callers
// that wrap it (timing); the plan's backend must run on the host.
KernelRunner jit_runner(const CompiledPlan &compiled, int threads = 0);

PipelineStats pipeline_stats();
// Drops every cached plan (the JIT keeps its compiled kernels).
void clear_plan_cache();
// Bounds the plan cache (FUSEJIT_PLAN_CACHE, else 512 plans): the least
// recently used plans past it are dropped, and with them their hold on the
// JIT's kernels (see JitOptions::max_kernels).
void set_plan_cache_capacity(size_t capacity);

}  // namespace fusejit
