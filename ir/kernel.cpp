#include "ir/kernel.h"

#include <algorithm>
#include <limits>
#include "ir/check_stats.h"

#include "ir/error.h"

namespace fusejit {

const char *kernel_kind_name(KernelKind k) {
  switch (k) {
    case KernelKind::Elementwise:
      return "elementwise";
    case KernelKind::Reduce:
      return "reduce";
    case KernelKind::Matmul:
      return "matmul";
    case KernelKind::Row:
      return "row";
  }
  return "?";
}

std::vector<std::string> kernel_op_names(const Kernel &k) {
  std::vector<std::string> names;
  names.reserve(k.ops.size());
  for (Op op : k.ops) names.emplace_back(op_name(op));
  return names;
}

namespace {

// The smallest and largest positions a layer reaches over the indices its
// ranges keep (a box: each dim's term is smallest at one end of its range);
// false if no index is valid.
bool position_range(const AccessLayer &layer, int64_t &lo, int64_t &hi) {
  lo = hi = layer.offset;
  for (size_t d = 0; d < layer.shape.size(); ++d) {
    int64_t first = 0, last = layer.shape[d];
    if (!layer.valid.empty())
      first = std::max<int64_t>(first, layer.valid[d].lo), last = std::min(last, layer.valid[d].hi);
    if (first >= last) return false;
    int64_t a = first * layer.strides[d], b = (last - 1) * layer.strides[d];
    lo += std::min(a, b);
    hi += std::max(a, b);
  }
  // A gathered index is checked against its extent before it is used.
  for (const GatherTerm &g : layer.gathers) {
    int64_t first = std::max<int64_t>(0, g.valid.lo), last = std::min(g.extent, g.valid.hi);
    if (first >= last) return false;
    int64_t a = first * g.stride, b = (last - 1) * g.stride;
    lo += std::min(a, b);
    hi += std::max(a, b);
  }
  return true;
}

void verify_access(const Kernel &k, const Instr &in, size_t at) {
  const Access &a = in.access;
  FUSEJIT_INTERNAL_CHECK(!a.layers.empty(), k.name, " %", at, ": load without access");
  FUSEJIT_INTERNAL_CHECK(a.layers[0].shape == k.domain, k.name, " %", at,
                         ": access does not start at the domain");
  for (const AccessLayer &l : a.layers) {
    FUSEJIT_INTERNAL_CHECK(l.strides.size() == l.shape.size(), k.name, " %", at,
                           ": strides and shape differ in rank");
    FUSEJIT_INTERNAL_CHECK(l.valid.empty() || l.valid.size() == l.shape.size(), k.name, " %", at,
                           ": ranges and shape differ in rank");
  }
  for (const AccessLayer &l : a.layers)
    for (const GatherTerm &g : l.gathers) {
      bool listed = std::find(in.args.begin(), in.args.end(), g.instr) != in.args.end();
      FUSEJIT_INTERNAL_CHECK(listed && is_integer(k.body.at(g.instr).dtype), k.name, " %", at,
                             ": gathers by %", g.instr, ", not an integer arg");
      FUSEJIT_INTERNAL_CHECK(g.extent > 0 || numel(k.domain) == 0, k.name, " %", at,
                             ": gathers from an empty dim");
    }
  // Outer loads run once per output point and must not depend on reduced dims.
  if (in.outer)
    for (size_t d = k.num_output_dims(); d < k.domain.size(); ++d)
      FUSEJIT_INTERNAL_CHECK(a.layers[0].strides[d] == 0, k.name, " %", at,
                             ": an epilogue load moves along a reduced dim");
  if (numel(k.domain) == 0) return;
  // At its valid indices, each layer must stay inside the next layer's
  // shape (it is unravelled there), and a load's last inside the buffer.
  // Invalid points read nothing, whatever their position.
  for (size_t l = 0; l < a.layers.size(); ++l) {
    bool last = l + 1 == a.layers.size();
    if (last && in.kind != InstrKind::Load && in.kind != InstrKind::Iota) break;
    // An iota reads no buffer; its positions stay inside its own shape.
    int64_t limit = !last                        ? numel(a.layers[l + 1].shape)
                    : in.kind == InstrKind::Iota ? std::numeric_limits<int64_t>::max()
                                                 : numel(k.inputs.at(in.input).shape);
    int64_t lo, hi;
    if (!position_range(a.layers[l], lo, hi)) break;
    FUSEJIT_INTERNAL_CHECK(lo >= 0 && hi < limit, k.name, " %", at, ": access layer ", l,
                           " reaches positions ", lo, " to ", hi, " of ", limit);
  }
}

}  // namespace

void verify_kernel(const Kernel &k) {
  count_check(Check::Kernel);
  FUSEJIT_INTERNAL_CHECK(k.num_reduce <= k.domain.size(), k.name, ": more reduced dims than dims");
  const bool row = k.kind() == KernelKind::Row;  // phases: verify_row_phases
  for (size_t i = 0; i < k.body.size(); ++i) {
    const Instr &in = k.body[i];
    for (int a : in.args) {
      FUSEJIT_INTERNAL_CHECK(a >= 0 && static_cast<size_t>(a) < i, k.name, " %", i, ": uses %", a,
                             " before it is defined");
      // An inner instruction cannot use an epilogue value.
      FUSEJIT_INTERNAL_CHECK(row || in.outer || !k.body[a].outer, k.name, " %", i,
                             ": inner instruction uses epilogue value %", a);
    }
    if (in.kind == InstrKind::Load) {
      FUSEJIT_INTERNAL_CHECK(in.input >= 0 && static_cast<size_t>(in.input) < k.inputs.size(),
                             k.name, " %", i, ": load of unknown input ", in.input);
      verify_access(k, in, i);
    }
    if (in.kind == InstrKind::Compute) {
      OpKind kind = op_kind(in.op);
      FUSEJIT_INTERNAL_CHECK(
          kind == OpKind::Unary || kind == OpKind::Binary || kind == OpKind::Ternary, k.name, " %",
          i, ": ", op_name(in.op), " is not an elementwise op");
      FUSEJIT_INTERNAL_CHECK(in.args.size() == op_arity(in.op), k.name, " %", i, ": ",
                             op_name(in.op), " given ", in.args.size(), " args");
    }
    if (in.kind == InstrKind::Valid || in.kind == InstrKind::Iota) verify_access(k, in, i);
    if (in.kind == InstrKind::Reduced)
      FUSEJIT_INTERNAL_CHECK(in.outer && (k.reduction || row), k.name, " %", i,
                             ": reduced value outside an epilogue");
  }
  if (k.reduction)
    FUSEJIT_INTERNAL_CHECK(k.reduction->value >= 0 &&
                               static_cast<size_t>(k.reduction->value) < k.body.size() &&
                               !k.body[k.reduction->value].outer,
                           k.name, ": reduced value must be an inner instruction");
  for (const KernelOutput &o : k.outputs) {
    FUSEJIT_INTERNAL_CHECK(o.instr >= 0 && static_cast<size_t>(o.instr) < k.body.size(), k.name,
                           ": output of unknown instruction");
    FUSEJIT_INTERNAL_CHECK(row || k.num_reduce == 0 || k.body[o.instr].outer, k.name,
                           ": a reduce kernel writes an inner value");
  }
  if (row) verify_row_phases(k);
}

}  // namespace fusejit
