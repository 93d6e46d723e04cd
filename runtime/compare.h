// Comparing a computed value with the reference interpreter's, with
// tolerances scaled to the dtype and the longest reduction behind the value
// (a sum of K terms in f32 may round K times; fast numerics reassociate).
#pragma once

#include <cstdint>
#include <string>

#include "ir/node.h"
#include "runtime/buffer.h"

namespace fusejit {

// Relative tolerance for a value of `dtype` computed through reductions of
// at most `reduction_length` terms: 1e-5 (f32) or 1e-12 (f64), times sqrt(K),
// but never above max_tolerance: however long the sum, a result that far
// off is wrong, not rounded (blocked sums keep the real error far below it).
// The length is a double: an expanded input may make it overflow int64.
double default_tolerance(DType dtype, double reduction_length);

// The cap of default_tolerance: 1% for f32, 1e-8 for f64.
double max_tolerance(DType dtype);

// The tolerance for the value of `root` computed by the JIT, checked against
// the interpreter: default_tolerance scaled by the longest reduction (or
// matmul K) behind it times the number of reductions, for the least precise
// float dtype behind it (an f64 cast of an f32 value gets f32's). What `run --check`
// and `fusejit fuzz` use.
double tolerance_for(const NodeRef &root);

struct Comparison {
  bool ok = true;
  double worst_error = 0;  // max |got - want| / (1 + |want|)
  int64_t worst_index = -1;
  double got = 0, want = 0;  // at worst_index
  std::string describe() const;
};

// Elementwise: |got - want| <= tolerance * (1 + |want|), an absolute
// tolerance near 0 and a relative one for larger values; NaN must meet NaN,
// and an infinity the same infinity. Shapes and dtypes must be equal.
Comparison compare_values(const Buffer &got, const Buffer &want, double tolerance);

}  // namespace fusejit
