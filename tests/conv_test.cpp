// Convolution and pooling through the public API against direct loops
// written here (an oracle independent of the graph), forward and gradients,
// f32 and f64, fast and strict, on odd sizes with stride, padding, dilation
// and groups; and their bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>

#include "fusejit/fusejit.h"
#include "ir/conv.h"
#include "ir/parser.h"

namespace fusejit {
namespace {

// A 2-D case; a 1-D one is the same with H = KH = 1.
struct Case {
  int64_t n, cin, cout, groups, h, w, kh, kw;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool bias = true;
  int64_t oh() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t ow() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  std::string name() const {
    return "n" + std::to_string(n) + " cin" + std::to_string(cin) + " cout" + std::to_string(cout) +
           " g" + std::to_string(groups) + " " + std::to_string(h) + "x" + std::to_string(w) +
           " k" + std::to_string(kh) + "x" + std::to_string(kw) + " s" + std::to_string(sh) + "," +
           std::to_string(sw) + " p" + std::to_string(ph) + "," + std::to_string(pw) + " d" +
           std::to_string(dh) + "," + std::to_string(dw);
  }
};

std::vector<double> random_values(size_t count, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(count);
  for (double &x : v) x = u(g);
  return v;
}

// y[n, co, oy, ox] = b[co] + sum over (ci, ky, kx) of x[n, g*cpg + ci, oy*sh + ky*dh - ph, ...] *
// w[co, ci, ky, kx]
std::vector<double> direct_conv(const Case &c, const std::vector<double> &x,
                                const std::vector<double> &w, const std::vector<double> &b) {
  const int64_t cpg = c.cin / c.groups, opg = c.cout / c.groups, oh = c.oh(), ow = c.ow();
  std::vector<double> y(static_cast<size_t>(c.n * c.cout * oh * ow));
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double s = c.bias ? b[co] : 0.0;
          for (int64_t ci = 0; ci < cpg; ++ci)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                int64_t iy = oy * c.sh + ky * c.dh - c.ph, ix = ox * c.sw + kx * c.dw - c.pw;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                int64_t channel = co / opg * cpg + ci;
                s += x[((n * c.cin + channel) * c.h + iy) * c.w + ix] *
                     w[((co * cpg + ci) * c.kh + ky) * c.kw + kx];
              }
          y[((n * c.cout + co) * oh + oy) * ow + ox] = s;
        }
  return y;
}

double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

