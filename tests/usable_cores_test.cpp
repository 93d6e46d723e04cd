#include "runtime/usable_cores.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "runtime/parallel_for.h"

namespace fusejit {
namespace {

TEST(UsableCores, Cgroup2Quota) {
  EXPECT_EQ(cgroup2_cpu_limit("150000 100000\n"), 1.5);
  EXPECT_EQ(cgroup2_cpu_limit("200000 100000"), 2.0);
  EXPECT_EQ(cgroup2_cpu_limit("max 100000\n"), std::nullopt);
  EXPECT_EQ(cgroup2_cpu_limit(""), std::nullopt);
  EXPECT_EQ(cgroup2_cpu_limit("100000"), std::nullopt);
  EXPECT_EQ(cgroup2_cpu_limit("0 100000"), std::nullopt);
  EXPECT_EQ(cgroup2_cpu_limit("50000 x"), std::nullopt);
}

TEST(UsableCores, Cgroup1Quota) {
  EXPECT_EQ(cgroup1_cpu_limit("50000\n", "100000\n"), 0.5);
  EXPECT_EQ(cgroup1_cpu_limit("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cgroup1_cpu_limit("300000", "100000"), 3.0);
  EXPECT_EQ(cgroup1_cpu_limit("abc", "100000"), std::nullopt);
  EXPECT_EQ(cgroup1_cpu_limit("100000", "0"), std::nullopt);
}

TEST(UsableCores, LimitRoundsUpToAThreadCount) {
  EXPECT_EQ(cores_for_limit(0.5), 1);
  EXPECT_EQ(cores_for_limit(1.0), 1);
  EXPECT_EQ(cores_for_limit(1.5), 2);
  EXPECT_EQ(cores_for_limit(2.0), 2);
  EXPECT_EQ(cores_for_limit(0.0), 1);
}

// The count never exceeds the CPUs the affinity mask allows: narrowing the
// mask to one CPU (as taskset would) makes it 1.
TEST(UsableCores, FollowsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int allowed = CPU_COUNT(&saved);
  EXPECT_GE(usable_cores(), 1);
  EXPECT_LE(usable_cores(), allowed);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  // The mask is per thread; run the narrowed query on a thread of its own
  // so the test process keeps its mask.
  int narrowed = 0;
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    if (sched_setaffinity(0, sizeof(one), &one) == 0) narrowed = usable_cores();
  });
  t.join();
  EXPECT_EQ(narrowed, 1);
}

}  // namespace
}  // namespace fusejit
