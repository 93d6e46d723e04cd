#include "runtime/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fusejit {

double max_tolerance(DType dtype) { return dtype == DType::F32 ? 1e-2 : 1e-8; }

double default_tolerance(DType dtype, double reduction_length) {
  if (!is_floating(dtype)) return 0;  // integer and bool results are exact
  double base = dtype == DType::F32 ? 1e-5 : 1e-12;
  return std::min(max_tolerance(dtype), base * std::sqrt(std::max(reduction_length, 1.0)));
}

double tolerance_for(const NodeRef &root) {
  double longest = 1, count = 0;
  // A float result is as precise as the least precise float behind it: an
  // f64 cast of an f32 sigmoid carries the f32 sigmoid's rounding.
  DType precision = root->dtype;
  for (const Node *n : topo_order({root})) {
    if (is_floating(precision) && n->dtype == DType::F32) precision = DType::F32;
    double len = 1;
    if (n->kind() == OpKind::Reduce)
      for (int64_t d : n->dims) len *= static_cast<double>(n->args[0]->shape[d]);
    else if (n->kind() == OpKind::Matmul)
      len = static_cast<double>(n->args[0]->shape.back());
    else
      continue;
    longest = std::max(longest, len);
    ++count;
  }
  return default_tolerance(precision, longest * std::max(count, 1.0));
}

Comparison compare_values(const Buffer &got, const Buffer &want, double tolerance) {
  FUSEJIT_INTERNAL_CHECK(got.dtype() == want.dtype() && got.shape() == want.shape(), "comparing ",
                         type_str(got.dtype(), got.shape()), " with ",
                         type_str(want.dtype(), want.shape()));
  Comparison c;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double g = got.get(i), w = want.get(i);
    double err;
    if (std::isnan(w) || std::isnan(g))
      err = std::isnan(w) && std::isnan(g) ? 0 : INFINITY;
    else if (std::isinf(w) || std::isinf(g))
      err = g == w ? 0 : INFINITY;
    else
      err = std::fabs(g - w) / (1 + std::fabs(w));
    if (err > c.worst_error || c.worst_index < 0) {
      c.worst_error = err, c.worst_index = i, c.got = g, c.want = w;
    }
  }
  c.ok = c.worst_error <= tolerance;
  return c;
}

std::string Comparison::describe() const {
  if (worst_index < 0) return "no elements";
  char buf[160];
  std::snprintf(buf, sizeof buf, "worst error %.3g at element %lld (%.9g vs reference %.9g)",
                worst_error, static_cast<long long>(worst_index), got, want);
  return buf;
}

}  // namespace fusejit
