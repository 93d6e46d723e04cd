// The loops of the reference interpreter, one per kind of op, in the style
// of minitorch's tensor_map, tensor_zip and tensor_reduce: walk every output
// index, map it to each operand's storage through broadcast_index and the
// operand's strides, compute in double, and round once to the result dtype.
// Each returns a fresh contiguous Buffer of `dtype` and `shape`.
#pragma once

#include <vector>

#include "ir/node.h"
#include "runtime/strided_view.h"

namespace fusejit {

// One elementwise op on doubles; NaN propagates through relu, maximum and
// minimum, as in numpy and PyTorch.
double apply_unary(Op op, double x);
double apply_binary(Op op, double a, double b);

// A unary op over `x`, whose shape is `shape`.
Buffer map_op(Op op, const StridedView &x, DType dtype, const Shape &shape);
// A binary op over `a` and `b` broadcast to `shape`.
Buffer zip_op(Op op, const StridedView &a, const StridedView &b, DType dtype, const Shape &shape);
// c != 0 ? x : y, all three broadcast to `shape`.
Buffer where_op(const StridedView &c, const StridedView &x, const StridedView &y, DType dtype,
                const Shape &shape);
// Sum, Max or Mean of `x` over the sorted, non-negative `dims`; `shape` is
// the result's (reduced dims dropped, or kept as 1 with keepdim).
// Accumulates in double: sum of nothing is 0, max -inf, mean NaN.
Buffer reduce_op(Op op, const StridedView &x, const std::vector<int64_t> &dims, bool keepdim,
                 DType dtype, const Shape &shape);
// a[..., m, k] @ b[..., k, n] with the batch dims of both broadcast to those
// of `shape`; accumulates in double.
Buffer matmul_op(const StridedView &a, const StridedView &b, DType dtype, const Shape &shape);

}  // namespace fusejit
