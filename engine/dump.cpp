#include "engine/dump.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "codegen/compile_kernel.h"
#include "engine/pipeline.h"
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

// What one run of the pipeline says about a program's named values too: the
// graph-stage names, carried through the passes as extra roots.
struct NamedRun {
  std::vector<std::pair<NodeRef, std::string>> names;
  PipelineArtifacts artifacts;
};

NamedRun run_named(const Program &p, const Options &options, bool plan) {
  NamedRun run;
  run.names = named_values(p);
  PipelineRequest request;
  for (const auto &[node, name] : run.names) request.also.push_back(node);
  request.plan = plan;
  run.artifacts = run_pipeline(p.output_nodes(), options, request);
  return run;
}

// The optimized program, its values bound to graph-stage names: the image of
// each named value (an extra root of the run) takes its name where the
// optimized outputs still reach it.
Program bind_graph_names(const Program &p, const NamedRun &run) {
  const PipelineArtifacts &a = run.artifacts;
  std::vector<NodeRef> roots(a.optimized.begin(),
                             a.optimized.begin() + static_cast<std::ptrdiff_t>(a.num_roots));
  Program out;
  out.inputs = p.inputs;
  for (const NodeRef &in : p.inputs) out.bindings.emplace_back(in->name, in);
  for (size_t i = 0; i < roots.size(); ++i) out.outputs.emplace_back(p.outputs[i].first, roots[i]);
  std::unordered_set<std::string> used;
  for (const auto &[node, name] : run.names) used.insert(name);
  std::unordered_map<const Node *, NodeRef> reachable = node_refs(roots);
  std::unordered_map<const Node *, std::string> given;
  for (size_t i = 0; i < run.names.size(); ++i) {
    const Node *image = a.optimized[a.num_roots + i].get();
    if (reachable.count(image)) given.emplace(image, run.names[i].second);
  }
  int fresh = 0;
  for (const Node *n : topo_order(roots)) {
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
    out.bindings.emplace_back(name, reachable.at(n));
  }
  return out;
}

}  // namespace

const char *stage_name(Stage s) { return kStageNames[static_cast<int>(s)]; }

Stage parse_stage(const std::string &name) {
  for (int i = 0; i < 5; ++i)
    if (name == kStageNames[i]) return static_cast<Stage>(i);
  throw ValueError("unknown stage '" + name +
                   "' (expected graph, optimized, kernels, llvm or asm)");
}

std::vector<std::pair<NodeRef, std::string>> named_values(const Program &p) {
  std::unordered_map<const Node *, NodeRef> refs = node_refs(p.output_nodes());
  for (const NodeRef &in : p.inputs) refs.emplace(in.get(), in);
  std::vector<std::pair<NodeRef, std::string>> out;
  for (const auto &[node, name] : value_names(p)) out.emplace_back(refs.at(node), name);
  return out;
}

Program optimized_program(const Program &p, const Options &options) {
  return bind_graph_names(p, run_named(p, options, false));
}

KernelsView kernels_view(const Program &p, const Options &options) {
  NamedRun run = run_named(p, options, true);
  PipelineArtifacts &a = run.artifacts;
  KernelsView view;
  view.optimized = bind_graph_names(p, run);
  const Program &opt = view.optimized;
  for (const auto &[node, name] : value_names(opt)) view.value_names.emplace(node, name);
  view.numerics = options.numerics;
  view.notes = pipeline_notes(a);
  view.plan = std::move(a.plan);
  view.trace = std::move(a.fusion);
  view.matmuls = std::move(a.matmuls);
  for (size_t i = 0; i < run.names.size(); ++i)
    view.canonical_names.emplace_back(a.canonical[a.num_roots + i], run.names[i].second);
  view.canonical_outputs.assign(a.canonical.begin(),
                                a.canonical.begin() + static_cast<std::ptrdiff_t>(a.num_roots));
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
    os << "buf" << b << " = " << PlanBuffer::role_name(pb.role) << " " << view.buffer_names[b]
       << " " << type_str(pb.dtype, pb.shape);
    if (pb.slot >= 0) os << " slot " << pb.slot;
    os << "\n";
  }
  for (const Kernel &k : plan.kernels) os << print_kernel(k);
  for (const std::string &note : view.notes) os << "# note: " << note << "\n";
  return os.str();
}

std::string kernels_code_text(const KernelsView &view, DumpStage what) {
  std::ostringstream os;
  for (const Kernel &k : view.plan.kernels) {
    const char *comment = what == DumpStage::Assembly ? "#" : ";";
    os << comment << " kernel " << k.name << " (" << kernel_kind_name(k.kind()) << ", "
       << numerics_name(view.numerics) << " numerics)\n"
       << dump_kernel(k, view.numerics, what) << "\n";
  }
  return os.str();
}

std::string dump(const Program &p, Stage stage, bool llvm_before_opt, const Options &options) {
  switch (stage) {
    case Stage::Graph:
      return print_program(p);
    case Stage::Optimized:
      return print_program(optimized_program(p, options));
    case Stage::Kernels:
      return kernels_text(kernels_view(p, options));
    case Stage::Llvm:
      return kernels_code_text(kernels_view(p, options),
                               llvm_before_opt ? DumpStage::LlvmIr : DumpStage::OptimizedLlvmIr);
    case Stage::Asm:
      return kernels_code_text(kernels_view(p, options), DumpStage::Assembly);
  }
  return "";
}

std::string dump(const Tensor &t, Stage stage) {
  Program p;
  p.outputs.emplace_back("out", t.node());
  return dump(p, stage);
}

}  // namespace fusejit
