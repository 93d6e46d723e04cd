#include "engine/autodiff.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/unfold_grad.h"
#include "ir/error.h"
#include "ir/graph.h"

namespace fusejit {

namespace {

// ---- small builders over ir/graph.h, so the rules read like math ----

NodeRef add(NodeRef a, NodeRef b) { return ir::binary(Op::Add, std::move(a), std::move(b)); }
NodeRef sub(NodeRef a, NodeRef b) { return ir::binary(Op::Sub, std::move(a), std::move(b)); }
NodeRef mul(NodeRef a, NodeRef b) { return ir::binary(Op::Mul, std::move(a), std::move(b)); }
NodeRef div(NodeRef a, NodeRef b) { return ir::binary(Op::Div, std::move(a), std::move(b)); }
NodeRef cmp(Op op, NodeRef a, NodeRef b) { return ir::binary(op, std::move(a), std::move(b)); }
// A comparison's bool as 1/0 in the dtype of `like`, for masks that multiply.
NodeRef mask_of(Op op, const NodeRef &a, const NodeRef &b, const NodeRef &like) {
  return ir::cast(cmp(op, a, b), like->dtype);
}
NodeRef num(double v, const NodeRef &like) { return ir::constant(v, like->dtype); }

// Views that are the identity are not built: they would only add nodes.
NodeRef reshape_to(const NodeRef &x, const Shape &shape) {
  return x->shape == shape ? x : ir::reshape(x, shape);
}
NodeRef expand_to(const NodeRef &x, const Shape &shape) {
  return x->shape == shape ? x : ir::expand(x, shape);
}

// The shape of a reduction of `in` over `dims` with keepdim: reduced dims as 1.
Shape keepdim_shape(const Shape &in, const std::vector<int64_t> &dims) {
  Shape s = in;
  for (int64_t d : dims) s[d] = 1;
  return s;
}

// What a rule sees: the node `out` being differentiated and the gradient `g`
// of root with respect to it (out's shape). A rule returns one contribution
// per arg of out, each of that arg's shape, or null for "no gradient".
struct Step {
  const NodeRef &out;
  const NodeRef &g;
  const NodeRef &arg(size_t i) const { return out->args[i]; }
};
using Contributions = std::vector<NodeRef>;

// Gradients of a broadcasting binary op: each contribution is computed at
// the output's shape and summed back to its operand's.
Contributions to_operands(const Step &s, const NodeRef &da, const NodeRef &db) {
  return {sum_to_shape(da, s.arg(0)->shape), sum_to_shape(db, s.arg(1)->shape)};
}

// maximum/minimum: the gradient goes to the operand that won (`a_wins` is
// 1 where a is strictly larger/smaller); ties share it evenly.
Contributions select_rule(const Step &s, Op a_wins, Op b_wins) {
  const NodeRef &a = s.arg(0), &b = s.arg(1);
  NodeRef half_tie = mul(num(0.5, s.g), mask_of(Op::Eq, a, b, s.g));
  NodeRef mask_a = add(mask_of(a_wins, a, b, s.g), half_tie);
  NodeRef mask_b = add(mask_of(b_wins, a, b, s.g), half_tie);
  return to_operands(s, mul(s.g, mask_a), mul(s.g, mask_b));
}

// d/da a^b = b * a^(b-1); d/db a^b = a^b * log a, taken as 0 where a == 0
// (the limit for b > 0, as PyTorch does), so pow(0, 2) has a finite gradient.
Contributions pow_rule(const Step &s) {
  const NodeRef &a = s.arg(0), &b = s.arg(1);
  NodeRef da = mul(s.g, mul(b, ir::binary(Op::Pow, a, sub(b, num(1, b)))));
  NodeRef a_log_a =
      ir::where(cmp(Op::Eq, a, num(0, a)), num(0, a), mul(s.out, ir::unary(Op::Log, a)));
  return to_operands(s, da, mul(s.g, a_log_a));
}

// where(c, x, y): x gets the gradient where c != 0, y elsewhere, c nothing.
Contributions where_rule(const Step &s) {
  NodeRef zero = num(0, s.g);
  return {nullptr, sum_to_shape(ir::where(s.arg(0), s.g, zero), s.arg(1)->shape),
          sum_to_shape(ir::where(s.arg(0), zero, s.g), s.arg(2)->shape)};
}

// The gradient of a reduction, reshaped to keepdim form: it broadcasts
// against the reduction's input.
NodeRef keepdim_grad(const Step &s) {
  return reshape_to(s.g, keepdim_shape(s.arg(0)->shape, s.out->dims));
}

Contributions sum_rule(const Step &s) { return {expand_to(keepdim_grad(s), s.arg(0)->shape)}; }

Contributions mean_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  int64_t n = 1;
  for (int64_t d : s.out->dims) n *= x->shape[d];
  return {expand_to(div(keepdim_grad(s), num(static_cast<double>(n), x)), x->shape)};
}

// max routes the gradient to the arg-max; ties share it evenly (each of k
// tied elements gets 1/k), so the gradient still sums to the incoming one
// (PyTorch's amax). The kernels that compute the mask recompute x, which
// codegen makes bit for bit the x the max saw (codegen/vector_math.h), so
// the mask holds the maximum. The count is kept at least 1 regardless: a
// row whose max equals none of its elements (a NaN row) gets a zero
// gradient rather than 0/0 spread over it.
Contributions max_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  Shape keep = keepdim_shape(x->shape, s.out->dims);
  NodeRef mask = mask_of(Op::Eq, x, reshape_to(s.out, keep), x);
  NodeRef count =
      ir::binary(Op::Maximum, ir::reduce(Op::Sum, mask, s.out->dims, /*keepdim=*/true), num(1, x));
  return {mul(mask, div(keepdim_grad(s), count))};
}

