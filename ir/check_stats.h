// How often each consistency check has run in this process: counters the
// tests read to show that a compiled kernel is checked once, not once per
// layer that handles it.
#pragma once

#include <cstdint>

namespace fusejit {

enum class Check { Kernel, LlvmModule };

struct CheckStats {
  uint64_t kernel = 0;       // verify_kernel (ir/kernel.h)
  uint64_t llvm_module = 0;  // verify_llvm_module (codegen/optimize.h)
};

// Called by each check's entry point.
void count_check(Check check);
CheckStats check_stats();

}  // namespace fusejit
