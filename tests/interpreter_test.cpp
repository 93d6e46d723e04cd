#include "runtime/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/strided_view.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::unary;

std::vector<double> values(const Buffer &b) { return b.to_vector<double>(); }

// a[i] = start + step * i, as f64 or f32.
Buffer ramp(DType t, Shape shape, double start = 1, double step = 1) {
  Buffer b(t, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i) b.set(i, start + step * static_cast<double>(i));
  return b;
}

// Evaluates one root with `bindings`, checking the result's type.
Buffer eval(const NodeRef &root, const Bindings &bindings = {}) {
  std::vector<Buffer> out = interpret({root}, bindings);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype(), root->dtype);
  EXPECT_EQ(out[0].shape(), root->shape);
  return out[0];
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

// ---- elementwise ops ----

TEST(Interpreter, UnaryOps) {
  NodeRef x = ir::input(DType::F64, {5}, "x");
  Bindings b{{x.get(), Buffer::from_vector<double>({-2, -0.5, 0, 0.5, 2}, {5})}};
  EXPECT_EQ(values(eval(unary(Op::Neg, x), b)), (std::vector<double>{2, 0.5, -0.0, -0.5, -2}));
  EXPECT_EQ(values(eval(unary(Op::Relu, x), b)), (std::vector<double>{0, 0, 0, 0.5, 2}));
  EXPECT_EQ(values(eval(unary(Op::Abs, x), b)), (std::vector<double>{2, 0.5, 0, 0.5, 2}));
  EXPECT_EQ(values(eval(unary(Op::Sigmoid, x), b))[2], 0.5);
  EXPECT_EQ(values(eval(unary(Op::Tanh, x), b))[2], 0.0);
  EXPECT_EQ(values(eval(unary(Op::Exp, x), b))[2], 1.0);
  std::vector<double> sig = values(eval(unary(Op::Sigmoid, x), b));
  EXPECT_DOUBLE_EQ(sig[4], 1 / (1 + std::exp(-2.0)));
  EXPECT_DOUBLE_EQ(sig[0] + sig[4], 1.0);  // sigmoid(-x) = 1 - sigmoid(x)
  EXPECT_DOUBLE_EQ(values(eval(unary(Op::Tanh, x), b))[4], std::tanh(2.0));
  EXPECT_DOUBLE_EQ(values(eval(unary(Op::Exp, x), b))[4], std::exp(2.0));

  NodeRef p = ir::input(DType::F64, {3}, "p");
  Bindings bp{{p.get(), Buffer::from_vector<double>({0.25, 1, 4}, {3})}};
  EXPECT_EQ(values(eval(unary(Op::Sqrt, p), bp)), (std::vector<double>{0.5, 1, 2}));
  EXPECT_EQ(values(eval(unary(Op::Inv, p), bp)), (std::vector<double>{4, 1, 0.25}));
  std::vector<double> logs = values(eval(unary(Op::Log, p), bp));
  EXPECT_DOUBLE_EQ(logs[0], -2 * std::log(2.0));
  EXPECT_EQ(logs[1], 0.0);
}

TEST(Interpreter, BinaryOps) {
  NodeRef a = ir::input(DType::F64, {4}, "a"), b = ir::input(DType::F64, {4}, "b");
  Bindings bind{{a.get(), Buffer::from_vector<double>({1, 2, 3, 4}, {4})},
                {b.get(), Buffer::from_vector<double>({2, 2, 5, -1}, {4})}};
  auto run = [&](Op op) { return values(eval(binary(op, a, b), bind)); };
  EXPECT_EQ(run(Op::Add), (std::vector<double>{3, 4, 8, 3}));
  EXPECT_EQ(run(Op::Sub), (std::vector<double>{-1, 0, -2, 5}));
  EXPECT_EQ(run(Op::Mul), (std::vector<double>{2, 4, 15, -4}));
  EXPECT_EQ(run(Op::Div), (std::vector<double>{0.5, 1, 0.6, -4}));
  EXPECT_EQ(run(Op::Lt), (std::vector<double>{1, 0, 1, 0}));
  EXPECT_EQ(run(Op::Gt), (std::vector<double>{0, 0, 0, 1}));
  EXPECT_EQ(run(Op::Eq), (std::vector<double>{0, 1, 0, 0}));
  EXPECT_EQ(run(Op::Maximum), (std::vector<double>{2, 2, 5, 4}));
  EXPECT_EQ(run(Op::Minimum), (std::vector<double>{1, 2, 3, -1}));
  EXPECT_EQ(run(Op::Pow), (std::vector<double>{1, 4, 243, 0.25}));
}