// The product of the other elements, without dividing by a zero: with no
// zero in the reduced slice it is out / x; with one zero, the zero's
// element gets the product of the rest and every other element 0; with
// more, every element 0.
Contributions prod_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  const std::vector<int64_t> &dims = s.out->dims;
  NodeRef zero = num(0, x), one = num(1, x);
  NodeRef is_zero = cmp(Op::Eq, x, zero);
  NodeRef zeros = ir::reduce(Op::Sum, ir::cast(is_zero, x->dtype), dims, /*keepdim=*/true);
  NodeRef safe = ir::where(is_zero, one, x);
  NodeRef rest = ir::reduce(Op::Prod, safe, dims, /*keepdim=*/true);  // product of the nonzeros
  NodeRef none_zero = div(rest, safe);
  NodeRef one_zero =
      ir::where(ir::binary(Op::LogicalAnd, is_zero, cmp(Op::Eq, zeros, one)), rest, zero);
  NodeRef others = ir::where(cmp(Op::Eq, zeros, zero), none_zero, one_zero);
  return {mul(expand_to(keepdim_grad(s), x->shape), others)};
}

// x % y = x - floor(x / y) * y: dx = g, dy = -floor(x / y) * g.
Contributions mod_rule(const Step &s) {
  const NodeRef &a = s.arg(0), &b = s.arg(1);
  NodeRef q = ir::unary(Op::Floor, div(a, b));
  return to_operands(s, s.g, ir::unary(Op::Neg, mul(s.g, q)));
}

// A cast between floats passes the gradient back in the source's dtype; a
// cast into an integer or bool passes none (nor does one out of them: the
// loop gives integer and bool nodes no gradient).
Contributions cast_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  if (!is_floating(x->dtype) || !is_floating(s.out->dtype)) return {nullptr};
  return {ir::cast(s.g, x->dtype)};
}

Contributions permute_rule(const Step &s) {
  const std::vector<int64_t> &perm = s.out->dims;
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return {ir::permute(s.g, inverse)};
}

