// A number operand (libtorch's c10::Scalar). It remembers whether it was
// written as a bool, an integer or a floating value, because that decides
// the dtype it takes next to a tensor, by PyTorch's rules for Python
// scalars: `int_tensor + 2` stays integer, `int_tensor + 2.5` is f32.
#pragma once

#include <type_traits>

#include <fusejit/dtype.h>

namespace fusejit {

// What a number is, as a Python scalar: `true`, `2` or `2.0`.
enum class ScalarKind { Bool, Int, Float };

// The dtype a number of kind `s` takes next to a tensor of dtype `t`: a
// float takes a float tensor's dtype and makes an integer or bool one f32;
// an integer takes an integer or float tensor's dtype and makes a bool one
// i64; a bool takes any.
inline DType scalar_dtype(DType t, ScalarKind s) {
  switch (s) {
    case ScalarKind::Float:
      return is_floating(t) ? t : DType::F32;
    case ScalarKind::Int:
      return t == DType::Bool ? DType::I64 : t;
    case ScalarKind::Bool:
      return t;
  }
  return t;
}

// The dtype of a tensor made of numbers of kind `s` alone: torch's default
// for its kind (f32, i64, bool).
inline DType default_dtype(ScalarKind s) {
  switch (s) {
    case ScalarKind::Float:
      return DType::F32;
    case ScalarKind::Int:
      return DType::I64;
    case ScalarKind::Bool:
      return DType::Bool;
  }
  return DType::F32;
}

// The kind of number a dtype holds.
inline ScalarKind scalar_kind(DType t) {
  return t == DType::Bool ? ScalarKind::Bool : is_floating(t) ? ScalarKind::Float : ScalarKind::Int;
}

class Scalar {
 public:
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T v)  // NOLINT(google-explicit-constructor): 2 and 2.5 are Scalars, as in libtorch
      : value_(static_cast<double>(v)),
        kind_(std::is_same_v<T, bool>       ? ScalarKind::Bool
              : std::is_floating_point_v<T> ? ScalarKind::Float
                                            : ScalarKind::Int) {}

  double to_double() const { return value_; }
  ScalarKind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == ScalarKind::Float; }
  bool is_integral() const { return kind_ == ScalarKind::Int; }
  bool is_boolean() const { return kind_ == ScalarKind::Bool; }

 private:
  double value_;
  ScalarKind kind_;
};

}  // namespace fusejit
