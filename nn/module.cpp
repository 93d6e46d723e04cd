#include <cmath>

#include <fusejit/error.h>
#include <fusejit/grad_mode.h>
#include <fusejit/nn.h>

namespace fusejit::nn {

namespace {

// "f32[3, 4]", as the engine's messages spell a type.
std::string describe(const Tensor &t) {
  std::string out = std::string(dtype_name(t.dtype())) + "[";
  for (size_t i = 0; i < t.shape().size(); ++i)
    out += (i ? ", " : "") + std::to_string(t.shape()[i]);
  return out + "]";
}

// A child's entry under the parent: "0" and "weight" give "0.weight".
std::string key(const std::string &prefix, const std::string &name) {
  std::string out = prefix;
  out += ".";
  out += name;
  return out;
}

}  // namespace

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named(bool parameters, bool buffers, bool recurse) const {
  NamedTensors out;
  if (parameters) out.insert(out.end(), params_.begin(), params_.end());
  if (buffers) out.insert(out.end(), buffers_.begin(), buffers_.end());
  if (!recurse) return out;
  for (const auto &[prefix, child] : children_)
    for (auto &[name, t] : child->named(parameters, buffers, true))
      out.emplace_back(key(prefix, name), t);
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const { return named(true, false, recurse); }
NamedTensors Module::named_buffers(bool recurse) const { return named(false, true, recurse); }
NamedTensors Module::state_dict() const { return named(true, true, true); }

void Module::train(bool on) {
  training_ = on;
  for (auto &[name, child] : children_) child->train(on);
}

void Module::load_state_dict(const NamedTensors &state, bool strict) {
  NamedTensors mine = state_dict();
  auto find = [](const NamedTensors &in, const std::string &key) -> const Tensor * {
    for (const auto &[name, t] : in)
      if (name == key) return &t;
    return nullptr;
  };
  // Every check before the first copy, so a bad state changes nothing.
  std::vector<std::pair<Tensor, Tensor>> copies;
  for (const auto &[name, p] : mine) {
    const Tensor *t = find(state, name);
    if (!t) {
      if (strict) throw ValueError("load_state_dict: no entry for '" + name + "'");
      continue;
    }
    if (t->dtype() != p.dtype() || t->shape() != p.shape())
      throw ShapeError("load_state_dict: '" + name + "' is " + describe(*t) +
                       " but the module's is " + describe(p));
    copies.emplace_back(p, *t);
  }
  if (strict)
    for (const auto &[name, t] : state)
      if (!find(mine, name))
        throw ValueError("load_state_dict: '" + name +
                         "' is not a parameter or buffer of the module");
  NoGradGuard no_grad;
  std::vector<Tensor> changed;
  for (auto &[p, t] : copies) changed.push_back(p.copy_(t));
  realize(changed);
}

void Module::zero_grad() {
  for (const Tensor &p : parameters()) p.zero_grad();
}

Tensor Module::register_parameter(std::string name, Tensor value, bool requires_grad) {
  for (const auto &[have, t] : params_)
    if (have == name) throw ValueError("register_parameter: '" + name + "' is registered already");
  if (requires_grad) value.requires_grad_();
  params_.emplace_back(std::move(name), value);
  return value;
}

Tensor Module::register_buffer(std::string name, Tensor value) {
  for (const auto &[have, t] : buffers_)
    if (have == name) throw ValueError("register_buffer: '" + name + "' is registered already");
  buffers_.emplace_back(std::move(name), value);
  return value;
}

std::shared_ptr<Module> Module::register_module(std::string name, std::shared_ptr<Module> child) {
  if (!child) throw ValueError("register_module: module '" + name + "' is null");
  for (const auto &[have, m] : children_)
    if (have == name) throw ValueError("register_module: '" + name + "' is registered already");
  children_.emplace_back(std::move(name), child);
  return child;
}

namespace {

// Uniform in [-bound, bound): torch's init.uniform_.
Tensor uniform(const Shape &shape, double bound, DType dtype, std::optional<uint64_t> seed) {
  return ((Tensor::rand(shape, dtype, seed) * 2.0 - 1.0) * bound).detach();
}

}  // namespace

Linear::Linear(const LinearOptions &o) : options(o) {
  if (o.in_features < 1 || o.out_features < 1)
    throw ValueError("Linear: in_features " + std::to_string(o.in_features) + " and out_features " +
                     std::to_string(o.out_features) + " must be positive");
  // kaiming_uniform_(a = sqrt(5)) gives a bound of gain sqrt(3 / fan_in)
  // with gain sqrt(2 / (1 + 5)): 1 / sqrt(fan_in), the bias's bound too. A
  // seeded layer draws its bias from the next seed.
  double bound = 1.0 / std::sqrt(static_cast<double>(o.in_features));
  weight = register_parameter("weight",
                              uniform({o.out_features, o.in_features}, bound, o.dtype, o.seed_));
  if (o.bias_) {
    std::optional<uint64_t> next;
    if (o.seed_) next = *o.seed_ + 1;
    bias = register_parameter("bias", uniform({o.out_features}, bound, o.dtype, next));
  }
}

Conv2d::Conv2d(const Conv2dOptions &o) : options(o) {
  if (o.in_channels < 1 || o.out_channels < 1 || o.kernel_size < 1 || o.groups_ < 1 ||
      o.in_channels % o.groups_ != 0 || o.out_channels % o.groups_ != 0)
    throw ValueError("Conv2d: in_channels " + std::to_string(o.in_channels) + ", out_channels " +
                     std::to_string(o.out_channels) + ", kernel_size " +
                     std::to_string(o.kernel_size) + " and groups " + std::to_string(o.groups_) +
                     " must be positive, with groups dividing both channel counts");
  int64_t per_group = o.in_channels / o.groups_;
  double bound = 1.0 / std::sqrt(static_cast<double>(per_group * o.kernel_size * o.kernel_size));
  weight = register_parameter(
      "weight",
      uniform({o.out_channels, per_group, o.kernel_size, o.kernel_size}, bound, o.dtype, o.seed_));
  if (o.bias_) {
    std::optional<uint64_t> next;
    if (o.seed_) next = *o.seed_ + 1;
    bias = register_parameter("bias", uniform({o.out_channels}, bound, o.dtype, next));
  }
}

Tensor Conv2d::forward(const Tensor &x) {
  return conv2d(x, weight, bias, {options.stride_}, {options.padding_}, {1}, options.groups_);
}

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1))
    throw ValueError("Dropout: p " + std::to_string(p) + " must be in [0, 1)");
}

