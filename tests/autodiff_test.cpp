// Central-difference gradient checks of engine/autodiff in f64: every op and
// several op pairs, on broadcast and permuted inputs, comparing EVERY element
// of every gradient. Inputs stay away from kinks (relu and abs at 0, ties of
// max/maximum) so the finite difference is the derivative.
#include "engine/autodiff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "engine/pipeline.h"
#include "engine/realize.h"
#include "engine/tensor.h"
#include "examples/mlp.h"
#include "ir/graph.h"
#include "runtime/compare.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"
#include "scoped_defaults.h"

namespace fusejit {
namespace {

using Build = std::function<NodeRef(const std::vector<NodeRef> &)>;

Buffer uniform(Shape shape, double lo, double hi, uint64_t seed) {
  Generator g(seed);
  return random_uniform(DType::F64, std::move(shape), g, lo, hi);
}

// Magnitudes in [0.2, 1.5] with random signs: no element near 0.
Buffer away_from_zero(const Shape &shape, uint64_t seed) {
  Buffer b = uniform(shape, 0.2, 1.5, seed);
  Generator g(seed + 1000);
  for (int64_t i = 0; i < b.numel(); ++i)
    if (g.uniform() < 0.5) b.set(i, -b.get(i));
  return b;
}

// Distinct values 0.1 apart, shuffled, plus `offset`: no ties and no zeros
// (all are 0.025 off a multiple of 0.05), and two such buffers with offsets
// differing by 0.05 never tie with each other.
Buffer distinct(Shape shape, uint64_t seed, double offset = 0.0) {
  Buffer b(DType::F64, std::move(shape));
  std::vector<int64_t> k(static_cast<size_t>(b.numel()));
  std::iota(k.begin(), k.end(), 0);
  std::shuffle(k.begin(), k.end(), std::mt19937_64(seed));
  for (int64_t i = 0; i < b.numel(); ++i)
    b.set(i, 0.1 * static_cast<double>(k[i]) - 0.975 + offset);
  return b;
}

// Checks gradients(f(xs), xs, seed) against central differences of
// sum(f(xs) * seed) for every element of every input (seed = ones if not
// `with_seed`).
void expect_gradients_match(const Build &f, const std::vector<Buffer> &values,
                            bool with_seed = true) {
  const double h = 1e-6, rtol = 1e-6, atol = 1e-8;
  std::vector<NodeRef> xs;
  Bindings bind;
  for (const Buffer &v : values) {
    xs.push_back(ir::input(DType::F64, v.shape()));
    bind[xs.back().get()] = v;
  }
  NodeRef root = f(xs);
  NodeRef seed;
  Buffer seed_value = uniform(root->shape, -1, 1, 99);
  if (with_seed) {
    seed = ir::input(DType::F64, root->shape, "seed");
    bind[seed.get()] = seed_value;
  }
  std::vector<NodeRef> grads = gradients(root, xs, seed);
  std::vector<Buffer> analytic = interpret(grads, bind);

  auto loss = [&](const Bindings &b) {
    Buffer out = interpret({root}, b)[0];
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += out.get(i) * (with_seed ? seed_value.get(i) : 1);
    return s;
  };
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(analytic[i].shape(), values[i].shape()) << "gradient " << i;
    for (int64_t j = 0; j < values[i].numel(); ++j) {
      Bindings b = bind;
      Buffer moved = values[i].clone();
      b[xs[i].get()] = moved;
      double v = values[i].get(j);
      moved.set(j, v + h);
      double up = loss(b);
      moved.set(j, v - h);
      double down = loss(b);
      double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[i].get(j), numeric, atol + rtol * std::abs(numeric))
          << "d/d input " << i << " element " << j << " of " << op_name(root->op);
    }
  }
}

NodeRef un(Op op, NodeRef x) { return ir::unary(op, std::move(x)); }
NodeRef bin(Op op, NodeRef a, NodeRef b) { return ir::binary(op, std::move(a), std::move(b)); }

