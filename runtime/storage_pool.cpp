#include "runtime/storage_pool.h"

#include <cstdlib>
#include <map>
#include <mutex>

namespace fusejit {

namespace {

class StoragePool {
 public:
  StoragePool() {
    const char *env = std::getenv("FUSEJIT_POOL_MB");
    if (env && *env) limit_ = static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
  }

  std::shared_ptr<Storage> acquire(size_t bytes) {
    Storage *s = take(bytes);
    if (!s) s = new Storage(bytes);
    return std::shared_ptr<Storage>(s, [this](Storage *p) { give_back(p); });
  }

  PoolStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
    evict();
  }

  void trim() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t keep = limit_;
    limit_ = 0;
    evict();
    limit_ = keep;
  }

 private:
  // A free block of at least `bytes` and at most twice that, smallest first.
  Storage *take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.lower_bound(bytes);
    if (it == free_.end() || it->first > 2 * bytes + Storage::kAlignment) {
      ++stats_.misses;
      return nullptr;
    }
    Storage *s = it->second;
    free_.erase(it);
    stats_.cached_bytes -= s->bytes();
    ++stats_.hits;
    return s;
  }

  void give_back(Storage *s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (s->bytes() > limit_) {
      delete s;
      return;
    }
    free_.emplace(s->bytes(), s);
    stats_.cached_bytes += s->bytes();
    evict();
  }

  // Frees the largest blocks first until the pool is within its limit.
  void evict() {
    while (stats_.cached_bytes > limit_ && !free_.empty()) {
      auto it = std::prev(free_.end());
      stats_.cached_bytes -= it->second->bytes();
      delete it->second;
      free_.erase(it);
    }
  }

  std::mutex mu_;
  std::multimap<size_t, Storage *> free_;
  size_t limit_ = size_t{1024} << 20;
  PoolStats stats_;
};

StoragePool &pool() {
  // Never destroyed: storage may be released after main() returns.
  static StoragePool *p = new StoragePool;
  return *p;
}

}  // namespace

std::shared_ptr<Storage> acquire_storage(size_t bytes) { return pool().acquire(bytes); }
PoolStats storage_pool_stats() { return pool().stats(); }
void set_storage_pool_limit(size_t bytes) { pool().set_limit(bytes); }
void trim_storage_pool() { pool().trim(); }

}  // namespace fusejit
