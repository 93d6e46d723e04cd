// Row fusion (rule 9 of engine/fuse.h): which materialized values of the
// fusion pass one row kernel computes. A reduction over the trailing dims of
// its input (softmax's max and sum, layer norm's means) is a phase of a row
// kernel when what reads it broadcasts it back over the same rows; the
// values that read it (and the reductions that read those) join it, so one
// loop over the rows runs every phase of a row in order and nothing between
// the phases reaches memory.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/node.h"

namespace fusejit {

// The rows a reduction walks: `full` is its input's shape, whose last
// `row_dims` dims it reduces.
struct RowKey {
  Shape full;
  size_t row_dims = 0;
  bool operator==(const RowKey &o) const { return full == o.full && row_dims == o.row_dims; }
};

// The key of a Sum, Max or Mean over the trailing dims of a non-empty
// input; none for any other node.
std::optional<RowKey> row_key(const Node &n);

// What the fusion pass decided before the row rule, as it sees it.
struct RowCandidates {
  std::vector<const Node *> materialized;  // in topological order
  std::unordered_set<const Node *> roots;
  // The reduction whose epilogue ends at a materialized value, else null.
  std::function<const Node *(const Node *)> anchor;
  // The materialized values a materialized value's kernel would load.
  std::function<std::vector<const Node *>(const Node *)> reads;
};

struct RowGroup {
  RowKey key;
  std::vector<const Node *> phases;   // the reductions, in topological order
  std::vector<const Node *> members;  // the materialized values it computes, in topological order
  std::unordered_set<const Node *> written;  // the members other kernels (or the caller) read
};

// Why a reduction is not a phase of a row kernel, for `--explain`.
struct RowMiss {
  const Node *reduction;
  std::string why;
};

// The row kernels: groups of at least two members, one of them a phase,
// every member over one key. `rejected` reductions (those a row kernel
// could not be built for) are not phases. `misses` gets the phases of the
// groups that could not be kept, and why.
std::vector<RowGroup> find_row_groups(const RowCandidates &c,
                                      const std::unordered_map<const Node *, std::string> &rejected,
                                      std::vector<RowMiss> *misses);

}  // namespace fusejit
