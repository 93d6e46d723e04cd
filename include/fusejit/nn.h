// fusejit::nn: layers and losses for training, named as libtorch names them,
// built on the public Tensor API only. A module's parameters are leaves that
// require grad; copies of a module share them (as libtorch's module holders
// do), so a layer put in a Sequential is the same layer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fusejit/serialize.h>
#include <fusejit/tensor.h>

namespace fusejit::nn {

using fusejit::NamedTensors;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor &x) = 0;
  Tensor operator()(const Tensor &x) { return forward(x); }

  std::vector<Tensor> parameters(bool recurse = true) const;
  // In registration order, children's prefixed by the child's name and a
  // dot: "0.weight", "0.bias", "2.weight", ... as PyTorch's keys.
  NamedTensors named_parameters(bool recurse = true) const;
  // Tensors a module keeps that are not trained (a batch norm's running
  // statistics), named as parameters are.
  NamedTensors named_buffers(bool recurse = true) const;
  // Parameters and buffers by name, for fusejit::save, in PyTorch's order:
  // each module's parameters, then its buffers, then its children's.
  NamedTensors state_dict() const;
  // Copies each named tensor into the parameter or buffer of that name
  // (copy_, all in one plan); a ShapeError for a dtype or shape that
  // differs, and, when strict, a ValueError naming a key missing from
  // either side.
  void load_state_dict(const NamedTensors &state, bool strict = true);
  // The direct children, by name.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>> &named_children() const {
    return children_;
  }

  // Training mode (the default) or evaluation mode, for this module and
  // every child; layers that differ between them (dropout, batch norm)
  // read is_training().
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // zero_grad() of every parameter (set to none, as PyTorch's default).
  void zero_grad();

 protected:
  // Adds a parameter (flagged requires_grad) under `name`; returns it.
  Tensor register_parameter(std::string name, Tensor value, bool requires_grad = true);
  Tensor register_buffer(std::string name, Tensor value);
  std::shared_ptr<Module> register_module(std::string name, std::shared_ptr<Module> child);

 private:
  // This module's parameters and/or buffers, then (recursing) its
  // children's under their names.
  NamedTensors named(bool parameters, bool buffers, bool recurse) const;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features(in_features), out_features(out_features) {}
  LinearOptions &bias(bool on) {
    bias_ = on;
    return *this;
  }
  // Draws the initial values from a generator seeded with `s`; without it,
  // from the process-wide generator (fusejit::manual_seed).
  LinearOptions &seed(uint64_t s) {
    seed_ = s;
    return *this;
  }
  DType dtype = DType::F32;
  int64_t in_features, out_features;
  bool bias_ = true;
  std::optional<uint64_t> seed_;
};

// y = x W^T + b, with W [out, in] and b [out]; x is [..., in]. Both start
// uniform in +-1/sqrt(in), PyTorch's default (kaiming_uniform_ with a =
// sqrt(5) for W).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features)
      : Linear(LinearOptions(in_features, out_features)) {}
  explicit Linear(const LinearOptions &options);
  Tensor forward(const Tensor &x) override;
  Tensor weight, bias;  // bias undefined without one
  LinearOptions options;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor &x) override { return x.relu(); }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor &x) override { return x.tanh(); }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor &x) override { return x.sigmoid(); }
};

// Flattens dims start_dim..end_dim (default: all but the batch dim).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor &x) override { return x.flatten(start_dim_, end_dim_); }

 private:
  int64_t start_dim_, end_dim_;
};

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {}
  Conv2dOptions &stride(int64_t s) {
    stride_ = s;
    return *this;
  }
  Conv2dOptions &padding(int64_t p) {
    padding_ = p;
    return *this;
  }
  Conv2dOptions &groups(int64_t g) {
    groups_ = g;
    return *this;
  }
  Conv2dOptions &bias(bool on) {
    bias_ = on;
    return *this;
  }
  // As LinearOptions::seed: the weight from generator `s`, the bias from s + 1.
  Conv2dOptions &seed(uint64_t s) {
    seed_ = s;
    return *this;
  }
  DType dtype = DType::F32;
  int64_t in_channels, out_channels, kernel_size;
  int64_t stride_ = 1, padding_ = 0, groups_ = 1;
  bool bias_ = true;
  std::optional<uint64_t> seed_;
};

// fusejit::conv2d with a square kernel: weight [out, in / groups, k, k] and
// bias [out], both uniform in +-1/sqrt(fan_in) with fan_in = in / groups *
// k * k, PyTorch's default.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2d(const Conv2dOptions &options);
  Tensor forward(const Tensor &x) override;
  Tensor weight, bias;  // bias undefined without one
  Conv2dOptions options;
};

