#include "tools/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace fusejit::tool {

namespace {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void format_values(const Buffer &b, size_t dim, int64_t &i, std::ostringstream &os) {
  if (dim == b.shape().size()) {
    os << format_number(b.get(i++));
    return;
  }
  os << "[";
  for (int64_t k = 0; k < b.shape()[dim]; ++k) {
    if (k) os << (dim + 1 == b.shape().size() ? ", " : ",\n" + std::string(dim + 1, ' '));
    format_values(b, dim + 1, i, os);
  }
  os << "]";
}

}  // namespace

std::string format_buffer(const Buffer &b) {
  // numpy prints any empty array as [] (the shape is printed beside it);
  // a bracket pair per empty row would be as long as the leading extents.
  if (b.numel() == 0) return "[]";
  if (b.numel() > kPrintLimit)
    return "(" + std::to_string(b.numel()) + " elements; use --out to write them)";
  std::ostringstream os;
  int64_t i = 0;
  format_values(b, 0, i, os);
  return os.str();
}

nlohmann::json buffer_json(const std::string &name, const Buffer &b) {
  nlohmann::json j = {{"name", name}, {"dtype", dtype_name(b.dtype())}, {"shape", b.shape()}};
  if (b.numel() <= kPrintLimit) {
    nlohmann::json values = nlohmann::json::array();
    for (int64_t i = 0; i < b.numel(); ++i) {
      double v = b.get(i);
      // JSON has no NaN or infinity; they are written as strings.
      values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(format_number(v)));
    }
    j["values"] = values;
  }
  return j;
}

double KernelTiming::min() const { return *std::min_element(seconds.begin(), seconds.end()); }

double KernelTiming::median() const {
  std::vector<double> s = seconds;
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

int64_t kernel_bytes(const Kernel &k) {
  int64_t bytes = 0;
  for (const KernelInput &in : k.inputs) bytes += numel(in.shape) * dtype_size(in.dtype);
  for (size_t j = 0; j < k.outputs.size(); ++j) bytes += k.output_numel(j) * dtype_size(k.dtype);
  return bytes;
}

int64_t kernel_flops(const Kernel &k) {
  int64_t inner = 0, outer = 0;
  for (const Instr &in : k.body) {
    if (in.kind == InstrKind::Load || in.kind == InstrKind::Const || in.kind == InstrKind::Reduced)
      continue;
    (in.outer ? outer : inner)++;
  }
  if (k.reduction) ++inner;                      // the accumulation
  inner += static_cast<int64_t>(k.rows.size());  // a row kernel's, one per phase
  return inner * numel(k.domain) + outer * numel(k.output_shape());
}

nlohmann::json timing_json(const Kernel &k, const KernelTiming &t) {
  double best = std::max(t.min(), 1e-12);
  return {{"kernel", k.name},
          {"kind", kernel_kind_name(k.kind())},
          {"runs", t.seconds.size()},
          {"min_ms", t.min() * 1e3},
          {"median_ms", t.median() * 1e3},
          {"gb_per_s", kernel_bytes(k) / best / 1e9},
          {"gflop_per_s", kernel_flops(k) / best / 1e9}};
}

std::string timing_text(const Kernel &k, const KernelTiming &t) {
  double best = std::max(t.min(), 1e-12);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%-4s %-11s min %9.4f ms  median %9.4f ms  %8.2f GB/s  %8.2f GFLOP/s",
                k.name.c_str(), kernel_kind_name(k.kind()), t.min() * 1e3, t.median() * 1e3,
                kernel_bytes(k) / best / 1e9, kernel_flops(k) / best / 1e9);
  return buf;
}

}  // namespace fusejit::tool
