// The seam between plans and the hardware that runs them. A backend
// compiles a kernel of the kernel IR into something its device can launch,
// and launches it on buffers in that device's memory (runtime/device.h).
// engine/ runs every plan through this interface alone; the CPU JIT
// (cpu_backend.h) is today's one backend, and another (a GPU's, through
// LLVM's NVPTX target) would be a new implementation here and a Device in
// runtime/, with no change to engine/.
#pragma once

#include <memory>
#include <vector>

#include "codegen/jit.h"
#include "ir/kernel.h"
#include "runtime/device.h"

namespace fusejit {

// A kernel compiled by one backend, launchable by that backend only.
class Executable {
 public:
  virtual ~Executable() = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char *name() const = 0;

  // Where the buffers of this backend's kernels live.
  virtual Device &device() = 0;

  // `k` compiled under `numerics`, or found in the backend's caches.
  // Throws InternalError for an inconsistent kernel, CompileError if the
  // compiler rejects it.
  virtual std::shared_ptr<const Executable> compile(const Kernel &k, Numerics numerics) = 0;

  // Runs `kernel` (from this backend's compile) to completion on
  // `buffers`: the kernel's inputs, then its outputs, in device() memory.
  // `threads` is how many host threads the launch may use (0: num_threads());
  // a backend whose kernels run on a device need not heed it.
  virtual void launch(const Executable &kernel, const std::vector<DeviceBuffer> &buffers,
                      int threads) = 0;
};

// The backend plans run on: the CPU JIT.
Backend &default_backend();

}  // namespace fusejit
