// Deterministic text of a kernel, for `fusejit dump --stage kernels` and the
// FileCheck fusion tests.
#pragma once

#include <string>

#include "ir/kernel.h"

namespace fusejit {

std::string print_kernel(const Kernel &k);

// A row kernel's phases, "max, sum, store": each reduction, then the store.
std::string row_phases_str(const Kernel &k);
// "[3, 0 | 1]": the first layer's strides, reduced dims after the bar.
std::string print_access(const Access &a, size_t num_reduce);

}  // namespace fusejit
