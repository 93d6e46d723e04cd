#include <cmath>
#include <numbers>

#include <fusejit/error.h>
#include <fusejit/optim.h>

namespace fusejit::optim {

LRScheduler::LRScheduler(Optimizer &optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

void LRScheduler::step() {
  ++epoch_;
  optimizer_.set_lr(lr_at(epoch_));
}

StepLR::StepLR(Optimizer &optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1)
    throw ValueError("StepLR: step_size " + std::to_string(step_size) + " must be at least 1");
}

double StepLR::lr_at(int64_t epoch) const {
  const int64_t decays = epoch / step_size_;  // whole steps only, as torch
  return base_lr() * std::pow(gamma_, static_cast<double>(decays));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer &optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  if (T_max < 1)
    throw ValueError("CosineAnnealingLR: T_max " + std::to_string(T_max) + " must be at least 1");
}

double CosineAnnealingLR::lr_at(int64_t epoch) const {
  double x = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr() - eta_min_) * (1.0 + std::cos(x)) / 2.0;
}

}  // namespace fusejit::optim
