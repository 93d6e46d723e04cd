// Merging adjacent domain dims that every load walks as one, so that a
// contiguous [17, 3] kernel runs one loop of 51 that vectorizes rather than
// 17 loops of 3. LLVM-free, so it can be tested on its own.
//
// Output dims merge only with output dims and reduced dims only with reduced
// dims: each output point's reduction visits the same elements in the same
// (row-major) order, so Strict results do not change.
#pragma once

#include <cstdint>

#include "ir/kernel.h"

namespace fusejit {

struct CoalescedKernel {
  Kernel kernel;  // the same computation over the merged domain
  // Steps of the merged first dim per step of the original first output dim:
  // the original range [begin, end) is [begin * scale, end * scale) here.
  int64_t parallel_scale = 1;
};

// Requires verify_kernel(k). A kernel with a zero extent, or a Matmul kernel
// (whose [batch..., m, n | k] layout the GEMM lowering relies on), is
// returned as is.
CoalescedKernel coalesce_dims(const Kernel &k);

}  // namespace fusejit