TEST(Interpreter, ComparisonsGiveBool) {
  NodeRef a = ir::input(DType::F32, {3}, "a");
  NodeRef lt = binary(Op::Lt, a, ir::constant(0.5, DType::F32));
  Buffer out = eval(lt, {{a.get(), Buffer::from_vector<float>({0, 0.5f, 1}, {3})}});
  EXPECT_EQ(out.dtype(), DType::Bool);
  EXPECT_EQ(out.to_vector<bool>(), (std::vector<bool>{true, false, false}));
}

TEST(Interpreter, NanPropagatesThroughReluMaximumAndMax) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  NodeRef x = ir::input(DType::F64, {2}, "x");
  Bindings b{{x.get(), Buffer::from_vector<double>({nan, 1}, {2})}};
  EXPECT_TRUE(std::isnan(values(eval(unary(Op::Relu, x), b))[0]));
  EXPECT_TRUE(std::isnan(values(eval(binary(Op::Maximum, ir::constant(0, DType::F64), x), b))[0]));
  EXPECT_TRUE(std::isnan(values(eval(binary(Op::Minimum, x, ir::constant(0, DType::F64)), b))[0]));
  EXPECT_TRUE(std::isnan(values(eval(ir::reduce(Op::Max, x, {}), b))[0]));
}

TEST(Interpreter, WhereBroadcastsAllThree) {
  NodeRef c = ir::input(DType::F64, {3, 1}, "c"), x = ir::input(DType::F64, {1, 2}, "x");
  NodeRef w = ir::where(c, x, ir::constant(-1, DType::F64));
  Buffer out = eval(w, {{c.get(), Buffer::from_vector<double>({1, 0, 0.5}, {3, 1})},
                        {x.get(), Buffer::from_vector<double>({7, 8}, {1, 2})}});
  EXPECT_EQ(out.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(out), (std::vector<double>{7, 8, -1, -1, 7, 8}));
}

// ---- the seed example ----

TEST(Interpreter, SeedExampleZipThenReduce) {
  NodeRef a = ir::input(DType::F32, {2, 3, 1}, "a"), b = ir::input(DType::F32, {3, 2}, "b");
  NodeRef c = ir::reduce(Op::Sum, binary(Op::Mul, a, b), {1});
  NodeRef d = binary(Op::Add, unary(Op::Relu, c), ir::constant(0.5, DType::F32));
  Bindings bind{{a.get(), ramp(DType::F32, {2, 3, 1})}, {b.get(), ramp(DType::F32, {3, 2})}};
  // c[i][j] = sum_k a[i][k] * b[k][j] with a = [[1,2,3],[4,5,6]], b = [[1,2],[3,4],[5,6]].
  std::vector<Buffer> out = interpret({c, d}, bind);
  EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(out[0].to_vector<float>(), (std::vector<float>{22, 28, 49, 64}));
  EXPECT_EQ(out[1].to_vector<float>(), (std::vector<float>{22.5, 28.5, 49.5, 64.5}));
}

// ---- broadcasting, as in minitorch's tests ----

// Checks a + b against a loop over the broadcast shape written out by hand
// for rank <= 4 (shapes padded on the left with 1s).
void check_broadcast_add(const Shape &sa, const Shape &sb, const Shape &expected) {
  SCOPED_TRACE(shape_str(sa) + " + " + shape_str(sb));
  NodeRef a = ir::input(DType::F64, sa, "a"), b = ir::input(DType::F64, sb, "b");
  Buffer va = ramp(DType::F64, sa, 1, 1), vb = ramp(DType::F64, sb, 100, 100);
  Buffer out = eval(binary(Op::Add, a, b), {{a.get(), va}, {b.get(), vb}});
  ASSERT_EQ(out.shape(), expected);
  auto pad = [](Shape s) {
    while (s.size() < 4) s.insert(s.begin(), 1);
    return s;
  };
  Shape pa = pad(sa), pb = pad(sb), po = pad(expected);
  auto at = [](const Buffer &v, const Shape &s, int64_t i, int64_t j, int64_t k, int64_t l) {
    auto pick = [](int64_t x, int64_t extent) { return extent == 1 ? 0 : x; };
    int64_t pos =
        ((pick(i, s[0]) * s[1] + pick(j, s[1])) * s[2] + pick(k, s[2])) * s[3] + pick(l, s[3]);
    return v.get(pos);
  };
  int64_t o = 0;
  for (int64_t i = 0; i < po[0]; ++i)
    for (int64_t j = 0; j < po[1]; ++j)
      for (int64_t k = 0; k < po[2]; ++k)
        for (int64_t l = 0; l < po[3]; ++l, ++o)
          ASSERT_EQ(out.get(o), at(va, pa, i, j, k, l) + at(vb, pb, i, j, k, l)) << o;
}

