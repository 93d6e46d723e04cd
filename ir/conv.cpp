#include "ir/conv.h"

#include <limits>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/shape.h"

namespace fusejit::ir {
namespace {

std::string describe(const NodeRef &n) { return type_str(n->dtype, n->shape); }

// One value per spatial dim: a single value applies to every one.
std::vector<int64_t> per_dim(const char *what, const char *name, const std::vector<int64_t> &v,
                             size_t spatial, int64_t minimum) {
  FUSEJIT_USER_CHECK(v.size() == 1 || v.size() == spatial, ShapeError, what, ": ", name, " has ",
                     v.size(), " values for ", spatial, " spatial dims");
  std::vector<int64_t> out = v.size() == 1 ? std::vector<int64_t>(spatial, v[0]) : v;
  for (int64_t x : out)
    FUSEJIT_USER_CHECK(x >= minimum, ShapeError, what, ": ", name, " must be >= ", minimum,
                       ", got ", x);
  return out;
}

// x padded by `padding` on both sides of each of the trailing spatial dims.
NodeRef pad_spatial(const NodeRef &x, const std::vector<int64_t> &padding, double value) {
  bool any = false;
  for (int64_t p : padding) any = any || p != 0;
  if (!any) return x;
  std::vector<std::pair<int64_t, int64_t>> widths(x->rank() - padding.size(), {0, 0});
  for (int64_t p : padding) widths.emplace_back(p, p);
  return pad(x, widths, value);
}

// The windows of the trailing spatial dims of `x` (already padded) as new
// trailing dims: [..., L...] -> [..., O..., K...], where window k of output
// position o reads o * stride + k * dilation. Each is an unfold whose
// window spans the dilated kernel, then a strided slice of it.
NodeRef windows(NodeRef x, const char *what, const std::vector<int64_t> &kernel,
                const std::vector<int64_t> &stride, const std::vector<int64_t> &dilation) {
  const size_t spatial = kernel.size();
  const size_t first = x->rank() - spatial;
  for (size_t i = 0; i < spatial; ++i) {
    int64_t span = dilation[i] * (kernel[i] - 1) + 1;
    int64_t extent = x->shape[first + i];
    FUSEJIT_USER_CHECK(span <= extent, ShapeError, what, ": the kernel spans ", span,
                       " elements of spatial dim ", i, " but the (padded) input has ", extent,
                       " there: ", describe(x));
    x = unfold(x, static_cast<int64_t>(first + i), span, stride[i]);
    if (dilation[i] != 1) x = slice_dim(x, -1, 0, std::nullopt, dilation[i]);
  }
  return x;
}

std::vector<int64_t> trailing_dims(size_t rank, size_t count) {
  std::vector<int64_t> dims;
  for (size_t i = rank - count; i < rank; ++i) dims.push_back(static_cast<int64_t>(i));
  return dims;
}

NodeRef pool(Op op, const char *what, const NodeRef &x, const PoolParams &p, double pad_value) {
  const size_t spatial = p.kernel.size();
  FUSEJIT_USER_CHECK(spatial >= 1 && x->rank() >= spatial + 1, ShapeError, what, ": a ", spatial,
                     "-d kernel needs an input of at least ", spatial + 1, " dims, got ",
                     describe(x));
  std::vector<int64_t> kernel = per_dim(what, "kernel_size", p.kernel, spatial, 1);
  std::vector<int64_t> stride =
      per_dim(what, "stride", p.stride.empty() ? kernel : p.stride, spatial, 1);
  std::vector<int64_t> padding = per_dim(what, "padding", p.padding, spatial, 0);
  for (size_t i = 0; i < spatial; ++i)
    FUSEJIT_USER_CHECK(2 * padding[i] <= kernel[i], ShapeError, what, ": padding ", padding[i],
                       " is more than half the kernel size ", kernel[i], " (as torch)");
  NodeRef w = windows(pad_spatial(x, padding, pad_value), what, kernel, stride,
                      std::vector<int64_t>(spatial, 1));
  return reduce(op, w, trailing_dims(w->rank(), spatial));
}

}  // namespace

NodeRef conv(const NodeRef &x, const NodeRef &w, const NodeRef &bias, const ConvParams &p) {
  const char *what = x->rank() == 3 ? "conv1d" : x->rank() == 4 ? "conv2d" : "conv";
  FUSEJIT_USER_CHECK(x->rank() >= 3, ShapeError, what,
                     ": the input must be [N, C, spatial...], got ", describe(x));
  FUSEJIT_USER_CHECK(w->rank() == x->rank(), ShapeError, what, ": the weight ", describe(w),
                     " must have the input's rank ", x->rank(), " ([Cout, Cin/groups, kernel...])");
  FUSEJIT_USER_CHECK(x->dtype == w->dtype, ShapeError, what, ": dtypes differ: input ", describe(x),
                     ", weight ", describe(w));
  const size_t spatial = x->rank() - 2;
  const int64_t n = x->shape[0], cin = x->shape[1], cout = w->shape[0], g = p.groups;
  FUSEJIT_USER_CHECK(g >= 1, ShapeError, what, ": groups must be >= 1, got ", g);
  FUSEJIT_USER_CHECK(cin % g == 0 && cout % g == 0, ShapeError, what, ": groups ", g,
                     " must divide the input channels ", cin, " and the output channels ", cout);
  FUSEJIT_USER_CHECK(w->shape[1] * g == cin, ShapeError, what, ": the weight ", describe(w),
                     " has ", w->shape[1], " input channels per group; the input ", describe(x),
                     " with groups ", g, " needs ", cin / g);
  std::vector<int64_t> stride = per_dim(what, "stride", p.stride, spatial, 1);
  std::vector<int64_t> padding = per_dim(what, "padding", p.padding, spatial, 0);
  std::vector<int64_t> dilation = per_dim(what, "dilation", p.dilation, spatial, 1);
  std::vector<int64_t> kernel(w->shape.begin() + 2, w->shape.end());

  // [N, Cin, O..., K...] -> [N, G, 1, Cin/G, O..., K...]
  NodeRef cols = windows(pad_spatial(x, padding, 0.0), what, kernel, stride, dilation);
  Shape grouped = {n, g, 1, cin / g};
  for (size_t i = 2; i < cols->rank(); ++i) grouped.push_back(cols->shape[i]);
  cols = reshape(cols, grouped);

  // [Cout, Cin/G, K...] -> [1, G, Cout/G, Cin/G, 1..., K...]
  Shape wshape = {1, g, cout / g, cin / g};
  wshape.insert(wshape.end(), spatial, 1);
  wshape.insert(wshape.end(), kernel.begin(), kernel.end());
  NodeRef weight = reshape(w, wshape);

  // Sum over Cin/G and the kernel dims: [N, G, Cout/G, O...] -> [N, Cout, O...].
  std::vector<int64_t> reduced = {3};
  for (int64_t d : trailing_dims(grouped.size(), spatial)) reduced.push_back(d);
  NodeRef y = reduce(Op::Sum, binary(Op::Mul, cols, weight), reduced);
  Shape out = {n, cout};
  for (size_t i = 3; i < y->rank(); ++i) out.push_back(y->shape[i]);
  y = reshape(y, out);
  if (!bias) return y;
  FUSEJIT_USER_CHECK(bias->rank() == 1 && bias->shape[0] == cout, ShapeError, what, ": the bias ",
                     describe(bias), " must be [", cout, "], one per output channel");
  Shape bshape = {cout};
  bshape.insert(bshape.end(), spatial, 1);
  return binary(Op::Add, y, reshape(bias, bshape));
}

NodeRef max_pool(const NodeRef &x, const PoolParams &p) {
  const char *what = p.kernel.size() == 2 ? "max_pool2d" : "max_pool";
  return pool(Op::Max, what, x, p, -std::numeric_limits<double>::infinity());
}

NodeRef avg_pool(const NodeRef &x, const PoolParams &p) {
  const char *what = p.kernel.size() == 2 ? "avg_pool2d" : "avg_pool";
  return pool(Op::Mean, what, x, p, 0.0);
}

}  // namespace fusejit::ir
