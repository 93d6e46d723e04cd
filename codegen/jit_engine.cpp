// The ORC side of the JIT. This is the one translation unit that includes
// LLJIT and its layers, whose headers are slow to compile; keep it so.
#include "codegen/jit_engine.h"

#include <fusejit/settings.h>

#include <chrono>
#include <future>
#include <list>
#include <mutex>
#include <unordered_map>

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutorProcessControl.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/TaskDispatch.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>

#include "codegen/host_target.h"
#include "codegen/llvm_error.h"
#include "codegen/object_cache.h"
#include "codegen/optimize.h"
#include "ir/log.h"

namespace fusejit {

namespace orc = llvm::orc;

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Symbols JIT'd code does not define resolve against this process: libm,
// libc and fusejit's own runtime entry points.
llvm::Expected<orc::JITDylibSP> process_symbols(orc::LLJIT &jit) {
  orc::JITDylib &dylib = jit.getExecutionSession().createBareJITDylib("<process symbols>");
  auto generator = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit.getDataLayout().getGlobalPrefix());
  if (!generator) return generator.takeError();
  dylib.addGenerator(std::move(*generator));
  return orc::JITDylibSP(&dylib);
}

}  // namespace

struct JitEngine::Impl {
  // Declared before `jit`, which holds a pointer to it: destroyed after.
  std::unique_ptr<KernelObjectCache> cache;
  std::unique_ptr<orc::LLJIT> jit;

  struct Loaded {
    std::shared_future<void *> address;  // ready once the kernel is linked
    orc::JITDylib *dylib = nullptr;      // set once linked
    // Alive while a request or a CompiledFunction holds the kernel; an
    // expired owner makes the kernel a candidate for unloading.
    std::weak_ptr<const void> owner;
    std::list<std::string>::iterator recency;
  };

  mutable std::mutex mutex;  // guards the members below
  // Every loaded (or loading) key.
  std::unordered_map<std::string, Loaded> kernels;
  std::list<std::string> recency;  // keys, most recently requested first
  size_t max_kernels = 0;
  uint64_t memory_hits = 0, lowerings = 0, unloaded = 0, dylib_serial = 0;
  double compile_milliseconds = 0;

  llvm::Expected<orc::ThreadSafeModule> transform(orc::ThreadSafeModule tsm);
  void *materialize(const std::string &key, const std::string &symbol,
                    const std::function<LoweredModule()> &lower, CodeSource &source,
                    orc::JITDylib *&dylib);
  std::shared_ptr<const void> hold(Loaded &kernel);
  std::vector<orc::JITDylib *> take_unheld_past_capacity();
  void unload(const std::vector<orc::JITDylib *> &dylibs);
};

// Under `mutex`: the kernel's owner, made afresh if no one holds it.
std::shared_ptr<const void> JitEngine::Impl::hold(Loaded &kernel) {
  std::shared_ptr<const void> owner = kernel.owner.lock();
  if (!owner) {
    owner = std::make_shared<char>(0);
    kernel.owner = owner;
  }
  return owner;
}

// Under `mutex`: forgets the least recently requested kernels no one holds
// until at most max_kernels are loaded; returns their dylibs to remove.
std::vector<orc::JITDylib *> JitEngine::Impl::take_unheld_past_capacity() {
  std::vector<orc::JITDylib *> victims;
  for (auto it = recency.end(); kernels.size() > max_kernels && it != recency.begin();) {
    --it;
    auto k = kernels.find(*it);
    if (!k->second.owner.expired() || !k->second.dylib) continue;
    victims.push_back(k->second.dylib);
    kernels.erase(k);
    it = recency.erase(it);
    ++unloaded;
  }
  return victims;
}

// Outside `mutex`: ORC takes its own locks, and the transform takes ours.
void JitEngine::Impl::unload(const std::vector<orc::JITDylib *> &dylibs) {
  for (orc::JITDylib *dylib : dylibs) {
    std::string name = dylib->getName();
    if (llvm::Error removed = jit->getExecutionSession().removeJITDylib(*dylib))
      logger().warn("jit: unloading {}: {}", name, llvm::toString(std::move(removed)));
    else
      logger().debug("jit: unloaded {}", name);
  }
}

