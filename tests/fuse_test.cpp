// The fusion pass: how many kernels each pattern takes, and that running the
// fused kernels (with the plain-loop kernel evaluator) matches the reference
// interpreter on odd shapes, broadcast and permuted inputs, f32 and f64.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/pass_notes.h"
#include "engine/pipeline.h"
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

// Which runs the fused plan: the kernel IR evaluator, or the kernels
// compiled by the JIT (strict numerics, so only rounding differs).
enum class Runner { Evaluator, Jit };

// Binds every input of the graph to seeded values in [-1, 1], runs the fused
// plan and the interpreter, and compares every element.
void expect_matches_interpreter(const std::vector<NodeRef> &roots, Plan plan, uint64_t seed = 1,
                                Runner runner = Runner::Evaluator) {
  plan_memory(plan);
  Generator g(seed);
  std::vector<Buffer> inputs;
  Bindings bindings;
  for (const Node *n : plan.input_nodes) {
    inputs.push_back(random_uniform(n->dtype, n->shape, g, -1.0, 1.0));
    bindings.emplace(n, inputs.back());
  }
  std::vector<Buffer> fused;
  if (runner == Runner::Evaluator) {
    fused = execute_plan(plan, inputs, evaluating_runner(plan));
  } else {
    CompiledPlan compiled;
    compiled.plan = plan;
    for (const Kernel &k : plan.kernels)
      compiled.kernels.push_back(compiled.backend->compile(k, Numerics::Strict));
    fused = run_compiled(compiled, inputs);
  }
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
  NodeRef a = input(DType::F32, {17, 3}), b = input(DType::F32, {17, 3}),
          c = input(DType::F32, {3});
  NodeRef y = unary(Op::Relu, binary(Op::Add, binary(Op::Mul, a, b), c));
  Plan p = fuse({y});
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].kind(), KernelKind::Elementwise);
  EXPECT_EQ(p.intermediate_bytes, 0);
  EXPECT_EQ(p.unfused_intermediate_bytes, 2 * 17 * 3 * 4);
  expect_matches_interpreter({y}, p);
}

TEST(Fuse, ReductionTakesItsProducersAsPrologue) {
  NodeRef x = input(DType::F64, {3, 129});
  NodeRef y = reduce(Op::Sum, unary(Op::Exp, x), {1});
  Plan p = fuse({y});
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].kind(), KernelKind::Reduce);
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

NodeRef softmax(const NodeRef &x) {
  NodeRef m = reduce(Op::Max, x, {-1}, true);
  NodeRef e = unary(Op::Exp, binary(Op::Sub, x, m));
  return binary(Op::Div, e, reduce(Op::Sum, e, {-1}, true));
}

// Rule 9: the max and the sum are phases of one row kernel, and nothing
// between them reaches memory.
TEST(Fuse, SoftmaxIsOneRowKernel) {
  for (DType t : {DType::F32, DType::F64}) {
    NodeRef x = input(t, {17, 33});
    NodeRef y = softmax(x);
    Plan p = fuse({y});
    ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
    EXPECT_EQ(p.kernels[0].kind(), KernelKind::Row);
    EXPECT_EQ(p.kernels[0].rows.size(), 2u);
    EXPECT_EQ(p.intermediate_bytes, 0);
    expect_matches_interpreter({y}, p);
    expect_matches_interpreter({y}, p, 2, Runner::Jit);
  }
}

TEST(Fuse, SoftmaxWithoutRowKernelsTakesThreeKernels) {
  for (DType t : {DType::F32, DType::F64}) {
    NodeRef x = input(t, {17, 33});
    NodeRef y = softmax(x);
    FuseTrace trace;
    Plan p = fuse({y}, FuseOptions{.rows = false}, &trace);
    EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);
    ASSERT_FALSE(fusion_notes(trace).empty());
    expect_matches_interpreter({y}, p);
  }
}

TEST(Fuse, ExpensiveSharedValueIsMaterializedAndExplained) {
  NodeRef x = input(DType::F32, {5, 7});
  NodeRef t = x;
  for (int i = 0; i <= kRecomputeOps; ++i) t = unary(Op::Tanh, t);
  NodeRef y = binary(Op::Add, reduce(Op::Sum, t, {1}, true), t);
  FuseTrace trace;
  // Without row kernels, so that the sum keeps a kernel of its own.
  Plan p = fuse({y}, FuseOptions{.rows = false}, &trace);
  EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  bool explained = false;
  for (const FuseTrace::Materialized &m : trace.materialized)
    explained |= m.value == t.get() && m.reason == FuseReason::SharedExpensive && m.consumers == 2;
  EXPECT_TRUE(explained);
  std::vector<std::string> notes = fusion_notes(trace);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(
      notes[1],
      "tanh f32[5, 7] is materialized: it has 2 consumers and recomputing it would cost 9 ops in "
      "each (limit 8)");
  expect_matches_interpreter({y}, p);
}