Tensor Dropout::forward(const Tensor &x) {
  if (!is_training() || p_ == 0) return x;
  Tensor keep = Tensor::rand(x.sizes(), x.dtype()) >= p_;
  return x * keep * (1.0 / (1.0 - p_));
}

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps, double momentum, bool affine,
                         DType dtype)
    : features_(num_features), eps_(eps), momentum_(momentum) {
  if (num_features < 1)
    throw ValueError("BatchNorm2d: num_features " + std::to_string(num_features) +
                     " must be positive");
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw ValueError("BatchNorm2d: eps " + std::to_string(eps) + " must be positive and momentum " +
                     std::to_string(momentum) + " in [0, 1]");
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({num_features}, dtype).detach());
    bias = register_parameter("bias", Tensor::zeros({num_features}, dtype).detach());
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}, dtype).detach());
  running_var = register_buffer("running_var", Tensor::ones({num_features}, dtype).detach());
  num_batches_tracked =
      register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64).detach());
}

Tensor BatchNorm2d::forward(const Tensor &x) {
  const std::string name = "BatchNorm2d(" + std::to_string(features_) + ")";
  if (!x.defined() || x.dim() != 4 || x.size(1) != features_)
    throw ShapeError(name + ": the input must be [N, " + std::to_string(features_) +
                     ", H, W], got " + (x.defined() ? describe(x) : std::string("undefined")));
  if (x.dtype() != running_mean.dtype())
    throw ShapeError(name + ": the input " + describe(x) + " is not of the layer's dtype " +
                     dtype_name(running_mean.dtype()));
  const Shape channel = {1, features_, 1, 1};
  auto affine = [&](const Tensor &normal) {
    return weight.defined() ? normal * weight.reshape(channel) + bias.reshape(channel) : normal;
  };
  if (!is_training()) {
    Tensor normal =
        (x - running_mean.reshape(channel)) / (running_var.reshape(channel) + eps_).sqrt();
    return affine(normal);
  }
  const int64_t count = x.size(0) * x.size(2) * x.size(3);
  if (count < 2)
    throw ValueError(name + ": training needs more than one value per channel, got input " +
                     describe(x));
  // Settles last step's statistics (computed in its plan already) on
  // fresh leaves, so this step's graph does not reach back into it.
  realize({running_mean, running_var, num_batches_tracked});
  Tensor mean = x.mean({0, 2, 3}, true);
  Tensor centered = x - mean;
  Tensor var = (centered * centered).mean({0, 2, 3}, true);
  Tensor y = affine(centered / (var + eps_).sqrt());
  {
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    running_mean.copy_(running_mean * (1 - momentum_) + mean.reshape({features_}) * momentum_);
    running_var.copy_(running_var * (1 - momentum_) +
                      var.reshape({features_}) * (momentum_ * unbias));
    num_batches_tracked.copy_(num_batches_tracked + 1);
  }
  return with_effects(y, {running_mean, running_var, num_batches_tracked});
}

Tensor Linear::forward(const Tensor &x) {
  if (!x.defined() || x.dim() < 1 || x.size(-1) != options.in_features)
    throw ShapeError("Linear(" + std::to_string(options.in_features) + ", " +
                     std::to_string(options.out_features) + "): the input's last dim must be " +
                     std::to_string(options.in_features) +
                     (x.defined() && x.dim() >= 1 ? ", not " + std::to_string(x.size(-1))
                                                  : std::string(" (it has no dims)")));
  Tensor y = x.matmul(weight.t());
  return bias.defined() ? y + bias : y;
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

Tensor Sequential::forward(const Tensor &x) {
  Tensor y = x;
  for (const auto &[name, child] : named_children()) y = child->forward(y);
  return y;
}

}  // namespace fusejit::nn
