#include "engine/explain.h"

#include <unordered_set>

#include "engine/pass_notes.h"
#include "ir/error.h"
#include "ir/kernel_printer.h"

namespace fusejit {

namespace {

using Names = std::unordered_map<const Node *, std::string>;

std::string type_of(const Node &n) {
  return std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape);
}

std::string join_kernels(const std::vector<size_t> &ks, const Plan &plan) {
  std::string s;
  for (size_t k : ks) s += (s.empty() ? "" : ", ") + plan.kernels[k].name;
  return s;
}

// One line per kernel: where it ends, who reads what it writes, and why the
// readers could not take its ops into their own loops.
class BoundaryExplainer {
 public:
  explicit BoundaryExplainer(const KernelsView &view) : v_(view) {
    for (const FuseTrace::Materialized &m : v_.trace.materialized) why_.emplace(m.value, &m);
  }

  std::vector<std::string> lines() {
    std::vector<std::string> out;
    for (size_t k = 0; k < v_.plan.kernels.size(); ++k) {
      for (size_t o = 0; o < v_.plan.kernels[k].outputs.size(); ++o)
        out.push_back(kernel_line(k, o));
      if (!v_.trace.kernels[k].phases.empty())
        out.push_back(row_kernel_line(k));
      else if (v_.plan.kernels[k].outputs.size() > 1)
        out.push_back(shared_kernel_line(k));
    }
    for (const FuseTrace::RowMiss &m : v_.trace.row_misses)
      out.push_back(label(m.reduction) + " [no-row]: not a phase of a row kernel: " + m.why);
    for (std::string &line : recomputed_lines()) out.push_back(std::move(line));
    return out;
  }

 private:
  std::string label(const Node *n) const { return value_label(v_.value_names, *n); }

  // The kernels that read output `o` of kernel `k`.
  std::vector<size_t> readers(size_t k, size_t o) const {
    int buffer = v_.plan.kernels[k].outputs[o].buffer;
    std::vector<size_t> out;
    for (size_t j = 0; j < v_.plan.kernels.size(); ++j)
      for (const KernelInput &in : v_.plan.kernels[j].inputs)
        if (in.buffer == buffer) {
          out.push_back(j);
          break;
        }
    return out;
  }

  // The kernel that computes `n` as part of its body, for "already taken".
  std::string kernel_computing(const Node *n) const {
    for (size_t k = 0; k < v_.trace.kernels.size(); ++k)
      for (const Node *m : v_.trace.kernels[k].nodes)
        if (m == n) return v_.plan.kernels[k].name;
    return "another kernel";
  }

  // Where kernel k's output o ends, one line per value the kernel writes.
  std::string kernel_line(size_t k, size_t o) const {
    const Node *top = v_.trace.kernels[k].tops.at(o);
    const FuseTrace::Materialized &m = *why_.at(top);
    std::vector<size_t> to = readers(k, o);
    std::string line = v_.plan.kernels[k].name + " -> " +
                       (to.empty() ? "output" : join_kernels(to, v_.plan)) + " at " + label(top);
    if (m.anchor && m.anchor != top) line += ", the epilogue of " + label(m.anchor);
    FusionNames names{m.consumer ? label(m.consumer) : "", join_kernels(to, v_.plan),
                      m.reason == FuseReason::EpilogueTaken ? kernel_computing(m.consumer) : ""};
    return line + " [" + fusion_reason_tag(m.reason) + "]: " + fusion_reason(m, names);
  }

  // Why several values share kernel k (fuse.h, rule 8).
  std::string shared_kernel_line(size_t k) const {
    const Kernel &kernel = v_.plan.kernels[k];
    std::string values;
    for (const Node *top : v_.trace.kernels[k].tops)
      values += (values.empty() ? "" : ", ") + label(top);
    return kernel.name + " [multi-output]: one loop over domain " + shape_str(kernel.domain) +
           " writes " + std::to_string(kernel.outputs.size()) + " values, " + values +
           ": they have one shape and dtype, and none reads a buffer another writes";
  }

