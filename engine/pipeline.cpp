#include "engine/pipeline.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "engine/pass_notes.h"
#include "engine/plan_memory.h"
#include "engine/structural_key.h"
#include "ir/kernel_printer.h"
#include "ir/log.h"
#include "runtime/parallel_for.h"

namespace fusejit {

namespace {

std::atomic<uint64_t> plan_hits{0}, plan_misses{0}, kernels_compiled{0};

// An LRU map from structural key to compiled plan, bounded by
// FUSEJIT_PLAN_CACHE entries (default 512), so a process that sees ever new
// shapes does not grow without end.
class PlanCache {
 public:
  PlanCache() {
    const char *env = std::getenv("FUSEJIT_PLAN_CACHE");
    if (env && *env) capacity_ = std::max<size_t>(1, std::strtoull(env, nullptr, 10));
  }

  std::shared_ptr<const CompiledPlan> find(const std::string &key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  void insert(const std::string &key, std::shared_ptr<const CompiledPlan> plan) {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.count(key)) return;  // another thread compiled it first
    lru_.emplace_front(key, std::move(plan));
    index_[key] = lru_.begin();
    trim();
  }

  void set_capacity(size_t capacity) {
    std::lock_guard<std::mutex> lock(mu_);
    capacity_ = std::max<size_t>(1, capacity);
    trim();
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return lru_.size();
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    index_.clear();
    lru_.clear();
  }