TEST(Interpreter, BroadcastsLikeNumpy) {
  check_broadcast_add({1}, {5, 5}, {5, 5});
  check_broadcast_add({5, 5}, {1}, {5, 5});
  check_broadcast_add({1, 5, 5}, {5, 5}, {1, 5, 5});
  check_broadcast_add({5, 1, 5, 1}, {1, 5, 1, 5}, {5, 5, 5, 5});
  check_broadcast_add({2, 3, 1}, {3, 2}, {2, 3, 2});
  check_broadcast_add({}, {2, 3}, {2, 3});
  check_broadcast_add({4, 1}, {0}, {4, 0});
}

// ---- views of views: permuted, expanded, reshaped ----

TEST(Interpreter, PermuteThenAdd) {
  NodeRef a = ir::input(DType::F64, {2, 3}, "a"), b = ir::input(DType::F64, {3, 2}, "b");
  NodeRef s = binary(Op::Add, ir::permute(a, {1, 0}), b);
  Buffer out =
      eval(s, {{a.get(), ramp(DType::F64, {2, 3})}, {b.get(), ramp(DType::F64, {3, 2}, 10, 10)}});
  // aT = [[1,4],[2,5],[3,6]]
  EXPECT_EQ(values(out), (std::vector<double>{11, 24, 32, 45, 53, 66}));
}

TEST(Interpreter, PermuteThenReshapeReadsInPermutedOrder) {
  NodeRef a = ir::input(DType::F32, {2, 3}, "a");
  NodeRef flat = ir::reshape(ir::transpose(a), {6});
  Buffer out = eval(flat, {{a.get(), ramp(DType::F32, {2, 3})}});
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // And back into two dims, then permuted again.
  NodeRef back = ir::permute(ir::reshape(ir::transpose(a), {2, 3}), {1, 0});
  EXPECT_EQ(eval(back, {{a.get(), ramp(DType::F32, {2, 3})}}).to_vector<float>(),
            (std::vector<float>{1, 5, 4, 3, 2, 6}));
}

TEST(Interpreter, ExpandThenSum) {
  NodeRef a = ir::input(DType::F64, {3}, "a");
  NodeRef e = ir::expand(a, {4, 3});
  Bindings b{{a.get(), ramp(DType::F64, {3})}};
  EXPECT_EQ(values(eval(ir::reduce(Op::Sum, e, {0}), b)), (std::vector<double>{4, 8, 12}));
  EXPECT_EQ(values(eval(ir::reduce(Op::Sum, e, {1}), b)), (std::vector<double>{6, 6, 6, 6}));
  // An expanded dim of extent 1 and a constant expanded by `full`.
  NodeRef col = ir::input(DType::F64, {2, 1}, "col");
  NodeRef sum = binary(Op::Add, ir::expand(col, {2, 3}), ir::full(0.5, DType::F64, {2, 3}));
  EXPECT_EQ(values(eval(sum, {{col.get(), ramp(DType::F64, {2, 1})}})),
            (std::vector<double>{1.5, 1.5, 1.5, 2.5, 2.5, 2.5}));
}

