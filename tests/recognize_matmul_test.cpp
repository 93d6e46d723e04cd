// recognize_matmul: every zip-then-reduce form of a matmul becomes one, with
// the same values; near misses stay reductions and say why.
#include <gtest/gtest.h>

#include "engine/pass_notes.h"
#include "engine/recognize_matmul.h"
#include "ir/graph.h"
#include "ir/verifier.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::input;
using ir::reduce;
using ir::reshape;

int count(const std::vector<NodeRef> &roots, Op op) {
  int c = 0;
  for (const Node *n : topo_order(roots)) c += n->is(op);
  return c;
}

// Recognizes, checks the matmul count, and compares values with the original.
std::vector<std::string> expect_matmuls(const NodeRef &root, int matmuls) {
  std::vector<MatmulDecision> decisions;
  std::vector<NodeRef> out = recognize_matmul({root}, &decisions);
  std::vector<std::string> notes;
  for (const MatmulDecision &d : decisions) {
    EXPECT_EQ(d.found(), matmuls > 0);
    notes.push_back(matmul_note(d));
  }
  verify(out);
  EXPECT_EQ(count(out, Op::Matmul), matmuls);
  if (matmuls > 0) {
    EXPECT_EQ(count(out, Op::Mul), 0) << "the product must be gone";
  }
  Generator g(7);
  Bindings inputs;
  for (const Node *n : topo_order({root})) {
    if (n->is(Op::Input)) inputs.emplace(n, random_uniform(n->dtype, n->shape, g, -1, 1));
  }
  Buffer want = interpret({root}, inputs)[0], got = interpret(out, inputs)[0];
  EXPECT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(got.get(i), want.get(i), 1e-12);
  return notes;
}

TEST(RecognizeMatmul, TheSeed) {
  NodeRef a = input(DType::F64, {2, 3, 1}), b = input(DType::F64, {3, 2});
  std::vector<std::string> notes = expect_matmuls(reduce(Op::Sum, binary(Op::Mul, a, b), {1}), 1);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "matmul from sum f64[2, 2] of * f64[2, 3, 2]: M 2, K 3, N 2");
}

// A near miss is data: which rule broke, and the values it broke on.
TEST(RecognizeMatmul, DecisionsAreData) {
  NodeRef a = input(DType::F64, {2, 3, 1}), b = input(DType::F64, {3, 2});
  NodeRef sum = reduce(Op::Sum, binary(Op::Mul, a, b), {0});
  std::vector<MatmulDecision> decisions;
  recognize_matmul({sum}, &decisions);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].sum, sum.get());
  EXPECT_EQ(decisions[0].miss, MatmulMiss::ReducedDimBroadcast);
  EXPECT_EQ(decisions[0].dim, 0);
  decisions.clear();
  recognize_matmul({reduce(Op::Sum, binary(Op::Sub, a, b), {0, 1})}, &decisions);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].miss, MatmulMiss::ZipNotMul);
  EXPECT_EQ(decisions[0].zip_op, Op::Sub);
  decisions.clear();
  NodeRef p = input(DType::F64, {2, 4, 3, 1}), q = input(DType::F64, {2, 1, 3, 5});
  recognize_matmul({reduce(Op::Sum, binary(Op::Mul, p, q), {2})}, &decisions);
  ASSERT_EQ(decisions.size(), 1u);
  ASSERT_TRUE(decisions[0].found());
  EXPECT_EQ(
      std::vector<int64_t>({decisions[0].m, decisions[0].k, decisions[0].n, decisions[0].batch}),
      std::vector<int64_t>({4, 3, 5, 2}));
  EXPECT_EQ(matmul_detail(decisions[0]), "M 4, K 3, N 5, batch 2");
}

TEST(RecognizeMatmul, MinitorchForms) {
  NodeRef a = input(DType::F64, {2, 3}), b = input(DType::F64, {3, 4});
  expect_matmuls(
      reduce(Op::Sum, binary(Op::Mul, reshape(a, {2, 3, 1}), reshape(b, {1, 3, 4})), {1}), 1);
  NodeRef a4 = input(DType::F64, {2, 2, 3}), b4 = input(DType::F64, {2, 3, 4});
  expect_matmuls(
      reduce(Op::Sum, binary(Op::Mul, reshape(a4, {2, 2, 3, 1}), reshape(b4, {2, 1, 3, 4})), {2}),
      1);
}

TEST(RecognizeMatmul, AnyAxisOrderKeepdimAndBatchBroadcast) {
  // Columns before rows: the operands swap, no transpose after.
  NodeRef a = input(DType::F64, {3, 5}), b = input(DType::F64, {4, 3});
  expect_matmuls(
      reduce(Op::Sum, binary(Op::Mul, reshape(a, {1, 3, 5}), reshape(b, {4, 3, 1})), {1}), 1);
  // The reduced dim last, keepdim.
  NodeRef p = input(DType::F64, {6, 1, 7}), q = input(DType::F64, {1, 5, 7});
  expect_matmuls(reduce(Op::Sum, binary(Op::Mul, p, q), {2}, true), 1);
  // A batch dim only one operand has: it becomes part of that operand's rows.
  NodeRef x = input(DType::F64, {1, 2, 3, 1}), y = input(DType::F64, {2, 1, 3, 4});
  expect_matmuls(reduce(Op::Sum, binary(Op::Mul, x, y), {2}), 1);
  // Several row dims flatten into one M.
  NodeRef r = input(DType::F64, {2, 3, 4, 1}), s = input(DType::F64, {4, 5});
  expect_matmuls(reduce(Op::Sum, binary(Op::Mul, r, s), {2}), 1);
}

