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

}  // namespace

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out = params_;
  if (!recurse) return out;
  for (const auto &[prefix, child] : children_)
    for (auto &[name, t] : child->named_parameters(true)) {
      std::string key = prefix;
      key += ".";
      key += name;
      out.emplace_back(std::move(key), t);
    }
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto &[name, child] : children_) child->train(on);
}

void Module::load_state_dict(const NamedTensors &state, bool strict) {
  NamedTensors mine = named_parameters();
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
      if (strict) throw ValueError("load_state_dict: no entry for parameter '" + name + "'");
      continue;
    }
    if (t->dtype() != p.dtype() || t->shape() != p.shape())
      throw ShapeError("load_state_dict: '" + name + "' is " + describe(*t) +
                       " but the parameter is " + describe(p));
    copies.emplace_back(p, *t);
  }
  if (strict)
    for (const auto &[name, t] : state)
      if (!find(mine, name))
        throw ValueError("load_state_dict: '" + name + "' is not a parameter of the module");
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
