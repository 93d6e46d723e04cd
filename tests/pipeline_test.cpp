// The compiled pipeline end to end: realize() through the JIT, the plan
// cache, numerics modes and thread counts.
#include <gtest/gtest.h>

#include <cmath>

#include <fusejit/fusejit.h>

#include "engine/dump.h"
#include "engine/explain.h"
#include "engine/grad_program.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "ir/log.h"
#include "ir/parser.h"
#include "runtime/compare.h"
#include "runtime/parallel_for.h"
#include "runtime/random.h"
#include "scoped_defaults.h"

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
  for (int i = 0; i < 5; ++i)
    second = step(Tensor::rand({3, 7}, DType::F32, 10 + i), w, b).item<float>();
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
  ScopedDefaults defaults(Numerics::Strict);
  Tensor x = Tensor::rand({129, 1000}, DType::F32, 5);
  std::vector<float> results[2];
  for (int t : {1, 2}) {
    defaults.set_threads(t);
    clear_plan_cache();
    results[t - 1] = (x * 1.5f + 0.25f).sum({1}).to_vector<float>();
  }
  EXPECT_EQ(results[0], results[1]);
}

// Reductions over rows (the contiguous dim kept) run with a tiled row of
// accumulators; widths past one tile, several outer dims, epilogues, both
// numerics and both thread counts must all agree with the interpreter.
TEST(Pipeline, RowReductionsMatchTheInterpreter) {
  for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
    for (int threads : {1, 2}) {
      Options options = default_options();
      options.numerics = numerics;
      options.threads = threads;
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
      std::vector<Buffer> got = evaluate(roots, inputs, options),
                          want = evaluate_reference(roots, inputs);
      for (size_t r = 0; r < roots.size(); ++r) {
        Comparison c = compare_values(got[r], want[r], default_tolerance(got[r].dtype(), 64));
        EXPECT_TRUE(c.ok) << "root " << r << " threads " << threads << ": " << c.describe();
      }
    }
  }
}

TEST(Pipeline, DumpShowsEveryStageOfATensor) {
  Tensor a = Tensor::rand({2, 3, 1}), b = Tensor::rand({3, 2});
  Tensor d = (a * b).sum({1}).relu() + 0.5;
  EXPECT_NE(dump(d, Stage::Optimized).find(" @ "), std::string::npos) << dump(d, Stage::Optimized);
  std::string kernels = dump(d, Stage::Kernels);
  EXPECT_NE(kernels.find("# 1 kernel, intermediate bytes 0 (unfused 80)"), std::string::npos)
      << kernels;
  EXPECT_NE(kernels.find("kernel k0 matmul"), std::string::npos) << kernels;
  EXPECT_NE(dump(d, Stage::Llvm).find("define void @fusejit_kernel"), std::string::npos);
  EXPECT_NE(dump(d, Stage::Asm).find("fusejit_kernel:"), std::string::npos);
}

TEST(Pipeline, GradientsOfTheSeedAreTwoMatmulsOnTransposedViews) {
  Program p =
      with_gradients(parse_program("a = input f64[2, 3, 1]\nb = input f64[3, 2]\nc = sum(a * b, "
                                   "1)\nd = relu(c) + 0.5\nout d\n"));
  ASSERT_EQ(p.outputs.size(), 3u);
  EXPECT_EQ(p.outputs[1].first, "grad_a");
  KernelsView view = kernels_view(p);
  int matmuls = 0;
  for (const Kernel &k : view.plan.kernels) matmuls += k.kind() == KernelKind::Matmul;
  EXPECT_EQ(matmuls, 3) << kernels_text(view);  // forward, dA = g Bt, dB = At g
  // Numbers: through the JIT and the interpreter.
  Generator g(3);
  InputValues inputs;
  for (const NodeRef &in : p.inputs)
    inputs.emplace(in.get(), random_uniform(in->dtype, in->shape, g, -1, 1));
  std::vector<Buffer> got = evaluate(p.output_nodes(), inputs),
                      want = evaluate_reference(p.output_nodes(), inputs);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(compare_values(got[i], want[i], 1e-12).ok) << p.outputs[i].first;
}

TEST(Pipeline, UnboundProgramInputIsAValueError) {
  NodeRef a = ir::input(DType::F32, {2}, "a");
  EXPECT_THROW(evaluate({ir::unary(Op::Exp, a)}, {}), ValueError);
}

}  // namespace
}  // namespace fusejit