TEST(Autodiff, EveryUnaryOpOnPermutedAndExpandedInputs) {
  for (Op op :
       {Op::Neg, Op::Exp, Op::Log, Op::Relu, Op::Sigmoid, Op::Tanh, Op::Sqrt, Op::Abs, Op::Inv}) {
    SCOPED_TRACE(op_name(op));
    bool positive = op == Op::Log || op == Op::Sqrt;
    Buffer x = positive ? uniform({3, 4}, 0.5, 2.0, 1) : away_from_zero({3, 4}, 1);
    expect_gradients_match([&](auto &v) { return un(op, ir::permute(v[0], {1, 0})); }, {x});
    Buffer y = positive ? uniform({3, 1}, 0.5, 2.0, 2) : away_from_zero({3, 1}, 2);
    expect_gradients_match(
        [&](auto &v) {
          return un(op, ir::expand(v[0], {2, 3, 4}));
        },
        {y}, false);
  }
}

TEST(Autodiff, EveryBinaryOpBroadcastAndPermuted) {
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Maximum, Op::Minimum, Op::Pow}) {
    SCOPED_TRACE(op_name(op));
    Buffer a = distinct({2, 1, 3}, 1), b = distinct({4, 1}, 2, 0.05);
    if (op == Op::Div) b = away_from_zero({4, 1}, 2);
    if (op == Op::Pow) a = uniform({2, 1, 3}, 0.5, 2.0, 1), b = uniform({4, 1}, -1.5, 1.5, 2);
    expect_gradients_match([&](auto &v) { return bin(op, v[0], v[1]); }, {a, b});
    // A permuted operand against a plain one, and the broadcast the other way.
    Buffer p = op == Op::Pow ? uniform({3, 2}, 0.5, 2.0, 3) : distinct({3, 2}, 3);
    Buffer q = op == Op::Pow ? uniform({2, 3}, -1.5, 1.5, 4) : distinct({2, 3}, 4, 0.05);
    if (op == Op::Div) q = away_from_zero({2, 3}, 4);
    expect_gradients_match(
        [&](auto &v) {
          return bin(op, ir::permute(v[0], {1, 0}), v[1]);
        },
        {p, q});
    expect_gradients_match([&](auto &v) { return bin(op, v[1], v[0]); }, {a, b}, false);
  }
}

TEST(Autodiff, ComparisonsHaveZeroGradient) {
  // A comparison gives bool; cast back to f64, it is a function whose
  // gradient is zero wherever it is defined.
  for (Op op : {Op::Lt, Op::Gt, Op::Eq, Op::Le, Op::Ge, Op::Ne}) {
    SCOPED_TRACE(op_name(op));
    Buffer a = distinct({2, 3}, 1), b = distinct({3}, 2, 0.05);
    auto cmp = [op](auto &v) { return ir::cast(bin(op, v[0], v[1]), DType::F64); };
    expect_gradients_match(cmp, {a, b});
    expect_gradients_match([&](auto &v) { return bin(Op::Mul, cmp(v), bin(Op::Mul, v[0], v[1])); },
                           {a, b});
  }
}

TEST(Autodiff, WhereRoutesToTheSelectedOperandAndNotTheCondition) {
  Buffer c = away_from_zero({2, 1, 3}, 1), x = uniform({4, 1}, -1, 1, 2),
         y = uniform({2, 4, 3}, -1, 1, 3);
  // The condition is computed from an input (away from 0), so perturbing it
  // never flips a branch: its numeric gradient is 0, as the rule says.
  expect_gradients_match(
      [](auto &v) { return ir::where(bin(Op::Gt, v[0], ir::constant(0, DType::F64)), v[1], v[2]); },
      {c, x, y});
  expect_gradients_match(
      [](auto &v) {
        return ir::where(bin(Op::Gt, v[0], ir::constant(0, DType::F64)),
                         ir::permute(v[2], {2, 1, 0}), v[1]);
      },
      {away_from_zero({3, 4, 2}, 4), uniform({4, 1}, -1, 1, 5), uniform({2, 4, 3}, -1, 1, 6)});
}

