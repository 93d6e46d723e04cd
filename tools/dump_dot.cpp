// DOT pictures of the graph and kernels stages, for Graphviz's `dot`.
#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "ir/kernel_printer.h"
#include "ir/printer.h"
#include "tools/dump_formats.h"

namespace fusejit::tool {

namespace {

// "k1: reduce(sum) f32 domain [8, 1 | 10]", as the kernels text prints it.
std::string kernel_title(const Kernel &k) {
  std::string s = k.name + ": " + kernel_kind_name(k.kind());
  if (k.kind() == KernelKind::Reduce) s += std::string("(") + op_name(k.reduction->op) + ")";
  if (k.kind() == KernelKind::Row) s += "(" + row_phases_str(k) + ")";
  s += std::string(" ") + dtype_name(k.dtype) + " domain [";
  for (size_t i = 0; i < k.domain.size(); ++i)
    s += (i == k.num_output_dims() ? (i ? " | " : "| ")
          : i                      ? ", "
                                   : "") +
         std::to_string(k.domain[i]);
  return s + "]";
}

const char *kPreamble =
    "  rankdir=TB;\n"
    "  graph [fontname=\"Helvetica\", fontsize=11];\n"
    "  node [fontname=\"Helvetica\", fontsize=10];\n"
    "  edge [fontname=\"Helvetica\", fontsize=9];\n";

// Kernels picture: where a kernel's op reads an arg from. Views are strides
// on the load, so they are walked through and named on the edge.
struct Source {
  const Node *node;
  std::string views;  // "permute, reshape", nearest the consumer first
};

class KernelsDot {
 public:
  explicit KernelsDot(const KernelsView &view) : v_(view) {
    const Plan &plan = v_.plan;
    for (size_t i = 0; i < plan.input_nodes.size(); ++i)
      buffer_of_[plan.input_nodes[i]] = plan.input_buffers[i];
    for (size_t k = 0; k < plan.kernels.size(); ++k)
      for (size_t o = 0; o < plan.kernels[k].outputs.size(); ++o)
        buffer_of_[v_.trace.kernels[k].tops[o]] = plan.kernels[k].outputs[o].buffer;
  }

  std::string run(const std::vector<std::string> &comments) {
    os_ << "digraph kernels {\n" << kPreamble;
    for (size_t b = 0; b < v_.plan.buffers.size(); ++b) buffer_node(b);
    for (size_t k = 0; k < v_.plan.kernels.size(); ++k) cluster(k);
    for (const std::string &c : comments) os_ << "  // " << c << "\n";
    os_ << "}\n";
    return os_.str();
  }

 private:
  std::string name_of(const Node *n) const {
    auto it = v_.value_names.find(n);
    return it != v_.value_names.end() ? it->second : "";
  }
  std::string buffer_id(int b) const { return dot_quote("buf:" + v_.buffer_names[b]); }
  std::string op_id(size_t k, const Node *n) const {
    return dot_quote(v_.plan.kernels[k].name + "/" + name_of(n) + "/" +
                     std::to_string(index_.at(n)));
  }

  void buffer_node(size_t b) {
    const PlanBuffer &pb = v_.plan.buffers[b];
    std::string label = v_.buffer_names[b];
    const char *style = "";
    if (pb.role == PlanBuffer::Role::Temp) {
      for (size_t k = 0; k < v_.plan.kernels.size(); ++k)
        for (size_t o = 0; o < v_.plan.kernels[k].outputs.size(); ++o)
          if (v_.plan.kernels[k].outputs[o].buffer == static_cast<int>(b))
            label += " = " + name_of(v_.trace.kernels[k].tops[o]);
      style = ", style=dashed";
    } else if (pb.role == PlanBuffer::Role::Output) {
      style = ", peripheries=2";
    }
    label += "\n" + type_str(pb.dtype, pb.shape) + "\n" + std::to_string(pb.bytes()) + " bytes";
    os_ << "  " << buffer_id(static_cast<int>(b)) << " [shape=box" << style
        << ", label=" << dot_quote(label) << "];\n";
  }

  Source source(const Node *n) const {
    std::string views;
    while (n->kind() == OpKind::View && !buffer_of_.count(n)) {
      views += (views.empty() ? "" : ", ") + std::string(op_name(n->op));
      n = n->args[0].get();
    }
    return {n, views};
  }

