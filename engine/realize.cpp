#include "engine/realize.h"

#include <mutex>
#include <shared_mutex>

#include "engine/pipeline.h"
#include "runtime/interpreter.h"

namespace fusejit {

namespace {

// The passes ask which nodes already hold values (is_value_leaf) several
// times while they plan one graph, and hash-consing shares nodes between
// threads: a result another thread attached halfway through would change
// the graph under them. Planning holds this shared, attaching results
// holds it exclusively, so each plan sees one state of the graph.
std::shared_mutex values_mutex;

}  // namespace

std::vector<Buffer> leaf_values(const std::vector<const Node *> &leaves, const InputValues &given) {
  std::vector<Buffer> values;
  for (const Node *leaf : leaves) {
    auto it = given.find(leaf);
    Buffer b = it != given.end() ? it->second : attached_buffer(*leaf);
    FUSEJIT_USER_CHECK(b.defined(), ValueError, "input '", leaf->name, "' (",
                       type_str(leaf->dtype, leaf->shape), ") has no value");
    FUSEJIT_USER_CHECK(b.dtype() == leaf->dtype && b.shape() == leaf->shape, ShapeError, "input '",
                       leaf->name, "' is ", type_str(leaf->dtype, leaf->shape),
                       " but its value is ", type_str(b.dtype(), b.shape()));
    values.push_back(std::move(b));
  }
  return values;
}

std::vector<Buffer> realize(const std::vector<NodeRef> &roots) {
  return realize(roots, default_options());
}

std::vector<Buffer> realize(const std::vector<NodeRef> &roots, const Options &options) {
  std::vector<NodeRef> missing;
  for (const NodeRef &r : roots)
    if (!r->attached()) missing.push_back(r);
  if (!missing.empty()) {
    std::vector<Buffer> values = evaluate(missing, {}, options);
    std::unique_lock<std::shared_mutex> lock(values_mutex);
    for (size_t i = 0; i < missing.size(); ++i) attach_buffer(*missing[i], values[i]);
  }
  std::vector<Buffer> out;
  out.reserve(roots.size());
  for (const NodeRef &r : roots) out.push_back(attached_buffer(*r));
  return out;
}

std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs) {
  return evaluate(roots, inputs, default_options());
}

std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs,
                             const Options &options) {
  PreparedGraph prepared;
  std::vector<Buffer> leaves;
  {
    std::shared_lock<std::shared_mutex> lock(values_mutex);
    prepared = prepare(roots, options);
    leaves = leaf_values(prepared.inputs, inputs);
  }
  return run_compiled(*prepared.compiled, leaves, options.threads);
}

std::vector<Buffer> evaluate_reference(const std::vector<NodeRef> &roots,
                                       const InputValues &inputs) {
  return interpret(roots, inputs);
}

}  // namespace fusejit
