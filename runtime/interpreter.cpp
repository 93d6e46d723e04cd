#include "runtime/interpreter.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "runtime/reference_kernels.h"
#include "runtime/strided_view.h"

// Floating-point policy: every elementwise op is computed in double and
// rounded once to the node's dtype, so an f32 chain is rounded once per op
// (not once per chain); reductions and matmul accumulate in double and round
// once at the end. JIT results are compared with this under tolerances.

namespace fusejit {

namespace {

std::string describe(const Node &n) {
  std::string type = " (" + type_str(n.dtype, n.shape) + ")";
  if (!n.is(Op::Input)) return op_name(n.op) + type;
  return "input " + (n.name.empty() ? "#" + std::to_string(n.id) : "'" + n.name + "'") + type;
}

class Interpreter {
 public:
  Interpreter(const Bindings &bindings, InterpretStats &stats)
      : bindings_(bindings), stats_(stats) {}

  std::vector<Buffer> run(const std::vector<NodeRef> &roots) {
    for (const NodeRef &r : roots) {
      FUSEJIT_USER_CHECK(r != nullptr, ValueError, "interpret: a root is a null node");
      roots_.insert(r.get());
    }
    schedule(roots);
    for (const Node *n : order_)
      for (const NodeRef &a : n->args) ++uses_left_[a.get()];
    for (const Node *n : order_) {
      values_[n] = compute(*n);
      ++stats_.nodes_computed;
      stats_.peak_live_values = std::max(stats_.peak_live_values, values_.size());
      release_args(*n);
    }
    return results(roots);
  }

 private:
  // The nodes to compute, each after its args: topo_order's post-order walk
  // (ir/node.h), except that it stops at nodes whose value is known already: what lies behind
  // a realized value is neither walked nor needs inputs. Iterative, so a
  // chain a million nodes long does not overflow the stack.
  void schedule(const std::vector<NodeRef> &roots) {
    std::unordered_set<const Node *> seen;
    std::vector<std::pair<const Node *, size_t>> stack;
    auto visit = [&](const Node *n) {
      if (seen.insert(n).second && needs_computing(*n)) stack.emplace_back(n, 0);
    };
    for (const NodeRef &root : roots) {
      visit(root.get());
      while (!stack.empty()) {
        auto &[node, next] = stack.back();
        if (next < node->args.size()) {
          visit(node->args[next++].get());
        } else {
          order_.push_back(node);
          stack.pop_back();
        }
      }
    }
  }

  // False if `n` has a value already (which is then recorded).
  bool needs_computing(const Node &n) {
    if (std::optional<Buffer> v = known_value(n)) {
      values_[&n] = view_of(*v);
      known_.insert(&n);
      return false;
    }
    FUSEJIT_USER_CHECK(!n.is(Op::Input), ValueError, describe(n), " has no value");
    return true;
  }

  // A binding wins over an attached value. Bindings are meant for inputs,
  // but any node's value may be given.
  std::optional<Buffer> known_value(const Node &n) const {
    if (auto it = bindings_.find(&n); it != bindings_.end() && it->second.defined()) {
      const Buffer &b = it->second;
      FUSEJIT_USER_CHECK(b.dtype() == n.dtype && b.shape() == n.shape, ShapeError, describe(n),
                         " is bound to a value of ", type_str(b.dtype(), b.shape()));
      return b;
    }
    if (Buffer b = attached_buffer(n); b.defined()) return b;
    return std::nullopt;
  }

  const StridedView &arg(const Node &n, size_t i) const { return values_.at(n.args[i].get()); }

  StridedView compute(const Node &n) const {
    switch (n.op) {
      case Op::Input:  // has a value, or needs_computing threw
        throw InternalError("interpret: " + describe(n) + " reached compute");
      case Op::Const: {
        Buffer b(n.dtype, {});
        b.set(0, n.value);
        return view_of(b);
      }
      case Op::Iota: {
        Buffer b(n.dtype, n.shape);
        auto *v = b.data<int64_t>();
        for (int64_t i = 0; i < n.numel(); ++i) v[i] = i;
        return view_of(b);
      }
        FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
        FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
        return view_of(map_op(n.op, arg(n, 0), n.dtype, n.shape));
        FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
        return view_of(zip_op(n.op, arg(n, 0), arg(n, 1), n.dtype, n.shape));
      case Op::Where:
        return view_of(where_op(arg(n, 0), arg(n, 1), arg(n, 2), n.dtype, n.shape));
        FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
        return view_of(reduce_op(n.op, arg(n, 0), n.dims, n.keepdim, n.dtype, n.shape));
      case Op::Reshape:
        return reshape_view(arg(n, 0), n.shape);
      case Op::Permute:
        return permute_view(arg(n, 0), n.dims);
      case Op::Expand:
        return expand_view(arg(n, 0), n.shape);
      case Op::Slice:
        return slice_view(arg(n, 0), n.dims, n.shape);
      case Op::Unfold:
        return unfold_view(arg(n, 0), n.dims);
      case Op::Pad:
        return view_of(pad_values(arg(n, 0), n.dims, n.value, n.shape));
      case Op::Cat: {
        std::vector<const StridedView *> parts;
        for (size_t i = 0; i < n.args.size(); ++i) parts.push_back(&arg(n, i));
        return view_of(cat_values(parts, n.dims[0], n.shape));
      }
      case Op::Gather:
        return view_of(gather_values(arg(n, 0), n.dims[0], arg(n, 1)));
      case Op::Matmul:
        return view_of(matmul_op(arg(n, 0), arg(n, 1), n.dtype, n.shape));
    }
    throw InternalError("interpret: unknown op " + describe(n));
  }

  // Drops each arg's value once its last consumer has run, so a long chain
  // holds a bounded number of values. A view keeps its storage alive.
  void release_args(const Node &n) {
    for (const NodeRef &a : n.args)
      if (--uses_left_[a.get()] == 0 && !roots_.count(a.get())) values_.erase(a.get());
  }

  // A computed, non-view root owns its fresh storage and is returned as is;
  // every other root is copied, so no result aliases an input, an attached
  // value, or another result.
  std::vector<Buffer> results(const std::vector<NodeRef> &roots) const {
    std::vector<Buffer> out;
    std::unordered_set<const Node *> handed_out;
    for (const NodeRef &r : roots) {
      const StridedView &v = values_.at(r.get());
      bool owned =
          !known_.count(r.get()) && r->kind() != OpKind::View && handed_out.insert(r.get()).second;
      out.push_back(owned ? Buffer(r->dtype, r->shape, v.storage) : materialize(v));
    }
    return out;
  }

  const Bindings &bindings_;
  InterpretStats &stats_;
  std::unordered_set<const Node *> roots_;
  std::vector<const Node *> order_;
  std::unordered_set<const Node *> known_;  // given, not computed
  std::unordered_map<const Node *, StridedView> values_;
  std::unordered_map<const Node *, int64_t> uses_left_;
};

}  // namespace

std::vector<Buffer> interpret(const std::vector<NodeRef> &roots, const Bindings &bindings,
                              InterpretStats *stats) {
  InterpretStats local;
  return Interpreter(bindings, stats ? *stats : local).run(roots);
}

std::vector<Buffer> interpret(const std::vector<NodeRef> &roots, const Bindings &bindings) {
  return interpret(roots, bindings, nullptr);
}

}  // namespace fusejit
