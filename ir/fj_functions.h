// The call names of `.fj` (`exp(x)`, `sum(x, 1)`, `reshape(x, [2, 3])`, ...)
// and its infix operators, and what each builds. Derived from the op list in ir/node.h, plus
// the calls that compose ops: `transpose` (a permute), `flip` (a slice),
// `stack` (a cat), `squeeze`, `unsqueeze` and `flatten` (reshapes), the
// row ops (`softmax`, `layer_norm`, ...: see ir/row_ops.h), `cast`, `clamp`
// (maximum, minimum), `masked_fill` (a where) and `zeros_like`,
// `ones_like`, `full_like` (constants), `arange` (an iota), `index_select` (a
// gather), `scatter_add` and `index_add` (reductions over index == arange), `one_hot` and
// `argmax`/`argmin` (comparisons with an arange), and convolution and pooling
// (`conv1d`, `conv2d`, `max_pool2d`, `avg_pool2d`: see ir/conv.h).
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
  RmsNorm,
  CrossEntropy,  // cross_entropy(logits, labels, ignore_index=-100)
  Cast,          // cast(x, i32)
  Clamp,         // clamp(x, lo, hi): maximum then minimum
  MaskedFill,    // masked_fill(x, mask, v): where(mask, v, x)
  FullLike,      // zeros_like(x), ones_like(x), full_like(x, v): a constant of x's dtype and shape
  Arange,        // arange(end), arange(start, end), arange(start, end, step): i64, an iota
  Gather,        // gather(x, dim, index), index_select(x, dim, index)
  Scatter,       // scatter_add(x, dim, index, src), index_add(x, dim, index, src)
  OneHot,        // one_hot(labels, n[, dtype]): labels == arange(n)
  Argmax,        // argmax(x[, dim], keepdim=), argmin likewise: i64
  // Convolution and pooling (ir/conv.h): compositions of pad, unfold, * and a reduction.
  Conv,           // conv1d(x, w, bias, stride=1, padding=0 or "same", dilation=1, groups=1), conv2d
  ConvTranspose,  // conv_transpose2d(x, w, bias, stride=2, padding=1, output_padding=0, ...), 1d
  Pool  // max_pool2d(x, [2, 2], stride=, padding=, dilation=, ceil_mode=false), avg_pool2d with
        // ceil_mode= and count_include_pad=true
};

struct Callee {
  Fn fn;
  Op op;
};

std::optional<Callee> lookup_function(std::string_view name);

// The op an infix operator (`+`, `<`, `@`, ...) builds.
std::optional<Op> lookup_infix(std::string_view op);

}  // namespace fusejit::fj