// g placed along `dim` at start, start + step, ... (step > 0) of an extent-n
// dim, zeros elsewhere: interleaved with step - 1 zeros (a pad of a new dim,
// reshaped into the old one), then padded into place.
NodeRef scatter_dim(NodeRef g, size_t dim, int64_t start, int64_t step, int64_t n) {
  std::vector<std::pair<int64_t, int64_t>> widths(g->rank(), {0, 0});
  int64_t e = g->shape[dim];
  if (step > 1 && e > 0) {
    Shape spread = g->shape;
    spread.insert(spread.begin() + static_cast<int64_t>(dim) + 1, 1);
    std::vector<std::pair<int64_t, int64_t>> gap(spread.size(), {0, 0});
    gap[dim + 1] = {0, step - 1};
    Shape merged = g->shape;
    merged[dim] = e * step;
    g = ir::reshape(ir::pad(ir::reshape(g, spread), gap), merged);
  }
  // The last step - 1 zeros may reach past the end: a negative width crops them.
  widths[dim] = {start, n - start - g->shape[dim]};
  return ir::pad(g, widths);
}

// A slice's gradient is padded (and spread, for steps other than 1) back
// into place; a negative step reads backwards, so its gradient is flipped.
Contributions slice_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  NodeRef g = s.g;
  std::vector<int64_t> flipped;
  for (size_t d = 0; d < x->rank(); ++d)
    if (s.out->dims[2 * d + 1] < 0) flipped.push_back(static_cast<int64_t>(d));
  if (!flipped.empty()) g = ir::flip(g, flipped);
  for (size_t d = 0; d < x->rank(); ++d) {
    int64_t start = s.out->dims[2 * d], step = s.out->dims[2 * d + 1], e = s.out->shape[d];
    if (step < 0) start += (e - 1) * step, step = -step;
    if (start == 0 && step == 1 && e == x->shape[d]) continue;
    g = scatter_dim(g, d, start, step, x->shape[d]);
  }
  return {g};
}

// The gradient of a pad is the slice of it that covers the input.
Contributions pad_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  std::vector<int64_t> start, step(x->rank(), 1);
  for (size_t d = 0; d < x->rank(); ++d) start.push_back(s.out->dims[2 * d]);
  return {ir::slice(s.g, start, step, x->shape)};
}

// Each source of a cat gets its slice of the gradient.
Contributions cat_rule(const Step &s) {
  size_t dim = static_cast<size_t>(s.out->dims[0]);
  Contributions out;
  int64_t at = 0;
  for (const NodeRef &x : s.out->args) {
    std::vector<int64_t> start(x->rank(), 0), step(x->rank(), 1);
    start[dim] = at;
    at += x->shape[dim];
    out.push_back(ir::slice(s.g, start, step, x->shape));
  }
  return out;
}

// Window offset k of every window reads x at w * step + k: its gradient
// (the slice of g at k along the last dim) is spread back into place, and
// the offsets' contributions add up where windows overlap. When g is a
// wide contraction (a strided convolution's) and step > 1, the gradient is
// one contraction split by phase instead (engine/unfold_grad.h).
Contributions unfold_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  size_t dim = static_cast<size_t>(s.out->dims[0]);
  int64_t size = s.out->dims[1], step = s.out->dims[2];
  if (NodeRef dx = unfold_grad_as_contraction(s.g, dim, size, step, x->shape[dim])) return {dx};
  NodeRef total;
  for (int64_t k = 0; k < size; ++k) {
    std::vector<ir::IndexItem> at(s.g->rank());
    at.back().kind = ir::IndexItem::Integer;
    at.back().index = k;
    NodeRef part = scatter_dim(ir::index(s.g, at), dim, k, step, x->shape[dim]);
    total = total ? add(total, part) : part;
  }
  return {total ? total : ir::full(0.0, x->dtype, x->shape)};
}

// dA = dOut @ Bᵀ and dB = Aᵀ @ dOut, with the transposes as permute views
// (stride swaps the matmul kernel reads directly), then summed over the
// batch dims an operand was broadcast along.
Contributions matmul_rule(const Step &s) {
  const NodeRef &a = s.arg(0), &b = s.arg(1);
  return {sum_to_shape(ir::matmul(s.g, ir::transpose(b)), a->shape),
          sum_to_shape(ir::matmul(ir::transpose(a), s.g), b->shape)};
}