template <typename T>
std::vector<T> cast_all(const std::vector<double> &v) {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
Tensor tensor_of(const std::vector<double> &v, Shape shape) {
  return Tensor::from_vector<T>(cast_all<T>(v), std::move(shape));
}

template <typename T>
void expect_near_all(const std::vector<T> &got, const std::vector<double> &want, double tol,
                     const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(static_cast<double>(got[i]), want[i], tol * (1 + std::fabs(want[i])))
        << what << " element " << i;
}

bool one_d(const Case &c) { return c.h == 1 && c.kh == 1 && c.sh == 1 && c.ph == 0 && c.dh == 1; }

// The API call for `c`: conv1d when it is 1-D (H = 1 dropped), else conv2d.
Tensor call_conv(const Case &c, bool as_1d, const Tensor &x, const Tensor &w, const Tensor &b) {
  if (as_1d) return conv1d(x, w, b, {c.sw}, {c.pw}, {c.dw}, c.groups);
  return conv2d(x, w, b, {c.sh, c.sw}, {c.ph, c.pw}, {c.dh, c.dw}, c.groups);
}

template <typename T>
void check_forward(const Case &c, bool as_1d, Numerics numerics) {
  std::vector<double> x = random_values(static_cast<size_t>(c.n * c.cin * c.h * c.w), 1);
  std::vector<double> w =
      random_values(static_cast<size_t>(c.cout * (c.cin / c.groups) * c.kh * c.kw), 2);
  std::vector<double> b = random_values(static_cast<size_t>(c.cout), 3);
  Shape xs = as_1d ? Shape{c.n, c.cin, c.w} : Shape{c.n, c.cin, c.h, c.w};
  Shape ws =
      as_1d ? Shape{c.cout, c.cin / c.groups, c.kw} : Shape{c.cout, c.cin / c.groups, c.kh, c.kw};
  Tensor bias = c.bias ? tensor_of<T>(b, {c.cout}) : Tensor();
  Tensor y = call_conv(c, as_1d, tensor_of<T>(x, xs), tensor_of<T>(w, ws), bias);
  Shape want_shape = as_1d ? Shape{c.n, c.cout, c.ow()} : Shape{c.n, c.cout, c.oh(), c.ow()};
  ASSERT_EQ(y.sizes(), want_shape) << c.name();
  Options options = default_options();
  options.numerics = numerics;
  y.realize(options);
  double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  expect_near_all(y.to_vector<T>(), direct_conv(c, x, w, b), tol, c.name());
}

const std::vector<Case> &cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> v;
    v.push_back({1, 1, 1, 1, 5, 5, 1, 1});                             // 1x1 kernel
    v.push_back({3, 3, 2, 1, 7, 6, 3, 3, 1, 1, 1, 1});                 // padding 1, batch 3
    v.push_back({2, 4, 6, 2, 9, 8, 3, 2, 2, 2, 2, 0, 1, 1});           // groups 2, stride 2
    v.push_back({1, 2, 3, 1, 11, 10, 3, 3, 1, 1, 2, 2, 2, 2, false});  // dilation 2, no bias
    v.push_back({2, 1, 4, 1, 17, 9, 5, 5, 2, 1});                      // 5x5, stride (2, 1)
    v.push_back({1, 3, 3, 3, 6, 7, 3, 3, 1, 2, 1, 1});                 // depthwise
    v.push_back({2, 3, 5, 1, 1, 17, 1, 3, 1, 2, 0, 1});                // 1-D: stride 2, pad 1
    v.push_back({1, 1, 1, 1, 1, 129, 1, 5});                           // 1-D, 129 long
    v.push_back({2, 4, 2, 2, 1, 13, 1, 3, 1, 1, 0, 2, 1, 3, false});   // 1-D: groups, dilation 3
    // Channels enough for a GEMM. With a stride above 1 in each dim,
    // the input gradient is one phase-split contraction (engine/unfold_grad.h);
    // the others (stride 1, a dilation, mixed strides) keep col2im.
    v.push_back({2, 8, 9, 1, 7, 6, 3, 3, 1, 1, 1, 1});                // stride 1
    v.push_back({1, 8, 8, 1, 9, 11, 3, 3, 2, 2, 1, 1});               // stride 2, phases cropped
    v.push_back({1, 9, 8, 1, 10, 9, 4, 2, 3, 2, 0, 1});               // strides 3 and 2, two taps
    v.push_back({1, 8, 8, 1, 11, 9, 3, 3, 2, 2, 2, 2, 2, 2, false});  // dilation 2, stride 2
    v.push_back({1, 16, 16, 2, 6, 7, 3, 3, 2, 1, 1, 1});              // groups 2, stride (2, 1)
    v.push_back({2, 16, 8, 2, 9, 8, 3, 3, 2, 2, 1, 1});               // groups 2, stride 2
    return v;
  }();
  return all;
}

TEST(Conv, MatchesDirectLoopsInEveryDtypeAndNumerics) {
  for (const Case &c : cases()) {
    for (bool as_1d : {false, true}) {
      if (as_1d && !one_d(c)) continue;
      SCOPED_TRACE(c.name() + (as_1d ? " conv1d" : " conv2d"));
      for (Numerics m : {Numerics::Fast, Numerics::Strict}) {
        check_forward<float>(c, as_1d, m);
        check_forward<double>(c, as_1d, m);
      }
    }
  }
}

