#include <algorithm>
#include <cmath>

#include <fusejit/error.h>
#include <fusejit/grad_mode.h>
#include <fusejit/optim.h>

namespace fusejit::optim {

namespace {

// Zeros as an input leaf (not a constant): the state of the first step is
// a leaf as every later step's is, so their plans are one.
Tensor zeros_leaf(const Tensor &like) {
  auto n = static_cast<size_t>(like.numel());
  if (like.dtype() == DType::F64)
    return Tensor::from_vector(std::vector<double>(n, 0.0), like.shape());
  return Tensor::from_vector(std::vector<float>(n, 0.f), like.shape());
}

void check_lr(const char *what, double lr) {
  if (!(lr >= 0))
    throw ValueError(std::string(what) + ": learning rate " + std::to_string(lr) +
                     " must be at least 0");
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> parameters, double lr)
    : params_(std::move(parameters)), state_(params_.size()), lr_(lr) {
  check_lr("optimizer", lr);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor &p = params_[i];
    if (!p.defined())
      throw ValueError("optimizer: parameter " + std::to_string(i) + " is undefined");
    if (!p.is_leaf() || !p.requires_grad())
      throw ValueError("optimizer: parameter " + std::to_string(i) +
                       " is not a leaf that requires grad");
    if (p.dtype() != DType::F32 && p.dtype() != DType::F64)
      throw ValueError("optimizer: parameter " + std::to_string(i) + " is " +
                       dtype_name(p.dtype()) + "; only floating-point parameters train");
  }
}

void Optimizer::set_lr(double lr) {
  check_lr("set_lr", lr);
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (const Tensor &p : params_) p.zero_grad();
}

std::map<std::string, Tensor> Optimizer::state(const Tensor &parameter) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].defined() && parameter.defined() && params_[i].node() == parameter.node())
      return state_[i];
  throw ValueError("optimizer: state(): the tensor is not one of its parameters");
}

Tensor &Optimizer::state_tensor(size_t i, const std::string &name) {
  auto [it, fresh] = state_[i].try_emplace(name);
  if (fresh) it->second = zeros_leaf(params_[i]);
  return it->second;
}

void Optimizer::step(const std::vector<Tensor> &with) {
  ++steps_;
  std::vector<Tensor> out = with;
  {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
      Tensor g = params_[i].grad();
      if (g.defined()) update(i, g, steps_, out);
    }
  }
  // Every parameter and state tensor, the gradients and the forward they
  // came from: one plan.
  realize(out, options);
}

SGD::SGD(std::vector<Tensor> parameters, const SGDOptions &options)
    : Optimizer(std::move(parameters), options.lr), opt_(options) {
  if (opt_.momentum < 0 || opt_.weight_decay < 0)
    throw ValueError("SGD: momentum " + std::to_string(opt_.momentum) + " and weight_decay " +
                     std::to_string(opt_.weight_decay) + " must be at least 0");
  if (opt_.nesterov && (opt_.momentum <= 0 || opt_.dampening != 0))
    throw ValueError("SGD: Nesterov momentum needs a momentum > 0 and zero dampening (momentum " +
                     std::to_string(opt_.momentum) + ", dampening " +
                     std::to_string(opt_.dampening) + ")");
}

void SGD::update(size_t i, const Tensor &grad, int64_t step, std::vector<Tensor> &out) {
  const Tensor &p = parameters()[i];
  DType t = p.dtype();
  Tensor g = opt_.weight_decay != 0 ? grad + opt_.weight_decay * p : grad;
  if (opt_.momentum != 0) {
    Tensor &buf = state_tensor(i, "momentum_buffer");
    // torch starts the buffer at g; from zeros that is a coefficient of 1
    // on g in the first step, a run-time value so both steps are one plan.
    Tensor c = scalar_tensor(step == 1 ? 1.0 : 1.0 - opt_.dampening, t);
    buf.copy_(opt_.momentum * buf + c * g);
    g = opt_.nesterov ? g + opt_.momentum * buf : buf;
    out.push_back(buf);
  }
  p.copy_(p - scalar_tensor(lr(), t) * g);
  out.push_back(p);
}

Adam::Adam(std::vector<Tensor> parameters, const AdamOptions &options)
    : Adam(std::move(parameters), options, false) {}

Adam::Adam(std::vector<Tensor> parameters, const AdamOptions &options, bool decoupled)
    : Optimizer(std::move(parameters), options.lr), opt_(options), decoupled_(decoupled) {
  const char *name = decoupled ? "AdamW" : "Adam";
  if (!(opt_.beta1 >= 0 && opt_.beta1 < 1 && opt_.beta2 >= 0 && opt_.beta2 < 1))
    throw ValueError(std::string(name) + ": betas (" + std::to_string(opt_.beta1) + ", " +
                     std::to_string(opt_.beta2) + ") must be in [0, 1)");
  if (!(opt_.eps >= 0) || !(opt_.weight_decay >= 0))
    throw ValueError(std::string(name) + ": eps " + std::to_string(opt_.eps) +
                     " and weight_decay " + std::to_string(opt_.weight_decay) +
                     " must be at least 0");
}

void Adam::update(size_t i, const Tensor &grad, int64_t step, std::vector<Tensor> &out) {
  const Tensor &p = parameters()[i];
  DType t = p.dtype();
  Tensor g = grad, w = p;
  if (opt_.weight_decay != 0) {
    if (decoupled_)
      w = p * scalar_tensor(1.0 - lr() * opt_.weight_decay, t);
    else
      g = g + opt_.weight_decay * p;
  }
  Tensor &m = state_tensor(i, "exp_avg");
  Tensor &v = state_tensor(i, "exp_avg_sq");
  m.copy_(opt_.beta1 * m + (1.0 - opt_.beta1) * g);
  v.copy_(opt_.beta2 * v + (1.0 - opt_.beta2) * (g * g));
  // The bias corrections change every step: run-time scalars, computed here
  // in double as torch computes them in Python floats.
  auto s = static_cast<double>(step);
  double step_size = lr() / (1.0 - std::pow(opt_.beta1, s));
  double inv_sqrt_bc2 = 1.0 / std::sqrt(1.0 - std::pow(opt_.beta2, s));
  Tensor denom = v.sqrt() * scalar_tensor(inv_sqrt_bc2, t) + opt_.eps;
  p.copy_(w - scalar_tensor(step_size, t) * m / denom);
  out.push_back(m);
  out.push_back(v);
  out.push_back(p);
}

AdamW::AdamW(std::vector<Tensor> parameters, const AdamWOptions &options)
    : Adam(std::move(parameters), options, true) {}

}  // namespace fusejit::optim
