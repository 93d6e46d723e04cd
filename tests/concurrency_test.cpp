// Several threads build and realize independent graphs at once, sharing the
// engine's caches: the hash-consing table (identical subgraphs), the plan
// cache (identical structures), the JIT (identical kernels, compiled once
// while others wait) and the storage pool. Run under ThreadSanitizer in CI
// (scripts/test.sh); here it checks every result against the interpreter,
// and that backward() calls on several threads into one leaf lose no update.
#include <gtest/gtest.h>

#include <thread>

#include <fusejit/fusejit.h>

#include "codegen/jit_engine.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "runtime/compare.h"

namespace fusejit {
namespace {

constexpr int kThreads = 4;
constexpr int kSteps = 12;

// Shapes repeat across threads (same plans and kernels, requested at once)
// and differ between steps (new plans while other threads dispatch).
Tensor build(const Tensor &shared, int thread, int step) {
  int64_t rows = 1 + step % 4;
  Tensor x = Tensor::rand({rows, 7}, DType::F32, static_cast<uint64_t>(thread * 100 + step));
  Tensor h = (x.matmul(shared) + 0.5).relu();  // matmul with an epilogue
  Tensor soft = (h - h.max({1}, true)).exp();  // softmax: a materialized reduction
  Tensor y = soft / soft.sum({1}, true);
  return y.t().reshape({-1}) * (thread % 2 ? 2.0 : 3.0);  // a view of a result
}

void run_thread(const Tensor &shared, int thread, std::string &failure) {
  for (int step = 0; step < kSteps && failure.empty(); ++step) {
    Tensor y = build(shared, thread, step);
    // The reference first: once realized, the node holds its value.
    Buffer want = evaluate_reference({y.node()}, {})[0];
    Buffer got = realize({y.node()})[0];
    Comparison c = compare_values(got, want, default_tolerance(DType::F32, 7));
    if (!c.ok)
      failure = "thread " + std::to_string(thread) + " step " + std::to_string(step) + ": " +
                c.describe();
  }
}

// Runs run_thread on kThreads threads at once; each one's failure, or "".
std::vector<std::string> run_threads(const Tensor &shared) {
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        run_thread(shared, t, failures[t]);
      } catch (const std::exception &e) {
        failures[t] = e.what();
      }
    });
  for (std::thread &t : threads) t.join();
  return failures;
}

TEST(Concurrency, ThreadsRealizeIndependentGraphsSharingTheCaches) {
  Tensor shared = Tensor::rand({7, 5}, DType::F32, 1);
  std::vector<std::string> failures = run_threads(shared);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

// The same, while the caches are as small as they go: plans are dropped and
// kernels unloaded under threads that are about to use them.
TEST(Concurrency, TinyCachesUnderConcurrentUse) {
  set_plan_cache_capacity(1);
  jit_engine().set_max_kernels(1);
  Tensor shared = Tensor::rand({7, 5}, DType::F32, 2);
  std::vector<std::string> failures = run_threads(shared);
  set_plan_cache_capacity(512);
  jit_engine().set_max_kernels(2048);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

// Backward calls on several threads into one shared leaf: every gradient is
// added, none lost to another thread's read-add-write. d sum(w*w)/dw = 2w is
// 2 per call on ones, exact in f32, so 2 threads x 200 calls give exactly 800.
TEST(Concurrency, BackwardIntoASharedLeafLosesNoUpdate) {
  constexpr int kBackwardThreads = 2, kCalls = 200;
  Tensor w = Tensor::ones({3}).requires_grad_();
  std::vector<std::string> failures(kBackwardThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kBackwardThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kCalls; ++i) (w * w).sum().backward();
      } catch (const std::exception &e) {
        failures[t] = e.what();
      }
    });
  for (std::thread &t : threads) t.join();
  for (int t = 0; t < kBackwardThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(w.grad().to_vector<float>(), std::vector<float>(3, 2.0f * kBackwardThreads * kCalls));
}

// grad() and zero_grad() on other threads while backward() runs: each reads or
// drops a whole gradient, never a torn one, and the grad that remains is the
// sum of the calls after the last zero_grad().
TEST(Concurrency, GradAndZeroGradWhileBackwardRuns) {
  Tensor w = Tensor::ones({3}).requires_grad_();
  std::string failure;
  std::thread reader([&] {
    try {
      for (int i = 0; i < 100; ++i) {
        Tensor g = w.grad();
        if (g.defined() && g.to_vector<float>()[0] < 2.0f) failure = "a grad below one call's 2";
        if (i % 10 == 0) w.zero_grad();
      }
    } catch (const std::exception &e) {
      failure = e.what();
    }
  });
  for (int i = 0; i < 100; ++i) (w * w).sum().backward();
  reader.join();
  EXPECT_EQ(failure, "");
  w.zero_grad();
  (w * w).sum().backward();
  (w * w).sum().backward();
  EXPECT_EQ(w.grad().to_vector<float>(), std::vector<float>(3, 4.0f));
}

}  // namespace
}  // namespace fusejit
