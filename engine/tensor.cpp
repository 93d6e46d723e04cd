#include "engine/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "engine/autodiff.h"
#include "engine/realize.h"
#include "ir/conv.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/random.h"

namespace fusejit {

// The flagged leaves a result was computed from, each once, in the order
// first met (so the same program gives the same order, and the same graph).
using LeafList = std::vector<std::shared_ptr<TensorImpl>>;
// Nodes realized in the same plan as a tensor: a lazy gradient's forward
// value and the other gradients of its backward() call.
using NodeList = std::vector<NodeRef>;

struct TensorImpl {
  NodeRef node;  // null: an undefined tensor, and `undefined_because` says why
  std::string undefined_because;
  bool requires_grad = false;  // a flagged leaf
  // A leaf's accumulated gradient: an input node holding its value. Several
  // threads may run backward() into one leaf at once; grad_mu guards grad.
  std::mutex grad_mu;
  NodeRef grad;
  std::shared_ptr<const NodeList> grad_with;  // what grad is realized with
  // A result's flagged leaves; null for leaves. A flagged leaf is not in its
  // own list (that would be a reference cycle): see TensorOps::leaves.
  std::shared_ptr<const LeafList> history;
  // Realized in the same plan as this tensor (carried from its operands).
  std::shared_ptr<const NodeList> realize_with;
  // A leaf given a computed value by copy_: once realized, its node becomes
  // a fresh input node holding the value.
  bool pending_copy = false;
};

// Tensor's internals for the functions of this file.
struct TensorOps {
  // The node of `t`, which `what` (a method or op) uses as `role`; a
  // ValueError saying which tensor is undefined and why.
  static const NodeRef &node(const Tensor &t, const char *what, const char *role = "the tensor") {
    if (!t.defined()) {
      std::string why =
          t.impl_ ? t.impl_->undefined_because : "default-constructed (Tensor() holds no value)";
      throw ValueError(detail::concat(what, ": ", role, " is undefined: ", why));
    }
    return t.impl_->node;
  }

  static TensorImpl &impl(const Tensor &t, const char *what) {
    node(t, what);
    return *t.impl_;
  }

  static Tensor undefined(std::string why) {
    Tensor t;
    t.impl_ = std::make_shared<TensorImpl>();
    t.impl_->undefined_because = std::move(why);
    return t;
  }

  static std::shared_ptr<const LeafList> leaves(const Tensor &t) {
    TensorImpl &i = *t.impl_;
    if (i.requires_grad) return std::make_shared<const LeafList>(LeafList{t.impl_});
    return i.history;
  }

  // Union of two leaf (or node) lists; shares a list when the other adds nothing.
  template <typename List>
  static std::shared_ptr<const List> merge(std::shared_ptr<const List> a,
                                           std::shared_ptr<const List> b) {
    if (!a || a == b) return b;
    if (!b) return a;
    List out = *a;
    for (const auto &item : *b)
      if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    if (out.size() == a->size()) return a;
    return std::make_shared<const List>(std::move(out));
  }

  // The tensor for `node`, computed from `operands` (defined): tracked if
  // any is, unless a NoGradGuard is alive.
  static Tensor result(NodeRef node, std::initializer_list<const Tensor *> operands) {
    return result(std::move(node), std::vector<const Tensor *>(operands));
  }
  static Tensor result(NodeRef node, const std::vector<const Tensor *> &operands) {
    Tensor t(std::move(node));
    std::shared_ptr<const NodeList> with;
    for (const Tensor *o : operands) with = merge(with, o->impl_->realize_with);
    t.impl_->realize_with = std::move(with);
    if (!is_grad_enabled()) return t;
    std::shared_ptr<const LeafList> history;
    for (const Tensor *o : operands) history = merge(history, leaves(*o));
    t.impl_->history = std::move(history);
    return t;
  }

  static Tensor with_effects(const Tensor &value, const std::vector<Tensor> &updates) {
    Tensor t = result(node(value, "with_effects"), {&value});
    NodeList nodes;
    for (const Tensor &u : updates) {
      nodes.push_back(node(u, "with_effects", "an update"));
      if (u.impl_->realize_with)
        nodes.insert(nodes.end(), u.impl_->realize_with->begin(), u.impl_->realize_with->end());
    }
    t.impl_->realize_with =
        merge(t.impl_->realize_with, std::make_shared<const NodeList>(std::move(nodes)));
    return t;
  }

