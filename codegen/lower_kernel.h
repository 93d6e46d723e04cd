// Lowering one kernel of the kernel IR to an LLVM module (codegen-internal;
// compile_kernel.h is the public side). LLVM types are only forward-declared.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "codegen/jit.h"
#include "ir/kernel.h"

namespace llvm {
class Function;
class Value;
class LLVMContext;
class Module;
}  // namespace llvm

namespace fusejit {

// Every kernel's module defines this one symbol; the JIT gives each kernel
// its own JITDylib, so the name never clashes and stays out of cache keys.
inline constexpr const char *kKernelSymbol = "fusejit_kernel";

// Part of every kernel's cache key, with a hash of the codegen sources
// (codegen/source_hash.h, generated), so a change to the lowering never
// loads a disk cache entry made by other code. Bump it for a change the
// hash cannot see (a dependency's behaviour).
inline constexpr int kLoweringVersion = 3;

// Defines `void kKernelSymbol(ptr buffers, i64 begin, i64 end)`, the ABI
// entry of compile_kernel.h, in `module`: it loads `num_buffers` pointers
// from `buffers` and calls `body(ptr..., begin, end)`, passing the status
// slot, pointer number num_buffers, to a body that takes one. Every
// lowering ends with it.
void define_abi_entry(llvm::Module &module, llvm::Function *body, size_t num_buffers);

// A kernel lowered: its module, and the extent of the range [begin, end)
// its function splits on (see parallel_extent).
struct LoweredKernel {
  std::unique_ptr<llvm::Module> module;
  int64_t parallel_extent = 1;
};

// `void body(ptr in0, ..., ptr out0, ..., i64 begin, i64 end)` in `module`,
// internal and always inlined into the ABI entry, with an empty entry
// block: what every lowering of `k` fills. Every buffer is distinct
// (inputs are deduplicated by buffer, outputs are fresh), hence noalias,
// and dereferenceable for its whole size; inputs are read-only, outputs
// write-only unless `reads_outputs` (GEMM keeps partial sums in one).
//
// A kernel_has_status kernel's body takes one more pointer after `end`: its
// status slot, a byte the caller zeroes and the kernel sets to 1 where an
// integer // or % divides by zero or a gathered index is out of bounds
// (the caller then reports the error). It
// is also the last of `buffers`, where emit_lanes finds it.
struct KernelBody {
  llvm::Function *fn = nullptr;
  std::vector<llvm::Value *> buffers;  // the kernel's inputs, then its outputs (then status)
  llvm::Value *begin = nullptr, *end = nullptr;
  llvm::Value *status = nullptr;  // or null
};
KernelBody define_kernel_body(llvm::Module &module, const Kernel &k, bool reads_outputs);

// The module defining `void kKernelSymbol(ptr buffers, i64 begin, i64 end)`
// with compile_kernel.h's ABI, owned by `context` and verified. Throws
// InternalError if `k` is inconsistent or the module does not verify.
LoweredKernel lower_kernel(const Kernel &k, Numerics numerics, llvm::LLVMContext &context);

// Whether the kernel computes an integer // or % or gathers (an index can
// be out of bounds), and so takes a status slot: `buffers` then holds one
// pointer more than its buffers. instr_has_status: whether `in` does.
bool kernel_has_status(const Kernel &k);
bool instr_has_status(const Kernel &k, const Instr &in);

// The extent of the range [begin, end) the compiled kernel splits on: the
// first output dim's, or a Matmul kernel's units (gemm_blocking.h).
// Requires a kernel verify_kernel accepts.
int64_t parallel_extent(const Kernel &k);

}  // namespace fusejit