 private:
  void trim() {
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

  using Entry = std::pair<std::string, std::shared_ptr<const CompiledPlan>>;
  std::mutex mu_;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t capacity_ = 512;
};

PlanCache &plan_cache() {
  static PlanCache *cache = new PlanCache;
  return *cache;
}

// The notes of the kernels stage, to the debug log.
void log_notes(const PipelineArtifacts &artifacts) {
  if (!logger().should_log(spdlog::level::debug)) return;
  for (const std::string &note : pipeline_notes(artifacts)) logger().debug("{}", note);
}

std::shared_ptr<const CompiledPlan> compile_plan(const std::vector<NodeRef> &roots,
                                                 const GraphKey &key, const Options &options,
                                                 bool rows) {
  auto start = std::chrono::steady_clock::now();
  PipelineRequest request;
  request.rows = rows;
  PipelineArtifacts artifacts = run_pipeline(roots, options, request);
  log_notes(artifacts);

  auto compiled = std::make_shared<CompiledPlan>();
  compiled->numerics = options.numerics;
  compiled->plan = std::move(artifacts.plan);
  const std::vector<Kernel> &kernels = compiled->plan.kernels;
  if (logger().should_log(spdlog::level::trace))
    for (const Kernel &k : kernels) logger().trace("kernel:\n{}", print_kernel(k));
  // The kernels compile side by side, on the threads the plan will run on
  // (the JIT compiles concurrently): a plan of many kernels is ready in
  // about its longest kernel's time per thread, not their sum. Each chunk
  // is a whole compile, milliseconds long, so a thread slowed by another
  // process costs at most the kernel it holds.
  compiled->kernels.resize(kernels.size());
  parallel_for(options.threads, static_cast<int64_t>(kernels.size()), 1,
               [&](int64_t begin, int64_t end) {
                 for (int64_t i = begin; i < end; ++i) {
                   compiled->kernels[i] = compiled->backend->compile(kernels[i], options.numerics);
                   kernels_compiled.fetch_add(1);
                 }
               });

  std::unordered_map<const Node *, int> slot;
  for (size_t i = 0; i < key.leaves.size(); ++i) slot.emplace(key.leaves[i], static_cast<int>(i));
  for (const Node *n : compiled->plan.input_nodes) compiled->input_slots.push_back(slot.at(n));
  compiled->plan.input_nodes.clear();  // the cached plan must not point into this graph

  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  logger().debug("plan: compiled {} kernel(s) in {:.2f} ms ({} -> {} intermediate bytes)",
                 compiled->kernels.size(), ms, compiled->plan.unfused_intermediate_bytes,
                 compiled->plan.intermediate_bytes);
  return compiled;
}

}  // namespace

PipelineArtifacts run_pipeline(const std::vector<NodeRef> &roots, const Options &options,
                               const PipelineRequest &request) {
  PipelineArtifacts out;
  out.num_roots = roots.size();
  out.graph = roots;
  out.graph.insert(out.graph.end(), request.also.begin(), request.also.end());
  OptimizedGraph g = optimize_graph_stages(out.graph, options.numerics);
  out.canonical = std::move(g.canonical);
  out.optimized = std::move(g.optimized);
  out.matmuls = std::move(g.matmuls);
  if (!request.plan) return out;
  std::vector<NodeRef> optimized_roots(out.optimized.begin(), out.optimized.begin() + roots.size());
  FuseOptions fusing = fuse_options(options);
  fusing.rows = request.rows;
  out.plan = fuse(optimized_roots, fusing, &out.fusion);
  // Measured on the graph as given: the product a matmul replaced counts.
  out.plan.unfused_intermediate_bytes = unfused_intermediate_bytes(roots);
  plan_memory(out.plan);
  if (logger().should_log(spdlog::level::debug)) {
    PassStats runs = pass_stats();
    logger().debug(
        "pipeline: passes run in this process: canonicalize {}, recognize_matmul {}, fuse {}, "
        "plan_memory {}",
        runs.canonicalize, runs.recognize_matmul, runs.fuse, runs.plan_memory);
  }
  return out;
}

std::vector<std::string> pipeline_notes(const PipelineArtifacts &artifacts) {
  // The `also` values may reach sums the roots no longer do; their decisions
  // say nothing about what runs.
  std::vector<NodeRef> live_roots(
      artifacts.canonical.begin(),
      artifacts.canonical.begin() + static_cast<std::ptrdiff_t>(artifacts.num_roots));
  std::unordered_set<const Node *> live;
  for (const Node *n : topo_order_to_values(live_roots)) live.insert(n);
  std::vector<std::string> notes;
  for (const MatmulDecision &d : artifacts.matmuls)
    if (live.count(d.sum)) notes.push_back(matmul_note(d));
  for (std::string &note : fusion_notes(artifacts.fusion)) notes.push_back(std::move(note));
  return notes;
}

namespace {

PreparedGraph prepare_plan(const std::vector<NodeRef> &roots, const Options &options, bool rows) {
  GraphKey key = structural_key(roots);
  key.key.push_back(options.numerics == Numerics::Fast ? 'F' : 'S');
  key.key.push_back(options.fusion ? '+' : '-');
  key.key.push_back(rows ? 'R' : '-');
  PreparedGraph prepared;
  prepared.compiled = plan_cache().find(key.key);
  prepared.cache_hit = prepared.compiled != nullptr;
  if (prepared.cache_hit) {
    plan_hits.fetch_add(1);
    logger().debug("plan cache: hit ({} kernel(s), nothing to compile)",
                   prepared.compiled->kernels.size());
  } else {
    plan_misses.fetch_add(1);
    logger().debug("plan cache: miss, compiling a graph of {} leaves", key.leaves.size());
    prepared.compiled = compile_plan(roots, key, options, rows);
    plan_cache().insert(key.key, prepared.compiled);
  }
  for (int s : prepared.compiled->input_slots) prepared.inputs.push_back(key.leaves[s]);
  return prepared;
}

}  // namespace

PreparedGraph prepare(const std::vector<NodeRef> &roots, const Options &options) {
  return prepare_plan(roots, options, true);
}

PreparedGraph prepare(const std::vector<NodeRef> &roots, Numerics numerics, FuseOptions fuse) {
  Options options = default_options();
  options.numerics = numerics;
  options.fusion = fuse.fusion;
  return prepare_plan(roots, options, fuse.rows);
}

KernelRunner jit_runner(const CompiledPlan &compiled, int threads) {
  FUSEJIT_INTERNAL_CHECK(&compiled.backend->device() == &host_device(), "jit_runner: backend ",
                         compiled.backend->name(), " does not run on the host");
  return [&compiled, threads](size_t index, const std::vector<const Buffer *> &inputs,
                              const std::vector<Buffer *> &outputs) {
    std::vector<DeviceBuffer> buffers;
    for (const Buffer *b : inputs) buffers.push_back(host_device().to_device(*b));
    for (Buffer *b : outputs) buffers.push_back(host_device().to_device(*b));
    compiled.backend->launch(*compiled.kernels[index], buffers, threads);
  };
}

std::vector<Buffer> run_compiled(const CompiledPlan &compiled, const std::vector<Buffer> &inputs,
                                 int threads) {
  return execute_plan(compiled.plan, inputs, *compiled.backend, compiled.kernels, threads);
}

PipelineStats pipeline_stats() {
  return {plan_hits.load(), plan_misses.load(), kernels_compiled.load(), plan_cache().size()};
}

void clear_plan_cache() { plan_cache().clear(); }

void set_plan_cache_capacity(size_t capacity) { plan_cache().set_capacity(capacity); }

}  // namespace fusejit
