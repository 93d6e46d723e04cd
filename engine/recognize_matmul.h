// recognize_matmul: finds `sum` over dims K of a product `P * Q` (with
// numpy broadcasting) whose other dims each belong to both operands (batch),
// only to P (rows) or only to Q (cols), and rewrites it as a matmul of
// views of P and Q, the K dims merged into one (a convolution's channels and
// window offsets: the window view is read in place, never copied). The
// seed's `sum(a[2,3,1] * b[3,2], 1)` becomes `reshape(a, [2, 3]) @
// reshape(b, [3, 2])`: the (2,3,2) product is never formed. Near misses (a
// zip that is not `*`, a reduced dim broadcast in one operand, a batched dot
// product, several reduced dims with M or N under kNarrow) stay reductions,
// and say why as data.
// Before: a canonical graph. After: the same values; every recognized
// pattern is an Op::Matmul node (plus views where the output order needs them).
#pragma once

#include <string>
#include <vector>

#include "ir/node.h"

namespace fusejit {

// What broke the pattern, for a sum of a binary zip that is no matmul.
enum class MatmulMiss {
  None,                 // a matmul
  ZipNotMul,            // the zip is `zip_op`, not `*`
  ReducedDimBroadcast,  // dim `dim` (the reduced one) is broadcast in one operand
  DimBroadcastInBoth,   // dim `dim` only expands made, in both operands
  BatchedDot,           // every dim belongs to both operands
  NothingReduced,       // the sum reduces no dim
  NarrowContraction,    // several reduced dims, but M or N is below kNarrow
};

// A sum over several dims (a convolution's channels and window) whose M or N
// is below this stays a reduction: its operands are read through window
// views, which the GEMM packs element by element, and with so few rows or
// columns its register tile runs mostly empty; the reduction's vector loop
// over the output row is faster (LeNet's 6-channel first layer: 71 against
// 7 GFLOP/s in bench/conv_bench).
inline constexpr int64_t kNarrow = 8;

// recognize_matmul's answer about one sum of a binary zip.
struct MatmulDecision {
  // The sum as the pass was given it: a pointer into the pass's input graph,
  // valid while that graph lives.
  const Node *sum = nullptr;
  MatmulMiss miss = MatmulMiss::None;
  Op zip_op = Op::Mul;
  int64_t reduced_dims = 1;  // they merge into one K
  int64_t dim = -1;
  // A matmul: its extents (batch 1 when there is no batch dim).
  int64_t m = 0, k = 0, n = 0, batch = 1;
  bool has_batch = false;
  bool found() const { return miss == MatmulMiss::None; }
};

// `decisions` (if given) receives one entry per sum of a binary zip the pass
// looked at, in the order it did.
std::vector<NodeRef> recognize_matmul(const std::vector<NodeRef> &roots,
                                      std::vector<MatmulDecision> *decisions = nullptr);

}  // namespace fusejit
