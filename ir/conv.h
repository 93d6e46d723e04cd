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
  // padding="same" (conv only, stride 1): the output has the input's
  // size; an odd total pads one more after than before, as torch.
  bool same = false;
  std::vector<int64_t> output_padding = {0};  // conv_transpose only
};

// torch.nn.functional.conv1d / conv2d: x [N, Cin, L...], w [Cout, Cin /
// groups, K...], bias [Cout] or null; the spatial rank is x's rank - 2.
//   y[n, co, o] = sum over (ci, k) of pad(x)[n, g(co) * Cin/groups + ci, o * s + k * d] * w[co, ci,
//   k]
NodeRef conv(const NodeRef &x, const NodeRef &w, const NodeRef &bias, const ConvParams &p);

// torch.nn.functional.conv_transpose1d / 2d, the gradient of conv with
// respect to its input: x [N, Cin, L...], w [Cin, Cout / groups, K...],
// bias [Cout] or null; each output dim is (L - 1) * stride - 2 * padding +
// dilation * (K - 1) + output_padding + 1. Built as the conv of x with
// stride - 1 zeros between its elements, padded by dilation * (K - 1) -
// padding (negative crops), with the kernel flipped and its channel dims
// swapped per group.
NodeRef conv_transpose(const NodeRef &x, const NodeRef &w, const NodeRef &bias,
                       const ConvParams &p);

struct PoolParams {
  std::vector<int64_t> kernel;
  std::vector<int64_t> stride;  // empty: the kernel, as torch
  std::vector<int64_t> padding = {0};
  std::vector<int64_t> dilation = {1};  // max pool only
  // Output size rounded up: a last window may start in the right padding
  // or past it, never past the input's end plus the left padding (torch).
  bool ceil_mode = false;
  // avg pool: whether padding counts in the divisor; positions past the
  // right padding (ceil_mode) never do.
  bool count_include_pad = true;
};

// max_pool2d (padding reads -inf) and avg_pool2d over the trailing
// kernel.size() dims.
NodeRef max_pool(const NodeRef &x, const PoolParams &p);
NodeRef avg_pool(const NodeRef &x, const PoolParams &p);

}  // namespace fusejit::ir
