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

// A conv_transpose's operands and its per-dim parameters, checked.
struct Transposed {
  NodeRef x, w;
  int64_t groups;
  std::vector<int64_t> stride, padding, dilation, output_padding, kernel;

  int64_t out(size_t i) const {
    return (x->shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) +
           output_padding[i] + 1;
  }
};

// The weight [Cin, Cout/G, K...] as [G, Cin/G, Cout/G, K...].
NodeRef by_group(const Transposed &t, const Shape &kernel) {
  Shape grouped = {t.groups, t.x->shape[1] / t.groups, t.w->shape[1]};
  grouped.insert(grouped.end(), kernel.begin(), kernel.end());
  return reshape(t.w, grouped);
}

// The general form, for dilated kernels: the conv of x with stride - 1
// zeros spread between its elements, padded by dilation * (K - 1) - padding
// (negative crops), with the kernel flipped and its channel dims swapped per
// group. It multiplies every zero it spreads: about stride^spatial times the
// work of the phase form.
NodeRef spread_transpose(const Transposed &t) {
  const size_t spatial = t.kernel.size();
  const int64_t g = t.groups, cin = t.x->shape[1], cout = t.w->shape[1] * g;
  NodeRef spread = t.x;
  std::vector<std::pair<int64_t, int64_t>> around;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t s = t.stride[i], reach = t.dilation[i] * (t.kernel[i] - 1);
    // stride - 1 zeros after each element but the last: [.., L, ..] ->
    // [.., L, s, ..] (a pad of a new dim) -> [.., L * s, ..], less the tail.
    if (s > 1) {
      const auto dim = static_cast<int64_t>(2 + i);
      Shape merged = spread->shape;
      merged[2 + i] *= s;
      std::vector<std::pair<int64_t, int64_t>> gap(spread->rank() + 1, {0, 0});
      gap[2 + i + 1] = {0, s - 1};
      spread = reshape(pad(unsqueeze(spread, dim + 1), gap), merged);
    }
    around.emplace_back(reach - t.padding[i], reach - t.padding[i] + t.output_padding[i] - (s - 1));
  }
  spread = pad_spatial(spread, around, 0.0);
  // [G, Cin/G, Cout/G, K...] -> [G, Cout/G, Cin/G, K...] -> [Cout, Cin/G, K...], flipped.
  std::vector<int64_t> perm = {0, 2, 1};
  for (size_t i = 0; i < spatial; ++i) perm.push_back(static_cast<int64_t>(3 + i));
  Shape regrouped = {cout, cin / g};
  regrouped.insert(regrouped.end(), t.kernel.begin(), t.kernel.end());
  NodeRef flipped = flip(reshape(permute(by_group(t, t.kernel), perm), regrouped),
                         trailing_dims(regrouped.size(), spatial));
  ConvParams forward;
  forward.dilation = t.dilation;
  forward.groups = g;
  return conv(spread, flipped, nullptr, forward);
}