// The gradients from backward() against central differences of the direct
// loops (exact up to rounding: a convolution is linear in x, in w and in b).
TEST(Conv, GradientsMatchCentralDifferences) {
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name());
    const bool as_1d = one_d(c);
    std::vector<double> x = random_values(static_cast<size_t>(c.n * c.cin * c.h * c.w), 4);
    std::vector<double> w =
        random_values(static_cast<size_t>(c.cout * (c.cin / c.groups) * c.kh * c.kw), 5);
    std::vector<double> b = random_values(static_cast<size_t>(c.cout), 6);
    std::vector<double> seed =
        random_values(static_cast<size_t>(c.n * c.cout * c.oh() * c.ow()), 7);
    Shape xs = as_1d ? Shape{c.n, c.cin, c.w} : Shape{c.n, c.cin, c.h, c.w};
    Shape ws =
        as_1d ? Shape{c.cout, c.cin / c.groups, c.kw} : Shape{c.cout, c.cin / c.groups, c.kh, c.kw};
    Shape ys = as_1d ? Shape{c.n, c.cout, c.ow()} : Shape{c.n, c.cout, c.oh(), c.ow()};
    Tensor tx = tensor_of<double>(x, xs).requires_grad_();
    Tensor tw = tensor_of<double>(w, ws).requires_grad_();
    Tensor tb = c.bias ? tensor_of<double>(b, {c.cout}).requires_grad_() : Tensor();
    (call_conv(c, as_1d, tx, tw, tb) * tensor_of<double>(seed, ys)).sum().backward();

    auto loss = [&](const std::vector<double> &xv, const std::vector<double> &wv,
                    const std::vector<double> &bv) {
      return dot(direct_conv(c, xv, wv, bv), seed);
    };
    auto numeric = [&](std::vector<double> &v, size_t i) {
      const double h = 1e-3, keep = v[i];
      v[i] = keep + h;
      double up = loss(x, w, b);
      v[i] = keep - h;
      double down = loss(x, w, b);
      v[i] = keep;
      return (up - down) / (2 * h);
    };
    std::vector<double> dx(x.size()), dw(w.size()), db(b.size());
    for (size_t i = 0; i < x.size(); ++i) dx[i] = numeric(x, i);
    for (size_t i = 0; i < w.size(); ++i) dw[i] = numeric(w, i);
    for (size_t i = 0; i < b.size(); ++i) db[i] = numeric(b, i);
    expect_near_all(tx.grad().to_vector<double>(), dx, 1e-8, "d/dx");
    expect_near_all(tw.grad().to_vector<double>(), dw, 1e-8, "d/dw");
    if (c.bias) expect_near_all(tb.grad().to_vector<double>(), db, 1e-8, "d/db");
  }
}

// minitorch's 1-D case, where minitorch pads on the right and keeps the
// width: here that is conv1d of the padded input.
TEST(Conv, MinitorchsOneDimensionalCase) {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3}, {1, 1, 4});
  Tensor w = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3});
  EXPECT_EQ(conv1d(pad(x, {0, 2}), w).to_vector<float>(), (std::vector<float>{8, 14, 8, 3}));
}

struct PoolCase {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
  bool ceil = false, include_pad = true;
  int64_t dh = 1, dw = 1;  // max pool only
  // torch's output size: rounded up with ceil_mode, less a last window that
  // would start past the input and its left padding.
  static int64_t out(int64_t l, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
    int64_t room = l + 2 * p - d * (k - 1) - 1, o = (ceil ? room + s - 1 : room) / s + 1;
    return ceil && (o - 1) * s >= l + p ? o - 1 : o;
  }
  int64_t oh() const { return out(h, kh, sh, ph, dh, ceil); }
  int64_t ow() const { return out(w, kw, sw, pw, dw, ceil); }
};

// As torch's loops: an average divides by the window clipped to the padded
// input (include_pad) or to the input itself.
std::vector<double> direct_pool(const PoolCase &p, bool max, const std::vector<double> &x) {
  std::vector<double> y(static_cast<size_t>(p.n * p.c * p.oh() * p.ow()));
  for (int64_t nc = 0; nc < p.n * p.c; ++nc)
    for (int64_t oy = 0; oy < p.oh(); ++oy)
      for (int64_t ox = 0; ox < p.ow(); ++ox) {
        double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
        double count = 0;
        for (int64_t ky = 0; ky < p.kh; ++ky)
          for (int64_t kx = 0; kx < p.kw; ++kx) {
            int64_t iy = oy * p.sh + ky * p.dh - p.ph, ix = ox * p.sw + kx * p.dw - p.pw;
            bool inside = iy >= 0 && iy < p.h && ix >= 0 && ix < p.w;
            bool padded = iy < p.h + p.ph && ix < p.w + p.pw;
            count += inside || (p.include_pad && padded) ? 1 : 0;
            double v = inside ? x[(nc * p.h + iy) * p.w + ix] : (max ? -INFINITY : 0.0);
            acc = max ? std::max(acc, v) : acc + v;
          }
        y[(nc * p.oh() + oy) * p.ow() + ox] = max ? acc : acc / count;
      }
  return y;
}