  // The values of `tensors` (defined), computed in one plan with what each
  // is realized with; a pending copy_ is settled on a fresh input node.
  static std::vector<Buffer> realize(const std::vector<const Tensor *> &tensors,
                                     const Options &options);
};

namespace {

// A leaf holding `data`: an input node with the buffer attached.
NodeRef value_node(const Buffer &data) {
  NodeRef n = ir::input(data.dtype(), data.shape());
  attach_buffer(*n, data);
  return n;
}

Tensor leaf(const Buffer &data) { return Tensor(value_node(data)); }

}  // namespace

std::vector<Buffer> TensorOps::realize(const std::vector<const Tensor *> &tensors,
                                       const Options &options) {
  // Each node once (two copies may take one value); then what the tensors
  // are realized with, unless known already.
  std::vector<NodeRef> roots;
  std::vector<size_t> at;
  auto add = [&](const NodeRef &n) {
    auto it = std::find(roots.begin(), roots.end(), n);
    if (it != roots.end()) return static_cast<size_t>(it - roots.begin());
    roots.push_back(n);
    return roots.size() - 1;
  };
  for (const Tensor *t : tensors) at.push_back(add(t->impl_->node));
  for (const Tensor *t : tensors)
    if (const auto &with = t->impl_->realize_with)
      for (const NodeRef &n : *with)
        if (!n->attached()) add(n);
  std::vector<Buffer> all = fusejit::realize(roots, options);
  std::vector<Buffer> values;
  values.reserve(tensors.size());
  for (size_t i : at) values.push_back(all[i]);
  for (size_t i = 0; i < tensors.size(); ++i) {
    TensorImpl &t = *tensors[i]->impl_;
    if (!t.pending_copy) continue;
    // A copy's value keeps no graph: the next step's plan starts from it.
    t.node = value_node(values[i]);
    t.realize_with = nullptr;
    t.pending_copy = false;
  }
  return values;
}

namespace {

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

const NodeRef &checked(const Tensor &t, const char *what, const char *role = "the tensor") {
  return TensorOps::node(t, what, role);
}

Tensor unary(Op op, const Tensor &t) {
  return TensorOps::result(ir::unary(op, checked(t, op_name(op))), {&t});
}

Tensor binary(Op op, const Tensor &a, const Tensor &b) {
  const NodeRef &x = checked(a, op_name(op), "the left operand");
  const NodeRef &y = checked(b, op_name(op), "the right operand");
  return TensorOps::result(ir::binary(op, x, y), {&a, &b});
}

// A Scalar beside a tensor of dtype t, as a constant of the dtype it takes.
NodeRef constant_beside(Scalar s, DType t) {
  return ir::constant(s.to_double(), scalar_dtype(t, s.kind()));
}

Tensor binary(Op op, const Tensor &a, Scalar b) {
  const NodeRef &n = checked(a, op_name(op), "the left operand");
  return TensorOps::result(ir::binary(op, n, constant_beside(b, n->dtype)), {&a});
}

Tensor binary(Op op, Scalar a, const Tensor &b) {
  const NodeRef &n = checked(b, op_name(op), "the right operand");
  return TensorOps::result(ir::binary(op, constant_beside(a, n->dtype), n), {&b});
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
template Tensor Tensor::from_vector<int32_t>(const std::vector<int32_t> &, Shape);
template Tensor Tensor::from_vector<int64_t>(const std::vector<int64_t> &, Shape);
template Tensor Tensor::from_vector<uint8_t>(const std::vector<uint8_t> &, Shape);
template Tensor Tensor::from_vector<bool>(const std::vector<bool> &, Shape);

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor scalar_tensor(double value, DType dtype) {
  Buffer b(dtype, {});
  b.set(0, value);
  return leaf(b);
}
Tensor Tensor::zeros(const Shape &shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor Tensor::ones(const Shape &shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape &shape, double value, DType dtype) {
  // A constant stays in the graph (an expand of a scalar), so passes can fold it.
  return Tensor(ir::full(value, dtype, shape));
}

Tensor Tensor::rand(Shape shape, DType dtype, std::optional<uint64_t> seed) {
  return random_tensor(seed, [&](Generator &g) { return random_uniform(dtype, shape, g); });
}

Tensor Tensor::randn(Shape shape, DType dtype, std::optional<uint64_t> seed) {
  return random_tensor(seed, [&](Generator &g) { return random_normal(dtype, shape, g); });
}

Tensor arange(int64_t end, DType dtype) { return arange(0, end, 1, dtype); }

Tensor arange(int64_t start, int64_t end, int64_t step, DType dtype) {
  return Tensor(ir::cast(ir::arange(start, end, step), dtype));
}

Tensor eye(int64_t n, DType dtype) {
  FUSEJIT_USER_CHECK(n >= 0, ValueError, "eye: n ", n, " must not be negative");
  Tensor i = arange(n);
  return (i.unsqueeze(1) == i).to(dtype);
}

Tensor randint(int64_t low, int64_t high, Shape shape, DType dtype, std::optional<uint64_t> seed) {
  FUSEJIT_USER_CHECK(low < high, ValueError, "randint: low ", low, " must be below high ", high);
  return random_tensor(seed, [&](Generator &g) {
    Buffer b(dtype, shape);
    double span = static_cast<double>(high - low);
    for (int64_t i = 0; i < b.numel(); ++i)
      b.set(i, static_cast<double>(low) + std::floor(g.uniform() * span));
    return b;
  });
}

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(global_generator_mu);
  global_generator.seed(seed);
}

Tensor Tensor::from_blob(void *data, Shape shape, DType dtype) {
  return from_blob(data, std::move(shape), std::function<void(void *)>(), dtype);
}

Tensor Tensor::from_blob(void *data, Shape shape, const std::function<void(void *)> &deleter,
                         DType dtype) {
  int64_t n = fusejit::numel(shape);
  size_t size = dtype_size(dtype);
  FUSEJIT_USER_CHECK(data || n == 0, ValueError, "from_blob: a null pointer for ",
                     type_str(dtype, shape));
  FUSEJIT_USER_CHECK(reinterpret_cast<uintptr_t>(data) % size == 0, ValueError,
                     "from_blob: ", type_str(dtype, shape), " at ", data, " is not aligned to its ",
                     size, "-byte elements");
  // Checks the byte count as an allocation of this type would.
  FUSEJIT_USER_CHECK(n <= PTRDIFF_MAX / static_cast<int64_t>(size), ValueError,
                     "from_blob: ", type_str(dtype, shape), ": its size in bytes overflows");
  size_t bytes = static_cast<size_t>(n) * size;
  std::shared_ptr<void> owner;
  if (deleter) owner = std::shared_ptr<void>(data, deleter);
  return leaf(Buffer(dtype, std::move(shape), Storage::borrow(data, bytes, std::move(owner))));
}

Tensor::Tensor(NodeRef node) : impl_(std::make_shared<TensorImpl>()) {
  impl_->node = std::move(node);
}

bool Tensor::defined() const { return impl_ && impl_->node; }

const NodeRef &Tensor::node() const { return checked(*this, "node"); }
const Shape &Tensor::sizes() const { return checked(*this, "sizes")->shape; }
DType Tensor::dtype() const { return checked(*this, "dtype")->dtype; }
int64_t Tensor::numel() const { return checked(*this, "numel")->numel(); }
int64_t Tensor::dim() const { return static_cast<int64_t>(checked(*this, "dim")->rank()); }

int64_t Tensor::size(int64_t d) const {
  const Node &n = *checked(*this, "size");
  int64_t r = static_cast<int64_t>(n.rank());
  FUSEJIT_USER_CHECK(
      d >= -r && d < r, ShapeError, "size: dim ", d, " is out of range for ",
      type_str(n.dtype, n.shape),
      r ? detail::concat(" (dims -", r, "..", r - 1, ")") : std::string(" (a scalar has no dims)"));
  return n.shape[d < 0 ? d + r : d];
}

Tensor Tensor::neg() const { return unary(Op::Neg, *this); }
Tensor Tensor::exp() const { return unary(Op::Exp, *this); }
Tensor Tensor::log() const { return unary(Op::Log, *this); }
Tensor Tensor::relu() const { return unary(Op::Relu, *this); }
Tensor Tensor::stop_gradient() const { return unary(Op::StopGradient, *this); }
Tensor Tensor::sigmoid() const { return unary(Op::Sigmoid, *this); }
Tensor Tensor::tanh() const { return unary(Op::Tanh, *this); }
Tensor Tensor::sqrt() const { return unary(Op::Sqrt, *this); }
Tensor Tensor::abs() const { return unary(Op::Abs, *this); }
Tensor Tensor::reciprocal() const { return unary(Op::Inv, *this); }
Tensor Tensor::maximum(const Tensor &o) const { return binary(Op::Maximum, *this, o); }
Tensor Tensor::minimum(const Tensor &o) const { return binary(Op::Minimum, *this, o); }
Tensor Tensor::pow(const Tensor &e) const { return binary(Op::Pow, *this, e); }
Tensor Tensor::pow(Scalar e) const { return binary(Op::Pow, *this, e); }
Tensor Tensor::floor() const { return unary(Op::Floor, *this); }
Tensor Tensor::ceil() const { return unary(Op::Ceil, *this); }
Tensor Tensor::round() const { return unary(Op::Round, *this); }
Tensor Tensor::logical_not() const { return untracked(unary(Op::LogicalNot, *this)); }

Tensor Tensor::clamp(std::optional<Scalar> lo, std::optional<Scalar> hi) const {
  checked(*this, "clamp");
  FUSEJIT_USER_CHECK(lo || hi, ValueError, "clamp: at least one of lo and hi must be given");
  Tensor out = *this;
  if (lo) out = binary(Op::Maximum, out, *lo);
  if (hi) out = binary(Op::Minimum, out, *hi);
  return out;
}

Tensor Tensor::masked_fill(const Tensor &mask, Scalar value) const {
  const NodeRef &n = checked(*this, "masked_fill");
  const NodeRef &m = checked(mask, "masked_fill", "the mask");
  FUSEJIT_USER_CHECK(m->dtype == DType::Bool, ShapeError, "masked_fill: the mask is ",
                     type_str(m->dtype, m->shape), "; it must be bool");
  FUSEJIT_USER_CHECK(shape_broadcast(m->shape, n->shape, "masked_fill") == n->shape, ShapeError,
                     "masked_fill: the mask ", type_str(m->dtype, m->shape),
                     " does not broadcast to ", type_str(n->dtype, n->shape));
  // The fill takes x's dtype, as torch's masked_fill: the result is x's dtype.
  NodeRef fill = ir::constant(value.to_double(), n->dtype);
  return TensorOps::result(ir::where(m, fill, n), {this});
}

Tensor Tensor::sum(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Sum, checked(*this, "sum"), std::move(dims), keepdim),
                           {this});
}
Tensor Tensor::max(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Max, checked(*this, "max"), std::move(dims), keepdim),
                           {this});
}
Tensor Tensor::mean(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Mean, checked(*this, "mean"), std::move(dims), keepdim),
                           {this});
}
Tensor Tensor::min(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Min, checked(*this, "min"), std::move(dims), keepdim),
                           {this});
}
Tensor Tensor::prod(std::vector<int64_t> dims, bool keepdim) const {
  return TensorOps::result(ir::reduce(Op::Prod, checked(*this, "prod"), std::move(dims), keepdim),
                           {this});
}
Tensor Tensor::any(std::vector<int64_t> dims, bool keepdim) const {
  return Tensor(ir::reduce(Op::Any, checked(*this, "any"), std::move(dims), keepdim));
}
Tensor Tensor::all(std::vector<int64_t> dims, bool keepdim) const {
  return Tensor(ir::reduce(Op::All, checked(*this, "all"), std::move(dims), keepdim));
}

Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  // An index has no gradient.
  return Tensor(ir::arg_extreme(checked(*this, "argmax"), dim, keepdim, true));
}
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const {
  return Tensor(ir::arg_extreme(checked(*this, "argmin"), dim, keepdim, false));
}

