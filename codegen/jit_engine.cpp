// The ORC side of the JIT. This is the one translation unit that includes
// LLJIT and its layers, whose headers are slow to compile; keep it so.
#include "codegen/jit_engine.h"

#include <chrono>
#include <future>
#include <mutex>
#include <unordered_map>

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <spdlog/spdlog.h>

#include "codegen/host_target.h"
#include "codegen/llvm_error.h"
#include "codegen/object_cache.h"
#include "codegen/optimize.h"

namespace fusejit {

namespace orc = llvm::orc;

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

// Symbols JIT'd code does not define resolve against this process: libm,
// libc and fusejit's own runtime entry points.
llvm::Expected<orc::JITDylibSP> process_symbols(orc::LLJIT &jit) {
  orc::JITDylib &dylib =
      jit.getExecutionSession().createBareJITDylib("<process symbols>");
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

  mutable std::mutex mutex;  // guards the members below
  // Every requested key; the future is ready once the kernel is linked.
  std::unordered_map<std::string, std::shared_future<void *>> kernels;
  // Keys whose object came from the cache, as seen by the transform.
  std::unordered_map<std::string, CodeSource> sources;
  uint64_t memory_hits = 0;
  double compile_milliseconds = 0;

  llvm::Expected<orc::ThreadSafeModule> transform(orc::ThreadSafeModule tsm);
  void *materialize(std::unique_ptr<llvm::Module> module,
                    std::unique_ptr<llvm::LLVMContext> context,
                    const std::string &symbol, const std::string &key);
};

// Runs before codegen on the materializing thread. A module whose object
// is cached skips O3: ConcurrentIRCompiler will take the cached object.
llvm::Expected<orc::ThreadSafeModule> JitEngine::Impl::transform(
    orc::ThreadSafeModule tsm) {
  llvm::Error error = tsm.withModuleDo([&](llvm::Module &module) -> llvm::Error {
    const std::string &key = module.getModuleIdentifier();
    bool cached = cache->load(key);
    {
      std::lock_guard lock(mutex);
      sources[key] = cached ? CodeSource::DiskCache : CodeSource::Compiled;
    }
    if (cached) return llvm::Error::success();
    if (llvm::Error invalid = verify_llvm_module(module)) return invalid;
    auto tm = host_machine_builder().createTargetMachine();
    if (!tm) return tm.takeError();
    Clock::time_point start = Clock::now();
    optimize_module(module, **tm);
    spdlog::debug("jit: optimized {} in {:.1f} ms", key,
                  milliseconds_since(start));
    return llvm::Error::success();
  });
  if (error) return error;
  return tsm;
}

void *JitEngine::Impl::materialize(std::unique_ptr<llvm::Module> module,
                                   std::unique_ptr<llvm::LLVMContext> context,
                                   const std::string &symbol,
                                   const std::string &key) {
  const std::string what = "jit: compiling " + key;
  module->setModuleIdentifier(key);
  orc::JITDylib &dylib = unwrap_llvm(jit->createJITDylib("kernel " + key), what);
  llvm::Error added = jit->addIRModule(
      dylib, orc::ThreadSafeModule(std::move(module), std::move(context)));
  auto address = added ? llvm::Expected<orc::ExecutorAddr>(std::move(added))
                       : jit->lookup(dylib, symbol);
  if (!address) {
    // Drop the half-made dylib, and a cached object that may be at fault,
    // so a later request for the key starts clean.
    if (llvm::Error removed = jit->getExecutionSession().removeJITDylib(dylib))
      spdlog::debug("jit: removing {}: {}", key,
                    llvm::toString(std::move(removed)));
    cache->evict(key);
  }
  return unwrap_llvm(std::move(address), what).toPtr<void *>();
}

JitEngine::JitEngine(JitOptions options) : impl_(std::make_unique<Impl>()) {
  Impl &impl = *impl_;
  impl.cache = std::make_unique<KernelObjectCache>(options.cache_dir);
  // Before any kernel links: objects (cached ones too) may call libmvec.
  load_vector_math_library();
  KernelObjectCache *cache = impl.cache.get();
  impl.jit = unwrap_llvm(
      orc::LLJITBuilder()
          .setJITTargetMachineBuilder(host_machine_builder())
          .setSupportConcurrentCompilation(true)
          // One target machine per compile, so threads never share one;
          // the cache is consulted before codegen and fed after it.
          .setCompileFunctionCreator(
              [cache](orc::JITTargetMachineBuilder builder)
                  -> llvm::Expected<
                      std::unique_ptr<orc::IRCompileLayer::IRCompiler>> {
                return std::make_unique<orc::ConcurrentIRCompiler>(
                    std::move(builder), cache);
              })
          .setProcessSymbolsJITDylibSetup(process_symbols)
          .create(),
      "jit: creating LLJIT");
  impl.jit->getIRTransformLayer().setTransform(
      [&impl](orc::ThreadSafeModule tsm, orc::MaterializationResponsibility &) {
        return impl.transform(std::move(tsm));
      });
  spdlog::debug("jit: host {}, disk cache {}", host_cpu_description(),
                cache->dir() ? cache->dir()->string() : "off");
}

JitEngine::~JitEngine() = default;

CompiledFunction JitEngine::compile(std::unique_ptr<llvm::Module> module,
                                    std::unique_ptr<llvm::LLVMContext> context,
                                    const std::string &symbol,
                                    const std::string &cache_key) {
  FUSEJIT_INTERNAL_CHECK(module && context, "jit: no module for ", cache_key);
  Impl &impl = *impl_;
  Clock::time_point start = Clock::now();
  std::promise<void *> promise;
  std::shared_future<void *> earlier;
  {
    std::lock_guard lock(impl.mutex);
    auto [it, inserted] = impl.kernels.try_emplace(cache_key);
    if (inserted) it->second = promise.get_future().share();
    else earlier = it->second;
  }
  if (earlier.valid()) {
    module.reset();  // before the context that owns it
    context.reset();
    void *address = earlier.get();  // rethrows if that compile failed
    double ms = milliseconds_since(start);
    {
      std::lock_guard lock(impl.mutex);
      ++impl.memory_hits;
    }
    spdlog::debug("jit: memory cache hit {}", cache_key);
    return {address, cache_key, CodeSource::MemoryCache, ms};
  }

  void *address = nullptr;
  try {
    address = impl.materialize(std::move(module), std::move(context), symbol,
                               cache_key);
  } catch (...) {
    // Forget the key so a later request tries again; waiters see the error.
    {
      std::lock_guard lock(impl.mutex);
      impl.kernels.erase(cache_key);
    }
    promise.set_exception(std::current_exception());
    throw;
  }
  promise.set_value(address);

  double ms = milliseconds_since(start);
  CodeSource source;
  {
    std::lock_guard lock(impl.mutex);
    auto it = impl.sources.find(cache_key);
    FUSEJIT_INTERNAL_CHECK(it != impl.sources.end(), "jit: ", cache_key,
                           " was linked without passing the transform");
    source = it->second;
    if (source == CodeSource::Compiled) impl.compile_milliseconds += ms;
  }
  spdlog::debug("jit: {} {} in {:.1f} ms",
                source == CodeSource::Compiled ? "compiled" : "loaded cached",
                cache_key, ms);
  return {address, cache_key, source, ms};
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
  stats.compile_milliseconds = impl_->compile_milliseconds;
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

}  // namespace fusejit