TEST(Autodiff, ReductionsOverEveryDimChoiceWithAndWithoutKeepdim) {
  std::vector<std::vector<int64_t>> dim_sets = {{}, {1}, {0, 2}, {-1}, {0, 1, 2}};
  for (Op op : {Op::Sum, Op::Mean, Op::Max})
    for (const auto &dims : dim_sets)
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(std::string(op_name(op)) + " dims " + shape_str(dims) +
                     (keepdim ? " keepdim" : ""));
        expect_gradients_match(
            [&](auto &v) {
              return ir::reduce(op, ir::permute(v[0], {2, 0, 1}), dims, keepdim);
            },
            {distinct({2, 3, 4}, 7)});
      }
}

TEST(Autodiff, ViewsReshapeBackInversePermuteAndSumExpandedDims) {
  Buffer x = uniform({2, 3, 4}, -1, 1, 1);
  expect_gradients_match([](auto &v) { return ir::reshape(v[0], {4, 6}); }, {x});
  expect_gradients_match([](auto &v) { return ir::permute(v[0], {2, 0, 1}); }, {x});
  expect_gradients_match([](auto &v) { return ir::transpose(v[0]); }, {x});
  expect_gradients_match(
      [](auto &v) {
        return ir::reshape(ir::permute(v[0], {1, 0, 2}), {-1});
      },
      {x});
  expect_gradients_match(
      [](auto &v) {
        return ir::expand(v[0], {5, 3, 4});
      },
      {uniform({3, 1}, -1, 1, 2)});
  expect_gradients_match(
      [](auto &v) {
        return ir::permute(ir::expand(v[0], {2, 3, 4}), {2, 1, 0});
      },
      {uniform({1, 3, 1}, -1, 1, 3)});
}

ir::IndexItem range_item(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  ir::IndexItem it;
  it.start = start, it.stop = stop, it.step = step;
  return it;
}

TEST(Autodiff, SlicesAndFlipsPadTheirGradientBackIntoPlace) {
  Buffer x = uniform({5, 7}, -1, 1, 4);
  expect_gradients_match(
      [](auto &v) {
        return ir::index(v[0], {range_item(1, 4, 1), range_item(std::nullopt, std::nullopt, -2)});
      },
      {x});
  expect_gradients_match(
      [](auto &v) {
        return ir::index(v[0], {range_item(-1, 0, -3), range_item(1, 7, 3)});
      },
      {x});
  expect_gradients_match([](auto &v) { return ir::flip(v[0], {0, 1}); }, {x});
  expect_gradients_match([](auto &v) { return ir::slice_dim(ir::transpose(v[0]), 0, 2, 6, 2); },
                         {x});
}

TEST(Autodiff, PadsSliceTheirGradientAndCatsSplitIt) {
  Buffer a = uniform({3, 4}, -1, 1, 5), b = uniform({2, 4}, -1, 1, 6);
  expect_gradients_match([](auto &v) { return ir::pad(v[0], {{1, 2}, {-1, 1}}, 3.0); }, {a});
  expect_gradients_match(
      [](auto &v) {
        return ir::pad(ir::unary(Op::Exp, v[0]), {{0, 1}, {2, 0}}, -1.0);
      },
      {a});
  expect_gradients_match([](auto &v) { return ir::cat({v[0], v[1], v[0]}, 0); }, {a, b});
  expect_gradients_match([](auto &v) { return ir::stack({v[0], v[0]}, 2); }, {a});
  expect_gradients_match(
      [](auto &v) { return ir::flatten(ir::unsqueeze(ir::squeeze(v[0]), 1), 0, 1); }, {a});
}

TEST(Autodiff, UnfoldSumsTheOverlappingWindows) {
  Buffer x = uniform({2, 9}, -1, 1, 7);
  expect_gradients_match([](auto &v) { return ir::unfold(v[0], 1, 3, 1); }, {x});
  expect_gradients_match([](auto &v) { return ir::unfold(v[0], 1, 4, 2); }, {x});
  expect_gradients_match([](auto &v) { return ir::unfold(v[0], 0, 2, 3); }, {x});
  expect_gradients_match([](auto &v) { return ir::unfold(v[0], -1, 0, 5); }, {x});
}