Tensor one_hot(const Tensor &labels, int64_t num_classes, DType dtype) {
  return Tensor(ir::one_hot(checked(labels, "one_hot", "the labels"), num_classes, dtype));
}

Tensor gather(const Tensor &x, int64_t dim, const Tensor &index) { return x.gather(dim, index); }
Tensor index_select(const Tensor &x, int64_t dim, const Tensor &index) {
  return x.index_select(dim, index);
}

Tensor scatter_add(const Tensor &x, int64_t dim, const Tensor &index, const Tensor &src) {
  return x.scatter_add(dim, index, src);
}
Tensor index_add(const Tensor &x, int64_t dim, const Tensor &index, const Tensor &source) {
  return x.index_add(dim, index, source);
}

Tensor Tensor::scatter_add(int64_t dim, const Tensor &index, const Tensor &src) const {
  const NodeRef &x = checked(*this, "scatter_add");
  NodeRef out = ir::scatter_add(x, dim, checked(index, "scatter_add", "the index"),
                                checked(src, "scatter_add", "the source"));
  return TensorOps::result(out, {this, &src});
}

Tensor Tensor::index_add(int64_t dim, const Tensor &index, const Tensor &source) const {
  const NodeRef &x = checked(*this, "index_add");
  NodeRef out = ir::index_add(x, dim, checked(index, "index_add", "the index"),
                              checked(source, "index_add", "the source"));
  return TensorOps::result(out, {this, &source});
}

