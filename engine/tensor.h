// The public tensor type: a handle to a lazy graph node. Building a tensor
// computes nothing; reading one (to_vector, item) realizes it once and keeps
// the result on its node.
//
// Gradients (PyTorch's model, on the lazy graph): a Tensor is a cheap handle
// to shared state (TensorImpl: its node, a requires-grad flag, its grad, and
// the requires-grad leaves it was computed from). Copies share that state, as
// torch tensors do. An op on tensors produces a result whose leaf set is the
// union of its operands'; backward() builds the gradient nodes of the result
// with respect to those leaves (engine/autodiff.h), realizes the forward and
// every gradient in one realize() call, and adds each into its leaf's grad.
//   - leaf: a tensor with no tracked history (factories, detach(), and any
//     tensor not computed from a requires-grad tensor); is_leaf() is true.
//   - requires_grad() flags a leaf in place and returns it (PyTorch's
//     requires_grad_()); on a non-leaf it is a ValueError. Gradients are
//     found by node identity, so flagging moves the leaf to a fresh input
//     node holding the same value: tensors built from it before the flag
//     keep no history, and a hash-consed constant (ones({3}) is one node
//     however often it is built) is not shared. A constant or computed
//     value is realized for this.
//   - needs_grad() is PyTorch's `requires_grad` attribute: a flagged leaf, or
//     a result computed from one. (`requires_grad()` itself is the setter.)
//   - detach() realizes the value and returns it on a new input node with
//     no history: sharing the node would let gradients flow through it.
//   - Tensor(NodeRef) wraps a node as an untracked leaf; do not use it to
//     alias a tensor that requires grad (gradients would flow through both).
//
// Threads (PyTorch's contract): tensors may be built, realized, read and
// differentiated from several threads at once. backward() calls into a
// shared leaf each add their whole gradient -- the read-add-write of a
// leaf's grad is atomic, under a lock per leaf -- in an unspecified order;
// grad() and zero_grad() see a whole gradient. Not safe: requires_grad() on
// a tensor while another thread builds from it or runs backward() through
// it (it replaces the leaf's node); flag leaves before sharing them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/error.h"
#include "ir/node.h"
#include "ir/shape.h"

namespace fusejit {

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined; any use but defined() is a ValueError
  explicit Tensor(NodeRef node);

  // ---- factories (leaves) ----
  template <typename T>
  static Tensor from_vector(const std::vector<T> &values, Shape shape);
  template <typename T>
  static Tensor from_vector(const std::vector<T> &values) {
    return from_vector(values, {static_cast<int64_t>(values.size())});
  }
  static Tensor scalar(double value, DType dtype = DType::F32);
  static Tensor zeros(Shape shape, DType dtype = DType::F32);
  static Tensor ones(Shape shape, DType dtype = DType::F32);
  static Tensor full(Shape shape, double value, DType dtype = DType::F32);
  // Uniform in [0, 1) and standard normal. Without a seed they draw from the
  // process-wide generator (see manual_seed), so runs are reproducible.
  static Tensor rand(Shape shape, DType dtype = DType::F32,
                     std::optional<uint64_t> seed = std::nullopt);
  static Tensor randn(Shape shape, DType dtype = DType::F32,
                      std::optional<uint64_t> seed = std::nullopt);

  // ---- what it is ----
  bool defined() const;
  const Shape &shape() const;
  DType dtype() const;
  size_t dim() const { return shape().size(); }
  int64_t numel() const;
  const NodeRef &node() const;

  // ---- elementwise ----
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor inv() const;
  Tensor maximum(const Tensor &other) const;
  Tensor minimum(const Tensor &other) const;
  Tensor pow(const Tensor &exponent) const;
  Tensor pow(double exponent) const;

