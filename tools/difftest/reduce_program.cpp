#include "tools/difftest/reduce_program.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ir/error.h"
#include "ir/graph.h"

namespace fusejit::difftest {

namespace {

using ExtentMap = std::function<int64_t(int64_t)>;

constexpr int64_t kMaxHalvedExtent = 4096;
using Replacements = std::unordered_map<const Node *, NodeRef>;

int64_t same_extent(int64_t e) { return e; }

Shape map_shape(const Shape &s, const ExtentMap &extent) {
  Shape out;
  for (int64_t d : s) out.push_back(extent(d));
  return out;
}

// Rebuilds the outputs bottom-up with `replace` substituted for nodes and
// every extent (of inputs, reshapes and expands) mapped by `extent`. Inputs
// nothing reads any more are dropped. nullopt if the result is ill-typed.
std::optional<Program> rebuild(const Program &p, const Replacements &replace,
                               const ExtentMap &extent) {
  std::unordered_map<const Node *, NodeRef> built;
  auto arg_of = [&](const NodeRef &a) { return built.at(a.get()); };
  try {
    for (const Node *n : topo_order(p.output_nodes())) {
      if (auto r = replace.find(n); r != replace.end()) {
        // A substitute from the old graph (an operand) is taken rebuilt.
        auto b = built.find(r->second.get());
        built[n] = b != built.end() ? b->second : r->second;
        continue;
      }
      std::vector<NodeRef> args;
      for (const NodeRef &a : n->args) {
        if (!built.count(a.get())) {
          // Under a replaced node: never read.
          args.clear();
          break;
        }
        args.push_back(arg_of(a));
      }
      if (args.size() != n->args.size()) continue;
      if (n->is(Op::Input))
        built[n] = ir::input(n->dtype, map_shape(n->shape, extent), n->name);
      else if (n->is(Op::Const))
        built[n] = ir::constant(n->value, n->dtype);
      else if (n->is(Op::Reshape))
        built[n] = ir::reshape(args[0], map_shape(n->shape, extent));
      else if (n->is(Op::Expand))
        built[n] = ir::expand(args[0], map_shape(n->shape, extent));
      else
        built[n] = ir::with_args(*n, std::move(args));
    }
  } catch (const ShapeError &) {
    return std::nullopt;
  } catch (const ValueError &) {
    return std::nullopt;
  }
  Program out;
  for (const auto &[name, node] : p.outputs) out.outputs.emplace_back(name, built.at(node.get()));
  // The inputs still read, in their old order, then the new ones.
  std::unordered_map<const Node *, NodeRef> refs;
  for (const auto &[old, ref] : built) refs.emplace(ref.get(), ref);
  std::unordered_set<const Node *> reachable;
  for (const Node *n : topo_order(out.output_nodes()))
    if (n->is(Op::Input)) reachable.insert(n);
  for (const NodeRef &in : p.inputs)
    if (auto b = built.find(in.get()); b != built.end() && reachable.erase(b->second.get()))
      out.inputs.push_back(b->second);
  for (const Node *n : topo_order(out.output_nodes()))
    if (reachable.erase(n)) out.inputs.push_back(refs.at(n));
  for (const NodeRef &in : out.inputs) out.bindings.emplace_back(in->name, in);
  return out;
}

class Reducer {
 public:
  Reducer(const std::function<bool(const Program &)> &fails, int max_checks)
      : fails_(fails), checks_left_(max_checks) {}
  Program run(Program p);

 private:
  bool try_accept(std::optional<Program> candidate, Program &p);
  bool drop_outputs(Program &p);
  bool outputs_to_args(Program &p);
  bool replace_subexpressions(Program &p);
  bool shrink_extents(Program &p);
  std::string fresh_name(const Program &p);