Tensor Tensor::gather(int64_t dim, const Tensor &index) const {
  const NodeRef &x = checked(*this, "gather");
  Tensor out = TensorOps::result(ir::gather(x, dim, checked(index, "gather", "the index")), {this});
  return is_floating(x->dtype) ? out : untracked(out);
}

Tensor Tensor::index_select(int64_t dim, const Tensor &index) const {
  const NodeRef &x = checked(*this, "index_select");
  Tensor out = TensorOps::result(
      ir::index_select(x, dim, checked(index, "index_select", "the index")), {this});
  return is_floating(x->dtype) ? out : untracked(out);
}

Tensor Tensor::reshape(Shape s) const {
  return TensorOps::result(ir::reshape(checked(*this, "reshape"), std::move(s)), {this});
}
Tensor Tensor::permute(std::vector<int64_t> p) const {
  return TensorOps::result(ir::permute(checked(*this, "permute"), std::move(p)), {this});
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  const NodeRef &n = checked(*this, "transpose");
  // As torch, a scalar takes dims 0 and -1 as if it had one dim.
  int64_t r = std::max<int64_t>(static_cast<int64_t>(n->rank()), 1);
  for (int64_t d : {d0, d1})
    FUSEJIT_USER_CHECK(d >= -r && d < r, ShapeError, "transpose(", d0, ", ", d1, "): dim ", d,
                       " is out of range for ", type_str(n->dtype, n->shape), " (dims -", r, "..",
                       r - 1, ")");
  if (n->rank() < 2) return TensorOps::result(n, {this});
  std::vector<int64_t> perm(n->rank());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  std::swap(perm[d0 < 0 ? d0 + r : d0], perm[d1 < 0 ? d1 + r : d1]);
  return TensorOps::result(ir::permute(n, std::move(perm)), {this});
}

Tensor Tensor::t() const {
  const NodeRef &n = checked(*this, "t");
  FUSEJIT_USER_CHECK(n->rank() <= 2, ShapeError, "t: ", type_str(n->dtype, n->shape),
                     " has more than 2 dims; use transpose(d0, d1)");
  return transpose(0, -1);
}

Tensor Tensor::expand(Shape s) const {
  return TensorOps::result(ir::expand(checked(*this, "expand"), std::move(s)), {this});
}

Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  const NodeRef &n = checked(*this, "slice");
  FUSEJIT_USER_CHECK(step > 0, ValueError, "slice: step ", step,
                     " must be positive (flip reverses a dim)");
  return TensorOps::result(ir::slice_dim(n, dim, start, end, step), {this});
}

namespace {

// Rows [from, from + length) of dim `d` of `t`'s value as a leaf sharing its
// storage, when that is the same tensor: `t` is realized, untracked, and the
// rows are one contiguous block (every dim before `d` has extent 1). A batch
// of a data set is then a new input of the same plan, not a slice whose
// offset is compiled into a plan of its own.
std::optional<Tensor> aliased_rows(const Tensor &t, int64_t d, int64_t from, int64_t length) {
  const NodeRef &n = t.node();
  if (t.requires_grad()) return std::nullopt;
  for (int64_t i = 0; i < d; ++i)
    if (n->shape[i] != 1) return std::nullopt;
  Buffer value = attached_buffer(*n);
  if (!value.defined()) return std::nullopt;
  Shape shape = n->shape;
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(d) + 1; i < shape.size(); ++i) inner *= shape[i];
  shape[d] = length;
  size_t size = dtype_size(n->dtype);
  auto *base = static_cast<char *>(const_cast<void *>(value.raw()));
  size_t offset = static_cast<size_t>(from * inner) * size;
  size_t bytes = static_cast<size_t>(length * inner) * size;
  return leaf(
      Buffer(n->dtype, std::move(shape), Storage::borrow(base + offset, bytes, value.storage())));
}

}  // namespace

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  const NodeRef &n = checked(*this, "narrow");
  int64_t d = normalize_dim(dim, n->rank(), "narrow of " + type_str(n->dtype, n->shape));
  int64_t extent = n->shape[d], from = start < 0 ? start + extent : start;
  FUSEJIT_USER_CHECK(from >= 0 && from <= extent && length >= 0 && length <= extent - from,
                     ShapeError, "narrow: start ", start, " and length ", length,
                     " do not fit dim ", d, " of extent ", extent);
  if (!impl_->pending_copy)
    if (std::optional<Tensor> rows = aliased_rows(*this, d, from, length)) return *rows;
  return TensorOps::result(ir::slice_dim(n, d, from, from + length, 1), {this});
}

