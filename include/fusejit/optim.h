// fusejit::optim: optimizers and learning-rate schedules, named as
// libtorch's. A step is one plan: step() builds every parameter's update
// (and its state's) on the lazy gradients of the last backward(), copies
// them into the parameters and the state with copy_, and realizes all of
// them in one fusejit::realize, with the forward and backward they depend
// on. Scalars that change from step to step (the learning rate, Adam's bias
// corrections) enter as scalar_tensor leaves, so every step after the first
// runs the same compiled plan.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <fusejit/settings.h>
#include <fusejit/tensor.h>

namespace fusejit::optim {

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> parameters, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer &) = delete;
  Optimizer &operator=(const Optimizer &) = delete;

  // Updates every parameter that has a grad, in one plan. Parameters
  // without a grad are left alone (as torch's). `with`: tensors the caller
  // reads after the step (predictions, a metric), computed in the same plan
  // from the values before the update (the loss comes with the gradients).
  void step(const std::vector<Tensor> &with = {});
  // Drops every parameter's grad (set to none, as PyTorch's default).
  void zero_grad();

  const std::vector<Tensor> &parameters() const { return params_; }
  double lr() const { return lr_; }
  void set_lr(double lr);
  // Steps taken (torch's state "step").
  int64_t steps() const { return steps_; }
  // A parameter's state by torch's names ("momentum_buffer", "exp_avg",
  // "exp_avg_sq"); empty before its first update. A ValueError for a
  // tensor that is not one of this optimizer's parameters.
  std::map<std::string, Tensor> state(const Tensor &parameter) const;
  // What the step's plan compiles and runs by.
  Options options = default_options();

 protected:
  // Adds to `out` the new values of parameter i (with grad g) and its state,
  // each by copy_ into its tensor; `step` counts from 1.
  virtual void update(size_t i, const Tensor &g, int64_t step, std::vector<Tensor> &out) = 0;
  // Parameter i's state tensor `name`, created as zeros (an input leaf, so
  // the first step's plan is the later steps' plan too).
  Tensor &state_tensor(size_t i, const std::string &name);

 private:
  std::vector<Tensor> params_;
  std::vector<std::map<std::string, Tensor>> state_;
  double lr_;
  int64_t steps_ = 0;
};

struct SGDOptions {
  explicit SGDOptions(double lr) : lr(lr) {}
  double lr;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

// torch.optim.SGD: g += weight_decay p; with momentum, b = g on the first
// step, then b = momentum b + (1 - dampening) g, and g = b (Nesterov:
// g += momentum b); p -= lr g.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> parameters, const SGDOptions &options);

 private:
  void update(size_t i, const Tensor &g, int64_t step, std::vector<Tensor> &out) override;
  SGDOptions opt_;
};

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr(lr) {}
  double lr;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: added to the gradient; AdamW: decoupled
};

// torch.optim.Adam: g += weight_decay p; m = b1 m + (1 - b1) g; v = b2 v +
// (1 - b2) g^2; p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> parameters, const AdamOptions &options);

 protected:
  Adam(std::vector<Tensor> parameters, const AdamOptions &options, bool decoupled);

 private:
  void update(size_t i, const Tensor &g, int64_t step, std::vector<Tensor> &out) override;
  AdamOptions opt_;
  bool decoupled_;
};

// AdamW's weight decay defaults to 0.01, as torch's.
struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay = 1e-2; }
};

// torch.optim.AdamW: Adam with p *= 1 - lr weight_decay before the update
// instead of the gradient term.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> parameters, const AdamWOptions &options);
};

// Learning-rate schedules: step() once per epoch, after the optimizer's.
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer &optimizer);
  virtual ~LRScheduler() = default;
  void step();
  int64_t last_epoch() const { return epoch_; }

 protected:
  // The learning rate of epoch `epoch` (0 is the optimizer's initial one).
  virtual double lr_at(int64_t epoch) const = 0;
  double base_lr() const { return base_lr_; }

 private:
  Optimizer &optimizer_;
  double base_lr_;
  int64_t epoch_ = 0;
};

// lr = base gamma^(floor(epoch / step_size)).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer &optimizer, int64_t step_size, double gamma = 0.1);

 private:
  double lr_at(int64_t epoch) const override;
  int64_t step_size_;
  double gamma_;
};

// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2, torch's
// closed form.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer &optimizer, int64_t T_max, double eta_min = 0);

 private:
  double lr_at(int64_t epoch) const override;
  int64_t t_max_;
  double eta_min_;
};

}  // namespace fusejit::optim