TEST(Fuse, ViewsBecomeStridesOnPermutedAndBroadcastInputs) {
  NodeRef a = input(DType::F32, {3, 17});
  NodeRef b = input(DType::F32, {17, 1});
  NodeRef y = binary(Op::Mul, ir::permute(a, {1, 0}), b);           // (17, 3)
  NodeRef z = ir::reshape(ir::transpose(unary(Op::Exp, y)), {51});  // not expressible by strides
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
    EXPECT_EQ(p.kernels[0].kind(), KernelKind::Matmul);
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
  NodeRef y = reduce(
      Op::Sum, unary(Op::Relu, binary(Op::Add, ir::transpose(ir::permute(a, {1, 0})), b)), {0});
  Plan p = fuse({y}, FuseOptions{.fusion = false});
  EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);  // +, relu, sum; the views are free
  expect_matches_interpreter({y}, p);
}

// Every buffer a kernel reads is an input or written by an earlier kernel.
void expect_valid_order(const Plan &p) {
  std::vector<bool> written(p.buffers.size(), false);
  for (int b : p.input_buffers) written[b] = true;
  for (const Kernel &k : p.kernels) {
    for (const KernelInput &in : k.inputs)
      EXPECT_TRUE(written[in.buffer])
          << k.name << " reads buf" << in.buffer << " before it is written\n"
          << kernels_text(p);
    for (const KernelOutput &out : k.outputs) written[out.buffer] = true;
  }
}

size_t num_outputs(const Plan &p) {
  size_t n = 0;
  for (const Kernel &k : p.kernels) n += k.outputs.size();
  return n;
}

TEST(MultiOutput, OutputsOfOneDomainShareOneKernel) {
  NodeRef a = input(DType::F32, {17, 129}), b = input(DType::F32, {17, 129});
  std::vector<NodeRef> roots{binary(Op::Add, a, b), binary(Op::Mul, a, b), unary(Op::Relu, a)};
  Plan p = fuse(roots);
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  const Kernel &k = p.kernels[0];
  EXPECT_EQ(k.outputs.size(), 3u);
  EXPECT_EQ(kernel_op_names(k), (std::vector<std::string>{"+", "*", "relu"}));
  int loads = 0;
  for (const Instr &in : k.body) loads += in.kind == InstrKind::Load;
  EXPECT_EQ(loads, 2) << "a and b are read by every output, and loaded once\n" << kernels_text(p);
  expect_matches_interpreter(roots, p);
  expect_matches_interpreter(roots, p, 2, Runner::Jit);
}

TEST(MultiOutput, SharedSubexpressionIsComputedOnce) {
  NodeRef x = input(DType::F64, {33});
  NodeRef e = unary(Op::Exp, unary(Op::Tanh, x));  // cheap: recomputed, not stored
  std::vector<NodeRef> roots{binary(Op::Add, e, ir::constant(1.0, DType::F64)),
                             binary(Op::Mul, e, ir::constant(2.0, DType::F64))};
  Plan p = fuse(roots);
  ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
  EXPECT_EQ(kernel_op_names(p.kernels[0]), (std::vector<std::string>{"tanh", "exp", "+", "*"}))
      << kernels_text(p);
  expect_matches_interpreter(roots, p, 3, Runner::Jit);
}

// Odd shapes, f32 and f64, with permuted and broadcast inputs: one kernel
// writing four outputs, through the evaluator and the JIT.
TEST(MultiOutput, MatchesTheInterpreterOnOddShapesAndViews) {
  for (DType t : {DType::F32, DType::F64})
    for (int64_t n : {1, 3, 17, 129}) {
      NodeRef a = input(t, {n, 5}), bt = input(t, {5, n}), c = input(t, {5}),
              col = input(t, {n, 1});
      NodeRef b = ir::permute(bt, {1, 0});
      std::vector<NodeRef> roots{binary(Op::Add, a, b), binary(Op::Mul, a, c),
                                 binary(Op::Sub, unary(Op::Exp, b), col), unary(Op::Sigmoid, a)};
      Plan p = fuse(roots);
      ASSERT_EQ(p.kernels.size(), 1u) << kernels_text(p);
      EXPECT_EQ(p.kernels[0].outputs.size(), 4u);
      expect_matches_interpreter(roots, p, 4);
      expect_matches_interpreter(roots, p, 5, Runner::Jit);
    }
}