Tensor Tensor::select(int64_t dim, int64_t i) const {
  const NodeRef &n = checked(*this, "select");
  int64_t d = normalize_dim(dim, n->rank(), "select of " + type_str(n->dtype, n->shape));
  std::vector<ir::IndexItem> items(static_cast<size_t>(d) + 1);
  items.back().kind = ir::IndexItem::Integer;
  items.back().index = i;
  return TensorOps::result(ir::index(n, items), {this});
}

Tensor Tensor::index(const std::vector<indexing::TensorIndex> &items) const {
  const NodeRef &n = checked(*this, "index");
  std::vector<ir::IndexItem> out;
  for (const indexing::TensorIndex &it : items) {
    ir::IndexItem item;
    if (it.kind == indexing::TensorIndex::Integer) {
      item.kind = ir::IndexItem::Integer;
      item.index = it.integer;
    } else if (it.kind == indexing::TensorIndex::NewDim) {
      item.kind = ir::IndexItem::NewDim;
    } else {
      FUSEJIT_USER_CHECK(it.slice.step > 0, ValueError, "index: slice step ", it.slice.step,
                         " must be positive (flip reverses a dim)");
      item.start = it.slice.start, item.stop = it.slice.stop, item.step = it.slice.step;
    }
    out.push_back(item);
  }
  return TensorOps::result(ir::index(n, out), {this});
}

Tensor Tensor::flip(const std::vector<int64_t> &dims) const {
  return TensorOps::result(ir::flip(checked(*this, "flip"), dims), {this});
}
Tensor Tensor::unsqueeze(int64_t dim) const {
  return TensorOps::result(ir::unsqueeze(checked(*this, "unsqueeze"), dim), {this});
}
Tensor Tensor::squeeze() const {
  return TensorOps::result(ir::squeeze(checked(*this, "squeeze")), {this});
}
Tensor Tensor::squeeze(int64_t dim) const {
  return TensorOps::result(ir::squeeze(checked(*this, "squeeze"), dim), {this});
}
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return TensorOps::result(ir::flatten(checked(*this, "flatten"), start_dim, end_dim), {this});
}
Tensor Tensor::unfold(int64_t dim, int64_t size, int64_t step) const {
  return TensorOps::result(ir::unfold(checked(*this, "unfold"), dim, size, step), {this});
}
Tensor Tensor::matmul(const Tensor &o) const {
  const NodeRef &a = checked(*this, "matmul", "the left operand");
  return TensorOps::result(ir::matmul(a, checked(o, "matmul", "the right operand")), {this, &o});
}

// ---- copies and conversions ----

Tensor Tensor::contiguous() const {
  checked(*this, "contiguous");
  return realize();
}

Tensor Tensor::clone() const {
  checked(*this, "clone");
  Buffer value = TensorOps::realize({this}, default_options())[0];
  const NodeRef &n = node();
  // A tracked tensor never holds from_blob memory (requires_grad_ copies
  // it), so the identity on its node is a copy that stays a copy.
  if (requires_grad()) return TensorOps::result(n, {this});
  if (value.storage()->borrowed()) return leaf(value.clone());
  return Tensor(n);
}

Tensor Tensor::to(DType to_dtype) const {
  const NodeRef &n = checked(*this, "to");
  if (n->dtype == to_dtype) return *this;
  Tensor out = TensorOps::result(ir::cast(n, to_dtype), {this});
  // Only a float result carries a gradient (autodiff's cast rule).
  return is_floating(to_dtype) ? out : untracked(out);
}

// ---- reading ----

const Tensor &Tensor::realize(const Options &options) const {
  checked(*this, "realize");
  TensorOps::realize({this}, options);
  return *this;
}

void realize(const std::vector<Tensor> &tensors, const Options &options) {
  std::vector<const Tensor *> all;
  all.reserve(tensors.size());
  for (const Tensor &t : tensors) {
    checked(t, "realize");
    all.push_back(&t);
  }
  TensorOps::realize(all, options);
}

const Tensor &Tensor::realize() const { return realize(default_options()); }

const void *Tensor::read(DType want, const char *what) const {
  const Node &n = *checked(*this, what);
  FUSEJIT_USER_CHECK(n.dtype == want, ValueError, what, "<",
                     want == DType::F32 ? "float" : "double", ">: tensor is ",
                     type_str(n.dtype, n.shape));
  // The buffer stays attached to the node, so the pointer outlives this call.
  return TensorOps::realize({this}, default_options())[0].raw();
}

void Tensor::check_item() const {
  const Node &n = *checked(*this, "item");
  FUSEJIT_USER_CHECK(n.numel() == 1, ShapeError, "item: tensor ", type_str(n.dtype, n.shape),
                     " has ", n.numel(), " elements, not 1");
}

// ---- gradients ----

Tensor Tensor::requires_grad_(bool on) const {
  TensorImpl &t = TensorOps::impl(*this, "requires_grad_");
  FUSEJIT_USER_CHECK(is_leaf(), ValueError, "requires_grad_: ", type_str(dtype(), shape()),
                     " is not a leaf (it was computed from tensors that require grad); only "
                     "leaves can change requires_grad, use detach() for a leaf with its value");
  if (on && !t.requires_grad) {
    // A fresh input node holding the same value: tensors built from this one
    // before now must not lead gradients to it, and its node must be its own
    // (constants are hash-consed and may be shared). from_blob memory is
    // copied: a tracked value never changes under its gradients.
    Buffer value = TensorOps::realize({this}, default_options())[0];
    if (value.storage()->borrowed()) value = value.clone();
    t.node = value_node(value);
  }
  t.requires_grad = on;
  return *this;
}

