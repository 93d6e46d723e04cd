// The named row ops of `.fj` and the C++ API (softmax, log_softmax,
// logsumexp, layer_norm, rms_norm, var, std, cross_entropy), each built from primitives of
// the graph (max, exp, sum, mean, sub, div, ...): autodiff differentiates the
// primitives and fusion sees them, so a hand-written composition and the
// named op are the same nodes (hash-consing) and compile alike.
#pragma once

#include <optional>
#include <vector>

#include "ir/node.h"

namespace fusejit::ir {

// exp(x - max) / sum(exp(x - max)) along dim (negative counts from the end).
NodeRef softmax(const NodeRef &x, int64_t dim);
// (x - max) - log(sum(exp(x - max))) along dim.
NodeRef log_softmax(const NodeRef &x, int64_t dim);
// log(sum(exp(x - max), dims)) + max; empty dims reduce everything.
NodeRef logsumexp(const NodeRef &x, const std::vector<int64_t> &dims, bool keepdim = false);
// sum((x - mean)^2, dims) / (n - correction), n the number of elements
// reduced (torch's correction; 1 is Bessel's); empty dims reduce everything.
NodeRef var(const NodeRef &x, const std::vector<int64_t> &dims, double correction = 1,
            bool keepdim = false);
NodeRef std_dev(const NodeRef &x, const std::vector<int64_t> &dims, double correction = 1,
                bool keepdim = false);
// (x - mean) / sqrt(biased var + eps) over `dims`, which must be the last
// dims of x (in any order), then * weight + bias when given; weight and
// bias have the shape of those dims. A ShapeError names what does not fit.
NodeRef layer_norm(const NodeRef &x, const std::vector<int64_t> &dims, const NodeRef &weight,
                   const NodeRef &bias, double eps = 1e-5);
// x / sqrt(mean(x^2) + eps) over the trailing `dims`, then * weight when
// given; eps defaults to the dtype's machine epsilon, as torch's.
NodeRef rms_norm(const NodeRef &x, const std::vector<int64_t> &dims, const NodeRef &weight,
                 std::optional<double> eps = std::nullopt);
// torch.nn.functional.cross_entropy with class indices: logits [N, C, d...]
// (classes along dim 1), integer labels [N, d...]; the mean over the labels
// not equal to ignore_index of -log_softmax(logits, 1) at each label (NaN
// when every label is ignored, as torch). A label out of [0, C) other than
// ignore_index is an IndexError when it runs, as one_hot's.
NodeRef cross_entropy(const NodeRef &logits, const NodeRef &labels, int64_t ignore_index = -100);

}  // namespace fusejit::ir
