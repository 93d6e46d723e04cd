#include "ir/access.h"

#include <algorithm>

#include "ir/error.h"

namespace fusejit {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Every index of every dim valid, to be narrowed.
void ensure_ranges(AccessLayer &l) {
  if (!l.valid.empty()) return;
  for (int64_t e : l.shape) l.valid.push_back({0, e});
}

// The range of a dim that reads index 0 of a dim of extent 1 with range `r`.
ValidRange stretched(ValidRange r, int64_t extent) {
  return r.lo <= 0 && r.hi > 0 ? ValidRange{0, extent} : ValidRange{0, 0};
}

// A masked layer reshaped to a shape with the same dims of extent other
// than 1, in order: the ranges map along. False if another reshape.
bool reshape_unit_dims(AccessLayer &top, const Shape &target) {
  std::vector<size_t> from, to;
  for (size_t d = 0; d < top.shape.size(); ++d) {
    if (top.shape[d] != 1)
      from.push_back(d);
    else if (top.masks(d))
      return false;  // an empty extent-1 dim: nothing is valid
  }
  for (size_t d = 0; d < target.size(); ++d)
    if (target[d] != 1) to.push_back(d);
  if (from.size() != to.size()) return false;
  for (size_t i = 0; i < from.size(); ++i)
    if (top.shape[from[i]] != target[to[i]]) return false;
  Strides strides(target.size(), 0);
  std::vector<ValidRange> valid(target.size());
  for (size_t d = 0; d < target.size(); ++d) valid[d] = {0, target[d]};
  for (size_t i = 0; i < from.size(); ++i) {
    strides[to[i]] = top.strides[from[i]];
    valid[to[i]] = top.valid[from[i]];
  }
  top.shape = target;
  top.strides = std::move(strides);
  top.valid = std::move(valid);
  return true;
}

}  // namespace

Access contiguous_access(const Shape &shape) {
  return Access{{AccessLayer{shape, contiguous_strides(shape), 0, {}, {}}}};
}

void access_permute(Access &a, const std::vector<int64_t> &perm) {
  AccessLayer &top = a.layers.front();
  Shape shape(perm.size());
  Strides strides(perm.size());
  std::vector<ValidRange> valid(top.valid.empty() ? 0 : perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = top.shape[perm[i]];
    strides[i] = top.strides[perm[i]];
    if (!valid.empty()) valid[i] = top.valid[perm[i]];
  }
  top.shape = std::move(shape);
  top.strides = std::move(strides);
  top.valid = std::move(valid);
}

void access_expand(Access &a, const Shape &target) {
  AccessLayer &top = a.layers.front();
  FUSEJIT_INTERNAL_CHECK(target.size() >= top.shape.size(), "expand to fewer dims");
  size_t lead = target.size() - top.shape.size();
  Strides strides(target.size(), 0);
  std::vector<ValidRange> valid;
  if (!top.valid.empty())
    for (int64_t e : target) valid.push_back({0, e});
  for (size_t i = lead; i < target.size(); ++i) {
    int64_t extent = top.shape[i - lead];
    FUSEJIT_INTERNAL_CHECK(extent == target[i] || extent == 1, "bad expand of ",
                           shape_str(top.shape), " to ", shape_str(target));
    // A stretched dim always reads index 0.
    strides[i] = extent == target[i] ? top.strides[i - lead] : 0;
    if (!valid.empty())
      valid[i] =
          extent == target[i] ? top.valid[i - lead] : stretched(top.valid[i - lead], target[i]);
  }
  top.shape = target;
  top.strides = std::move(strides);
  top.valid = std::move(valid);
}

bool reshape_strides(const Shape &from, const Strides &strides, const Shape &to, Strides &out) {
  out.assign(to.size(), 0);
  if (numel(from) == 0) {
    out = contiguous_strides(to);
    return true;
  }
  // Extent-1 dims never move the address: drop them. Then group the rest,
  // from the last dim, into chunks whose dims are contiguous with each other
  // (stride[d-1] == stride[d] * extent[d]). A reshape keeps strides iff each
  // chunk is split into whole dims of `to`.
  struct Chunk {
    int64_t numel;
    int64_t base_stride;  // the stride of the chunk's innermost dim
  };
  std::vector<Chunk> chunks;  // innermost chunk first
  int64_t prev_extent = 0, prev_stride = 0;
  for (size_t d = from.size(); d-- > 0;) {
    if (from[d] == 1) continue;
    if (!chunks.empty() && strides[d] == prev_stride * prev_extent)
      chunks.back().numel *= from[d];
    else
      chunks.push_back({from[d], strides[d]});
    prev_extent = from[d];
    prev_stride = strides[d];
  }
  size_t chunk = 0;
  int64_t within = 1;  // elements of the current chunk covered so far
  for (size_t d = to.size(); d-- > 0;) {
    if (to[d] == 1) continue;
    if (chunk == chunks.size()) return false;
    out[d] = within * chunks[chunk].base_stride;
    within *= to[d];
    if (within > chunks[chunk].numel) return false;
    if (within == chunks[chunk].numel) {
      ++chunk;
      within = 1;
    }
  }
  return chunk == chunks.size() && within == 1;
}

void access_reshape(Access &a, const Shape &target) {
  AccessLayer &top = a.layers.front();
  Strides strides;
  if (top.masked()) {
    if (reshape_unit_dims(top, target)) return;
  } else if (reshape_strides(top.shape, top.strides, target, strides)) {
    top.shape = target;
    top.strides = std::move(strides);
    top.valid.clear();
    return;
  }
  a.layers.insert(a.layers.begin(), AccessLayer{target, contiguous_strides(target), 0, {}, {}});
}

