#include "engine/realize.h"

#include "engine/pipeline.h"
#include "runtime/interpreter.h"

namespace fusejit {

std::vector<Buffer> leaf_values(const std::vector<const Node *> &leaves, const InputValues &given) {
  std::vector<Buffer> values;
  for (const Node *leaf : leaves) {
    auto it = given.find(leaf);
    Buffer b = it != given.end() ? it->second : attached_buffer(*leaf);
    FUSEJIT_USER_CHECK(b.defined(), ValueError, "input '", leaf->name, "' (",
                       type_str(leaf->dtype, leaf->shape), ") has no value");
    FUSEJIT_USER_CHECK(b.dtype() == leaf->dtype && b.shape() == leaf->shape, ShapeError, "input '",
                       leaf->name, "' is ", type_str(leaf->dtype, leaf->shape), " but its value is ",
                       type_str(b.dtype(), b.shape()));
    values.push_back(std::move(b));
  }
  return values;
}

std::vector<Buffer> realize(const std::vector<NodeRef> &roots) {
  std::vector<NodeRef> missing;
  for (const NodeRef &r : roots)
    if (!r->attached()) missing.push_back(r);
  if (!missing.empty()) {
    std::vector<Buffer> values = evaluate(missing, {});
    for (size_t i = 0; i < missing.size(); ++i) attach_buffer(*missing[i], values[i]);
  }
  std::vector<Buffer> out;
  out.reserve(roots.size());
  for (const NodeRef &r : roots) out.push_back(attached_buffer(*r));
  return out;
}

std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs) {
  PreparedGraph prepared = prepare(roots, current_numerics());
  return run_compiled(*prepared.compiled, leaf_values(prepared.inputs, inputs));
}

std::vector<Buffer> evaluate_reference(const std::vector<NodeRef> &roots, const InputValues &inputs) {
  return interpret(roots, inputs);
}

}  // namespace fusejit
