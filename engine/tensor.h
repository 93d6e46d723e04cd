// The tensor type for fusejit's own code: the public Tensor
// (fusejit/tensor.h) with the graph IR it wraps in view.
#pragma once

#include <fusejit/grad_mode.h>
#include <fusejit/tensor.h>

#include "ir/error.h"
#include "ir/node.h"
#include "ir/shape.h"

namespace fusejit {

// The tensor for `node`, computed from `operands` (each defined): tracked
// when any of them is, as every op of the API is. For ops built elsewhere
// (engine/row_ops.cpp) from ir's compositions.
Tensor tracked_result(NodeRef node, const std::vector<const Tensor *> &operands);

}  // namespace fusejit