// Runs before codegen on the materializing thread. Only modules to be
// compiled pass here: cached objects are linked without IR. The lowering
// has verified the module already (compile's contract), so it is not
// verified again.
llvm::Expected<orc::ThreadSafeModule> JitEngine::Impl::transform(orc::ThreadSafeModule tsm) {
  llvm::Error error = tsm.withModuleDo([&](llvm::Module &module) -> llvm::Error {
    auto tm = host_machine_builder().createTargetMachine();
    if (!tm) return tm.takeError();
    Clock::time_point start = Clock::now();
    optimize_module(module, **tm);
    logger().debug("jit: optimized {} in {:.1f} ms", module.getModuleIdentifier(),
                   milliseconds_since(start));
    return llvm::Error::success();
  });
  if (error) return error;
  return tsm;
}

// Links the key's object from the disk cache, or else lowers, optimizes
// and compiles its module, into a fresh dylib; `source` says which.
void *JitEngine::Impl::materialize(const std::string &key, const std::string &symbol,
                                   const std::function<LoweredModule()> &lower, CodeSource &source,
                                   orc::JITDylib *&linked) {
  const std::string what = "jit: compiling " + key;
  std::unique_ptr<llvm::MemoryBuffer> object = cache->load(key);
  LoweredModule lowered;
  if (object) {
    source = CodeSource::DiskCache;
  } else {
    source = CodeSource::Compiled;
    lowered = lower();
    FUSEJIT_INTERNAL_CHECK(lowered.module && lowered.context, "jit: no module for ", key);
    lowered.module->setModuleIdentifier(key);
  }
  uint64_t serial;
  {
    std::lock_guard lock(mutex);
    serial = ++dylib_serial;
    if (!object) ++lowerings;
  }
  // A serial number: an unloaded dylib of the same key may still be going.
  orc::JITDylib &dylib =
      unwrap_llvm(jit->createJITDylib("kernel " + key + " #" + std::to_string(serial)), what);
  llvm::Error added =
      object ? jit->addObjectFile(dylib, std::move(object))
             : jit->addIRModule(dylib, orc::ThreadSafeModule(std::move(lowered.module),
                                                             std::move(lowered.context)));
  auto address =
      added ? llvm::Expected<orc::ExecutorAddr>(std::move(added)) : jit->lookup(dylib, symbol);
  if (!address) {
    // Drop the half-made dylib, and a cached object that may be at fault,
    // so a later request for the key starts clean.
    if (llvm::Error removed = jit->getExecutionSession().removeJITDylib(dylib))
      logger().debug("jit: removing {}: {}", key, llvm::toString(std::move(removed)));
    cache->evict(key);
  }
  void *result = unwrap_llvm(std::move(address), what).toPtr<void *>();
  linked = &dylib;
  return result;
}

JitEngine::JitEngine(const JitOptions &options) : impl_(std::make_unique<Impl>()) {
  Impl &impl = *impl_;
  impl.max_kernels = std::max<size_t>(1, options.max_kernels);
  impl.cache = std::make_unique<KernelObjectCache>(options.cache_dir, options.cache_max_bytes);
  // Before any kernel links: objects (cached ones too) may call libmvec.
  load_vector_math_library();
  KernelObjectCache *cache = impl.cache.get();
  // Materialization runs on the thread that asked for the kernel (plans
  // already compile their kernels on several threads). ORC's default for
  // concurrent compilation starts a detached thread per task, which nothing
  // joins: the process engine is never destroyed, so those threads never
  // synchronize with exit, and TSan sees exit's destructors race them.
  auto process = unwrap_llvm(orc::SelfExecutorProcessControl::Create(
                                 nullptr, std::make_unique<orc::InPlaceTaskDispatcher>()),
                             "jit: creating the executor process control");
  impl.jit = unwrap_llvm(
      orc::LLJITBuilder()
          .setExecutorProcessControl(std::move(process))
          .setJITTargetMachineBuilder(host_machine_builder())
          .setSupportConcurrentCompilation(true)
          // One target machine per compile, so threads never share one;
          // the cache is consulted before codegen and fed after it.
          .setCompileFunctionCreator(
              [cache](orc::JITTargetMachineBuilder builder)
                  -> llvm::Expected<std::unique_ptr<orc::IRCompileLayer::IRCompiler>> {
                return std::make_unique<orc::ConcurrentIRCompiler>(std::move(builder), cache);
              })
          .setProcessSymbolsJITDylibSetup(process_symbols)
          .create(),
      "jit: creating LLJIT");
  impl.jit->getIRTransformLayer().setTransform(
      [&impl](orc::ThreadSafeModule tsm, orc::MaterializationResponsibility &) {
        return impl.transform(std::move(tsm));
      });
  logger().debug("jit: host {}, disk cache {}", host_cpu_description(),
                 cache->dir() ? cache->dir()->string() : "off");
}

