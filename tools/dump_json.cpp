// JSON forms of the graph and kernels stages.
#include <unordered_map>
#include <unordered_set>

#include "ir/printer.h"
#include "tools/dump_formats.h"

namespace fusejit::tool {

namespace {

// The fields that are not args, dtype or shape, by op kind.
nlohmann::json attributes(const Node &n) {
  nlohmann::json a = nlohmann::json::object();
  switch (n.kind()) {
    case OpKind::Leaf:
      if (n.is(Op::Input))
        a["name"] = n.name;
      else
        a["value"] = n.value;
      break;
    case OpKind::Reduce:
      a["dims"] = n.dims;
      a["keepdim"] = n.keepdim;
      break;
    case OpKind::View:
      if (n.is(Op::Permute))
        a["perm"] = n.dims;
      else
        a["shape"] = n.shape;
      break;
    case OpKind::Unary:
    case OpKind::Binary:
    case OpKind::Ternary:
    case OpKind::Matmul:
      break;
  }
  return a;
}

}  // namespace

std::vector<std::pair<const Node *, std::string>> program_ids(const Program &p) {
  std::unordered_map<const Node *, std::string> names;
  std::unordered_set<std::string> used;
  for (const auto &[node, name] : value_names(p)) {
    names.emplace(node, name);
    used.insert(name);
  }
  std::vector<std::pair<const Node *, std::string>> out;
  std::unordered_set<const Node *> seen;
  int constants = 0;
  auto add = [&](const Node *n) {
    if (!seen.insert(n).second) return;
    auto it = names.find(n);
    std::string id = it != names.end() ? it->second : "";
    while (id.empty() || (it == names.end() && used.count(id)))
      id = "c" + std::to_string(constants++);
    out.emplace_back(n, id);
  };
  for (const NodeRef &in : p.inputs) add(in.get());
  for (const Node *n : topo_order(p.output_nodes())) add(n);
  return out;
}

nlohmann::json program_json(const Program &p) {
  std::vector<std::pair<const Node *, std::string>> ids = program_ids(p);
  std::unordered_map<const Node *, std::string> id_of(ids.begin(), ids.end());
  nlohmann::json j;
  j["nodes"] = nlohmann::json::array();
  for (const auto &[n, id] : ids) {
    nlohmann::json args = nlohmann::json::array();
    for (const NodeRef &a : n->args) args.push_back(id_of.at(a.get()));
    j["nodes"].push_back({{"id", id},
                          {"op", op_name(n->op)},
                          {"dtype", dtype_name(n->dtype)},
                          {"shape", n->shape},
                          {"args", args},
                          {"attributes", attributes(*n)}});
  }
  j["outputs"] = nlohmann::json::array();
  for (const auto &[name, node] : p.outputs)
    j["outputs"].push_back({{"name", name}, {"node", id_of.at(node.get())}});
  return j;
}

nlohmann::json kernels_json(const KernelsView &view) {
  const Plan &plan = view.plan;
  nlohmann::json j;
  j["kernels"] = nlohmann::json::array();
  for (size_t i = 0; i < plan.kernels.size(); ++i) {
    const Kernel &k = plan.kernels[i];
    nlohmann::json jk = {{"name", k.name},
                         {"kind", kernel_kind_name(k.kind())},
                         {"dtype", dtype_name(k.dtype)},
                         {"ops", kernel_op_names(k)},
                         {"domain", k.domain},
                         {"reduced_dims", k.num_reduce}};
    jk["inputs"] = nlohmann::json::array();
    for (const KernelInput &in : k.inputs) jk["inputs"].push_back(view.buffer_names[in.buffer]);
    jk["outputs"] = nlohmann::json::array();
    for (const KernelOutput &out : k.outputs)
      jk["outputs"].push_back(view.buffer_names[out.buffer]);
    // The optimized stage's names of the values this kernel computes.
    jk["values"] = nlohmann::json::array();
    for (const Node *n : view.trace.kernels[i].nodes) {
      auto it = view.value_names.find(n);
      jk["values"].push_back(it != view.value_names.end() ? it->second : op_name(n->op));
    }
    j["kernels"].push_back(jk);
  }
  j["buffers"] = nlohmann::json::array();
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlanBuffer &pb = plan.buffers[b];
    j["buffers"].push_back({{"name", view.buffer_names[b]},
                            {"role", PlanBuffer::role_name(pb.role)},
                            {"dtype", dtype_name(pb.dtype)},
                            {"shape", pb.shape},
                            {"bytes", pb.bytes()}});
  }
  j["intermediate_bytes"] = plan.intermediate_bytes;
  j["unfused_intermediate_bytes"] = plan.unfused_intermediate_bytes;
  j["notes"] = view.notes;
  return j;
}

}  // namespace fusejit::tool
