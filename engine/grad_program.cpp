#include "engine/grad_program.h"

#include "engine/autodiff.h"
#include "ir/graph.h"

namespace fusejit {

Program with_gradients(const Program &p) {
  Program out = p;
  std::vector<NodeRef> totals(p.inputs.size());
  for (const auto &[name, root] : p.outputs) {
    std::vector<NodeRef> grads = gradients(root, p.inputs);
    for (size_t i = 0; i < grads.size(); ++i)
      totals[i] = totals[i] ? ir::binary(Op::Add, totals[i], grads[i]) : grads[i];
  }
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    NodeRef g = totals[i] ? totals[i] : ir::full(0.0, p.inputs[i]->dtype, p.inputs[i]->shape);
    out.outputs.emplace_back("grad_" + p.inputs[i]->name, g);
    out.bindings.emplace_back("grad_" + p.inputs[i]->name, g);
  }
  return out;
}

}  // namespace fusejit
