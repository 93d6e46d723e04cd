#include "ir/conv.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

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

// x padded by (before, after) on each of the trailing spatial dims;
// negative widths crop.
NodeRef pad_spatial(const NodeRef &x, const std::vector<std::pair<int64_t, int64_t>> &padding,
                    double value) {
  bool any = false;
  for (auto [before, after] : padding) any = any || before != 0 || after != 0;
  if (!any) return x;
  std::vector<std::pair<int64_t, int64_t>> widths(x->rank() - padding.size(), {0, 0});
  widths.insert(widths.end(), padding.begin(), padding.end());
  return pad(x, widths, value);
}

std::vector<std::pair<int64_t, int64_t>> both_sides(const std::vector<int64_t> &padding) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t p : padding) out.emplace_back(p, p);
  return out;
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

// The output extent of a pool over `extent` elements, and how many more
// elements of padding after the input its last window needs (ceil_mode).
struct PoolExtent {
  int64_t out = 0, extra = 0;
};

PoolExtent pool_extent(const char *what, size_t dim, int64_t extent, int64_t kernel, int64_t stride,
                       int64_t padding, int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (kernel - 1) + 1, room = extent + 2 * padding - span;
  FUSEJIT_USER_CHECK(room >= 0, ShapeError, what, ": the kernel spans ", span,
                     " elements of spatial dim ", dim, " but the padded input has ",
                     extent + 2 * padding, " there");
  PoolExtent e{room / stride + 1, 0};
  if (ceil_mode) {
    e.out = (room + stride - 1) / stride + 1;
    // torch: the last window must start inside the input or its left padding.
    if ((e.out - 1) * stride >= extent + padding) --e.out;
    e.extra = std::max<int64_t>(0, (e.out - 1) * stride + span - (extent + 2 * padding));
  }
  return e;
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
  std::vector<int64_t> dilation = per_dim(what, "dilation", p.dilation, spatial, 1);
  FUSEJIT_USER_CHECK(op == Op::Max || std::all_of(dilation.begin(), dilation.end(),
                                                  [](int64_t d) { return d == 1; }),
                     ShapeError, what, ": takes no dilation");
  std::vector<std::pair<int64_t, int64_t>> widths;
  bool extra = false;
  Shape input_extent(x->shape.end() - static_cast<int64_t>(spatial), x->shape.end());
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t span = dilation[i] * (kernel[i] - 1) + 1;
    FUSEJIT_USER_CHECK(2 * padding[i] <= span, ShapeError, what, ": padding ", padding[i],
                       " is more than half the kernel size ", span, " (as torch)");
    PoolExtent e = pool_extent(what, i, input_extent[i], kernel[i], stride[i], padding[i],
                               dilation[i], p.ceil_mode);
    widths.emplace_back(padding[i], padding[i] + e.extra);
    extra = extra || e.extra > 0;
  }
  auto pooled = [&](Op reduce_op, const NodeRef &v,
                    const std::vector<std::pair<int64_t, int64_t>> &around, double value) {
    NodeRef w = windows(pad_spatial(v, around, value), what, kernel, stride, dilation);
    return reduce(reduce_op, w, trailing_dims(w->rank(), spatial));
  };
  if (op != Op::Mean || (p.count_include_pad && !extra)) return pooled(op, x, widths, pad_value);
  // The divisor per output position: the window's count of input elements,
  // and of padding elements with count_include_pad, but never of the
  // elements past the right padding that ceil_mode adds. A pool of ones.
  NodeRef ones = full(1.0, x->dtype, input_extent);
  std::vector<std::pair<int64_t, int64_t>> beyond = widths;
  if (p.count_include_pad) {
    ones = pad_spatial(ones, both_sides(padding), 1.0);
    for (size_t i = 0; i < spatial; ++i) beyond[i] = {0, widths[i].second - padding[i]};
  }
  NodeRef count = pooled(Op::Sum, ones, beyond, 0.0);
  return binary(Op::Div, pooled(Op::Sum, x, widths, 0.0), count);
}

// What conv and conv_transpose ask of their operands; `layout` names the
// weight's dims.
void check_operands(const char *what, const NodeRef &x, const NodeRef &w, const char *layout) {
  FUSEJIT_USER_CHECK(x->rank() >= 3, ShapeError, what,
                     ": the input must be [N, C, spatial...], got ", describe(x));
  FUSEJIT_USER_CHECK(w->rank() == x->rank(), ShapeError, what, ": the weight ", describe(w),
                     " must have the input's rank ", x->rank(), " (", layout, ")");
  FUSEJIT_USER_CHECK(x->dtype == w->dtype, ShapeError, what, ": dtypes differ: input ", describe(x),
                     ", weight ", describe(w));
}

}  // namespace

