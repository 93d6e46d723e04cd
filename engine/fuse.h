// The fusion pass: partitions a graph into as few kernels as the rules below
// allow, each a loop nest with no intermediate buffer inside it.
//
// Rules (the why of every kernel boundary):
// 1. Views (reshape, permute, expand) and broadcasting are never kernels:
//    they become the strides of the loads that read through them.
// 2. A chain of elementwise ops is one kernel.
// 3. Elementwise producers fuse into a reduction's input (its prologue), and
//    into a matmul's operands.
// 4. Elementwise consumers of a reduction (or matmul) fuse as its epilogue
//    while each is the only consumer of the one before and keeps its shape.
//    A consumer that broadcasts the result (softmax's x - max(x)) needs the
//    whole reduction first, so the reduction is materialized.
// 5. A value with several consumers is recomputed in each when it costs at
//    most kRecomputeOps ops, and materialized otherwise.
// 6. A reduction or matmul feeding another's prologue is materialized.
// 7. Roots are materialized. No kernel folds more than kMaxKernelOps ops.
// Leaves (inputs and values realized earlier) are read from their buffers.
#pragma once

#include <vector>

#include "engine/plan.h"
#include "ir/node.h"

namespace fusejit {

constexpr int kRecomputeOps = 8;
constexpr int kMaxKernelOps = 256;

struct FuseOptions {
  // Off: every op (but views) is its own kernel and writes its own buffer,
  // which is how an eager framework runs the graph; the baseline fusion is
  // measured against.
  bool fusion = true;
};

Plan fuse(const std::vector<NodeRef> &roots, FuseOptions options = {});

// Bytes the graph's intermediates take when every op writes its own buffer
// (views excepted), as the reference interpreter or an eager framework runs
// it: the "unfused" figure fused plans are compared with.
int64_t unfused_intermediate_bytes(const std::vector<NodeRef> &roots);

}  // namespace fusejit
