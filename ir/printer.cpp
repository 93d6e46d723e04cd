// Prints a Program as `.fj`: the inputs in declaration order, then one line
// per node in topological order, each a single op over names and literals
// (so no precedence or parentheses to get right), each with its type.
#include "ir/printer.h"

#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "ir/lexer.h"

namespace fusejit {

namespace {

// A negative literal is unary minus on a literal, which the parser folds
// back into one constant; `inf` and `nan` are literals of the grammar.
std::string literal(double v) { return format_float(v); }

// A constant as the literal that reads back in its kind (ir/parser.cpp's
// Python scalars): true/false for a bool, an integer for an integer dtype,
// and for a float, where no typed operand decides (`standalone`), a number
// written with a '.' so that it reads back as a float.
std::string const_literal(const Node &c, bool standalone) {
  if (c.dtype == DType::Bool) return c.value != 0 ? "true" : "false";
  std::string s = literal(c.value);
  if (standalone && is_floating(c.dtype) && s.find_first_not_of("-0123456789") == std::string::npos)
    s += ".0";
  return s;
}

class Printer {
 public:
  explicit Printer(const Program &p) : p_(p) {}
  std::string run();
  std::vector<std::pair<const Node *, std::string>> names();

 private:
  void collect_nodes();
  void assign_names();
  std::string fresh(const char *prefix, int &counter);
  bool has_line(const Node *n) const { return !n->is(Op::Const) || outputs_.count(n); }
  std::string operand(const NodeRef &n, bool infix) const;
  std::string rhs(const Node &n) const;

