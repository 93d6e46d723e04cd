#include "tools/difftest/random_program.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "ir/conv.h"
#include "ir/error.h"
#include "ir/graph.h"

namespace fusejit::difftest {

namespace {

// Magnitudes past this are squashed: rounding errors scale with magnitude,
// and a difference of two large values would turn them into a false alarm.
constexpr double kMaxBound = 8;
// Intermediates past this many elements are not built: keeps a seed fast.
constexpr int64_t kMaxNumel = 4096;

struct Value {
  NodeRef node;
  double bound = 1;    // |value| <= bound for inputs in [-1, 1]
  bool exact = false;  // computed without rounding (inputs, views, neg, max, ...)
};

// Draws from mt19937_64 directly: std::uniform_int_distribution differs
// between standard libraries, and a seed must name one program everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  bool percent(int p) { return static_cast<int>(below(100)) < p; }
  template <typename T>
  const T &pick(const std::vector<T> &v) {
    return v[below(v.size())];
  }

 private:
  std::mt19937_64 engine_;
};

class ProgramGenerator {
 public:
  ProgramGenerator(uint64_t seed, const RandomProgramOptions &options)
      : rng_(seed), options_(options), dtype_(rng_.percent(50) ? DType::F32 : DType::F64) {}
  Program run();

 private:
  int64_t extent();
  Shape random_shape(size_t rank);
  Shape broadcast_partner(const Shape &s);
  Value new_input(const Shape &s);
  Value constant();
  Value &pick_value();
  Value partner(const Value &a, bool exact);
  Value squash(Value v);
  Value positive(const Value &v);

  Value step(const Value &a);
  Value unary(const Value &a);
  Value binary(const Value &a);
  Value compare(const Value &a);
  Value integer(const Value &a);
  Value where(const Value &a);
  Value reduce(const Value &a);
  Value transcendental(const Value &a);
  Value row_max(const Value &a);
  Value view(const Value &a);
  Value reshape(const Value &a);
  Value expand(const Value &a);
  Value index_view(const Value &a);
  Value gather(const Value &a);
  Value pad(const Value &a);
  Value join(const Value &a);
  Value matmul(const Value &given);
  Value conv(const Value &a);

