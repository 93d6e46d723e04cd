// Convolution and pooling, built in the graph from the indexing views
// (pad, unfold, slice, reshape) and `*` with `sum`, `max` or `mean`, so
// autodiff and fusion see only primitives and a composition written by hand
// gets the same graph. NCHW as PyTorch: x [N, C, spatial...].
#pragma once

#include <vector>

#include "ir/node.h"

namespace fusejit::ir {

// Per spatial dim, or one value for every spatial dim.
struct ConvParams {
  std::vector<int64_t> stride = {1};
  std::vector<int64_t> padding = {0};
  std::vector<int64_t> dilation = {1};
  int64_t groups = 1;
};

// torch.nn.functional.conv1d / conv2d: x [N, Cin, L...], w [Cout, Cin /
// groups, K...], bias [Cout] or null; the spatial rank is x's rank - 2.
//   y[n, co, o] = sum over (ci, k) of pad(x)[n, g(co) * Cin/groups + ci, o * s + k * d] * w[co, ci,
//   k]
NodeRef conv(const NodeRef &x, const NodeRef &w, const NodeRef &bias, const ConvParams &p);

struct PoolParams {
  std::vector<int64_t> kernel;
  std::vector<int64_t> stride;  // empty: the kernel, as torch
  std::vector<int64_t> padding = {0};
};

// max_pool2d (padding reads -inf) and avg_pool2d (padding counts, as
// torch's count_include_pad) over the trailing kernel.size() dims.
NodeRef max_pool(const NodeRef &x, const PoolParams &p);
NodeRef avg_pool(const NodeRef &x, const PoolParams &p);

}  // namespace fusejit::ir
