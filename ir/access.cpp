#include "ir/access.h"

#include "ir/error.h"

namespace fusejit {

Access contiguous_access(const Shape &shape) {
  return Access{{AccessLayer{shape, contiguous_strides(shape), 0}}};
}

void access_permute(Access &a, const std::vector<int64_t> &perm) {
  AccessLayer &top = a.layers.front();
  Shape shape(perm.size());
  Strides strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = top.shape[perm[i]];
    strides[i] = top.strides[perm[i]];
  }
  top.shape = std::move(shape);
  top.strides = std::move(strides);
}

void access_expand(Access &a, const Shape &target) {
  AccessLayer &top = a.layers.front();
  FUSEJIT_INTERNAL_CHECK(target.size() >= top.shape.size(), "expand to fewer dims");
  size_t lead = target.size() - top.shape.size();
  Strides strides(target.size(), 0);
  for (size_t i = lead; i < target.size(); ++i) {
    int64_t extent = top.shape[i - lead];
    FUSEJIT_INTERNAL_CHECK(extent == target[i] || extent == 1, "bad expand of ",
                           shape_str(top.shape), " to ", shape_str(target));
    // A stretched dim always reads index 0.
    strides[i] = extent == target[i] ? top.strides[i - lead] : 0;
  }
  top.shape = target;
  top.strides = std::move(strides);
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
  if (reshape_strides(top.shape, top.strides, target, strides)) {
    top.shape = target;
    top.strides = std::move(strides);
    return;
  }
  a.layers.insert(a.layers.begin(), AccessLayer{target, contiguous_strides(target), 0});
}

void access_to_domain(Access &a, const Shape &domain, const std::vector<int> &src) {
  AccessLayer &top = a.layers.front();
  std::vector<int> reads(top.shape.size(), 0);
  Strides strides(domain.size(), 0);
  for (size_t j = 0; j < domain.size(); ++j) {
    if (src[j] < 0) continue;
    FUSEJIT_INTERNAL_CHECK(top.shape[src[j]] == domain[j] || top.shape[src[j]] == 1, "domain dim ",
                           j, " (", domain[j], ") reads dim ", src[j], " of ",
                           shape_str(top.shape));
    strides[j] = top.shape[src[j]] == domain[j] ? top.strides[src[j]] : 0;
    ++reads[src[j]];
  }
  for (size_t d = 0; d < reads.size(); ++d)
    FUSEJIT_INTERNAL_CHECK(reads[d] == 1 || top.shape[d] == 1, "dim ", d, " of ",
                           shape_str(top.shape), " is read by ", reads[d], " domain dims");
  top.shape = domain;
  top.strides = std::move(strides);
}

}  // namespace fusejit