TEST(Autodiff, MatmulPlainBatchedBroadcastTransposedAndVectors) {
  auto mm = [](auto &v) { return ir::matmul(v[0], v[1]); };
  expect_gradients_match(mm, {uniform({3, 4}, -1, 1, 1), uniform({4, 2}, -1, 1, 2)});
  expect_gradients_match(mm, {uniform({2, 1, 3, 4}, -1, 1, 3), uniform({5, 4, 2}, -1, 1, 4)});
  expect_gradients_match(mm, {uniform({3, 4}, -1, 1, 5), uniform({2, 4, 5}, -1, 1, 6)});
  expect_gradients_match(
      [](auto &v) { return ir::matmul(ir::transpose(v[0]), ir::transpose(v[1])); },
      {uniform({4, 3}, -1, 1, 7), uniform({2, 4}, -1, 1, 8)});
  expect_gradients_match(mm, {uniform({4}, -1, 1, 9), uniform({4, 2}, -1, 1, 10)});
  expect_gradients_match(mm, {uniform({3, 4}, -1, 1, 11), uniform({4}, -1, 1, 12)});
}

TEST(Autodiff, ZipThenReduceIsAMatmulToo) {
  expect_gradients_match([](auto &v) { return ir::reduce(Op::Sum, bin(Op::Mul, v[0], v[1]), {1}); },
                         {uniform({2, 3, 1}, -1, 1, 1), uniform({3, 2}, -1, 1, 2)});
}

TEST(Autodiff, OpPairs) {
  const NodeRef one = ir::constant(1, DType::F64);
  std::vector<std::pair<const char *, Build>> cases = {
      {"sigmoid(x @ w + b)",
       [](auto &v) { return un(Op::Sigmoid, bin(Op::Add, ir::matmul(v[0], v[1]), v[2])); }},
      {"log(sum(exp(x), 1))",
       [](auto &v) { return un(Op::Log, ir::reduce(Op::Sum, un(Op::Exp, v[0]), {1})); }},
      {"softmax",
       [](auto &v) {
         NodeRef e = un(Op::Exp, bin(Op::Sub, v[0], ir::reduce(Op::Max, v[0], {1}, true)));
         return bin(Op::Div, e, ir::reduce(Op::Sum, e, {1}, true));
       }},
      {"x * x + tanh(x) * sqrt(abs(w) + 1)",
       [&](auto &v) {
         return bin(
             Op::Add, bin(Op::Mul, v[0], v[0]),
             bin(Op::Mul, un(Op::Tanh, v[0]),
                 ir::reduce(Op::Sum, un(Op::Sqrt, bin(Op::Add, un(Op::Abs, v[1]), one)), {})));
       }},
      {"mean((x - mean(x))^2)",
       [](auto &v) {
         NodeRef d = bin(Op::Sub, v[0], ir::reduce(Op::Mean, v[0], {0}, true));
         return ir::reduce(Op::Mean, bin(Op::Pow, d, ir::constant(2, DType::F64)), {0});
       }},
      {"relu(maximum(x, w^T)) * inv(w^T)",
       [](auto &v) {
         NodeRef wt = ir::transpose(v[1]);
         return bin(Op::Mul, un(Op::Relu, bin(Op::Maximum, v[0], wt)), un(Op::Inv, wt));
       }},
      {"matmul(relu(x @ w), x) @ w",
       [](auto &v) {
         return ir::matmul(ir::matmul(un(Op::Relu, ir::matmul(v[0], v[1])), v[0]), v[1]);
       }},
  };
  Buffer x = distinct({3, 4}, 1), w = distinct({4, 3}, 2, 0.05), b = uniform({3}, -1, 1, 3);
  for (auto &[name, f] : cases) {
    SCOPED_TRACE(name);
    std::vector<Buffer> args = {x, w};
    if (std::string(name).rfind("sigmoid", 0) == 0) args.push_back(b);
    expect_gradients_match(f, args);
    expect_gradients_match(f, args, false);
  }
}