TEST(MultiOutput, OtherShapesAndDtypesKeepTheirOwnKernels) {
  NodeRef a = input(DType::F32, {4, 3}), c = input(DType::F32, {3}), d = input(DType::F64, {4, 3});
  std::vector<NodeRef> roots{binary(Op::Add, a, c), binary(Op::Mul, c, c), unary(Op::Neg, d),
                             unary(Op::Exp, a)};
  Plan p = fuse(roots);
  ASSERT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].outputs.size(), 2u) << "a + c and exp(a): f32[4, 3]";
  expect_matches_interpreter(roots, p, 6, Runner::Jit);
}

// t is an output and the prologue of the sum: it is written before the sum's
// kernel runs. u reads t's buffer, so it cannot be in t's kernel; w can.
TEST(MultiOutput, OutputReadByAReductionIsWrittenFirst) {
  for (int64_t n : {1, 17}) {
    NodeRef x = input(DType::F32, {n, 7});
    NodeRef t = unary(Op::Exp, x);
    NodeRef s = reduce(Op::Sum, t, {1}, true);
    NodeRef u = binary(Op::Mul, t, ir::constant(2.0, DType::F32));
    NodeRef w = binary(Op::Mul, x, ir::constant(3.0, DType::F32));
    NodeRef z = binary(Op::Div, t, s);  // reads the sum: after it
    std::vector<NodeRef> roots{t, s, u, w, z};
    // Without row kernels: z would join the sum's.
    Plan p = fuse(roots, FuseOptions{.rows = false});
    // k0: t and w; k1: the sum; k2: u and z.
    ASSERT_EQ(p.kernels.size(), 3u) << kernels_text(p);
    EXPECT_EQ(p.kernels[0].outputs.size(), 2u) << kernels_text(p);
    EXPECT_EQ(p.kernels[1].kind(), KernelKind::Reduce);
    EXPECT_EQ(num_outputs(p), roots.size());
    expect_valid_order(p);
    expect_matches_interpreter(roots, p, 7);
    expect_matches_interpreter(roots, p, 8, Runner::Jit);
  }
}

// A chain of outputs, each reading the one before: no two can share, and
// the order stays the chain's.
TEST(MultiOutput, DependentOutputsStaySeparate) {
  NodeRef x = input(DType::F32, {9});
  std::vector<NodeRef> roots;
  NodeRef t = x;
  for (int i = 0; i < 4; ++i)
    roots.push_back(t = binary(Op::Add, t, ir::constant(1.0 + i, DType::F32)));
  Plan p = fuse(roots);
  EXPECT_EQ(p.kernels.size(), 4u) << kernels_text(p);
  expect_valid_order(p);
  expect_matches_interpreter(roots, p);
}

// A value that another kernel of its domain reads, read back across a
// reduction: joining the first kernel of its domain would run it too early.
TEST(MultiOutput, AValueJoinsOnlyAKernelAfterEverythingItReads) {
  NodeRef x = input(DType::F32, {6, 5}), y = input(DType::F32, {6, 5});
  NodeRef a = unary(Op::Exp, x);              // k0
  NodeRef m = reduce(Op::Max, a, {1}, true);  // k1, reads a
  NodeRef b = binary(Op::Sub, y, m);          // reads m: after k1
  NodeRef c = unary(Op::Tanh, y);             // reads inputs only: joins k0
  std::vector<NodeRef> roots{a, m, b, c};
  // Without row kernels: b would join the max's.
  Plan p = fuse(roots, FuseOptions{.rows = false});
  ASSERT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].outputs.size(), 2u) << kernels_text(p);
  expect_valid_order(p);
  expect_matches_interpreter(roots, p, 9, Runner::Jit);
}

// Many small outputs (x * i + y) fill kernels up to kMaxKernelOutputs each:
// 300 outputs are 10 kernels, not 300.
TEST(MultiOutput, ManyOutputsFillKernelsUpToTheOutputBound) {
  NodeRef x = input(DType::F32, {4}), y = input(DType::F32, {4});
  std::vector<NodeRef> roots;
  for (int i = 0; i < 300; ++i)
    roots.push_back(binary(Op::Add, binary(Op::Mul, x, ir::constant(i + 0.5, DType::F32)), y));
  Plan p = fuse(roots);
  EXPECT_EQ(p.kernels.size(), (300 + kMaxKernelOutputs - 1) / kMaxKernelOutputs);
  EXPECT_EQ(num_outputs(p), roots.size());
  for (size_t k = 0; k < p.kernels.size(); ++k) {
    EXPECT_EQ(p.kernels[k].name, "k" + std::to_string(k));
    EXPECT_LE(p.kernels[k].outputs.size(), kMaxKernelOutputs);
  }
  expect_matches_interpreter(roots, p, 10, Runner::Jit);
}

