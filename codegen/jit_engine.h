// The JIT: turns an LLVM module into callable machine code for this host,
// through the O3 pipeline and an object cache in memory and on disk.
//
// This header names LLVM types but includes no LLVM header, so lowering code
// and tests can use it without paying for ORC's headers; those are
// confined to jit_engine.cpp.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "codegen/jit.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace fusejit {

// What a compile request builds when no cache holds its key: a module and
// the context that owns it and nothing else (destroyed after the module).
struct LoweredModule {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

// One ORC LLJIT and its caches. Every kernel gets its own JITDylib named
// after its cache key, so kernels may all use the same symbol name and
// never clash. Past JitOptions::max_kernels, the least recently requested
// kernel no CompiledFunction holds is unloaded (its JITDylib removed, its
// code freed), so a process that meets ever new shapes stays bounded; a
// later request compiles it again (or loads it from disk). Thread-safe: any number of
// threads may compile at once, and concurrent requests for one key compile
// it once.
class JitEngine {
 public:
  explicit JitEngine(const JitOptions &options = JitOptions::from_env());
  ~JitEngine();
  JitEngine(const JitEngine &) = delete;
  JitEngine &operator=(const JitEngine &) = delete;

  // The address of `symbol` in the code of `cache_key`. `cache_key` must
  // determine that code completely (its graph hash, Numerics, symbol name):
  // a key this engine has loaded returns the earlier kernel, and a key with
  // a valid disk entry links that object; only when both miss is `lower`
  // called, to build the module, which must verify (lower_kernel checks
  // its own) and is then optimized and compiled (its identifier becomes
  // the key). Throws what `lower` throws, and CompileError if LLVM cannot
  // compile the module or the symbol is not defined.
  CompiledFunction compile(const std::string &cache_key, const std::string &symbol,
                           const std::function<LoweredModule()> &lower);

  JitStats stats() const;

  // Changes max_kernels; unloads unheld kernels past the new capacity.
  void set_max_kernels(size_t capacity);

  // The disk cache directory in use; nullopt when disk caching is off.
  std::optional<std::string> cache_dir() const;
  // Where the disk entry of `cache_key` lives (empty if disk caching is off).
  std::string cache_file(const std::string &cache_key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The process-wide engine, created on first use from JitOptions::from_env().
JitEngine &jit_engine();

}  // namespace fusejit
