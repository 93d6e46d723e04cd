#include "engine/tensor.h"

#include <cmath>
#include <mutex>

#include "engine/realize.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/random.h"

namespace fusejit {

namespace {

// A leaf holding `data`: an input node with the buffer attached.
Tensor leaf(const Buffer &data) {
  NodeRef n = ir::input(data.dtype(), data.shape());
  attach_buffer(*n, data);
  return Tensor(n);
}

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

Tensor unary(Op op, const Tensor &t) { return Tensor(ir::unary(op, checked(t, op_name(op)))); }

Tensor binary(Op op, const Tensor &a, const Tensor &b) {
  return Tensor(ir::binary(op, checked(a, op_name(op)), checked(b, op_name(op))));
}

Tensor binary(Op op, const Tensor &a, double b) {
  const NodeRef &n = checked(a, op_name(op));
  return Tensor(ir::binary(op, n, ir::constant(b, n->dtype)));
}

Tensor binary(Op op, double a, const Tensor &b) {
  const NodeRef &n = checked(b, op_name(op));
  return Tensor(ir::binary(op, ir::constant(a, n->dtype), n));
}

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

const NodeRef &Tensor::node() const {
  FUSEJIT_USER_CHECK(node_ != nullptr, ValueError, "use of an undefined tensor");
  return node_;
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
  return Tensor(ir::reduce(Op::Sum, node(), std::move(dims), keepdim));
}
Tensor Tensor::max(std::vector<int64_t> dims, bool keepdim) const {
  return Tensor(ir::reduce(Op::Max, node(), std::move(dims), keepdim));
}
Tensor Tensor::mean(std::vector<int64_t> dims, bool keepdim) const {
  return Tensor(ir::reduce(Op::Mean, node(), std::move(dims), keepdim));
}

Tensor Tensor::reshape(Shape s) const { return Tensor(ir::reshape(node(), std::move(s))); }
Tensor Tensor::permute(std::vector<int64_t> p) const {
  return Tensor(ir::permute(node(), std::move(p)));
}
Tensor Tensor::transpose() const { return Tensor(ir::transpose(node())); }
Tensor Tensor::expand(Shape s) const { return Tensor(ir::expand(node(), std::move(s))); }
Tensor Tensor::matmul(const Tensor &o) const {
  return Tensor(ir::matmul(node(), checked(o, "matmul")));
}

const Tensor &Tensor::realize() const {
  fusejit::realize({node()});
  return *this;
}

void Tensor::check_read(DType want, const char *what) const {
  FUSEJIT_USER_CHECK(dtype() == want, ValueError, what, "<", want == DType::F32 ? "float" : "double",
                     ">: tensor is ", type_str(dtype(), shape()));
}

std::vector<double> Tensor::values_as_double() const {
  return fusejit::realize({node()})[0].to_vector<double>();
}

Tensor operator-(const Tensor &a) { return a.neg(); }
Tensor operator+(const Tensor &a, const Tensor &b) { return binary(Op::Add, a, b); }
Tensor operator-(const Tensor &a, const Tensor &b) { return binary(Op::Sub, a, b); }
Tensor operator*(const Tensor &a, const Tensor &b) { return binary(Op::Mul, a, b); }
Tensor operator/(const Tensor &a, const Tensor &b) { return binary(Op::Div, a, b); }
Tensor operator<(const Tensor &a, const Tensor &b) { return binary(Op::Lt, a, b); }
Tensor operator>(const Tensor &a, const Tensor &b) { return binary(Op::Gt, a, b); }
Tensor operator==(const Tensor &a, const Tensor &b) { return binary(Op::Eq, a, b); }

#define FUSEJIT_SCALAR_OPERATOR(op, code)                                             \
  Tensor operator op(const Tensor &a, double b) { return binary(Op::code, a, b); } \
  Tensor operator op(double a, const Tensor &b) { return binary(Op::code, a, b); }
FUSEJIT_SCALAR_OPERATOR(+, Add)
FUSEJIT_SCALAR_OPERATOR(-, Sub)
FUSEJIT_SCALAR_OPERATOR(*, Mul)
FUSEJIT_SCALAR_OPERATOR(/, Div)
FUSEJIT_SCALAR_OPERATOR(<, Lt)
FUSEJIT_SCALAR_OPERATOR(>, Gt)
FUSEJIT_SCALAR_OPERATOR(==, Eq)
#undef FUSEJIT_SCALAR_OPERATOR

Tensor matmul(const Tensor &a, const Tensor &b) { return a.matmul(b); }
Tensor maximum(const Tensor &a, const Tensor &b) { return a.maximum(b); }
Tensor minimum(const Tensor &a, const Tensor &b) { return a.minimum(b); }

Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y) {
  return Tensor(ir::where(checked(cond, "where"), checked(x, "where"), checked(y, "where")));
}

Tensor where(const Tensor &cond, double x, double y) {
  DType t = checked(cond, "where")->dtype;
  return Tensor(ir::where(cond.node(), ir::constant(x, t), ir::constant(y, t)));
}

}  // namespace fusejit