Tensor pool_of(const PoolCase &p, bool max, const Tensor &x) {
  if (max) return max_pool2d(x, {p.kh, p.kw}, {p.sh, p.sw}, {p.ph, p.pw}, {p.dh, p.dw}, p.ceil);
  return avg_pool2d(x, {p.kh, p.kw}, {p.sh, p.sw}, {p.ph, p.pw}, p.ceil, p.include_pad);
}

TEST(Pool, MaxAndAveragePoolsMatchDirectLoopsWithTheirGradients) {
  const std::vector<PoolCase> all = {
      {1, 1, 4, 4, 2, 2, 2, 2, 0, 0},   // LeNet's pool
      {2, 3, 7, 9, 3, 3, 2, 2, 1, 1},   // padding 1, odd sizes
      {1, 2, 17, 5, 3, 2, 1, 3, 0, 1},  // overlapping windows, stride (1, 3)
      // ceil_mode: last windows over the right padding and past it, one
      // dropped for starting past the input (8 + 1 with stride 3)
      {2, 3, 8, 7, 3, 2, 2, 2, 1, 1, true},
      {1, 2, 8, 9, 2, 3, 3, 2, 1, 0, true},
      {1, 2, 7, 9, 3, 3, 2, 3, 1, 1, true, false},  // and padding not counted
      {2, 1, 9, 8, 3, 2, 2, 1, 1, 1, false, false},
      {1, 2, 9, 7, 2, 3, 2, 1, 0, 1, true, true, 3, 2},  // dilation (max only)
  };
  for (const PoolCase &p : all) {
    for (bool max : {true, false}) {
      if (!max && (p.dh != 1 || p.dw != 1)) continue;
      SCOPED_TRACE(std::string(max ? "max" : "avg") + " pool " + std::to_string(p.h) + "x" +
                   std::to_string(p.w) + " k" + std::to_string(p.kh) + "x" + std::to_string(p.kw) +
                   (p.ceil ? " ceil" : "") + (p.include_pad ? "" : " excluding padding"));
      // Distinct values, so each window has one arg-max and the central
      // difference is the derivative.
      std::vector<double> x(static_cast<size_t>(p.n * p.c * p.h * p.w));
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01 * static_cast<double>((i * 37) % x.size());
      std::vector<double> seed = random_values(static_cast<size_t>(p.n * p.c * p.oh() * p.ow()), 8);
      Tensor tx = tensor_of<double>(x, {p.n, p.c, p.h, p.w}).requires_grad_();
      Tensor y = pool_of(p, max, tx);
      ASSERT_EQ(y.sizes(), (Shape{p.n, p.c, p.oh(), p.ow()}));
      expect_near_all(y.to_vector<double>(), direct_pool(p, max, x), 1e-12, "forward");
      (y * tensor_of<double>(seed, y.sizes())).sum().backward();
      std::vector<double> dx(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const double h = 1e-4, keep = x[i];
        x[i] = keep + h;
        double up = dot(direct_pool(p, max, x), seed);
        x[i] = keep - h;
        double down = dot(direct_pool(p, max, x), seed);
        x[i] = keep;
        dx[i] = (up - down) / (2 * h);
      }
      expect_near_all(tx.grad().to_vector<double>(), dx, 1e-7, "d/dx");
    }
  }
  // A 3-D [C, H, W] input and a stride that defaults to the kernel.
  Tensor x =
      Tensor::from_vector<float>({1, 5, 2, 0, 3, 4, 8, 6, 7, 1, 2, 9, 0, 0, 4, 3}, {1, 4, 4});
  EXPECT_EQ(max_pool2d(x, {2}).to_vector<float>(), (std::vector<float>{5, 8, 7, 9}));
  EXPECT_EQ(avg_pool2d(x, {2, 2}).to_vector<float>(), (std::vector<float>{3.25f, 4, 2, 4.5f}));
}