// d gather(x, dim, index) / dx: each gradient element goes back to the x
// element its index read, summed where indices repeat: a scatter-add of g
// (ir::scatter_sum: a reduction over (index == arange) * g, which reads
// every pair of an index and an x entry along dim).
Contributions gather_rule(const Step &s) {
  const NodeRef &x = s.arg(0);
  return {ir::scatter_sum(s.arg(1), s.g, s.out->dims[0], x->shape), nullptr};
}

// The rule table: one entry per op of FUSEJIT_OPS (the compiler flags a
// missing case). `g` is d root / d out; `out` is the node itself.
Contributions rule(const Step &s) {
  const NodeRef &g = s.g, &out = s.out;
  auto x = [&] { return s.arg(0); };
  auto y = [&] { return s.arg(1); };
  switch (out->op) {
    case Op::Input:
    case Op::Const:
    case Op::Iota:
      return {};
    case Op::Neg:
      return {ir::unary(Op::Neg, g)};
    case Op::Exp:
      return {mul(g, out)};
    case Op::Log:
      return {div(g, x())};
    case Op::Relu:
      return {mul(g, mask_of(Op::Gt, x(), num(0, g), g))};
    case Op::Sigmoid:
      return {mul(g, mul(out, sub(num(1, g), out)))};
    case Op::Tanh:
      return {mul(g, sub(num(1, g), mul(out, out)))};
    case Op::Sqrt:
      return {div(mul(g, num(0.5, g)), out)};
    case Op::Abs:  // sign(x) = (x > 0) - (x < 0), 0 at 0
      return {mul(g, sub(mask_of(Op::Gt, x(), num(0, g), g), mask_of(Op::Lt, x(), num(0, g), g)))};
    case Op::Inv:  // d(1/x) = -1/x² = -out²
      return {ir::unary(Op::Neg, mul(g, mul(out, out)))};
    case Op::Floor:
    case Op::Ceil:
    case Op::Round:  // piecewise constant
    case Op::LogicalNot:
    case Op::StopGradient:  // a constant as far as gradients go
      return {nullptr};
    case Op::Cast:
      return cast_rule(s);
    case Op::Add:
      return to_operands(s, g, g);
    case Op::Sub:
      return to_operands(s, g, ir::unary(Op::Neg, g));
    case Op::Mul:
      return to_operands(s, mul(g, y()), mul(g, x()));
    case Op::Div:  // d(a/b)/db = -a/b² = -out/b
      return to_operands(s, div(g, y()), ir::unary(Op::Neg, div(mul(g, out), y())));
    case Op::Lt:
    case Op::Gt:
    case Op::Eq:
    case Op::Le:
    case Op::Ge:
    case Op::Ne:
    case Op::LogicalAnd:
    case Op::LogicalOr:
    case Op::FloorDiv:  // piecewise constant: zero gradient, nothing to add
      return {nullptr, nullptr};
    case Op::Mod:
      return mod_rule(s);
    case Op::Maximum:
      return select_rule(s, Op::Gt, Op::Lt);
    case Op::Minimum:
      return select_rule(s, Op::Lt, Op::Gt);
    case Op::Pow:
      return pow_rule(s);
    case Op::Where:
      return where_rule(s);
    case Op::Sum:
      return sum_rule(s);
    case Op::Max:
    case Op::Min:  // the same routing to the elements equal to the result
      return max_rule(s);
    case Op::Prod:
      return prod_rule(s);
    case Op::Any:
    case Op::All:
      return {nullptr};
    case Op::Mean:
      return mean_rule(s);
    case Op::Reshape:
      return {ir::reshape(g, x()->shape)};
    case Op::Permute:
      return permute_rule(s);
    case Op::Expand:
      return {sum_to_shape(g, x()->shape)};
    case Op::Slice:
      return slice_rule(s);
    case Op::Pad:
      return pad_rule(s);
    case Op::Cat:
      return cat_rule(s);
    case Op::Unfold:
      return unfold_rule(s);
    case Op::Gather:
      return gather_rule(s);
    case Op::Matmul:
      return matmul_rule(s);
  }
  throw InternalError(std::string("gradients: no rule for ") + op_name(out->op));
}

