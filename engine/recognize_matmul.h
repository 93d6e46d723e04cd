// recognize_matmul: finds `sum` over one dim k of a product `P * Q` (with
// numpy broadcasting) whose other dims each belong to both operands (batch),
// only to P (rows) or only to Q (cols), and rewrites it as a matmul of
// views of P and Q. The seed's `sum(a[2,3,1] * b[3,2], 1)` becomes
// `reshape(a, [2, 3]) @ reshape(b, [3, 2])`: the (2,3,2) product is never
// formed. Near misses (two reduced dims, a zip that is not `*`, k broadcast
// in one operand, a batched dot product) stay reductions, with a note.
// Before: a canonical graph. After: the same values; every recognized
// pattern is an Op::Matmul node (plus views where the output order needs them).
#pragma once

#include <string>
#include <vector>

#include "ir/node.h"

namespace fusejit {

std::vector<NodeRef> recognize_matmul(const std::vector<NodeRef> &roots,
                                      std::vector<std::string> *notes = nullptr);

}  // namespace fusejit
