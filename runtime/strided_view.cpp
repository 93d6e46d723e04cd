#include "runtime/strided_view.h"

namespace fusejit {

StridedView view_of(const Buffer &b) {
  FUSEJIT_INTERNAL_CHECK(b.defined(), "a view of an undefined buffer");
  return {b.storage(), b.dtype(), b.shape(), contiguous_strides(b.shape()), 0};
}

bool is_contiguous(const StridedView &v) {
  if (numel(v.shape) == 0) return true;
  int64_t expected = 1;
  for (size_t i = v.shape.size(); i-- > 0;) {
    if (v.shape[i] != 1 && v.strides[i] != expected) return false;
    expected *= v.shape[i];
  }
  return true;
}

Buffer materialize(const StridedView &v) {
  Buffer out(v.dtype, v.shape);
  Index index(v.shape.size());
  for (int64_t i = 0; i < out.numel(); ++i) {
    ordinal_to_index(i, v.shape, index.data());
    out.set(i, v.load(index_to_position(index.data(), v.strides, v.offset)));
  }
  return out;
}

StridedView permute_view(const StridedView &v, const std::vector<int64_t> &perm) {
  FUSEJIT_INTERNAL_CHECK(perm.size() == v.shape.size(), "permute of rank ", v.shape.size(), " by ",
                         shape_str(perm));
  StridedView out = v;
  for (size_t i = 0; i < perm.size(); ++i) {
    out.shape[i] = v.shape[perm[i]];
    out.strides[i] = v.strides[perm[i]];
  }
  return out;
}

StridedView expand_view(const StridedView &v, const Shape &shape) {
  FUSEJIT_INTERNAL_CHECK(shape.size() >= v.shape.size(), "expand of ", shape_str(v.shape), " to ",
                         shape_str(shape));
  StridedView out = v;
  out.shape = shape;
  out.strides.assign(shape.size(), 0);
  size_t lead = shape.size() - v.shape.size();
  for (size_t i = 0; i < v.shape.size(); ++i)
    out.strides[lead + i] = v.shape[i] == 1 && shape[lead + i] != 1 ? 0 : v.strides[i];
  return out;
}

StridedView reshape_view(const StridedView &v, const Shape &shape) {
  FUSEJIT_INTERNAL_CHECK(numel(shape) == numel(v.shape), "reshape of ", shape_str(v.shape), " to ",
                         shape_str(shape));
  StridedView out = is_contiguous(v) ? v : view_of(materialize(v));
  out.shape = shape;
  out.strides = contiguous_strides(shape);
  return out;
}

StridedView slice_view(const StridedView &v, const std::vector<int64_t> &dims, const Shape &shape) {
  StridedView out = v;
  for (size_t d = 0; d < shape.size(); ++d) {
    out.offset += dims[2 * d] * v.strides[d];
    out.strides[d] = v.strides[d] * dims[2 * d + 1];
  }
  out.shape = shape;
  return out;
}

StridedView unfold_view(const StridedView &v, const std::vector<int64_t> &dims) {
  size_t d = static_cast<size_t>(dims[0]);
  int64_t size = dims[1], step = dims[2];
  StridedView out = v;
  out.shape[d] = (v.shape[d] - size) / step + 1;
  out.shape.push_back(size);
  out.strides[d] = v.strides[d] * step;
  out.strides.push_back(v.strides[d]);
  return out;
}

Buffer pad_values(const StridedView &v, const std::vector<int64_t> &dims, double value,
                  const Shape &shape) {
  Buffer out(v.dtype, shape);
  Index index(shape.size());
  for (int64_t i = 0; i < out.numel(); ++i) {
    ordinal_to_index(i, shape, index.data());
    bool inside = true;
    for (size_t d = 0; d < shape.size(); ++d) {
      index[d] -= dims[2 * d];
      inside = inside && index[d] >= 0 && index[d] < v.shape[d];
    }
    out.set(i, inside ? v.load(index_to_position(index.data(), v.strides, v.offset)) : value);
  }
  return out;
}

Buffer cat_values(const std::vector<const StridedView *> &parts, int64_t dim, const Shape &shape) {
  Buffer out(parts.at(0)->dtype, shape);
  Index index(shape.size());
  for (int64_t i = 0; i < out.numel(); ++i) {
    ordinal_to_index(i, shape, index.data());
    size_t p = 0;
    while (index[dim] >= parts[p]->shape[dim]) index[dim] -= parts[p++]->shape[dim];
    const StridedView &v = *parts[p];
    out.set(i, v.load(index_to_position(index.data(), v.strides, v.offset)));
  }
  return out;
}

Buffer gather_values(const StridedView &v, int64_t dim, const StridedView &index) {
  Buffer out(v.dtype, index.shape);
  Index at(index.shape.size());
  int64_t extent = v.shape[dim];
  for (int64_t i = 0; i < out.numel(); ++i) {
    ordinal_to_index(i, index.shape, at.data());
    auto j =
        static_cast<int64_t>(index.load(index_to_position(at.data(), index.strides, index.offset)));
    FUSEJIT_USER_CHECK(j >= 0 && j < extent, IndexError, "gather: index ", j, " at ", shape_str(at),
                       " is out of bounds for dim ", dim, " of ", type_str(v.dtype, v.shape),
                       " (size ", extent, ")");
    at[dim] = j;
    out.set(i, v.load(index_to_position(at.data(), v.strides, v.offset)));
  }
  return out;
}

}  // namespace fusejit
