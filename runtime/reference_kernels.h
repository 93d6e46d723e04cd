// The loops of the reference interpreter, one per kind of op, in the style
// of minitorch's tensor_map, tensor_zip and tensor_reduce: walk every output
// index, map it to each operand's storage through broadcast_index and the
// operand's strides, compute in double, and round once to the result dtype.
// Each returns a fresh contiguous Buffer of `dtype` and `shape`.
#pragma once

#include <string>
#include <vector>

#include "ir/node.h"
#include "runtime/strided_view.h"

namespace fusejit {

// One elementwise op on doubles holding values of the operand dtype; the
// caller stores the result as its dtype holds it (convert_value in
// ir/dtype.h: integers wrap). NaN propagates through relu, maximum and
// minimum, as in numpy and PyTorch. `from` and `to` are the operand's and
// the result's dtypes (a cast needs both); `operand` a binary op's operands'.
double apply_unary(Op op, double x, DType from, DType to);
double apply_binary(Op op, double a, double b, DType operand);
// Whether `op` on integer operands divides by the divisor `b` = 0: an error
// (throw_division_by_zero), never a value.
bool divides_by_zero(Op op, DType operand, double b);
// Throws the ValueError naming the dividend, the op and `where` it happened.
[[noreturn]] void throw_division_by_zero(Op op, double a, DType operand, const std::string &where);
// "[1, 0, 2]": a domain point as the errors name it.
std::string index_str(const Index &index);
// A reduction's start value in `dtype` (sum 0, prod 1, max the lowest value,
// min the highest, any false, all true) and its step.
double reduce_identity(Op op, DType dtype);
double reduce_combine(Op op, double acc, double v);

// A unary op over `x`, whose shape is `shape`.
Buffer map_op(Op op, const StridedView &x, DType dtype, const Shape &shape);
// A binary op over `a` and `b` broadcast to `shape`.
Buffer zip_op(Op op, const StridedView &a, const StridedView &b, DType dtype, const Shape &shape);
// c != 0 ? x : y, all three broadcast to `shape`.
Buffer where_op(const StridedView &c, const StridedView &x, const StridedView &y, DType dtype,
                const Shape &shape);
// A reduction (sum, max, min, prod, mean, any, all) of `x` over the sorted, non-negative `dims`;
// `shape` is the result's (reduced dims dropped, or kept as 1 with keepdim). Accumulates in double
// from reduce_identity: mean of nothing is NaN.
Buffer reduce_op(Op op, const StridedView &x, const std::vector<int64_t> &dims, bool keepdim,
                 DType dtype, const Shape &shape);
// a[..., m, k] @ b[..., k, n] with the batch dims of both broadcast to those
// of `shape`; accumulates in double.
Buffer matmul_op(const StridedView &a, const StridedView &b, DType dtype, const Shape &shape);

}  // namespace fusejit
