// A strided view of storage: how the reference interpreter holds values so
// that permute, expand and (mostly) reshape never copy. Element `index` of a
// view lives at `offset + sum(index[i] * strides[i])` elements into storage.
#pragma once

#include <memory>
#include <vector>

#include "runtime/buffer.h"

namespace fusejit {

struct StridedView {
  std::shared_ptr<Storage> storage;
  DType dtype = DType::F32;
  Shape shape;
  Strides strides;
  int64_t offset = 0;

  // The element at storage position `pos`, widened to double.
  double load(int64_t pos) const { return load_element(storage->data(), dtype, pos); }
};

// A row-major view of the whole of `b`.
StridedView view_of(const Buffer &b);

// Row-major up to dims of extent 1, whose stride never matters; a view
// without elements is contiguous too.
bool is_contiguous(const StridedView &v);

// A fresh contiguous Buffer holding the view's elements in row-major order.
Buffer materialize(const StridedView &v);

// Dim i of the result is dim perm[i] of `v`.
StridedView permute_view(const StridedView &v, const std::vector<int64_t> &perm);
// numpy broadcast_to: new leading dims and stretched dims of extent 1 get stride 0.
StridedView expand_view(const StridedView &v, const Shape &shape);
// Zero-copy when `v` is contiguous; otherwise its elements are copied into
// row-major order first, since no strides can express, e.g., a flattened
// transpose.
StridedView reshape_view(const StridedView &v, const Shape &shape);
// The Slice node's view: dims holds (start, step) per dim, `shape` the extents.
StridedView slice_view(const StridedView &v, const std::vector<int64_t> &dims, const Shape &shape);
// torch.Tensor.unfold (dims = dim, size, step): overlapping strides.
StridedView unfold_view(const StridedView &v, const std::vector<int64_t> &dims);

// The copies the reference makes where the JIT masks loads: a Pad (dims
// holds (before, after) per dim) and a Cat along dim.
Buffer pad_values(const StridedView &v, const std::vector<int64_t> &dims, double value,
                  const Shape &shape);
Buffer cat_values(const std::vector<const StridedView *> &parts, int64_t dim, const Shape &shape);
// torch.gather of `v` along dim by `index` (an integer view of the result's
// shape); an index outside [0, v.shape[dim]) is an IndexError naming it.
Buffer gather_values(const StridedView &v, int64_t dim, const StridedView &index);

}  // namespace fusejit
