// Evaluating kernel IR instructions at several consecutive points of one
// domain dim at once, as LLVM vectors (codegen-internal). The GEMM lowering
// uses it for its epilogue (a row of output tiles), for B-side operands
// (nr columns) and, with one lane, for A-side operands.
#pragma once

#include <vector>

#include <llvm/IR/IRBuilder.h>

#include "ir/kernel.h"

namespace fusejit {

struct LanePoint {
  std::vector<llvm::Value *> index;  // i64 per domain dim: lane 0's point
  int dim = -1;                      // the dim lanes step along
  int lanes = 1;                     // 1: plain scalars
  // If set, lane l reads at min(index[dim] + l, limit - 1): lanes past the
  // end of the dim read a valid element, whose result the caller discards.
  llvm::Value *limit = nullptr;
  llvm::Value *reduced = nullptr;  // the value of Reduced instructions
};

// Values of the instructions selected by `which` (indexed like k.body; the
// selection must be closed under args) at `at`: <lanes x T> vectors, or
// scalars for one lane; null for unselected ones. Loads read
// buffers[instr.input] through the instruction's access: one vector load
// where lanes are contiguous, a broadcast where the access does not move
// along `dim`, one load per lane otherwise.
std::vector<llvm::Value *> emit_lanes(llvm::IRBuilder<> &b, const Kernel &k,
                                      const std::vector<llvm::Value *> &buffers,
                                      const std::vector<bool> &which, const LanePoint &at);

}  // namespace fusejit
