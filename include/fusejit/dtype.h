// Element types. Every value in the graph has one; comparisons return 0/1 in
// the operand dtype, so there is no boolean type.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fusejit {

enum class DType { F32, F64 };

inline const char *dtype_name(DType t) { return t == DType::F32 ? "f32" : "f64"; }
inline size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }

inline std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f32") return DType::F32;
  if (s == "f64") return DType::F64;
  return std::nullopt;
}

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::F32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::F64;
}

}  // namespace fusejit
