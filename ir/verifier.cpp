#include "ir/verifier.h"

#include <unordered_set>

#include "ir/error.h"
#include "ir/graph.h"

namespace fusejit {

namespace {

// "sum f32[2, 2] of (f32[2, 3, 2])": op, type, and the types of its args.
std::string describe(const Node &n) {
  std::string s = std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape);
  if (n.is(Op::Input) && !n.name.empty()) s += " '" + n.name + "'";
  if (n.args.empty()) return s;
  s += " of (";
  for (size_t i = 0; i < n.args.size(); ++i) {
    s += i ? ", " : "";
    s += n.args[i] ? type_str(n.args[i]->dtype, n.args[i]->shape) : "null";
  }
  return s + ")";
}

[[noreturn]] void broken(const Node &n, const std::string &what) {
  throw InternalError("verify: " + describe(n) + ": " + what);
}

// topo_order dereferences every arg, so nulls are found first, by a walk
// that does not.
void check_no_nulls(const std::vector<NodeRef> &roots) {
  std::unordered_set<const Node *> seen;
  std::vector<const Node *> stack;
  for (const NodeRef &r : roots) {
    if (!r) throw InternalError("verify: a root is null");
    if (seen.insert(r.get()).second) stack.push_back(r.get());
  }
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    for (const NodeRef &a : n->args) {
      if (!a) broken(*n, "an argument is null");
      if (seen.insert(a.get()).second) stack.push_back(a.get());
    }
  }
}

void check_leaf(const Node &n) {
  if (n.is(Op::Input)) {
    if (n.id == 0) broken(n, "input without an id");
    return;
  }
  if (n.is(Op::Iota)) {
    if (n.rank() != 1 || n.dtype != DType::I64) broken(n, "arange must be i64 of one dim");
    return;
  }
  if (!n.shape.empty()) broken(n, "a constant must be a scalar");
}

// The dtype rules of ir/graph.cpp's constructors, which insert casts so that
// every op but cast sees operands of one dtype.
void check_dtypes(const Node &n) {
  const auto &a = n.args;
  const DType result = a.empty()                 ? n.dtype
                       : ir::op_gives_bool(n.op) ? DType::Bool
                                                 : a.back()->dtype;
  switch (n.kind()) {
    case OpKind::Leaf:
      return;
    case OpKind::Unary:
      if (n.is(Op::Cast)) return;
      [[fallthrough]];
    case OpKind::Reduce:
    case OpKind::View:
      if (n.is(Op::Gather)) {  // the index is an integer tensor
        if (n.dtype != a[0]->dtype) broken(n, "result dtype must be the gathered tensor's");
        return;
      }
      for (const NodeRef &x : a)
        if (x->dtype != a[0]->dtype) broken(n, "arguments' dtypes differ");
      break;
    case OpKind::Binary:
    case OpKind::Matmul:
      if (a[0]->dtype != a[1]->dtype) broken(n, "operand dtypes must be equal");
      break;
    case OpKind::Ternary:
      if (a[0]->dtype != DType::Bool) broken(n, "where's condition must be bool");
      if (a[1]->dtype != a[2]->dtype) broken(n, "where's values must have equal dtypes");
      break;
  }
  if (n.dtype != result) broken(n, std::string("result dtype must be ") + dtype_name(result));
  bool logical = n.is(Op::LogicalAnd) || n.is(Op::LogicalOr) || n.is(Op::LogicalNot) ||
                 n.is(Op::Any) || n.is(Op::All);
  if (logical && a[0]->dtype != DType::Bool) broken(n, "a logical op's operands must be bool");
}

// Reduce: dims sorted, unique, in range. Permute: a permutation. Others: none.
void check_attributes(const Node &n) {
  if (!n.is(Op::Input) && (n.id != 0 || !n.name.empty()))
    broken(n, "only inputs have an id or name");
  if (n.kind() != OpKind::Reduce && n.keepdim) broken(n, "keepdim set on a non-reduction");
  int64_t rank = n.args.empty() ? 0 : static_cast<int64_t>(n.args[0]->rank());
  if (n.kind() == OpKind::Reduce) {
    for (size_t i = 0; i < n.dims.size(); ++i) {
      if (n.dims[i] < 0 || n.dims[i] >= rank)
        broken(n, "reduce dim " + std::to_string(n.dims[i]) + " out of range");
      if (i > 0 && n.dims[i] <= n.dims[i - 1])
        broken(n, "reduce dims " + shape_str(n.dims) + " not sorted and unique");
    }
  } else if (n.is(Op::Permute)) {
    std::vector<bool> hit(static_cast<size_t>(rank), false);
    bool ok = n.dims.size() == hit.size();
    for (int64_t d : n.dims) {
      ok = ok && d >= 0 && d < rank && !hit[d];
      if (ok) hit[d] = true;
    }
    if (!ok) broken(n, "dims " + shape_str(n.dims) + " are not a permutation");
  } else if (n.is(Op::Slice) || n.is(Op::Pad) || n.is(Op::Cat) || n.is(Op::Unfold) ||
             n.is(Op::Gather)) {
    // Their shape rules check the attributes (check_shape).
  } else if (!n.dims.empty()) {
    broken(n, "dims " + shape_str(n.dims) + " on an op that has none");
  }
}

void check_shape(const Node &n) {
  try {
    numel(n.shape);
    Shape want = ir::infer_shape(n);
    if (want != n.shape) broken(n, "shape should be " + shape_str(want));
  } catch (const ShapeError &e) {
    broken(n, std::string("shape rule fails: ") + e.what());
  }
}

}  // namespace

void verify(const std::vector<NodeRef> &roots) {
  check_no_nulls(roots);
  for (const Node *n : topo_order(roots)) {
    if (op_arity(n->op) == kVariadic ? n->args.empty() : n->args.size() != op_arity(n->op))
      broken(*n, op_arity(n->op) == kVariadic
                     ? std::string("expected at least one arg")
                     : "expected " + std::to_string(op_arity(n->op)) + " args");
    if (n->kind() == OpKind::Leaf) check_leaf(*n);
    check_attributes(*n);
    check_dtypes(*n);
    check_shape(*n);
  }
}

}  // namespace fusejit
