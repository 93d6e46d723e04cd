// Reverse-mode automatic differentiation on the graph IR: gradient nodes are
// built in the same hash-consed graph as the forward, so the pipeline
// optimizes and fuses forward and backward together.
#pragma once

#include <vector>

#include "ir/node.h"

namespace fusejit {

// The gradients of sum(root) -- or of sum(root * seed) when `seed` is given,
// a vector-Jacobian product -- with respect to each node of `wrt`, in order.
//
// Before: `root` and every node of `wrt` are non-null; `seed`, if given, has
// root's dtype and shape (else a ShapeError naming both).
// After: result[i] has wrt[i]'s dtype and shape. It is built only through the
// checked constructors of ir/graph.h and computes nothing: realize it to get
// values. A node of `wrt` that root does not depend on gets zeros
// (ir::full(0, ...)); callers decide whether that is an error. Only nodes on
// a path from a `wrt` node to root are differentiated; constants and inputs
// not in `wrt` get nothing.
//
// Non-smooth points (documented choices): relu'(0) = 0, abs'(0) = 0; ties of
// maximum/minimum and of a max reduction share the gradient evenly, and a
// max over a row holding NaN gives that row zeros; the exponent's gradient
// of pow(a, b) is 0 where a == 0.
std::vector<NodeRef> gradients(const NodeRef &root, const std::vector<NodeRef> &wrt,
                               NodeRef seed = nullptr);

// Sums `grad` down to `shape`, undoing numpy broadcasting: leading extra dims
// and dims where `shape` has extent 1 but `grad` does not are summed, and the
// result is reshaped to exactly `shape`. `shape` must broadcast to grad's
// shape (else a ShapeError); returns `grad` itself when the shapes are equal.
NodeRef sum_to_shape(const NodeRef &grad, const Shape &shape);

}  // namespace fusejit