JitEngine::~JitEngine() = default;

CompiledFunction JitEngine::compile(const std::string &cache_key, const std::string &symbol,
                                    const std::function<LoweredModule()> &lower) {
  Impl &impl = *impl_;
  Clock::time_point start = Clock::now();
  std::promise<void *> promise;
  std::shared_future<void *> earlier;
  std::shared_ptr<const void> owner;  // held from here: no unloading under us
  {
    std::lock_guard lock(impl.mutex);
    auto [it, inserted] = impl.kernels.try_emplace(cache_key);
    Impl::Loaded &kernel = it->second;
    if (inserted) {
      kernel.address = promise.get_future().share();
      impl.recency.push_front(cache_key);
    } else {
      earlier = kernel.address;
      impl.recency.splice(impl.recency.begin(), impl.recency, kernel.recency);
    }
    kernel.recency = impl.recency.begin();
    owner = impl.hold(kernel);
  }
  if (earlier.valid()) {
    void *address = earlier.get();  // rethrows if that compile failed
    double ms = milliseconds_since(start);
    {
      std::lock_guard lock(impl.mutex);
      ++impl.memory_hits;
    }
    logger().debug("jit: memory cache hit {}", cache_key);
    return {address, cache_key, CodeSource::MemoryCache, ms, std::move(owner)};
  }

  void *address = nullptr;
  orc::JITDylib *dylib = nullptr;
  CodeSource source = CodeSource::Compiled;
  try {
    address = impl.materialize(cache_key, symbol, lower, source, dylib);
  } catch (...) {
    // Forget the key so a later request tries again; waiters see the error.
    {
      std::lock_guard lock(impl.mutex);
      auto it = impl.kernels.find(cache_key);
      impl.recency.erase(it->second.recency);
      impl.kernels.erase(it);
    }
    promise.set_exception(std::current_exception());
    throw;
  }
  promise.set_value(address);

  double ms = milliseconds_since(start);
  std::vector<orc::JITDylib *> victims;
  {
    std::lock_guard lock(impl.mutex);
    if (source == CodeSource::Compiled) impl.compile_milliseconds += ms;
    impl.kernels.at(cache_key).dylib = dylib;
    victims = impl.take_unheld_past_capacity();
  }
  impl.unload(victims);
  logger().debug("jit: {} {} in {:.1f} ms",
                 source == CodeSource::Compiled ? "compiled" : "loaded cached", cache_key, ms);
  return {address, cache_key, source, ms, std::move(owner)};
}

void JitEngine::set_max_kernels(size_t capacity) {
  std::vector<orc::JITDylib *> victims;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->max_kernels = std::max<size_t>(1, capacity);
    victims = impl_->take_unheld_past_capacity();
  }
  impl_->unload(victims);
}

JitStats JitEngine::stats() const {
  JitStats stats;
  const KernelObjectCache &cache = *impl_->cache;
  stats.compiles = cache.compiles();
  stats.disk_hits = cache.disk_hits();
  stats.disk_rejects = cache.disk_rejects();
  stats.disk_writes = cache.disk_writes();
  std::lock_guard lock(impl_->mutex);
  stats.memory_hits = impl_->memory_hits;
  stats.lowerings = impl_->lowerings;
  stats.compile_milliseconds = impl_->compile_milliseconds;
  stats.loaded = impl_->kernels.size();
  stats.unloaded = impl_->unloaded;
  return stats;
}

std::optional<std::string> JitEngine::cache_dir() const {
  const auto &dir = impl_->cache->dir();
  if (!dir) return std::nullopt;
  return dir->string();
}

std::string JitEngine::cache_file(const std::string &cache_key) const {
  return impl_->cache->file_for(cache_key).string();
}

JitEngine &jit_engine() {
  // Never destroyed: kernels may still run from other static destructors,
  // and the JIT's code must outlive them.
  static JitEngine *engine = new JitEngine();
  return *engine;
}

void set_kernel_cache_capacity(size_t kernels) { jit_engine().set_max_kernels(kernels); }

}  // namespace fusejit