TEST(StridedView, ReshapeCopiesOnlyWhenStridesCannotExpressIt) {
  Buffer b = ramp(DType::F64, {2, 3});
  StridedView v = view_of(b);
  EXPECT_EQ(reshape_view(v, {3, 2}).storage, b.storage());
  StridedView t = permute_view(v, {1, 0});
  EXPECT_FALSE(is_contiguous(t));
  EXPECT_EQ(t.strides, (Strides{1, 3}));
  StridedView r = reshape_view(t, {6});
  EXPECT_NE(r.storage, b.storage());
  EXPECT_EQ(values(materialize(r)), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  // Dims of extent 1 do not break contiguity, whatever their stride.
  EXPECT_TRUE(is_contiguous(permute_view(view_of(ramp(DType::F64, {1, 3})), {1, 0})));
  EXPECT_TRUE(is_contiguous(expand_view(view_of(ramp(DType::F64, {3})), {1, 3})));
  EXPECT_EQ(expand_view(view_of(ramp(DType::F64, {3, 1})), {2, 3, 4}).strides, (Strides{0, 1, 0}));
}

// ---- reductions ----

// sum/max/mean of a [2, 3, 4] ramp over one dim, checked by explicit loops.
TEST(Interpreter, ReductionsOverEachDimWithAndWithoutKeepdim) {
  NodeRef x = ir::input(DType::F64, {2, 3, 4}, "x");
  Buffer v = ramp(DType::F64, {2, 3, 4}, -5, 0.75);
  Bindings b{{x.get(), v}};
  auto at = [&](int64_t i, int64_t j, int64_t k) { return v.get((i * 3 + j) * 4 + k); };
  const Shape extents{2, 3, 4};
  for (Op op : {Op::Sum, Op::Max, Op::Mean})
    for (int64_t dim : {0, 1, 2, -1})
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(std::string(op_name(op)) + " dim " + std::to_string(dim) +
                     (keepdim ? " keepdim" : ""));
        Buffer out = eval(ir::reduce(op, x, {dim}, keepdim), b);
        int64_t d = dim < 0 ? dim + 3 : dim;
        Shape want = extents;
        if (keepdim)
          want[d] = 1;
        else
          want.erase(want.begin() + d);
        ASSERT_EQ(out.shape(), want);
        int64_t o = 0;
        for (int64_t i = 0; i < (d == 0 ? 1 : 2); ++i)
          for (int64_t j = 0; j < (d == 1 ? 1 : 3); ++j)
            for (int64_t k = 0; k < (d == 2 ? 1 : 4); ++k, ++o) {
              double acc = op == Op::Max ? -INFINITY : 0;
              for (int64_t r = 0; r < extents[d]; ++r) {
                double e = at(d == 0 ? r : i, d == 1 ? r : j, d == 2 ? r : k);
                acc = op == Op::Max ? std::max(acc, e) : acc + e;
              }
              if (op == Op::Mean) acc /= static_cast<double>(extents[d]);
              EXPECT_DOUBLE_EQ(out.get(o), acc) << o;
            }
      }
}

TEST(Interpreter, ReductionsOverSeveralAndAllDims) {
  NodeRef x = ir::input(DType::F64, {2, 3, 4}, "x");
  Bindings b{{x.get(), ramp(DType::F64, {2, 3, 4}, 0, 1)}};
  // sum over dims 0 and 2: for each j, sum_i sum_k (12 i + 4 j + k) = 12 + 32 j + 12 ... by hand:
  // 4 * 12 * 1 (i = 1 row) + 2 * 4 * 4 j + 2 * (0+1+2+3) = 48 + 32 j + 12.
  Buffer s = eval(ir::reduce(Op::Sum, x, {0, -1}), b);
  EXPECT_EQ(values(s), (std::vector<double>{60, 92, 124}));
  Buffer all = eval(ir::reduce(Op::Sum, x, {}), b);
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_EQ(values(all), (std::vector<double>{276}));
  Buffer all_kept = eval(ir::reduce(Op::Max, x, {}, true), b);
  EXPECT_EQ(all_kept.shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(values(all_kept), (std::vector<double>{23}));
  EXPECT_EQ(values(eval(ir::reduce(Op::Mean, x, {}), b)), (std::vector<double>{11.5}));
}

TEST(Interpreter, ReductionsOfZeroElements) {
  NodeRef x = ir::input(DType::F32, {0, 3}, "x");
  Bindings b{{x.get(), Buffer(DType::F32, {0, 3})}};
  EXPECT_EQ(eval(ir::reduce(Op::Sum, x, {0}), b).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  for (float m : eval(ir::reduce(Op::Max, x, {0}), b).to_vector<float>())
    EXPECT_EQ(m, -std::numeric_limits<float>::infinity());
  for (float m : eval(ir::reduce(Op::Mean, x, {0}), b).to_vector<float>())
    EXPECT_TRUE(std::isnan(m));
  // Reducing the non-empty dim leaves an empty result.
  EXPECT_EQ(eval(ir::reduce(Op::Sum, x, {1}), b).shape(), (Shape{0}));
  EXPECT_EQ(eval(ir::reduce(Op::Sum, x, {1}, true), b).shape(), (Shape{0, 1}));
}

// ---- matmul ----

// out[b..., m, n] = sum_k a[b..., m, k] * bb[b..., k, n] with broadcast batch dims, by loops.
std::vector<double> naive_batched_matmul(const Buffer &a, const Buffer &b, int64_t batch_a,
                                         int64_t batch_b, int64_t m, int64_t k, int64_t n) {
  // Batch broadcasting here: one side has batch 1 or both agree.
  int64_t batch = std::max(batch_a, batch_b);
  std::vector<double> out;
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double acc = 0;
        for (int64_t x = 0; x < k; ++x)
          acc += a.get(((batch_a == 1 ? 0 : i) * m + r) * k + x) *
                 b.get(((batch_b == 1 ? 0 : i) * k + x) * n + c);
        out.push_back(acc);
      }
  return out;
}

TEST(Interpreter, MatmulWithBroadcastBatch) {
  for (DType t : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(t));
    NodeRef a = ir::input(t, {1, 3, 4}, "a"), b = ir::input(t, {5, 4, 2}, "b");
    Buffer va = ramp(t, {1, 3, 4}, -1, 0.25), vb = ramp(t, {5, 4, 2}, 2, -0.125);
    Buffer out = eval(ir::matmul(a, b), {{a.get(), va}, {b.get(), vb}});
    EXPECT_EQ(out.shape(), (Shape{5, 3, 2}));
    std::vector<double> want = naive_batched_matmul(va, vb, 1, 5, 3, 4, 2);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(out.get(static_cast<int64_t>(i)),
                t == DType::F32 ? static_cast<float>(want[i]) : want[i]);
  }
}