  Rng rng_;
  RandomProgramOptions options_;
  DType dtype_;
  std::vector<Value> pool_;
  std::vector<NodeRef> inputs_;
  std::vector<NodeRef> integer_outputs_;  // integer and bool values, outputs too
};

// Small and odd extents, and sometimes 0 or past a vector width. Rows of
// 5 to 13 have a vector body and a scalar tail in f32 and f64 alike: the
// place where two ways of computing one value part.
int64_t ProgramGenerator::extent() {
  static const std::vector<int64_t> common = {1, 1, 2, 3, 3, 4, 5, 7};
  static const std::vector<int64_t> rare = {0, 9, 16, 17, 33};
  if (rng_.percent(20)) return 5 + static_cast<int64_t>(rng_.below(9));
  return rng_.percent(8) ? rng_.pick(rare) : rng_.pick(common);
}

Shape ProgramGenerator::random_shape(size_t rank) {
  Shape s(rank);
  for (int64_t &d : s) d = extent();
  while (numel(s) > kMaxNumel / 4) *std::max_element(s.begin(), s.end()) /= 2;
  return s;
}

// A shape that broadcasts with `s`: a suffix of it, some dims set to 1,
// sometimes a new leading dim.
Shape ProgramGenerator::broadcast_partner(const Shape &s) {
  Shape p(s.begin() + static_cast<long>(rng_.below(s.size() + 1) / 2), s.end());
  for (int64_t &d : p)
    if (rng_.percent(30)) d = 1;
  if (rng_.percent(10)) p.insert(p.begin(), 1 + static_cast<int64_t>(rng_.below(3)));
  return p;
}

Value ProgramGenerator::new_input(const Shape &s) {
  NodeRef in = ir::input(dtype_, s, "x" + std::to_string(inputs_.size()));
  inputs_.push_back(in);
  return {in, 1, true};
}

// Constants exactly representable in f32, so printing loses nothing.
Value ProgramGenerator::constant() {
  static const std::vector<double> values = {0.5, 2, -1, 0.25, 3, 1.5, 0};
  double v = rng_.pick(values);
  return {ir::constant(v, dtype_), std::fabs(v), true};
}

Value &ProgramGenerator::pick_value() {
  return rng_.percent(60) ? pool_.back() : pool_[rng_.below(pool_.size())];
}

// An operand for `a`: a value from the pool that broadcasts with it, a
// new input of a compatible shape, or a constant.
Value ProgramGenerator::partner(const Value &a, bool exact) {
  std::vector<const Value *> fits;
  for (const Value &v : pool_) {
    if (exact && !v.exact) continue;
    try {
      Shape s = shape_broadcast(a.node->shape, v.node->shape);
      if (numel(s) <= kMaxNumel) fits.push_back(&v);
    } catch (const ShapeError &) {
    }
  }
  int roll = static_cast<int>(rng_.below(100));
  if (roll < 45 && !fits.empty()) return *rng_.pick(fits);
  if (roll < 80) return new_input(broadcast_partner(a.node->shape));
  return constant();
}

Value ProgramGenerator::squash(Value v) {
  if (v.bound <= kMaxBound) return v;
  if (v.bound <= 8 * kMaxBound && rng_.percent(50))  // a power of two: exact scaling
    return {ir::binary(Op::Mul, v.node, ir::constant(0.125, dtype_)), v.bound / 8, false};
  Op op = rng_.percent(50) ? Op::Tanh : Op::Sigmoid;
  return {ir::unary(op, v.node), 1, false};
}

// abs(a) + 0.5: in the domain of log, sqrt, inv, pow and division, and far
// enough from 0 that their slopes stay small.
Value ProgramGenerator::positive(const Value &a) {
  NodeRef p = ir::binary(Op::Add, ir::unary(Op::Abs, a.node), ir::constant(0.5, dtype_));
  return {p, a.bound + 0.5, false};
}

Value ProgramGenerator::unary(const Value &a) {
  static const std::vector<Op> ops = {Op::Neg,  Op::Exp,  Op::Log, Op::Relu, Op::Sigmoid,
                                      Op::Tanh, Op::Sqrt, Op::Abs, Op::Inv,  Op::StopGradient};
  Op op = rng_.pick(ops);
  switch (op) {
    case Op::Neg:
    case Op::Relu:
    case Op::Abs:
    case Op::StopGradient:
      return {ir::unary(op, a.node), a.bound, a.exact};
    case Op::Exp: {
      Value x = a.bound <= 2 ? a : Value{ir::unary(Op::Tanh, a.node), 1, false};
      return squash({ir::unary(Op::Exp, x.node), std::exp(x.bound), false});
    }
    case Op::Log: {
      Value p = positive(a);
      return {ir::unary(Op::Log, p.node), std::max(1.0, std::log(p.bound)), false};
    }
    case Op::Sqrt: {
      Value p = positive(a);
      return {ir::unary(Op::Sqrt, p.node), std::sqrt(p.bound), false};
    }
    case Op::Inv:
      return {ir::unary(Op::Inv, positive(a).node), 2, false};
    case Op::Sigmoid:
    case Op::Tanh:
      return {ir::unary(op, a.node), 1, false};
    // Integer, rounding and logical ops come from integer().
    case Op::Floor:
    case Op::Ceil:
    case Op::Round:
    case Op::LogicalNot:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("random unary: ") + op_name(op) + " is not unary");
}

Value ProgramGenerator::binary(const Value &a) {
  static const std::vector<Op> ops = {Op::Add,     Op::Sub,     Op::Mul, Op::Div,
                                      Op::Maximum, Op::Minimum, Op::Pow};
  Op op = rng_.pick(ops);
  Value b = partner(a, false);
  switch (op) {
    case Op::Add:
    case Op::Sub:
      return squash({ir::binary(op, a.node, b.node), a.bound + b.bound, false});
    case Op::Mul:
      return squash({ir::binary(op, a.node, b.node), a.bound * b.bound, false});
    case Op::Div:
      return squash({ir::binary(op, a.node, positive(b).node), 2 * a.bound, false});
    case Op::Pow: {
      // An exponent in [-1, 1] (or a constant), over a base in [0.5, bound + 0.5].
      Value e = rng_.percent(50) ? constant() : Value{ir::unary(Op::Tanh, b.node), 1, false};
      Value base = positive(a);
      double bound = std::pow(std::max(2.0, base.bound), std::max(1.0, e.bound));
      return squash({ir::binary(Op::Pow, base.node, e.node), bound, false});
    }
    case Op::Maximum:
    case Op::Minimum:
      return {ir::binary(op, a.node, b.node), std::max(a.bound, b.bound), a.exact && b.exact};
    // Comparisons come from compare(), which keeps their operands exact.
    case Op::Lt:
    case Op::Gt:
    case Op::Eq:
    case Op::Le:
    case Op::Ge:
    case Op::Ne:
    case Op::LogicalAnd:
    case Op::LogicalOr:
    case Op::FloorDiv:
    case Op::Mod:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("random binary: ") + op_name(op) +
                      " is not an arithmetic binary op");
}

// Comparisons see exact operands only: a rounding difference between two
// correct evaluations must not flip a 0 into a 1.
Value ProgramGenerator::compare(const Value &a) {
  static const std::vector<Op> ops = {Op::Lt, Op::Gt, Op::Eq};
  Value x = a.exact ? a : new_input(broadcast_partner(a.node->shape));
  Value y = partner(x, true);
  return {ir::binary(rng_.pick(ops), x.node, y.node), 1, true};
}

// Integer and bool tensors: an exact value scaled by 4 (a power of two,
// exact) and rounded (floor, ceil or round), cast to i32, i64 or u8, then
// integer arithmetic, Python's // and % by a divisor made nonzero,
// comparisons, logical ops or an integer reduction. Every step is exact,
// so the JIT must match the interpreter bit for bit. The result rejoins
// the program in its float dtype (small integers are exact there) and is
// sometimes an output itself, in its own dtype.
Value ProgramGenerator::integer(const Value &a) {
  static const std::vector<DType> dtypes = {DType::I32, DType::I64, DType::U8};
  static const std::vector<Op> rounding = {Op::Floor, Op::Ceil, Op::Round};
  const DType t = rng_.pick(dtypes);
  Value x = a.exact ? a : new_input(broadcast_partner(a.node->shape));
  auto to_int = [&](const Value &v, double scale) {
    NodeRef scaled = ir::binary(Op::Mul, v.node, ir::constant(scale, dtype_));
    return ir::cast(ir::unary(rng_.pick(rounding), scaled), t);
  };
  // |q| <= bound, except that negative values wrap to 129..255 in u8.
  const double bound = t == DType::U8 ? 255 : 4 * x.bound + 1;
  NodeRef q = to_int(x, 4);
  // Not a constant: a cast of a literal-only expression reads back from
  // text in the literals' default dtype, which would break the round trip.
  auto other = [&] {
    Value v = partner(x, true);
    return to_int(v.node->is(Op::Const) ? new_input(v.node->shape) : v, 4);
  };
  NodeRef r;
  double r_bound = 1;
  int roll = static_cast<int>(rng_.below(5));
  if (roll == 0) {
    static const std::vector<Op> ops = {Op::Add, Op::Sub, Op::Mul, Op::Maximum, Op::Minimum};
    Op op = rng_.pick(ops);
    r = ir::binary(op, q, other());
    r_bound = op == Op::Mul ? bound * bound : op == Op::Add || op == Op::Sub ? 2 * bound : bound;
  } else if (roll == 1) {
    NodeRef d = other();
    NodeRef nonzero = ir::where(ir::binary(Op::Eq, d, ir::constant(0, t)), ir::constant(3, t), d);
    r = ir::binary(rng_.percent(50) ? Op::FloorDiv : Op::Mod, q, nonzero);
    r_bound = bound;
  } else if (roll == 2) {
    static const std::vector<Op> ops = {Op::Lt, Op::Gt, Op::Eq, Op::Le, Op::Ge, Op::Ne};
    r = ir::binary(rng_.pick(ops), q, other());
  } else if (roll == 3) {
    int logical = static_cast<int>(rng_.below(3));
    r = logical == 2 ? ir::unary(Op::LogicalNot, q)
                     : ir::binary(logical == 0 ? Op::LogicalAnd : Op::LogicalOr, q, other());
  } else {
    static const std::vector<Op> ops = {Op::Sum, Op::Max, Op::Min, Op::Prod, Op::Any, Op::All};
    Op op = rng_.pick(ops);
    std::vector<int64_t> dims;
    int64_t rank = static_cast<int64_t>(q->rank());
    for (int64_t d = 0; d < rank; ++d)
      if (rng_.percent(50)) dims.push_back(d);
    int64_t terms = dims.empty() ? q->numel() : 1;
    for (int64_t d : dims) terms *= q->shape[d];
    // A product of values in {-1, 0, 1} (of i64: u8's would be 255s) cannot overflow.
    if (op == Op::Prod) q = ir::cast(ir::unary(Op::Round, x.node), DType::I64);
    r = ir::reduce(op, q, dims, rng_.percent(40));
    r_bound = op == Op::Sum    ? bound * static_cast<double>(std::max<int64_t>(terms, 1))
              : op == Op::Prod ? 1
                               : bound;
  }
  if (rng_.percent(30)) integer_outputs_.push_back(r);
  return squash({ir::cast(r, dtype_), r_bound, true});
}

Value ProgramGenerator::where(const Value &a) {
  Value c = compare(a);
  Value y = partner(a, false);
  try {
    shape_broadcast(shape_broadcast(c.node->shape, a.node->shape), y.node->shape);
  } catch (const ShapeError &) {
    y = constant();  // each broadcasts with `a`, but not all three together
  }
  return {ir::where(c.node, a.node, y.node), std::max(a.bound, y.bound), a.exact && y.exact};
}

Value ProgramGenerator::reduce(const Value &a) {
  static const std::vector<Op> ops = {Op::Sum, Op::Max, Op::Mean};
  Op op = rng_.pick(ops);
  std::vector<int64_t> dims;
  int64_t terms = 1;
  int64_t rank = static_cast<int64_t>(a.node->rank());
  for (int64_t d = 0; d < rank; ++d) {
    if (!rng_.percent(40)) continue;
    dims.push_back(rng_.percent(30) ? d - rank : d);  // negative spellings too
    terms *= a.node->shape[d];
  }
  if (dims.empty()) terms = a.node->numel();  // no dims: everything
  bool keepdim = rng_.percent(40);
  NodeRef r = ir::reduce(op, a.node, dims, keepdim);
  if (op == Op::Sum) return squash({r, a.bound * std::max<int64_t>(terms, 1), false});
  return {r, a.bound, op == Op::Max && a.exact};
}

// exp, sigmoid or log of `a`: the ops fast numerics computes through a
// vector math library.
Value ProgramGenerator::transcendental(const Value &a) {
  int kind = static_cast<int>(rng_.below(3));
  if (kind == 0) {
    Value x = a.bound <= 2 ? a : Value{ir::unary(Op::Tanh, a.node), 1, false};
    return {ir::unary(Op::Exp, x.node), std::exp(x.bound), false};
  }
  if (kind == 1) return {ir::unary(Op::Sigmoid, a.node), 1, false};
  Value p = positive(a);
  return {ir::unary(Op::Log, p.node), std::max(1.0, std::log(p.bound)), false};
}

// max over the last dim (and sometimes others) of f(a), f from
// transcendental: max's backward recomputes f(a) in other kernels and must
// find the maximum among the results again. Half the time the softmax
// exp(f - max) / sum(...) built on it, as a model computes it.
Value ProgramGenerator::row_max(const Value &a) {
  if (a.node->rank() == 0) return unary(a);
  Value f = squash(transcendental(a));
  int64_t last = static_cast<int64_t>(a.node->rank()) - 1;
  std::vector<int64_t> dims = {rng_.percent(50) ? last : -1};
  if (last > 0 && rng_.percent(25))
    dims.insert(dims.begin(), static_cast<int64_t>(rng_.below(uint64_t(last))));
  if (rng_.percent(50))
    return {ir::reduce(Op::Max, f.node, dims, rng_.percent(50)), f.bound, false};
  NodeRef e =
      ir::unary(Op::Exp, ir::binary(Op::Sub, f.node, ir::reduce(Op::Max, f.node, dims, true)));
  return {ir::binary(Op::Div, e, ir::reduce(Op::Sum, e, dims, true)), 1, false};
}

// Merge two adjacent dims, split one, insert or drop a 1, or flatten; half
// the time of a permuted view, which strides cannot express.
Value ProgramGenerator::reshape(const Value &a) {
  NodeRef x = a.node;
  if (x->rank() >= 2 && rng_.percent(50)) x = ir::transpose(x);
  Shape s = x->shape;
  int kind = static_cast<int>(rng_.below(4));
  if (kind == 0 && s.size() >= 2) {
    size_t i = rng_.below(s.size() - 1);
    s[i] *= s[i + 1];
    s.erase(s.begin() + static_cast<long>(i) + 1);
  } else if (kind == 1 && !s.empty() && s.size() < static_cast<size_t>(options_.max_rank)) {
    size_t i = rng_.below(s.size());
    int64_t f = s[i] % 2 == 0 ? 2 : s[i] % 3 == 0 ? 3 : 1;
    s[i] /= std::max<int64_t>(f, 1);
    s.insert(s.begin() + static_cast<long>(i), f);
  } else if (kind == 2 && s.size() < static_cast<size_t>(options_.max_rank)) {
    s.insert(s.begin() + static_cast<long>(rng_.below(s.size() + 1)), 1);
  } else {
    s = {-1};
  }
  return {ir::reshape(x, s), a.bound, a.exact};
}

// Stretch dims of 1, sometimes under a new leading dim.
Value ProgramGenerator::expand(const Value &a) {
  Shape s = a.node->shape;
  for (int64_t &d : s)
    if (d == 1 && rng_.percent(60)) d = 2 + static_cast<int64_t>(rng_.below(4));
  if (s.size() < static_cast<size_t>(options_.max_rank) && rng_.percent(40))
    s.insert(s.begin(), 1 + static_cast<int64_t>(rng_.below(3)));
  return {ir::expand(a.node, s), a.bound, a.exact};
}

// numpy slicing (negative starts and steps, integer indices), a flip, an
// unfold, a squeeze, unsqueeze or flatten, or a gather.
Value ProgramGenerator::index_view(const Value &a) {
  const NodeRef &x = a.node;
  size_t rank = x->rank();
  int kind = static_cast<int>(rng_.below(5));
  if (kind == 4 && rank > 0) return gather(a);
  if (kind == 0) {
    std::vector<ir::IndexItem> items;
    for (size_t d = 0; d < rank && rng_.percent(80); ++d) {
      ir::IndexItem it;
      int64_t n = x->shape[d];
      if (n > 0 && rng_.percent(20)) {
        it.kind = ir::IndexItem::Integer;
        it.index = static_cast<int64_t>(rng_.below(uint64_t(n))) - (rng_.percent(50) ? n : 0);
      } else {
        auto bound = [&]() -> std::optional<int64_t> {
          if (rng_.percent(40)) return std::nullopt;
          return static_cast<int64_t>(rng_.below(uint64_t(n) + 2)) - (rng_.percent(30) ? n : 0);
        };
        it.start = bound(), it.stop = bound();
        it.step = (1 + static_cast<int64_t>(rng_.below(3))) * (rng_.percent(40) ? -1 : 1);
      }
      items.push_back(it);
    }
    return {ir::index(x, items), a.bound, a.exact};
  }
  if (kind == 1) {
    std::vector<int64_t> dims;
    for (size_t d = 0; d < rank; ++d)
      if (rng_.percent(50)) dims.push_back(static_cast<int64_t>(d));
    return {ir::flip(x, dims), a.bound, a.exact};
  }
  if (kind == 2 && rank > 0 && rank < static_cast<size_t>(options_.max_rank)) {
    int64_t d = static_cast<int64_t>(rng_.below(rank));
    int64_t n = x->shape[d];
    int64_t size = static_cast<int64_t>(rng_.below(uint64_t(std::min<int64_t>(n, 4)) + 1));
    return {ir::unfold(x, d, size, 1 + static_cast<int64_t>(rng_.below(3))), a.bound, a.exact};
  }
  int64_t r = static_cast<int64_t>(rank);
  if (rng_.percent(40) && rank < static_cast<size_t>(options_.max_rank))
    return {ir::unsqueeze(x, static_cast<int64_t>(rng_.below(rank + 1))), a.bound, a.exact};
  if (rank == 0 || rng_.percent(50))
    return {rank && rng_.percent(50) ? ir::squeeze(x, static_cast<int64_t>(rng_.below(rank)))
                                     : ir::squeeze(x),
            a.bound, a.exact};
  int64_t start = static_cast<int64_t>(rng_.below(rank));
  int64_t end = start + static_cast<int64_t>(rng_.below(uint64_t(r - start)));
  return {ir::flatten(x, start, end), a.bound, a.exact};
}

// np.pad with a constant, widths from -2 (a crop) to 2.
Value ProgramGenerator::pad(const Value &a) {
  const NodeRef &x = a.node;
  std::vector<std::pair<int64_t, int64_t>> widths;
  for (int64_t n : x->shape) {
    auto width = [&](int64_t room) {
      int64_t w = static_cast<int64_t>(rng_.below(5)) - 2;
      return std::max(w, -room);
    };
    int64_t before = width(n);
    widths.emplace_back(before, width(n + std::min<int64_t>(before, 0)));
  }
  Value fill = constant();
  return {ir::pad(x, widths, fill.node->value), std::max(a.bound, fill.bound), a.exact};
}

// cat of `a` with a new input, itself or a flip of itself, or a stack.
Value ProgramGenerator::join(const Value &a) {
  const NodeRef &x = a.node;
  size_t rank = x->rank();
  if (rank == 0) return pad(a);
  int64_t d = static_cast<int64_t>(rng_.below(rank));
  if (rng_.percent(30)) return {ir::stack({x, x}, d), a.bound, a.exact};
  std::vector<NodeRef> parts = {x};
  Value other = a;
  if (rng_.percent(50)) {
    Shape s = x->shape;
    s[d] = extent();
    other = new_input(s);
  } else if (rng_.percent(50)) {
    other = {ir::flip(x, {d}), a.bound, a.exact};
  }
  parts.push_back(other.node);
  if (rng_.percent(30)) parts.push_back(x);
  int64_t dim = rng_.percent(30) ? d - static_cast<int64_t>(rank) : d;
  return {ir::cat(parts, dim), std::max(a.bound, other.bound), a.exact && other.exact};
}

Value ProgramGenerator::view(const Value &a) {
  size_t rank = a.node->rank();
  int roll = static_cast<int>(rng_.below(10));
  if (roll == 4 || roll == 5) return index_view(a);
  if (roll == 6 || roll == 7) return pad(a);
  if (roll >= 8) return join(a);
  int kind = roll;
  if (kind == 0 && rank >= 2) {
    std::vector<int64_t> perm(rank);
    for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int64_t>(i);
    for (size_t i = rank - 1; i > 0; --i) std::swap(perm[i], perm[rng_.below(i + 1)]);
    return {ir::permute(a.node, perm), a.bound, a.exact};
  }
  if (kind == 1 && rank >= 2) return {ir::transpose(a.node), a.bound, a.exact};
  if (kind == 2) return expand(a);
  return reshape(a);
}

// a @ b for a new operand b (sometimes a transposed or flipped input, so its
// rows are strided), written with `@` or as the zip-then-reduce it is recognized from.
Value ProgramGenerator::matmul(const Value &given) {
  if (given.node->shape.empty()) return unary(given);
  // A flipped b, sometimes: negative strides in the GEMM's packing, which
  // only a product of 8 or more rows and columns takes (smaller ones stay
  // reductions), so that one is drawn large, over a new input if need be.
  const bool flipped = rng_.percent(15);
  Value a = given;
  if (flipped && (a.node->rank() < 2 || a.node->shape[a.node->rank() - 2] < 8))
    a = new_input({8 + static_cast<int64_t>(rng_.below(10)), given.node->shape.back()});
  const Shape &sa = a.node->shape;
  int64_t k = sa.back(), n = flipped ? 8 + static_cast<int64_t>(rng_.below(10)) : extent();
  Shape sb = {k, n};
  if (sa.size() >= 3 && rng_.percent(50)) {
    Shape batch(sa.begin(), sa.end() - 2);
    for (int64_t &d : batch)
      if (rng_.percent(30)) d = 1;
    sb.insert(sb.begin(), batch.begin(), batch.end());
  }
  NodeRef b;
  if (rng_.percent(30)) {
    std::swap(sb[sb.size() - 1], sb[sb.size() - 2]);
    b = ir::transpose(new_input(sb).node);
  } else {
    b = new_input(sb).node;
  }
  if (flipped) b = ir::flip(b, {rng_.percent(50) ? -1 : -2});
  double bound = a.bound * std::max<int64_t>(k, 1);
  if (sa.size() >= 2 && b->rank() == 2 && rng_.percent(50)) {
    // sum(a[..., m, k, 1] * b[k, n], -2), or over the last dim with b transposed.
    Shape s = sa;
    if (rng_.percent(50)) {
      s.push_back(1);
      NodeRef zip = ir::binary(Op::Mul, ir::reshape(a.node, s), b);
      return squash({ir::reduce(Op::Sum, zip, {-2}), bound, false});
    }
    s.insert(s.end() - 1, 1);
    NodeRef zip = ir::binary(Op::Mul, ir::reshape(a.node, s), ir::transpose(b));
    return squash({ir::reduce(Op::Sum, zip, {-1}), bound, false});
  }
  return squash({ir::matmul(a.node, b), bound, false});
}

// conv1d or conv2d (stride, padding or "same", dilation and groups drawn
// small), conv_transpose1d or 2d, or a max or average pool (ceil_mode, and
// count_include_pad), over `a` when it has the rank, else over a new input.
Value ProgramGenerator::conv(const Value &a) {
  const size_t spatial = rng_.percent(70) ? 2 : 1;
  Value x = a;
  if (a.node->rank() != spatial + 2 || a.node->numel() == 0) {
    Shape s = {1 + static_cast<int64_t>(rng_.below(2)), 1 + static_cast<int64_t>(rng_.below(4))};
    for (size_t d = 0; d < spatial; ++d) s.push_back(3 + static_cast<int64_t>(rng_.below(6)));
    x = new_input(s);
  }
  const Shape &xs = x.node->shape;
  int64_t smallest = *std::min_element(xs.begin() + 2, xs.end());
  auto draw = [&](int64_t most) { return 1 + static_cast<int64_t>(rng_.below(most)); };
  const int64_t k = draw(std::min<int64_t>(3, smallest));
  if (rng_.percent(30)) {
    ir::PoolParams p;
    p.kernel.assign(spatial, k);
    p.stride = {draw(2)};
    p.padding = {static_cast<int64_t>(rng_.below(static_cast<uint64_t>(k / 2 + 1)))};
    p.ceil_mode = rng_.percent(30);
    if (rng_.percent(50)) return {ir::max_pool(x.node, p), x.bound, x.exact};
    p.count_include_pad = rng_.percent(70);
    return {ir::avg_pool(x.node, p), x.bound, false};
  }
  ir::ConvParams p;
  const int64_t cin = xs[1];
  p.groups = cin % 2 == 0 && rng_.percent(30) ? 2 : 1;
  const int64_t cout = p.groups * draw(3);
  const bool transposed = rng_.percent(25);
  // A transposed conv splits by phase: stride 3 with a kernel under 3 gives
  // phases with fewer taps than others, and kernels shorter than the stride.
  p.stride = {draw(transposed ? 3 : 2)};
  p.padding = {static_cast<int64_t>(rng_.below(2))};
  p.dilation = {k > 1 && smallest >= 2 * k ? draw(2) : 1};
  if (transposed) {
    // output_padding below the stride; padding at most the kernel's reach,
    // so the output is never empty.
    p.output_padding = {static_cast<int64_t>(rng_.below(static_cast<uint64_t>(p.stride[0])))};
    p.padding = {std::min(p.padding[0], p.dilation[0] * (k - 1))};
  } else if (p.stride[0] == 1 && rng_.percent(20)) {
    p.same = true;
  }
  // conv's weight is [Cout, Cin / G, K...]; conv_transpose's [Cin, Cout / G, K...].
  Shape ws = transposed ? Shape{cin, cout / p.groups} : Shape{cout, cin / p.groups};
  ws.insert(ws.end(), spatial, k);
  NodeRef w = new_input(ws).node;
  NodeRef bias = rng_.percent(50) ? new_input({cout}).node : nullptr;
  // The products each output sums, at most.
  const int64_t terms = cin / p.groups * numel(Shape(spatial, k));
  double bound = x.bound * static_cast<double>(terms) + (bias ? 1 : 0);
  if (transposed) return squash({ir::conv_transpose(x.node, w, bias, p), bound, false});
  return squash({ir::conv(x.node, w, bias, p), bound, false});
}

// gather, index_select, scatter_add, index_add or argmax. The indices are computed in the graph and
// always in bounds: an input or an arange scaled, rounded and taken modulo
// the extent (Python's %, so in [0, n)), in i64 or i32.
Value ProgramGenerator::gather(const Value &a) {
  const NodeRef &x = a.node;
  auto d = static_cast<int64_t>(rng_.below(x->rank()));
  int64_t n = x->shape[static_cast<size_t>(d)];
  if (n == 0 || rng_.percent(15)) {
    NodeRef am = ir::arg_extreme(x, d, rng_.percent(40), rng_.percent(50));
    return {ir::cast(am, dtype_), static_cast<double>(n), true};
  }
  const DType t = rng_.percent(70) ? DType::I64 : DType::I32;
  auto indices = [&](const Shape &shape) {
    NodeRef q;
    if (rng_.percent(50)) {
      q = ir::cast(
          ir::unary(Op::Round, ir::binary(Op::Mul, new_input(shape).node, ir::constant(8, dtype_))),
          t);
    } else {
      Shape along(shape.size(), 1);
      size_t at = rng_.below(shape.size());
      along[at] = shape[at];
      NodeRef i = ir::binary(Op::Mul, ir::iota(shape[at]), ir::constant(3, DType::I64));
      q = ir::cast(ir::expand(ir::reshape(i, along), shape), t);
    }
    return ir::binary(Op::Mod, q, ir::constant(static_cast<double>(n), t));
  };
  if (rng_.percent(20)) {
    // A scatter into x of a new source: each element gains at most k terms.
    int64_t k = extent();
    if (x->numel() / n * k > kMaxNumel) k = 1;
    Shape shape = x->shape;
    shape[static_cast<size_t>(d)] = k;
    Value src = new_input(shape);
    if (rng_.percent(50))
      return {ir::index_add(x, d, indices({k}), src.node), a.bound + double(k) * src.bound, false};
    Shape covered = shape;
    for (size_t j = 0; j < shape.size(); ++j)
      covered[j] = static_cast<int64_t>(rng_.below(uint64_t(shape[j]) + 1));
    return {ir::scatter_add(x, d, indices(covered), src.node), a.bound + double(k) * src.bound,
            false};
  }
  if (rng_.percent(50)) {
    int64_t k = extent();
    return {ir::index_select(x, d, indices({k})), a.bound, a.exact};
  }
  Shape shape = x->shape;
  for (size_t j = 0; j < shape.size(); ++j)
    shape[j] = static_cast<int64_t>(j) == d
                   ? extent()
                   : static_cast<int64_t>(rng_.below(uint64_t(shape[j]) + 1));
  while (numel(shape) > kMaxNumel / 4) *std::max_element(shape.begin(), shape.end()) /= 2;
  return {ir::gather(x, d, indices(shape)), a.bound, a.exact};
}

Value ProgramGenerator::step(const Value &a) {
  int roll = static_cast<int>(rng_.below(100));
  if (roll < 20) return unary(a);
  if (roll < 42) return binary(a);
  if (roll < 47) return compare(a);
  if (roll < 52) return where(a);
  if (roll < 60) return integer(a);
  if (roll < 68) return reduce(a);
  if (roll < 76) return row_max(a);
  if (roll < 87) return view(a);
  if (roll < 93) return conv(a);
  return matmul(a);
}

Program ProgramGenerator::run() {
  size_t rank = rng_.below(static_cast<uint64_t>(options_.max_rank) + 1);
  pool_.push_back(new_input(random_shape(rank)));
  if (rng_.percent(50)) pool_.push_back(new_input(broadcast_partner(pool_[0].node->shape)));
  int ops =
      options_.min_ops +
      static_cast<int>(rng_.below(static_cast<uint64_t>(options_.max_ops - options_.min_ops) + 1));
  for (int i = 0; i < ops; ++i) {
    // A step that does not type-check is a gap in the rules above, not a
    // finding: skip it, deterministically, rather than lose the seed.
    try {
      Value v = step(pick_value());
      if (v.node->numel() <= kMaxNumel) pool_.push_back(v);
    } catch (const ShapeError &) {
    } catch (const ValueError &) {
    }
  }
  Program p;
  p.inputs = inputs_;
  for (const NodeRef &in : inputs_) p.bindings.emplace_back(in->name, in);
  std::vector<NodeRef> outs = {pool_.back().node};
  int extra = static_cast<int>(rng_.below(static_cast<uint64_t>(options_.max_outputs)));
  for (int i = 0; i < extra; ++i) {
    const NodeRef &v = pool_[rng_.below(pool_.size())].node;
    if (std::find(outs.begin(), outs.end(), v) == outs.end()) outs.push_back(v);
  }
  for (const NodeRef &v : integer_outputs_)
    if (std::find(outs.begin(), outs.end(), v) == outs.end()) outs.push_back(v);
  for (size_t i = 0; i < outs.size(); ++i) p.outputs.emplace_back("y" + std::to_string(i), outs[i]);
  return p;
}

}  // namespace

Program random_program(uint64_t seed, const RandomProgramOptions &options) {
  return ProgramGenerator(seed, options).run();
}

}  // namespace fusejit::difftest
