#include "ir/kernel.h"

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

// The largest position a layer reaches over its whole shape (strides are
// non-negative, so the last index gives the maximum).
int64_t max_position(const AccessLayer &layer) {
  int64_t p = layer.offset;
  for (size_t d = 0; d < layer.shape.size(); ++d)
    if (layer.shape[d] > 0) p += (layer.shape[d] - 1) * layer.strides[d];
  return p;
}

void verify_access(const Kernel &k, const Instr &in, size_t at) {
  const Access &a = in.access;
  FUSEJIT_INTERNAL_CHECK(!a.layers.empty(), k.name, " %", at, ": load without access");
  FUSEJIT_INTERNAL_CHECK(a.layers[0].shape == k.domain, k.name, " %", at,
                         ": access does not start at the domain");
  for (const AccessLayer &l : a.layers) {
    FUSEJIT_INTERNAL_CHECK(l.strides.size() == l.shape.size(), k.name, " %", at,
                           ": strides and shape differ in rank");
    for (int64_t s : l.strides)
      FUSEJIT_INTERNAL_CHECK(s >= 0, k.name, " %", at, ": negative stride");
  }
  // Outer loads run once per output point and must not depend on reduced dims.
  if (in.outer)
    for (size_t d = k.num_output_dims(); d < k.domain.size(); ++d)
      FUSEJIT_INTERNAL_CHECK(a.layers[0].strides[d] == 0, k.name, " %", at,
                             ": an epilogue load moves along a reduced dim");
  if (numel(k.domain) == 0) return;
  // Each layer must stay inside the next layer's shape (it is unravelled
  // there), and the last inside the buffer.
  for (size_t l = 0; l < a.layers.size(); ++l) {
    int64_t limit =
        l + 1 < a.layers.size() ? numel(a.layers[l + 1].shape) : numel(k.inputs.at(in.input).shape);
    FUSEJIT_INTERNAL_CHECK(max_position(a.layers[l]) < limit, k.name, " %", at, ": access layer ",
                           l, " reaches position ", max_position(a.layers[l]), " of ", limit);
  }
}

}  // namespace

void verify_kernel(const Kernel &k) {
  count_check(Check::Kernel);
  FUSEJIT_INTERNAL_CHECK(k.num_reduce <= k.domain.size(), k.name, ": more reduced dims than dims");
  for (size_t i = 0; i < k.body.size(); ++i) {
    const Instr &in = k.body[i];
    for (int a : in.args) {
      FUSEJIT_INTERNAL_CHECK(a >= 0 && static_cast<size_t>(a) < i, k.name, " %", i, ": uses %", a,
                             " before it is defined");
      // An inner instruction cannot use an epilogue value.
      FUSEJIT_INTERNAL_CHECK(in.outer || !k.body[a].outer, k.name, " %", i,
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
    if (in.kind == InstrKind::Reduced)
      FUSEJIT_INTERNAL_CHECK(in.outer && k.reduction, k.name, " %", i,
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
    FUSEJIT_INTERNAL_CHECK(k.num_reduce == 0 || k.body[o.instr].outer, k.name,
                           ": a reduce kernel writes an inner value");
  }
}

}  // namespace fusejit
