#include "engine/structural_key.h"

#include <cstring>
#include <unordered_map>

namespace fusejit {

namespace {

void append(std::string &out, int64_t v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

}  // namespace

GraphKey structural_key(const std::vector<NodeRef> &roots) {
  GraphKey k;
  std::vector<const Node *> order = topo_order_to_values(roots);
  std::unordered_map<const Node *, int64_t> position;
  k.key.reserve(order.size() * 48);
  for (const Node *n : order) {
    position[n] = static_cast<int64_t>(position.size());
    bool leaf = is_value_leaf(*n);
    // Leaves are identified by dtype and shape only; everything else in full.
    append(k.key, leaf ? -1 : static_cast<int64_t>(n->op));
    append(k.key, static_cast<int64_t>(n->dtype));
    append(k.key, static_cast<int64_t>(n->shape.size()));
    for (int64_t d : n->shape) append(k.key, d);
    if (leaf) {
      k.leaves.push_back(n);
      continue;
    }
    append(k.key, static_cast<int64_t>(n->args.size()));
    for (const NodeRef &a : n->args) append(k.key, position.at(a.get()));
    append(k.key, static_cast<int64_t>(n->dims.size()));
    for (int64_t d : n->dims) append(k.key, d);
    append(k.key, n->keepdim);
    int64_t bits;
    std::memcpy(&bits, &n->value, sizeof bits);
    append(k.key, bits);
  }
  append(k.key, static_cast<int64_t>(roots.size()));
  for (const NodeRef &r : roots) append(k.key, position.at(r.get()));
  return k;
}

}  // namespace fusejit
