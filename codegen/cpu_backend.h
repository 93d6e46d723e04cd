// The CPU backend: kernels compiled by the process's JitEngine
// (compile_kernel.h), launched under parallel_for on host memory.
#pragma once

#include <memory>

#include "codegen/backend.h"
#include "codegen/compile_kernel.h"

namespace fusejit {

// What the CPU backend's compile returns: the compiled kernel, and how much
// work each of its parallel units does, which decides how many threads a
// launch is worth.
class CpuExecutable final : public Executable {
 public:
  CpuExecutable(CompiledKernel kernel, const Kernel &k);
  const CompiledKernel &kernel() const { return kernel_; }
  // Runs the kernel on host pointers (kernel inputs, then outputs), on up to
  // `threads` threads (0: num_threads()).
  // An integer division by zero or a gathered index out of bounds in the kernel throws the error of
  // eval_kernel, naming the first point and its values.
  void run(void *const *buffers, int threads = 0) const;

 private:
  int64_t min_chunk(int threads) const;
  [[noreturn]] static void report_status(const Kernel &k, void *const *buffers);

  CompiledKernel kernel_;
  int64_t min_chunk_ = 1;  // units per thread at least
  // A packed GEMM packs its shared operand once per call: one chunk per
  // thread, not several (each would pack it again).
  bool one_chunk_per_thread_ = false;
  bool writes_nothing_ = false;
  // A kernel that has a status slot (kernel_has_status), kept to report its errors.
  std::shared_ptr<const Kernel> checked_;
};

Backend &cpu_backend();

}  // namespace fusejit
