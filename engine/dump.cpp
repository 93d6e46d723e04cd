#include "engine/dump.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "engine/optimize.h"
#include "codegen/compile_kernel.h"
#include "engine/fuse.h"
#include "engine/pipeline.h"
#include "engine/plan_memory.h"
#include "ir/kernel_printer.h"
#include "ir/printer.h"

namespace fusejit {

namespace {

constexpr const char *kStageNames[] = {"graph", "optimized", "kernels", "llvm", "asm"};

// Every node reachable from `roots` by its owning reference.
std::unordered_map<const Node *, NodeRef> node_refs(const std::vector<NodeRef> &roots) {
  std::unordered_map<const Node *, NodeRef> refs;
  std::vector<NodeRef> stack = roots;
  while (!stack.empty()) {
    NodeRef n = std::move(stack.back());
    stack.pop_back();
    if (!refs.emplace(n.get(), n).second) continue;
    for (const NodeRef &a : n->args) stack.push_back(a);
  }
  return refs;
}

// Binds the optimized values to graph-stage names. The graph passes rewrite
// each node from its args alone and nodes are hash-consed, so optimizing the
// named values as roots yields the very nodes of the optimized graph.
void bind_graph_names(const Program &p, const std::vector<NodeRef> &optimized, Program &out) {
  std::vector<std::pair<NodeRef, std::string>> names = named_values(p);
  std::vector<NodeRef> named;
  std::unordered_set<std::string> used;
  for (const auto &[node, name] : names) {
    named.push_back(node);
    used.insert(name);
  }
  std::vector<NodeRef> same = optimize_graph(named, current_numerics());
  std::unordered_map<const Node *, NodeRef> reachable = node_refs(optimized);
  std::unordered_map<const Node *, std::string> given;
  for (size_t i = 0; i < names.size(); ++i)
    if (reachable.count(same[i].get())) given.emplace(same[i].get(), names[i].second);
  int fresh = 0;
  for (const Node *n : topo_order(optimized)) {
    if (n->is(Op::Input) || n->is(Op::Const)) continue;
    auto it = given.find(n);
    std::string name;
    if (it != given.end()) {
      name = it->second;
    } else {
      do name = "t" + std::to_string(fresh++);
      while (used.count(name));
      used.insert(name);
    }
    out.bindings.push_back({name, reachable.at(n)});
  }
}

}  // namespace

const char *stage_name(Stage s) { return kStageNames[static_cast<int>(s)]; }

Stage parse_stage(const std::string &name) {
  for (int i = 0; i < 5; ++i)
    if (name == kStageNames[i]) return static_cast<Stage>(i);
  throw ValueError("unknown stage '" + name + "' (expected graph, optimized, kernels, llvm or asm)");
}

std::vector<std::pair<NodeRef, std::string>> named_values(const Program &p) {
  std::unordered_map<const Node *, NodeRef> refs = node_refs(p.output_nodes());
  for (const NodeRef &in : p.inputs) refs.emplace(in.get(), in);
  std::vector<std::pair<NodeRef, std::string>> out;
  for (const auto &[node, name] : value_names(p)) out.emplace_back(refs.at(node), name);
  return out;
}

Program optimized_program(const Program &p, std::vector<std::string> *notes) {
  std::vector<NodeRef> roots = optimize_graph(p.output_nodes(), current_numerics(), notes);
  Program out;
  out.inputs = p.inputs;
  for (const NodeRef &in : p.inputs) out.bindings.push_back({in->name, in});
  for (size_t i = 0; i < roots.size(); ++i) out.outputs.push_back({p.outputs[i].first, roots[i]});
  bind_graph_names(p, roots, out);
  return out;
}

KernelsView kernels_view(const Program &p) {
  std::vector<std::string> matmul_notes;
  KernelsView view;
  view.optimized = optimized_program(p, &matmul_notes);
  const Program &opt = view.optimized;
  for (const auto &[node, name] : value_names(opt)) view.value_names.emplace(node, name);
  view.plan = fuse(opt.output_nodes(), {}, &view.trace);
  // Measured on the program as written: the product a matmul replaced counts.
  view.plan.unfused_intermediate_bytes = unfused_intermediate_bytes(p.output_nodes());
  view.plan.notes.insert(view.plan.notes.begin(), matmul_notes.begin(), matmul_notes.end());
  plan_memory(view.plan);
  const Plan &plan = view.plan;
  view.buffer_names.assign(plan.buffers.size(), "");
  int unnamed = 0, temps = 0;
  for (size_t i = 0; i < plan.input_nodes.size(); ++i) {
    const Node *n = plan.input_nodes[i];
    view.buffer_names[plan.input_buffers[i]] =
        n->is(Op::Input) && !n->name.empty() ? n->name : "x" + std::to_string(unnamed++);
  }
  for (size_t r = 0; r < plan.root_buffers.size(); ++r)
    if (view.buffer_names[plan.root_buffers[r]].empty())
      view.buffer_names[plan.root_buffers[r]] = opt.outputs[r].first;
  for (std::string &name : view.buffer_names)
    if (name.empty()) name = "tmp" + std::to_string(temps++);
  return view;
}

std::string kernels_text(const KernelsView &view) {
  const Plan &plan = view.plan;
  std::ostringstream os;
  os << "# " << plan.kernels.size() << (plan.kernels.size() == 1 ? " kernel" : " kernels")
     << ", intermediate bytes " << plan.intermediate_bytes << " (unfused "
     << plan.unfused_intermediate_bytes << ")\n";
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlanBuffer &pb = plan.buffers[b];
    os << "buf" << b << " = " << PlanBuffer::role_name(pb.role) << " " << view.buffer_names[b] << " "
       << type_str(pb.dtype, pb.shape);
    if (pb.slot >= 0) os << " slot " << pb.slot;
    os << "\n";
  }
  for (const Kernel &k : plan.kernels) os << print_kernel(k);
  for (const std::string &note : plan.notes) os << "# note: " << note << "\n";
  return os.str();
}

std::string dump(const Program &p, Stage stage, bool llvm_before_opt) {
  switch (stage) {
    case Stage::Graph: return print_program(p);
    case Stage::Optimized: return print_program(optimized_program(p));
    case Stage::Kernels: return kernels_text(kernels_view(p));
    case Stage::Llvm:
    case Stage::Asm: break;
  }
  DumpStage what = stage == Stage::Asm ? DumpStage::Assembly
                   : llvm_before_opt   ? DumpStage::LlvmIr
                                       : DumpStage::OptimizedLlvmIr;
  Numerics numerics = current_numerics();
  std::ostringstream os;
  for (const Kernel &k : kernels_view(p).plan.kernels) {
    const char *comment = stage == Stage::Asm ? "#" : ";";
    os << comment << " kernel " << k.name << " (" << kernel_kind_name(k.kind) << ", "
       << numerics_name(numerics) << " numerics)\n"
       << dump_kernel(k, numerics, what) << "\n";
  }
  return os.str();
}

std::string dump(const Tensor &t, Stage stage) {
  Program p;
  p.outputs.push_back({"out", t.node()});
  return dump(p, stage);
}

}  // namespace fusejit
