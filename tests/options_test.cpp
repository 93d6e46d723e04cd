// Per-call options: a realize given its own Options compiles and runs by
// them, and the process defaults stay as they were.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <fusejit/fusejit.h>

#include "codegen/jit_engine.h"
#include "engine/pipeline.h"
#include "engine/tensor.h"
#include "runtime/storage_pool.h"
#include "tests/scoped_defaults.h"

namespace fusejit {
namespace {

TEST(Options, DefaultsComeFromTheSetters) {
  ScopedDefaults defaults(Numerics::Strict, 1);
  Options o = default_options();
  EXPECT_EQ(o.numerics, Numerics::Strict);
  EXPECT_EQ(o.threads, 1);
  EXPECT_TRUE(o.fusion);
}

TEST(Options, APerCallOptionTakesEffectForThatCallOnly) {
  ScopedDefaults defaults(Numerics::Fast, 2);
  Tensor a = Tensor::from_vector(std::vector<float>{-1, 0.5, 2, 3}, {4});
  // A graph no other test builds, so its plan is compiled here.
  Tensor y = ((a * 3.25 + 0.125).relu() * a).exp();
  Options options = default_options();
  options.numerics = Numerics::Strict;
  options.threads = 1;
  options.fusion = false;
  y.realize(options);
  std::vector<float> got = y.to_vector<float>();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_FLOAT_EQ(got[3], std::exp((3 * 3.25f + 0.125f) * 3));
  // The plan it compiled is the strict, unfused one: the same graph on
  // another input finds it in the plan cache under those options, one
  // kernel per op.
  Tensor b = Tensor::from_vector(std::vector<float>{4, 5, 6, 7}, {4});
  PreparedGraph strict_unfused = prepare({((b * 3.25 + 0.125).relu() * b).exp().node()}, options);
  EXPECT_TRUE(strict_unfused.cache_hit);
  EXPECT_EQ(strict_unfused.compiled->kernels.size(), 5u);
  EXPECT_EQ(strict_unfused.compiled->numerics, Numerics::Strict);
  // The defaults did not move.
  Options after = default_options();
  EXPECT_EQ(after.numerics, Numerics::Fast);
  EXPECT_EQ(after.threads, 2);
  EXPECT_TRUE(after.fusion);
}

TEST(Options, RealizeSeveralTensorsInOneCall) {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor s = (a * 7.5).sum(), m = (a * 7.5).max();
  realize({s, m}, default_options());
  EXPECT_EQ(s.item<double>(), 45.0);
  EXPECT_EQ(m.item<double>(), 22.5);
  Tensor undefined;
  EXPECT_THROW(realize({s, undefined}), ValueError);
}

TEST(Options, CacheCapacitiesAreSettable) {
  set_kernel_cache_capacity(64);
  set_plan_cache_capacity(64);
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2}, {2});
  EXPECT_EQ((a * 9.0).sum().item<float>(), 27.0f);
  // A pool limit of 0 keeps no freed buffer.
  set_storage_pool_limit(0);
  EXPECT_EQ(storage_pool_stats().cached_bytes, 0u);
  EXPECT_EQ((a * 11.0).sum().item<float>(), 33.0f);
  EXPECT_EQ(storage_pool_stats().cached_bytes, 0u);
  // Back to the sizes the environment gives (FUSEJIT_KERNEL_CACHE and the
  // others are unset in the tests: their defaults).
  JitOptions env = JitOptions::from_env();
  set_kernel_cache_capacity(env.max_kernels);
  set_plan_cache_capacity(512);
  set_storage_pool_limit(size_t(1024) << 20);
}

}  // namespace
}  // namespace fusejit
