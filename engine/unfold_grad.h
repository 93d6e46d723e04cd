// The gradient of an unfold whose windows' gradient is a contraction, as
// one contraction: a convolution's input gradient without a col2im buffer.
//
// x -> w = unfold(x, dim, K, s) reads x[o * s + k] at window o, offset k, so
// dx[i] sums dw[o, k] over o * s + k = i. When dw = sum over R of a * b with
// the window dim o only a's and the offset dim k only b's (a convolution:
// the output gradient and the weight), dx splits by phase: at i = q * s + r,
//   dx[q, r] = sum over R and the J = ceil(K / s) taps j of a[q - j] * b[r + j * s],
// a sum over R and j of a's windows (an unfold of step 1 over a padded by
// J - 1) times b's offsets as [J, s]: a contraction the matmul recognizer
// finds, whose [q, r] merge into i. Views between dw and the sum (the
// reshapes and slices the conv and an earlier fold put there) are carried
// over when they leave o and k whole. The stride s never multiplies zeros
// into a dilated gradient, and dw is never formed. Only for s > 1 and M and
// N of kNarrow or more: at s = 1, and where the contraction would run as a
// reduction, col2im measured faster (engine/unfold_grad.cpp).
#pragma once

#include <cstdint>

#include "ir/node.h"

namespace fusejit {

// dx of extent `extent` along `dim`, or null when `dw` (the gradient of the
// unfold's output, its window offsets last) is not of that form.
NodeRef unfold_grad_as_contraction(const NodeRef &dw, size_t dim, int64_t size, int64_t step,
                                   int64_t extent);

}  // namespace fusejit
