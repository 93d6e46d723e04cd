#include "engine/realize.h"

#include "runtime/interpreter.h"

namespace fusejit {

std::vector<Buffer> realize(const std::vector<NodeRef> &roots) {
  std::vector<NodeRef> missing;
  for (const NodeRef &r : roots)
    if (!r->attached()) missing.push_back(r);
  if (!missing.empty()) {
    std::vector<Buffer> values = interpret(missing);
    for (size_t i = 0; i < missing.size(); ++i) attach_buffer(*missing[i], values[i]);
  }
  std::vector<Buffer> out;
  out.reserve(roots.size());
  for (const NodeRef &r : roots) out.push_back(attached_buffer(*r));
  return out;
}

}  // namespace fusejit

namespace fusejit {

std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs) {
  return interpret(roots, inputs);
}

}  // namespace fusejit