namespace fusejit {
namespace {

PassStats runs_since(const PassStats &before) {
  PassStats now = pass_stats();
  return {now.canonicalize - before.canonicalize, now.recognize_matmul - before.recognize_matmul,
          now.fuse - before.fuse, now.plan_memory - before.plan_memory};
}

void expect_one_pipeline(const PassStats &runs, const std::string &what) {
  // canonicalize has two places in the pipeline, before and after recognize_matmul.
  EXPECT_EQ(runs.canonicalize, 2u) << what;
  EXPECT_EQ(runs.recognize_matmul, 1u) << what;
  EXPECT_EQ(runs.fuse, 1u) << what;
  EXPECT_EQ(runs.plan_memory, 1u) << what;
}

const char *kSoftmaxAndMatmul =
    "x = input f32[8, 10]\nm = max(x, 1, keepdim=true)\ne = exp(x - m)\ny = e / sum(e, 1, "
    "keepdim=true)\n"
    "a = input f32[2, 3, 1]\nb = input f32[3, 2]\nc = sum(a * b, 1)\nd = sum(a - b, 1)\nout y, c, "
    "d\n";

// What `dump --stage kernels --explain` does: one view, printed and explained
// (in text and in json alike, which read the same view).
TEST(Pipeline, KernelsStageWithExplainRunsEachPassOnce) {
  Program p = parse_program(kSoftmaxAndMatmul, "<test>");
  PassStats before = pass_stats();
  KernelsView view = kernels_view(p);
  std::string text = kernels_text(view);
  std::vector<std::string> explain = explain_fusion(view);
  expect_one_pipeline(runs_since(before), "kernels stage with --explain");
  EXPECT_NE(text.find("# note: matmul from sum"), std::string::npos) << text;
  ASSERT_FALSE(explain.empty());
  EXPECT_NE(explain.back().find("[near-miss]"), std::string::npos) << explain.back();
}

TEST(Pipeline, RealizeRunsEachPassOnceAndACacheHitNone) {
  Program p = parse_program(kSoftmaxAndMatmul, "<test>");
  Options options = default_options();
  options.numerics = Numerics::Strict;  // a key no other test compiles this graph under
  clear_plan_cache();
  PassStats before = pass_stats();
  PreparedGraph first = prepare(p.output_nodes(), options);
  expect_one_pipeline(runs_since(before), "a plan cache miss");
  EXPECT_FALSE(first.cache_hit);
  before = pass_stats();
  PreparedGraph again = prepare(p.output_nodes(), options);
  EXPECT_TRUE(again.cache_hit);
  PassStats none = runs_since(before);
  EXPECT_EQ(none.canonicalize + none.recognize_matmul + none.fuse + none.plan_memory, 0u);
}

// dump shows the plan run executes: the same options give the same kernels,
// the fusion switch included.
TEST(Pipeline, DumpAndRunShareTheirOptions) {
  Program p = parse_program(kSoftmaxAndMatmul, "<test>");
  for (bool fusion : {true, false}) {
    Options options = default_options();
    options.fusion = fusion;
    KernelsView view = kernels_view(p, options);
    PreparedGraph prepared = prepare(p.output_nodes(), options);
    ASSERT_EQ(view.plan.kernels.size(), prepared.compiled->plan.kernels.size())
        << "fusion " << fusion;
    for (size_t k = 0; k < view.plan.kernels.size(); ++k)
      EXPECT_EQ(view.plan.kernels[k].ops, prepared.compiled->plan.kernels[k].ops);
  }
  Options off = default_options();
  off.fusion = false;
  EXPECT_GT(kernels_view(p, off).plan.kernels.size(), kernels_view(p).plan.kernels.size());
}

// An options value changes one call, never the process-wide defaults.
TEST(Pipeline, OptionsApplyToOneCallOnly) {
  Options before = default_options();
  Options strict = before;
  strict.numerics = before.numerics == Numerics::Strict ? Numerics::Fast : Numerics::Strict;
  strict.threads = before.threads == 1 ? 2 : 1;
  NodeRef x = ir::input(DType::F32, {3, 4}, "x");
  Generator g(1);
  InputValues inputs{{x.get(), random_uniform(DType::F32, x->shape, g, -1, 1)}};
  evaluate({ir::reduce(Op::Sum, x, {1})}, inputs, strict);
  EXPECT_EQ(default_options().numerics, before.numerics);
  EXPECT_EQ(default_options().threads, before.threads);
}

TEST(Pipeline, SetDefaultsAreWhatOptionsStartFrom) {
  ScopedDefaults defaults(Numerics::Strict, 3);
  EXPECT_EQ(default_options().numerics, Numerics::Strict);
  EXPECT_EQ(default_options().threads, 3);
  defaults.set(Numerics::Fast, 1);
  EXPECT_EQ(current_numerics(), Numerics::Fast);
  EXPECT_EQ(default_options().threads, 1);
}

// The library logs to its own logger and leaves the application's default one alone.
TEST(Pipeline, LogsGoToTheFusejitLoggerNotTheDefaultOne) {
  std::shared_ptr<spdlog::logger> app = spdlog::default_logger();
  Tensor t = (Tensor::rand({5, 3}) * 3.0).sum();
  t.item<float>();
  EXPECT_EQ(spdlog::default_logger(), app);
  EXPECT_EQ(spdlog::get("fusejit").get(), &logger());
  EXPECT_NE(&logger(), app.get());
}

}  // namespace
}  // namespace fusejit