struct TransposeCase {
  int64_t n, cin, cout, groups, h, w, kh, kw;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, oph = 0, opw = 0, dh = 1, dw = 1;
  int64_t oh() const { return (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1; }
  int64_t ow() const { return (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1; }
};

// Each input element scattered through the kernel: y[n, g * opg + co, iy *
// sh - ph + ky * dh, ...] += x[n, ci, iy, ix] * w[ci, co, ky, kx].
std::vector<double> direct_transpose(const TransposeCase &c, const std::vector<double> &x,
                                     const std::vector<double> &w, const std::vector<double> &b) {
  const int64_t cpg = c.cin / c.groups, opg = c.cout / c.groups, oh = c.oh(), ow = c.ow();
  std::vector<double> y(static_cast<size_t>(c.n * c.cout * oh * ow));
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t i = 0; i < oh * ow; ++i)
        y[static_cast<size_t>((n * c.cout + co) * oh * ow + i)] = b[co];
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t ci = 0; ci < c.cin; ++ci)
      for (int64_t iy = 0; iy < c.h; ++iy)
        for (int64_t ix = 0; ix < c.w; ++ix)
          for (int64_t co = 0; co < opg; ++co)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                int64_t oy = iy * c.sh - c.ph + ky * c.dh, ox = ix * c.sw - c.pw + kx * c.dw;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                int64_t channel = ci / cpg * opg + co;
                y[static_cast<size_t>(((n * c.cout + channel) * oh + oy) * ow + ox)] +=
                    x[static_cast<size_t>(((n * c.cin + ci) * c.h + iy) * c.w + ix)] *
                    w[static_cast<size_t>(((ci * opg + co) * c.kh + ky) * c.kw + kx)];
              }
  return y;
}

// conv_transpose2d against the scatter loops, forward in both dtypes and
// numerics, and its gradients against central differences (it is linear).
TEST(ConvTranspose, MatchesScatterLoopsWithTheirGradients) {
  const std::vector<TransposeCase> all = {
      {2, 4, 3, 1, 5, 6, 3, 3, 2, 2, 1, 1},              // the usual upsampling layer
      {1, 4, 4, 2, 4, 5, 3, 4, 2, 3, 0, 2, 1, 2, 1, 2},  // groups, output_padding, dilation
      {1, 3, 2, 1, 3, 7, 1, 5, 1, 3, 0, 4},              // padding beyond the kernel crops
      {1, 1, 3, 1, 5, 6, 3, 3},                          // stride 1: a conv with the kernel flipped
      {2, 2, 2, 2, 1, 3, 2, 2, 3, 1, 0, 0, 2, 0, 1, 1},  // one row, output_padding 2
      // Large enough to be a GEMM (M and N of 8 or more), split by phase:
      {1, 8, 8, 1, 4, 5, 4, 4, 2, 2, 1, 1},         // the 4x4 stride-2 upsampling layer
      {2, 8, 12, 2, 3, 4, 5, 2, 3, 2, 4, 0, 2, 1},  // K not a multiple of s, padding past J
      {1, 9, 8, 1, 3, 3, 1, 3, 3, 1, 0, 0, 2, 0},   // a kernel shorter than its stride
      {1, 8, 8, 1, 5, 2, 3, 3, 1, 3, 2, 1, 0, 2}};  // stride 1 beside stride 3
  for (const TransposeCase &c : all) {
    SCOPED_TRACE("cin " + std::to_string(c.cin) + " cout " + std::to_string(c.cout) + " g " +
                 std::to_string(c.groups) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) +
                 " k" + std::to_string(c.kh) + "x" + std::to_string(c.kw) + " s" +
                 std::to_string(c.sh) + "," + std::to_string(c.sw));
    const Shape xs = {c.n, c.cin, c.h, c.w}, ws = {c.cin, c.cout / c.groups, c.kh, c.kw};
    std::vector<double> x = random_values(static_cast<size_t>(c.n * c.cin * c.h * c.w), 21);
    std::vector<double> w =
        random_values(static_cast<size_t>(c.cin * (c.cout / c.groups) * c.kh * c.kw), 22);
    std::vector<double> b = random_values(static_cast<size_t>(c.cout), 23);
    auto call = [&](const Tensor &tx, const Tensor &tw, const Tensor &tb) {
      return conv_transpose2d(tx, tw, tb, {c.sh, c.sw}, {c.ph, c.pw}, {c.oph, c.opw}, c.groups,
                              {c.dh, c.dw});
    };
    std::vector<double> want = direct_transpose(c, x, w, b);
    for (Numerics m : {Numerics::Fast, Numerics::Strict}) {
      Options options = default_options();
      options.numerics = m;
      Tensor y =
          call(tensor_of<float>(x, xs), tensor_of<float>(w, ws), tensor_of<float>(b, {c.cout}));
      ASSERT_EQ(y.sizes(), (Shape{c.n, c.cout, c.oh(), c.ow()}));
      expect_near_all(y.realize(options).to_vector<float>(), want, 1e-5, "f32 forward");
      Tensor y64 =
          call(tensor_of<double>(x, xs), tensor_of<double>(w, ws), tensor_of<double>(b, {c.cout}));
      expect_near_all(y64.realize(options).to_vector<double>(), want, 1e-12, "f64 forward");
    }
    std::vector<double> seed = random_values(want.size(), 24);
    Tensor tx = tensor_of<double>(x, xs).requires_grad_();
    Tensor tw = tensor_of<double>(w, ws).requires_grad_();
    Tensor tb = tensor_of<double>(b, {c.cout});
    (call(tx, tw, tb) * tensor_of<double>(seed, {c.n, c.cout, c.oh(), c.ow()})).sum().backward();
    auto central = [&](std::vector<double> &v) {
      std::vector<double> d(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        const double keep = v[i];
        v[i] = keep + 0.5;
        double up = dot(direct_transpose(c, x, w, b), seed);
        v[i] = keep - 0.5;
        double down = dot(direct_transpose(c, x, w, b), seed);
        v[i] = keep;
        d[i] = up - down;
      }
      return d;
    };
    expect_near_all(tx.grad().to_vector<double>(), central(x), 1e-10, "d/dx");
    expect_near_all(tw.grad().to_vector<double>(), central(w), 1e-10, "d/dw");
  }
}

