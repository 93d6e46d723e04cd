// Building Accesses (ir/kernel.h) by applying views to a buffer, the way a
// strided tensor library does: permute permutes strides, expand gives stride
// 0, and reshape keeps strides where the merged or split dims are contiguous
// with each other. A reshape that strides cannot express (most reshapes of a
// permuted view) adds a layer: the new index is linearized and unravelled
// into the old shape, which the lowering computes with div and mod.
//
// Slices and flips move the offset and scale (or negate) strides; a pad or
// a cat source adds validity ranges (ir/kernel.h), which later views carry
// along; unfold gives two dims strides that overlap; a gather reads one dim
// at a computed index.
//
// Each function transforms the access's first layer, the one the next view
// sees, and keeps the others.
#pragma once

#include <vector>

#include "ir/kernel.h"

namespace fusejit {

// Row-major access of a contiguous buffer of `shape`.
Access contiguous_access(const Shape &shape);

void access_permute(Access &a, const std::vector<int64_t> &perm);
// numpy broadcast_to: leading dims may be added, extent-1 dims stretch.
void access_expand(Access &a, const Shape &target);
void access_reshape(Access &a, const Shape &target);
// Re-indexes by the kernel domain: domain dim j reads dim src[j] of the
// current shape, or nothing (stride 0) when src[j] < 0. Every dim of extent
// other than 1 must be read by exactly one domain dim.
// Per dim: index j of the result reads index start + j * step (step != 0).
void access_slice(Access &a, const std::vector<int64_t> &start, const std::vector<int64_t> &step,
                  const Shape &target);
// Per dim: `before` invalid indices, the old ones, then `after` invalid ones.
void access_pad(Access &a, const std::vector<int64_t> &before, const std::vector<int64_t> &after);
// torch.Tensor.unfold: dim becomes the window's position, a new last dim
// the offset inside the window.
void access_unfold(Access &a, size_t dim, int64_t size, int64_t step);
void access_to_domain(Access &a, const Shape &domain, const std::vector<int> &src);
// torch.gather along `dim`: the index along dim is the value of instruction
// `instr` (a GatherTerm); the shape becomes the index's, `target`, whose
// other extents are at most the current ones (index j reads index j).
void access_gather(Access &a, size_t dim, int instr, const Shape &target);

// Strides that express `to` as a reshape of a (shape, strides) view without
// copying, if there are any (torch's view rule).
bool reshape_strides(const Shape &from, const Strides &strides, const Shape &to, Strides &out);

}  // namespace fusejit
