#include "engine/fuse_rows.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>

namespace fusejit {

std::optional<RowKey> row_key(const Node &n) {
  if (!n.is(Op::Sum) && !n.is(Op::Max) && !n.is(Op::Mean)) return std::nullopt;
  const Node &x = *n.args[0];
  if (x.numel() == 0 || n.dims.empty()) return std::nullopt;
  // dims are sorted: trailing iff they end at the last dim without gaps.
  for (size_t i = 0; i < n.dims.size(); ++i)
    if (n.dims[i] != static_cast<int64_t>(x.rank() - n.dims.size() + i)) return std::nullopt;
  return RowKey{x.shape, n.dims.size()};
}

namespace {

// Union-find over positions in the materialized list.
class Components {
 public:
  explicit Components(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  size_t find(size_t i) {
    while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];
    return i;
  }
  void join(size_t a, size_t b) {
    a = find(a), b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

}  // namespace

std::vector<RowGroup> find_row_groups(const RowCandidates &c,
                                      const std::unordered_map<const Node *, std::string> &rejected,
                                      std::vector<RowMiss> *misses) {
  const std::vector<const Node *> &values = c.materialized;
  std::unordered_map<const Node *, size_t> at;
  for (size_t i = 0; i < values.size(); ++i) at.emplace(values[i], i);
  // The key of each value that is a reduction's epilogue top (a phase).
  std::vector<std::optional<RowKey>> key(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Node *a = c.anchor(values[i]);
    if (a && !rejected.count(a)) key[i] = row_key(*a);
  }
  std::vector<std::vector<const Node *>> reads(values.size());
  for (size_t i = 0; i < values.size(); ++i) reads[i] = c.reads(values[i]);

  // A phase joins what reads it over the same rows: another phase of its
  // key, or an elementwise value of the rows' full shape.
  Components comp(values.size());
  std::vector<bool> linked(values.size(), false);
  for (size_t i = 0; i < values.size(); ++i)
    for (const Node *u : reads[i]) {
      size_t j = at.at(u);
      if (!key[j]) continue;
      bool rowwise =
          key[i] ? *key[i] == *key[j] : !c.anchor(values[i]) && values[i]->shape == key[j]->full;
      if (!rowwise) continue;
      comp.join(i, j);
      linked[i] = linked[j] = true;
    }

  std::unordered_map<size_t, RowGroup> groups;
  std::vector<size_t> order;  // group roots, by first member
  for (size_t i = 0; i < values.size(); ++i) {
    if (!linked[i]) continue;
    size_t r = comp.find(i);
    auto [it, fresh] = groups.try_emplace(r);
    if (fresh) order.push_back(r);
    RowGroup &g = it->second;
    g.members.push_back(values[i]);
    if (key[i]) {
      g.key = *key[i];
      g.phases.push_back(c.anchor(values[i]));
    }
  }

  // A value of another kernel may read a member: the row kernel then
  // writes that member, and the reader runs after the row kernel (fuse.cpp
  // defers it). That fails only when the row kernel itself waits on the
  // reader, directly or through other kernels: a cycle. Row kernels in a
  // cycle are given up one at a time, the one over fewer elements first,
  // until none is left in one.
  std::unordered_map<const Node *, size_t> group_of;
  for (size_t r : order)
    for (const Node *m : groups[r].members) group_of.emplace(m, r);
  for (size_t i = 0; i < values.size(); ++i) {
    auto mine = group_of.find(values[i]);
    for (const Node *u : reads[i]) {
      auto g = group_of.find(u);
      if (g == group_of.end() || (mine != group_of.end() && mine->second == g->second)) continue;
      groups[g->second].written.insert(u);
    }
  }
  std::unordered_set<size_t> broken;
  std::unordered_map<size_t, std::string> broken_why;
  // Why group r waits on itself through another kernel, or "".
  auto cycle = [&](size_t r) -> std::string {
    // Every value the group's members wait on, through any kernels; another
    // row kernel is one kernel, so waiting on one of its members waits on
    // what all of them read.
    auto kept_group = [&](const Node *n) -> std::optional<size_t> {
      auto h = group_of.find(n);
      if (h == group_of.end() || broken.count(h->second)) return std::nullopt;
      return h->second;
    };
    std::vector<size_t> stack;
    std::vector<bool> waited(values.size(), false);
    for (const Node *m : groups[r].members) stack.push_back(at.at(m));
    while (!stack.empty()) {
      size_t i = stack.back();
      stack.pop_back();
      for (const Node *u : reads[i]) {
        size_t j = at.at(u);
        if (waited[j]) continue;
        waited[j] = true;
        stack.push_back(j);
        std::optional<size_t> h = kept_group(u);
        if (!h || *h == r) continue;
        for (const Node *m : groups[*h].members) {
          size_t k = at.at(m);
          if (!waited[k]) waited[k] = true, stack.push_back(k);
        }
      }
    }
    for (size_t i = 0; i < values.size(); ++i) {
      std::optional<size_t> g = kept_group(values[i]);
      if (!waited[i] || g == r) continue;
      for (const Node *u : reads[i])
        if (kept_group(u) == r)
          return std::string("a value its phases wait on (") + op_name(values[i]->op) + " " +
                 type_str(values[i]->dtype, values[i]->shape) +
                 ") reads one of them, and is not row-wise";
    }
    return "";
  };
  for (;;) {
    std::optional<size_t> drop;
    std::string why;
    for (size_t r : order) {
      if (broken.count(r)) continue;
      std::string w = cycle(r);
      if (w.empty()) continue;
      if (!drop || numel(groups[r].key.full) < numel(groups[*drop].key.full)) drop = r, why = w;
    }
    if (!drop) break;
    broken.insert(*drop);
    broken_why[*drop] = why;
  }
  std::vector<RowGroup> out;
  for (size_t r : order) {
    RowGroup &g = groups[r];
    for (const Node *m : g.members)
      if (c.roots.count(m)) g.written.insert(m);
    if (broken.count(r)) {
      if (misses)
        for (const Node *p : g.phases) misses->push_back({p, broken_why[r]});
      continue;
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace fusejit
