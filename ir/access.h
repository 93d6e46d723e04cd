// Building Accesses (ir/kernel.h) by applying views to a buffer, the way a
// strided tensor library does: permute permutes strides, expand gives stride
// 0, and reshape keeps strides where the merged or split dims are contiguous
// with each other. A reshape that strides cannot express (most reshapes of a
// permuted view) adds a layer: the new index is linearized and unravelled
// into the old shape, which the lowering computes with div and mod.
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
void access_to_domain(Access &a, const Shape &domain, const std::vector<int> &src);

// Strides that express `to` as a reshape of a (shape, strides) view without
// copying, if there are any (torch's view rule).
bool reshape_strides(const Shape &from, const Strides &strides, const Shape &to, Strides &out);

}  // namespace fusejit
