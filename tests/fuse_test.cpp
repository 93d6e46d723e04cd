// The fusion pass: how many kernels each pattern takes, and that running the
// fused kernels (with the plain-loop kernel evaluator) matches the reference
// interpreter on odd shapes, broadcast and permuted inputs, f32 and f64.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/plan_memory.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::input;
using ir::reduce;
using ir::unary;

// Binds every input of the graph to seeded values in [-1, 1], runs the fused
// plan and the interpreter, and compares every element.
void expect_matches_interpreter(const std::vector<NodeRef> &roots, Plan plan, uint64_t seed = 1) {
  plan_memory(plan);
  Generator g(seed);
  std::vector<Buffer> inputs;
  Bindings bindings;
  for (const Node *n : plan.input_nodes) {
    inputs.push_back(random_uniform(n->dtype, n->shape, g, -1.0, 1.0));
    bindings.emplace(n, inputs.back());
  }
  std::vector<Buffer> fused = execute_plan(plan, inputs, evaluating_runner(plan));
  std::vector<Buffer> want = interpret(roots, bindings);
  ASSERT_EQ(fused.size(), want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    ASSERT_EQ(fused[r].shape(), want[r].shape());
    double tol = want[r].dtype() == DType::F32 ? 1e-5 : 1e-12;
    for (int64_t i = 0; i < want[r].numel(); ++i) {
      double a = fused[r].get(i), b = want[r].get(i);
      if (a == b) continue;  // also equal infinities
      if (std::isnan(b)) {
        EXPECT_TRUE(std::isnan(a)) << "root " << r << " element " << i;
        continue;
      }
      ASSERT_NEAR(a, b, tol * (1 + std::fabs(b))) << "root " << r << " element " << i;
    }
  }
}

std::string kernels_text(const Plan &p) {
  std::string s;
  for (const Kernel &k : p.kernels) s += print_kernel(k);
  return s;
}

TEST(Fuse, ElementwiseChainIsOneKernel) {
  NodeRef a = input(DType::F32, {17, 3}), b = input(DType::F32, {17, 3}), c = input(DType::F32, {3});
  NodeRef y = unary(Op::Relu, binary(Op::Add, binary(Op::Mul, a, b), c));
  Plan p = fuse({y});
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].kind, KernelKind::Elementwise);
  EXPECT_EQ(p.intermediate_bytes, 0);
  EXPECT_EQ(p.unfused_intermediate_bytes, 2 * 17 * 3 * 4);
  expect_matches_interpreter({y}, p);
}

TEST(Fuse, ReductionTakesItsProducersAsPrologue) {
  NodeRef x = input(DType::F64, {3, 129});
  NodeRef y = reduce(Op::Sum, unary(Op::Exp, x), {1});
  Plan p = fuse({y});
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].kind, KernelKind::Reduce);
  expect_matches_interpreter({y}, p);
}

TEST(Fuse, SeedZipThenReduceIsOneKernelWithNoIntermediate) {
  NodeRef a = input(DType::F32, {2, 3, 1}), b = input(DType::F32, {3, 2});
  NodeRef c = reduce(Op::Sum, binary(Op::Mul, a, b), {1});
  NodeRef d = binary(Op::Add, unary(Op::Relu, c), ir::constant(0.5, DType::F32));
  Plan p = fuse({d});
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(p.intermediate_bytes, 0);
  // Unfused: the (2, 3, 2) product, the sum and the relu.
  EXPECT_EQ(p.unfused_intermediate_bytes, (12 + 4 + 4) * 4);
  expect_matches_interpreter({d}, p);
}

NodeRef softmax(NodeRef x) {
  NodeRef m = reduce(Op::Max, x, {-1}, true);
  NodeRef e = unary(Op::Exp, binary(Op::Sub, x, m));
  return binary(Op::Div, e, reduce(Op::Sum, e, {-1}, true));
}

TEST(Fuse, SoftmaxTakesThreeKernels) {
  for (DType t : {DType::F32, DType::F64}) {
    NodeRef x = input(t, {17, 33});
    NodeRef y = softmax(x);
    Plan p = fuse({y});
    EXPECT_LE(p.kernels.size(), 3u) << kernels_text(p);
    ASSERT_FALSE(p.notes.empty());
    expect_matches_interpreter({y}, p);
  }
}

