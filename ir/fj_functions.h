// The call names of `.fj` (`exp(x)`, `sum(x, 1)`, `reshape(x, [2, 3])`, ...)
// and its infix operators, and what each builds. Derived from the op list in ir/node.h, plus
// the calls that compose ops: `transpose` (a permute), `flip` (a slice),
// `stack` (a cat), `squeeze`, `unsqueeze` and `flatten` (reshapes), and the
// row ops (`softmax`, `layer_norm`, ...: see ir/row_ops.h).
#pragma once

#include <optional>
#include <string_view>

#include "ir/node.h"

namespace fusejit::fj {

// How a call's arguments are read; `op` says which node it builds.
enum class Fn {
  Unary,
  Binary,
  Where,
  Reduce,
  Reshape,
  Permute,
  Expand,
  Transpose,
  Matmul,
  Slice,
  Pad,
  Cat,
  Unfold,
  Flip,
  Stack,
  Squeeze,
  Unsqueeze,
  Flatten,
  // The row ops of ir/row_ops.h: compositions of primitives.
  Softmax,
  LogSoftmax,
  Logsumexp,
  Var,
  Std,
  LayerNorm,
  RmsNorm
};

struct Callee {
  Fn fn;
  Op op;
};

std::optional<Callee> lookup_function(std::string_view name);

// The op an infix operator (`+`, `<`, `@`, ...) builds.
std::optional<Op> lookup_infix(std::string_view op);

}  // namespace fusejit::fj
