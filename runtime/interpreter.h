// The reference interpreter: evaluates the unfused graph node by node with
// plain strided loops (minitorch's map, zip and reduce), accumulating
// reductions in double. Slow and obviously correct: the oracle for every
// JIT test.
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/node.h"
#include "runtime/buffer.h"

namespace fusejit {

using Bindings = std::unordered_map<const Node *, Buffer>;

// Values of `roots`, each a contiguous Buffer of the root's dtype and shape.
// An input takes its value from `bindings`, else from the value attached to
// its node; a missing one is a ValueError naming the input. A non-input node
// with an attached value (realized earlier) is not recomputed.
std::vector<Buffer> interpret(const std::vector<NodeRef> &roots, const Bindings &bindings = {});

// What one interpret() call did, for tests of its memory behaviour.
struct InterpretStats {
  size_t nodes_computed = 0;    // nodes evaluated (not taken from a binding or attachment)
  size_t peak_live_values = 0;  // most node values held at once
};
std::vector<Buffer> interpret(const std::vector<NodeRef> &roots, const Bindings &bindings,
                              InterpretStats *stats);

}  // namespace fusejit
