// Runs a row kernel (KernelKind::Row) with plain scalar loops, phase by
// phase per row as ir/kernel.h defines them: the oracle of lower_rows.
#pragma once

#include <vector>

#include "ir/kernel.h"
#include "runtime/buffer.h"

namespace fusejit {

// As eval_kernel (runtime/kernel_eval.h), for a row kernel.
void eval_row_kernel(const Kernel &k, const std::vector<const Buffer *> &inputs,
                     const std::vector<Buffer *> &outputs);

}  // namespace fusejit
