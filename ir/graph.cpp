#include "ir/graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ir/error.h"

namespace fusejit {

namespace {

// A node's attached value is guarded by one of a few striped mutexes rather
// than std::atomic<shared_ptr>: libstdc++ 12 implements that with a lock bit
// ThreadSanitizer cannot see, and a mutex per node would grow every node.
std::mutex &attach_mutex(const Node *n) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<uintptr_t>(n) >> 6) % 64];
}

}  // namespace

std::shared_ptr<const NodeValue> Node::attached() const {
  std::lock_guard<std::mutex> lock(attach_mutex(this));
  return attached_;
}

void Node::attach(std::shared_ptr<const NodeValue> v) const {
  std::shared_ptr<const NodeValue> old;  // released outside the lock
  std::lock_guard<std::mutex> lock(attach_mutex(this));
  old = std::exchange(attached_, std::move(v));
}

namespace {

struct OpInfo {
  const char *name;
  OpKind kind;
  size_t arity;
  const char *infix;
};

constexpr OpInfo kOpInfo[] = {
#define FUSEJIT_OP_INFO(name, spelling, kind, arity, infix) {spelling, OpKind::kind, arity, infix},
    FUSEJIT_OPS(FUSEJIT_OP_INFO)
#undef FUSEJIT_OP_INFO
};

// Each row sits in the list of its kind, where the switches look for it.
#define FUSEJIT_OP_KIND(name, spelling, kind, ...) OpKind::kind,
constexpr bool all_of_kind(OpKind want, std::initializer_list<OpKind> kinds) {
  for (OpKind k : kinds)
    if (k != want) return false;
  return true;
}
static_assert(all_of_kind(OpKind::Leaf, {FUSEJIT_LEAF_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::Unary, {FUSEJIT_UNARY_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::Binary, {FUSEJIT_BINARY_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::Ternary, {FUSEJIT_TERNARY_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::Reduce, {FUSEJIT_REDUCE_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::View, {FUSEJIT_VIEW_OPS(FUSEJIT_OP_KIND)}));
static_assert(all_of_kind(OpKind::Matmul, {FUSEJIT_MATMUL_OPS(FUSEJIT_OP_KIND)}));
#undef FUSEJIT_OP_KIND

size_t hash_combine(size_t seed, size_t v) {
  return seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

size_t structural_hash(const Node &n) {
  size_t h = std::hash<int>()(static_cast<int>(n.op));
  h = hash_combine(h, static_cast<size_t>(n.dtype));
  for (int64_t d : n.shape) h = hash_combine(h, std::hash<int64_t>()(d));
  for (const NodeRef &a : n.args) h = hash_combine(h, a->hash);
  for (int64_t d : n.dims) h = hash_combine(h, std::hash<int64_t>()(d) * 31);
  h = hash_combine(h, n.keepdim);
  uint64_t bits;
  std::memcpy(&bits, &n.value, sizeof bits);
  h = hash_combine(h, std::hash<uint64_t>()(bits));
  h = hash_combine(h, std::hash<std::string>()(n.name));
  return hash_combine(h, std::hash<uint64_t>()(n.id));
}

bool same_node(const Node &a, const Node &b) {
  if (a.op != b.op || a.dtype != b.dtype || a.shape != b.shape || a.dims != b.dims ||
      a.keepdim != b.keepdim || a.name != b.name || a.id != b.id || a.args.size() != b.args.size())
    return false;
  // Bitwise, so that 0.0 and -0.0 stay distinct and NaN equals itself.
  // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): the bits are what is compared.
  if (std::memcmp(&a.value, &b.value, sizeof a.value) != 0) return false;
  for (size_t i = 0; i < a.args.size(); ++i)
    if (a.args[i] != b.args[i]) return false;
  return true;
}

// The hash-consing table: every live node (but inputs) by structural hash.
// Entries are weak so the table never keeps a node alive; a node's deleter
// removes its entry.
class NodeTable {
 public:
  NodeRef intern(std::unique_ptr<Node> fresh) {
    fresh->hash = structural_hash(*fresh);
    std::lock_guard<std::mutex> lock(mu_);
    auto [lo, hi] = table_.equal_range(fresh->hash);
    for (auto it = lo; it != hi; ++it)
      if (NodeRef live = it->second.ref.lock(); live && same_node(*live, *fresh)) return live;
    Node *raw = fresh.release();
    NodeRef ref(raw, [this](Node *p) { release(p); });
    table_.emplace(raw->hash, Entry{raw, ref});
    return ref;
  }

  NodeRef own_uninterned(std::unique_ptr<Node> fresh) {
    fresh->hash = structural_hash(*fresh);
    return NodeRef(fresh.release(), [this](Node *p) { release(p); });
  }

 private:
  struct Entry {
    const Node *raw;
    std::weak_ptr<const Node> ref;
  };

  void release(Node *p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [lo, hi] = table_.equal_range(p->hash);
      for (auto it = lo; it != hi; ++it)
        if (it->second.raw == p) {
          table_.erase(it);
          break;
        }
    }
    // Free the args iteratively: a chain of a million nodes must not recurse
    // a million frames deep when its last user lets go.
    thread_local std::vector<NodeRef> pending;
    thread_local bool draining = false;
    for (NodeRef &a : p->args) pending.push_back(std::move(a));
    delete p;
    if (draining) return;
    draining = true;
    while (!pending.empty()) {
      NodeRef next = std::move(pending.back());
      pending.pop_back();
      next.reset();
    }
    draining = false;
  }

  std::mutex mu_;
  std::unordered_multimap<size_t, Entry> table_;
};

NodeTable &node_table() {
  // Never destroyed: nodes held by static objects may die after main().
  static NodeTable *table = new NodeTable;
  return *table;
}

std::unique_ptr<Node> blank(Op op, DType dtype, Shape shape, std::vector<NodeRef> args = {}) {
  auto n = std::make_unique<Node>();
  n->op = op;
  n->dtype = dtype;
  n->shape = std::move(shape);
  n->args = std::move(args);
  return n;
}

std::string describe(const NodeRef &n) { return type_str(n->dtype, n->shape); }

void check_same_dtype(const char *what, const NodeRef &a, const NodeRef &b) {
  FUSEJIT_USER_CHECK(a->dtype == b->dtype, ShapeError, what, ": dtypes differ: ", describe(a),
                     " and ", describe(b));
}

// ---- shape rules, shared by the constructors and the verifier ----

Shape reduce_shape(const Shape &in, const std::vector<int64_t> &dims, bool keepdim) {
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    bool reduced = std::binary_search(dims.begin(), dims.end(), static_cast<int64_t>(i));
    if (!reduced)
      out.push_back(in[i]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

Shape permute_shape(const Shape &in, const std::vector<int64_t> &perm) {
  Shape out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = in[perm[i]];
  return out;
}

Shape expand_shape(const NodeRef &x, const Shape &target) {
  const Shape &in = x->shape;
  FUSEJIT_USER_CHECK(target.size() >= in.size(), ShapeError, "expand: cannot expand ", describe(x),
                     " to ", shape_str(target), " (fewer dims)");
  Shape out(target.size());
  size_t lead = target.size() - in.size();
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (i < lead) {
      FUSEJIT_USER_CHECK(t >= 0, ShapeError, "expand: extent ", t, " is not allowed for new dim ",
                         i, " of ", shape_str(target));
      out[i] = t;
      continue;
    }
    int64_t s = in[i - lead];
    if (t == -1) t = s;
    FUSEJIT_USER_CHECK(t == s || s == 1, ShapeError, "expand: cannot expand ", describe(x), " to ",
                       shape_str(target), " (dim ", i, ": ", s, " to ", t, ")");
    FUSEJIT_USER_CHECK(t >= 0, ShapeError, "expand: negative extent ", t, " in ",
                       shape_str(target));
    out[i] = t;
  }
  numel(out);
  return out;
}

Shape matmul_shape(const NodeRef &a, const NodeRef &b) {
  FUSEJIT_USER_CHECK(a->rank() >= 2 && b->rank() >= 2, ShapeError,
                     "matmul: operands need at least 2 dims: ", describe(a), " @ ", describe(b));
  const Shape &sa = a->shape, &sb = b->shape;
  FUSEJIT_USER_CHECK(sa.back() == sb[sb.size() - 2], ShapeError,
                     "matmul: inner dims differ: ", describe(a), " @ ", describe(b));
  Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  Shape out;
  try {
    out = shape_broadcast(batch_a, batch_b, "matmul");
  } catch (const ShapeError &) {
    throw ShapeError("matmul: batch dims do not broadcast: " + describe(a) + " @ " + describe(b));
  }
  out.push_back(sa[sa.size() - 2]);
  out.push_back(sb.back());
  // Operands with an empty inner dim may still make a result too large to
  // count: [2, 0] @ [0, 2^63 - 1].
  try {
    numel(out);
  } catch (const ShapeError &) {
    throw ShapeError("matmul: the result " + shape_str(out) + " of " + describe(a) + " @ " +
                     describe(b) + " has more elements than fit in int64");
  }
  return out;
}

// ---- the shape rules of slice, pad, cat and unfold ----

std::string ints_str(const std::vector<int64_t> &v) { return shape_str(v); }

Shape slice_shape(const NodeRef &x, const std::vector<int64_t> &dims, const Shape &extent) {
  FUSEJIT_USER_CHECK(dims.size() == 2 * x->rank() && extent.size() == x->rank(), ShapeError,
                     "slice: ", ints_str(dims), " and extents ", shape_str(extent),
                     " do not slice the ", x->rank(), " dims of ", describe(x));
  for (size_t d = 0; d < extent.size(); ++d) {
    int64_t start = dims[2 * d], step = dims[2 * d + 1], e = extent[d], n = x->shape[d];
    FUSEJIT_USER_CHECK(step != 0, ValueError, "slice: step 0 in dim ", d, " of ", describe(x));
    FUSEJIT_USER_CHECK(e >= 0, ShapeError, "slice: negative extent ", e, " in dim ", d, " of ",
                       describe(x));
    if (e == 0) continue;
    // In range at both ends, computed so that no product overflows.
    bool ok = start >= 0 && start < n &&
              (step > 0 ? (n - 1 - start) / step >= e - 1 : start / -step >= e - 1);
    FUSEJIT_USER_CHECK(ok, ShapeError, "slice: dim ", d, " of ", describe(x), " read from ", start,
                       " by ", step, " for ", e, " elements leaves the extent ", n);
  }
  return extent;
}

Shape pad_shape(const NodeRef &x, const std::vector<int64_t> &dims) {
  FUSEJIT_USER_CHECK(dims.size() == 2 * x->rank(), ShapeError, "pad: widths ", ints_str(dims),
                     " do not pad the ", x->rank(), " dims of ", describe(x));
  Shape out = x->shape;
  for (size_t d = 0; d < out.size(); ++d) {
    int64_t before = dims[2 * d], after = dims[2 * d + 1];
    FUSEJIT_USER_CHECK(before >= 0 && after >= 0, ShapeError, "pad: negative width in ",
                       ints_str(dims));
    FUSEJIT_USER_CHECK(before <= INT64_MAX - out[d] && after <= INT64_MAX - out[d] - before,
                       ShapeError, "pad: dim ", d, " of ", describe(x), " padded by ", before,
                       " and ", after, " has more elements than fit in int64");
    out[d] += before + after;
  }
  numel(out);
  return out;
}

Shape cat_shape(const std::vector<NodeRef> &xs, const std::vector<int64_t> &dims) {
  FUSEJIT_USER_CHECK(!xs.empty(), ValueError, "cat: an empty list of tensors");
  FUSEJIT_USER_CHECK(dims.size() == 1, ShapeError, "cat: one dim expected, got ", ints_str(dims));
  const NodeRef &first = xs[0];
  FUSEJIT_USER_CHECK(first->rank() > 0, ShapeError, "cat: cannot join zero-dim tensors (",
                     describe(first), ")");
  int64_t d = normalize_dim(dims[0], first->rank(), "cat of " + describe(first));
  Shape out = first->shape;
  out[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const NodeRef &x = xs[i];
    check_same_dtype("cat", first, x);
    bool fits = x->rank() == first->rank();
    for (size_t j = 0; fits && j < out.size(); ++j)
      fits = static_cast<int64_t>(j) == d || x->shape[j] == first->shape[j];
    FUSEJIT_USER_CHECK(fits, ShapeError, "cat: tensor ", i, " (", describe(x),
                       ") does not match tensor 0 (", describe(first), ") but along dim ", d);
    FUSEJIT_USER_CHECK(out[d] <= INT64_MAX - x->shape[d], ShapeError,
                       "cat: the joined dim has more elements than fit in int64");
    out[d] += x->shape[d];
  }
  numel(out);
  return out;
}

Shape unfold_shape(const NodeRef &x, const std::vector<int64_t> &dims) {
  FUSEJIT_INTERNAL_CHECK(dims.size() == 3, "unfold: attributes ", ints_str(dims));
  FUSEJIT_USER_CHECK(x->rank() > 0, ShapeError, "unfold: a zero-dim tensor (", describe(x),
                     ") has no dim to unfold");
  int64_t d = normalize_dim(dims[0], x->rank(), "unfold of " + describe(x));
  int64_t size = dims[1], step = dims[2], n = x->shape[d];
  FUSEJIT_USER_CHECK(step > 0, ValueError, "unfold: step ", step, " must be positive");
  FUSEJIT_USER_CHECK(size >= 0 && size <= n, ShapeError, "unfold: window size ", size,
                     " does not fit dim ", d, " of ", describe(x), " (extent ", n, ")");
  Shape out = x->shape;
  out[d] = (n - size) / step + 1;
  out.push_back(size);
  numel(out);
  return out;
}

Shape gather_shape(const NodeRef &x, const std::vector<int64_t> &dims, const NodeRef &index) {
  FUSEJIT_INTERNAL_CHECK(dims.size() == 1, "gather: attributes ", ints_str(dims));
  FUSEJIT_USER_CHECK(index->dtype == DType::I64 || index->dtype == DType::I32, ShapeError,
                     "gather: the index must be i64 or i32, not ", describe(index));
  FUSEJIT_USER_CHECK(index->rank() == x->rank(), ShapeError, "gather: the index (", describe(index),
                     ") and the tensor (", describe(x), ") must have the same number of dims");
  FUSEJIT_USER_CHECK(x->rank() > 0, ShapeError, "gather: a zero-dim tensor (", describe(x),
                     ") has no dim to gather along");
  int64_t d = normalize_dim(dims[0], x->rank(), "gather of " + describe(x));
  for (size_t j = 0; j < x->rank(); ++j)
    FUSEJIT_USER_CHECK(static_cast<int64_t>(j) == d || index->shape[j] <= x->shape[j], ShapeError,
                       "gather: the index (", describe(index), ") is larger than ", describe(x),
                       " in dim ", j, ", which is not the gathered dim ", d);
  FUSEJIT_USER_CHECK(x->shape[d] > 0 || index->numel() == 0, IndexError, "gather: dim ", d, " of ",
                     describe(x), " is empty, so no index is in bounds");
  return index->shape;
}

}  // namespace

const char *op_name(Op op) { return kOpInfo[static_cast<int>(op)].name; }
OpKind op_kind(Op op) { return kOpInfo[static_cast<int>(op)].kind; }
size_t op_arity(Op op) { return kOpInfo[static_cast<int>(op)].arity; }
const char *op_infix(Op op) { return kOpInfo[static_cast<int>(op)].infix; }
bool has_call_form(Op op) {
  // An arange is the one leaf written as a call.
  return (op_kind(op) != OpKind::Leaf || op == Op::Iota) &&
         std::strcmp(op_name(op), op_infix(op)) != 0;
}

namespace {

// Iterative post-order DFS (deep graphs must not overflow the stack); args of
// nodes for which `stop` holds are not visited.
template <typename Stop>
std::vector<const Node *> post_order(const std::vector<NodeRef> &roots, Stop stop) {
  std::vector<const Node *> order;
  std::unordered_set<const Node *> seen;
  std::vector<std::pair<const Node *, size_t>> stack;
  for (const NodeRef &root : roots) {
    if (!root || !seen.insert(root.get()).second) continue;
    stack.emplace_back(root.get(), 0);
    while (!stack.empty()) {
      auto &[node, next] = stack.back();
      if (next < node->args.size() && !stop(*node)) {
        const Node *arg = node->args[next++].get();
        if (seen.insert(arg).second) stack.emplace_back(arg, 0);
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  }
  return order;
}

}  // namespace

std::vector<const Node *> topo_order(const std::vector<NodeRef> &roots) {
  return post_order(roots, [](const Node &) { return false; });
}

std::vector<const Node *> topo_order_to_values(const std::vector<NodeRef> &roots) {
  return post_order(roots, [](const Node &n) { return is_value_leaf(n); });
}

namespace ir {

NodeRef input(DType dtype, Shape shape, std::string name) {
  static std::atomic<uint64_t> next_id{1};
  numel(shape);
  auto n = blank(Op::Input, dtype, std::move(shape));
  n->name = std::move(name);
  n->id = next_id.fetch_add(1);
  return node_table().own_uninterned(std::move(n));
}

NodeRef constant(double value, DType dtype) {
  auto n = blank(Op::Const, dtype, {});
  // Stored as its dtype holds it, so f32 constants print and fold as f32 and
  // integer ones are integers.
  n->value = convert_value(dtype, value);
  return node_table().intern(std::move(n));
}

NodeRef iota(int64_t n) {
  FUSEJIT_USER_CHECK(n >= 0, ValueError, "arange: ", n,
                     " elements (the count must not be negative)");
  return node_table().intern(blank(Op::Iota, DType::I64, {n}));
}

NodeRef arange(int64_t start, int64_t end, int64_t step) {
  FUSEJIT_USER_CHECK(step != 0, ValueError, "arange: step must be nonzero");
  int64_t n = step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step;
  NodeRef i = iota(std::max<int64_t>(n, 0));
  if (step != 1) i = binary(Op::Mul, i, constant(static_cast<double>(step), DType::I64));
  if (start != 0) i = binary(Op::Add, i, constant(static_cast<double>(start), DType::I64));
  return i;
}

NodeRef full(double value, DType dtype, const Shape &shape) {
  NodeRef c = constant(value, dtype);
  return shape.empty() ? c : expand(c, shape);
}

DType promote_types(DType a, DType b) {
  // Category first (bool < integer < float), then the wider; u8 and bool
  // take a signed integer's dtype, as torch.promote_types.
  auto rank = [](DType t) {
    switch (t) {
      case DType::Bool:
        return 0;
      case DType::U8:
        return 1;
      case DType::I32:
        return 2;
      case DType::I64:
        return 3;
      case DType::F32:
        return 4;
      case DType::F64:
        return 5;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

bool op_gives_bool(Op op) {
  switch (op) {
    case Op::Lt:
    case Op::Gt:
    case Op::Eq:
    case Op::Le:
    case Op::Ge:
    case Op::Ne:
    case Op::LogicalAnd:
    case Op::LogicalOr:
    case Op::LogicalNot:
    case Op::Any:
    case Op::All:
      return true;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::FloorDiv:
    case Op::Mod:
    case Op::Maximum:
    case Op::Minimum:
    case Op::Pow:
    case Op::Sum:
    case Op::Max:
    case Op::Mean:
    case Op::Min:
    case Op::Prod:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
    case Op::Neg:
    case Op::Exp:
    case Op::Log:
    case Op::Relu:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::Sqrt:
    case Op::Abs:
    case Op::Inv:
    case Op::Floor:
    case Op::Ceil:
    case Op::Round:
    case Op::StopGradient:
      return false;
  }
  return false;
}

NodeRef cast(NodeRef x, DType dtype) {
  if (x->dtype == dtype) return x;
  Shape s = x->shape;
  return node_table().intern(blank(Op::Cast, dtype, std::move(s), {std::move(x)}));
}

namespace {

// The dtype errors of torch's ops, named with the operand.
void reject_dtype(bool bad, Op op, const NodeRef &x, const char *instead) {
  FUSEJIT_USER_CHECK(!bad, ShapeError, op_name(op), ": not defined for ", describe(x), instead);
}

}  // namespace

NodeRef unary(Op op, NodeRef x) {
  FUSEJIT_INTERNAL_CHECK(op_kind(op) == OpKind::Unary && op != Op::Cast, op_name(op),
                         " is not unary (cast is built by ir::cast)");
  const bool boolean = x->dtype == DType::Bool;
  switch (op) {
    case Op::Exp:
    case Op::Log:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::Sqrt:
    case Op::Inv:
      // Integer and bool operands compute in the default float dtype, as torch.exp(int).
      if (!is_floating(x->dtype)) x = cast(x, DType::F32);
      break;
    case Op::Neg:
      reject_dtype(boolean, op, x, " (logical_not negates a bool)");
      break;
    case Op::Abs:
    case Op::Relu:
      reject_dtype(boolean, op, x, "");
      break;
    case Op::Floor:
    case Op::Ceil:
    case Op::Round:
      reject_dtype(boolean, op, x, "");
      if (!is_floating(x->dtype)) return x;  // integers are whole already
      break;
    case Op::LogicalNot:
      x = cast(x, DType::Bool);
      break;
    case Op::StopGradient:
      // Without a gradient to stop, the value itself.
      if (!is_floating(x->dtype) || x->is(Op::StopGradient)) return x;
      break;
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  Shape s = x->shape;
  DType t = x->dtype;  // read before the call: argument evaluation order is unspecified
  return node_table().intern(blank(op, t, std::move(s), {std::move(x)}));
}

NodeRef binary(Op op, NodeRef a, NodeRef b) {
  FUSEJIT_INTERNAL_CHECK(op_kind(op) == OpKind::Binary, op_name(op), " is not binary");
  Shape s = shape_broadcast(a->shape, b->shape, std::string(op_name(op)));
  DType t = promote_types(a->dtype, b->dtype);
  switch (op) {
    case Op::LogicalAnd:
    case Op::LogicalOr:
      t = DType::Bool;
      break;
    case Op::Div:
    case Op::Pow:
      // True division, as torch: integers divide (and raise) in the default float dtype.
      if (!is_floating(t)) t = DType::F32;
      break;
    case Op::Sub:
      reject_dtype(t == DType::Bool, op, a, " and bool (logical_xor or an integer cast)");
      break;
    case Op::FloorDiv:
    case Op::Mod:
      reject_dtype(t == DType::Bool, op, a, " and bool");
      break;
    case Op::Add:
    case Op::Mul:
    case Op::Lt:
    case Op::Gt:
    case Op::Eq:
    case Op::Le:
    case Op::Ge:
    case Op::Ne:
    case Op::Maximum:
    case Op::Minimum:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  a = cast(std::move(a), t);
  b = cast(std::move(b), t);
  DType result = op_gives_bool(op) ? DType::Bool : t;
  return node_table().intern(blank(op, result, std::move(s), {std::move(a), std::move(b)}));
}

NodeRef where(NodeRef c, NodeRef x, NodeRef y) {
  Shape s = shape_broadcast(shape_broadcast(c->shape, x->shape, "where"), y->shape, "where");
  // A condition of another dtype selects x where it is nonzero (NaN included).
  c = cast(std::move(c), DType::Bool);
  DType t = promote_types(x->dtype, y->dtype);
  x = cast(std::move(x), t);
  y = cast(std::move(y), t);
  return node_table().intern(
      blank(Op::Where, t, std::move(s), {std::move(c), std::move(x), std::move(y)}));
}

NodeRef reduce(Op op, NodeRef x, std::vector<int64_t> dims, bool keepdim) {
  FUSEJIT_INTERNAL_CHECK(op_kind(op) == OpKind::Reduce, op_name(op), " is not a reduction");
  if (dims.empty())
    for (size_t i = 0; i < x->rank(); ++i) dims.push_back(static_cast<int64_t>(i));
  dims = normalize_dims(dims, x->rank(), std::string(op_name(op)) + " of " + describe(x));
  switch (op) {
    case Op::Sum:
    case Op::Prod:
      // Sums and products of integers or bools are i64, as torch's.
      if (!is_floating(x->dtype)) x = cast(x, DType::I64);
      break;
    case Op::Mean:
      reject_dtype(!is_floating(x->dtype), op, x, " (cast to a float dtype first)");
      break;
    case Op::Any:
    case Op::All:
      x = cast(x, DType::Bool);
      break;
    case Op::Max:
    case Op::Min:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  Shape s = reduce_shape(x->shape, dims, keepdim);
  DType t = x->dtype;
  auto n = blank(op, t, std::move(s), {std::move(x)});
  n->dims = std::move(dims);
  n->keepdim = keepdim;
  return node_table().intern(std::move(n));
}

NodeRef reshape(NodeRef x, Shape shape) {
  int64_t known = 1;
  bool known_overflows = false;  // then no -1 can make the counts match
  int inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      FUSEJIT_USER_CHECK(inferred < 0, ShapeError, "reshape: more than one -1 in ",
                         shape_str(shape));
      inferred = static_cast<int>(i);
    } else {
      FUSEJIT_USER_CHECK(shape[i] >= 0, ShapeError, "reshape: negative extent ", shape[i], " in ",
                         shape_str(shape));
      if (shape[i] == 0)
        known = 0;
      else if (known > INT64_MAX / shape[i])
        known_overflows = true;
      else
        known *= shape[i];
    }
  }
  int64_t n = x->numel();
  if (inferred >= 0) {
    FUSEJIT_USER_CHECK(!known_overflows && known != 0 && n % known == 0, ShapeError,
                       "reshape: cannot reshape ", describe(x), " to ", shape_str(shape));
    shape[inferred] = n / known;
  }
  FUSEJIT_USER_CHECK(numel(shape) == n, ShapeError, "reshape: cannot reshape ", describe(x), " (",
                     n, " elements) to ", shape_str(shape), " (", numel(shape), " elements)");
  DType t = x->dtype;
  return node_table().intern(blank(Op::Reshape, t, std::move(shape), {std::move(x)}));
}

NodeRef permute(NodeRef x, std::vector<int64_t> perm) {
  FUSEJIT_USER_CHECK(perm.size() == x->rank(), ShapeError, "permute: ", shape_str(perm),
                     " does not permute the ", x->rank(), " dims of ", describe(x));
  std::vector<int64_t> sorted;
  for (int64_t &p : perm) {
    p = normalize_dim(p, x->rank(), "permute of " + describe(x));
    sorted.push_back(p);
  }
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    FUSEJIT_USER_CHECK(sorted[i] == static_cast<int64_t>(i), ShapeError,
                       "permute: ", shape_str(perm), " is not a permutation of the dims of ",
                       describe(x));
  Shape s = permute_shape(x->shape, perm);
  DType t = x->dtype;
  auto n = blank(Op::Permute, t, std::move(s), {std::move(x)});
  n->dims = std::move(perm);
  return node_table().intern(std::move(n));
}

NodeRef transpose(NodeRef x) {
  if (x->rank() < 2) return x;
  std::vector<int64_t> perm(x->rank());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return permute(std::move(x), std::move(perm));
}

// Shape by value, as reshape's, for the parser's table of view builders.
NodeRef expand(NodeRef x, Shape shape) {  // NOLINT(performance-unnecessary-value-param)
  Shape s = expand_shape(x, shape);
  DType t = x->dtype;
  return node_table().intern(blank(Op::Expand, t, std::move(s), {std::move(x)}));
}

NodeRef slice(NodeRef x, std::vector<int64_t> start, std::vector<int64_t> step, Shape extent) {
  FUSEJIT_USER_CHECK(
      start.size() == x->rank() && step.size() == x->rank() && extent.size() == x->rank(),
      ShapeError, "slice: starts ", ints_str(start), ", steps ", ints_str(step), " and extents ",
      shape_str(extent), " do not slice the ", x->rank(), " dims of ", describe(x));
  std::vector<int64_t> dims;
  bool identity = true;
  for (size_t d = 0; d < extent.size(); ++d) {
    // One spelling per view: an empty or single-element dim reads from its start by 1.
    if (extent[d] == 0) start[d] = 0;
    if (extent[d] <= 1 && step[d] != 0) step[d] = 1;
    dims.push_back(start[d]);
    dims.push_back(step[d]);
    identity = identity && start[d] == 0 && step[d] == 1 && extent[d] == x->shape[d];
  }
  Shape s = slice_shape(x, dims, extent);
  if (identity) return x;
  DType t = x->dtype;
  auto n = blank(Op::Slice, t, std::move(s), {std::move(x)});
  n->dims = std::move(dims);
  return node_table().intern(std::move(n));
}

namespace {

// Python's slice.indices(n): the first index read and the count.
std::pair<int64_t, int64_t> slice_range(int64_t n, std::optional<int64_t> start,
                                        std::optional<int64_t> stop, int64_t step) {
  auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
  auto wrap = [n](int64_t v) { return v < 0 ? v + n : v; };
  if (step > 0) {
    int64_t b = start ? clamp(wrap(*start), 0, n) : 0;
    int64_t e = stop ? clamp(wrap(*stop), 0, n) : n;
    return {b, e > b ? (e - b - 1) / step + 1 : 0};
  }
  int64_t b = start ? clamp(wrap(*start), -1, n - 1) : n - 1;
  int64_t e = stop ? clamp(wrap(*stop), -1, n - 1) : -1;
  return {b, b > e ? (b - e - 1) / -step + 1 : 0};
}

}  // namespace

NodeRef slice_dim(NodeRef x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
                  int64_t step) {
  int64_t d = normalize_dim(dim, x->rank(), "slice of " + describe(x));
  FUSEJIT_USER_CHECK(step != 0, ValueError, "slice: step 0 in dim ", d, " of ", describe(x));
  std::vector<int64_t> starts(x->rank(), 0), steps(x->rank(), 1);
  Shape extent = x->shape;
  auto [b, count] = slice_range(x->shape[d], start, stop, step);
  starts[d] = b, steps[d] = step, extent[d] = count;
  return slice(std::move(x), starts, steps, extent);
}

NodeRef index(NodeRef x, const std::vector<IndexItem> &items) {
  size_t used = 0;
  for (const IndexItem &it : items) used += it.kind != IndexItem::NewDim;
  FUSEJIT_USER_CHECK(used <= x->rank(), ShapeError, "index: ", used, " indices for the ", x->rank(),
                     " dims of ", describe(x));
  std::vector<int64_t> starts(x->rank(), 0), steps(x->rank(), 1);
  Shape extent = x->shape, out;
  size_t d = 0;
  for (const IndexItem &it : items) {
    if (it.kind == IndexItem::NewDim) {
      out.push_back(1);
      continue;
    }
    int64_t n = x->shape[d];
    if (it.kind == IndexItem::Integer) {
      int64_t i = it.index < 0 ? it.index + n : it.index;
      FUSEJIT_USER_CHECK(i >= 0 && i < n, ValueError, "index: index ", it.index,
                         " is out of range for dim ", d, " of ", describe(x), " (extent ", n, ")");
      starts[d] = i, extent[d] = 1;
    } else {
      FUSEJIT_USER_CHECK(it.step != 0, ValueError, "index: slice step 0 in dim ", d, " of ",
                         describe(x));
      auto [b, count] = slice_range(n, it.start, it.stop, it.step);
      starts[d] = b, steps[d] = it.step, extent[d] = count;
      out.push_back(count);
    }
    ++d;
  }
  for (; d < x->rank(); ++d) out.push_back(x->shape[d]);
  NodeRef s = slice(std::move(x), starts, steps, extent);
  return s->shape == out ? s : reshape(s, out);
}

NodeRef flip(NodeRef x, const std::vector<int64_t> &dims) {
  std::vector<int64_t> ds = normalize_dims(dims, x->rank(), "flip of " + describe(x));
  std::vector<int64_t> starts(x->rank(), 0), steps(x->rank(), 1);
  for (int64_t d : ds) starts[d] = x->shape[d] - 1, steps[d] = -1;
  Shape extent = x->shape;
  return slice(std::move(x), starts, steps, extent);
}

NodeRef pad(NodeRef x, const std::vector<std::pair<int64_t, int64_t>> &widths, double value) {
  FUSEJIT_USER_CHECK(widths.size() == x->rank(), ShapeError, "pad: ", widths.size(),
                     " (before, after) pairs for the ", x->rank(), " dims of ", describe(x));
  // Negative widths crop first: a slice.
  std::vector<int64_t> starts(x->rank(), 0), steps(x->rank(), 1), dims;
  Shape extent = x->shape;
  bool pads = false;
  for (size_t d = 0; d < widths.size(); ++d) {
    auto [before, after] = widths[d];
    int64_t cut_before = before < 0 ? -before : 0, cut_after = after < 0 ? -after : 0;
    FUSEJIT_USER_CHECK(cut_before <= x->shape[d] && cut_after <= x->shape[d] - cut_before,
                       ShapeError, "pad: widths (", before, ", ", after, ") crop more than dim ", d,
                       " of ", describe(x), " holds");
    starts[d] = cut_before;
    extent[d] -= cut_before + cut_after;
    dims.push_back(before > 0 ? before : 0);
    dims.push_back(after > 0 ? after : 0);
    pads = pads || before > 0 || after > 0;
  }
  NodeRef cropped = slice(std::move(x), starts, steps, extent);
  if (!pads) return cropped;
  Shape s = pad_shape(cropped, dims);
  DType t = cropped->dtype;
  auto n = blank(Op::Pad, t, std::move(s), {std::move(cropped)});
  n->dims = std::move(dims);
  // Stored at its dtype's precision, as constants are.
  n->value = convert_value(t, value);
  return node_table().intern(std::move(n));
}

NodeRef cat(const std::vector<NodeRef> &xs, int64_t dim) {
  Shape s = cat_shape(xs, {dim});
  if (xs.size() == 1) return xs[0];
  DType t = xs[0]->dtype;
  auto n = blank(Op::Cat, t, std::move(s), xs);
  n->dims = {normalize_dim(dim, xs[0]->rank(), "cat")};
  return node_table().intern(std::move(n));
}

NodeRef stack(const std::vector<NodeRef> &xs, int64_t dim) {
  FUSEJIT_USER_CHECK(!xs.empty(), ValueError, "stack: an empty list of tensors");
  for (size_t i = 1; i < xs.size(); ++i)
    FUSEJIT_USER_CHECK(xs[i]->shape == xs[0]->shape, ShapeError, "stack: tensor ", i, " (",
                       describe(xs[i]), ") and tensor 0 (", describe(xs[0]), ") differ in shape");
  int64_t d = normalize_dim(dim, xs[0]->rank() + 1, "stack of " + describe(xs[0]));
  std::vector<NodeRef> parts;
  for (const NodeRef &x : xs) parts.push_back(unsqueeze(x, d));
  return cat(parts, d);
}

NodeRef unsqueeze(NodeRef x, int64_t dim) {
  int64_t d = normalize_dim(dim, x->rank() + 1, "unsqueeze of " + describe(x));
  Shape s = x->shape;
  s.insert(s.begin() + d, 1);
  return reshape(std::move(x), s);
}

NodeRef squeeze(NodeRef x, std::optional<int64_t> dim) {
  Shape s;
  if (dim) {
    if (x->rank() == 0) return x;  // torch accepts dim 0 or -1 of a scalar
    int64_t d = normalize_dim(*dim, x->rank(), "squeeze of " + describe(x));
    if (x->shape[d] != 1) return x;
    s = x->shape;
    s.erase(s.begin() + d);
  } else {
    for (int64_t e : x->shape)
      if (e != 1) s.push_back(e);
  }
  return s == x->shape ? x : reshape(std::move(x), s);
}

NodeRef flatten(NodeRef x, int64_t start, int64_t end) {
  if (x->rank() == 0) return reshape(std::move(x), {1});
  std::string what = "flatten of " + describe(x);
  int64_t b = normalize_dim(start, x->rank(), what), e = normalize_dim(end, x->rank(), what);
  FUSEJIT_USER_CHECK(b <= e, ShapeError, "flatten: start dim ", start, " comes after end dim ", end,
                     " of ", describe(x));
  Shape s(x->shape.begin(), x->shape.begin() + b);
  int64_t merged = 1;
  for (int64_t d = b; d <= e; ++d) merged *= x->shape[d];
  s.push_back(merged);
  s.insert(s.end(), x->shape.begin() + e + 1, x->shape.end());
  return s == x->shape ? x : reshape(std::move(x), s);
}

NodeRef unfold(NodeRef x, int64_t dim, int64_t size, int64_t step) {
  Shape s = unfold_shape(x, {dim, size, step});
  DType t = x->dtype;
  int64_t d = normalize_dim(dim, x->rank(), "unfold");
  auto n = blank(Op::Unfold, t, std::move(s), {std::move(x)});
  n->dims = {d, size, step};
  return node_table().intern(std::move(n));
}

NodeRef gather(NodeRef x, int64_t dim, NodeRef index) {
  Shape s = gather_shape(x, {dim}, index);
  int64_t d = normalize_dim(dim, x->rank(), "gather");
  DType t = x->dtype;
  auto n = blank(Op::Gather, t, std::move(s), {std::move(x), std::move(index)});
  n->dims = {d};
  return node_table().intern(std::move(n));
}

NodeRef index_select(const NodeRef &x, int64_t dim, const NodeRef &index) {
  FUSEJIT_USER_CHECK(index->rank() <= 1, ShapeError, "index_select: the index (", describe(index),
                     ") must have one dim or none");
  FUSEJIT_USER_CHECK(x->rank() > 0 || index->rank() == 0 || index->numel() == 1, ShapeError,
                     "index_select: a zero-dim tensor (", describe(x), ") takes one index");
  if (x->rank() == 0) return gather(reshape(x, {1}), 0, reshape(index, {1}));
  int64_t d = normalize_dim(dim, x->rank(), "index_select of " + describe(x));
  // The index along dim, the same for every other index: an expand of it.
  Shape along(x->rank(), 1), out = x->shape;
  along[d] = out[d] = index->numel();
  return gather(x, d, expand(reshape(index, along), out));
}

NodeRef scatter_sum(const NodeRef &index, const NodeRef &src, int64_t dim, const Shape &shape) {
  auto d = static_cast<size_t>(dim);
  Shape along(index->rank() + 1, 1);
  along[d] = shape[d];
  NodeRef hit = binary(Op::Eq, unsqueeze(index, dim), reshape(iota(shape[d]), along));
  NodeRef spread = where(hit, unsqueeze(src, dim), constant(0, src->dtype));
  // Sums of integers are i64; the scattered values keep their dtype.
  NodeRef sum = cast(reduce(Op::Sum, spread, {dim + 1}), src->dtype);
  std::vector<std::pair<int64_t, int64_t>> widths;
  for (size_t j = 0; j < shape.size(); ++j) widths.emplace_back(0, shape[j] - sum->shape[j]);
  return pad(sum, widths);
}

namespace {

// `index` read through a gather of arange(n): itself where it is in [0, n),
// an IndexError naming it elsewhere.
NodeRef checked_index(const NodeRef &index, int64_t n) {
  NodeRef flat = reshape(index, {index->numel()});
  return reshape(gather(iota(n), 0, flat), index->shape);
}

}  // namespace

NodeRef scatter_add(const NodeRef &x, int64_t dim, const NodeRef &index, const NodeRef &src) {
  FUSEJIT_USER_CHECK(index->dtype == DType::I64 || index->dtype == DType::I32, ShapeError,
                     "scatter_add: the index must be i64 or i32, not ", describe(index));
  FUSEJIT_USER_CHECK(index->rank() == x->rank() && src->rank() == x->rank(), ShapeError,
                     "scatter_add: the tensor (", describe(x), "), the index (", describe(index),
                     ") and the source (", describe(src), ") must have the same number of dims");
  FUSEJIT_USER_CHECK(x->rank() > 0, ShapeError, "scatter_add: a zero-dim tensor (", describe(x),
                     ") has no dim to scatter along");
  int64_t d = normalize_dim(dim, x->rank(), "scatter_add into " + describe(x));
  for (size_t j = 0; j < x->rank(); ++j) {
    FUSEJIT_USER_CHECK(index->shape[j] <= src->shape[j], ShapeError, "scatter_add: the index (",
                       describe(index), ") is larger than the source (", describe(src), ") in dim ",
                       j);
    FUSEJIT_USER_CHECK(static_cast<int64_t>(j) == d || index->shape[j] <= x->shape[j], ShapeError,
                       "scatter_add: the index (", describe(index), ") is larger than ",
                       describe(x), " in dim ", j, ", which is not the scattered dim ", d);
  }
  FUSEJIT_USER_CHECK(x->shape[d] > 0 || index->numel() == 0, IndexError, "scatter_add: dim ", d,
                     " of ", describe(x), " is empty, so no index is in bounds");
  // The source's elements the index covers, in the tensor's dtype.
  std::vector<int64_t> start(src->rank(), 0), step(src->rank(), 1);
  NodeRef covered = slice(cast(src, x->dtype), start, step, index->shape);
  NodeRef index64 = checked_index(cast(index, DType::I64), x->shape[d]);
  return binary(Op::Add, x, scatter_sum(index64, covered, d, x->shape));
}

NodeRef index_add(const NodeRef &x, int64_t dim, const NodeRef &index, const NodeRef &src) {
  FUSEJIT_USER_CHECK(index->rank() <= 1, ShapeError, "index_add: the index (", describe(index),
                     ") must have one dim or none");
  FUSEJIT_USER_CHECK(x->rank() > 0, ShapeError, "index_add: a zero-dim tensor (", describe(x),
                     ") has no dim to add along");
  int64_t d = normalize_dim(dim, x->rank(), "index_add into " + describe(x));
  Shape want = x->shape;
  want[d] = index->numel();
  FUSEJIT_USER_CHECK(src->shape == want, ShapeError, "index_add: the source is ", describe(src),
                     "; adding ", index->numel(), " entries along dim ", d, " of ", describe(x),
                     " takes ", shape_str(want));
  Shape along(x->rank(), 1);
  along[d] = index->numel();
  return scatter_add(x, d, expand(reshape(index, along), want), src);
}

NodeRef one_hot(const NodeRef &labels, int64_t num_classes, DType dtype) {
  FUSEJIT_USER_CHECK(is_integer(labels->dtype), ShapeError, "one_hot: the labels are ",
                     describe(labels), "; they must be an integer tensor");
  FUSEJIT_USER_CHECK(num_classes > 0, ValueError, "one_hot: num_classes ", num_classes,
                     " must be positive");
  // The labels are checked in the graph, where the values are computed.
  NodeRef checked = checked_index(cast(labels, DType::I64), num_classes);
  return cast(binary(Op::Eq, unsqueeze(checked, -1), iota(num_classes)), dtype);
}

NodeRef arg_extreme(const NodeRef &x, std::optional<int64_t> dim, bool keepdim, bool largest) {
  const char *what = largest ? "argmax" : "argmin";
  if (!dim) {
    NodeRef r = arg_extreme(reshape(x, {x->numel()}), 0, false, largest);
    return keepdim ? reshape(r, Shape(x->rank(), 1)) : r;
  }
  int64_t d = normalize_dim(*dim, x->rank(), std::string(what) + " of " + describe(x));
  int64_t extent = x->shape[static_cast<size_t>(d)];
  FUSEJIT_USER_CHECK(extent > 0, ShapeError, what, ": dim ", d, " of ", describe(x),
                     " is empty; there is no index to give");
  // The smallest index along dim where x equals its max (min), or is NaN: a
  // where over the indices then a min reduction.
  NodeRef best = reduce(largest ? Op::Max : Op::Min, x, {d}, true);
  NodeRef hit = binary(Op::LogicalOr, binary(Op::Eq, x, best), binary(Op::Ne, x, x));
  Shape along(x->rank(), 1);
  along[static_cast<size_t>(d)] = extent;
  NodeRef at =
      where(hit, reshape(iota(extent), along), constant(static_cast<double>(extent), DType::I64));
  return reduce(Op::Min, at, {d}, keepdim);
}

NodeRef matmul(NodeRef a, NodeRef b) {
  check_same_dtype("matmul", a, b);
  FUSEJIT_USER_CHECK(is_floating(a->dtype), ShapeError, "matmul: not defined for ", describe(a),
                     " @ ", describe(b), " (cast to a float dtype first)");
  FUSEJIT_USER_CHECK(a->rank() >= 1 && b->rank() >= 1, ShapeError,
                     "matmul: scalar operand: ", describe(a), " @ ", describe(b));
  // numpy's 1-D rules: promote, multiply, then drop the added dim.
  bool vec_a = a->rank() == 1, vec_b = b->rank() == 1;
  if (vec_a) a = reshape(a, {1, a->shape[0]});
  if (vec_b) b = reshape(b, {b->shape[0], 1});
  Shape s = matmul_shape(a, b);
  DType t = a->dtype;
  NodeRef m = node_table().intern(blank(Op::Matmul, t, s, {std::move(a), std::move(b)}));
  if (!vec_a && !vec_b) return m;
  Shape out(s.begin(), s.end() - 2);
  if (!vec_a) out.push_back(s[s.size() - 2]);
  if (!vec_b) out.push_back(s.back());
  return reshape(m, out);
}

NodeRef with_args(const Node &n, std::vector<NodeRef> args) {
  switch (n.op) {
    case Op::Input:  // an input is one of a kind: there is no other like it to build
      FUSEJIT_INTERNAL_CHECK(args.empty(), "leaf with args");
      break;
    case Op::Const:
      FUSEJIT_INTERNAL_CHECK(args.empty(), "leaf with args");
      return constant(n.value, n.dtype);
    case Op::Iota:
      FUSEJIT_INTERNAL_CHECK(args.empty(), "leaf with args");
      return iota(n.shape.at(0));
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      return unary(n.op, args.at(0));
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      return cast(args.at(0), n.dtype);
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      return binary(n.op, args.at(0), args.at(1));
    case Op::Where:
      return where(args.at(0), args.at(1), args.at(2));
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      return reduce(n.op, args.at(0), n.dims, n.keepdim);
    case Op::Reshape:
      return reshape(args.at(0), n.shape);
    case Op::Permute:
      return permute(args.at(0), n.dims);
    case Op::Expand:
      return expand(args.at(0), n.shape);
    case Op::Slice: {
      std::vector<int64_t> start, step;
      for (size_t d = 0; d < n.shape.size(); ++d) {
        start.push_back(n.dims.at(2 * d));
        step.push_back(n.dims.at(2 * d + 1));
      }
      return slice(args.at(0), start, step, n.shape);
    }
    case Op::Pad: {
      std::vector<std::pair<int64_t, int64_t>> widths;
      for (size_t d = 0; 2 * d + 1 < n.dims.size(); ++d)
        widths.emplace_back(n.dims[2 * d], n.dims[2 * d + 1]);
      return pad(args.at(0), widths, n.value);
    }
    case Op::Cat:
      return cat(args, n.dims.at(0));
    case Op::Unfold:
      return unfold(args.at(0), n.dims.at(0), n.dims.at(1), n.dims.at(2));
    case Op::Gather:
      return gather(args.at(0), n.dims.at(0), args.at(1));
    case Op::Matmul:
      return matmul(args.at(0), args.at(1));
  }
  throw InternalError(std::string("with_args: cannot rebuild ") + op_name(n.op));
}

Shape infer_shape(const Node &n) {
  const auto &a = n.args;
  switch (n.op) {
    case Op::Input:
    case Op::Iota:
      return n.shape;
    case Op::Const:
      return Shape{};
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      return a.at(0)->shape;
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      return shape_broadcast(a.at(0)->shape, a.at(1)->shape, op_name(n.op));
    case Op::Where:
      return shape_broadcast(shape_broadcast(a.at(0)->shape, a.at(1)->shape), a.at(2)->shape);
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      return reduce_shape(a.at(0)->shape, n.dims, n.keepdim);
    case Op::Reshape:
      FUSEJIT_USER_CHECK(numel(n.shape) == a.at(0)->numel(), ShapeError,
                         "reshape: ", describe(a.at(0)), " to ", shape_str(n.shape));
      return n.shape;
    case Op::Permute:
      return permute_shape(a.at(0)->shape, n.dims);
    case Op::Expand:
      return expand_shape(a.at(0), n.shape);
    case Op::Slice:
      return slice_shape(a.at(0), n.dims, n.shape);
    case Op::Pad:
      return pad_shape(a.at(0), n.dims);
    case Op::Cat:
      return cat_shape(a, n.dims);
    case Op::Unfold:
      return unfold_shape(a.at(0), n.dims);
    case Op::Gather:
      return gather_shape(a.at(0), n.dims, a.at(1));
    case Op::Matmul:
      return matmul_shape(a.at(0), a.at(1));
  }
  throw InternalError("infer_shape: unknown op");
}

}  // namespace ir
}  // namespace fusejit