// Undilated kernels, split by phase: output position o, at o + padding = q *
// s + r (0 <= r < s), sums x[q - j] * w[r + j * s] over the J = ceil(K / s)
// taps j (the kernel zero-padded to J * s), so each phase r is a stride-1
// conv of x with its own J-tap sub-kernel, flipped. All phases are one
// contraction, the phase a dim of the weight's side:
//   y[n, g, co, q, r...] = sum over (ci, t) of xpad[n, g, ci, q + t] * w'[g, ci, co, r, t]
// with w'[.., r, t] = w[.., r + (J - 1 - t) * s]; [q, r] merges into the
// output dim q * s + r, and a slice keeps the outputs from `padding` on. No
// zero of a spread input is multiplied, and only the kernel's padding to a
// multiple of the stride adds taps (none for the common K = 2s).
NodeRef phase_transpose(const Transposed &t) {
  const size_t spatial = t.kernel.size();
  const int64_t n = t.x->shape[0], g = t.groups, cin_g = t.x->shape[1] / g, cout_g = t.w->shape[1];
  std::vector<int64_t> taps, first;  // J per dim; the first q each dim needs
  std::vector<std::pair<int64_t, int64_t>> x_around, w_after;
  Shape split = {n, g, cout_g}, out = {n, g * cout_g};
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t s = t.stride[i], k = t.kernel[i], p = t.padding[i], l = t.x->shape[2 + i];
    const int64_t j = (k + s - 1) / s, q0 = p / s, q1 = (p + t.out(i) - 1) / s;
    taps.push_back(j);
    first.push_back(p - q0 * s);
    // Window t of output q reads x[q - (J - 1 - t)]: J - 1 zeros before x,
    // and the window of q0 first (a negative width crops).
    x_around.emplace_back(j - 1 - q0, q1 + 1 - l);
    w_after.emplace_back(0, j * s - k);
    split.push_back(q1 - q0 + 1);
    split.push_back(s);
    out.push_back(t.out(i));
  }
  // The image: [N, Cin, Q..., J...] -> [N, G, 1, Cin/G, (Q, 1)..., J...].
  NodeRef cols = windows(pad_spatial(t.x, x_around, 0.0), "conv_transpose", taps,
                         std::vector<int64_t>(spatial, 1), std::vector<int64_t>(spatial, 1));
  Shape image = {n, g, 1, cin_g};
  for (size_t i = 0; i < spatial; ++i) image.insert(image.end(), {cols->shape[2 + i], 1});
  image.insert(image.end(), taps.begin(), taps.end());
  cols = reshape(cols, image);
  // The weight: [G, Cin/G, Cout/G, (J * s)...] -> [G, Cin/G, Cout/G, (J, s)...], J flipped,
  // -> [G, Cout/G, Cin/G, s..., J...] -> [1, G, Cout/G, Cin/G, (1, s)..., J...].
  Shape phased = {g, cin_g, cout_g};
  std::vector<int64_t> reversed, perm = {0, 2, 1};
  for (size_t i = 0; i < spatial; ++i) {
    phased.insert(phased.end(), {taps[i], t.stride[i]});
    reversed.push_back(static_cast<int64_t>(3 + 2 * i));
    perm.push_back(static_cast<int64_t>(4 + 2 * i));
  }
  for (size_t i = 0; i < spatial; ++i) perm.push_back(static_cast<int64_t>(3 + 2 * i));
  NodeRef weight = pad_spatial(by_group(t, t.kernel), w_after, 0.0);
  weight = permute(flip(reshape(weight, phased), reversed), perm);
  Shape kernel_side = {1, g, cout_g, cin_g};
  for (size_t i = 0; i < spatial; ++i) kernel_side.insert(kernel_side.end(), {1, t.stride[i]});
  kernel_side.insert(kernel_side.end(), taps.begin(), taps.end());
  weight = reshape(weight, kernel_side);
  // Sum over Cin/G and the taps: [N, G, Cout/G, (Q, s)...] -> [N, Cout, (Q * s)...].
  std::vector<int64_t> reduced = {3};
  for (int64_t d : trailing_dims(image.size(), spatial)) reduced.push_back(d);
  NodeRef y = reduce(Op::Sum, binary(Op::Mul, cols, weight), reduced);
  Shape merged = {n, g * cout_g};
  for (size_t i = 0; i < spatial; ++i) merged.push_back(split[3 + 2 * i] * t.stride[i]);
  y = reshape(y, merged);
  std::vector<int64_t> start = {0, 0}, step(out.size(), 1);
  start.insert(start.end(), first.begin(), first.end());
  return y->shape == out ? y : slice(y, start, step, out);
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
  }
  FUSEJIT_USER_CHECK(!bias || (bias->rank() == 1 && bias->shape[0] == cout), ShapeError, what,
                     ": the bias ", bias ? describe(bias) : "", " must be [", cout,
                     "], one per output channel");
  Transposed t{x, w, g, stride, padding, dilation, output_padding, kernel};
  const bool dilated =
      std::any_of(dilation.begin(), dilation.end(), [](int64_t d) { return d > 1; });
  NodeRef y = dilated ? spread_transpose(t) : phase_transpose(t);
  if (!bias) return y;
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
