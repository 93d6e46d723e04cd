// std::ostream << Tensor, laid out as libtorch's (aten/src/ATen/core/Formatting.cpp):
// one number format per matrix (integers, fixed with 4 decimals, a common
// scale factor, or scientific), columns split to fit 80 characters, and a
// closing type line.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

#include "engine/realize.h"
#include "engine/tensor.h"
#include "runtime/buffer.h"

namespace fusejit {
namespace {

constexpr int64_t kLineSize = 80;

struct Format {
  double scale = 1;
  int width = 0;
};

// Chooses the format of `n` values at `v` as torch does, and sets it on `os`.
Format choose_format(std::ostream &os, const double *v, int64_t n) {
  Format f;
  if (n == 0) return f;
  bool int_mode = true;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(v[i]) && v[i] != std::ceil(v[i])) int_mode = false;
  double exp_min = 1, exp_max = 1;  // digits before the point of the smallest and largest |v|
  int64_t first = 0;
  while (first < n && !std::isfinite(v[first])) ++first;
  if (first != n) {
    double lo = std::fabs(v[first]), hi = lo;
    for (int64_t i = first; i < n; ++i) {
      if (!std::isfinite(v[i])) continue;
      lo = std::min(lo, std::fabs(v[i]));
      if (v[i] > hi) hi = std::fabs(v[i]);  // signed, as torch compares: output matches its
    }
    exp_min = lo != 0 ? std::floor(std::log10(lo)) + 1 : 1;
    exp_max = hi != 0 ? std::floor(std::log10(hi)) + 1 : 1;
  }
  if (int_mode) {
    if (exp_max > 9) {
      f.width = 11;
      os << std::scientific << std::setprecision(4);
    } else {
      f.width = static_cast<int>(exp_max) + 1;
      os << std::defaultfloat;
    }
  } else if (exp_max - exp_min > 4) {
    f.width = std::fabs(exp_max) > 99 || std::fabs(exp_min) > 99 ? 12 : 11;
    os << std::scientific << std::setprecision(4);
  } else {
    if (exp_max > 5 || exp_max < 0) {
      f.width = 7;
      f.scale = std::pow(10, exp_max - 1);
    } else {
      f.width = exp_max == 0 ? 7 : static_cast<int>(exp_max) + 6;
    }
    os << std::fixed << std::setprecision(4);
  }
  return f;
}

// Keeps the values' format on `os` for what follows.
void print_scale(std::ostream &os, double scale) {
  std::ios_base::fmtflags flags = os.flags();
  os << std::defaultfloat << scale << " *\n";
  os.flags(flags);
}

// A rows x cols matrix at `v`, row-major, each line indented by `indent`.
void print_matrix(std::ostream &os, const double *v, int64_t rows, int64_t cols, int indent) {
  Format f = choose_format(os, v, rows * cols);
  std::string pad(indent, ' ');
  os << pad;
  int64_t per_line = std::max<int64_t>((kLineSize - indent) / (f.width + 1), 1);
  for (int64_t first = 0; first < cols;) {
    int64_t last = std::min(first + per_line, cols) - 1;
    if (per_line < cols) {
      if (first != 0) os << '\n';
      os << "Columns " << first + 1 << " to " << last + 1 << pad;  // no line break, as torch
    }
    if (f.scale != 1) {
      print_scale(os, f.scale);
      os << pad;
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = first; c <= last; ++c) {
        os << std::setw(f.width) << v[r * cols + c] / f.scale;
        if (c != last) {
          os << ' ';
          continue;
        }
        os << '\n';
        if (r != rows - 1) os << pad << (f.scale != 1 ? " " : "");
      }
    }
    first = last + 1;
  }
}

// Rank > 2: every trailing matrix under a "(i,j,.,.) = " heading, the first
// batch dim counting fastest (as torch prints them).
void print_batches(std::ostream &os, const std::vector<double> &v, const Shape &shape) {
  size_t batch_dims = shape.size() - 2;
  int64_t rows = shape[batch_dims], cols = shape[batch_dims + 1];
  Strides strides = contiguous_strides(shape);
  std::vector<int64_t> at(batch_dims, 0);
  for (bool first = true;; first = false) {
    if (!first) {
      size_t d = 0;
      while (d < batch_dims && ++at[d] == shape[d]) at[d++] = 0;
      if (d == batch_dims) return;
      os << '\n';
    }
    int64_t offset = 0;
    os << '(';
    for (size_t d = 0; d < batch_dims; ++d) {
      offset += at[d] * strides[d];
      os << at[d] + 1 << ',';
    }
    os << ".,.) = \n";
    print_matrix(os, v.data() + offset, rows, cols, 1);
  }
}

const char *torch_type_name(DType t) {
  switch (t) {
    case DType::F32:
      return "CPUFloatType";
    case DType::F64:
      return "CPUDoubleType";
    case DType::I32:
      return "CPUIntType";
    case DType::I64:
      return "CPULongType";
    case DType::U8:
      return "CPUByteType";
    case DType::Bool:
      return "CPUBoolType";
  }
  return "?";
}

}  // namespace

std::ostream &operator<<(std::ostream &os, const Tensor &t) {
  if (!t.defined()) return os << "[ Tensor (undefined) ]";
  std::ios_base::fmtflags flags = os.flags();
  std::streamsize precision = os.precision();
  const Shape &shape = t.sizes();
  std::vector<double> v = realize({t.node()})[0].to_vector<double>();
  if (shape.empty()) {
    os << std::defaultfloat << v[0] << '\n';
  } else if (shape.size() == 1 && !v.empty()) {
    Format f = choose_format(os, v.data(), static_cast<int64_t>(v.size()));
    if (f.scale != 1) print_scale(os, f.scale);
    for (double x : v) os << std::setw(f.width) << x / f.scale << '\n';
  } else if (shape.size() == 2 && !v.empty()) {
    print_matrix(os, v.data(), shape[0], shape[1], 0);
  } else if (!v.empty()) {
    print_batches(os, v, shape);
  }
  os.flags(flags);
  os.precision(precision);
  os << "[ " << torch_type_name(t.dtype()) << '{';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  return os << "} ]";
}

}  // namespace fusejit
