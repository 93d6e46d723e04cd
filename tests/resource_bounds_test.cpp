// Resource bounds: graphs too deep or too large for one kernel are split,
// not refused, and no pass recurses per node; the plan cache and the JIT's
// loaded kernels stay within their capacities, so a process that meets ever
// new shapes keeps a flat memory footprint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include <fusejit/fusejit.h>

#include "codegen/jit_engine.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "runtime/compare.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

// tanh(y + x), `length` times: every op real, values bounded, and the map
// contracts, so rounding differences do not grow along the chain.
NodeRef chain(const NodeRef &x, int length) {
  NodeRef y = x;
  for (int i = 0; i < length; ++i) y = i % 2 ? ir::unary(Op::Tanh, y) : ir::binary(Op::Add, y, x);
  return y;
}

void expect_jit_matches_interpreter(const NodeRef &root, const NodeRef &x) {
  Generator g(5);
  InputValues inputs{{x.get(), random_uniform(x->dtype, x->shape, g, -1, 1)}};
  Buffer got = evaluate({root}, inputs)[0];
  Buffer want = evaluate_reference({root}, inputs)[0];
  Comparison c = compare_values(got, want, default_tolerance(root->dtype, 16));
  EXPECT_TRUE(c.ok) << c.describe();
}

TEST(ResourceBounds, TenThousandOpChainIsSplitIntoKernels) {
  NodeRef x = ir::input(DType::F32, {37}, "x");
  NodeRef y = chain(x, 10000);
  EXPECT_NO_THROW(verify({y}));
  Plan plan = fuse(optimize_graph({y}, Numerics::Fast));
  EXPECT_GE(plan.kernels.size(), static_cast<size_t>(10000 / kMaxKernelOps));
  std::string text = print_program({{x}, {{"x", x}}, {{"y", y}}});
  Program again = parse_program(text);
  EXPECT_EQ(print_program(again), text);
  expect_jit_matches_interpreter(y, x);
}

// Every pass walks the graph with explicit worklists: a recursion per node
// would overflow the stack long before 100,000.
TEST(ResourceBounds, HundredThousandDeepChainRunsEndToEnd) {
  NodeRef x = ir::input(DType::F64, {3}, "x");
  NodeRef y = chain(x, 100000);
  EXPECT_NO_THROW(verify({y}));
  EXPECT_GT(print_program({{x}, {{"x", x}}, {{"y", y}}}).size(), 100000u);
  expect_jit_matches_interpreter(y, x);
}

#ifdef __SANITIZE_ADDRESS__
constexpr bool kAddressSanitizer = true;  // its quarantine holds freed memory on purpose
#else
constexpr bool kAddressSanitizer = false;
#endif

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// A graph of a new shape each time: a new plan and a new kernel.
float run_shape(int64_t n) {
  Tensor x = Tensor::rand({n, 3}, DType::F32, static_cast<uint64_t>(n));
  return ((x * 2.0 + 1.0).exp() - x).sum().item<float>();
}

// Restores the default capacities however the test ends.
struct SmallCaches {
  SmallCaches() {
    set_plan_cache_capacity(16);
    jit_engine().set_max_kernels(32);
  }
  ~SmallCaches() {
    set_plan_cache_capacity(512);
    jit_engine().set_max_kernels(2048);
  }
};

TEST(ResourceBounds, MemoryStaysFlatAcrossAThousandShapes) {
  SmallCaches caches;
  for (int64_t n = 1; n <= 200; ++n) run_shape(n);  // warm-up: caches fill, pools settle
  int64_t before = resident_bytes();
  uint64_t unloaded_before = jit_engine().stats().unloaded;
  for (int64_t n = 201; n <= 1000; ++n) run_shape(n);
  int64_t growth = resident_bytes() - before;
  JitStats jit = jit_engine().stats();
  if (!kAddressSanitizer) {
    EXPECT_LT(growth, 8 << 20) << "RSS grew " << growth << " bytes over 800 new shapes";
  }
  EXPECT_LE(jit.loaded, 32u + 1);
  EXPECT_GE(jit.unloaded - unloaded_before, 700u);
  EXPECT_LE(pipeline_stats().plans_cached, 16u);
}

// A kernel a plan still holds is never unloaded, however small the capacity;
// one that was unloaded compiles again when it is asked for.
TEST(ResourceBounds, HeldKernelsSurviveAndUnloadedOnesComeBack) {
  SmallCaches caches;
  jit_engine().set_max_kernels(1);
  NodeRef x = ir::input(DType::F32, {5, 7}, "x");
  NodeRef y = ir::reduce(Op::Sum, ir::unary(Op::Exp, x), {1});
  PreparedGraph held = prepare({y}, Numerics::Fast);
  for (int64_t n = 2001; n <= 2040; ++n) run_shape(n);
  clear_plan_cache();
  Generator g(3);
  Buffer in = random_uniform(DType::F32, x->shape, g, -1, 1);
  Buffer got = run_compiled(*held.compiled, {in})[0];
  Buffer want = evaluate_reference({y}, {{x.get(), in}})[0];
  EXPECT_TRUE(compare_values(got, want, default_tolerance(DType::F32, 7)).ok);
  held = {};
  uint64_t compiles = jit_engine().stats().compiles;
  uint64_t disk_hits = jit_engine().stats().disk_hits;
  float again = run_shape(2001);  // its kernel was unloaded long ago
  EXPECT_GT(jit_engine().stats().compiles + jit_engine().stats().disk_hits, compiles + disk_hits);
  EXPECT_TRUE(std::isfinite(again));
}

TEST(ResourceBounds, PlanCacheIsLeastRecentlyUsed) {
  SmallCaches caches;
  set_plan_cache_capacity(4);
  for (int64_t n = 3001; n <= 3010; ++n) run_shape(n);
  EXPECT_LE(pipeline_stats().plans_cached, 4u);
  uint64_t misses = pipeline_stats().plan_misses;
  run_shape(3010);  // recent: a hit
  EXPECT_EQ(pipeline_stats().plan_misses, misses);
  run_shape(3001);  // long evicted: compiled again
  EXPECT_EQ(pipeline_stats().plan_misses, misses + 1);
}

}  // namespace
}  // namespace fusejit
