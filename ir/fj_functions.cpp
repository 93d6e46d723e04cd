#include "ir/fj_functions.h"

#include <unordered_map>

namespace fusejit::fj {

namespace {

// How a call of the op reads its arguments; leaves and infix operators have no call.
std::optional<Fn> call_form(Op op) {
  if (!has_call_form(op)) return std::nullopt;
  switch (op) {
    case Op::Iota:
      return Fn::Arange;
    case Op::Input:
    case Op::Const:
      return std::nullopt;
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      return Fn::Unary;
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      return Fn::Cast;
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      return Fn::Binary;
    case Op::Where:
      return Fn::Where;
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      return Fn::Reduce;
    case Op::Reshape:
      return Fn::Reshape;
    case Op::Permute:
      return Fn::Permute;
    case Op::Expand:
      return Fn::Expand;
    case Op::Slice:
      return Fn::Slice;
    case Op::Pad:
      return Fn::Pad;
    case Op::Cat:
      return Fn::Cat;
    case Op::Unfold:
      return Fn::Unfold;
    case Op::Gather:
      return Fn::Gather;
    case Op::Matmul:
      return Fn::Matmul;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Callee> lookup_function(std::string_view name) {
  // Built once; never destroyed, so lookups are safe during static teardown.
  static const auto *table = [] {
    auto *t = new std::unordered_map<std::string_view, Callee>;
    for (Op op : kAllOps)
      if (std::optional<Fn> fn = call_form(op)) t->emplace(op_name(op), Callee{*fn, op});
    t->emplace("transpose", Callee{Fn::Transpose, Op::Permute});
    t->emplace("flip", Callee{Fn::Flip, Op::Slice});
    t->emplace("stack", Callee{Fn::Stack, Op::Cat});
    t->emplace("squeeze", Callee{Fn::Squeeze, Op::Reshape});
    t->emplace("unsqueeze", Callee{Fn::Unsqueeze, Op::Reshape});
    t->emplace("flatten", Callee{Fn::Flatten, Op::Reshape});
    t->emplace("softmax", Callee{Fn::Softmax, Op::Exp});
    t->emplace("log_softmax", Callee{Fn::LogSoftmax, Op::Exp});
    t->emplace("logsumexp", Callee{Fn::Logsumexp, Op::Exp});
    t->emplace("var", Callee{Fn::Var, Op::Mean});
    t->emplace("std", Callee{Fn::Std, Op::Mean});
    t->emplace("layer_norm", Callee{Fn::LayerNorm, Op::Mean});
    t->emplace("rms_norm", Callee{Fn::RmsNorm, Op::Mean});
    t->emplace("cross_entropy", Callee{Fn::CrossEntropy, Op::Exp});
    t->emplace("clamp", Callee{Fn::Clamp, Op::Minimum});
    t->emplace("masked_fill", Callee{Fn::MaskedFill, Op::Where});
    t->emplace("zeros_like", Callee{Fn::FullLike, Op::Const});
    t->emplace("ones_like", Callee{Fn::FullLike, Op::Const});
    t->emplace("full_like", Callee{Fn::FullLike, Op::Const});
    t->emplace("index_select", Callee{Fn::Gather, Op::Gather});
    t->emplace("scatter_add", Callee{Fn::Scatter, Op::Sum});
    t->emplace("index_add", Callee{Fn::Scatter, Op::Sum});
    t->emplace("one_hot", Callee{Fn::OneHot, Op::Eq});
    t->emplace("argmax", Callee{Fn::Argmax, Op::Max});
    t->emplace("argmin", Callee{Fn::Argmax, Op::Min});
    t->emplace("conv1d", Callee{Fn::Conv, Op::Sum});
    t->emplace("conv2d", Callee{Fn::Conv, Op::Sum});
    t->emplace("conv_transpose1d", Callee{Fn::ConvTranspose, Op::Sum});
    t->emplace("conv_transpose2d", Callee{Fn::ConvTranspose, Op::Sum});
    t->emplace("max_pool2d", Callee{Fn::Pool, Op::Max});
    t->emplace("avg_pool2d", Callee{Fn::Pool, Op::Mean});
    return t;
  }();
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

std::optional<Op> lookup_infix(std::string_view op) {
  static const auto *table = [] {
    auto *t = new std::unordered_map<std::string_view, Op>;
    for (Op o : kAllOps)
      if (is_infix(o)) t->emplace(op_infix(o), o);
    return t;
  }();
  auto it = table->find(op);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

}  // namespace fusejit::fj