  const std::function<bool(const Program &)> &fails_;
  int checks_left_;
};

bool Reducer::try_accept(std::optional<Program> candidate, Program &p) {
  if (!candidate || checks_left_ <= 0) return false;
  --checks_left_;
  if (!fails_(*candidate)) return false;
  p = std::move(*candidate);
  return true;
}

bool Reducer::drop_outputs(Program &p) {
  bool progress = false;
  for (size_t i = 0; p.outputs.size() > 1 && i < p.outputs.size();) {
    Program q = p;
    q.outputs.erase(q.outputs.begin() + static_cast<long>(i));
    if (try_accept(rebuild(q, {}, same_extent), p))
      progress = true;
    else
      ++i;
  }
  return progress;
}

// An output may have any shape: it can become one of its node's args, which
// strips a reduction or view that a same-shape substitute cannot.
bool Reducer::outputs_to_args(Program &p) {
  for (size_t i = 0; i < p.outputs.size(); ++i) {
    NodeRef node = p.outputs[i].second;
    for (const NodeRef &a : node->args) {
      if (a->kind() == OpKind::Leaf) continue;
      Program q = p;
      q.outputs[i].second = a;
      if (try_accept(rebuild(q, {}, same_extent), p)) return true;
    }
  }
  return false;
}

std::string Reducer::fresh_name(const Program &p) {
  std::unordered_set<std::string> used;
  for (const Node *n : topo_order(p.output_nodes())) used.insert(n->name);
  for (int i = 0;; ++i)
    if (std::string s = "r" + std::to_string(i); !used.count(s)) return s;
}

// Outermost nodes first: replacing one removes everything under it at once.
bool Reducer::replace_subexpressions(Program &p) {
  std::vector<const Node *> order = topo_order(p.output_nodes());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node *n = *it;
    if (n->kind() == OpKind::Leaf) continue;
    std::vector<NodeRef> substitutes;
    for (const NodeRef &a : n->args)
      if (a->dtype == n->dtype && a->shape == n->shape) substitutes.push_back(a);
    substitutes.push_back(ir::input(n->dtype, n->shape, fresh_name(p)));
    for (const NodeRef &s : substitutes)
      if (try_accept(rebuild(p, {{n, s}}, same_extent), p)) return true;
  }
  return false;
}

bool Reducer::shrink_extents(Program &p) {
  std::set<int64_t, std::greater<>> extents;
  for (const Node *n : topo_order(p.output_nodes()))
    if (n->is(Op::Input))
      for (int64_t d : n->shape)
        if (d > 1) extents.insert(d);
  for (int64_t e : extents)
    for (int64_t smaller : {int64_t{1}, e / 2, e - 1}) {
      // Halving a huge extent would walk down through sizes that allocate
      // and fill gigabytes before one fits: huge ones only try 1.
      if (smaller < 1 || smaller >= e || (smaller > 1 && e > kMaxHalvedExtent)) continue;
      ExtentMap map = [e, smaller](int64_t d) { return d == e ? smaller : d; };
      if (try_accept(rebuild(p, {}, map), p)) return true;
    }
  return false;
}

Program Reducer::run(Program p) {
  drop_outputs(p);
  while (checks_left_ > 0) {
    bool progress = replace_subexpressions(p);
    progress = shrink_extents(p) || progress;
    progress = drop_outputs(p) || progress;
    progress = outputs_to_args(p) || progress;
    if (!progress) break;
  }
  return p;
}

}  // namespace

Program reduce_program(const Program &p, const std::function<bool(const Program &)> &fails,
                       int max_checks) {
  std::optional<Program> normalized = rebuild(p, {}, same_extent);
  return Reducer(fails, max_checks).run(normalized && fails(*normalized) ? *normalized : p);
}

size_t program_ops(const Program &p) {
  size_t ops = 0;
  for (const Node *n : topo_order(p.output_nodes())) ops += n->kind() != OpKind::Leaf;
  return ops;
}

int64_t program_input_elements(const Program &p) {
  int64_t total = 0;
  for (const Node *n : topo_order(p.output_nodes()))
    if (n->is(Op::Input)) total += n->numel();
  return total;
}

}  // namespace fusejit::difftest
