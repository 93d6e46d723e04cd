// Row ops, as libtorch's free functions: each is a composition of primitive
// ops in the graph (max, exp, sum, mean, ...), so gradients and fusion come
// from the primitives, and a hand-written composition compiles the same.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <fusejit/tensor.h>

namespace fusejit {

// exp(x - max) / sum(exp(x - max)) along dim (negative counts from the end).
Tensor softmax(const Tensor &x, int64_t dim);
Tensor log_softmax(const Tensor &x, int64_t dim);
// log(sum(exp(x), dims)), computed stably; empty dims reduce everything.
Tensor logsumexp(const Tensor &x, const std::vector<int64_t> &dims, bool keepdim = false);
// The variance over dims with torch's correction (1: Bessel's, n - 1); std
// is its square root. Empty dims reduce everything.
Tensor var(const Tensor &x, const std::vector<int64_t> &dims = {}, double correction = 1,
           bool keepdim = false);
Tensor std(const Tensor &x, const std::vector<int64_t> &dims = {}, double correction = 1,
           bool keepdim = false);
// torch.nn.functional.layer_norm: over the last dims, whose extents are
// normalized_shape; weight and bias (optional) have that shape.
Tensor layer_norm(const Tensor &x, const Shape &normalized_shape, const Tensor &weight = {},
                  const Tensor &bias = {}, double eps = 1e-5);
// torch.nn.functional.rms_norm: eps defaults to the dtype's machine epsilon.
Tensor rms_norm(const Tensor &x, const Shape &normalized_shape, const Tensor &weight = {},
                std::optional<double> eps = std::nullopt);
// torch.nn.functional.cross_entropy with class indices: logits [N, C, d...],
// integer labels [N, d...]; the mean over the labels other than
// ignore_index. (nn::cross_entropy also takes class probabilities and a
// Reduction.)
Tensor cross_entropy(const Tensor &logits, const Tensor &labels, int64_t ignore_index = -100);

}  // namespace fusejit
