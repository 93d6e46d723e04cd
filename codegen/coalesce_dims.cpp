#include "codegen/coalesce_dims.h"

#include <utility>
#include <vector>

namespace fusejit {

namespace {

// One dim of the merged domain: its extent and, per load, its stride.
struct Group {
  int64_t extent;
  std::vector<int64_t> strides;  // parallel to the kernel's loads
  bool reduced;
  bool masked;       // some load restricts its index along the dim
  size_t first_dim;  // in the kernel's domain
};

// The instructions with an access: loads, valids and iotas.
bool has_access(const Instr &in) {
  return in.kind == InstrKind::Load || in.kind == InstrKind::Valid || in.kind == InstrKind::Iota;
}

std::vector<const Instr *> loads_of(const Kernel &k) {
  std::vector<const Instr *> loads;
  for (const Instr &in : k.body)
    if (has_access(in)) loads.push_back(&in);
  return loads;
}

// Index i_outer * e + i_inner walks both dims iff each load's outer stride is
// its inner stride times the inner extent; a dim of extent 1 never moves.
// A range restricts one dim's index, which a merged index no longer shows.
bool can_merge(const Group &outer, const Group &inner) {
  if (outer.reduced != inner.reduced) return false;
  if (outer.masked || inner.masked) return false;
  if (outer.extent == 1 || inner.extent == 1) return true;
  for (size_t l = 0; l < outer.strides.size(); ++l)
    if (outer.strides[l] != inner.strides[l] * inner.extent) return false;
  return true;
}

void merge_into(Group &outer, const Group &inner) {
  if (inner.extent != 1) outer.strides = inner.strides;
  outer.extent *= inner.extent;
}

}  // namespace

CoalescedKernel coalesce_dims(const Kernel &k) {
  CoalescedKernel out{k, 1};
  // The GEMM lowering finds m, n and k of a Matmul kernel by position.
  if (numel(k.domain) == 0 || k.domain.size() < 2 || k.kind() == KernelKind::Matmul) return out;
  std::vector<const Instr *> loads = loads_of(k);
  size_t num_out = k.num_output_dims();

  std::vector<Group> groups;
  for (size_t d = 0; d < k.domain.size(); ++d) {
    Group g{k.domain[d], {}, d >= num_out, false, d};
    for (const Instr *load : loads) {
      g.strides.push_back(load->access.layers[0].strides[d]);
      g.masked = g.masked || load->access.layers[0].masks(d);
    }
    if (!groups.empty() && can_merge(groups.back(), g)) {
      // Dims merged into the first output dim scale the parallel range.
      if (groups.size() == 1 && !g.reduced) out.parallel_scale *= g.extent;
      merge_into(groups.back(), g);
    } else {
      groups.push_back(std::move(g));
    }
  }

  Kernel &c = out.kernel;
  c.domain.clear();
  c.num_reduce = 0;
  for (const Group &g : groups) {
    c.domain.push_back(g.extent);
    c.num_reduce += g.reduced;
  }
  size_t l = 0;
  for (Instr &in : c.body) {
    if (!has_access(in)) continue;
    AccessLayer &first = in.access.layers[0];
    // A masked dim is never merged: its group is that one dim.
    std::vector<ValidRange> valid;
    if (!first.valid.empty())
      for (const Group &g : groups)
        valid.push_back(g.masked ? first.valid[g.first_dim] : ValidRange{0, g.extent});
    first.shape = c.domain;
    first.valid = std::move(valid);
    first.strides.clear();
    for (const Group &g : groups) first.strides.push_back(g.strides[l]);
    ++l;
  }
  return out;
}

}  // namespace fusejit