TEST(Interpreter, MatmulOfTransposedViewsAndMissingBatchDims) {
  // a [3, 2] seen as aT [2, 3]; b [4, 3, 5] with a's batch dim absent.
  NodeRef a = ir::input(DType::F64, {3, 2}, "a"), b = ir::input(DType::F64, {4, 3, 5}, "b");
  Buffer va = ramp(DType::F64, {3, 2}), vb = ramp(DType::F64, {4, 3, 5}, 0, 0.5);
  Buffer out = eval(ir::matmul(ir::transpose(a), b), {{a.get(), va}, {b.get(), vb}});
  EXPECT_EQ(out.shape(), (Shape{4, 2, 5}));
  Buffer at = Buffer::from_vector<double>({1, 3, 5, 2, 4, 6}, {2, 3});
  EXPECT_EQ(values(out), naive_batched_matmul(at, vb, 1, 4, 2, 3, 5));
  // A vector on the left: numpy's 1-D rule.
  NodeRef v = ir::input(DType::F64, {3}, "v");
  Buffer row = eval(ir::matmul(v, a), {{v.get(), ramp(DType::F64, {3})}, {a.get(), va}});
  EXPECT_EQ(values(row), (std::vector<double>{22, 28}));
}

// ---- floating point policy ----

TEST(Interpreter, F32ReductionsAccumulateInDoubleAndRoundOnce) {
  NodeRef x = ir::input(DType::F32, {3}, "x");
  // In f32, 1e8 + 1 == 1e8; accumulating in double keeps the 1.
  Buffer out = eval(ir::reduce(Op::Sum, x, {}),
                    {{x.get(), Buffer::from_vector<float>({1e8f, 1, -1e8f}, {3})}});
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1}));
  // Elementwise ops round once per op: (1 + 1e-8) - 1 is 0 in f32 and not in f64.
  for (DType t : {DType::F32, DType::F64}) {
    NodeRef y = ir::input(t, {}, "y");
    NodeRef e = binary(Op::Sub, binary(Op::Add, y, ir::constant(1e-8, t)), y);
    Buffer one = Buffer(t, {});
    one.set(0, 1);
    double r = eval(e, {{y.get(), one}}).get(0);
    if (t == DType::F32)
      EXPECT_EQ(r, 0.0);
    else
      EXPECT_NE(r, 0.0);
  }
}

// ---- where values come from ----

