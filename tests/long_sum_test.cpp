// Long sums keep f32 accuracy: blocked accumulation in both numerics, in
// reductions and matmuls (a single f32 accumulator stalls at 2^24), Strict's
// fixed and documented order at any thread count, and a check tolerance
// that no longer lets a wrong long sum pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <fusejit/fusejit.h>

#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "runtime/compare.h"
#include "runtime/parallel_for.h"
#include "runtime/random.h"
#include "scoped_defaults.h"

namespace fusejit {
namespace {

using ir::expand;
using ir::input;
using ir::reduce;

constexpr int64_t kLong = 20'000'000;  // past 2^24 = 16777216
constexpr int64_t kBlock = 4096;       // the lowering's sum block (ir/README.md)

// Sets numerics and threads for one test and restores the defaults after.
struct NumericsScope {
  NumericsScope(Numerics numerics, int threads) : defaults(numerics, threads) {
    clear_plan_cache();
  }
  ScopedDefaults defaults;
};

Buffer filled(Shape shape, float value) {
  Buffer b(DType::F32, std::move(shape));
  std::fill(b.data<float>(), b.data<float>() + b.numel(), value);
  return b;
}

// Strict's documented order for one reduced dim of n elements: blocks of
// `step` elements, each summed from 0 in order (recursively, in blocks of
// step / 4096), and the block sums added in order from 0. volatile: no
// reordering by this compiler either.
float documented_sum(const float *p, int64_t lo, int64_t hi, int64_t step) {
  volatile float acc = 0;
  if (step == 1) {
    for (int64_t i = lo; i < hi; ++i) acc = acc + p[i];
    return acc;
  }
  for (int64_t s = lo; s < hi; s += step)
    acc = acc + documented_sum(p, s, std::min(s + step, hi), step / kBlock);
  return acc;
}
float documented_sum(const float *p, int64_t n) {
  int64_t step = 1;
  while ((n + step - 1) / step > kBlock) step *= kBlock;
  return documented_sum(p, 0, n, step);
}

class LongSum : public ::testing::TestWithParam<Numerics> {};

// 2e7 ones: read from memory, summed over all elements (a flattened domain
// and a permuted one that does not flatten), over rows with a row of
// accumulators, and along a broadcast dim; and their mean.
TEST_P(LongSum, TwentyMillionOnesSumToTwentyMillion) {
  NumericsScope scope(GetParam(), 1);
  NodeRef x = input(DType::F32, {kLong}, "x");
  NodeRef row = input(DType::F32, {1, 4}, "row"), column = input(DType::F32, {4, 1}, "column");
  std::vector<NodeRef> roots = {
      reduce(Op::Sum, x, {}),
      reduce(Op::Sum, ir::permute(ir::reshape(x, {5000, 4000}), {1, 0}), {}),
      reduce(Op::Sum, expand(row, {kLong, 4}), {0}),
      reduce(Op::Sum, expand(column, {4, kLong}), {1}),
      reduce(Op::Mean, x, {}),
  };
  InputValues inputs{{x.get(), filled({kLong}, 1)},
                     {row.get(), filled({1, 4}, 1)},
                     {column.get(), filled({4, 1}, 1)}};
  std::vector<Buffer> got = evaluate(roots, inputs);
  for (size_t r = 0; r + 1 < roots.size(); ++r)
    for (int64_t i = 0; i < got[r].numel(); ++i)
      EXPECT_EQ(got[r].get(i), double(kLong)) << "root " << r << " element " << i;
  EXPECT_NEAR(got.back().get(0), 1.0, 2e-7) << "the mean";
}

// sum(abs(x) + 1) over 4096 x 4096 (all positive: rounding errors do not
// cancel), and its mean, within a few f32 ulps of the double reference.
TEST_P(LongSum, PositiveSumOf4096SquaredKeepsF32Accuracy) {
  NumericsScope scope(GetParam(), 1);
  NodeRef x = input(DType::F32, {4096, 4096}, "x");
  NodeRef y = ir::binary(Op::Add, ir::unary(Op::Abs, x), ir::constant(1.0, DType::F32));
  std::vector<NodeRef> roots = {reduce(Op::Sum, y, {}), reduce(Op::Mean, y, {}),
                                reduce(Op::Sum, ir::reshape(y, {1 << 20, 16}), {0})};
  Generator g(11);
  InputValues inputs{{x.get(), random_uniform(DType::F32, x->shape, g, -1, 1)}};
  std::vector<Buffer> got = evaluate(roots, inputs), want = evaluate_reference(roots, inputs);
  for (size_t r = 0; r < roots.size(); ++r)
    for (int64_t i = 0; i < got[r].numel(); ++i) {
      double w = want[r].get(i);
      EXPECT_NEAR(got[r].get(i), w, 1e-5 * w) << "root " << r << " element " << i;
    }
}

// A matmul's k loop is blocked too: 2^25 ones along k through expanded
// operands (no memory), past the packed path's k blocks.
TEST_P(LongSum, MatmulOverTwoToThe25OnesSumsExactly) {
  NumericsScope scope(GetParam(), 1);
  constexpr int64_t k = int64_t(1) << 25;
  NodeRef a = input(DType::F32, {1, 1}, "a"), b = input(DType::F32, {1, 16}, "b");
  NodeRef c = ir::matmul(expand(a, {3, k}), expand(b, {k, 16}));
  InputValues inputs{{a.get(), filled({1, 1}, 1)}, {b.get(), filled({1, 16}, 1)}};
  Buffer got = evaluate({c}, inputs)[0];
  for (int64_t i = 0; i < got.numel(); ++i) EXPECT_EQ(got.get(i), double(k)) << "element " << i;
}

INSTANTIATE_TEST_SUITE_P(BothNumerics, LongSum, ::testing::Values(Numerics::Fast, Numerics::Strict),
                         [](const auto &info) { return std::string(numerics_name(info.param)); });

// Strict sums in the order ir/README.md documents, and gives the same bits
// at 1 and 2 threads: over all elements, along rows, and over rows.
TEST(LongSumStrict, FollowsTheDocumentedOrderAtAnyThreadCount) {
  NodeRef x = input(DType::F32, {kLong}, "x");
  std::vector<NodeRef> roots = {reduce(Op::Sum, x, {}),
                                reduce(Op::Sum, ir::reshape(x, {4, kLong / 4}), {1}),
                                reduce(Op::Sum, ir::reshape(x, {5000, 4000}), {0})};
  Generator g(12);
  Buffer values = random_uniform(DType::F32, {kLong}, g, -1, 1);
  InputValues inputs{{x.get(), values}};
  std::vector<Buffer> results[2];
  for (int threads : {1, 2}) {
    NumericsScope scope(Numerics::Strict, threads);
    results[threads - 1] = evaluate(roots, inputs);
  }
  for (size_t r = 0; r < roots.size(); ++r)
    EXPECT_EQ(std::memcmp(results[0][r].raw(), results[1][r].raw(), results[0][r].bytes()), 0)
        << "root " << r;

  const float *p = values.data<float>();
  EXPECT_EQ(results[0][0].data<float>()[0], documented_sum(p, kLong));
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_EQ(results[0][1].data<float>()[i], documented_sum(p + i * (kLong / 4), kLong / 4))
        << "row " << i;
  // Over rows: column j is elements j, j + 4000, ...; two blocks of rows.
  for (int64_t j : {0, 1, 3999}) {
    std::vector<float> column(5000);
    for (int64_t i = 0; i < 5000; ++i) column[i] = p[i * 4000 + j];
    EXPECT_EQ(results[0][2].data<float>()[j], documented_sum(column.data(), 5000))
        << "column " << j;
  }
}

// The check tolerance grows with the reduction length only up to a small
// fraction of the value: before, 1e-5 * sqrt(K) passed anything for K >= 1e10.
TEST(CheckTolerance, AnEightySevenPercentErrorFailsWhateverTheLength) {
  NodeRef x = input(DType::F32, {1}, "x");
  NodeRef total = reduce(Op::Sum, expand(x, {100'000, 100'000}), {});  // K = 1e10
  double tolerance = tolerance_for(total);
  EXPECT_LE(tolerance, 1e-2);
  for (float want : {1e10f, 0.5f}) {
    Buffer w = Buffer::from_vector<float>({want}, {}),
           got = Buffer::from_vector<float>({want / 8}, {});
    Comparison c = compare_values(got, w, tolerance);
    EXPECT_FALSE(c.ok) << want << ": " << c.describe();
  }
  // f64 too (9e18 terms).
  NodeRef y = input(DType::F64, {1}, "y");
  EXPECT_LE(tolerance_for(reduce(Op::Sum, expand(y, {3'000'000'000, 3'000'000'000}), {})), 1e-8);
  // Short reductions keep the tolerance they had.
  EXPECT_DOUBLE_EQ(default_tolerance(DType::F32, 100.0), 1e-4);
  EXPECT_DOUBLE_EQ(default_tolerance(DType::F64, 1e6), 1e-9);
}

// An f64 output computed in f32 is checked at f32's tolerance: the f32
// sigmoid behind it may round one f32 ulp (6e-8) from the interpreter's.
TEST(CheckTolerance, AnF64CastOfAnF32ValueHasF32Tolerance) {
  NodeRef x = input(DType::F64, {3}, "x");
  NodeRef in_f32 = ir::cast(ir::unary(Op::Sigmoid, ir::cast(x, DType::F32)), DType::F64);
  EXPECT_DOUBLE_EQ(tolerance_for(in_f32), default_tolerance(DType::F32, 1));
  EXPECT_DOUBLE_EQ(tolerance_for(ir::unary(Op::Sigmoid, x)), default_tolerance(DType::F64, 1));
  // Integer results stay exact whatever computed them.
  EXPECT_EQ(tolerance_for(ir::cast(ir::cast(x, DType::F32), DType::I32)), 0);
}

}  // namespace
}  // namespace fusejit
