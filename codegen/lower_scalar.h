// The scalar half of the lowering (codegen-internal): one kernel IR
// instruction or load address as LLVM IR at the builder's insert point.
// The loop nest around it is lower_kernel.cpp's business.
#pragma once

#include <vector>

#include <llvm/IR/IRBuilder.h>

#include "ir/kernel.h"

namespace fusejit {

llvm::Type *llvm_type(llvm::LLVMContext &context, DType dtype);

// The element position an access reads at domain point `index` (i64 values,
// one per domain dim), as kernel_eval's load_position computes it: each
// layer's offset + sum(index * stride), unravelled into the next layer's
// shape by udiv/urem with constants.
llvm::Value *emit_position(llvm::IRBuilder<> &b, const Access &access,
                           const std::vector<llvm::Value *> &index);

// A Unary, Binary or Where instruction on already lowered `args`, with the
// builder's fast-math flags. Semantics are apply_unary / apply_binary's
// (runtime/reference_kernels.cpp), NaN cases included.
llvm::Value *emit_compute(llvm::IRBuilder<> &b, const Instr &in,
                          const std::vector<llvm::Value *> &args);

}  // namespace fusejit