TEST(Autodiff, BinaryCrossEntropyOfSigmoid) {
  expect_gradients_match(
      [](auto &v) {
        NodeRef p = un(Op::Sigmoid, v[0]), one = ir::constant(1, DType::F64);
        NodeRef ll = bin(Op::Add, bin(Op::Mul, v[1], un(Op::Log, p)),
                         bin(Op::Mul, bin(Op::Sub, one, v[1]), un(Op::Log, bin(Op::Sub, one, p))));
        return un(Op::Neg, ir::reduce(Op::Mean, ll, {}));
      },
      {uniform({6}, -2, 2, 1), uniform({6}, 0, 1, 2)});
}

// ---- choices at non-smooth points (documented in engine/autodiff.h) ----

std::vector<double> grad_values(const NodeRef &root, const NodeRef &x, const Buffer &value) {
  return interpret(gradients(root, {x}), {{x.get(), value}})[0].to_vector<double>();
}

TEST(Autodiff, TiesShareTheGradientEvenly) {
  NodeRef x = ir::input(DType::F64, {4});
  Buffer v = Buffer::from_vector<double>({1, 3, 3, 2}, {4});
  EXPECT_EQ(grad_values(ir::reduce(Op::Max, x, {}), x, v), (std::vector<double>{0, 0.5, 0.5, 0}));
  NodeRef y = ir::input(DType::F64, {4});
  Bindings b = {{x.get(), v}, {y.get(), Buffer::from_vector<double>({0, 3, 5, 2}, {4})}};
  std::vector<Buffer> g = interpret(gradients(bin(Op::Maximum, x, y), {x, y}), b);
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{1, 0.5, 0, 0.5}));
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{0, 0.5, 1, 0.5}));
  g = interpret(gradients(bin(Op::Minimum, x, y), {x, y}), b);
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{0, 0.5, 1, 0.5}));
}

// NaN equals nothing, so no element of a NaN row matches its max: the
// tie count is kept at 1 and the row gets zeros, not 0/0 over every element.
TEST(Autodiff, MaxOverARowHoldingNanGivesThatRowZeros) {
  NodeRef x = ir::input(DType::F64, {2, 3});
  Buffer v = Buffer::from_vector<double>({1, NAN, 2, 1, 3, 2}, {2, 3});
  EXPECT_EQ(grad_values(ir::reduce(Op::Max, x, {1}), x, v),
            (std::vector<double>{0, 0, 0, 0, 1, 0}));
}

// stop_gradient is its operand's value with no gradient: d/dx of
// stop_gradient(x) * x is x, and of stop_gradient(x) alone nothing.
TEST(Autodiff, StopGradientPassesTheValueAndNoGradient) {
  NodeRef x = ir::input(DType::F64, {3});
  Buffer v = Buffer::from_vector<double>({-1, 0.5, 2}, {3});
  EXPECT_EQ(grad_values(bin(Op::Mul, un(Op::StopGradient, x), x), x, v),
            (std::vector<double>{-1, 0.5, 2}));
  EXPECT_EQ(grad_values(un(Op::StopGradient, x), x, v), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(un(Op::StopGradient, un(Op::StopGradient, x)), un(Op::StopGradient, x));
  NodeRef i = ir::input(DType::I32, {3});
  EXPECT_EQ(un(Op::StopGradient, i), i) << "an integer has no gradient to stop";
}

TEST(Autodiff, KinksAtZeroGiveZero) {
  NodeRef x = ir::input(DType::F64, {3});
  Buffer v = Buffer::from_vector<double>({-1, 0, 2}, {3});
  EXPECT_EQ(grad_values(un(Op::Relu, x), x, v), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(grad_values(un(Op::Abs, x), x, v), (std::vector<double>{-1, 0, 1}));
  NodeRef e = ir::input(DType::F64, {3});
  std::vector<Buffer> g = interpret(gradients(bin(Op::Pow, x, e), {x, e}),
                                    {{x.get(), Buffer::from_vector<double>({0, 0, 2}, {3})},
                                     {e.get(), Buffer::from_vector<double>({2, 3, 2}, {3})}});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{0, 0, 4}));
  EXPECT_EQ(g[1].to_vector<double>()[0], 0) << "d/db a^b at a == 0";
}

