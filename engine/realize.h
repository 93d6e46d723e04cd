// Computes the values of graph nodes and keeps each on its node, so a value
// is computed once however often it is read.
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/node.h"
#include "runtime/buffer.h"

namespace fusejit {

// Values of `roots` (contiguous, in order). Roots already realized are not
// recomputed; every computed root gets its value attached.
std::vector<Buffer> realize(const std::vector<NodeRef> &roots);

}  // namespace fusejit

namespace fusejit {
using InputValues = std::unordered_map<const Node *, Buffer>;

// Values of `roots` with the inputs bound to `inputs` (a program run);
// nothing is attached to the nodes.
std::vector<Buffer> evaluate(const std::vector<NodeRef> &roots, const InputValues &inputs);
}  // namespace fusejit
