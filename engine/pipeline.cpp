#include "engine/pipeline.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <list>
#include <mutex>
#include <unordered_map>

#include "engine/optimize.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/log.h"
#include "engine/plan_memory.h"
#include "engine/structural_key.h"
#include "ir/kernel_printer.h"

namespace fusejit {

namespace {

std::atomic<int> numerics_override{-1};
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

std::shared_ptr<const CompiledPlan> compile_plan(const std::vector<NodeRef> &roots,
                                                 const GraphKey &key, Numerics numerics,
                                                 FuseOptions fuse_options) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> notes;
  std::vector<NodeRef> optimized = optimize_graph(roots, numerics, &notes);
  for (const std::string &note : notes) spdlog::debug("{}", note);

  auto compiled = std::make_shared<CompiledPlan>();
  compiled->numerics = numerics;
  compiled->plan = fuse(optimized, fuse_options);
  compiled->plan.unfused_intermediate_bytes = unfused_intermediate_bytes(roots);
  plan_memory(compiled->plan);
  for (const std::string &note : compiled->plan.notes) spdlog::debug("fuse: {}", note);
  for (const Kernel &k : compiled->plan.kernels) {
    SPDLOG_TRACE("kernel:\n{}", print_kernel(k));
    compiled->kernels.push_back(compiled->backend->compile(k, numerics));
    kernels_compiled.fetch_add(1);
  }

  std::unordered_map<const Node *, int> slot;
  for (size_t i = 0; i < key.leaves.size(); ++i) slot.emplace(key.leaves[i], static_cast<int>(i));
  for (const Node *n : compiled->plan.input_nodes) compiled->input_slots.push_back(slot.at(n));
  compiled->plan.input_nodes.clear();  // the cached plan must not point into this graph

  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::debug("plan: compiled {} kernel(s) in {:.2f} ms ({} -> {} intermediate bytes)",
                compiled->kernels.size(), ms, compiled->plan.unfused_intermediate_bytes,
                compiled->plan.intermediate_bytes);
  return compiled;
}

}  // namespace

PreparedGraph prepare(const std::vector<NodeRef> &roots, Numerics numerics,
                      FuseOptions fuse_options) {
  init_logging();
  GraphKey key = structural_key(roots);
  key.key.push_back(numerics == Numerics::Fast ? 'F' : 'S');
  key.key.push_back(fuse_options.fusion ? '+' : '-');
  PreparedGraph prepared;
  prepared.compiled = plan_cache().find(key.key);
  prepared.cache_hit = prepared.compiled != nullptr;
  if (prepared.cache_hit) {
    plan_hits.fetch_add(1);
    spdlog::debug("plan cache: hit ({} kernel(s), nothing to compile)", prepared.compiled->kernels.size());
  } else {
    plan_misses.fetch_add(1);
    spdlog::debug("plan cache: miss, compiling a graph of {} leaves", key.leaves.size());
    prepared.compiled = compile_plan(roots, key, numerics, fuse_options);
    plan_cache().insert(key.key, prepared.compiled);
  }
  for (int s : prepared.compiled->input_slots) prepared.inputs.push_back(key.leaves[s]);
  return prepared;
}

KernelRunner jit_runner(const CompiledPlan &compiled) {
  FUSEJIT_INTERNAL_CHECK(&compiled.backend->device() == &host_device(), "jit_runner: backend ",
                         compiled.backend->name(), " does not run on the host");
  return [&compiled](size_t index, const std::vector<const Buffer *> &inputs,
                     const std::vector<Buffer *> &outputs) {
    std::vector<DeviceBuffer> buffers;
    for (const Buffer *b : inputs) buffers.push_back(host_device().to_device(*b));
    for (Buffer *b : outputs) buffers.push_back(host_device().to_device(*b));
    compiled.backend->launch(*compiled.kernels[index], buffers);
  };
}

std::vector<Buffer> run_compiled(const CompiledPlan &compiled, const std::vector<Buffer> &inputs) {
  return execute_plan(compiled.plan, inputs, *compiled.backend, compiled.kernels);
}

Numerics current_numerics() {
  int o = numerics_override.load();
  if (o >= 0) return static_cast<Numerics>(o);
  static const Numerics from_env = numerics_from_env();
  return from_env;
}

void set_numerics(Numerics numerics) { numerics_override.store(static_cast<int>(numerics)); }

PipelineStats pipeline_stats() {
  return {plan_hits.load(), plan_misses.load(), kernels_compiled.load(), plan_cache().size()};
}

void clear_plan_cache() { plan_cache().clear(); }

void set_plan_cache_capacity(size_t capacity) { plan_cache().set_capacity(capacity); }

}  // namespace fusejit