  const Program &p_;
  std::vector<const Node *> nodes_;  // in print order
  std::unordered_set<const Node *> outputs_;
  std::unordered_map<const Node *, std::string> names_;
  std::unordered_set<std::string> used_;
  std::vector<std::pair<std::string, const Node *>> aliases_;  // `NAME = OTHER` before `out`
  std::vector<std::string> out_names_;
  mutable bool literal_only_ = false;  // rhs: the node being printed has only literal args
};

void Printer::collect_nodes() {
  std::unordered_set<const Node *> seen;
  for (const NodeRef &in : p_.inputs)
    if (in && seen.insert(in.get()).second) nodes_.push_back(in.get());
  for (const Node *n : topo_order(p_.output_nodes()))
    if (seen.insert(n).second) nodes_.push_back(n);
  for (const auto &[name, node] : p_.outputs) outputs_.insert(node.get());
}

std::string Printer::fresh(const char *prefix, int &counter) {
  std::string s;
  do s = prefix + std::to_string(counter++);
  while (used_.count(s));
  used_.insert(s);
  return s;
}

// Names the program gives are claimed first, so that a generated `t3` never
// takes a name that a later node or output owns.
void Printer::assign_names() {
  // A node computed from literals alone is bound by the parser in both dtypes,
  // so its binding names do not say which twin they meant: it only takes an
  // output name (or a fresh one), which keeps printing idempotent.
  std::unordered_set<const Node *> literal_only;
  for (const Node *n : nodes_) {
    bool all = !n->is(Op::Input);
    for (const NodeRef &a : n->args) all = all && literal_only.count(a.get());
    if (all) literal_only.insert(n);
  }
  std::unordered_map<const Node *, std::string> given;
  for (const auto &[name, node] : p_.bindings)
    if (!literal_only.count(node.get())) given.emplace(node.get(), name);
  for (const auto &[name, node] : p_.outputs) given.emplace(node.get(), name);
  for (const Node *n : nodes_) {
    if (!has_line(n)) continue;
    auto it = given.find(n);
    std::string want = it != given.end() ? it->second : n->is(Op::Input) ? n->name : "";
    if (fj::is_identifier(want) && used_.insert(want).second) names_[n] = want;
  }
  // An output named differently from its node gets an alias line `NAME = NODE`.
  std::vector<std::pair<std::string, const Node *>> wanted_aliases;
  for (const auto &[name, node] : p_.outputs) {
    auto it = names_.find(node.get());
    if (it != names_.end() && it->second == name) continue;
    if (fj::is_identifier(name) && used_.insert(name).second)
      wanted_aliases.emplace_back(name, node.get());
  }
  int inputs = 0, temps = 0;
  for (const Node *n : nodes_)
    if (has_line(n) && !names_.count(n))
      names_[n] = n->is(Op::Input) ? fresh("x", inputs) : fresh("t", temps);
  aliases_ = std::move(wanted_aliases);
  std::unordered_map<std::string, const Node *> alias_target(aliases_.begin(), aliases_.end());
  for (const auto &[name, node] : p_.outputs) {
    auto it = alias_target.find(name);
    bool aliased = it != alias_target.end() && it->second == node.get();
    out_names_.push_back(aliased ? name : names_.at(node.get()));
  }
}

// A node used as an operand: its name, or a constant inlined as a literal.
// Negative literals get parentheses after an infix operator, for readability.
std::string Printer::operand(const NodeRef &n, bool infix) const {
  if (has_line(n.get())) return names_.at(n.get());
  std::string s = const_literal(*n, literal_only_);
  return infix && s[0] == '-' ? "(" + s + ")" : s;
}

// What a call prints after its operands: the op's attributes.
std::string call_attributes(const Node &n) {
  switch (n.op) {
    FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
    FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
    FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
    FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
    FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
    return "";
    FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
    return std::string(", ") + dtype_name(n.dtype);
    FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
    return (n.dims.empty() ? "" : ", " + shape_str(n.dims)) + (n.keepdim ? ", keepdim=true" : "");
    case Op::Reshape:
    case Op::Expand:
      return ", " + shape_str(n.shape);
    case Op::Permute:
      return ", " + shape_str(n.dims);
    case Op::Slice: {
      std::vector<int64_t> start, step;
      for (size_t d = 0; d < n.shape.size(); ++d) {
        start.push_back(n.dims[2 * d]);
        step.push_back(n.dims[2 * d + 1]);
      }
      return ", " + shape_str(start) + ", " + shape_str(step) + ", " + shape_str(n.shape);
    }
    case Op::Pad: {
      std::string s = ", [";
      for (size_t d = 0; 2 * d + 1 < n.dims.size(); ++d)
        s += (d ? ", [" : "[") + std::to_string(n.dims[2 * d]) + ", " +
             std::to_string(n.dims[2 * d + 1]) + "]";
      return s + "], value=" + literal(n.value);
    }
    case Op::Cat:
      return ", " + std::to_string(n.dims[0]);
    case Op::Unfold:
      return ", " + std::to_string(n.dims[0]) + ", " + std::to_string(n.dims[1]) + ", " +
             std::to_string(n.dims[2]);
    case Op::Gather:  // printed by rhs: its dim comes between its args
      return "";
  }
  return "";
}

std::string Printer::rhs(const Node &n) const {
  if (n.is(Op::Input)) return "input " + type_str(n.dtype, n.shape);
  if (n.is(Op::Const)) return const_literal(n, true);
  if (n.is(Op::Iota)) return "arange(" + std::to_string(n.shape[0]) + ")";
  if (n.is(Op::Gather))  // torch's order: gather(x, dim, index)
    return "gather(" + operand(n.args[0], false) + ", " + std::to_string(n.dims[0]) + ", " +
           operand(n.args[1], false) + ")";
  // A node over literals alone reads back in its literals' kind: floats keep a '.'.
  literal_only_ = !n.args.empty();
  for (const NodeRef &a : n.args) literal_only_ = literal_only_ && !has_line(a.get());
  if (is_infix(n.op))
    return operand(n.args[0], true) + " " + op_infix(n.op) + " " + operand(n.args[1], true);
  std::string s = std::string(op_name(n.op)) + "(";
  // A variadic op takes its args as one list: cat([a, b], 0).
  bool list = op_arity(n.op) == kVariadic;
  if (list) s += "[";
  for (size_t i = 0; i < n.args.size(); ++i) s += (i ? ", " : "") + operand(n.args[i], false);
  if (list) s += "]";
  return s + call_attributes(n) + ")";
}

std::string Printer::run() {
  collect_nodes();
  assign_names();
  std::ostringstream os;
  for (const Node *n : nodes_) {
    if (!has_line(n)) continue;
    os << names_.at(n) << " = " << rhs(*n);
    // An input line spells its type already.
    if (!n->is(Op::Input)) os << "  # " << type_str(n->dtype, n->shape);
    os << "\n";
  }
  for (const auto &[alias, node] : aliases_)
    os << alias << " = " << names_.at(node) << "  # " << type_str(node->dtype, node->shape) << "\n";
  if (!out_names_.empty()) {
    os << "out ";
    for (size_t i = 0; i < out_names_.size(); ++i) os << (i ? ", " : "") << out_names_[i];
    os << "\n";
  }
  return os.str();
}

std::vector<std::pair<const Node *, std::string>> Printer::names() {
  collect_nodes();
  assign_names();
  std::vector<std::pair<const Node *, std::string>> out;
  for (const Node *n : nodes_)
    if (has_line(n)) out.emplace_back(n, names_.at(n));
  return out;
}

}  // namespace

std::string format_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string print_program(const Program &p) { return Printer(p).run(); }

std::vector<std::pair<const Node *, std::string>> value_names(const Program &p) {
  return Printer(p).names();
}

}  // namespace fusejit
