// A `.fj` program: named inputs, named bindings and named outputs over the
// graph IR. The parser produces one; the printer turns one (or any set of
// roots) back into `.fj` text.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/node.h"

namespace fusejit {

struct Program {
  // `NAME = input ...` in declaration order (each an Op::Input node named NAME).
  std::vector<NodeRef> inputs;
  // Every `NAME = EXPR` in source order, inputs included. Hash-consing may
  // make two names one node; the first name is the one printed.
  std::vector<std::pair<std::string, NodeRef>> bindings;
  // `out NAME, ...` in order.
  std::vector<std::pair<std::string, NodeRef>> outputs;

  std::vector<NodeRef> output_nodes() const {
    std::vector<NodeRef> r;
    for (const auto &[name, node] : outputs) r.push_back(node);
    return r;
  }
};

}  // namespace fusejit
