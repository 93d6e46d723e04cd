#include "runtime/reference_kernels.h"

#include <array>
#include <cmath>
#include <limits>

namespace fusejit {

namespace {

// Where an operand's element for `out_index` (an index into `out_shape`,
// which the operand broadcasts to) lives in its storage. `scratch` has room
// for an index of the operand's rank.
int64_t operand_position(const StridedView &v, const int64_t *out_index, const Shape &out_shape,
                         int64_t *scratch) {
  broadcast_index(out_index, out_shape, v.shape, scratch);
  return index_to_position(scratch, v.strides, v.offset);
}

// The shared loop of map, zip and where: N operands broadcast to `shape`,
// combined by `f` on doubles.
template <size_t N, typename F>
Buffer elementwise(const std::array<const StridedView *, N> &operands, DType dtype,
                   const Shape &shape, F f) {
  Buffer out(dtype, shape);
  Index out_index(shape.size()), scratch(shape.size());
  std::array<double, N> values;
  for (int64_t i = 0; i < out.numel(); ++i) {
    ordinal_to_index(i, shape, out_index.data());
    for (size_t k = 0; k < N; ++k) {
      const StridedView &v = *operands[k];
      values[k] = v.load(operand_position(v, out_index.data(), shape, scratch.data()));
    }
    out.set(i, f(values));
  }
  return out;
}

// A NaN on either side wins: if b is NaN, `a > b` is false and b is returned.
double nan_max(double a, double b) { return std::isnan(a) || a > b ? a : b; }
double nan_min(double a, double b) { return std::isnan(a) || a < b ? a : b; }

// How a reduction folds its elements: from `init`, by nan_max or by +, and
// a mean divides the sum by the count at the end.
struct Fold {
  double init;
  bool max;
  bool mean;
};

Fold fold_of(Op op) {
  switch (op) {
    case Op::Sum:
      return {0.0, false, false};
    case Op::Max:
      return {-std::numeric_limits<double>::infinity(), true, false};
    case Op::Mean:
      return {0.0, false, true};
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("reduce_op: ") + op_name(op) + " is not a reduction");
}

}  // namespace

double apply_unary(Op op, double x) {
  switch (op) {
    case Op::Neg:
      return -x;
    case Op::Exp:
      return std::exp(x);
    case Op::Log:
      return std::log(x);
    case Op::Relu:
      return std::isnan(x) || x > 0 ? x : 0.0;
    case Op::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Op::Tanh:
      return std::tanh(x);
    case Op::Sqrt:
      return std::sqrt(x);
    case Op::Abs:
      return std::fabs(x);
    case Op::Inv:
      return 1.0 / x;
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("apply_unary: ") + op_name(op) + " is not unary");
}

double apply_binary(Op op, double a, double b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    case Op::Div:
      return a / b;
    case Op::Lt:
      return a < b ? 1.0 : 0.0;
    case Op::Gt:
      return a > b ? 1.0 : 0.0;
    case Op::Eq:
      return a == b ? 1.0 : 0.0;
    case Op::Maximum:
      return nan_max(a, b);
    case Op::Minimum:
      return nan_min(a, b);
    case Op::Pow:
      return std::pow(a, b);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("apply_binary: ") + op_name(op) + " is not binary");
}

Buffer map_op(Op op, const StridedView &x, DType dtype, const Shape &shape) {
  return elementwise<1>({&x}, dtype, shape,
                        [op](const std::array<double, 1> &v) { return apply_unary(op, v[0]); });
}

Buffer zip_op(Op op, const StridedView &a, const StridedView &b, DType dtype, const Shape &shape) {
  return elementwise<2>({&a, &b}, dtype, shape, [op](const std::array<double, 2> &v) {
    return apply_binary(op, v[0], v[1]);
  });
}

Buffer where_op(const StridedView &c, const StridedView &x, const StridedView &y, DType dtype,
                const Shape &shape) {
  return elementwise<3>({&c, &x, &y}, dtype, shape,
                        [](const std::array<double, 3> &v) { return v[0] != 0 ? v[1] : v[2]; });
}

Buffer reduce_op(Op op, const StridedView &x, const std::vector<int64_t> &dims, bool keepdim,
                 DType dtype, const Shape &shape) {
  const size_t rank = x.shape.size();
  std::vector<bool> reduced(rank, false);
  Shape reduced_shape;
  for (int64_t d : dims) {
    reduced[d] = true;
    reduced_shape.push_back(x.shape[d]);
  }
  const int64_t count = numel(reduced_shape);
  const Fold fold = fold_of(op);

  Buffer out(dtype, shape);
  Index out_index(shape.size()), in_index(rank), reduced_index(dims.size());
  for (int64_t o = 0; o < out.numel(); ++o) {
    // The kept dims of the input index come from the output index; with
    // keepdim the reduced dims occupy an output position (always 0).
    ordinal_to_index(o, shape, out_index.data());
    for (size_t i = 0, p = 0; i < rank; ++i) {
      if (!reduced[i]) in_index[i] = out_index[p];
      if (!reduced[i] || keepdim) ++p;
    }
    double acc = fold.init;
    for (int64_t r = 0; r < count; ++r) {
      ordinal_to_index(r, reduced_shape, reduced_index.data());
      for (size_t k = 0; k < dims.size(); ++k) in_index[dims[k]] = reduced_index[k];
      double v = x.load(index_to_position(in_index.data(), x.strides, x.offset));
      acc = fold.max ? nan_max(acc, v) : acc + v;
    }
    // 0/0 makes the mean of nothing NaN, as numpy's is.
    if (fold.mean) acc /= static_cast<double>(count);
    out.set(o, acc);
  }
  return out;
}

Buffer matmul_op(const StridedView &a, const StridedView &b, DType dtype, const Shape &shape) {
  const size_t ra = a.shape.size(), rb = b.shape.size(), r = shape.size();
  FUSEJIT_INTERNAL_CHECK(ra >= 2 && rb >= 2 && r >= 2, "matmul of ", shape_str(a.shape), " @ ",
                         shape_str(b.shape));
  const int64_t k_extent = a.shape[ra - 1];
  const Shape batch(shape.begin(), shape.end() - 2);
  const Shape batch_a(a.shape.begin(), a.shape.end() - 2);
  const Shape batch_b(b.shape.begin(), b.shape.end() - 2);

  Buffer out(dtype, shape);
  Index out_index(r), ia(ra), ib(rb);
  for (int64_t o = 0; o < out.numel(); ++o) {
    ordinal_to_index(o, shape, out_index.data());
    // Batch dims first (broadcast), then the row of a and the column of b.
    broadcast_index(out_index.data(), batch, batch_a, ia.data());
    broadcast_index(out_index.data(), batch, batch_b, ib.data());
    ia[ra - 2] = out_index[r - 2];
    ib[rb - 1] = out_index[r - 1];
    double acc = 0;
    for (int64_t k = 0; k < k_extent; ++k) {
      ia[ra - 1] = k;
      ib[rb - 2] = k;
      acc += a.load(index_to_position(ia.data(), a.strides, a.offset)) *
             b.load(index_to_position(ib.data(), b.strides, b.offset));
    }
    out.set(o, acc);
  }
  return out;
}

}  // namespace fusejit
