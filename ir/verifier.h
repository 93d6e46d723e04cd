// Checks the graph IR's invariants on every node reachable from `roots`:
// arity per op kind, non-null args, dtype rules, attributes (reduce dims
// sorted, unique and in range; permute a permutation) and that each node's
// shape is the one its op infers (ir::infer_shape). A violation is our bug,
// never the user's, so it throws InternalError naming the node.
//
// Passes are Graph -> Graph; their tests run verify() after every pass.
#pragma once

#include <vector>

#include "ir/node.h"

namespace fusejit {

void verify(const std::vector<NodeRef> &roots);

}  // namespace fusejit
