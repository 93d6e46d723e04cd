// canonicalize: rewrites the graph into a simpler equivalent one, before
// fusion. Constant folding (an op of constants becomes a constant), algebraic
// identities (x + 0, x * 1, x - 0, x / 1, neg(neg(x))), and view-of-view
// (reshape of reshape, permute of permute, identity views removed).
// Identities that change a value's shape (x + 0 where 0 broadcasts x) are
// kept. No rule reassociates. In `strict` numerics only identities exact in
// IEEE arithmetic apply: x + (-0.0) and x - (+0.0) fold, x + (+0.0) does not
// (-0.0 + 0.0 is +0.0); `fast` ignores the sign of zero.
// Before: any verified graph. After: the same values, verified.
#pragma once

#include <vector>

#include "codegen/jit.h"
#include "ir/node.h"

namespace fusejit {

std::vector<NodeRef> canonicalize(const std::vector<NodeRef> &roots, Numerics numerics);

}  // namespace fusejit
