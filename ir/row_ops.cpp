#include "ir/row_ops.h"

#include <algorithm>
#include <limits>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/shape.h"

namespace fusejit::ir {

namespace {

NodeRef c(double v, const NodeRef &like) { return constant(v, like->dtype); }
NodeRef sub(const NodeRef &a, const NodeRef &b) { return binary(Op::Sub, a, b); }
NodeRef mul(const NodeRef &a, const NodeRef &b) { return binary(Op::Mul, a, b); }
NodeRef add(const NodeRef &a, const NodeRef &b) { return binary(Op::Add, a, b); }

std::string describe(const NodeRef &x) { return type_str(x->dtype, x->shape); }

void check_float(const char *what, const NodeRef &x) {
  FUSEJIT_USER_CHECK(x->dtype == DType::F32 || x->dtype == DType::F64, ValueError, what, " of ",
                     describe(x), ": needs a floating-point tensor");
}

// The dims, normalized; every dim when none are given.
std::vector<int64_t> row_dims(const char *what, const NodeRef &x, std::vector<int64_t> dims) {
  if (dims.empty())
    for (size_t i = 0; i < x->rank(); ++i) dims.push_back(static_cast<int64_t>(i));
  return normalize_dims(dims, x->rank(), std::string(what) + " of " + describe(x));
}

int64_t count(const NodeRef &x, const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= x->shape[d];
  return n;
}

// The reduced value of keepdim form, reshaped to drop the dims unless kept.
NodeRef squeeze_unless(const NodeRef &kept, const NodeRef &x, const std::vector<int64_t> &dims,
                       bool keepdim) {
  if (keepdim) return kept;
  Shape s;
  for (size_t i = 0; i < x->rank(); ++i)
    if (std::find(dims.begin(), dims.end(), static_cast<int64_t>(i)) == dims.end())
      s.push_back(x->shape[i]);
  return reshape(kept, s);
}

// The dims of a norm: the last dims of x, and the shape a weight must have.
Shape norm_shape(const char *what, const NodeRef &x, const std::vector<int64_t> &dims) {
  std::vector<int64_t> d = row_dims(what, x, dims);
  std::sort(d.begin(), d.end());
  for (size_t i = 0; i < d.size(); ++i)
    FUSEJIT_USER_CHECK(d[i] == static_cast<int64_t>(x->rank() - d.size() + i), ShapeError, what,
                       " of ", describe(x), ": dims ", shape_str(dims),
                       " are not its last dims (a norm is over trailing dims)");
  return Shape(x->shape.end() - static_cast<std::ptrdiff_t>(d.size()), x->shape.end());
}

void check_param(const char *what, const char *role, const NodeRef &p, const NodeRef &x,
                 const Shape &want) {
  if (!p) return;
  FUSEJIT_USER_CHECK(p->dtype == x->dtype && p->shape == want, ShapeError, what, " of ",
                     describe(x), ": the ", role, " is ", describe(p), ", expected ",
                     type_str(x->dtype, want));
}

// The row's max, as the shift that keeps exp from overflowing. These ops
// are unchanged by any shift, so its gradient is zero and is not taken (as
// JAX's softmax stops it): the backward needs no x == max mask.
NodeRef shift(const NodeRef &x, const std::vector<int64_t> &dims) {
  return unary(Op::StopGradient, reduce(Op::Max, x, dims, true));
}

}  // namespace

NodeRef softmax(const NodeRef &x, int64_t dim) {
  check_float("softmax", x);
  dim = row_dims("softmax", x, {dim})[0];
  NodeRef e = unary(Op::Exp, sub(x, shift(x, {dim})));
  return binary(Op::Div, e, reduce(Op::Sum, e, {dim}, true));
}

NodeRef log_softmax(const NodeRef &x, int64_t dim) {
  check_float("log_softmax", x);
  dim = row_dims("log_softmax", x, {dim})[0];
  NodeRef shifted = sub(x, shift(x, {dim}));
  NodeRef lse = unary(Op::Log, reduce(Op::Sum, unary(Op::Exp, shifted), {dim}, true));
  return sub(shifted, lse);
}

NodeRef logsumexp(const NodeRef &x, const std::vector<int64_t> &dims, bool keepdim) {
  check_float("logsumexp", x);
  std::vector<int64_t> d = row_dims("logsumexp", x, dims);
  NodeRef m = shift(x, d);
  NodeRef s = reduce(Op::Sum, unary(Op::Exp, sub(x, m)), d, true);
  return squeeze_unless(add(unary(Op::Log, s), m), x, d, keepdim);
}

NodeRef var(const NodeRef &x, const std::vector<int64_t> &dims, double correction, bool keepdim) {
  check_float("var", x);
  std::vector<int64_t> d = row_dims("var", x, dims);
  NodeRef centered = sub(x, reduce(Op::Mean, x, d, true));
  NodeRef ss = reduce(Op::Sum, mul(centered, centered), d, true);
  // n - correction <= 0 divides by zero or less, as torch: inf or nan.
  NodeRef v =
      binary(Op::Div, ss, c(std::max(0.0, static_cast<double>(count(x, d)) - correction), x));
  return squeeze_unless(v, x, d, keepdim);
}

NodeRef std_dev(const NodeRef &x, const std::vector<int64_t> &dims, double correction,
                bool keepdim) {
  check_float("std", x);
  return unary(Op::Sqrt, var(x, dims, correction, keepdim));
}

NodeRef layer_norm(const NodeRef &x, const std::vector<int64_t> &dims, const NodeRef &weight,
                   const NodeRef &bias, double eps) {
  check_float("layer_norm", x);
  Shape want = norm_shape("layer_norm", x, dims);
  check_param("layer_norm", "weight", weight, x, want);
  check_param("layer_norm", "bias", bias, x, want);
  std::vector<int64_t> d = row_dims("layer_norm", x, dims);
  NodeRef centered = sub(x, reduce(Op::Mean, x, d, true));
  NodeRef v = reduce(Op::Mean, mul(centered, centered), d, true);
  NodeRef y = mul(centered, unary(Op::Inv, unary(Op::Sqrt, add(v, c(eps, x)))));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

NodeRef rms_norm(const NodeRef &x, const std::vector<int64_t> &dims, const NodeRef &weight,
                 std::optional<double> eps) {
  check_float("rms_norm", x);
  Shape want = norm_shape("rms_norm", x, dims);
  check_param("rms_norm", "weight", weight, x, want);
  std::vector<int64_t> d = row_dims("rms_norm", x, dims);
  double e = eps.value_or(x->dtype == DType::F32 ? std::numeric_limits<float>::epsilon()
                                                 : std::numeric_limits<double>::epsilon());
  NodeRef ms = reduce(Op::Mean, mul(x, x), d, true);
  NodeRef y = mul(x, unary(Op::Inv, unary(Op::Sqrt, add(ms, c(e, x)))));
  if (weight) y = mul(y, weight);
  return y;
}

NodeRef cross_entropy(const NodeRef &logits, const NodeRef &labels, int64_t ignore_index) {
  check_float("cross_entropy", logits);
  FUSEJIT_USER_CHECK(logits->rank() >= 2, ShapeError, "cross_entropy of ", describe(logits),
                     ": the logits need a batch dim and a class dim (dim 1)");
  FUSEJIT_USER_CHECK(!is_floating(labels->dtype) && labels->dtype != DType::Bool, ValueError,
                     "cross_entropy: the labels are ", describe(labels),
                     "; class indices are integers (i64, as torch)");
  Shape want = logits->shape;
  want.erase(want.begin() + 1);
  FUSEJIT_USER_CHECK(labels->shape == want, ShapeError, "cross_entropy of ", describe(logits),
                     ": the labels are ", describe(labels), ", expected ",
                     type_str(labels->dtype, want), " (the logits' shape without dim 1)");
  const int64_t classes = logits->shape[1];
  NodeRef kept = binary(Op::Ne, labels, constant(static_cast<double>(ignore_index), labels->dtype));
  // An ignored label reads class 0, which the mask then drops.
  NodeRef index = where(kept, labels, constant(0, labels->dtype));
  NodeRef hot = one_hot(index, classes, logits->dtype);  // [N, d..., C]
  if (logits->rank() > 2) {
    std::vector<int64_t> perm{0, static_cast<int64_t>(logits->rank()) - 1};
    for (int64_t d = 1; d + 1 < static_cast<int64_t>(logits->rank()); ++d) perm.push_back(d);
    hot = permute(hot, perm);  // [N, C, d...]
  }
  NodeRef picked = reduce(Op::Sum, mul(log_softmax(logits, 1), hot), {1});
  NodeRef weight = cast(kept, logits->dtype);
  return binary(Op::Div, unary(Op::Neg, reduce(Op::Sum, mul(picked, weight), {})),
                reduce(Op::Sum, weight, {}));
}

}  // namespace fusejit::ir
