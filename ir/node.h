// The graph IR: one immutable, hash-consed node type (see ir/README.md for
// the rules). Build nodes with the checked functions in ir/graph.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/node_value.h"
#include "ir/shape.h"

namespace fusejit {

enum class OpKind { Leaf, Unary, Binary, Ternary, Reduce, View, Matmul };

// The one list of ops: X(Enum, spelling in .fj, kind). Adding an op touches
// this list, its shape rule in graph.cpp, and each pass's table.
#define FUSEJIT_OPS(X)             \
  X(Input, "input", Leaf)          \
  X(Const, "const", Leaf)          \
  X(Neg, "neg", Unary)             \
  X(Exp, "exp", Unary)             \
  X(Log, "log", Unary)             \
  X(Relu, "relu", Unary)           \
  X(Sigmoid, "sigmoid", Unary)     \
  X(Tanh, "tanh", Unary)           \
  X(Sqrt, "sqrt", Unary)           \
  X(Abs, "abs", Unary)             \
  X(Inv, "inv", Unary)             \
  X(Add, "+", Binary)              \
  X(Sub, "-", Binary)              \
  X(Mul, "*", Binary)              \
  X(Div, "/", Binary)              \
  X(Lt, "<", Binary)               \
  X(Gt, ">", Binary)               \
  X(Eq, "==", Binary)              \
  X(Maximum, "maximum", Binary)    \
  X(Minimum, "minimum", Binary)    \
  X(Pow, "pow", Binary)            \
  X(Where, "where", Ternary)       \
  X(Sum, "sum", Reduce)            \
  X(Max, "max", Reduce)            \
  X(Mean, "mean", Reduce)          \
  X(Reshape, "reshape", View)      \
  X(Permute, "permute", View)      \
  X(Expand, "expand", View)        \
  X(Matmul, "matmul", Matmul)

enum class Op {
#define FUSEJIT_OP_ENUM(name, spelling, kind) name,
  FUSEJIT_OPS(FUSEJIT_OP_ENUM)
#undef FUSEJIT_OP_ENUM
};

const char *op_name(Op op);  // the .fj spelling: "exp", "+", "sum", ...
OpKind op_kind(Op op);
inline bool is_infix(Op op) { return op_kind(op) == OpKind::Binary && op < Op::Maximum; }

struct Node;
using NodeRef = std::shared_ptr<const Node>;

struct Node {
  Op op;
  DType dtype;
  Shape shape;
  std::vector<NodeRef> args;
  // Reduce: the reduced dims, sorted. Permute: the permutation.
  std::vector<int64_t> dims;
  bool keepdim = false;  // Reduce
  double value = 0;      // Const (a scalar; `full` is an expand of one)
  std::string name;      // Input: its name ("" for unnamed API inputs)
  uint64_t id = 0;       // Input: unique per input, 0 for every other op
  size_t hash = 0;       // structural hash of all the fields above

  OpKind kind() const { return op_kind(op); }
  bool is(Op o) const { return op == o; }
  int64_t numel() const { return fusejit::numel(shape); }
  size_t rank() const { return shape.size(); }

  // The memoized value of this node (an input's data, or a realized result),
  // attached by the runtime. A cache, not part of the node's identity.
  // Safe to call from several threads (hash-consing shares nodes between
  // threads that realize the same graph).
  std::shared_ptr<const NodeValue> attached() const;
  void attach(std::shared_ptr<const NodeValue> v) const;

 private:
  mutable std::shared_ptr<const NodeValue> attached_;  // guarded by attach_mutex(this)
};

// Nodes reachable from `roots`, each once, every node after its args; the
// order depends only on the graph's structure, so printing is deterministic.
std::vector<const Node *> topo_order(const std::vector<NodeRef> &roots);

// The same walk, but a node with an attached value is a leaf: its args are
// not visited (they need not be computed again).
std::vector<const Node *> topo_order_to_values(const std::vector<NodeRef> &roots);

// An input, or a node whose value is already known.
inline bool is_value_leaf(const Node &n) {
  return n.op == Op::Input || (n.op != Op::Const && n.attached() != nullptr);
}

}  // namespace fusejit
