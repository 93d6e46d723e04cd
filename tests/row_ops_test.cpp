// The named row ops (softmax, log_softmax, logsumexp, var, std, layer_norm,
// rms_norm): compositions of primitives that match the reference
// interpreter through the JIT (fast and strict, threads 1 and 2) on rows of
// 1 to 100,000 elements, f32 and f64, rows along a permuted dim, forward and
// gradients; gradients match central differences; the .fj spelling and the
// C++ API build the same nodes as the hand-written composition; bad
// arguments are typed errors.
#include <fusejit/fusejit.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "engine/autodiff.h"
#include "engine/canonicalize.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/pipeline.h"
#include "engine/plan_memory.h"
#include "engine/realize.h"
#include "engine/tensor.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/row_ops.h"
#include "runtime/compare.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"
#include "scoped_defaults.h"

namespace fusejit {
namespace {

NodeRef sub(const NodeRef &a, const NodeRef &b) { return ir::binary(Op::Sub, a, b); }
NodeRef mul(const NodeRef &a, const NodeRef &b) { return ir::binary(Op::Mul, a, b); }

// One row op applied along `dim` of x (the row dim; the last for norms);
// w and b have the row's shape.
using RowOp =
    std::function<NodeRef(const NodeRef &x, int64_t dim, const NodeRef &w, const NodeRef &b)>;

struct Case {
  const char *name;
  RowOp op;
  bool trailing;  // a norm: rows along the last dim only
};

std::vector<Case> cases() {
  return {
      {"softmax",
       [](const auto &x, int64_t d, const auto &, const auto &) { return ir::softmax(x, d); },
       false},
      {"log_softmax",
       [](const auto &x, int64_t d, const auto &, const auto &) { return ir::log_softmax(x, d); },
       false},
      {"logsumexp",
       [](const auto &x, int64_t d, const auto &, const auto &) {
         return ir::logsumexp(x, {d}, false);
       },
       false},
      {"logsumexp keepdim",
       [](const auto &x, int64_t d, const auto &, const auto &) {
         return ir::logsumexp(x, {d}, true);
       },
       false},
      {"var",
       [](const auto &x, int64_t d, const auto &, const auto &) {
         return ir::var(x, {d}, 1, true);
       },
       false},
      {"std correction 0",
       [](const auto &x, int64_t d, const auto &, const auto &) {
         return ir::std_dev(x, {d}, 0, false);
       },
       false},
      {"layer_norm",
       [](const auto &x, int64_t d, const auto &, const auto &) {
         return ir::layer_norm(x, {d}, nullptr, nullptr, 1e-5);
       },
       true},
      {"layer_norm affine",
       [](const auto &x, int64_t d, const auto &w, const auto &b) {
         return ir::layer_norm(x, {d}, w, b, 1e-5);
       },
       true},
      {"rms_norm",
       [](const auto &x, int64_t d, const auto &w, const auto &) {
         return ir::rms_norm(x, {d}, w, 1e-6);
       },
       true},
  };
}

// Runs roots through the JIT with `options` and through the interpreter on
// seeded inputs in [-2, 2], and compares them with tolerance_for.
void expect_jit_matches(const std::vector<NodeRef> &roots, const std::vector<NodeRef> &leaves,
                        const Options &options, const std::string &what) {
  Generator g(7);
  InputValues inputs;
  for (const NodeRef &l : leaves)
    inputs.emplace(l.get(), random_uniform(l->dtype, l->shape, g, -2, 2));
  std::vector<Buffer> got = evaluate(roots, inputs, options);
  std::vector<Buffer> want = evaluate_reference(roots, inputs);
  for (size_t r = 0; r < roots.size(); ++r) {
    Comparison c = compare_values(got[r], want[r], 4 * tolerance_for(roots[r]));
    EXPECT_TRUE(c.ok) << what << " root " << r << ": " << c.describe();
  }
}

// x [rows, n] read directly and as the transpose of an [n, rows] input (the
// row dim strided), for every op, forward and gradient with respect to x, w
// and b (the gradient of the weighted sum of the output).
void check_rows(int64_t rows, int64_t n, DType dtype, const Options &options) {
  for (const Case &c : cases())
    for (bool permuted : {false, true}) {
      // Long rows read through a transpose: softmax and layer norm stand for the rest.
      if (permuted && n > 200 && std::string(c.name) != "softmax" &&
          std::string(c.name) != "layer_norm")
        continue;
      NodeRef in = ir::input(dtype, permuted ? Shape{n, rows} : Shape{rows, n}, "x");
      NodeRef x = permuted ? ir::permute(in, {1, 0}) : in;
      NodeRef w = ir::input(dtype, {n}, "w"), b = ir::input(dtype, {n}, "b");
      NodeRef y = c.op(x, 1, w, b);
      NodeRef seed = ir::input(dtype, y->shape, "seed");
      std::vector<NodeRef> grads = gradients(y, {in, w, b}, seed);
      std::vector<NodeRef> roots{y};
      roots.insert(roots.end(), grads.begin(), grads.end());
      std::string what = std::string(c.name) + " of " + dtype_name(dtype) + "[" +
                         std::to_string(rows) + ", " + std::to_string(n) + "]" +
                         (permuted ? " permuted" : "") +
                         (options.numerics == Numerics::Fast ? " fast" : " strict") + ", " +
                         std::to_string(options.threads) + " thread(s)";
      expect_jit_matches(roots, {in, w, b, seed}, options, what);
    }
}

// Each length in both dtypes, fast and strict alternating (every pair of
// dtype and numerics meets two lengths).
TEST(RowOps, MatchTheInterpreterOnOddRowLengths) {
  int i = 0;
  for (DType dtype : {DType::F32, DType::F64})
    for (int64_t n : {1, 3, 17, 129}) {
      Numerics numerics = (i++ + (dtype == DType::F64)) % 2 ? Numerics::Strict : Numerics::Fast;
      check_rows(n == 1 ? 5 : 3, n, dtype, Options{numerics, 1, true});
    }
}

TEST(RowOps, MatchTheInterpreterOnLongRowsAndTwoThreads) {
  for (DType dtype : {DType::F32, DType::F64}) {
    check_rows(5, 4097, dtype, Options{Numerics::Fast, 2, true});
    check_rows(2, 100000, dtype, Options{Numerics::Strict, 1, true});
  }
}

TEST(RowOps, UnfusedPlansAgree) {
  check_rows(3, 17, DType::F32, Options{Numerics::Strict, 1, false});
}

// Rows over a leading dim and over two dims at once.
TEST(RowOps, RowsOverAnyDimsAndSeveral) {
  NodeRef x = ir::input(DType::F64, {4, 5, 3}, "x");
  std::vector<NodeRef> roots{ir::softmax(x, 0),
                             ir::log_softmax(x, -2),
                             ir::logsumexp(x, {0, 2}),
                             ir::var(x, {1, 2}, 1, false),
                             ir::logsumexp(x, {}),
                             ir::layer_norm(x, {1, 2}, nullptr, nullptr, 1e-5),
                             ir::rms_norm(x, {-1, -2}, nullptr)};
  expect_jit_matches(roots, {x}, Options{Numerics::Strict, 1, true}, "rows over several dims");
}

// ---- gradients against central differences (f64, interpreter) ----

void expect_central_differences(const NodeRef &y, const std::vector<NodeRef> &leaves,
                                const std::string &what) {
  const double h = 1e-6, rtol = 1e-6, atol = 1e-8;
  Generator g(3);
  Bindings bind;
  for (const NodeRef &l : leaves) bind[l.get()] = random_uniform(DType::F64, l->shape, g, -2, 2);
  NodeRef seed = ir::input(DType::F64, y->shape, "seed");
  Buffer seed_value = random_uniform(DType::F64, y->shape, g, -1, 1);
  bind[seed.get()] = seed_value;
  std::vector<Buffer> analytic = interpret(gradients(y, leaves, seed), bind);
  auto loss = [&](const Bindings &b) {
    Buffer out = interpret({y}, b)[0];
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += out.get(i) * seed_value.get(i);
    return s;
  };
  for (size_t i = 0; i < leaves.size(); ++i)
    for (int64_t j = 0; j < leaves[i]->numel(); ++j) {
      Bindings b = bind;
      Buffer moved = bind.at(leaves[i].get()).clone();
      b[leaves[i].get()] = moved;
      double v = moved.get(j);
      moved.set(j, v + h);
      double up = loss(b);
      moved.set(j, v - h);
      double numeric = (up - loss(b)) / (2 * h);
      EXPECT_NEAR(analytic[i].get(j), numeric, atol + rtol * std::abs(numeric))
          << what << ": d/d leaf " << i << " element " << j;
    }
}

TEST(RowOps, GradientsMatchCentralDifferences) {
  for (const Case &c : cases()) {
    NodeRef x = ir::input(DType::F64, {3, 7}, "x");
    NodeRef w = ir::input(DType::F64, {7}, "w"), b = ir::input(DType::F64, {7}, "b");
    expect_central_differences(c.op(x, 1, w, b), {x, w, b}, c.name);
    if (!c.trailing)
      expect_central_differences(c.op(x, 0, w, b), {x}, std::string(c.name) + " over dim 0");
  }
}

// Integer and bool values may feed a row kernel's passes: cross-entropy's
// one-hot labels (an i64 arange compared with the gathered label) keep
// forward and backward in one row kernel, and an integer // inside one
// reports a division by zero as any kernel does.
TEST(RowOps, IntegerLabelsFeedOneRowKernel) {
  for (Numerics numerics : {Numerics::Strict, Numerics::Fast}) {
    NodeRef x = ir::input(DType::F32, {17, 9}, "x");
    NodeRef labels = ir::input(DType::I64, {17}, "labels");
    NodeRef picked =
        ir::reduce(Op::Sum, mul(ir::log_softmax(x, 1), ir::one_hot(labels, 9, DType::F32)), {1});
    NodeRef loss = ir::reduce(Op::Mean, ir::unary(Op::Neg, picked), {});
    std::vector<NodeRef> roots{loss, gradients(loss, {x})[0]};
    Options options;
    options.numerics = numerics;
    PreparedGraph prepared = prepare(roots, numerics);
    size_t rows = 0;
    for (const Kernel &k : prepared.compiled->plan.kernels) rows += k.kind() == KernelKind::Row;
    EXPECT_EQ(rows, 1u);
    EXPECT_EQ(prepared.compiled->plan.kernels.size(), 2u) << "the row kernel and the mean";
    Generator g(3);
    std::vector<int64_t> l;
    for (int i = 0; i < 17; ++i) l.push_back((i * 5) % 9);
    InputValues inputs{{x.get(), random_uniform(DType::F32, {17, 9}, g, -2, 2)},
                       {labels.get(), Buffer::from_vector<int64_t>(l, {17})}};
    std::vector<Buffer> got = evaluate(roots, inputs, options);
    std::vector<Buffer> want = evaluate_reference(roots, inputs);
    for (size_t r = 0; r < roots.size(); ++r) {
      Comparison c = compare_values(got[r], want[r], 4 * tolerance_for(roots[r]));
      EXPECT_TRUE(c.ok) << "root " << r << ": " << c.describe();
    }
  }
  NodeRef x = ir::input(DType::F32, {3, 4}, "x");
  NodeRef i = ir::input(DType::I32, {3, 4}, "i");
  NodeRef y = ir::softmax(
      ir::binary(Op::Add, x,
                 ir::cast(ir::binary(Op::FloorDiv, ir::constant(7, DType::I32), i), DType::F32)),
      1);
  Generator g(5);
  std::vector<int32_t> divisors(12, 1);
  divisors[6] = 0;
  InputValues inputs{{x.get(), random_uniform(DType::F32, {3, 4}, g, -2, 2)},
                     {i.get(), Buffer::from_vector<int32_t>(divisors, {3, 4})}};
  Plan plan = fuse({y});
  ASSERT_EQ(plan.kernels.size(), 1u);
  EXPECT_EQ(plan.kernels[0].kind(), KernelKind::Row);
  for (bool jit : {true, false}) {
    try {
      if (jit) {
        evaluate({y}, inputs);
      } else {
        plan_memory(plan);
        std::vector<Buffer> in{inputs.at(plan.input_nodes[0]), inputs.at(plan.input_nodes[1])};
        execute_plan(plan, in, evaluating_runner(plan));
      }
      ADD_FAILURE() << (jit ? "JIT" : "evaluator") << ": no error";
    } catch (const ValueError &e) {
      std::string m = e.what();
      EXPECT_NE(m.find("7 // 0"), std::string::npos) << m;
      EXPECT_NE(m.find("at domain index [1, 2]"), std::string::npos) << m;
    }
  }
}

std::string parse_error_of_program(const std::string &text) {
  try {
    parse_program(text, "bad.fj");
  } catch (const ParseError &e) {
    return e.what();
  }
  return "no error";
}

// cross_entropy with class indices, as torch's: the mean over the labels
// other than ignore_index of -log_softmax at the label; classes along dim 1
// of [N, C] and [N, C, d] logits; NaN when every label is ignored.
TEST(RowOps, CrossEntropyIsTorchsWithIgnoreIndex) {
  NodeRef x = ir::input(DType::F64, {3, 4}, "x");
  NodeRef labels = ir::input(DType::I64, {3}, "labels");
  Buffer xv = Buffer::from_vector<double>({1, 2, 3, 4, 0, 0, 0, 0, -1, 5, 2, 0}, {3, 4});
  auto loss_of = [&](const std::vector<int64_t> &l, int64_t ignore) {
    Bindings b{{x.get(), xv}, {labels.get(), Buffer::from_vector<int64_t>(l, {3})}};
    return interpret({ir::cross_entropy(x, labels, ignore)}, b)[0].get(0);
  };
  auto nll = [&](int64_t row, int64_t label) {
    double m = -INFINITY, s = 0;
    for (int64_t c = 0; c < 4; ++c) m = std::max(m, xv.get(row * 4 + c));
    for (int64_t c = 0; c < 4; ++c) s += std::exp(xv.get(row * 4 + c) - m);
    return -(xv.get(row * 4 + label) - m - std::log(s));
  };
  EXPECT_NEAR(loss_of({3, 0, 1}, -100), (nll(0, 3) + nll(1, 0) + nll(2, 1)) / 3, 1e-12);
  EXPECT_NEAR(loss_of({3, -100, 1}, -100), (nll(0, 3) + nll(2, 1)) / 2, 1e-12);
  EXPECT_NEAR(loss_of({3, 2, 2}, 2), nll(0, 3), 1e-12) << "ignore_index=2";
  EXPECT_TRUE(std::isnan(loss_of({-100, -100, -100}, -100)));
  // Through the JIT, forward and backward, odd batch sizes and a [N, C, d] case.
  for (int64_t n : {1, 3, 17, 129}) {
    NodeRef z = ir::input(DType::F32, {n, 10}, "z");
    NodeRef t = ir::input(DType::I64, {n}, "t");
    NodeRef loss = ir::cross_entropy(z, t);
    std::vector<int64_t> l;
    for (int64_t i = 0; i < n; ++i) l.push_back(i % 5 == 4 ? -100 : (i * 7) % 10);
    Generator g(11);
    InputValues inputs{{z.get(), random_uniform(DType::F32, {n, 10}, g, -3, 3)},
                       {t.get(), Buffer::from_vector<int64_t>(l, {n})}};
    std::vector<NodeRef> roots{loss, gradients(loss, {z})[0]};
    // Forward and backward share one row kernel; the per-row weight of a
    // label not ignored is computed in it, once per row.
    PreparedGraph prepared = prepare(roots, Numerics::Fast);
    size_t rows = 0;
    for (const Kernel &k : prepared.compiled->plan.kernels)
      rows += k.kind() == KernelKind::Row && k.domain == Shape{n, 10} && k.rows.size() >= 3;
    EXPECT_EQ(rows, 1u) << n << " rows";
    std::vector<Buffer> got = evaluate(roots, inputs), want = evaluate_reference(roots, inputs);
    for (size_t r = 0; r < roots.size(); ++r) {
      Comparison c = compare_values(got[r], want[r], 4 * tolerance_for(roots[r]));
      EXPECT_TRUE(c.ok) << n << " rows, root " << r << ": " << c.describe();
    }
  }
  NodeRef z = ir::input(DType::F64, {2, 3, 5}, "z");
  NodeRef t = ir::input(DType::I64, {2, 5}, "t");
  std::vector<int64_t> tv{0, 1, 2, 0, 1, 2, 2, -100, 1, 0};
  Generator g(2);
  Buffer zv = random_uniform(DType::F64, {2, 3, 5}, g, -2, 2);
  double want = 0;
  int kept = 0;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t d = 0; d < 5; ++d) {
      int64_t label = tv[static_cast<size_t>(i * 5 + d)];
      if (label < 0) continue;
      double m = -INFINITY, s = 0;
      for (int64_t c = 0; c < 3; ++c) m = std::max(m, zv.get((i * 3 + c) * 5 + d));
      for (int64_t c = 0; c < 3; ++c) s += std::exp(zv.get((i * 3 + c) * 5 + d) - m);
      want -= zv.get((i * 3 + label) * 5 + d) - m - std::log(s);
      ++kept;
    }
  InputValues in{{z.get(), zv}, {t.get(), Buffer::from_vector<int64_t>(tv, {2, 5})}};
  EXPECT_NEAR(evaluate({ir::cross_entropy(z, t)}, in)[0].get(0), want / kept, 1e-12);
}

TEST(RowOps, CrossEntropyMisuseNamesTheShapes) {
  NodeRef x = ir::input(DType::F32, {4, 3}, "x");
  auto message = [](const std::function<void()> &f) {
    try {
      f();
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string m = message([&] { ir::cross_entropy(x, ir::input(DType::I64, {3}, "l")); });
  EXPECT_NE(m.find("i64[3]"), std::string::npos) << m;
  EXPECT_NE(m.find("expected i64[4]"), std::string::npos) << m;
  m = message([&] { ir::cross_entropy(x, ir::input(DType::F32, {4}, "l")); });
  EXPECT_NE(m.find("class indices are integers"), std::string::npos) << m;
  m = message([&] { ir::cross_entropy(ir::input(DType::F32, {4}, "v"), x); });
  EXPECT_NE(m.find("a class dim"), std::string::npos) << m;
  EXPECT_THROW(ir::cross_entropy(x, ir::input(DType::I64, {3}, "l")), ShapeError);
  // In .fj, with the keyword.
  Program p = parse_program(
      "x = input f32[4, 3]\nl = input i64[4]\ny = cross_entropy(x, l, ignore_index=-1)\nout y\n",
      "ce.fj");
  EXPECT_EQ(p.outputs[0].second, ir::cross_entropy(p.inputs[0], p.inputs[1], -1));
  EXPECT_NE(parse_error_of_program("x = input f32[4, 3]\nl = input i64[4]\n"
                                   "y = cross_entropy(x, l, ignore_index=0.5)\nout y\n")
                .find("expected ignore_index=INTEGER"),
            std::string::npos);
}

// ---- one spelling: .fj, the C++ API and the hand-written composition ----

// softmax stops the gradient of its shift (the row's max); the hand-written
// composition does not, so their graphs differ by that op, and once the
// passes drop it (after gradients are taken) they are the same node, so the
// same kernel.
TEST(RowOps, TheHandWrittenCompositionIsTheSameNode) {
  NodeRef x = ir::input(DType::F32, {4, 6}, "x");
  NodeRef m = ir::reduce(Op::Max, x, {1}, true);
  auto by_hand = [&](const NodeRef &shift) {
    NodeRef e = ir::unary(Op::Exp, sub(x, shift));
    return ir::binary(Op::Div, e, ir::reduce(Op::Sum, e, {1}, true));
  };
  EXPECT_EQ(ir::softmax(x, 1), by_hand(ir::unary(Op::StopGradient, m)));
  EXPECT_EQ(canonicalize({ir::softmax(x, 1)}, Numerics::Strict)[0],
            canonicalize({by_hand(m)}, Numerics::Strict)[0]);
  EXPECT_EQ(ir::softmax(x, -1), ir::softmax(x, 1));
  NodeRef d = sub(x, ir::reduce(Op::Mean, x, {1}, true));
  EXPECT_EQ(ir::var(x, {1}, 1, true), ir::binary(Op::Div, ir::reduce(Op::Sum, mul(d, d), {1}, true),
                                                 ir::constant(5, DType::F32)));
}

TEST(RowOps, FjSpellingBuildsTheOps) {
  Program p = parse_program(
      "x = input f64[4, 6]\n"
      "w = input f64[6]\n"
      "b = input f64[6]\n"
      "s = softmax(x, 1)\n"
      "l = log_softmax(x, -1)\n"
      "e = logsumexp(x, [1], keepdim=true)\n"
      "v = var(x, [1], correction=0, keepdim=true)\n"
      "d = std(x, 1)\n"
      "n = layer_norm(x, [1], eps=0.001)\n"
      "a = layer_norm(x, [1], w, b, eps=0.00001)\n"
      "r = rms_norm(x, [1], w, eps=0.00001)\n"
      "out s, l, e, v, d, n, a, r\n",
      "rows.fj");
  const NodeRef &x = p.inputs[0], &w = p.inputs[1], &b = p.inputs[2];
  std::vector<NodeRef> want{ir::softmax(x, 1),
                            ir::log_softmax(x, 1),
                            ir::logsumexp(x, {1}, true),
                            ir::var(x, {1}, 0, true),
                            ir::std_dev(x, {1}, 1, false),
                            ir::layer_norm(x, {1}, nullptr, nullptr, 0.001),
                            ir::layer_norm(x, {1}, w, b, 1e-5),
                            ir::rms_norm(x, {1}, w, 1e-5)};
  ASSERT_EQ(p.outputs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(p.outputs[i].second, want[i]) << p.outputs[i].first;
}

std::string parse_error_of(const std::string &body) {
  try {
    parse_program("x = input f32[4, 6]\nw = input f32[6]\n" + body + "\nout y\n", "bad.fj");
  } catch (const ParseError &e) {
    return e.what();
  }
  return "no error";
}

TEST(RowOps, FjMisuseIsAParseErrorSayingWhat) {
  EXPECT_NE(parse_error_of("y = softmax(x)").find("'softmax' takes 2 positional arguments, got 1"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = softmax(x, [1])").find("expected a dim: an integer"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = softmax(x, 1, eps=0.1)").find("takes no eps= argument"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = layer_norm(x, [1], keepdim=true)").find("no keepdim="),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = var(x, [1], correction=w)").find("correction= takes a number"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = layer_norm(x, [0])").find("are not its last dims"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = rms_norm(x, [1], x)").find("the weight is f32[4, 6]"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = softmax(x, 2)").find("softmax of f32[4, 6]: dim 2 is out of range"),
            std::string::npos);
  EXPECT_NE(parse_error_of("y = where(x, x, eps=1.0)").find("'where' takes no eps= argument here"),
            std::string::npos);
}

TEST(RowOps, TheCppApiTracksGradientsAndChecksShapes) {
  Tensor x = Tensor::rand({3, 5}, DType::F64, 1).requires_grad_();
  Tensor w = Tensor::rand({5}, DType::F64, 2).requires_grad_();
  Tensor b = Tensor::rand({5}, DType::F64, 3).requires_grad_();
  EXPECT_EQ(softmax(x, 1).node(), ir::softmax(x.node(), 1));
  EXPECT_EQ(std(x, {1}).node(), ir::std_dev(x.node(), {1}, 1, false));
  (layer_norm(x, {5}, w, b) * softmax(x, 0) + rms_norm(x, {5}, w) + logsumexp(x, {1}, true) +
   var(x, {1}, 1, true))
      .sum()
      .backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_TRUE(w.grad().defined());
  EXPECT_TRUE(b.grad().defined());
  std::vector<double> db = b.grad().to_vector<double>();
  for (double v : db) EXPECT_NEAR(v, 1.0, 1e-12);  // d sum(y * s) / d b = column sums of s
  EXPECT_THROW(layer_norm(x, {3}), ShapeError);
  EXPECT_THROW(layer_norm(x, {5}, Tensor::ones({4}, DType::F64)), ShapeError);
  EXPECT_THROW(rms_norm(x, {}), ShapeError);
  EXPECT_THROW(softmax(Tensor(), 0), ValueError);
  EXPECT_THROW(softmax(x, 2), ShapeError);
  EXPECT_NEAR(var(Tensor::from_vector<double>({1, 2, 3, 4})).item<double>(), 5.0 / 3, 1e-12);
  EXPECT_NEAR(std(Tensor::from_vector<double>({1, 2, 3, 4}), {}, 0).item<double>(), std::sqrt(1.25),
              1e-12);
}

}  // namespace
}  // namespace fusejit
