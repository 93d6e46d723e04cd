#include "codegen/cpu_backend.h"

#include <algorithm>
#include <atomic>

#include "codegen/gemm_blocking.h"
#include "codegen/lower_kernel.h"
#include "runtime/kernel_eval.h"

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
  if (kernel_has_status(k)) checked_ = std::make_shared<const Kernel>(k);
  int64_t work = numel(k.domain);
  writes_nothing_ = work == 0 && numel(k.output_shape()) == 0;
  int64_t per_unit = std::max<int64_t>(1, work / std::max<int64_t>(kernel_.parallel_extent, 1));
  min_chunk_ = std::max<int64_t>(1, kMinWorkPerThread / per_unit);
  // A call on row panels [begin, end) packs every column of B, one on column
  // panels every row of A: with 8 chunks a thread, the dw GEMM of a 3x3
  // convolution (B a window view, K 25088) packed B 11 times, 5x slower on
  // 2 threads than on one.
  one_chunk_per_thread_ = k.kind() == KernelKind::Matmul && gemm_blocking(k).packed;
}

int64_t CpuExecutable::min_chunk(int threads) const {
  if (!one_chunk_per_thread_) return min_chunk_;
  return std::max(min_chunk_, kernel_.parallel_extent / std::max(threads, 1));
}

void CpuExecutable::run(void *const *buffers, int threads) const {
  if (writes_nothing_) return;
  KernelFn fn = kernel_.fn;
  if (threads <= 0) threads = num_threads();
  if (!checked_) {
    parallel_for(threads, kernel_.parallel_extent, min_chunk(threads),
                 [&](int64_t begin, int64_t end) { fn(buffers, begin, end); });
    return;
  }
  const Kernel &k = *checked_;
  const size_t n = k.inputs.size() + k.outputs.size();
  std::vector<void *> with_status(buffers, buffers + n);
  std::atomic<uint8_t> status{0};
  with_status.push_back(&status);
  parallel_for(threads, kernel_.parallel_extent, min_chunk(threads),
               [&](int64_t begin, int64_t end) { fn(with_status.data(), begin, end); });
  if (status.load() != 0) report_status(k, buffers);
}

void CpuExecutable::report_status(const Kernel &k, void *const *buffers) {
  // Some thread divided by zero or gathered out of bounds. The kernel's plain evaluation walks the
  // domain in order, so the error it throws names the first such point
  // and its values, whatever the threads did; the outputs are scratch.
  std::vector<Buffer> in, out;
  auto wrap = [&](void *p, DType t, const Shape &shape) {
    size_t bytes = static_cast<size_t>(numel(shape)) * dtype_size(t);
    return Buffer(t, shape, Storage::borrow(p, bytes));
  };
  for (size_t i = 0; i < k.inputs.size(); ++i)
    in.push_back(wrap(buffers[i], k.inputs[i].dtype, k.inputs[i].shape));
  for (size_t j = 0; j < k.outputs.size(); ++j)
    out.emplace_back(k.body.at(static_cast<size_t>(k.outputs[j].instr)).dtype, k.output_shape());
  std::vector<const Buffer *> ins;
  std::vector<Buffer *> outs;
  for (const Buffer &b : in) ins.push_back(&b);
  for (Buffer &b : out) outs.push_back(&b);
  eval_kernel(k, ins, outs);
  throw InternalError("kernel " + k.name +
                      " reported a division by zero or an index out of bounds its evaluation "
                      "did not");
}

Backend &cpu_backend() {
  // Never destroyed, as the JIT engine whose kernels it launches.
  static CpuBackend *backend = new CpuBackend();
  return *backend;
}

Backend &default_backend() { return cpu_backend(); }

}  // namespace fusejit