bool Tensor::requires_grad() const {
  const TensorImpl &t = TensorOps::impl(*this, "requires_grad");
  return t.requires_grad || t.history;
}

bool Tensor::is_leaf() const { return !TensorOps::impl(*this, "is_leaf").history; }

Tensor Tensor::grad() const {
  TensorImpl &t = TensorOps::impl(*this, "grad");
  {
    std::lock_guard<std::mutex> lock(t.grad_mu);
    if (t.grad) {
      Tensor g(t.grad);
      g.impl_->realize_with = t.grad_with;
      return g;
    }
  }
  std::string type = type_str(t.node->dtype, t.node->shape);
  if (t.history)
    return TensorOps::undefined("the grad() of a non-leaf " + type +
                                " (only leaves keep a grad; backward() does not fill it)");
  if (!t.requires_grad)
    return TensorOps::undefined("the grad() of " + type +
                                ", which does not require grad (flag it with requires_grad_())");
  return TensorOps::undefined("the grad() of leaf " + type +
                              ", which no backward() has reached (since zero_grad(), if called)");
}

void Tensor::zero_grad() const {
  TensorImpl &t = TensorOps::impl(*this, "zero_grad");
  std::lock_guard<std::mutex> lock(t.grad_mu);
  t.grad = nullptr;
  t.grad_with = nullptr;
}

void Tensor::set_grad(const Tensor &grad) const {
  TensorImpl &t = TensorOps::impl(*this, "set_grad");
  FUSEJIT_USER_CHECK(is_leaf(), ValueError, "set_grad: ", type_str(dtype(), shape()),
                     " is not a leaf; only leaves keep a grad");
  if (!grad.defined()) return zero_grad();
  FUSEJIT_USER_CHECK(grad.dtype() == dtype() && grad.shape() == shape(), ShapeError,
                     "set_grad: the grad ", type_str(grad.dtype(), grad.shape()),
                     " does not match the leaf ", type_str(dtype(), shape()));
  std::lock_guard<std::mutex> lock(t.grad_mu);
  t.grad = grad.node();
  t.grad_with = grad.impl_->realize_with;
}

Tensor with_effects(const Tensor &value, const std::vector<Tensor> &updates) {
  return TensorOps::with_effects(value, updates);
}

Tensor Tensor::detach() const {
  checked(*this, "detach");
  return Tensor(value_node(TensorOps::realize({this}, default_options())[0]));
}

const Tensor &Tensor::copy_(const Tensor &src) const {
  TensorImpl &t = TensorOps::impl(*this, "copy_");
  const NodeRef &from = checked(src, "copy_", "the source");
  std::string type = type_str(t.node->dtype, t.node->shape);
  FUSEJIT_USER_CHECK(is_leaf(), ValueError, "copy_: ", type,
                     " is not a leaf (it was computed from tensors that require grad); only "
                     "leaves take a new value");
  FUSEJIT_USER_CHECK(from->dtype == t.node->dtype, ValueError, "copy_: the source ",
                     type_str(from->dtype, from->shape), " is not of the destination's dtype (",
                     type, ")");
  FUSEJIT_USER_CHECK(!is_grad_enabled() || (!t.requires_grad && !src.requires_grad()), ValueError,
                     "copy_: ", t.requires_grad ? "the destination " : "the source ",
                     t.requires_grad ? type : type_str(from->dtype, from->shape),
                     " requires grad, and copy_ records no history; copy under a NoGradGuard");
  NodeRef value = from->shape == t.node->shape ? from : ir::expand(from, t.node->shape);
  t.realize_with = src.impl_->realize_with;
  t.node = std::move(value);
  t.pending_copy = true;
  return *this;
}

void Tensor::backward(const Tensor &seed) const {
  checked(*this, "backward");
  std::shared_ptr<const LeafList> leaves = TensorOps::leaves(*this);
  FUSEJIT_USER_CHECK(leaves && !leaves->empty(), ValueError,
                     "backward: ", type_str(dtype(), shape()),
                     " has no path to a tensor that requires grad: nothing to differentiate "
                     "(flag a leaf with requires_grad_() before computing from it, outside a "
                     "NoGradGuard)");
  FUSEJIT_USER_CHECK(!seed.defined() || (seed.dtype() == dtype() && seed.shape() == shape()),
                     ShapeError, "backward: the seed ", type_str(seed.dtype(), seed.shape()),
                     " does not match the tensor ", type_str(dtype(), shape()));
  std::vector<NodeRef> wrt;
  for (const auto &leaf : *leaves) wrt.push_back(leaf->node);
  std::vector<NodeRef> grads = gradients(node(), wrt, seed.defined() ? seed.node() : nullptr);

  // Nothing runs here: each leaf's grad becomes the new gradient (plus the
  // grad it held), realized, whenever one is read, together with the forward
  // value and every other gradient of this call, so they are optimized
  // together and an optimizer's update joins the same plan.
  NodeList with{node()};
  with.insert(with.end(), grads.begin(), grads.end());
  if (impl_->realize_with)
    with.insert(with.end(), impl_->realize_with->begin(), impl_->realize_with->end());
  auto shared = std::make_shared<const NodeList>(std::move(with));
  for (size_t i = 0; i < grads.size(); ++i) {
    TensorImpl &leaf = *(*leaves)[i];
    std::lock_guard<std::mutex> lock(leaf.grad_mu);
    if (leaf.grad) {
      leaf.grad = ir::binary(Op::Add, leaf.grad, grads[i]);
      leaf.grad_with = TensorOps::merge(leaf.grad_with, std::shared_ptr<const NodeList>(shared));
    } else {
      leaf.grad = grads[i];
      leaf.grad_with = shared;
    }
  }
}