  // Why kernel k is one loop over rows (fuse.h, rule 9).
  std::string row_kernel_line(size_t k) const {
    const Kernel &kernel = v_.plan.kernels[k];
    std::string phases;
    for (const Node *p : v_.trace.kernels[k].phases)
      phases += (phases.empty() ? "" : ", ") + std::string(op_name(p->op)) + " " + label(p);
    std::string line =
        kernel.name + " [row]: per row of domain " +
        shape_str(Shape(kernel.domain.begin(),
                        kernel.domain.end() - static_cast<std::ptrdiff_t>(kernel.num_reduce))) +
        " | " +
        shape_str(Shape(kernel.domain.end() - static_cast<std::ptrdiff_t>(kernel.num_reduce),
                        kernel.domain.end())) +
        ", phases " + phases + ", then the store (" + row_phases_str(kernel) +
        "): each reduction is broadcast back over its own row, so a row's passes "
        "run in order and re-read it from cache";
    if (kernel.outputs.size() > 1)
      line += "; it writes " + std::to_string(kernel.outputs.size()) + " values";
    return line;
  }

  // Values computed inside more than one kernel: the cheap shared ones.
  std::vector<std::string> recomputed_lines() const {
    std::unordered_map<const Node *, std::vector<size_t>> in_kernels;
    for (size_t k = 0; k < v_.trace.kernels.size(); ++k)
      for (const Node *n : v_.trace.kernels[k].nodes) in_kernels[n].push_back(k);
    std::vector<std::string> out;
    for (const Node *n : topo_order(v_.optimized.output_nodes())) {
      auto it = in_kernels.find(n);
      if (it == in_kernels.end() || it->second.size() < 2) continue;
      out.push_back(label(n) + " [recomputed]: computed in " + join_kernels(it->second, v_.plan) +
                    " rather than stored; it costs at most " + std::to_string(kRecomputeOps) +
                    " ops in each");
    }
    return out;
  }

  const KernelsView &v_;
  std::unordered_map<const Node *, const FuseTrace::Materialized *> why_;
};

// One line per matmul written with `@`, per zip-then-reduce recognized as a
// matmul, and per near miss, about each canonical value the graph names (in
// print order): recognition runs after canonicalization, so its decisions are
// about those values, named as the graph prints them.
std::vector<std::string> matmul_lines(const KernelsView &view) {
  std::unordered_set<const Node *> live;
  for (const Node *n : topo_order(view.canonical_outputs)) live.insert(n);
  Names names;
  for (const auto &[node, name] : view.canonical_names) names.emplace(node.get(), name);
  std::unordered_map<const Node *, const MatmulDecision *> decision;
  for (const MatmulDecision &d : view.matmuls) decision.emplace(d.sum, &d);
  auto label = [&](const NodeRef &n) {
    auto it = names.find(n.get());
    return it != names.end() ? it->second : "(" + type_of(*n) + ")";
  };

  std::vector<std::string> out;
  std::unordered_set<const Node *> done;
  for (const auto &[c, name] : view.canonical_names) {
    if (!live.count(c.get()) || !done.insert(c.get()).second) continue;
    if (c->is(Op::Matmul)) {
      const Shape &a = c->args[0]->shape, &s = c->shape;
      int64_t batch = numel(Shape(s.begin(), s.end() - 2));
      out.push_back("matmul " + label(c) + " [explicit]: " + label(c->args[0]) + " @ " +
                    label(c->args[1]) + ": " +
                    matmul_extents(s[s.size() - 2], a.back(), s.back(), batch, batch > 1));
      continue;
    }
    if (!c->is(Op::Sum) || c->args[0]->kind() != OpKind::Binary) continue;
    auto it = decision.find(c.get());
    // Every live sum of a zip was looked at: found, or what broke the pattern.
    FUSEJIT_INTERNAL_CHECK(it != decision.end(), "explain: matmul recognition said nothing about ",
                           type_of(*c));
    const MatmulDecision &d = *it->second;
    const Node &zip = *c->args[0];
    std::string what = "sum over dims " + shape_str(c->dims) + " of " + label(c->args[0]) + " = " +
                       label(zip.args[0]) + " " + op_name(zip.op) + " " + label(zip.args[1]);
    out.push_back(
        d.found() ? "matmul " + label(c) + " [zip-then-reduce]: " + what + ": " + matmul_detail(d)
                  : label(c) + " [near-miss]: " + what + " is not a matmul: " + matmul_detail(d));
  }
  return out;
}

}  // namespace

std::string value_label(const Names &names, const Node &n) {
  auto it = names.find(&n);
  return (it != names.end() ? it->second + " " : std::string()) + "(" + type_of(n) + ")";
}

std::vector<std::string> explain_fusion(const KernelsView &view) {
  std::vector<std::string> lines = BoundaryExplainer(view).lines();
  for (std::string &line : matmul_lines(view)) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> explain_fusion(const Program &p, const Options &options) {
  return explain_fusion(kernels_view(p, options));
}

}  // namespace fusejit