TEST(Fuse, ExpensiveSharedValueIsMaterializedAndExplained) {
  NodeRef x = input(DType::F32, {5, 7});
  NodeRef t = x;
  for (int i = 0; i <= kRecomputeOps; ++i) t = unary(Op::Tanh, t);
  NodeRef y = binary(Op::Add, reduce(Op::Sum, t, {1}, true), t);
  Plan p = fuse({y});
  EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  bool explained = false;
  for (const std::string &n : p.notes) explained |= n.find("consumers") != std::string::npos;
  EXPECT_TRUE(explained);
  expect_matches_interpreter({y}, p);
}

TEST(Fuse, ViewsBecomeStridesOnPermutedAndBroadcastInputs) {
  NodeRef a = input(DType::F32, {3, 17});
  NodeRef b = input(DType::F32, {17, 1});
  NodeRef y = binary(Op::Mul, ir::permute(a, {1, 0}), b);                  // (17, 3)
  NodeRef z = ir::reshape(ir::transpose(unary(Op::Exp, y)), {51});         // not expressible by strides
  NodeRef w = reduce(Op::Mean, ir::expand(ir::reshape(b, {1, 17}), {4, 17}), {0});
  Plan p = fuse({y, z, w});
  expect_matches_interpreter({y, z, w}, p);
}

TEST(Fuse, MatmulIsOneKernelWithEpilogue) {
  for (DType t : {DType::F32, DType::F64}) {
    NodeRef a = input(t, {2, 1, 17, 3}), b = input(t, {5, 3, 4}), bias = input(t, {4});
    NodeRef y = unary(Op::Relu, binary(Op::Add, ir::matmul(a, b), bias));
    Plan p = fuse({y});
    ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
    EXPECT_EQ(p.kernels[0].kind, KernelKind::Matmul);
    expect_matches_interpreter({y}, p);
    NodeRef at = input(t, {3, 17});
    NodeRef y2 = ir::matmul(ir::transpose(at), ir::transpose(input(t, {4, 3})));
    expect_matches_interpreter({y2}, fuse({y2}));
  }
}

TEST(Fuse, OddShapesAndEdgeCases) {
  for (int64_t n : {1, 3, 17, 129}) {
    NodeRef x = input(DType::F32, {n, 3});
    NodeRef s = reduce(Op::Max, binary(Op::Sub, x, reduce(Op::Mean, x, {0})), {});
    expect_matches_interpreter({s}, fuse({s}));
  }
  NodeRef e = input(DType::F64, {0, 4});
  NodeRef r = reduce(Op::Sum, e, {0});
  expect_matches_interpreter({r, reduce(Op::Max, e, {0}), reduce(Op::Mean, e, {0})},
                             fuse({r, reduce(Op::Max, e, {0}), reduce(Op::Mean, e, {0})}));
  NodeRef sc = input(DType::F32, {});
  NodeRef k = binary(Op::Mul, sc, ir::full(2.0, DType::F32, {3}));
  expect_matches_interpreter({k, sc}, fuse({k, sc}));
}

TEST(Fuse, FusionOffRunsEveryOpAsItsOwnKernel) {
  NodeRef a = input(DType::F32, {17, 3}), b = input(DType::F32, {3});
  NodeRef y = reduce(Op::Sum, unary(Op::Relu, binary(Op::Add, ir::transpose(ir::permute(a, {1, 0})), b)), {0});
  Plan p = fuse({y}, FuseOptions{.fusion = false});
  EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);  // +, relu, sum; the views are free
  expect_matches_interpreter({y}, p);
}

TEST(PlanMemory, DeadIntermediatesShareStorage) {
  // A chain of reductions, each broadcast into the next one's input: each
  // intermediate is read only by the next kernel, so two slots suffice.
  NodeRef x = input(DType::F32, {64, 64});
  NodeRef t = reduce(Op::Sum, x, {1}, true);
  for (int i = 0; i < 4; ++i) t = reduce(Op::Max, binary(Op::Mul, t, x), {1}, true);
  Plan p = fuse({t});
  plan_memory(p);
  int64_t temp_bytes = 0;
  for (const PlanBuffer &b : p.buffers)
    if (b.role == PlanBuffer::Role::Temp) {
      EXPECT_GE(b.slot, 0);
      temp_bytes += b.bytes();
    }
  EXPECT_LT(p.intermediate_bytes, temp_bytes) << kernels_text(p);
  EXPECT_EQ(p.slot_bytes.size(), 2u);
  expect_matches_interpreter({t}, p);
}

}  // namespace
}  // namespace fusejit
