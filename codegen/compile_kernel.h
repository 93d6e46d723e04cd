// Compiling one kernel of the kernel IR (ir/kernel.h) to machine code for
// this host, through the process's JitEngine and its caches.
#pragma once

#include <cstdint>
#include <string>

#include "codegen/jit.h"
#include "codegen/jit_engine.h"
#include "ir/kernel.h"

namespace fusejit {

// ABI of every compiled kernel: buffers[i] is the base pointer of kernel.inputs[i] for i <
// inputs.size(), then of kernel.outputs[j]. It computes the output points whose index along the
// kernel's first output dim is in [begin, end) — the unit of parallel work; a kernel with no output
// dims ignores them (0,1).
using KernelFn = void (*)(void *const *buffers, int64_t begin, int64_t end);

struct CompiledKernel {
  KernelFn fn = nullptr;
  int64_t parallel_extent = 1;  // run fn over [0, parallel_extent), in any chunks
  CompiledFunction code;
};

// Lowers, optimizes and links `k`, or finds it in the engine's caches: a
// hit in memory or on disk neither lowers nor verifies it. Throws
// InternalError for an inconsistent kernel, CompileError if LLVM rejects it.
CompiledKernel compile_kernel(const Kernel &k, Numerics numerics);  // uses jit_engine()
CompiledKernel compile_kernel(JitEngine &jit, const Kernel &k, Numerics numerics);

// The kernel's LLVM IR as lowered, after O3, or as host assembly.
std::string dump_kernel(const Kernel &k, Numerics numerics, DumpStage stage);

// Determines the kernel's machine code: its structure (not its name or the
// plan's buffer numbers), numerics, the host CPU, LLVM's version and the
// lowering's. 32 hex digits after "k", so it is also a file name.
std::string kernel_cache_key(const Kernel &k, Numerics numerics);

// The text kernel_cache_key hashes: a first line for the process (lowering,
// LLVM, host CPU, numerics), then the kernel's structure.
std::string kernel_key_text(const Kernel &k, Numerics numerics);

}  // namespace fusejit