// ---- operators ----

Tensor operator-(const Tensor &a) { return a.neg(); }
#define FUSEJIT_OPERATOR(op, code, wrap)                                                        \
  Tensor operator op(const Tensor &a, const Tensor &b) { return wrap(binary(Op::code, a, b)); } \
  Tensor operator op(const Tensor &a, Scalar b) { return wrap(binary(Op::code, a, b)); }        \
  Tensor operator op(Scalar a, const Tensor &b) { return wrap(binary(Op::code, a, b)); }
FUSEJIT_OPERATOR(+, Add, )
FUSEJIT_OPERATOR(-, Sub, )
FUSEJIT_OPERATOR(*, Mul, )
FUSEJIT_OPERATOR(/, Div, )
FUSEJIT_OPERATOR(%, Mod, )
FUSEJIT_OPERATOR(<, Lt, untracked)
FUSEJIT_OPERATOR(>, Gt, untracked)
FUSEJIT_OPERATOR(<=, Le, untracked)
FUSEJIT_OPERATOR(>=, Ge, untracked)
FUSEJIT_OPERATOR(==, Eq, untracked)
FUSEJIT_OPERATOR(!=, Ne, untracked)
#undef FUSEJIT_OPERATOR

Tensor floor_divide(const Tensor &a, const Tensor &b) { return binary(Op::FloorDiv, a, b); }
Tensor floor_divide(const Tensor &a, Scalar b) { return binary(Op::FloorDiv, a, b); }
Tensor remainder(const Tensor &a, const Tensor &b) { return a % b; }
Tensor remainder(const Tensor &a, Scalar b) { return a % b; }
Tensor logical_and(const Tensor &a, const Tensor &b) {
  return untracked(binary(Op::LogicalAnd, a, b));
}
Tensor logical_or(const Tensor &a, const Tensor &b) {
  return untracked(binary(Op::LogicalOr, a, b));
}
Tensor logical_not(const Tensor &a) { return a.logical_not(); }
Tensor clamp(const Tensor &x, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  return x.clamp(lo, hi);
}

Tensor full_like(const Tensor &x, Scalar value, std::optional<DType> dtype) {
  const NodeRef &n = checked(x, "full_like");
  return Tensor(ir::full(value.to_double(), dtype.value_or(n->dtype), n->shape));
}
Tensor zeros_like(const Tensor &x, std::optional<DType> dtype) { return full_like(x, 0, dtype); }
Tensor ones_like(const Tensor &x, std::optional<DType> dtype) { return full_like(x, 1, dtype); }

Tensor matmul(const Tensor &a, const Tensor &b) { return a.matmul(b); }
Tensor maximum(const Tensor &a, const Tensor &b) { return a.maximum(b); }
Tensor minimum(const Tensor &a, const Tensor &b) { return a.minimum(b); }

Tensor pad(const Tensor &x, const std::vector<int64_t> &pad, double value) {
  const NodeRef &n = checked(x, "pad");
  FUSEJIT_USER_CHECK(pad.size() % 2 == 0, ValueError, "pad: ", pad.size(),
                     " widths; they come in (before, after) pairs");
  FUSEJIT_USER_CHECK(pad.size() / 2 <= n->rank(), ShapeError, "pad: ", pad.size() / 2,
                     " pairs of widths for the ", n->rank(), " dims of ",
                     type_str(n->dtype, n->shape));
  std::vector<std::pair<int64_t, int64_t>> widths(n->rank(), {0, 0});
  for (size_t i = 0; i < pad.size() / 2; ++i)
    widths[n->rank() - 1 - i] = {pad[2 * i], pad[2 * i + 1]};
  return TensorOps::result(ir::pad(n, widths, value), {&x});
}

namespace {

Tensor join(const std::vector<Tensor> &tensors, int64_t dim, bool stack) {
  const char *what = stack ? "stack" : "cat";
  std::vector<NodeRef> nodes;
  std::vector<const Tensor *> operands;
  for (const Tensor &t : tensors) {
    nodes.push_back(checked(t, what, "a tensor of the list"));
    operands.push_back(&t);
  }
  return TensorOps::result(stack ? ir::stack(nodes, dim) : ir::cat(nodes, dim), operands);
}

}  // namespace

Tensor cat(const std::vector<Tensor> &tensors, int64_t dim) { return join(tensors, dim, false); }
Tensor stack(const std::vector<Tensor> &tensors, int64_t dim) { return join(tensors, dim, true); }

std::vector<Tensor> split(const Tensor &x, int64_t size, int64_t dim) {
  const NodeRef &n = checked(x, "split");
  FUSEJIT_USER_CHECK(size > 0, ValueError, "split: size ", size, " must be positive");
  int64_t d = normalize_dim(dim, n->rank(), "split of " + type_str(n->dtype, n->shape));
  std::vector<Tensor> out;
  int64_t extent = n->shape[d];
  for (int64_t at = 0; at < extent || (extent == 0 && out.empty()); at += size)
    out.push_back(x.narrow(d, at, std::min(size, extent - at)));
  return out;
}

std::vector<Tensor> chunk(const Tensor &x, int64_t chunks, int64_t dim) {
  const NodeRef &n = checked(x, "chunk");
  FUSEJIT_USER_CHECK(chunks > 0, ValueError, "chunk: ", chunks, " chunks; at least 1");
  int64_t d = normalize_dim(dim, n->rank(), "chunk of " + type_str(n->dtype, n->shape));
  int64_t extent = n->shape[d];
  return split(x, std::max<int64_t>((extent + chunks - 1) / chunks, 1), d);
}

