#include "ir/shape.h"

#include <algorithm>
#include <sstream>

#include "ir/error.h"

namespace fusejit {

std::string shape_str(const Shape &s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string type_str(DType t, const Shape &s) { return dtype_name(t) + shape_str(s); }

int64_t numel(const Shape &s) {
  // The product of the non-zero extents must fit in int64 even when another
  // extent is 0 (as numpy requires): such a shape is never meant, and
  // contiguous_strides relies on it.
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : s) {
    FUSEJIT_USER_CHECK(d >= 0, ShapeError, "negative extent ", d, " in shape ", shape_str(s));
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > INT64_MAX / d)
      throw ShapeError("shape " + shape_str(s) + " has more elements than fit in int64");
    n *= d;
  }
  return empty ? 0 : n;
}

Strides contiguous_strides(const Shape &s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

Shape shape_broadcast(const Shape &a, const Shape &b, const std::string &what) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      throw ShapeError(what + ": cannot broadcast shapes " + shape_str(a) + " and " + shape_str(b) +
                       " (dim " + std::to_string(i) + ": " + std::to_string(da) + " vs " +
                       std::to_string(db) + ")");
    }
  }
  // Two countable shapes may broadcast to one that is not: [2, 1] and [1, 2^63 - 1].
  try {
    numel(out);
  } catch (const ShapeError &) {
    throw ShapeError(what + ": the broadcast of " + shape_str(a) + " and " + shape_str(b) + ", " +
                     shape_str(out) + ", has more elements than fit in int64");
  }
  return out;
}

void broadcast_index(const int64_t *big_index, const Shape &big, const Shape &shape,
                     int64_t *out_index) {
  size_t lead = big.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) out_index[i] = shape[i] == 1 ? 0 : big_index[i + lead];
}

int64_t index_to_position(const int64_t *index, const Strides &strides, int64_t offset) {
  int64_t pos = offset;
  for (size_t i = 0; i < strides.size(); ++i) pos += index[i] * strides[i];
  return pos;
}

void ordinal_to_index(int64_t ordinal, const Shape &shape, int64_t *out_index) {
  for (size_t i = shape.size(); i-- > 0;) {
    int64_t d = shape[i] == 0 ? 1 : shape[i];
    out_index[i] = ordinal % d;
    ordinal /= d;
  }
}

int64_t normalize_dim(int64_t dim, size_t rank, const std::string &what) {
  int64_t r = static_cast<int64_t>(rank);
  int64_t d = dim < 0 ? dim + r : dim;
  if (d < 0 || d >= r)
    throw ShapeError(what + ": dim " + std::to_string(dim) + " is out of range for rank " +
                     std::to_string(rank));
  return d;
}

std::vector<int64_t> normalize_dims(const std::vector<int64_t> &dims, size_t rank,
                                    const std::string &what) {
  std::vector<int64_t> out;
  out.reserve(dims.size());
  for (int64_t d : dims) out.push_back(normalize_dim(d, rank, what));
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i] == out[i - 1])
      throw ShapeError(what + ": dim " + std::to_string(out[i]) + " is repeated");
  return out;
}

}  // namespace fusejit
