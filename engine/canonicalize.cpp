#include "engine/canonicalize.h"

#include <cmath>

#include "engine/pass_stats.h"
#include "engine/rewrite.h"
#include "ir/graph.h"
#include "runtime/reference_kernels.h"

namespace fusejit {

namespace {

bool is_const(const NodeRef &n, double v) { return n->is(Op::Const) && n->value == v; }

// A zero constant of the given sign (0.0 == -0.0, so the sign is asked apart).
bool is_zero(const NodeRef &n, bool negative) {
  return is_const(n, 0.0) && std::signbit(n->value) == negative;
}

// x + z == x and x - z == x for every x, signed zeros and NaN included:
// x + (-0) and x - (+0) are exact in IEEE arithmetic, but x + (+0) turns
// -0 into +0 and so does x - (-0). Fast numerics ignore the sign of zero.
bool add_identity(const NodeRef &z, Numerics numerics) {
  return numerics == Numerics::Fast ? is_const(z, 0.0) : is_zero(z, true);
}
bool sub_identity(const NodeRef &z, Numerics numerics) {
  return numerics == Numerics::Fast ? is_const(z, 0.0) : is_zero(z, false);
}

// The scalar constant behind a (possibly expanded) constant, or null.
const Node *scalar_const(const NodeRef &n) {
  if (n->is(Op::Const)) return n.get();
  if (n->is(Op::Expand) && n->args[0]->is(Op::Const)) return n->args[0].get();
  return nullptr;
}

// A permute that keeps the order of the dims of extent other than 1 moves
// only unit dims: it is a reshape (row-major order unchanged).
bool moves_only_unit_dims(const Node &permute) {
  const Shape &in = permute.args[0]->shape;
  int64_t last = -1;
  for (int64_t d : permute.dims) {
    if (in[d] == 1) continue;
    if (d < last) return false;
    last = d;
  }
  return true;
}

bool is_identity_perm(const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Whether a view whose result has its arg's shape is its arg: a reshape or
// expand to the same shape is; a permute need not be.
bool keeps_shape_is_identity(Op view) {
  switch (view) {
    case Op::Reshape:
    case Op::Expand:
    case Op::Pad:  // padded by nothing
    case Op::Cat:  // the other args are empty
      return true;
    case Op::Permute:
    case Op::Slice:  // a flip keeps the shape
    case Op::Unfold:
    case Op::Gather:
      return false;
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  return false;
}

// One rewrite of a node whose args are already canonical. x * 1, x / 1,
// neg(neg(x)) and stop_gradient(x) are exact for every x, so they hold in
// both numerics.
NodeRef rewrite(const Node &n, std::vector<NodeRef> args, Numerics numerics) {
  switch (n.kind()) {
    case OpKind::Unary:
      if (const Node *c = scalar_const(args[0]))
        return ir::full(apply_unary(n.op, c->value, args[0]->dtype, n.dtype), n.dtype, n.shape);
      if (n.is(Op::Neg) && args[0]->is(Op::Neg)) return args[0]->args[0];
      // Gradients are taken before these passes: what is left is the value.
      if (n.is(Op::StopGradient)) return args[0];
      break;
    case OpKind::Binary: {
      const Node *ca = scalar_const(args[0]), *cb = scalar_const(args[1]);
      // An integer division by a zero constant is left to fail when it runs.
      if (ca && cb && !divides_by_zero(n.op, args[0]->dtype, cb->value))
        return ir::full(apply_binary(n.op, ca->value, cb->value, args[0]->dtype), n.dtype, n.shape);
      const NodeRef &a = args[0], &b = args[1];
      // x op identity -> x, only when x already has the result's shape.
      bool b_keeps = a->shape == n.shape;
      if (b_keeps && n.is(Op::Add) && add_identity(b, numerics)) return a;
      if (b_keeps && n.is(Op::Sub) && sub_identity(b, numerics)) return a;
      if (b_keeps && ((n.is(Op::Mul) || n.is(Op::Div)) && is_const(b, 1.0))) return a;
      if (b->shape == n.shape && n.is(Op::Add) && add_identity(a, numerics)) return b;
      if (b->shape == n.shape && n.is(Op::Mul) && is_const(a, 1.0)) return b;
      break;
    }
    case OpKind::View: {
      const NodeRef &x = args[0];
      if (x->shape == n.shape && keeps_shape_is_identity(n.op)) return x;
      if (n.is(Op::Reshape) && x->is(Op::Reshape) && x->args[0]->shape == n.shape)
        return x->args[0];
      if (n.is(Op::Permute) && is_identity_perm(n.dims)) return x;
      if (n.is(Op::Permute) && moves_only_unit_dims(n))
        return x->is(Op::Reshape) ? ir::reshape(x->args[0], n.shape) : ir::reshape(x, n.shape);
      if (n.is(Op::Reshape) && x->is(Op::Reshape)) return ir::reshape(x->args[0], n.shape);
      if (n.is(Op::Permute) && x->is(Op::Permute)) {
        std::vector<int64_t> perm(n.dims.size());
        for (size_t i = 0; i < perm.size(); ++i) perm[i] = x->dims[n.dims[i]];
        return is_identity_perm(perm) ? x->args[0] : ir::permute(x->args[0], perm);
      }
      if (n.is(Op::Expand) && x->is(Op::Expand)) return ir::expand(x->args[0], n.shape);
      break;
    }
    case OpKind::Leaf:
    case OpKind::Ternary:
    case OpKind::Reduce:
    case OpKind::Matmul:
      break;
  }
  return ir::with_args(n, std::move(args));
}

}  // namespace

std::vector<NodeRef> canonicalize(const std::vector<NodeRef> &roots, Numerics numerics) {
  count_pass_run(Pass::Canonicalize);
  return rewrite_graph(roots, [numerics](const Node &n, std::vector<NodeRef> args) {
    return rewrite(n, std::move(args), numerics);
  });
}

}  // namespace fusejit