// Only x and y carry gradients; the condition's history is not followed.
Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y) {
  return TensorOps::result(
      ir::where(checked(cond, "where"), checked(x, "where"), checked(y, "where")), {&x, &y});
}

// Two Scalars make a tensor of their kinds' default dtype (f32 if either
// is a float), as torch.where(cond, 1.0, 0).
Tensor where(const Tensor &cond, Scalar x, Scalar y) {
  const NodeRef &c = checked(cond, "where");
  DType t = ir::promote_types(default_dtype(x.kind()), default_dtype(y.kind()));
  return Tensor(ir::where(c, ir::constant(x.to_double(), t), ir::constant(y.to_double(), t)));
}

namespace {

// conv or conv_transpose of the given rank.
Tensor conv_nd(const char *what, size_t rank, const Tensor &x, const Tensor &w, const Tensor &bias,
               const ir::ConvParams &p, bool transposed = false) {
  const NodeRef &xn = checked(x, what, "the input");
  const NodeRef &wn = checked(w, what, "the weight");
  FUSEJIT_USER_CHECK(xn->rank() == rank, ShapeError, what, ": the input must have ", rank,
                     " dims (N, C, spatial), got ", type_str(xn->dtype, xn->shape));
  auto build = transposed ? ir::conv_transpose : ir::conv;
  if (!bias.defined()) return TensorOps::result(build(xn, wn, nullptr, p), {&x, &w});
  return TensorOps::result(build(xn, wn, checked(bias, what, "the bias"), p), {&x, &w, &bias});
}

ir::ConvParams padded(const std::vector<int64_t> &stride, PaddingMode padding,
                      const std::vector<int64_t> &dilation, int64_t groups) {
  ir::ConvParams p{stride, {0}, dilation, groups};
  p.same = padding == PaddingMode::Same;
  return p;
}

ir::ConvParams transposed(const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
                          const std::vector<int64_t> &output_padding, int64_t groups,
                          const std::vector<int64_t> &dilation) {
  ir::ConvParams p{stride, padding, dilation, groups};
  p.output_padding = output_padding;
  return p;
}

Tensor pool_2d(bool max, const Tensor &x, const ir::PoolParams &p) {
  const char *what = max ? "max_pool2d" : "avg_pool2d";
  const NodeRef &n = checked(x, what);
  FUSEJIT_USER_CHECK(n->rank() == 3 || n->rank() == 4, ShapeError, what,
                     ": the input must be [N, C, H, W] or [C, H, W], got ",
                     type_str(n->dtype, n->shape));
  FUSEJIT_USER_CHECK(p.kernel.size() == 1 || p.kernel.size() == 2, ShapeError, what,
                     ": kernel_size has ", p.kernel.size(), " values; one or two");
  ir::PoolParams two = p;
  if (two.kernel.size() == 1) two.kernel.push_back(two.kernel[0]);
  return TensorOps::result(max ? ir::max_pool(n, two) : ir::avg_pool(n, two), {&x});
}

}  // namespace

Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
              const std::vector<int64_t> &dilation, int64_t groups) {
  return conv_nd("conv1d", 3, x, w, bias, {stride, padding, dilation, groups});
}

Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
              const std::vector<int64_t> &dilation, int64_t groups) {
  return conv_nd("conv2d", 4, x, w, bias, {stride, padding, dilation, groups});
}

Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, PaddingMode padding,
              const std::vector<int64_t> &dilation, int64_t groups) {
  return conv_nd("conv1d", 3, x, w, bias, padded(stride, padding, dilation, groups));
}

Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, PaddingMode padding,
              const std::vector<int64_t> &dilation, int64_t groups) {
  return conv_nd("conv2d", 4, x, w, bias, padded(stride, padding, dilation, groups));
}

Tensor conv_transpose1d(const Tensor &x, const Tensor &w, const Tensor &bias,
                        const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
                        const std::vector<int64_t> &output_padding, int64_t groups,
                        const std::vector<int64_t> &dilation) {
  return conv_nd("conv_transpose1d", 3, x, w, bias,
                 transposed(stride, padding, output_padding, groups, dilation), true);
}

Tensor conv_transpose2d(const Tensor &x, const Tensor &w, const Tensor &bias,
                        const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
                        const std::vector<int64_t> &output_padding, int64_t groups,
                        const std::vector<int64_t> &dilation) {
  return conv_nd("conv_transpose2d", 4, x, w, bias,
                 transposed(stride, padding, output_padding, groups, dilation), true);
}

Tensor max_pool2d(const Tensor &x, const std::vector<int64_t> &kernel_size,
                  const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
                  const std::vector<int64_t> &dilation, bool ceil_mode) {
  ir::PoolParams p{kernel_size, stride, padding, dilation};
  p.ceil_mode = ceil_mode;
  return pool_2d(true, x, p);
}

Tensor avg_pool2d(const Tensor &x, const std::vector<int64_t> &kernel_size,
                  const std::vector<int64_t> &stride, const std::vector<int64_t> &padding,
                  bool ceil_mode, bool count_include_pad) {
  ir::PoolParams p{kernel_size, stride, padding};
  p.ceil_mode = ceil_mode;
  p.count_include_pad = count_include_pad;
  return pool_2d(false, x, p);
}

}  // namespace fusejit

namespace fusejit {

Tensor tracked_result(NodeRef node, const std::vector<const Tensor *> &operands) {
  return TensorOps::result(std::move(node), operands);
}

}  // namespace fusejit