// ---- the shape of the gradient graph ----

bool has_arg(const Node &n, Op op, const NodeRef &of) {
  for (const NodeRef &a : n.args)
    if (a->is(op) && a->args[0] == of) return true;
  return false;
}

TEST(Autodiff, MatmulGradientsAreMatmulsOnTransposedViews) {
  for (auto [sa, sb] : {std::pair<Shape, Shape>{{3, 4}, {4, 2}}, {{2, 1, 3, 4}, {5, 4, 2}}}) {
    NodeRef a = ir::input(DType::F32, sa), b = ir::input(DType::F32, sb);
    std::vector<NodeRef> g = gradients(ir::matmul(a, b), {a, b});
    bool da_ok = false, db_ok = false;
    for (const Node *n : topo_order(g)) {
      da_ok |= n->is(Op::Matmul) && has_arg(*n, Op::Permute, b);
      db_ok |= n->is(Op::Matmul) && has_arg(*n, Op::Permute, a);
      EXPECT_FALSE(n->is(Op::Mul)) << "a product is materialized";
    }
    EXPECT_TRUE(da_ok) << "dA is not dOut @ permute(B)";
    EXPECT_TRUE(db_ok) << "dB is not permute(A) @ dOut";
    EXPECT_EQ(g[0]->shape, sa);
    EXPECT_EQ(g[1]->shape, sb);
  }
}

TEST(Autodiff, UnrelatedInputsGetZerosAndTheRootGetsTheSeed) {
  NodeRef x = ir::input(DType::F32, {2, 3}), other = ir::input(DType::F32, {4});
  NodeRef root = un(Op::Exp, x);
  std::vector<NodeRef> g = gradients(root, {other, root});
  EXPECT_EQ(g[0], ir::full(0, DType::F32, {4}));
  EXPECT_EQ(g[1], ir::full(1, DType::F32, {2, 3}));
  EXPECT_THROW(gradients(root, {x}, ir::input(DType::F32, {3})), ShapeError);
  EXPECT_THROW(gradients(root, {x}, ir::input(DType::F64, {2, 3})), ShapeError);
}

TEST(Autodiff, SumToShapeUndoesBroadcasting) {
  NodeRef g = ir::input(DType::F32, {2, 3, 4});
  EXPECT_EQ(sum_to_shape(g, {2, 3, 4}), g);
  EXPECT_EQ(sum_to_shape(g, {3, 1})->shape, (Shape{3, 1}));
  EXPECT_EQ(sum_to_shape(g, {})->shape, Shape{});
  EXPECT_EQ(sum_to_shape(g, {1, 1, 4})->shape, (Shape{1, 1, 4}));
  EXPECT_THROW(sum_to_shape(g, {5}), ShapeError);
  EXPECT_THROW(sum_to_shape(g, {1, 2, 3, 4}), ShapeError);
}

// ---- the Tensor API ----

std::vector<double> values(const Tensor &t) { return t.to_vector<double>(); }

template <typename F>
std::string value_error_of(F f) {
  try {
    f();
  } catch (const ValueError &e) {
    return e.what();
  }
  return "<no ValueError>";
}

TEST(TensorGrad, BackwardAccumulatesAndZeroGradResets) {
  Tensor w = Tensor::from_vector<double>({1, 2, 3}).requires_grad_();
  EXPECT_TRUE(w.is_leaf() && w.requires_grad());
  EXPECT_FALSE(w.grad().defined()) << "no backward has reached it yet";
  Tensor loss = (w * w).sum();
  EXPECT_FALSE(loss.is_leaf());
  EXPECT_TRUE(loss.requires_grad());
  loss.backward();
  EXPECT_FALSE(loss.node()->attached()) << "backward() is lazy";
  EXPECT_EQ(values(w.grad()), (std::vector<double>{2, 4, 6}));
  EXPECT_TRUE(loss.node()->attached()) << "the forward is realized with the gradients";
  (w * 10.0).sum().backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>{12, 14, 16}));
  w.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  w.exp().sum().backward();
  EXPECT_DOUBLE_EQ(values(w.grad())[2], std::exp(3.0));
}

