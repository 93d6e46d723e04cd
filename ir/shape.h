// Shapes, strides and numpy broadcasting.
//
// Conventions used everywhere in fusejit:
// - A shape is a list of non-negative extents, outermost first; `[]` is a
//   scalar. Element counts are checked against int64 overflow.
// - Strides are in elements (not bytes). Contiguous means row-major (C order):
//   the last dim has stride 1. A stride of 0 is a broadcast (expand).
// - Broadcasting follows numpy: shapes align on the right; a dim of 1
//   stretches to the other's extent; any other mismatch is a ShapeError
//   naming both shapes.
// - Dims may be given negative (-1 is the last); `normalize_dim` maps them to
//   [0, rank) or throws a ShapeError naming the dim and the shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace fusejit {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;
using Index = std::vector<int64_t>;

// "[2, 3, 1]"
std::string shape_str(const Shape &s);
// "f32[2, 3, 1]"
std::string type_str(DType t, const Shape &s);

// Number of elements; throws ShapeError on negative extents or int64 overflow.
int64_t numel(const Shape &s);

Strides contiguous_strides(const Shape &s);

// The numpy broadcast of a and b, or a ShapeError naming both.
// `what` prefixes the message ("add", "where", ...).
Shape shape_broadcast(const Shape &a, const Shape &b, const std::string &what = "broadcast");

// Maps an index into the broadcast shape `big` to the index into `shape`,
// which must broadcast to `big` (minitorch's broadcast_index).
void broadcast_index(const int64_t *big_index, const Shape &big, const Shape &shape,
                     int64_t *out_index);

// Position in storage of `index` under `strides` (plus `offset`).
int64_t index_to_position(const int64_t *index, const Strides &strides, int64_t offset = 0);

// The multi-index of the `ordinal`-th element in row-major order of `shape`.
void ordinal_to_index(int64_t ordinal, const Shape &shape, int64_t *out_index);

// Maps a possibly negative dim into [0, rank); throws ShapeError otherwise.
int64_t normalize_dim(int64_t dim, size_t rank, const std::string &what);

// Normalizes and sorts dims; throws on duplicates or out-of-range dims.
std::vector<int64_t> normalize_dims(const std::vector<int64_t> &dims, size_t rank,
                                    const std::string &what);

}  // namespace fusejit