  // ---- reductions: empty dims reduce everything ----
  Tensor sum(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor max(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor mean(std::vector<int64_t> dims = {}, bool keepdim = false) const;

  // ---- views (never copy) ----
  Tensor reshape(Shape shape) const;
  Tensor permute(std::vector<int64_t> perm) const;
  Tensor transpose() const;  // swaps the last two dims
  Tensor expand(Shape shape) const;

  Tensor matmul(const Tensor &other) const;

  // ---- gradients (see the top of this file) ----
  // Flags this leaf (in place, shared by its copies) and returns it; a
  // ValueError on a non-leaf.
  Tensor requires_grad(bool on = true) const;
  bool needs_grad() const;  // flagged, or computed from a flagged leaf
  bool is_leaf() const;     // no tracked history
  // The accumulated gradient of a leaf; undefined until a backward() reached
  // it, after zero_grad(), and on non-leaves.
  Tensor grad() const;
  // Drops the accumulated gradient (PyTorch's set_to_none): grad() is
  // undefined until the next backward().
  void zero_grad() const;
  // The same value (realized now) on a new leaf with no history.
  Tensor detach() const;
  // Adds d sum(*this) / d leaf -- or d sum(*this * seed) / d leaf when a seed
  // of this tensor's dtype and shape is given -- into the grad of every
  // requires-grad leaf this tensor depends on. Forward and gradients are
  // realized in one call. A ValueError if no such leaf exists; a ShapeError
  // if the seed does not match.
  void backward(const Tensor &seed = {}) const;

  // ---- reading: realizes the tensor (once) ----
  // T must be the tensor's element type (float for f32, double for f64).
  template <typename T>
  std::vector<T> to_vector() const;
  template <typename T>
  T item() const;
  // Computes the value now, if it is not known yet; returns *this.
  const Tensor &realize() const;

 private:
  std::vector<double> values_as_double() const;
  void check_read(DType want, const char *what) const;

  friend struct TensorOps;
  std::shared_ptr<TensorImpl> impl_;
};

// Arithmetic and comparisons broadcast like numpy. A double operand takes
// the tensor's dtype. Comparisons give 1/0 in the operands' dtype.
Tensor operator-(const Tensor &a);
Tensor operator+(const Tensor &a, const Tensor &b);
Tensor operator-(const Tensor &a, const Tensor &b);
Tensor operator*(const Tensor &a, const Tensor &b);
Tensor operator/(const Tensor &a, const Tensor &b);
Tensor operator<(const Tensor &a, const Tensor &b);
Tensor operator>(const Tensor &a, const Tensor &b);
Tensor operator==(const Tensor &a, const Tensor &b);
#define FUSEJIT_SCALAR_OPERATOR(op)              \
  Tensor operator op(const Tensor &a, double b); \
  Tensor operator op(double a, const Tensor &b);
FUSEJIT_SCALAR_OPERATOR(+)
FUSEJIT_SCALAR_OPERATOR(-)
FUSEJIT_SCALAR_OPERATOR(*)
FUSEJIT_SCALAR_OPERATOR(/)
FUSEJIT_SCALAR_OPERATOR(<)
FUSEJIT_SCALAR_OPERATOR(>)
FUSEJIT_SCALAR_OPERATOR(==)
#undef FUSEJIT_SCALAR_OPERATOR

Tensor matmul(const Tensor &a, const Tensor &b);
Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y);
Tensor where(const Tensor &cond, double x, double y);
Tensor maximum(const Tensor &a, const Tensor &b);
Tensor minimum(const Tensor &a, const Tensor &b);

// Seeds the process-wide generator behind rand/randn without a seed.
void manual_seed(uint64_t seed);

// ---- template definitions ----

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_read(dtype_of<T>(), "to_vector");
  std::vector<double> v = values_as_double();
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
T Tensor::item() const {
  check_read(dtype_of<T>(), "item");
  std::vector<double> v = values_as_double();
  if (v.size() != 1)
    throw ShapeError("item: tensor " + type_str(dtype(), shape()) + " has " +
                     std::to_string(v.size()) + " elements, not 1");
  return static_cast<T>(v[0]);
}

}  // namespace fusejit
