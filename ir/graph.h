// Checked constructors of graph nodes. Each validates its operands (shapes,
// dims, dtypes), throws a ShapeError naming them if they do not fit, and
// returns the hash-consed node.
#pragma once

#include <string>
#include <vector>

#include "ir/node.h"

namespace fusejit::ir {

// A fresh input; never shared with another input, even of the same type.
NodeRef input(DType dtype, Shape shape, std::string name = "");
// A scalar constant.
NodeRef constant(double value, DType dtype);
// A constant of any shape (an expand of a scalar constant).
NodeRef full(double value, DType dtype, const Shape &shape);

NodeRef unary(Op op, NodeRef x);
// Broadcasting elementwise op; both operands must have the same dtype.
NodeRef binary(Op op, NodeRef a, NodeRef b);
// Broadcasting select: c != 0 ? x : y.
NodeRef where(NodeRef c, NodeRef x, NodeRef y);

// Sum, Max or Mean over `dims` (negative allowed); empty dims reduce all.
NodeRef reduce(Op op, NodeRef x, std::vector<int64_t> dims, bool keepdim = false);

// At most one extent may be -1 (inferred). Element counts must match.
NodeRef reshape(NodeRef x, Shape shape);
NodeRef permute(NodeRef x, std::vector<int64_t> perm);
// Swaps the last two dims (a 1-D or scalar tensor is returned unchanged).
NodeRef transpose(NodeRef x);
// numpy broadcast_to: leading dims may be added; -1 keeps an extent.
NodeRef expand(NodeRef x, Shape shape);

// a @ b: 2-D or batched with broadcast batch dims; 1-D operands follow numpy
// (a vector is a row on the left, a column on the right, and its dim is dropped).
NodeRef matmul(NodeRef a, NodeRef b);

// Rebuilds `n` with new arguments (same op and attributes), re-checking shapes.
NodeRef with_args(const Node &n, std::vector<NodeRef> args);

// The shape `n` must have given its op, attributes and arguments; the
// verifier compares it with n.shape.
Shape infer_shape(const Node &n);

}  // namespace fusejit::ir