// The nodes of `order` (a topo order) that depend on some node of `wrt`,
// wrt nodes included: the only ones whose gradient is worth building.
std::unordered_set<const Node *> depending_on(const std::vector<const Node *> &order,
                                              const std::vector<NodeRef> &wrt) {
  std::unordered_set<const Node *> found;
  for (const NodeRef &w : wrt) found.insert(w.get());
  for (const Node *n : order)
    for (const NodeRef &a : n->args)
      if (found.count(a.get())) {
        found.insert(n);
        break;
      }
  return found;
}

void check_seed(const NodeRef &root, const NodeRef &seed) {
  FUSEJIT_USER_CHECK(seed->dtype == root->dtype && seed->shape == root->shape, ShapeError,
                     "gradients: the seed ", type_str(seed->dtype, seed->shape),
                     " does not match the root ", type_str(root->dtype, root->shape));
}

}  // namespace

NodeRef sum_to_shape(const NodeRef &grad, const Shape &shape) {
  if (grad->shape == shape) return grad;
  const Shape &from = grad->shape;
  FUSEJIT_USER_CHECK(from.size() >= shape.size(), ShapeError,
                     "sum_to_shape: ", type_str(grad->dtype, from), " has fewer dims than ",
                     shape_str(shape));
  size_t lead = from.size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < from.size(); ++i) {
    bool summed = i < lead || (shape[i - lead] == 1 && from[i] != 1);
    FUSEJIT_USER_CHECK(summed || shape[i - lead] == from[i], ShapeError,
                       "sum_to_shape: ", shape_str(shape), " does not broadcast to ",
                       type_str(grad->dtype, from));
    if (summed) dims.push_back(static_cast<int64_t>(i));
  }
  // An empty dim list would mean "reduce everything" to ir::reduce.
  NodeRef summed = dims.empty() ? grad : ir::reduce(Op::Sum, grad, dims);
  return reshape_to(summed, shape);
}

std::vector<NodeRef> gradients(const NodeRef &root, const std::vector<NodeRef> &wrt, NodeRef seed) {
  FUSEJIT_USER_CHECK(root != nullptr, ValueError, "gradients: the root is a null node");
  for (const NodeRef &w : wrt)
    FUSEJIT_USER_CHECK(w != nullptr, ValueError, "gradients: a wrt node is null");
  if (seed)
    check_seed(root, seed);
  else
    seed = ir::full(1, root->dtype, root->shape);

  // Reverse topological order: a node's gradient is complete (every user
  // has contributed) before its own rule runs.
  std::vector<const Node *> order = topo_order({root});
  std::unordered_set<const Node *> relevant = depending_on(order, wrt);
  struct Entry {
    NodeRef node;
    NodeRef grad;
  };
  std::unordered_map<const Node *, Entry> grads;
  grads[root.get()] = {root, seed};
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto found = grads.find(*it);
    if (found == grads.end() || !relevant.count(*it)) continue;
    Entry entry = found->second;
    Contributions parts = rule(Step{entry.node, entry.grad});
    for (size_t i = 0; i < parts.size(); ++i) {
      const NodeRef &arg = entry.node->args[i];
      // Integer and bool values carry no gradient.
      if (!parts[i] || !relevant.count(arg.get()) || !is_floating(arg->dtype)) continue;
      auto [slot, fresh] = grads.try_emplace(arg.get(), Entry{arg, parts[i]});
      if (!fresh) slot->second.grad = add(slot->second.grad, parts[i]);
    }
  }

  std::vector<NodeRef> out;
  out.reserve(wrt.size());
  for (const NodeRef &w : wrt) {
    auto found = grads.find(w.get());
    out.push_back(found != grads.end() ? found->second.grad : ir::full(0, w->dtype, w->shape));
  }
  return out;
}

}  // namespace fusejit
