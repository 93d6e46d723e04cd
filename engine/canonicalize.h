// canonicalize: rewrites the graph into a simpler equivalent one, before
// fusion. Constant folding (an op of constants becomes a constant), algebraic
// identities (x + 0, x * 1, x - 0, x / 1, neg(neg(x))), and view-of-view
// (reshape of reshape, permute of permute, identity views removed).
// Identities that change a value's shape (x + 0 where 0 broadcasts x) are
// kept. In `strict` numerics nothing reassociates, and these rules never do.
// Before: any verified graph. After: the same values, verified.
#pragma once

#include <vector>

#include "ir/node.h"

namespace fusejit {

std::vector<NodeRef> canonicalize(const std::vector<NodeRef> &roots);

}  // namespace fusejit
