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

// The arity of an op that takes any number (at least one) of args.
inline constexpr size_t kVariadic = SIZE_MAX;

// The one list of ops, one row per op: X(Enum, spelling, kind, arity, infix).
//   spelling  its name in dumps and, unless it is the infix operator, the
//             call that builds it in .fj (`exp(x)`, `sum(x, 1)`);
//   arity     the number of args of its node;
//   infix     the operator .fj writes between its two operands and prints it
//             with ("+", "@"), or "" for an op written only as a call.
// Rows are grouped by kind so that a switch can take a whole kind at once,
// `FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)`; the enum follows the rows' order.
// Adding an op is one row; then the compiler (-Wswitch, an error in CI) asks
// for its case in every switch that does not take its kind whole: the shape
// rule (ir::infer_shape and a constructor in ir/graph.cpp), the reference
// semantics (runtime/reference_kernels.cpp), the LLVM emission
// (codegen/lower_scalar.cpp), the derivative (engine/autodiff.cpp), and for
// a view its printing, parsing, interpretation and access (ir/printer.cpp,
// ir/parser.cpp, runtime/interpreter.cpp, engine/fuse.cpp).
// Iota: 0, 1, ..., n - 1 as i64[n] (.fj and C++ spell it arange): a value
// computed from its index, stored nowhere.
#define FUSEJIT_LEAF_OPS(X)      \
  X(Input, "input", Leaf, 0, "") \
  X(Const, "const", Leaf, 0, "") \
  X(Iota, "arange", Leaf, 0, "")

#define FUSEJIT_UNARY_OPS(X)                 \
  X(Neg, "neg", Unary, 1, "")                \
  X(Exp, "exp", Unary, 1, "")                \
  X(Log, "log", Unary, 1, "")                \
  X(Relu, "relu", Unary, 1, "")              \
  X(Sigmoid, "sigmoid", Unary, 1, "")        \
  X(Tanh, "tanh", Unary, 1, "")              \
  X(Sqrt, "sqrt", Unary, 1, "")              \
  X(Abs, "abs", Unary, 1, "")                \
  X(Inv, "inv", Unary, 1, "")                \
  X(Floor, "floor", Unary, 1, "")            \
  X(Ceil, "ceil", Unary, 1, "")              \
  X(Round, "round", Unary, 1, "")            \
  X(LogicalNot, "logical_not", Unary, 1, "") \
  X(StopGradient, "stop_gradient", Unary, 1, "")

// Cast: its node's dtype is the target (ir::cast); a unary op otherwise.
#define FUSEJIT_CAST_OPS(X) X(Cast, "cast", Unary, 1, "")

#define FUSEJIT_BINARY_OPS(X)                 \
  X(Add, "+", Binary, 2, "+")                 \
  X(Sub, "-", Binary, 2, "-")                 \
  X(Mul, "*", Binary, 2, "*")                 \
  X(Div, "/", Binary, 2, "/")                 \
  X(Lt, "<", Binary, 2, "<")                  \
  X(Gt, ">", Binary, 2, ">")                  \
  X(Eq, "==", Binary, 2, "==")                \
  X(Le, "<=", Binary, 2, "<=")                \
  X(Ge, ">=", Binary, 2, ">=")                \
  X(Ne, "!=", Binary, 2, "!=")                \
  X(LogicalAnd, "logical_and", Binary, 2, "") \
  X(LogicalOr, "logical_or", Binary, 2, "")   \
  X(FloorDiv, "//", Binary, 2, "//")          \
  X(Mod, "%", Binary, 2, "%")                 \
  X(Maximum, "maximum", Binary, 2, "")        \
  X(Minimum, "minimum", Binary, 2, "")        \
  X(Pow, "pow", Binary, 2, "")

#define FUSEJIT_TERNARY_OPS(X) X(Where, "where", Ternary, 3, "")

#define FUSEJIT_REDUCE_OPS(X)    \
  X(Sum, "sum", Reduce, 1, "")   \
  X(Max, "max", Reduce, 1, "")   \
  X(Mean, "mean", Reduce, 1, "") \
  X(Min, "min", Reduce, 1, "")   \
  X(Prod, "prod", Reduce, 1, "") \
  X(Any, "any", Reduce, 1, "")   \
  X(All, "all", Reduce, 1, "")

// Slice: per dim (start, step) pairs in `dims`, the extents in `shape`;
// Pad: per dim (before, after) >= 0 in `dims`, the fill in `value`; Cat:
// any number of args joined along dims[0]; Unfold: dims = (dim, size, step);
// Gather: torch.gather(args[0], dims[0], args[1]), the index (an integer
// tensor) giving the shape: a view of args[0] whose addresses are data.
#define FUSEJIT_VIEW_OPS(X)          \
  X(Reshape, "reshape", View, 1, "") \
  X(Permute, "permute", View, 1, "") \
  X(Expand, "expand", View, 1, "")   \
  X(Slice, "slice", View, 1, "")     \
  X(Pad, "pad", View, 1, "")         \
  X(Cat, "cat", View, kVariadic, "") \
  X(Unfold, "unfold", View, 1, "")   \
  X(Gather, "gather", View, 2, "")

#define FUSEJIT_MATMUL_OPS(X) X(Matmul, "matmul", Matmul, 2, "@")

#define FUSEJIT_OPS(X)   \
  FUSEJIT_LEAF_OPS(X)    \
  FUSEJIT_UNARY_OPS(X)   \
  FUSEJIT_CAST_OPS(X)    \
  FUSEJIT_BINARY_OPS(X)  \
  FUSEJIT_TERNARY_OPS(X) \
  FUSEJIT_REDUCE_OPS(X)  \
  FUSEJIT_VIEW_OPS(X)    \
  FUSEJIT_MATMUL_OPS(X)

// The case label of one row: `FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)` labels every view.
#define FUSEJIT_OP_CASE(name, ...) case Op::name:

enum class Op {
#define FUSEJIT_OP_ENUM(name, ...) name,
  FUSEJIT_OPS(FUSEJIT_OP_ENUM)
#undef FUSEJIT_OP_ENUM
};

// Every op, in the enum's order.
inline constexpr Op kAllOps[] = {
#define FUSEJIT_OP_VALUE(name, ...) Op::name,
    FUSEJIT_OPS(FUSEJIT_OP_VALUE)
#undef FUSEJIT_OP_VALUE
};

const char *op_name(Op op);  // the spelling: "exp", "+", "sum", ...
OpKind op_kind(Op op);
size_t op_arity(Op op);
const char *op_infix(Op op);  // "+", "@", ...; "" if written as a call only
inline bool is_infix(Op op) { return *op_infix(op) != '\0'; }
// Whether .fj has a call `op_name(op)(...)` that builds the op.
bool has_call_form(Op op);

struct Node;
using NodeRef = std::shared_ptr<const Node>;

struct Node {
  Op op;
  DType dtype;
  Shape shape;
  std::vector<NodeRef> args;
  // Reduce: the reduced dims, sorted. Permute: the permutation. Slice, Pad,
  // Cat, Unfold, Gather: see FUSEJIT_VIEW_OPS.
  std::vector<int64_t> dims;
  bool keepdim = false;  // Reduce
  double value = 0;      // Const (a scalar; `full` is an expand of one); Pad: the fill
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
