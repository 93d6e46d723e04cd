// Computes the values of graph nodes and keeps each on its node, so a value
// is computed once however often it is read.
#pragma once

#include <unordered_map>
#include <vector>

#include "engine/options.h"
#include "ir/node.h"
#include "runtime/buffer.h"

namespace fusejit {

// Values of `roots` (contiguous, in order), compiled and run by `options`
// (default: default_options()). Roots already realized are not recomputed;
// every computed root gets its value attached.
std::vector<Buffer> realize(const std::vector<NodeRef> &roots);
std::vector<Buffer> realize(const std::vector<NodeRef> &roots, const Options &options);

}  // namespace fusejit

namespace fusejit {
using InputValues = std::unordered_map<const Node *, Buffer>;

// Values of `roots` with the inputs bound to `inputs` (a program run),
// through the compiled pipeline; nothing is attached to the nodes. A leaf not
// in `inputs` must have a value attached.
std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs);
std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs,
                             const Options &options);

// The value of each leaf: from `given`, else the value attached to it; a
// ValueError names a leaf that has neither.
std::vector<Buffer> leaf_values(const std::vector<const Node *> &leaves, const InputValues &given);

// The same values from the reference interpreter (the unfused graph, plain
// loops): what `fusejit run --check` and the tests compare against.
std::vector<Buffer> evaluate_reference(const std::vector<NodeRef> &roots,
                                       const InputValues &inputs);
}  // namespace fusejit