// Outputs of 21 ops each: 12 fit in kMaxKernelOps, so 40 of them are 4 kernels.
TEST(MultiOutput, LongOutputsFillKernelsUpToTheOpBound) {
  NodeRef x = input(DType::F64, {3});
  std::vector<NodeRef> roots;
  for (int i = 0; i < 40; ++i) {
    NodeRef t = binary(Op::Add, x, ir::constant(i + 0.5, DType::F64));
    for (int j = 0; j < 20; ++j) t = unary(Op::Tanh, t);
    roots.push_back(t);
  }
  Plan p = fuse(roots);
  EXPECT_EQ(p.kernels.size(), 4u);
  EXPECT_EQ(num_outputs(p), roots.size());
  for (const Kernel &k : p.kernels) EXPECT_LE(k.ops.size(), size_t(kMaxKernelOps)) << k.name;
  expect_matches_interpreter(roots, p, 12);
}

// A value materialized because it is shared and expensive shares a kernel
// with an output of its shape that does not read it.
TEST(MultiOutput, MaterializedIntermediateSharesWithAnIndependentOutput) {
  NodeRef x = input(DType::F64, {5, 7});
  NodeRef t = x;
  for (int i = 0; i <= kRecomputeOps; ++i) t = unary(Op::Tanh, t);
  NodeRef y = binary(Op::Add, reduce(Op::Sum, t, {1}, true), t);
  NodeRef z = unary(Op::Abs, x);
  // Without row kernels: y would join the sum's.
  Plan p = fuse({y, z}, FuseOptions{.rows = false});
  // t and z; the sum; y.
  ASSERT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  EXPECT_EQ(p.kernels[0].outputs.size(), 2u) << kernels_text(p);
  expect_valid_order(p);
  expect_matches_interpreter({y, z}, p, 11, Runner::Jit);
}

TEST(MultiOutput, FusionOffKeepsOneKernelPerOp) {
  NodeRef a = input(DType::F32, {17, 3}), b = input(DType::F32, {17, 3});
  std::vector<NodeRef> roots{binary(Op::Add, a, b), binary(Op::Mul, a, b), unary(Op::Relu, a)};
  Plan p = fuse(roots, FuseOptions{.fusion = false});
  EXPECT_EQ(p.kernels.size(), 3u) << kernels_text(p);
  for (const Kernel &k : p.kernels) EXPECT_EQ(k.outputs.size(), 1u);
  expect_matches_interpreter(roots, p);
}

TEST(PlanMemory, DeadIntermediatesShareStorage) {
  // A chain of reductions, each broadcast into the next one's input: each
  // intermediate is read only by the next kernel, so two slots suffice.
  NodeRef x = input(DType::F32, {64, 64});
  NodeRef t = reduce(Op::Sum, x, {1}, true);
  for (int i = 0; i < 4; ++i) t = reduce(Op::Max, binary(Op::Mul, t, x), {1}, true);
  // Without row kernels: the chain would be one row kernel with no temps.
  Plan p = fuse({t}, FuseOptions{.rows = false});
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

// Two expensive shared values of one shape are written by one kernel; both
// live on until the reductions and the sums read them, so each has its own
// storage slot.
TEST(PlanMemory, TempsOneKernelWritesGetTheirOwnSlots) {
  NodeRef x = input(DType::F32, {5, 7}), y = input(DType::F32, {5, 7});
  NodeRef t = x, u = y;
  for (int i = 0; i <= kRecomputeOps; ++i) t = unary(Op::Tanh, t), u = unary(Op::Sigmoid, u);
  NodeRef r = binary(Op::Add, binary(Op::Add, reduce(Op::Sum, t, {1}, true), t),
                     binary(Op::Mul, reduce(Op::Max, u, {1}, true), u));
  Plan p = fuse({r});
  plan_memory(p);
  ASSERT_EQ(p.kernels[0].outputs.size(), 2u) << kernels_text(p);
  int a = p.kernels[0].outputs[0].buffer, b = p.kernels[0].outputs[1].buffer;
  EXPECT_EQ(p.buffers[a].role, PlanBuffer::Role::Temp);
  EXPECT_EQ(p.buffers[b].role, PlanBuffer::Role::Temp);
  EXPECT_NE(p.buffers[a].slot, p.buffers[b].slot);
  expect_valid_order(p);
  expect_matches_interpreter({r}, p, 13);
  expect_matches_interpreter({r}, p, 14, Runner::Jit);
}

}  // namespace
}  // namespace fusejit
