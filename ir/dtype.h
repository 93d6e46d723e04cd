// Element types: public (a user names them), so defined in the installed
// header. Here: how a value (carried as a double by the interpreters and in
// constants) is held by each dtype, the one definition the reference
// interpreter, the kernel evaluator and constant folding share.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include <fusejit/dtype.h>

namespace fusejit {

// The integer part of `v` as int64; NaN is 0 and out-of-range values
// saturate (integer results are exact in double below 2^53).
inline int64_t wrap_integer(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// `v` as a value of dtype `to` holds it: floats round, integers wrap modulo
// their width as integer arithmetic does, bool is v != 0 (NaN is true).
inline double convert_value(DType to, double v) {
  auto bits = static_cast<uint64_t>(wrap_integer(v));
  switch (to) {
    case DType::F32:
      return static_cast<float>(v);
    case DType::F64:
      return v;
    case DType::I32:
      return static_cast<int32_t>(static_cast<uint32_t>(bits));
    case DType::I64:
      return static_cast<double>(static_cast<int64_t>(bits));
    case DType::U8:
      return static_cast<uint8_t>(bits);
    case DType::Bool:
      return v != 0 ? 1.0 : 0.0;
  }
  return v;
}

// The smallest and largest value of an integer or bool dtype.
inline double lowest_value(DType t) {
  switch (t) {
    case DType::I32:
      return std::numeric_limits<int32_t>::min();
    case DType::I64:
      return static_cast<double>(std::numeric_limits<int64_t>::min());
    case DType::U8:
    case DType::Bool:
      return 0;
    case DType::F32:
    case DType::F64:
      break;
  }
  return -std::numeric_limits<double>::infinity();
}
inline double highest_value(DType t) {
  switch (t) {
    case DType::I32:
      return std::numeric_limits<int32_t>::max();
    case DType::I64:
      return static_cast<double>(std::numeric_limits<int64_t>::max());
    case DType::U8:
      return 255;
    case DType::Bool:
      return 1;
    case DType::F32:
    case DType::F64:
      break;
  }
  return std::numeric_limits<double>::infinity();
}

// cast(x, to) of a value `v` of dtype `from`: a float into an integer
// truncates toward zero and saturates, NaN giving 0 (LLVM's fptosi.sat);
// every other pair converts as convert_value does (integers wrap).
inline double cast_value(DType from, DType to, double v) {
  if (is_floating(from) && is_integer(to)) {
    if (std::isnan(v)) return 0;
    double t = std::trunc(v);
    if (t <= lowest_value(to)) return lowest_value(to);
    if (t >= highest_value(to)) return highest_value(to);
    return t;
  }
  return convert_value(to, v);
}

}  // namespace fusejit
