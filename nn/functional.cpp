#include <cmath>
#include <limits>

#include <fusejit/error.h>
#include <fusejit/grad_mode.h>
#include <fusejit/nn.h>
#include <fusejit/row_ops.h>

namespace fusejit::nn {

Tensor functional::mse_loss(const Tensor &input, const Tensor &target, Reduction reduction) {
  Tensor d = input - target;
  if (d.shape() != input.shape())
    throw ShapeError(
        "mse_loss: the target's shape does not broadcast to the input's (the "
        "difference has " +
        std::to_string(d.dim()) + " dims, the input " + std::to_string(input.dim()) + ")");
  Tensor sq = d * d;
  switch (reduction) {
    case Reduction::None:
      return sq;
    case Reduction::Mean:
      return sq.mean();
    case Reduction::Sum:
      return sq.sum();
  }
  throw ValueError("mse_loss: unknown reduction");
}

namespace {

Tensor reduce_rows(const Tensor &per_row, Reduction reduction, const char *what) {
  switch (reduction) {
    case Reduction::None:
      return per_row;
    case Reduction::Mean:
      return per_row.mean();
    case Reduction::Sum:
      return per_row.sum();
  }
  throw ValueError(std::string(what) + ": unknown reduction");
}

void check_rows(const Tensor &input, const char *what) {
  if (input.dim() != 2 || !is_floating(input.dtype()))
    throw ShapeError(std::string(what) + ": the input is " + dtype_name(input.dtype()) + " with " +
                     std::to_string(input.dim()) + " dims; it must be a float [N, C]");
}

}  // namespace

Tensor functional::nll_loss(const Tensor &input, const Tensor &target, Reduction reduction) {
  check_rows(input, "nll_loss");
  if (target.dim() != 1 || target.size(0) != input.size(0))
    throw ShapeError("nll_loss: the target has " + std::to_string(target.dim()) + " dims and " +
                     std::to_string(target.numel()) +
                     " elements; it must be [N] with N = " + std::to_string(input.size(0)));
  Tensor picked = (input * one_hot(target, input.size(1), input.dtype())).sum({1});
  return reduce_rows(-picked, reduction, "nll_loss");
}

Tensor functional::cross_entropy(const Tensor &input, const Tensor &target, Reduction reduction) {
  check_rows(input, "cross_entropy");
  Tensor logp = log_softmax(input, 1);
  if (is_floating(target.dtype())) {
    if (target.sizes() != input.sizes())
      throw ShapeError("cross_entropy: class probabilities must have the input's shape");
    return reduce_rows(-(target * logp).sum({1}), reduction, "cross_entropy");
  }
  return nll_loss(logp, target, reduction);
}

Tensor clip_grad_norm_(const std::vector<Tensor> &parameters, double max_norm, double norm_type) {
  if (!(max_norm >= 0))
    throw ValueError("clip_grad_norm_: max_norm " + std::to_string(max_norm) +
                     " must be at least 0");
  if (!(norm_type > 0))
    throw ValueError("clip_grad_norm_: norm_type " + std::to_string(norm_type) +
                     " must be positive");
  NoGradGuard no_grad;
  bool inf = std::isinf(norm_type);
  std::vector<Tensor> grads;
  Tensor total;
  for (const Tensor &p : parameters) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (!grads.empty() && g.dtype() != grads.front().dtype())
      throw ValueError(std::string("clip_grad_norm_: grads of ") +
                       dtype_name(grads.front().dtype()) + " and of " + dtype_name(g.dtype()) +
                       "; one dtype for all, please");
    grads.push_back(g);
    Tensor part = inf              ? g.abs().max()
                  : norm_type == 2 ? (g * g).sum()
                                   : g.abs().pow(norm_type).sum();
    total = !total.defined() ? part : inf ? total.maximum(part) : total + part;
  }
  if (!total.defined()) return scalar_tensor(0.0);
  if (!inf) total = norm_type == 2 ? total.sqrt() : total.pow(1.0 / norm_type);
  Tensor coef = (max_norm / (total + 1e-6)).minimum(Tensor::scalar(1.0, total.dtype()));
  size_t k = 0;
  for (const Tensor &p : parameters)
    if (p.grad().defined()) p.set_grad(grads[k++] * coef);
  return total;
}

}  // namespace fusejit::nn
