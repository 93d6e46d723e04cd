#include "ir/fj_functions.h"

#include <unordered_map>

namespace fusejit::fj {

namespace {

// The call form of an op; leaves and infix operators have none.
std::optional<Fn> call_form(Op op) {
  switch (op_kind(op)) {
    case OpKind::Leaf:
      return std::nullopt;
    case OpKind::Unary:
      return Fn::Elementwise;
    case OpKind::Binary:
      if (is_infix(op)) return std::nullopt;
      return Fn::Elementwise;
    case OpKind::Ternary:
      return Fn::Where;
    case OpKind::Reduce:
      return Fn::Reduce;
    case OpKind::View:
      return op == Op::Reshape ? Fn::Reshape : op == Op::Permute ? Fn::Permute : Fn::Expand;
    case OpKind::Matmul:
      return Fn::Matmul;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Callee> lookup_function(std::string_view name) {
  // Built once; never destroyed, so lookups are safe during static teardown.
  static const auto *table = [] {
    auto *t = new std::unordered_map<std::string_view, Callee>;
    const Op all[] = {
#define FUSEJIT_OP_LIST(name, spelling, kind) Op::name,
        FUSEJIT_OPS(FUSEJIT_OP_LIST)
#undef FUSEJIT_OP_LIST
    };
    for (Op op : all)
      if (std::optional<Fn> fn = call_form(op)) t->emplace(op_name(op), Callee{*fn, op});
    t->emplace("transpose", Callee{Fn::Transpose, Op::Permute});
    return t;
  }();
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

}  // namespace fusejit::fj