// padding="same" against the direct loops on an input padded here: a total
// of dilation * (K - 1), the odd element after.
TEST(Conv, SamePaddingKeepsTheSize) {
  for (auto [kh, kw, dh, dw] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{3, 3, 1, 1},
                                {4, 3, 1, 2},
                                {2, 5, 3, 1},
                                {1, 1, 1, 1}}) {
    SCOPED_TRACE("k" + std::to_string(kh) + "x" + std::to_string(kw) + " d" + std::to_string(dh) +
                 "," + std::to_string(dw));
    const int64_t n = 2, cin = 3, cout = 4, h = 6, w = 7;
    const int64_t th = dh * (kh - 1), tw = dw * (kw - 1);
    Case c{n, cin, cout, 1, h + th, w + tw, kh, kw};
    c.dh = dh, c.dw = dw;
    std::vector<double> x = random_values(static_cast<size_t>(n * cin * h * w), 31);
    std::vector<double> padded(static_cast<size_t>(n * cin * c.h * c.w), 0.0);
    for (int64_t i = 0; i < n * cin; ++i)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t z = 0; z < w; ++z)
          padded[static_cast<size_t>((i * c.h + y + th / 2) * c.w + z + tw / 2)] =
              x[static_cast<size_t>((i * h + y) * w + z)];
    std::vector<double> wt = random_values(static_cast<size_t>(cout * cin * kh * kw), 32);
    std::vector<double> b = random_values(static_cast<size_t>(cout), 33);
    Tensor y =
        conv2d(tensor_of<double>(x, {n, cin, h, w}), tensor_of<double>(wt, {cout, cin, kh, kw}),
               tensor_of<double>(b, {cout}), {1}, kSame, {dh, dw});
    ASSERT_EQ(y.sizes(), (Shape{n, cout, h, w}));
    expect_near_all(y.to_vector<double>(), direct_conv(c, padded, wt, b), 1e-12, "forward");
  }
  Tensor x = Tensor::rand({1, 2, 5, 5});
  EXPECT_EQ(conv2d(x, Tensor::rand({3, 2, 3, 3}), {}, {1}, kValid).sizes(), (Shape{1, 3, 3, 3}));
}

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const ShapeError &e) {
    return e.what();
  }
  return "(no ShapeError)";
}

