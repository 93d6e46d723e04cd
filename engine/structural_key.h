// The structural key of a graph: its ops, shapes, dtypes and attributes, with
// leaves numbered by position instead of identity. Two graphs with the same
// key compute the same function of their leaves, so they share a compiled
// plan (a training loop rebuilds the same graph every step and compiles once).
#pragma once

#include <string>
#include <vector>

#include "ir/node.h"

namespace fusejit {

struct GraphKey {
  std::string key;
  // The graph's leaves (inputs and realized values) in key order.
  std::vector<const Node *> leaves;
};

GraphKey structural_key(const std::vector<NodeRef> &roots);

}  // namespace fusejit
