// The C++ API's row ops: the compositions of ir/row_ops.h on tracked tensors.
#include <fusejit/row_ops.h>

#include "engine/tensor.h"
#include "ir/row_ops.h"

namespace fusejit {

namespace {

const NodeRef &checked(const Tensor &t, const char *what, const char *role = "the tensor") {
  FUSEJIT_USER_CHECK(t.defined(), ValueError, what, ": ", role, " is undefined");
  return t.node();
}

// The operands that are given (a weight or bias may be left undefined).
std::vector<const Tensor *> given(std::initializer_list<const Tensor *> ts) {
  std::vector<const Tensor *> out;
  for (const Tensor *t : ts)
    if (t->defined()) out.push_back(t);
  return out;
}

NodeRef optional_node(const Tensor &t) { return t.defined() ? t.node() : nullptr; }

// The trailing dims of x whose extents are normalized_shape; a ShapeError if
// x does not end in that shape.
std::vector<int64_t> trailing_dims(const char *what, const NodeRef &x, const Shape &normalized) {
  bool fits = normalized.size() <= x->rank() && !normalized.empty() &&
              std::equal(normalized.begin(), normalized.end(),
                         x->shape.end() - static_cast<std::ptrdiff_t>(normalized.size()));
  FUSEJIT_USER_CHECK(fits, ShapeError, what, ": normalized_shape ", shape_str(normalized),
                     " is not the trailing shape of ", type_str(x->dtype, x->shape));
  std::vector<int64_t> dims;
  for (size_t i = x->rank() - normalized.size(); i < x->rank(); ++i)
    dims.push_back(static_cast<int64_t>(i));
  return dims;
}

}  // namespace

Tensor softmax(const Tensor &x, int64_t dim) {
  return tracked_result(ir::softmax(checked(x, "softmax"), dim), {&x});
}

Tensor log_softmax(const Tensor &x, int64_t dim) {
  return tracked_result(ir::log_softmax(checked(x, "log_softmax"), dim), {&x});
}

Tensor logsumexp(const Tensor &x, const std::vector<int64_t> &dims, bool keepdim) {
  return tracked_result(ir::logsumexp(checked(x, "logsumexp"), dims, keepdim), {&x});
}

Tensor var(const Tensor &x, const std::vector<int64_t> &dims, double correction, bool keepdim) {
  return tracked_result(ir::var(checked(x, "var"), dims, correction, keepdim), {&x});
}

Tensor std(const Tensor &x, const std::vector<int64_t> &dims, double correction, bool keepdim) {
  return tracked_result(ir::std_dev(checked(x, "std"), dims, correction, keepdim), {&x});
}

Tensor layer_norm(const Tensor &x, const Shape &normalized_shape, const Tensor &weight,
                  const Tensor &bias, double eps) {
  const NodeRef &n = checked(x, "layer_norm");
  std::vector<int64_t> dims = trailing_dims("layer_norm", n, normalized_shape);
  return tracked_result(ir::layer_norm(n, dims, optional_node(weight), optional_node(bias), eps),
                        given({&x, &weight, &bias}));
}

Tensor rms_norm(const Tensor &x, const Shape &normalized_shape, const Tensor &weight,
                std::optional<double> eps) {
  const NodeRef &n = checked(x, "rms_norm");
  std::vector<int64_t> dims = trailing_dims("rms_norm", n, normalized_shape);
  return tracked_result(ir::rms_norm(n, dims, optional_node(weight), eps), given({&x, &weight}));
}

Tensor cross_entropy(const Tensor &logits, const Tensor &labels, int64_t ignore_index) {
  return tracked_result(ir::cross_entropy(checked(logits, "cross_entropy"),
                                          checked(labels, "cross_entropy"), ignore_index),
                        given({&logits, &labels}));
}

}  // namespace fusejit