TEST(TensorGrad, CopiesShareStateAndGradientsSumOverBroadcast) {
  Tensor b = Tensor::zeros({1, 3}, DType::F64);
  Tensor alias = b;    // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  b.requires_grad_();  // in place, as PyTorch's requires_grad_()
  EXPECT_TRUE(alias.requires_grad());
  Tensor x = Tensor::rand({4, 3}, DType::F64, 5);
  ((x + b) * 2.0).backward();  // non-scalar: the gradient of its sum
  EXPECT_EQ(values(alias.grad()), (std::vector<double>{8, 8, 8}));
}

TEST(TensorGrad, SeedGivesAVectorJacobianProduct) {
  Tensor w = Tensor::from_vector<double>({1, 2, 3}).requires_grad_();
  (w * w).backward(Tensor::from_vector<double>({1, 10, 100}));
  EXPECT_EQ(values(w.grad()), (std::vector<double>{2, 40, 600}));
  EXPECT_THROW((w * w).backward(Tensor::ones({3})), ShapeError) << "f32 seed for an f64 tensor";
  EXPECT_THROW((w * w).backward(Tensor::ones({1, 3}, DType::F64)), ShapeError);
}

// max's backward recomputes f(x) and looks for the max among the results;
// in fast numerics (libmvec for exp and log) over rows with a vector body
// and a scalar tail, it must still find it: finite gradients, the
// interpreter's, for f32 and f64. A softmax after the max, weighted so the
// gradient is not ~0.
TEST(TensorGrad, MaxOfExpSigmoidOrLogOverRowsOfFiveToThirteenInFast) {
  ScopedDefaults fast(Numerics::Fast);
  for (DType dtype : {DType::F32, DType::F64})
    for (int64_t n = 5; n <= 13; ++n)
      for (Op op : {Op::Exp, Op::Sigmoid, Op::Log}) {
        NodeRef x = ir::input(dtype, {6, n}, "x"), w = ir::input(dtype, {6, n}, "w");
        NodeRef fx = op == Op::Log
                         ? un(Op::Log, bin(Op::Add, un(Op::Abs, x), ir::constant(0.5, dtype)))
                         : un(op, x);
        NodeRef e = un(Op::Exp, bin(Op::Sub, fx, ir::reduce(Op::Max, fx, {1}, true)));
        NodeRef softmax = bin(Op::Div, e, ir::reduce(Op::Sum, e, {1}, true));
        NodeRef roots[] = {ir::reduce(Op::Max, fx, {1}),
                           ir::reduce(Op::Sum, bin(Op::Mul, softmax, w), {})};
        for (const NodeRef &root : roots)
          for (uint64_t seed = 0; seed < 3; ++seed) {
            Generator g(seed);
            InputValues inputs{{x.get(), random_uniform(dtype, x->shape, g, -1, 1)},
                               {w.get(), random_uniform(dtype, w->shape, g, -1, 1)}};
            NodeRef grad = gradients(root, {x})[0];
            Buffer got = evaluate({grad}, inputs)[0], want = evaluate_reference({grad}, inputs)[0];
            std::string what = std::string(op_name(root->op)) + " of " + op_name(op) + "(x) over " +
                               dtype_name(dtype) + "[6, " + std::to_string(n) + "], seed " +
                               std::to_string(seed);
            for (int64_t i = 0; i < got.numel(); ++i)
              ASSERT_TRUE(std::isfinite(got.get(i)))
                  << what << ": element " << i << " is " << got.get(i);
            Comparison c = compare_values(got, want, tolerance_for(grad));
            EXPECT_TRUE(c.ok) << what << ": " << c.describe();
          }
      }
}

