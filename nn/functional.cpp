#include <cmath>
#include <limits>

#include <fusejit/error.h>
#include <fusejit/grad_mode.h>
#include <fusejit/nn.h>

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
