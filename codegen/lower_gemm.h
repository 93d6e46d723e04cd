// The GEMM lowering of Matmul kernels (codegen-internal; lower_kernel.cpp
// dispatches to it). One LLVM function specialized to the kernel's batch,
// M, N, K, dtype and operand strides: A and B panels packed into aligned
// scratch with their prologue ops applied while packing, cache blocks from
// gemm_blocking.h, a register-blocked FMA micro-kernel with masked edge
// tiles, and the epilogue applied to each tile in registers before it is
// stored. Small problems skip packing. See lower_gemm.cpp for numerics.
#pragma once

#include "codegen/gemm_blocking.h"
#include "codegen/jit.h"
#include "ir/kernel.h"

namespace llvm {
class Module;
}  // namespace llvm

namespace fusejit {

// Defines kKernelSymbol in `module` (which has the host's data layout) with
// compile_kernel.h's ABI, tiled by `blocking` (gemm_blocking(k)); [begin,
// end) are units of blocking.parallel_extent(). Requires a verified Matmul
// kernel.
void lower_gemm(const Kernel &k, const GemmBlocking &blocking, Numerics numerics,
                llvm::Module &module);

}  // namespace fusejit
