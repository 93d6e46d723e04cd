// Checked constructors of graph nodes. Each validates its operands (shapes,
// dims, dtypes), throws a ShapeError naming them if they do not fit, and
// returns the hash-consed node.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/node.h"

namespace fusejit::ir {

// A fresh input; never shared with another input, even of the same type.
NodeRef input(DType dtype, Shape shape, std::string name = "");
// A scalar constant.
NodeRef constant(double value, DType dtype);
// 0, 1, ..., n - 1 as i64[n] (torch.arange(n)), computed where it is read.
NodeRef iota(int64_t n);
// torch.arange(start, end, step) of integers, as i64: an iota times step plus start.
NodeRef arange(int64_t start, int64_t end, int64_t step = 1);
// A constant of any shape (an expand of a scalar constant).
NodeRef full(double value, DType dtype, const Shape &shape);

// The dtype two operands of different dtypes compute in, as
// torch.promote_types: bool < u8 < i32 < i64 < f32 < f64.
DType promote_types(DType a, DType b);
// Whether the op's result is bool (comparisons, logical ops, any, all).
bool op_gives_bool(Op op);

// x converted to `dtype` (x itself if it has it): see cast_value in ir/dtype.h.
NodeRef cast(NodeRef x, DType dtype);

// An elementwise op other than cast. exp, log, sigmoid, tanh, sqrt and inv
// of an integer or bool compute in f32; logical_not casts to bool first;
// floor, ceil and round of an integer return it; neg, abs, relu, floor,
// ceil and round of a bool are ShapeErrors.
NodeRef unary(Op op, NodeRef x);
// Broadcasting elementwise op. Operands of different dtypes are cast to
// promote_types of the two; `/` and pow of integers compute in f32;
// logical_and/or cast both to bool; comparisons and logical ops give bool.
// `-`, `//` and `%` of bools are ShapeErrors.
NodeRef binary(Op op, NodeRef a, NodeRef b);
// Broadcasting select: c ? x : y, with c cast to bool (nonzero is true) and
// x, y promoted to a common dtype.
NodeRef where(NodeRef c, NodeRef x, NodeRef y);

// A reduction over `dims` (negative allowed); empty dims reduce all. Sum
// and prod of integers or bools are i64; any and all cast to bool; mean of
// a non-float is a ShapeError.
NodeRef reduce(Op op, NodeRef x, std::vector<int64_t> dims, bool keepdim = false);

// At most one extent may be -1 (inferred). Element counts must match.
NodeRef reshape(NodeRef x, Shape shape);
NodeRef permute(NodeRef x, std::vector<int64_t> perm);
// Swaps the last two dims (a 1-D or scalar tensor is returned unchanged).
NodeRef transpose(NodeRef x);
// numpy broadcast_to: leading dims may be added; -1 keeps an extent.
NodeRef expand(NodeRef x, Shape shape);

// The primitive slice: per dim, index j reads start[d] + j * step[d] for j
// below extent[d] (step != 0; negative steps walk backwards).
NodeRef slice(NodeRef x, std::vector<int64_t> start, std::vector<int64_t> step, Shape extent);
// numpy basic slicing of one dim, x[start:stop:step] (negative indices count
// from the end, missing bounds take the ends for the step's direction).
NodeRef slice_dim(NodeRef x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
                  int64_t step = 1);
// One item of a numpy basic index: an integer (drops its dim), a slice, or
// a new dim of extent 1 (None).
struct IndexItem {
  enum Kind { Integer, Range, NewDim } kind = Range;
  int64_t index = 0;                   // Integer
  std::optional<int64_t> start, stop;  // Range
  int64_t step = 1;                    // Range
};
// x[items...]: the items apply to the leading dims; the rest are kept whole.
NodeRef index(NodeRef x, const std::vector<IndexItem> &items);
// Reverses the given dims.
NodeRef flip(NodeRef x, const std::vector<int64_t> &dims);

// np.pad with a constant: (before, after) for every dim, dim 0 first;
// negative widths crop.
NodeRef pad(NodeRef x, const std::vector<std::pair<int64_t, int64_t>> &widths, double value = 0.0);
// Joins same-dtype tensors whose shapes agree but along dim.
NodeRef cat(const std::vector<NodeRef> &xs, int64_t dim);
// Joins along a new dim (every shape equal).
NodeRef stack(const std::vector<NodeRef> &xs, int64_t dim);
NodeRef unsqueeze(NodeRef x, int64_t dim);
// Drops dim if its extent is 1 (else returns x, as torch); without a dim,
// every dim of extent 1.
NodeRef squeeze(NodeRef x, std::optional<int64_t> dim = std::nullopt);
// Merges dims start..end (inclusive) into one.
NodeRef flatten(NodeRef x, int64_t start = 0, int64_t end = -1);
// torch.Tensor.unfold: windows of `size` every `step` along dim, as a new
// last dim; dim's extent becomes the number of windows.
NodeRef unfold(NodeRef x, int64_t dim, int64_t size, int64_t step);

// torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along
// dim; the index (i64 or i32) has x's rank and, but along dim, extents at
// most x's; the result has its shape. An index outside [0, x.size(dim)) is
// an IndexError when the value is computed.
NodeRef gather(NodeRef x, int64_t dim, NodeRef index);
// torch.index_select: the entries of dim listed by a 1-D (or 0-D) index, a
// gather by the index expanded over the other dims.
NodeRef index_select(const NodeRef &x, int64_t dim, const NodeRef &index);

// torch.scatter_add: x plus, for every position of `index` (i64 or i32, the
// rank of x and src, no larger than src, nor than x but along dim), src
// there added at x's element whose dim-index is the index's value. Built
// as a reduction over (index == arange) * src, so it costs numel(index) *
// x.size(dim); an index outside [0, x.size(dim)) is an IndexError.
NodeRef scatter_add(const NodeRef &x, int64_t dim, const NodeRef &index, const NodeRef &src);
// torch.index_add: src's entry j along dim added at x's entry index[j].
NodeRef index_add(const NodeRef &x, int64_t dim, const NodeRef &index, const NodeRef &src);
// The sum that scatter_add adds, of a checked i64 index and a src of its
// shape, as a tensor of `shape` (autodiff's gather rule uses it).
NodeRef scatter_sum(const NodeRef &index, const NodeRef &src, int64_t dim, const Shape &shape);

// torch.nn.functional.one_hot as `dtype`: labels == arange(n) along a new
// last dim; a label outside [0, n) is an IndexError when computed.
NodeRef one_hot(const NodeRef &labels, int64_t num_classes, DType dtype = DType::I64);
// argmax (largest) or argmin as i64: the first index along dim on ties, NaN
// counting as the extreme, as torch; without a dim, the flat index.
NodeRef arg_extreme(const NodeRef &x, std::optional<int64_t> dim, bool keepdim, bool largest);

// a @ b: 2-D or batched with broadcast batch dims; 1-D operands follow numpy
// (a vector is a row on the left, a column on the right, and its dim is dropped).
NodeRef matmul(NodeRef a, NodeRef b);

// Rebuilds `n` with new arguments (same op and attributes), re-checking shapes.
NodeRef with_args(const Node &n, std::vector<NodeRef> args);

// The shape `n` must have given its op, attributes and arguments; the
// verifier compares it with n.shape.
Shape infer_shape(const Node &n);

}  // namespace fusejit::ir