NodeRef conv(const NodeRef &x, const NodeRef &w, const NodeRef &bias, const ConvParams &p) {
  const char *what = x->rank() == 3 ? "conv1d" : x->rank() == 4 ? "conv2d" : "conv";
  check_operands(what, x, w, "[Cout, Cin/groups, kernel...]");
  const size_t spatial = x->rank() - 2;
  const int64_t n = x->shape[0], cin = x->shape[1], cout = w->shape[0], g = p.groups;
  FUSEJIT_USER_CHECK(g >= 1, ShapeError, what, ": groups must be >= 1, got ", g);
  FUSEJIT_USER_CHECK(cin % g == 0 && cout % g == 0, ShapeError, what, ": groups ", g,
                     " must divide the input channels ", cin, " and the output channels ", cout);
  FUSEJIT_USER_CHECK(w->shape[1] * g == cin, ShapeError, what, ": the weight ", describe(w),
                     " has ", w->shape[1], " input channels per group; the input ", describe(x),
                     " with groups ", g, " needs ", cin / g);
  std::vector<int64_t> stride = per_dim(what, "stride", p.stride, spatial, 1);
  std::vector<int64_t> dilation = per_dim(what, "dilation", p.dilation, spatial, 1);
  std::vector<int64_t> kernel(w->shape.begin() + 2, w->shape.end());
  std::vector<std::pair<int64_t, int64_t>> padding;
  if (p.same) {
    for (size_t i = 0; i < spatial; ++i) {
      FUSEJIT_USER_CHECK(stride[i] == 1, ShapeError, what,
                         ": padding=\"same\" needs stride 1 (as torch), got stride ", stride[i],
                         " in spatial dim ", i);
      int64_t total = dilation[i] * (kernel[i] - 1);
      padding.emplace_back(total / 2, total - total / 2);
    }
  } else {
    padding = both_sides(per_dim(what, "padding", p.padding, spatial, 0));
  }

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

NodeRef conv_transpose(const NodeRef &x, const NodeRef &w, const NodeRef &bias,
                       const ConvParams &p) {
  const char *what = x->rank() == 3   ? "conv_transpose1d"
                     : x->rank() == 4 ? "conv_transpose2d"
                                      : "conv_transpose";
  check_operands(what, x, w, "[Cin, Cout/groups, kernel...]");
  FUSEJIT_USER_CHECK(!p.same, ShapeError, what, ": takes no padding=\"same\" (as torch)");
  const size_t spatial = x->rank() - 2;
  const int64_t cin = x->shape[1], g = p.groups;
  FUSEJIT_USER_CHECK(g >= 1, ShapeError, what, ": groups must be >= 1, got ", g);
  FUSEJIT_USER_CHECK(w->shape[0] == cin, ShapeError, what, ": the weight ", describe(w),
                     " must have the input's ", cin, " channels first; the input is ", describe(x));
  FUSEJIT_USER_CHECK(cin % g == 0, ShapeError, what, ": groups ", g,
                     " must divide the input channels ", cin);
  const int64_t cout_g = w->shape[1], cout = cout_g * g;
  std::vector<int64_t> stride = per_dim(what, "stride", p.stride, spatial, 1);
  std::vector<int64_t> padding = per_dim(what, "padding", p.padding, spatial, 0);
  std::vector<int64_t> dilation = per_dim(what, "dilation", p.dilation, spatial, 1);
  std::vector<int64_t> output_padding =
      per_dim(what, "output_padding", p.output_padding, spatial, 0);
  std::vector<int64_t> kernel(w->shape.begin() + 2, w->shape.end());

  NodeRef spread = x;
  std::vector<std::pair<int64_t, int64_t>> around;
  for (size_t i = 0; i < spatial; ++i) {
    FUSEJIT_USER_CHECK(output_padding[i] < std::max(stride[i], dilation[i]), ShapeError, what,
                       ": output_padding ", output_padding[i],
                       " must be smaller than the stride or the dilation (", stride[i], ", ",
                       dilation[i], ") in spatial dim ", i);
    const int64_t extent = x->shape[2 + i], reach = dilation[i] * (kernel[i] - 1);
    const int64_t out = (extent - 1) * stride[i] - 2 * padding[i] + reach + output_padding[i] + 1;
    FUSEJIT_USER_CHECK(out >= 1, ShapeError, what, ": spatial dim ", i, " of the output would be ",
                       out, " long: input ", describe(x), ", kernel ", kernel[i], ", stride ",
                       stride[i], ", padding ", padding[i], ", dilation ", dilation[i]);
    // stride - 1 zeros after each element but the last: [.., L, ..] ->
    // [.., L, s, ..] (a pad of a new dim) -> [.., L * s, ..], less the tail.
    if (stride[i] > 1) {
      const auto dim = static_cast<int64_t>(2 + i);
      Shape merged = spread->shape;
      merged[2 + i] *= stride[i];
      std::vector<std::pair<int64_t, int64_t>> gap(spread->rank() + 1, {0, 0});
      gap[2 + i + 1] = {0, stride[i] - 1};
      spread = reshape(pad(unsqueeze(spread, dim + 1), gap), merged);
    }
    const int64_t tail = stride[i] - 1;
    around.emplace_back(reach - padding[i], reach - padding[i] + output_padding[i] - tail);
  }
  spread = pad_spatial(spread, around, 0.0);

  // [Cin, Cout/G, K...] -> [G, Cin/G, Cout/G, K...] -> [G, Cout/G, Cin/G, K...]
  // -> [Cout, Cin/G, K...], the kernel flipped.
  Shape grouped = {g, cin / g, cout_g};
  grouped.insert(grouped.end(), kernel.begin(), kernel.end());
  std::vector<int64_t> perm = {0, 2, 1};
  for (size_t i = 0; i < spatial; ++i) perm.push_back(static_cast<int64_t>(3 + i));
  Shape regrouped = {cout, cin / g};
  regrouped.insert(regrouped.end(), kernel.begin(), kernel.end());
  NodeRef flipped = flip(reshape(permute(reshape(w, grouped), perm), regrouped),
                         trailing_dims(regrouped.size(), spatial));
  FUSEJIT_USER_CHECK(!bias || (bias->rank() == 1 && bias->shape[0] == cout), ShapeError, what,
                     ": the bias ", bias ? describe(bias) : "", " must be [", cout,
                     "], one per output channel");
  ConvParams forward;
  forward.dilation = dilation;
  forward.groups = g;
  return conv(spread, flipped, bias, forward);
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
