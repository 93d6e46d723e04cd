// Element types. Every value in the graph has one: floats (f32, f64),
// signed integers (i32, i64), bytes (u8) and booleans (bool, one byte
// holding 0 or 1). Comparisons and logical ops give bool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fusejit {

enum class DType { F32, F64, I32, I64, U8, Bool };

inline constexpr DType kAllDTypes[] = {DType::F32, DType::F64, DType::I32,
                                       DType::I64, DType::U8,  DType::Bool};

inline const char *dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "f32";
    case DType::F64:
      return "f64";
    case DType::I32:
      return "i32";
    case DType::I64:
      return "i64";
    case DType::U8:
      return "u8";
    case DType::Bool:
      return "bool";
  }
  return "?";
}

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64:
    case DType::I64:
      return 8;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::U8:
    case DType::Bool:
      return 1;
  }
  return 0;
}

inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }
// i32, i64 and u8 (not bool).
inline bool is_integer(DType t) { return t == DType::I32 || t == DType::I64 || t == DType::U8; }
// Whether integer comparisons, division and conversions treat the bits as unsigned.
inline bool is_unsigned(DType t) { return t == DType::U8 || t == DType::Bool; }

inline std::optional<DType> parse_dtype(std::string_view s) {
  for (DType t : kAllDTypes)
    if (s == dtype_name(t)) return t;
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
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::I32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::I64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::U8;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}

}  // namespace fusejit