TEST(Interpreter, MissingInputIsAValueErrorNamingIt) {
  NodeRef a = ir::input(DType::F32, {2, 3}, "a");
  std::string msg = error_of([&] { interpret({unary(Op::Exp, a)}); });
  EXPECT_EQ(msg, "input 'a' (f32[2, 3]) has no value");
  EXPECT_THROW(interpret({unary(Op::Exp, a)}), ValueError);
}

TEST(Interpreter, WronglyTypedBindingIsAShapeErrorNamingBoth) {
  NodeRef a = ir::input(DType::F32, {2, 3}, "a");
  EXPECT_THROW(interpret({a}, {{a.get(), ramp(DType::F64, {2, 3})}}), ShapeError);
  std::string msg = error_of([&] { interpret({a}, {{a.get(), ramp(DType::F32, {3, 2})}}); });
  EXPECT_NE(msg.find("f32[2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[3, 2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'a'"), std::string::npos) << msg;
}

TEST(Interpreter, AttachedValuesAreUsedAndNotRecomputed) {
  NodeRef a = ir::input(DType::F64, {2}, "a");
  NodeRef e = unary(Op::Exp, a);
  // Not exp of anything: if it were recomputed, the result would differ (and
  // `a` has no value, so recomputing it would fail).
  attach_buffer(*e, Buffer::from_vector<double>({10, 20}, {2}));
  NodeRef y = binary(Op::Sub, unary(Op::Relu, e), ir::constant(1, DType::F64));
  InterpretStats stats;
  std::vector<Buffer> out = interpret({y}, {}, &stats);
  EXPECT_EQ(values(out[0]), (std::vector<double>{9, 19}));
  EXPECT_EQ(stats.nodes_computed, 3u);  // relu, the constant, the subtraction

  // An input's attached value serves when it is not bound; a binding wins.
  NodeRef b = ir::input(DType::F64, {2}, "b");
  attach_buffer(*b, Buffer::from_vector<double>({1, 2}, {2}));
  EXPECT_EQ(values(eval(unary(Op::Neg, b))), (std::vector<double>{-1, -2}));
  EXPECT_EQ(values(eval(unary(Op::Neg, b), {{b.get(), Buffer::from_vector<double>({5, 6}, {2})}})),
            (std::vector<double>{-5, -6}));
}

TEST(Interpreter, ResultsNeverAliasInputsOrEachOther) {
  NodeRef a = ir::input(DType::F64, {2, 2}, "a");
  Buffer va = ramp(DType::F64, {2, 2});
  NodeRef twice = binary(Op::Mul, a, ir::constant(2, DType::F64));
  std::vector<Buffer> out =
      interpret({a, ir::transpose(a), twice, twice, ir::reshape(twice, {4})}, {{a.get(), va}});
  for (Buffer &b : out) {
    EXPECT_NE(b.storage(), va.storage());
    b.set(0, -100);
  }
  EXPECT_EQ(values(va), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values(out[1]), (std::vector<double>{-100, 3, 2, 4}));
  EXPECT_EQ(values(out[3]), (std::vector<double>{-100, 4, 6, 8}));
  EXPECT_EQ(values(out[4]), (std::vector<double>{-100, 4, 6, 8}));
}

TEST(Interpreter, LongChainsKeepFewValuesAlive) {
  NodeRef x = ir::input(DType::F64, {1000}, "x");
  NodeRef y = x;
  for (int i = 0; i < 2000; ++i)
    y = i % 2 ? unary(Op::Neg, y) : binary(Op::Add, y, ir::constant(1, DType::F64));
  InterpretStats stats;
  std::vector<Buffer> out = interpret({y}, {{x.get(), Buffer::zeros(DType::F64, {1000})}}, &stats);
  // Each add/neg pair maps v to -(v + 1): after 1000 pairs, from 0 the value is 0.
  EXPECT_EQ(out[0].get(999), 0.0);
  EXPECT_EQ(stats.nodes_computed, 2001u);  // 1000 adds, 1000 negs, one shared constant
  EXPECT_LE(stats.peak_live_values, 4u);
}

TEST(Interpreter, DeepGraphsDoNotOverflowTheStack) {
  NodeRef x = ir::input(DType::F32, {}, "x");
  NodeRef y = x;
  for (int i = 0; i < 200000; ++i) y = unary(Op::Neg, y);
  Buffer one(DType::F32, {});
  one.set(0, 1);
  EXPECT_EQ(eval(y, {{x.get(), one}}).get(0), 1.0);
}

}  // namespace
}  // namespace fusejit
