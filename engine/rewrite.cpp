#include "engine/rewrite.h"

#include <unordered_map>

#include "ir/error.h"

namespace fusejit {

std::vector<NodeRef> rewrite_graph(const std::vector<NodeRef> &roots, const RewriteRule &rule) {
  std::unordered_map<const Node *, NodeRef> replaced;
  auto current = [&](const NodeRef &n) {
    auto it = replaced.find(n.get());
    return it == replaced.end() ? n : it->second;
  };
  for (const Node *n : topo_order_to_values(roots)) {
    if (n->kind() == OpKind::Leaf || is_value_leaf(*n)) continue;
    std::vector<NodeRef> args;
    for (const NodeRef &a : n->args) args.push_back(current(a));
    NodeRef out = rule(*n, std::move(args));
    FUSEJIT_INTERNAL_CHECK(out && out->dtype == n->dtype && out->shape == n->shape,
                           "a rewrite changed the type of ", op_name(n->op), " ",
                           type_str(n->dtype, n->shape));
    if (out.get() != n) replaced[n] = std::move(out);
  }
  std::vector<NodeRef> result;
  for (const NodeRef &r : roots) result.push_back(current(r));
  return result;
}

}  // namespace fusejit