TEST(Conv, BadShapesAreShapeErrorsNamingTheValues) {
  Tensor x = Tensor::zeros({2, 4, 8, 8});
  auto has = [](const std::string &message, const std::string &part) {
    return message.find(part) != std::string::npos;
  };
  std::string m = error_of([&] { conv2d(x, Tensor::zeros({3, 3, 3, 3})); });
  EXPECT_TRUE(has(m, "has 3 input channels per group") && has(m, "f32[2, 4, 8, 8]") &&
              has(m, "needs 4"))
      << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({3, 2, 3, 3}), {}, {1}, {0}, {1}, 2); });
  EXPECT_TRUE(has(m, "groups 2 must divide") && has(m, "output channels 3")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 9, 3})); });
  EXPECT_TRUE(has(m, "the kernel spans 9 elements of spatial dim 0") && has(m, "has 8 there")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 3, 3}), Tensor::zeros({3})); });
  EXPECT_TRUE(has(m, "the bias f32[3] must be [2]")) << m;
  m = error_of([&] { conv2d(Tensor::zeros({4, 8, 8}), Tensor::zeros({2, 4, 3, 3})); });
  EXPECT_TRUE(has(m, "conv2d: the input must have 4 dims") && has(m, "f32[4, 8, 8]")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 3, 3}), {}, {0}); });
  EXPECT_TRUE(has(m, "stride must be >= 1, got 0")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 3, 3}), {}, {1, 1, 1}); });
  EXPECT_TRUE(has(m, "stride has 3 values for 2 spatial dims")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 3, 3}, DType::F64)); });
  EXPECT_TRUE(has(m, "dtypes differ")) << m;
  m = error_of([&] { max_pool2d(x, {2, 2}, {2, 2}, {2, 0}); });
  EXPECT_TRUE(has(m, "padding 2 is more than half the kernel size 2")) << m;
  m = error_of([&] { conv2d(x, Tensor::zeros({2, 4, 3, 3}), {}, {2}, kSame); });
  EXPECT_TRUE(has(m, "padding=\"same\" needs stride 1") && has(m, "got stride 2")) << m;
  m = error_of([&] { conv_transpose2d(x, Tensor::zeros({3, 2, 3, 3})); });
  EXPECT_TRUE(has(m,
                  "conv_transpose2d: the weight f32[3, 2, 3, 3] must have the input's 4 "
                  "channels first"))
      << m;
  m = error_of([&] { conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), {}, {2}, {0}, {2}); });
  EXPECT_TRUE(has(m, "output_padding 2 must be smaller than the stride or the dilation (2, 1)"))
      << m;
  m = error_of([&] { conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), {}, {1}, {6}); });
  EXPECT_TRUE(has(m, "spatial dim 0 of the output would be -2 long")) << m;
  m = error_of([&] { conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor::zeros({4})); });
  EXPECT_TRUE(has(m, "the bias f32[4] must be [2]")) << m;
  m = error_of([&] { avg_pool2d(Tensor::zeros({8, 8}), {2, 2}); });
  EXPECT_TRUE(has(m, "[N, C, H, W] or [C, H, W], got f32[8, 8]")) << m;
}

// The .fj spelling builds the nodes ir/conv.h builds, keyword by keyword;
// an integer keyword means every spatial dim.
TEST(Conv, FjSpellingBuildsTheOps) {
  Program p = parse_program(
      "x = input f32[2, 4, 9, 9]\n"
      "w = input f32[6, 2, 3, 3]\n"
      "b = input f32[6]\n"
      "v = input f32[2, 4, 11]\n"
      "k = input f32[5, 4, 3]\n"
      "c = conv2d(x, w, b, stride=[2, 1], padding=1, dilation=[1, 2], groups=2)\n"
      "d = conv1d(v, k, padding=2)\n"
      "m = max_pool2d(x, [3, 2], stride=2, padding=[1, 0])\n"
      "a = avg_pool2d(x, [2, 2])\n"
      "out c, d, m, a\n",
      "conv.fj");
  const NodeRef &x = p.inputs[0], &w = p.inputs[1], &b = p.inputs[2], &v = p.inputs[3],
                &k = p.inputs[4];
  ir::ConvParams cp;
  cp.stride = {2, 1};
  cp.padding = {1};
  cp.dilation = {1, 2};
  cp.groups = 2;
  ir::ConvParams c1;
  c1.padding = {2};
  ir::PoolParams mp;
  mp.kernel = {3, 2};
  mp.stride = {2};
  mp.padding = {1, 0};
  ir::PoolParams ap;
  ap.kernel = {2, 2};
  std::vector<NodeRef> want{ir::conv(x, w, b, cp), ir::conv(v, k, nullptr, c1), ir::max_pool(x, mp),
                            ir::avg_pool(x, ap)};
  ASSERT_EQ(p.outputs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(p.outputs[i].second, want[i]) << p.outputs[i].first;
}

}  // namespace
}  // namespace fusejit