  void cluster(size_t k) {
    const Kernel &kernel = v_.plan.kernels[k];
    const FuseTrace::KernelNodes &kn = v_.trace.kernels[k];
    std::vector<const Node *> nodes = kn.nodes;
    // A value that only copies through a view computes no op of its own.
    for (const Node *top : kn.tops)
      if (std::find(nodes.begin(), nodes.end(), top) == nodes.end()) nodes.push_back(top);
    index_.clear();
    for (size_t i = 0; i < nodes.size(); ++i) index_[nodes[i]] = i;

    os_ << "  subgraph cluster_" << kernel.name << " {\n"
        << "    label=" << dot_quote(kernel_title(kernel))
        << ";\n    style=rounded; color=\"#4a7ab5\";\n";
    for (const Node *n : nodes)
      os_ << "    " << op_id(k, n)
          << " [shape=ellipse, label=" << dot_quote(op_label(*n, name_of(n))) << "];\n";
    os_ << "  }\n";
    std::unordered_set<std::string> edges;
    for (const Node *n : nodes)
      for (const NodeRef &a : n->args) {
        Source s = source(a.get());
        if (s.node->is(Op::Const)) continue;  // inlined in the label
        // Elementwise args of another shape are broadcast: strides of 0.
        if (a->shape != n->shape && n->kind() != OpKind::Reduce && n->kind() != OpKind::Matmul &&
            n->kind() != OpKind::View)
          s.views += (s.views.empty() ? "" : ", ") + std::string("broadcast");
        std::string from =
            index_.count(s.node) ? op_id(k, s.node) : buffer_id(buffer_of_.at(s.node));
        std::string edge = "  " + from + " -> " + op_id(k, n) +
                           (s.views.empty() ? "" : " [label=" + dot_quote(s.views) + "]") + ";\n";
        if (edges.insert(edge).second) os_ << edge;
      }
    for (size_t o = 0; o < kernel.outputs.size(); ++o)
      os_ << "  " << op_id(k, kn.tops[o]) << " -> " << buffer_id(kernel.outputs[o].buffer) << ";\n";
  }

  const KernelsView &v_;
  std::unordered_map<const Node *, int> buffer_of_;
  std::unordered_map<const Node *, size_t> index_;  // the current kernel's ops
  std::ostringstream os_;
};

}  // namespace

std::string dot_quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out + "\"";
}

std::string op_label(const Node &n, const std::string &name, bool inline_constants) {
  std::string op = op_name(n.op);
  if (n.kind() == OpKind::Reduce) op += " " + shape_str(n.dims) + (n.keepdim ? " keepdim" : "");
  if (n.is(Op::Permute)) op += " " + shape_str(n.dims);
  if (n.is(Op::Const)) op = format_float(n.value);
  for (const NodeRef &a : n.args)
    if (inline_constants && a->is(Op::Const)) op += " " + format_float(a->value);
  return name.empty() ? op : name + "\n" + op;
}

std::string program_dot(const Program &p, const std::string &title,
                        const std::vector<std::string> &comments) {
  std::vector<std::pair<const Node *, std::string>> ids = program_ids(p);
  std::unordered_map<const Node *, std::string> id_of(ids.begin(), ids.end());
  std::unordered_set<const Node *> outputs;
  for (const auto &[name, node] : p.outputs) outputs.insert(node.get());
  std::ostringstream os;
  os << "digraph " << dot_quote(title) << " {\n" << kPreamble;
  for (const auto &[n, id] : ids) {
    std::string shape = n->is(Op::Input) ? "box" : n->is(Op::Const) ? "plaintext" : "ellipse";
    std::string label = n->is(Op::Const) ? format_float(n->value) : op_label(*n, id, false);
    if (!n->is(Op::Const)) label += "\n" + type_str(n->dtype, n->shape);
    os << "  " << dot_quote(id) << " [shape=" << shape
       << (outputs.count(n) ? ", peripheries=2" : "") << ", label=" << dot_quote(label) << "];\n";
  }
  for (const auto &[n, id] : ids)
    for (size_t i = 0; i < n->args.size(); ++i) {
      os << "  " << dot_quote(id_of.at(n->args[i].get())) << " -> " << dot_quote(id);
      // Operand order matters for - / < > pow where: number the edges.
      if (n->args.size() > 1) os << " [label=\"" << i << "\"]";
      os << ";\n";
    }
  for (const std::string &c : comments) os << "  // " << c << "\n";
  os << "}\n";
  return os.str();
}

std::string kernels_dot(const KernelsView &view, const std::vector<std::string> &comments) {
  return KernelsDot(view).run(comments);
}

}  // namespace fusejit::tool
