// Lowering a row kernel (KernelKind::Row, ir/kernel.h) to LLVM IR
// (codegen-internal): per row, one loop per phase over the row's points.
#pragma once

#include "codegen/jit.h"
#include "ir/kernel.h"

namespace llvm {
class Module;
}  // namespace llvm

namespace fusejit {

// Defines the kernel's body and the ABI entry of lower_kernel.h in
// `module`. Rows split across threads by the first row dim.
void lower_rows(const Kernel &k, Numerics numerics, llvm::Module &module);

}  // namespace fusejit
