// What the JIT offers the rest of fusejit without exposing LLVM: the
// numerics policy kernels are compiled under, where compiled code and the
// disk cache live, and counters that say what the JIT did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <fusejit/settings.h>

namespace fusejit {

// Floating-point policy of compiled kernels (Numerics, public in
// fusejit/settings.h). The lowering encodes it as fast-math flags on each FP
// instruction (codegen/fast_math.h); the target machine never enables unsafe
// FP math globally, so Strict code is exactly the IEEE operations the kernel
// IR names, in its order.

const char *numerics_name(Numerics numerics);  // "fast" / "strict"

// FUSEJIT_NUMERICS=fast|strict; unset or empty means fast. Any other value
// throws ValueError naming it: a typo must not silently select fast math.
Numerics numerics_from_env();

// The host CPU name and its enabled features, sorted, as LLVM sees them:
// "znver4 +adx,+aes,+avx,+avx2,...". Compiled objects are only valid on a
// CPU with the same description, so it is part of every disk cache entry.
std::string host_cpu_description();

// What `dump_*` functions print: the module as lowered, after the O3
// pipeline, or as host assembly.
enum class DumpStage { LlvmIr, OptimizedLlvmIr, Assembly };

// Where a compiled function's machine code came from.
enum class CodeSource {
  Compiled,     // optimized and compiled by LLVM now
  MemoryCache,  // this engine had already compiled the same cache key
  DiskCache,    // a validated object from the disk cache; LLVM only linked it
};

struct CompiledFunction {
  void *address = nullptr;
  std::string cache_key;
  CodeSource source = CodeSource::Compiled;
  double milliseconds = 0;  // wall time of this request, lookup included
  // The code stays loaded while any copy of this is alive; the engine may
  // unload a kernel no one holds once it keeps more than its capacity.
  std::shared_ptr<const void> owner = nullptr;

  template <typename Fn>
  Fn *as() const {
    return reinterpret_cast<Fn *>(address);
  }
};

// Counters of one engine since it was created.
struct JitStats {
  uint64_t compiles = 0;            // modules optimized and compiled by LLVM
  uint64_t lowerings = 0;           // modules built for a request both caches missed
  uint64_t memory_hits = 0;         // requests answered by an already loaded kernel
  uint64_t disk_hits = 0;           // objects loaded from valid disk entries
  uint64_t disk_rejects = 0;        // disk entries found invalid and discarded
  uint64_t disk_writes = 0;         // disk entries written
  double compile_milliseconds = 0;  // total wall time of Compiled requests
  uint64_t loaded = 0;              // kernels whose code is in memory now
  uint64_t unloaded = 0;            // kernels unloaded to stay within capacity
};

struct JitOptions {
  // Directory of the disk cache; nullopt disables it. If it cannot be
  // created or is not trusted (see codegen/cache_dir.h) the engine runs
  // without disk cache and logs a warning saying why.
  std::optional<std::string> cache_dir;
  // Bytes the disk cache may hold; past it the least recently used entries
  // are deleted. 0 disables the disk cache.
  uint64_t cache_max_bytes = uint64_t(512) << 20;

  // Loaded kernels kept beyond those a live CompiledFunction holds; the
  // least recently requested unheld ones are unloaded past it. Kernels a
  // caller still holds are never unloaded, so that many more may be loaded.
  size_t max_kernels = 2048;

  // cache_dir: $FUSEJIT_CACHE_DIR, else $XDG_CACHE_HOME/fusejit, else
  // $HOME/.cache/fusejit; nullopt if none of these is set.
  // cache_max_bytes: $FUSEJIT_CACHE_MAX_MB megabytes (2^20 bytes) if set;
  // anything but a whole number is a ValueError naming it.
  // max_kernels: $FUSEJIT_KERNEL_CACHE if set (at least 1).
  static JitOptions from_env();
};

}  // namespace fusejit
