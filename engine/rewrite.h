// The bottom-up graph rewrite every graph pass is built on: `rule` sees each
// node (leaves and realized values excepted) with its args already
// rewritten, and returns its replacement.
#pragma once

#include <functional>
#include <vector>

#include "ir/node.h"

namespace fusejit {

using RewriteRule = std::function<NodeRef(const Node &node, std::vector<NodeRef> args)>;

// `rule` must return a node of the same dtype and shape as `node` (it may
// return ir::with_args(node, args) to keep it).
std::vector<NodeRef> rewrite_graph(const std::vector<NodeRef> &roots, const RewriteRule &rule);

}  // namespace fusejit
