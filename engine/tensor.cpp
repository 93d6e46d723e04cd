#include "engine/tensor.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "engine/autodiff.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/random.h"

namespace fusejit {

// The flagged leaves a result was computed from, each once, in the order
// first met (so the same program gives the same order, and the same graph).
using LeafList = std::vector<std::shared_ptr<TensorImpl>>;

struct TensorImpl {
  NodeRef node;
  bool requires_grad = false;  // a flagged leaf
  // A leaf's accumulated gradient: an input node holding its value. Several
  // threads may run backward() into one leaf at once; grad_mu guards grad.
  std::mutex grad_mu;
  NodeRef grad;
  // A result's flagged leaves; null for leaves. A flagged leaf is not in its
  // own list (that would be a reference cycle): see TensorOps::leaves.
  std::shared_ptr<const LeafList> history;
};

// Tensor's internals for the functions of this file.
struct TensorOps {
  static TensorImpl &impl(const Tensor &t) {
    t.node();  // a ValueError if undefined
    return *t.impl_;
  }

  static std::shared_ptr<const LeafList> leaves(const Tensor &t) {
    TensorImpl &i = impl(t);
    if (i.requires_grad) return std::make_shared<const LeafList>(LeafList{t.impl_});
    return i.history;
  }

  // Union of two leaf lists; shares a list when the other adds nothing.
  static std::shared_ptr<const LeafList> merge(std::shared_ptr<const LeafList> a,
                                               std::shared_ptr<const LeafList> b) {
    if (!a || a == b) return b;
    if (!b) return a;
    LeafList out = *a;
    for (const auto &leaf : *b)
      if (std::find(out.begin(), out.end(), leaf) == out.end()) out.push_back(leaf);
    if (out.size() == a->size()) return a;
    return std::make_shared<const LeafList>(std::move(out));
  }

  // The tensor for `node`, computed from `operands`: tracked if any is.
  static Tensor result(NodeRef node, std::initializer_list<const Tensor *> operands) {
    Tensor t(std::move(node));
    std::shared_ptr<const LeafList> history;
    for (const Tensor *o : operands) history = merge(history, leaves(*o));
    t.impl_->history = std::move(history);
    return t;
  }
};

namespace {

// A leaf holding `data`: an input node with the buffer attached.
NodeRef value_node(const Buffer &data) {
  NodeRef n = ir::input(data.dtype(), data.shape());
  attach_buffer(*n, data);
  return n;
}

Tensor leaf(const Buffer &data) { return Tensor(value_node(data)); }

std::mutex global_generator_mu;
Generator global_generator(0);

// Draws from a fresh generator for `seed`, else from the process-wide one.
template <typename Fill>
Tensor random_tensor(std::optional<uint64_t> seed, Fill fill) {
  if (seed) {
    Generator g(*seed);
    return leaf(fill(g));
  }
  std::lock_guard<std::mutex> lock(global_generator_mu);
  return leaf(fill(global_generator));
}

const NodeRef &checked(const Tensor &t, const char *what) {
  FUSEJIT_USER_CHECK(t.defined(), ValueError, what, ": the tensor is undefined");
  return t.node();
}

Tensor unary(Op op, const Tensor &t) {
  return TensorOps::result(ir::unary(op, checked(t, op_name(op))), {&t});
}

Tensor binary(Op op, const Tensor &a, const Tensor &b) {
  return TensorOps::result(ir::binary(op, checked(a, op_name(op)), checked(b, op_name(op))),
                           {&a, &b});
}

Tensor binary(Op op, const Tensor &a, double b) {
  const NodeRef &n = checked(a, op_name(op));
  return TensorOps::result(ir::binary(op, n, ir::constant(b, n->dtype)), {&a});
}

Tensor binary(Op op, double a, const Tensor &b) {
  const NodeRef &n = checked(b, op_name(op));
  return TensorOps::result(ir::binary(op, ir::constant(a, n->dtype), n), {&b});
}

// Comparisons have zero gradient everywhere, so (as in PyTorch) their
// results carry no history: a loss built only from them has nothing to
// differentiate.
Tensor untracked(const Tensor &t) { return Tensor(t.node()); }

}  // namespace

template <typename T>
Tensor Tensor::from_vector(const std::vector<T> &values, Shape shape) {
  return leaf(Buffer::from_vector(values, std::move(shape)));
}
template Tensor Tensor::from_vector<float>(const std::vector<float> &, Shape);
template Tensor Tensor::from_vector<double>(const std::vector<double> &, Shape);

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }
Tensor Tensor::zeros(Shape shape, DType dtype) { return full(std::move(shape), 0.0, dtype); }
Tensor Tensor::ones(Shape shape, DType dtype) { return full(std::move(shape), 1.0, dtype); }

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  // A constant stays in the graph (an expand of a scalar), so passes can fold it.
  return Tensor(ir::full(value, dtype, shape));
}

Tensor Tensor::rand(Shape shape, DType dtype, std::optional<uint64_t> seed) {
  return random_tensor(seed, [&](Generator &g) { return random_uniform(dtype, shape, g); });
}