// Several reduced dims merge into one K, in any order they are listed.
TEST(RecognizeMatmul, SeveralReducedDimsAreOneK) {
  NodeRef a = input(DType::F64, {8, 3, 4, 1}), b = input(DType::F64, {3, 4, 9});
  std::vector<std::string> notes =
      expect_matmuls(reduce(Op::Sum, binary(Op::Mul, a, b), {2, 1}), 1);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "matmul from sum f64[8, 9] of * f64[8, 3, 4, 9]: M 8, K 12, N 9");
  // With fewer than kNarrow rows it stays a reduction, and says so.
  NodeRef few = input(DType::F64, {2, 3, 4, 1});
  notes = expect_matmuls(reduce(Op::Sum, binary(Op::Mul, few, b), {1, 2}), 0);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0],
            "not a matmul: sum f64[2, 9] of * f64[2, 3, 4, 9]: a contraction over 2 dims with M 2, "
            "K 12, N 9: M or N is below 8, where a reduction is faster");
  // Extent-1 reduced dims add nothing; only they: K is 1.
  NodeRef c = input(DType::F64, {2, 1, 3, 1}), e = input(DType::F64, {1, 1, 3, 4});
  expect_matmuls(reduce(Op::Sum, binary(Op::Mul, c, e), {1, 2}), 1);
  NodeRef u = input(DType::F64, {3, 1, 1}), v = input(DType::F64, {1, 1, 4});
  expect_matmuls(reduce(Op::Sum, binary(Op::Mul, u, v), {1}), 1);
}

// A convolution's shape: x[n, 1, ci, y, x] * w[co, ci, 1, 1] over ci gives
// [n, co, y, x], where n and (y, x) are x's and co is w's. Its matmul is
// batched over n with w broadcast: W (co x ci) times x[n] (ci x yx), the
// result in [n, co, y, x] order with no transpose after.
TEST(RecognizeMatmul, ConvolutionOrderBatchesOverTheImage) {
  NodeRef x = input(DType::F64, {3, 1, 5, 4, 6}), w = input(DType::F64, {7, 5, 1, 1});
  NodeRef sum = reduce(Op::Sum, binary(Op::Mul, x, w), {2});
  std::vector<MatmulDecision> decisions;
  std::vector<NodeRef> out = recognize_matmul({sum}, &decisions);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(matmul_detail(decisions[0]), "M 7, K 5, N 24, batch 3");
  NodeRef root = out[0];
  while (root->is(Op::Reshape)) root = root->args[0];
  EXPECT_TRUE(root->is(Op::Matmul)) << "the result is in the sum's order, not permuted";
  expect_matmuls(sum, 1);
  // Too few output channels to fill a tile: one matmul of M = n * y * x.
  NodeRef w2 = input(DType::F64, {2, 5, 1, 1});
  NodeRef narrow = reduce(Op::Sum, binary(Op::Mul, x, w2), {2});
  decisions.clear();
  recognize_matmul({narrow}, &decisions);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(matmul_detail(decisions[0]), "M 72, K 5, N 2");
  expect_matmuls(narrow, 1);
}

TEST(RecognizeMatmul, NearMissesStayReductionsAndSayWhy) {
  NodeRef a = input(DType::F64, {2, 3, 1}), b = input(DType::F64, {3, 2});
  auto why = [](const std::vector<std::string> &notes, const std::string &text) {
    for (const std::string &n : notes)
      if (n.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(why(expect_matmuls(reduce(Op::Sum, binary(Op::Add, a, b), {1}), 0), "not '*'"));
  EXPECT_TRUE(why(expect_matmuls(reduce(Op::Sum, binary(Op::Mul, a, b), {0, 1}), 0),
                  "the reduced dim 0 is broadcast in one operand"));
  NodeRef c = input(DType::F64, {2, 1, 1});
  EXPECT_TRUE(why(expect_matmuls(reduce(Op::Sum, binary(Op::Mul, c, b), {1}), 0),
                  "broadcast in one operand"));
  NodeRef u = input(DType::F64, {4, 3}), v = input(DType::F64, {4, 3});
  EXPECT_TRUE(why(expect_matmuls(reduce(Op::Sum, binary(Op::Mul, u, v), {1}), 0), "dot product"));
  // A dim only expands made, in both operands (the backward of a product of
  // broadcasts): it belongs to neither, so there is no matmul to form.
  NodeRef s0 = input(DType::F64, {});
  EXPECT_TRUE(
      why(expect_matmuls(reduce(Op::Sum, binary(Op::Mul, s0, s0), {}), 0), "it reduces no dim"));
  NodeRef e = input(DType::F64, {1, 3}), f = input(DType::F64, {1, 3});
  EXPECT_TRUE(why(
      expect_matmuls(
          reduce(Op::Sum, binary(Op::Mul, ir::expand(e, {2, 3}), ir::expand(f, {2, 3})), {1}), 0),
      "broadcast in both operands"));
}

}  // namespace
}  // namespace fusejit
