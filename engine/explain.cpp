#include "engine/explain.h"

#include <unordered_set>

#include "engine/canonicalize.h"
#include "engine/pipeline.h"
#include "engine/recognize_matmul.h"
#include "ir/error.h"

namespace fusejit {

namespace {

using Names = std::unordered_map<const Node *, std::string>;

std::string type_of(const Node &n) { return std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape); }

std::string join_kernels(const std::vector<size_t> &ks, const Plan &plan) {
  std::string s;
  for (size_t k : ks) s += (s.empty() ? "" : ", ") + plan.kernels[k].name;
  return s;
}

const char *reason_tag(FuseReason r) {
  switch (r) {
    case FuseReason::Root: return "root";
    case FuseReason::SharedExpensive: return "shared";
    case FuseReason::SizeLimit: return "size-limit";
    case FuseReason::ReduceShared: return "shared-reduction";
    case FuseReason::ReduceBroadcast: return "reduce-then-broadcast";
    case FuseReason::ReduceIntoReduce: return "reduce-into-reduce";
    case FuseReason::ViewAfterReduce: return "view-after-reduce";
    case FuseReason::EpilogueTaken: return "epilogue-taken";
    case FuseReason::FusionOff: return "fusion-off";
  }
  return "?";
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
      for (size_t o = 0; o < v_.plan.kernels[k].outputs.size(); ++o) out.push_back(kernel_line(k, o));
      if (v_.plan.kernels[k].outputs.size() > 1) out.push_back(shared_kernel_line(k));
    }
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
    std::string line = v_.plan.kernels[k].name + " -> " + (to.empty() ? "output" : join_kernels(to, v_.plan)) +
                       " at " + label(top);
    if (m.anchor && m.anchor != top) line += ", the epilogue of " + label(m.anchor);
    return line + " [" + reason_tag(m.reason) + "]: " + reason(m, to);
  }

  // Why several values share kernel k (fuse.h, rule 8).
  std::string shared_kernel_line(size_t k) const {
    const Kernel &kernel = v_.plan.kernels[k];
    std::string values;
    for (const Node *top : v_.trace.kernels[k].tops) values += (values.empty() ? "" : ", ") + label(top);
    return kernel.name + " [multi-output]: one loop over domain " + shape_str(kernel.domain) + " writes " +
           std::to_string(kernel.outputs.size()) + " values, " + values +
           ": they have one shape and dtype, and none reads a buffer another writes";
  }

  std::string reason(const FuseTrace::Materialized &m, const std::vector<size_t> &to) const {
    std::string consumer = m.consumer ? label(m.consumer) : "";
    switch (m.reason) {
      case FuseReason::Root:
        return "a program output" +
               (to.empty() ? std::string() : ", stored once and read back by " + join_kernels(to, v_.plan));
      case FuseReason::SharedExpensive:
        return "it has " + std::to_string(m.consumers) + " consumers and recomputing it would cost " +
               std::to_string(m.cost) + " ops in each (limit " + std::to_string(kRecomputeOps) + ")";
      case FuseReason::SizeLimit:
        return "its expression has " + std::to_string(m.cost) + " ops, more than one kernel folds (" +
               std::to_string(kMaxKernelOps) + ")";
      case FuseReason::ReduceShared:
        return "it has " + std::to_string(m.consumers) +
               " consumers, and a reduction's result is stored rather than recomputed in each";
      case FuseReason::ReduceBroadcast:
        return "its consumer " + consumer + " broadcasts it, so the whole reduction must finish first";
      case FuseReason::ReduceIntoReduce:
        return "it feeds the prologue of the reduction " + consumer + ", and a kernel holds one reduction";
      case FuseReason::ViewAfterReduce:
        return "its consumer " + consumer +
               " reorders it, and an epilogue takes only elementwise ops and reshapes (which keep the row-major order)";
      case FuseReason::EpilogueTaken:
        return "its consumer " + consumer + " is already the epilogue of another reduction, in " +
               kernel_computing(m.consumer);
      case FuseReason::FusionOff:
        return "fusion is off: every op is its own kernel";
    }
    return "?";
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

// What recognize_matmul says after its "<what>: " prefix.
std::string note_tail(const std::string &note) {
  const std::string miss = "not a matmul: ";
  size_t from = note.rfind(miss, 0) == 0 ? miss.size() : 0;
  size_t colon = note.find(": ", from);
  return colon == std::string::npos ? note : note.substr(colon + 2);
}

std::string mkn(int64_t m, int64_t k, int64_t n, int64_t batch) {
  return "M " + std::to_string(m) + ", K " + std::to_string(k) + ", N " + std::to_string(n) +
         (batch > 1 ? ", batch " + std::to_string(batch) : "");
}

// One line per matmul written with `@`, per zip-then-reduce recognized as a
// matmul, and per near miss. Recognition runs after canonicalization, so it
// is asked again here about each canonical sum, named as the graph prints it.
std::vector<std::string> matmul_lines(const Program &p) {
  std::vector<std::pair<NodeRef, std::string>> named = named_values(p);
  std::vector<NodeRef> roots;
  for (const auto &[node, name] : named) roots.push_back(node);
  std::vector<NodeRef> canon = canonicalize(roots, current_numerics());
  std::vector<NodeRef> program = canonicalize(p.output_nodes(), current_numerics());
  std::unordered_set<const Node *> live;
  for (const Node *n : topo_order(program)) live.insert(n);
  Names names;
  for (size_t i = 0; i < named.size(); ++i) names.emplace(canon[i].get(), named[i].second);
  auto label = [&](const NodeRef &n) {
    auto it = names.find(n.get());
    return it != names.end() ? it->second : "(" + type_of(*n) + ")";
  };

  std::vector<std::string> out;
  std::unordered_set<const Node *> done;
  for (const NodeRef &c : canon) {
    if (!live.count(c.get()) || !done.insert(c.get()).second) continue;
    if (c->is(Op::Matmul)) {
      const Shape &a = c->args[0]->shape, &s = c->shape;
      int64_t batch = numel(Shape(s.begin(), s.end() - 2));
      out.push_back("matmul " + label(c) + " [explicit]: " + label(c->args[0]) + " @ " + label(c->args[1]) +
                    ": " + mkn(s[s.size() - 2], a.back(), s.back(), batch));
      continue;
    }
    if (!c->is(Op::Sum) || c->args[0]->kind() != OpKind::Binary) continue;
    std::vector<std::string> notes;
    recognize_matmul({c}, &notes);
    // c is visited last and always gets a note: found, or what broke the pattern.
    FUSEJIT_INTERNAL_CHECK(!notes.empty(), "explain: matmul recognition said nothing about ", type_of(*c));
    const Node &zip = *c->args[0];
    std::string what = "sum over dims " + shape_str(c->dims) + " of " + label(c->args[0]) + " = " +
                       label(zip.args[0]) + " " + op_name(zip.op) + " " + label(zip.args[1]);
    bool found = notes.back().rfind("matmul from ", 0) == 0;
    out.push_back(found ? "matmul " + label(c) + " [zip-then-reduce]: " + what + ": " + note_tail(notes.back())
                        : label(c) + " [near-miss]: " + what + " is not a matmul: " + note_tail(notes.back()));
  }
  return out;
}

}  // namespace

std::string value_label(const Names &names, const Node &n) {
  auto it = names.find(&n);
  return (it != names.end() ? it->second + " " : std::string()) + "(" + type_of(n) + ")";
}

std::vector<std::string> explain_fusion(const Program &p, const KernelsView &view) {
  std::vector<std::string> lines = BoundaryExplainer(view).lines();
  for (std::string &line : matmul_lines(p)) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> explain_fusion(const Program &p) { return explain_fusion(p, kernels_view(p)); }

}  // namespace fusejit