// fusejit::max_pool2d with a square window; the stride defaults to it.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                     int64_t padding = 0)
      : kernel_(kernel_size), stride_(stride.value_or(kernel_size)), padding_(padding) {}
  Tensor forward(const Tensor &x) override {
    return max_pool2d(x, {kernel_, kernel_}, {stride_, stride_}, {padding_, padding_});
  }

 private:
  int64_t kernel_, stride_, padding_;
};

// torch.nn.BatchNorm2d over x [N, C, H, W]: in training mode, normalizes
// each channel by the batch's mean and biased variance over (N, H, W) and
// moves running_mean and running_var (the unbiased variance) toward them by
// `momentum`, in the plan of the step (fusejit::with_effects); in
// evaluation mode, normalizes by the running statistics. weight starts at
// ones and bias at zeros (affine); running_mean at zeros, running_var at
// ones; num_batches_tracked (i64) counts the training batches. Keys as
// PyTorch's: weight, bias, running_mean, running_var, num_batches_tracked.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, DType dtype = DType::F32);
  Tensor forward(const Tensor &x) override;
  Tensor weight, bias;  // undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;

 private:
  int64_t features_;
  double eps_, momentum_;
};

// In training mode, zeroes each element with probability p and scales the
// rest by 1 / (1 - p); in evaluation mode, the identity. The mask is drawn
// on the host from the process-wide generator (manual_seed), a new leaf
// each step; the plan's structure, and so its compiled code, is the same.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor &x) override;

 private:
  double p_;
};

// Runs its children in order; they are named "0", "1", ...
class Sequential : public Module {
 public:
  Sequential() = default;
  // Sequential(Linear(784, 256), ReLU(), ...): each a module, copied in (a
  // copy shares its parameters). One Sequential alone is a copy instead.
  template <typename... Modules, typename = std::enable_if_t<
                                     (std::is_base_of_v<Module, std::decay_t<Modules>> && ...) &&
                                     !(sizeof...(Modules) == 1 &&
                                       (std::is_same_v<std::decay_t<Modules>, Sequential> && ...))>>
  explicit Sequential(Modules &&...modules) {
    (push_back(std::make_shared<std::decay_t<Modules>>(std::forward<Modules>(modules))), ...);
  }
  void push_back(std::shared_ptr<Module> module);
  Tensor forward(const Tensor &x) override;
  size_t size() const { return named_children().size(); }
  Module &operator[](size_t i) const { return *named_children().at(i).second; }
};

enum class Reduction { None, Mean, Sum };

namespace functional {
// (input - target)^2, averaged (default), summed or elementwise; target
// broadcasts to input's shape (a ShapeError where it does not).
Tensor mse_loss(const Tensor &input, const Tensor &target, Reduction reduction = Reduction::Mean);
// -input[n, target[n]] per row of log-probabilities input [N, C] and class
// indices target [N] (an integer tensor; one outside [0, C) is a
// ValueError), averaged (default), summed or per row.
Tensor nll_loss(const Tensor &input, const Tensor &target, Reduction reduction = Reduction::Mean);
// nll_loss(log_softmax(input, 1), target): logits input [N, C] and class
// indices target [N]; or, for a float target of input's shape, class
// probabilities: -sum(target * log_softmax(input, 1), 1).
Tensor cross_entropy(const Tensor &input, const Tensor &target,
                     Reduction reduction = Reduction::Mean);
}  // namespace functional
using functional::cross_entropy;
using functional::mse_loss;
using functional::nll_loss;

class MSELoss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor operator()(const Tensor &input, const Tensor &target) const {
    return functional::mse_loss(input, target, reduction_);
  }

 private:
  Reduction reduction_;
};

// Scales the gradients of `parameters` in place (set_grad) so that their
// joint norm (the norm of all of them as one vector; norm_type 2 by
// default, or infinity) is at most max_norm, as torch's: each is multiplied
// by min(1, max_norm / (norm + 1e-6)). Returns the norm before clipping,
// lazily: the scaling joins the plan that realizes the grads (an
// optimizer's step), which computes the unclipped grads too, so reading the
// norm after the step is one small reduction. Parameters without a grad are
// skipped; with none, the norm is 0.
Tensor clip_grad_norm_(const std::vector<Tensor> &parameters, double max_norm,
                       double norm_type = 2.0);

}  // namespace fusejit::nn