void access_slice(Access &a, const std::vector<int64_t> &start, const std::vector<int64_t> &step,
                  const Shape &target) {
  AccessLayer &top = a.layers.front();
  FUSEJIT_INTERNAL_CHECK(start.size() == top.shape.size() && step.size() == top.shape.size() &&
                             target.size() == top.shape.size(),
                         "slice of rank ", start.size(), " applied to ", shape_str(top.shape));
  for (size_t d = 0; d < target.size(); ++d) {
    FUSEJIT_INTERNAL_CHECK(step[d] != 0, "slice with step 0");
    top.offset += start[d] * top.strides[d];
    top.strides[d] *= step[d];
    if (!top.valid.empty()) {
      // Index j reads start + j * step; keep the j whose reads were valid.
      ValidRange r = top.valid[d];
      int64_t lo, hi;
      if (step[d] > 0) {
        lo = ceil_div(r.lo - start[d], step[d]);
        hi = ceil_div(r.hi - start[d], step[d]);
      } else {
        lo = floor_div(start[d] - r.hi, -step[d]) + 1;
        hi = floor_div(start[d] - r.lo, -step[d]) + 1;
      }
      lo = std::max<int64_t>(lo, 0), hi = std::min(hi, target[d]);
      top.valid[d] = lo < hi ? ValidRange{lo, hi} : ValidRange{0, 0};
    }
  }
  top.shape = target;
}

void access_pad(Access &a, const std::vector<int64_t> &before, const std::vector<int64_t> &after) {
  AccessLayer &top = a.layers.front();
  ensure_ranges(top);
  for (size_t d = 0; d < top.shape.size(); ++d) {
    top.offset -= before[d] * top.strides[d];
    top.shape[d] += before[d] + after[d];
    ValidRange &r = top.valid[d];
    r = r.lo < r.hi ? ValidRange{r.lo + before[d], r.hi + before[d]} : ValidRange{0, 0};
  }
}

void access_unfold(Access &a, size_t dim, int64_t size, int64_t step) {
  AccessLayer &top = a.layers.front();
  Shape shape = top.shape;
  shape[dim] = (shape[dim] - size) / step + 1;
  shape.push_back(size);
  if (top.masks(dim)) {
    // Window and offset add up to one index, which a range cannot restrict:
    // address the old index space as a layer of its own.
    Strides strides = contiguous_strides(top.shape);
    strides.push_back(strides[dim]);
    strides[dim] *= step;
    a.layers.insert(a.layers.begin(), AccessLayer{shape, std::move(strides), 0, {}, {}});
    return;
  }
  top.strides.push_back(top.strides[dim]);
  top.strides[dim] *= step;
  if (!top.valid.empty()) {
    top.valid[dim] = {0, shape[dim]};
    top.valid.push_back({0, size});
  }
  top.shape = std::move(shape);
}

void access_to_domain(Access &a, const Shape &domain, const std::vector<int> &src) {
  AccessLayer &top = a.layers.front();
  std::vector<int> reads(top.shape.size(), 0);
  Strides strides(domain.size(), 0);
  std::vector<ValidRange> valid;
  if (!top.valid.empty())
    for (int64_t e : domain) valid.push_back({0, e});
  for (size_t j = 0; j < domain.size(); ++j) {
    if (src[j] < 0) continue;
    FUSEJIT_INTERNAL_CHECK(top.shape[src[j]] == domain[j] || top.shape[src[j]] == 1, "domain dim ",
                           j, " (", domain[j], ") reads dim ", src[j], " of ",
                           shape_str(top.shape));
    bool same = top.shape[src[j]] == domain[j];
    strides[j] = same ? top.strides[src[j]] : 0;
    if (!valid.empty())
      valid[j] = same ? top.valid[src[j]] : stretched(top.valid[src[j]], domain[j]);
    ++reads[src[j]];
  }
  for (size_t d = 0; d < reads.size(); ++d) {
    FUSEJIT_INTERNAL_CHECK(reads[d] == 1 || top.shape[d] == 1, "dim ", d, " of ",
                           shape_str(top.shape), " is read by ", reads[d], " domain dims");
    // An unread extent-1 dim with nothing valid leaves nothing valid.
    if (reads[d] == 0 && top.masks(d) && !valid.empty()) valid[0] = {0, 0};
  }
  top.shape = domain;
  top.strides = std::move(strides);
  top.valid = std::move(valid);
}

void access_gather(Access &a, size_t dim, int instr, const Shape &target) {
  AccessLayer &top = a.layers.front();
  FUSEJIT_INTERNAL_CHECK(target.size() == top.shape.size() && dim < target.size(), "gather to ",
                         shape_str(target), " along dim ", dim, " of ", shape_str(top.shape));
  GatherTerm g{instr, top.strides[dim], top.shape[dim], {0, top.shape[dim]}};
  if (top.masks(dim)) g.valid = top.valid[dim];
  top.gathers.push_back(g);
  top.strides[dim] = 0;
  for (size_t d = 0; d < target.size(); ++d) {
    FUSEJIT_INTERNAL_CHECK(d == dim || target[d] <= top.shape[d], "gather to ", shape_str(target),
                           " reads past ", shape_str(top.shape));
    if (top.valid.empty()) continue;
    ValidRange &r = top.valid[d];
    r = d == dim ? ValidRange{0, target[d]} : ValidRange{r.lo, std::min(r.hi, target[d])};
    if (r.lo >= r.hi) r = {0, 0};
  }
  top.shape = target;
}

}  // namespace fusejit
