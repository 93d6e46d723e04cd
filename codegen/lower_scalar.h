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

// The same with the access's ranges: `valid` (an i1) holds where every
// layer's index is in its ranges, or is null for an unmasked access. At an
// invalid point the position is meaningless and must not be read.
struct MaskedPosition {
  llvm::Value *position;
  llvm::Value *valid;
};
MaskedPosition emit_masked_position(llvm::IRBuilder<> &b, const Access &access,
                                    const std::vector<llvm::Value *> &index);

// A load of `type` from `buffer` through `access`; a masked access reads
// memory only where it is valid (a branch the loop vectorizer turns into a
// masked load) and yields `fill` elsewhere. `buffer_numel` 0: nothing to read.
llvm::Value *emit_load(llvm::IRBuilder<> &b, llvm::Type *type, llvm::Value *buffer,
                       int64_t buffer_numel, const Access &access,
                       const std::vector<llvm::Value *> &index, double fill);

// A Unary, Binary or Where instruction on already lowered `args`, with the
// builder's fast-math flags. Semantics are apply_unary / apply_binary's
// (runtime/reference_kernels.cpp), NaN cases included.
llvm::Value *emit_compute(llvm::IRBuilder<> &b, const Instr &in,
                          const std::vector<llvm::Value *> &args);

}  // namespace fusejit
