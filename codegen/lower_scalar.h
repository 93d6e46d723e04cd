// The scalar half of the lowering (codegen-internal): one kernel IR
// instruction or load address as LLVM IR at the builder's insert point.
// The loop nest around it is lower_kernel.cpp's business.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <llvm/IR/IRBuilder.h>

#include "ir/kernel.h"

namespace fusejit {

// Floats as float/double, i32/i64 as such, u8 and bool as i8 (a bool holds 0 or 1).
llvm::Type *llvm_type(llvm::LLVMContext &context, DType dtype);
// `value` (held as its dtype holds it) as a constant of `type`.
llvm::Constant *emit_constant(llvm::Type *type, double value);
// An i1 as 1 or 0 of `type` (a Valid instruction, a comparison's bool).
llvm::Value *emit_flag(llvm::IRBuilder<> &b, llvm::Value *flag, llvm::Type *type);

// The element position an access reads at domain point `index` (i64 values,
// one per domain dim), as kernel_eval's load_position computes it: each
// layer's offset + sum(index * stride), unravelled into the next layer's
// shape by udiv/urem with constants.
llvm::Value *emit_position(llvm::IRBuilder<> &b, const Access &access,
                           const std::vector<llvm::Value *> &index);

// What a gathering access needs at the point: the lowered (scalar) value
// of each gathered instruction, and the status slot (see define_kernel_body)
// an index out of its bounds sets; the position then reads index 0.
struct GatherValues {
  std::function<llvm::Value *(int instr)> value;  // null: the access gathers nothing
  llvm::Value *status = nullptr;
};

// The same with the access's ranges: `valid` (an i1) holds where every
// layer's index is in its ranges, or is null for an unmasked access. At an
// invalid point the position is meaningless and must not be read.
struct MaskedPosition {
  llvm::Value *position;
  llvm::Value *valid;
};
MaskedPosition emit_masked_position(llvm::IRBuilder<> &b, const Access &access,
                                    const std::vector<llvm::Value *> &index,
                                    const GatherValues &gathered = {});

// `lanes` consecutive points along domain dim `dim`, seen through every
// layer of an access without gathers: where no layer's index carries from
// one dim into the next between the first lane and the last, lane l reads
// position + l * step, and only `ranges` (one per layer whose moving index
// is restricted) tell the lanes' validity apart. `fits` is that condition
// at run time; `valid` is every other range, the same for all lanes (null
// when there is none). Lane l's index in a LaneRange is first + l * step.
struct LaneRange {
  llvm::Value *first;
  int64_t step;
  ValidRange range;
};
struct LaneRun {
  llvm::Value *fits = nullptr;
  llvm::Value *position = nullptr;
  int64_t step = 0;
  llvm::Value *valid = nullptr;
  std::vector<LaneRange> ranges;
};
// Null where the access has no such form (a gather, an index that would
// carry on every run, an intermediate layer moving backwards).
std::optional<LaneRun> emit_lane_run(llvm::IRBuilder<> &b, const Access &access,
                                     const std::vector<llvm::Value *> &index, size_t dim,
                                     int lanes);

// Stores 1 into the i8 `status` where `bad` (an i1) holds, behind a branch:
// any thread may store it, and only its becoming nonzero matters.
void emit_report_if(llvm::IRBuilder<> &b, llvm::Value *bad, llvm::Value *status, const char *name);

// A load of `type` from `buffer` through `access`; a masked access reads
// memory only where it is valid (a branch the loop vectorizer turns into a
// masked load) and yields `fill` elsewhere. `buffer_numel` 0: nothing to read.
llvm::Value *emit_load(llvm::IRBuilder<> &b, llvm::Type *type, llvm::Value *buffer,
                       int64_t buffer_numel, const Access &access,
                       const std::vector<llvm::Value *> &index, double fill,
                       const GatherValues &gathered = {});

// An Iota instruction's value: the position its access reaches as `type`,
// or its fill where the access is invalid.
llvm::Value *emit_iota(llvm::IRBuilder<> &b, llvm::Type *type, const Instr &in,
                       const std::vector<llvm::Value *> &index, const GatherValues &gathered);

// A Valid instruction's value: 1 as `type` (any dtype, bool included) where
// its access's ranges hold, else 0.
llvm::Value *emit_valid(llvm::IRBuilder<> &b, llvm::Type *type, const Instr &in,
                        const std::vector<llvm::Value *> &index, const GatherValues &gathered);

// A Unary, Binary or Where instruction on already lowered `args` of
// `arg_dtypes`, with the builder's fast-math flags. Semantics are
// apply_unary / apply_binary's (runtime/reference_kernels.cpp), NaN cases
// included. An integer // or % by zero stores 1 into the i8 at `status`
// (the kernel's status slot, see define_kernel_body) and yields 0.
llvm::Value *emit_compute(llvm::IRBuilder<> &b, const Instr &in,
                          const std::vector<llvm::Value *> &args,
                          const std::vector<DType> &arg_dtypes, llvm::Value *status);
// The dtypes of an instruction's args.
std::vector<DType> arg_dtypes(const Kernel &k, const Instr &in);

// A reduction's start value and step in `dtype` (reduce_identity and
// reduce_combine of runtime/reference_kernels.h).
llvm::Value *emit_reduce_identity(llvm::Type *type, Op op, DType dtype);
llvm::Value *emit_reduce_combine(llvm::IRBuilder<> &b, Op op, DType dtype, llvm::Value *acc,
                                 llvm::Value *v);

}  // namespace fusejit
