// The storage pool and parallel_for.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "ir/error.h"
#include "runtime/parallel_for.h"
#include "runtime/storage_pool.h"

namespace fusejit {
namespace {

TEST(StoragePool, ReleasedStorageIsReused) {
  trim_storage_pool();
  const void *first;
  {
    auto s = acquire_storage(1 << 20);
    first = s->data();
  }
  PoolStats before = storage_pool_stats();
  EXPECT_GE(before.cached_bytes, size_t{1} << 20);
  auto again = acquire_storage((1 << 20) - 100);
  EXPECT_EQ(again->data(), first) << "a slightly smaller request reuses the freed block";
  EXPECT_EQ(storage_pool_stats().hits, before.hits + 1);
  // Much smaller requests do not take a block more than twice their size.
  auto small = acquire_storage(1000);
  EXPECT_NE(small->data(), first);
}

TEST(StoragePool, StaysWithinItsLimit) {
  set_storage_pool_limit(4 << 20);
  {
    std::vector<std::shared_ptr<Storage>> blocks;
    for (int i = 0; i < 8; ++i) blocks.push_back(acquire_storage(1 << 20));
  }
  EXPECT_LE(storage_pool_stats().cached_bytes, size_t{4} << 20);
  set_storage_pool_limit(size_t{1024} << 20);
}

TEST(ParallelFor, CoversTheRangeOnceInDisjointChunks) {
  for (int threads : {1, 2, 3}) {
    for (int64_t n : {0, 1, 3, 17, 1000}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      parallel_for(threads, n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) seen[i]++;
      });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ParallelFor, PropagatesExceptions) {
  EXPECT_THROW(parallel_for(2, 100, 1,
                            [](int64_t b, int64_t) {
                              if (b == 0) throw ValueError("from a worker");
                            }),
               ValueError);
}

}  // namespace
}  // namespace fusejit