TEST(TensorGrad, MatmulThroughTheApi) {
  Tensor a = Tensor::rand({3, 4}, DType::F64, 1).requires_grad_();
  Tensor b = Tensor::rand({4, 2}, DType::F64, 2).requires_grad_();
  a.matmul(b).sum().backward();
  std::vector<double> expect_a = values(Tensor::ones({3, 2}, DType::F64).matmul(b.t()));
  std::vector<double> expect_b = values(a.t().matmul(Tensor::ones({3, 2}, DType::F64)));
  std::vector<double> da = values(a.grad()), db = values(b.grad());
  for (size_t i = 0; i < da.size(); ++i) EXPECT_NEAR(da[i], expect_a[i], 1e-12);
  for (size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(db[i], expect_b[i], 1e-12);
}

TEST(TensorGrad, DetachCutsHistory) {
  Tensor w = Tensor::from_vector<double>({1, 2, 3}).requires_grad_();
  Tensor d = (w * 2.0).detach();
  EXPECT_TRUE(d.is_leaf());
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(values(d), (std::vector<double>{2, 4, 6}));
  (w.detach() * w).sum().backward();  // only the tracked factor carries gradient
  EXPECT_EQ(values(w.grad()), (std::vector<double>{1, 2, 3}));
  EXPECT_NE(value_error_of([&] { d.sum().backward(); }).find("no path"), std::string::npos);
}

TEST(TensorGrad, FlaggingMakesAFreshLeaf) {
  // Constants are hash-consed: two ones({3}) share a node, but the flagged
  // one must be differentiated alone.
  Tensor a = Tensor::ones({3}, DType::F64).requires_grad_();
  (a * Tensor::ones({3}, DType::F64)).sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 1, 1}));
  // What was computed from a tensor before it was flagged has no history.
  Tensor x = Tensor::from_vector<double>({0.5, 1.5});
  Tensor before = x.exp();
  x.requires_grad_();
  EXPECT_FALSE(before.requires_grad());
  (x * before).sum().backward();
  EXPECT_EQ(values(x.grad()), values(before));
}

TEST(TensorGrad, MisuseIsAValueErrorSayingWhy) {
  Tensor w = Tensor::rand({2}).requires_grad_();
  std::string non_leaf = value_error_of([&] { (w * 2.0).requires_grad_(); });
  EXPECT_NE(non_leaf.find("not a leaf"), std::string::npos) << non_leaf;
  EXPECT_NE(non_leaf.find("f32[2]"), std::string::npos) << non_leaf;
  std::string nothing = value_error_of([] { Tensor::rand({2, 3}).sum().backward(); });
  EXPECT_NE(nothing.find("f32[]"), std::string::npos) << nothing;
  EXPECT_NE(nothing.find("no path to a tensor that requires grad"), std::string::npos) << nothing;
  // Comparisons have zero gradient, so they carry no history.
  EXPECT_NE(value_error_of([&] { (w > 0.5).sum().backward(); }).find("no path"), std::string::npos);
  EXPECT_THROW(Tensor().backward(), ValueError);
}

// ---- training (examples/mlp.h, the loop train_mlp runs) ----

TEST(TensorGrad, MlpLearnsXorAndSplit) {
  for (const char *name : {"xor", "split"}) {
    SCOPED_TRACE(name);
    mlp::Options opt;
    opt.hidden = 8;
    opt.lr = 1.0;
    opt.epochs = 300;
    mlp::EpochStats first, last;
    last = mlp::train(mlp::make_dataset(name, 100, 1), opt, [&](const mlp::EpochStats &s) {
      if (s.epoch == 1) first = s;
    });
    EXPECT_GE(last.accuracy, 0.95);
    EXPECT_LT(last.loss, first.loss / 2);
  }
}

TEST(TensorGrad, DatasetsFollowMinitorch) {
  mlp::Dataset s = mlp::make_dataset("split", 50, 3);
  ASSERT_EQ(s.n, 50);
  for (int64_t i = 0; i < s.n; ++i) EXPECT_EQ(s.y[i], s.x[2 * i] < 0.2f || s.x[2 * i] > 0.8f);
  mlp::Dataset sp = mlp::make_dataset("spiral", 100, 0);
  EXPECT_EQ(sp.n, 100);
  EXPECT_EQ(std::count(sp.y.begin(), sp.y.end(), 1.f), 50);
  EXPECT_THROW(mlp::make_dataset("moons", 10, 0), ValueError);
}

}  // namespace
}  // namespace fusejit