Tensor Tensor::randn(Shape shape, DType dtype, std::optional<uint64_t> seed) {
  return random_tensor(seed, [&](Generator &g) { return random_normal(dtype, shape, g); });
}

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(global_generator_mu);
  global_generator.seed(seed);
}

Tensor::Tensor(NodeRef node) : impl_(std::make_shared<TensorImpl>()) {
  impl_->node = std::move(node);
}

bool Tensor::defined() const { return impl_ && impl_->node; }

const NodeRef &Tensor::node() const {
  FUSEJIT_USER_CHECK(defined(), ValueError, "use of an undefined tensor");
  return impl_->node;
}
const Shape &Tensor::shape() const { return node()->shape; }
DType Tensor::dtype() const { return node()->dtype; }
int64_t Tensor::numel() const { return node()->numel(); }

Tensor Tensor::neg() const { return unary(Op::Neg, *this); }
Tensor Tensor::exp() const { return unary(Op::Exp, *this); }
Tensor Tensor::log() const { return unary(Op::Log, *this); }
Tensor Tensor::relu() const { return unary(Op::Relu, *this); }
Tensor Tensor::sigmoid() const { return unary(Op::Sigmoid, *this); }
Tensor Tensor::tanh() const { return unary(Op::Tanh, *this); }
Tensor Tensor::sqrt() const { return unary(Op::Sqrt, *this); }
Tensor Tensor::abs() const { return unary(Op::Abs, *this); }
Tensor Tensor::inv() const { return unary(Op::Inv, *this); }
Tensor Tensor::maximum(const Tensor &o) const { return binary(Op::Maximum, *this, o); }
Tensor Tensor::minimum(const Tensor &o) const { return binary(Op::Minimum, *this, o); }
Tensor Tensor::pow(const Tensor &e) const { return binary(Op::Pow, *this, e); }
Tensor Tensor::pow(double e) const { return binary(Op::Pow, *this, e); }

Tensor Tensor::sum(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Sum, node(), std::move(dims), keepdim), {this});
}
Tensor Tensor::max(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Max, node(), std::move(dims), keepdim), {this});
}
Tensor Tensor::mean(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Mean, node(), std::move(dims), keepdim), {this});
}

Tensor Tensor::reshape(Shape s) const {
  return TensorOps::result(ir::reshape(node(), std::move(s)), {this});
}
Tensor Tensor::permute(std::vector<int64_t> p) const {
  return TensorOps::result(ir::permute(node(), std::move(p)), {this});
}
Tensor Tensor::transpose() const { return TensorOps::result(ir::transpose(node()), {this}); }
Tensor Tensor::expand(Shape s) const {
  return TensorOps::result(ir::expand(node(), std::move(s)), {this});
}
Tensor Tensor::matmul(const Tensor &o) const {
  return TensorOps::result(ir::matmul(node(), checked(o, "matmul")), {this, &o});
}

const Tensor &Tensor::realize() const {
  fusejit::realize({node()});
  return *this;
}

void Tensor::check_read(DType want, const char *what) const {
  FUSEJIT_USER_CHECK(dtype() == want, ValueError, what, "<",
                     want == DType::F32 ? "float" : "double", ">: tensor is ",
                     type_str(dtype(), shape()));
}

std::vector<double> Tensor::values_as_double() const {
  return fusejit::realize({node()})[0].to_vector<double>();
}

// ---- gradients ----

Tensor Tensor::requires_grad(bool on) const {
  TensorImpl &t = TensorOps::impl(*this);
  FUSEJIT_USER_CHECK(is_leaf(), ValueError, "requires_grad: ", type_str(dtype(), shape()),
                     " is not a leaf (it was computed from tensors that require grad); only "
                     "leaves can change requires_grad, use detach() for a leaf with its value");
  if (on && !t.requires_grad) {
    // A fresh input node holding the same value: tensors built from this one
    // before now must not lead gradients to it, and its node must be its own
    // (constants are hash-consed and may be shared).
    t.node = value_node(fusejit::realize({t.node})[0]);
  }
  t.requires_grad = on;
  return *this;
}

bool Tensor::needs_grad() const {
  const TensorImpl &t = TensorOps::impl(*this);
  return t.requires_grad || t.history;
}

bool Tensor::is_leaf() const { return !TensorOps::impl(*this).history; }

Tensor Tensor::grad() const {
  TensorImpl &t = TensorOps::impl(*this);
  std::lock_guard<std::mutex> lock(t.grad_mu);
  return t.grad ? Tensor(t.grad) : Tensor();
}

void Tensor::zero_grad() const {
  TensorImpl &t = TensorOps::impl(*this);
  std::lock_guard<std::mutex> lock(t.grad_mu);
  t.grad = nullptr;
}

Tensor Tensor::detach() const { return Tensor(value_node(fusejit::realize({node()})[0])); }

