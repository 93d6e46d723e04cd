// How `fusejit run` shows values, checks and kernel timings (text and JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/plan.h"
#include "runtime/buffer.h"
#include "runtime/compare.h"

namespace fusejit::tool {

// Outputs with at most this many elements are printed in full.
constexpr int64_t kPrintLimit = 256;

// numpy-style nested brackets, `[]` for an empty buffer of any shape, or a
// count for large buffers.
std::string format_buffer(const Buffer &b);
// name, dtype, shape, and the values when small.
nlohmann::json buffer_json(const std::string &name, const Buffer &b);

struct KernelTiming {
  std::vector<double> seconds;  // one per run
  double min() const;
  double median() const;
};

// Bytes a kernel reads and writes, and the floating-point ops it performs.
int64_t kernel_bytes(const Kernel &k);
int64_t kernel_flops(const Kernel &k);

nlohmann::json timing_json(const Kernel &k, const KernelTiming &t);
std::string timing_text(const Kernel &k, const KernelTiming &t);

}  // namespace fusejit::tool
