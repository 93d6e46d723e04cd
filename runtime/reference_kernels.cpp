#include "runtime/reference_kernels.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

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

// Integer +, -, * and negation wrap modulo their width, as JIT code and
// torch do. Through doubles an i32 product past 2^53 would lose its low bits
// and an i64 one past 2^63 saturate. (An i64 result past 2^53 still rounds
// here, as every value of the interpreter is a double.)
double wrapping(Op op, double a, double b, DType t) {
  const auto x = static_cast<uint64_t>(wrap_integer(a));
  const auto y = static_cast<uint64_t>(wrap_integer(b));
  const uint64_t r = op == Op::Add ? x + y : op == Op::Sub ? x - y : x * y;
  if (t == DType::I32) return static_cast<int32_t>(static_cast<uint32_t>(r));
  if (t == DType::U8) return static_cast<uint8_t>(r);
  return static_cast<double>(static_cast<int64_t>(r));
}

// A NaN on either side wins: if b is NaN, `a > b` is false and b is returned.
double nan_max(double a, double b) { return std::isnan(a) || a > b ? a : b; }
double nan_min(double a, double b) { return std::isnan(a) || a < b ? a : b; }

// Python's modulo: the remainder takes the divisor's sign. Exact for
// integers held in double.
double python_mod(double a, double b) {
  double r = std::fmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

}  // namespace

std::string index_str(const Index &index) {
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += (i ? ", " : "") + std::to_string(index[i]);
  return s + "]";
}

double reduce_identity(Op op, DType dtype) {
  switch (op) {
    case Op::Sum:
    case Op::Mean:
    case Op::Any:
      return 0.0;
    case Op::Prod:
    case Op::All:
      return 1.0;
    case Op::Max:
      return lowest_value(dtype);
    case Op::Min:
      return highest_value(dtype);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("reduce_identity: ") + op_name(op) + " is not a reduction");
}

double reduce_combine(Op op, double acc, double v) {
  switch (op) {
    case Op::Sum:
    case Op::Mean:
      return acc + v;
    case Op::Prod:
      return acc * v;
    case Op::Max:
      return nan_max(acc, v);
    case Op::Min:
      return nan_min(acc, v);
    case Op::Any:
      return acc != 0 || v != 0 ? 1.0 : 0.0;
    case Op::All:
      return acc != 0 && v != 0 ? 1.0 : 0.0;
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("reduce_combine: ") + op_name(op) + " is not a reduction");
}

double apply_unary(Op op, double x, DType from, DType to) {
  switch (op) {
    case Op::Neg:
      return is_integer(from) ? wrapping(Op::Sub, 0, x, from) : -x;
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
    case Op::Floor:
      return std::floor(x);
    case Op::Ceil:
      return std::ceil(x);
    case Op::Round:  // half to even, as torch.round
      return std::nearbyint(x);
    case Op::LogicalNot:
      return x == 0 ? 1.0 : 0.0;
    case Op::StopGradient:
      return x;
    case Op::Cast:
      return cast_value(from, to, x);
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

bool divides_by_zero(Op op, DType operand, double b) {
  return (op == Op::FloorDiv || op == Op::Mod) && !is_floating(operand) && b == 0;
}

double apply_binary(Op op, double a, double b, DType operand) {
  const bool boolean = operand == DType::Bool;
  if (is_integer(operand) && (op == Op::Add || op == Op::Sub || op == Op::Mul))
    return wrapping(op, a, b, operand);
  switch (op) {
    case Op::Add:  // on bool, torch's add is `or` and mul `and`
      return boolean ? (a != 0 || b != 0 ? 1.0 : 0.0) : a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return boolean ? (a != 0 && b != 0 ? 1.0 : 0.0) : a * b;
    case Op::Div:
      return a / b;
    case Op::Lt:
      return a < b ? 1.0 : 0.0;
    case Op::Gt:
      return a > b ? 1.0 : 0.0;
    case Op::Eq:
      return a == b ? 1.0 : 0.0;
    case Op::Le:
      return a <= b ? 1.0 : 0.0;
    case Op::Ge:
      return a >= b ? 1.0 : 0.0;
    case Op::Ne:
      return a != b ? 1.0 : 0.0;
    case Op::LogicalAnd:
      return a != 0 && b != 0 ? 1.0 : 0.0;
    case Op::LogicalOr:
      return a != 0 || b != 0 ? 1.0 : 0.0;
    case Op::FloorDiv:
      // An integer division by zero is an error the caller reports
      // (divides_by_zero); 0 is what JIT code computes there meanwhile.
      if (divides_by_zero(op, operand, b)) return 0;
      return std::floor(a / b);
    case Op::Mod:
      if (divides_by_zero(op, operand, b)) return 0;
      return python_mod(a, b);
    case Op::Maximum:
      return nan_max(a, b);
    case Op::Minimum:
      return nan_min(a, b);
    case Op::Pow:
      return std::pow(a, b);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("apply_binary: ") + op_name(op) + " is not binary");
}

void throw_division_by_zero(Op op, double a, DType operand, const std::string &where) {
  throw ValueError(std::string("integer ") + (op == Op::Mod ? "modulo" : "division") +
                   " by zero: " + std::to_string(wrap_integer(a)) + " " + op_name(op) + " 0 (" +
                   dtype_name(operand) + ") " + where);
}

Buffer map_op(Op op, const StridedView &x, DType dtype, const Shape &shape) {
  const DType from = x.dtype;
  return elementwise<1>({&x}, dtype, shape, [op, from, dtype](const std::array<double, 1> &v) {
    return apply_unary(op, v[0], from, dtype);
  });
}

Buffer zip_op(Op op, const StridedView &a, const StridedView &b, DType dtype, const Shape &shape) {
  const DType operand = a.dtype;
  Index index(shape.size());
  int64_t at = 0;
  return elementwise<2>({&a, &b}, dtype, shape, [&](const std::array<double, 2> &v) {
    // The walk is in row-major order, so the first zero found is the smallest.
    if (divides_by_zero(op, operand, v[1])) {
      ordinal_to_index(at, shape, index.data());
      throw_division_by_zero(op, v[0], operand,
                             "at index " + index_str(index) + " of " + type_str(dtype, shape));
    }
    ++at;
    return apply_binary(op, v[0], v[1], operand);
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
    double acc = reduce_identity(op, dtype);
    for (int64_t r = 0; r < count; ++r) {
      ordinal_to_index(r, reduced_shape, reduced_index.data());
      for (size_t k = 0; k < dims.size(); ++k) in_index[dims[k]] = reduced_index[k];
      double v = x.load(index_to_position(in_index.data(), x.strides, x.offset));
      acc = reduce_combine(op, acc, v);
    }
    // 0/0 makes the mean of nothing NaN, as numpy's is.
    if (op == Op::Mean) acc /= static_cast<double>(count);
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