void Tensor::backward(const Tensor &seed) const {
  std::shared_ptr<const LeafList> leaves = TensorOps::leaves(*this);
  FUSEJIT_USER_CHECK(leaves && !leaves->empty(), ValueError,
                     "backward: ", type_str(dtype(), shape()),
                     " has no path to a tensor that requires grad: nothing to differentiate "
                     "(flag a leaf with requires_grad() before computing from it)");
  FUSEJIT_USER_CHECK(!seed.defined() || (seed.dtype() == dtype() && seed.shape() == shape()),
                     ShapeError, "backward: the seed ", type_str(seed.dtype(), seed.shape()),
                     " does not match the tensor ", type_str(dtype(), shape()));
  std::vector<NodeRef> wrt;
  for (const auto &leaf : *leaves) wrt.push_back(leaf->node);
  std::vector<NodeRef> grads = gradients(node(), wrt, seed.defined() ? seed.node() : nullptr);

  // The forward, every new gradient and its sum with the leaf's grad as it
  // was read here, in one realize call, so they are optimized together.
  size_t n = grads.size();
  std::vector<NodeRef> seen(n);
  std::vector<size_t> sum_at(n, 0);  // where old + new is among the roots (0: no old grad)
  std::vector<NodeRef> roots{node()};
  roots.insert(roots.end(), grads.begin(), grads.end());
  for (size_t i = 0; i < n; ++i) {
    TensorImpl &leaf = *(*leaves)[i];
    {
      std::lock_guard<std::mutex> lock(leaf.grad_mu);
      seen[i] = leaf.grad;
    }
    if (!seen[i]) continue;
    sum_at[i] = roots.size();
    roots.push_back(ir::binary(Op::Add, seen[i], grads[i]));
  }
  std::vector<Buffer> values = fusejit::realize(roots);
  // Stored as fresh input nodes: a grad keeps its value, not the graph behind
  // it. Each leaf's read-add-write is atomic: if another backward() changed
  // the grad since it was read, the new gradient is added to what is there now.
  for (size_t i = 0; i < n; ++i) {
    TensorImpl &leaf = *(*leaves)[i];
    std::lock_guard<std::mutex> lock(leaf.grad_mu);
    if (leaf.grad == seen[i])
      leaf.grad = value_node(sum_at[i] ? values[sum_at[i]] : values[1 + i]);
    else if (!leaf.grad)  // zeroed meanwhile: this backward() counts as after it
      leaf.grad = value_node(values[1 + i]);
    else
      leaf.grad = value_node(
          fusejit::realize({ir::binary(Op::Add, leaf.grad, value_node(values[1 + i]))})[0]);
  }
}

// ---- operators ----

Tensor operator-(const Tensor &a) { return a.neg(); }
Tensor operator+(const Tensor &a, const Tensor &b) { return binary(Op::Add, a, b); }
Tensor operator-(const Tensor &a, const Tensor &b) { return binary(Op::Sub, a, b); }
Tensor operator*(const Tensor &a, const Tensor &b) { return binary(Op::Mul, a, b); }
Tensor operator/(const Tensor &a, const Tensor &b) { return binary(Op::Div, a, b); }
Tensor operator<(const Tensor &a, const Tensor &b) { return untracked(binary(Op::Lt, a, b)); }
Tensor operator>(const Tensor &a, const Tensor &b) { return untracked(binary(Op::Gt, a, b)); }
Tensor operator==(const Tensor &a, const Tensor &b) { return untracked(binary(Op::Eq, a, b)); }

#define FUSEJIT_SCALAR_OPERATOR(op, code, wrap)                                          \
  Tensor operator op(const Tensor &a, double b) { return wrap(binary(Op::code, a, b)); } \
  Tensor operator op(double a, const Tensor &b) { return wrap(binary(Op::code, a, b)); }
FUSEJIT_SCALAR_OPERATOR(+, Add, )
FUSEJIT_SCALAR_OPERATOR(-, Sub, )
FUSEJIT_SCALAR_OPERATOR(*, Mul, )
FUSEJIT_SCALAR_OPERATOR(/, Div, )
FUSEJIT_SCALAR_OPERATOR(<, Lt, untracked)
FUSEJIT_SCALAR_OPERATOR(>, Gt, untracked)
FUSEJIT_SCALAR_OPERATOR(==, Eq, untracked)
#undef FUSEJIT_SCALAR_OPERATOR

Tensor matmul(const Tensor &a, const Tensor &b) { return a.matmul(b); }
Tensor maximum(const Tensor &a, const Tensor &b) { return a.maximum(b); }
Tensor minimum(const Tensor &a, const Tensor &b) { return a.minimum(b); }

// Only x and y carry gradients; the condition's history is not followed.
Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y) {
  return TensorOps::result(
      ir::where(checked(cond, "where"), checked(x, "where"), checked(y, "where")), {&x, &y});
}

Tensor where(const Tensor &cond, double x, double y) {
  DType t = checked(cond, "where")->dtype;
  return Tensor(ir::where(cond.node(), ir::constant(x, t), ir::constant(y, t)));
}

}  // namespace fusejit
