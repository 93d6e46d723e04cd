#include "runtime/parallel_for.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>

#include "ir/error.h"
#include "runtime/usable_cores.h"

namespace fusejit {

namespace {

// 0: not set, FUSEJIT_NUM_THREADS (else every usable core) decides.
std::atomic<int> override_threads{0};

// Chunks per thread in a parallel loop: enough to balance a thread slowed by
// other work on its core, few enough that each chunk stays long.
constexpr int kChunksPerThread = 8;

int default_threads() {
  static const int n = [] {
    int cores = usable_cores();
    const char *env = std::getenv("FUSEJIT_NUM_THREADS");
    if (!env || !*env) return cores;
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1)
      throw ValueError(std::string("FUSEJIT_NUM_THREADS='") + env +
                       "': expected a positive integer");
    return static_cast<int>(std::min<long>(v, cores * 4L));
  }();
  return n;
}

}  // namespace

int num_threads() {
  int o = override_threads.load();
  return o > 0 ? o : default_threads();
}

void set_num_threads(int n) { override_threads.store(std::max(0, n)); }

void parallel_for(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)> &body) {
  parallel_for(num_threads(), n, min_chunk, body);
}

void parallel_for(int max_threads, int64_t n, int64_t min_chunk,
                  const std::function<void(int64_t, int64_t)> &body) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(min_chunk, 1);
  int threads = static_cast<int>(std::min<int64_t>(std::max(max_threads, 1), n / min_chunk));
  if (threads <= 1) {
    body(0, n);
    return;
  }
  // More chunks than threads, taken from a shared counter: a thread whose
  // core is busy with something else takes fewer, instead of the whole loop
  // waiting for its fixed half.
  int64_t chunks = std::min<int64_t>(n / min_chunk, int64_t{kChunksPerThread} * threads);
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mu;
#pragma omp parallel num_threads(threads)
  {
    try {
      for (int64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
        body(n * c / chunks, n * (c + 1) / chunks);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
      next.store(chunks);  // the others stop at their next chunk
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace fusejit
