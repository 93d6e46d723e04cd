// recognize_matmul: finds `sum` over one dim k of a product `P * Q` (with
// numpy broadcasting) whose other dims each belong to both operands (batch),
// only to P (rows) or only to Q (cols), and rewrites it as a matmul of
// views of P and Q. The seed's `sum(a[2,3,1] * b[3,2], 1)` becomes
// `reshape(a, [2, 3]) @ reshape(b, [3, 2])`: the (2,3,2) product is never
// formed. Near misses (two reduced dims, a zip that is not `*`, k broadcast
// in one operand, a batched dot product) stay reductions, and say why as data.
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
  SeveralReducedDims,   // it reduces `reduced_dims` dims
  ReducedDimBroadcast,  // dim `dim` (the reduced one) is broadcast in one operand
  DimBroadcastInBoth,   // dim `dim` only expands made, in both operands
  BatchedDot,           // every dim belongs to both operands
};

// recognize_matmul's answer about one sum of a binary zip.
struct MatmulDecision {
  // The sum as the pass was given it: a pointer into the pass's input graph,
  // valid while that graph lives.
  const Node *sum = nullptr;
  MatmulMiss miss = MatmulMiss::None;
  Op zip_op = Op::Mul;
  int64_t reduced_dims = 1;
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
