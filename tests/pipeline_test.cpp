// The compiled pipeline end to end: realize() through the JIT, the plan
// cache, numerics modes and thread counts.
#include <gtest/gtest.h>

#include <cmath>

#include <fusejit/fusejit.h>

#include "engine/dump.h"
#include "engine/grad_program.h"
#include "engine/pipeline.h"
#include "ir/parser.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "runtime/compare.h"
#include "runtime/random.h"
#include "runtime/parallel_for.h"

namespace fusejit {
namespace {

// One training-like step: the same graph structure over new data.
Tensor step(const Tensor &x, const Tensor &w, const Tensor &b) {
  return ((x.matmul(w) + b).relu() - 0.25).pow(2.0).mean();
}

TEST(Pipeline, RebuildingTheSameGraphCompilesNothing) {
  Tensor w = Tensor::rand({7, 5}, DType::F32, 1), b = Tensor::rand({5}, DType::F32, 2);
  float first = step(Tensor::rand({3, 7}, DType::F32, 3), w, b).item<float>();
  PipelineStats before = pipeline_stats();
  float second = 0;
  for (int i = 0; i < 5; ++i) second = step(Tensor::rand({3, 7}, DType::F32, 10 + i), w, b).item<float>();
  PipelineStats after = pipeline_stats();
  EXPECT_EQ(after.plan_misses, before.plan_misses) << "a rebuilt graph must hit the plan cache";
  EXPECT_EQ(after.plan_hits, before.plan_hits + 5);
  EXPECT_EQ(after.kernels_compiled, before.kernels_compiled);
  EXPECT_NE(first, second) << "new data, new result";
}

TEST(Pipeline, ResultsMatchTheInterpreterThroughTheTensorApi) {
  Tensor x = Tensor::randn({17, 33}, DType::F64, 4);
  Tensor y = (x - x.max({1}, true)).exp();
  Tensor softmax = y / y.sum({1}, true);
  std::vector<double> got = softmax.to_vector<double>();
  for (int64_t r = 0; r < 17; ++r) {
    double total = 0;
    for (int64_t c = 0; c < 33; ++c) total += got[r * 33 + c];
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
}

TEST(Pipeline, StrictResultsDoNotDependOnTheThreadCount) {
  set_numerics(Numerics::Strict);
  Tensor x = Tensor::rand({129, 1000}, DType::F32, 5);
  std::vector<float> results[2];
  for (int t : {1, 2}) {
    set_num_threads(t);
    clear_plan_cache();
    results[t - 1] = (x * 1.5f + 0.25f).sum({1}).to_vector<float>();
  }
  set_num_threads(0);
  set_numerics(Numerics::Fast);
  EXPECT_EQ(results[0], results[1]);
}

// Reductions over rows (the contiguous dim kept) run with a tiled row of
// accumulators; widths past one tile, several outer dims, epilogues, both
// numerics and both thread counts must all agree with the interpreter.
TEST(Pipeline, RowReductionsMatchTheInterpreter) {
  for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
    set_numerics(numerics);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      NodeRef x = ir::input(DType::F32, {37, 2500}, "x");
      NodeRef y = ir::input(DType::F64, {5, 7, 1500}, "y");
      std::vector<NodeRef> roots = {
          ir::reduce(Op::Sum, x, {0}),
          ir::unary(Op::Relu, ir::reduce(Op::Max, x, {0}, true)),
          ir::reduce(Op::Mean, ir::unary(Op::Exp, y), {1}),
          ir::reduce(Op::Sum, y, {0, 1}),
      };
      Generator g(9);
      InputValues inputs{{x.get(), random_uniform(DType::F32, x->shape, g, -1, 1)},
                         {y.get(), random_uniform(DType::F64, y->shape, g, -1, 1)}};
      std::vector<Buffer> got = evaluate(roots, inputs), want = evaluate_reference(roots, inputs);
      for (size_t r = 0; r < roots.size(); ++r) {
        Comparison c = compare_values(got[r], want[r], default_tolerance(got[r].dtype(), 64));
        EXPECT_TRUE(c.ok) << "root " << r << " threads " << threads << ": " << c.describe();
      }
    }
  }
  set_num_threads(0);
  set_numerics(Numerics::Fast);
}

TEST(Pipeline, DumpShowsEveryStageOfATensor) {
  Tensor a = Tensor::rand({2, 3, 1}), b = Tensor::rand({3, 2});
  Tensor d = (a * b).sum({1}).relu() + 0.5;
  EXPECT_NE(dump(d, Stage::Optimized).find(" @ "), std::string::npos) << dump(d, Stage::Optimized);
  std::string kernels = dump(d, Stage::Kernels);
  EXPECT_NE(kernels.find("# 1 kernel, intermediate bytes 0 (unfused 80)"), std::string::npos) << kernels;
  EXPECT_NE(kernels.find("kernel k0 matmul"), std::string::npos) << kernels;
  EXPECT_NE(dump(d, Stage::Llvm).find("define void @fusejit_kernel"), std::string::npos);
  EXPECT_NE(dump(d, Stage::Asm).find("fusejit_kernel:"), std::string::npos);
}

TEST(Pipeline, GradientsOfTheSeedAreTwoMatmulsOnTransposedViews) {
  Program p = with_gradients(parse_program(
      "a = input f64[2, 3, 1]\nb = input f64[3, 2]\nc = sum(a * b, 1)\nd = relu(c) + 0.5\nout d\n"));
  ASSERT_EQ(p.outputs.size(), 3u);
  EXPECT_EQ(p.outputs[1].first, "grad_a");
  KernelsView view = kernels_view(p);
  int matmuls = 0;
  for (const Kernel &k : view.plan.kernels) matmuls += k.kind == KernelKind::Matmul;
  EXPECT_EQ(matmuls, 3) << kernels_text(view);  // forward, dA = g Bt, dB = At g
  // Numbers: through the JIT and the interpreter.
  Generator g(3);
  InputValues inputs;
  for (const NodeRef &in : p.inputs) inputs.emplace(in.get(), random_uniform(in->dtype, in->shape, g, -1, 1));
  std::vector<Buffer> got = evaluate(p.output_nodes(), inputs), want = evaluate_reference(p.output_nodes(), inputs);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(compare_values(got[i], want[i], 1e-12).ok) << p.outputs[i].first;
}

TEST(Pipeline, UnboundProgramInputIsAValueError) {
  NodeRef a = ir::input(DType::F32, {2}, "a");
  EXPECT_THROW(evaluate({ir::unary(Op::Exp, a)}, {}), ValueError);
}

}  // namespace
}  // namespace fusejit
