#include "codegen/cpu_backend.h"

#include <algorithm>

#include "runtime/parallel_for.h"

namespace fusejit {

namespace {

// Kernels with less work than this per thread run on one thread.
constexpr int64_t kMinWorkPerThread = 1 << 15;

class CpuBackend final : public Backend {
 public:
  const char *name() const override { return "cpu"; }
  Device &device() override { return host_device(); }

  std::shared_ptr<const Executable> compile(const Kernel &k, Numerics numerics) override {
    return std::make_shared<CpuExecutable>(compile_kernel(k, numerics), k);
  }

  void launch(const Executable &kernel, const std::vector<DeviceBuffer> &buffers,
              int threads) override {
    std::vector<void *> pointers;
    pointers.reserve(buffers.size());
    for (const DeviceBuffer &b : buffers) pointers.push_back(b.address);
    static_cast<const CpuExecutable &>(kernel).run(pointers.data(), threads);
  }
};

}  // namespace

CpuExecutable::CpuExecutable(CompiledKernel kernel, const Kernel &k) : kernel_(std::move(kernel)) {
  int64_t work = numel(k.domain);
  writes_nothing_ = work == 0 && numel(k.output_shape()) == 0;
  int64_t per_unit = std::max<int64_t>(1, work / std::max<int64_t>(kernel_.parallel_extent, 1));
  min_chunk_ = std::max<int64_t>(1, kMinWorkPerThread / per_unit);
}

void CpuExecutable::run(void *const *buffers, int threads) const {
  if (writes_nothing_) return;
  KernelFn fn = kernel_.fn;
  if (threads <= 0) threads = num_threads();
  parallel_for(threads, kernel_.parallel_extent, min_chunk_,
               [&](int64_t begin, int64_t end) { fn(buffers, begin, end); });
}

Backend &cpu_backend() {
  // Never destroyed, as the JIT engine whose kernels it launches.
  static CpuBackend *backend = new CpuBackend();
  return *backend;
}

Backend &default_backend() { return cpu_backend(); }

}  // namespace fusejit
