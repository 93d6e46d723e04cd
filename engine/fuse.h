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
//    while each is the only consumer of the one before and keeps its shape;
//    reshapes join too (the result is written row-major, so a reshape of it
//    is free). A consumer that broadcasts the result (softmax's x - max(x))
//    needs the whole reduction first, so the reduction is materialized.
// 5. A value with several consumers is recomputed in each when it costs at
//    most kRecomputeOps ops, and materialized otherwise.
// 6. A reduction or matmul feeding another's prologue is materialized.
// 7. Roots are materialized. No kernel folds more than kMaxKernelOps ops.
// 8. Materialized elementwise values (roots, and values rules 5 and 7
//    materialize) of one shape and dtype share a kernel, one loop writing
//    several outputs, when none of them reads a buffer another one writes:
//    each joins the first such kernel that runs after every kernel it reads
//    from and still has room: for its ops (counted as if nothing were shared,
//    so rule 7 holds), and for one more of at most kMaxKernelOutputs outputs
//    (LLVM's time on a loop grows faster than the buffers it writes).
//    Subexpressions they share are computed once. Reductions and matmuls
//    keep a kernel each.
// 9. Row kernels (engine/fuse_rows.h): a reduction over the last dims of its
//    input whose result is broadcast back over the same rows (softmax's max
//    and sum, layer norm's means) is not materialized; it becomes a phase of
//    one kernel with what reads it, which runs per row every phase in order
//    and then stores the values of the rows' full shape. A kernel that
//    reads one of its values (a loss summing a softmax) runs after it,
//    unless the row kernel waits on that kernel in turn.
// Leaves (inputs and values realized earlier) are read from their buffers.
#pragma once

#include <string>
#include <vector>

#include "engine/plan.h"
#include "ir/node.h"

namespace fusejit {

constexpr int kRecomputeOps = 8;
constexpr int kMaxKernelOps = 256;
constexpr size_t kMaxKernelOutputs = 32;

struct FuseOptions {
  // Off: every op (but views) is its own kernel and writes its own buffer,
  // which is how an eager framework runs the graph; the baseline fusion is
  // measured against.
  bool fusion = true;
  // Off: rule 9 is not applied; each reduction keeps its own kernel.
  bool rows = true;
};

// Why fusion ended a kernel at a value (the rule above that applied).
enum class FuseReason {
  Root,              // rule 7: a program output
  SharedExpensive,   // rule 5: several consumers, too costly to recompute
  SizeLimit,         // rule 7: the expression is longer than kMaxKernelOps
  ReduceShared,      // rule 4: a reduction (or its epilogue) with several consumers
  ReduceBroadcast,   // rule 4: a reduction whose consumer broadcasts it
  ReduceIntoReduce,  // rule 6: a reduction feeding another reduction's prologue
  ViewAfterReduce,   // rule 4: a view of a reduction's result
  EpilogueTaken,     // rule 4: the consumer is already another reduction's epilogue
  FusionOff,         // FuseOptions::fusion is off
};

// What fusion decided, as data: the kernels stage's notes, `dump --explain`
// and the kernels picture render it (engine/pass_notes.h). The pointers are
// into the graph given to fuse() and live as long as it does.
struct FuseTrace {
  struct Materialized {
    const Node *value;
    FuseReason reason;
    const Node *anchor = nullptr;    // the reduction whose epilogue ends at value
    const Node *consumer = nullptr;  // the consumer that stopped the epilogue
    int64_t consumers = 0;           // SharedExpensive, ReduceShared
    int64_t cost = 0;                // SharedExpensive, SizeLimit: ops to recompute
  };
  struct KernelNodes {
    std::vector<const Node *> tops;   // the values the kernel writes, one per Kernel::outputs entry
    std::vector<const Node *> nodes;  // graph ops it computes, each once, in emission order
    std::vector<const Node *> phases;  // a row kernel's reductions, in the order each row runs them
  };
  // A reduction over rows whose result is broadcast that is no row kernel's
  // phase, and why (rule 9).
  struct RowMiss {
    const Node *reduction;
    std::string why;
  };
  std::vector<RowMiss> row_misses;
  std::vector<Materialized> materialized;  // in the order fusion decided
  std::vector<KernelNodes> kernels;        // one per Plan::kernels entry
};

// `trace` (if given) receives why each value was materialized and which
// graph ops each kernel computes; the plan is the same with or without it.
Plan fuse(const std::vector<NodeRef> &roots, FuseOptions options = {}, FuseTrace *trace = nullptr);

// Bytes the graph's intermediates take when every op writes its own buffer
// (views excepted), as the reference interpreter or an eager framework runs
// it: the "unfused" figure fused plans are compared with.
int64_t unfused_intermediate_bytes(const std::vector<NodeRef> &roots);

}  // namespace fusejit
