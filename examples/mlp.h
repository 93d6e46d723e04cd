// A 2 -> hidden -> 1 MLP trained with full-batch SGD on minitorch's
// synthetic 2-D datasets, through the public API only. Header-only so the
// example and the tests share one training loop.
#pragma once

#include <fusejit/fusejit.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace mlp {

using fusejit::Tensor;

// N points in the unit square with 0/1 labels; x holds (x1, x2) pairs.
struct Dataset {
  int64_t n = 0;
  std::vector<float> x;  // n * 2
  std::vector<float> y;  // n
};

// Uniform in [0, 1) from 53 random bits, so every standard library draws
// the same points for a seed.
inline double uniform(std::mt19937_64 &g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

// The labelling rules of minitorch's datasets (project/datasets.py).
inline float label(const std::string &name, double x1, double x2) {
  if (name == "simple") return x1 < 0.5;
  if (name == "diag") return x1 + x2 < 0.5;
  if (name == "split") return x1 < 0.2 || x1 > 0.8;
  if (name == "xor") return (x1 < 0.5 && x2 > 0.5) || (x1 > 0.5 && x2 < 0.5);
  if (name == "circle") return (x1 - 0.5) * (x1 - 0.5) + (x2 - 0.5) * (x2 - 0.5) > 0.1;
  throw fusejit::ValueError("unknown dataset '" + name +
                            "' (simple, diag, split, xor, circle, spiral)");
}

// Two interleaved spirals, n/2 points each: t·(cos t, sin t)/20 around the
// centre, the second arm mirrored (x and y swapped, t negated).
inline Dataset spiral(int64_t n) {
  Dataset d;
  int64_t half = n / 2;
  auto arm = [&](double t, bool second) {
    double a = t * std::cos(t) / 20.0, b = t * std::sin(t) / 20.0;
    d.x.push_back(static_cast<float>((second ? b : a) + 0.5));
    d.x.push_back(static_cast<float>((second ? a : b) + 0.5));
    d.y.push_back(second ? 1.f : 0.f);
  };
  for (int second = 0; second < 2; ++second)
    for (int64_t i = 5; i < 5 + half; ++i)
      arm((second ? -10.0 : 10.0) * static_cast<double>(i) / static_cast<double>(half), second);
  d.n = 2 * half;
  return d;
}

inline Dataset make_dataset(const std::string &name, int64_t n, uint64_t seed) {
  if (name == "spiral") return spiral(n);
  label(name, 0, 0);  // rejects an unknown name before drawing anything
  std::mt19937_64 g(seed);
  Dataset d;
  d.n = n;
  for (int64_t i = 0; i < n; ++i) {
    double x1 = uniform(g), x2 = uniform(g);
    d.x.push_back(static_cast<float>(x1));
    d.x.push_back(static_cast<float>(x2));
    d.y.push_back(label(name, x1, x2));
  }
  return d;
}

struct Options {
  int64_t hidden = 10;
  double lr = 1.0;
  int epochs = 500;
  uint64_t seed = 1;
};

struct EpochStats {
  int epoch = 0;        // 1-based
  double loss = 0;      // mean binary cross-entropy before the update
  double accuracy = 0;  // fraction classified right before the update
};

// Parameters are leaves that require grad. Each step builds the same graph
// (only the leaves' values differ), so a plan cache compiles it once.
class Model {
 public:
  Model(int64_t hidden, uint64_t seed) {
    // Uniform in ±1/sqrt(fan_in), as torch.nn.Linear initializes.
    auto init = [&](const fusejit::Shape &shape, int64_t fan_in, uint64_t s) {
      double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      return ((Tensor::rand(shape, fusejit::DType::F32, s) * 2.0 - 1.0) * bound).requires_grad_();
    };
    w1_ = init({2, hidden}, 2, seed * 4 + 0);
    b1_ = init({hidden}, 2, seed * 4 + 1);
    w2_ = init({hidden, 1}, hidden, seed * 4 + 2);
    b2_ = init({1}, hidden, seed * 4 + 3);
  }

  // Probabilities of class 1, shape [n].
  Tensor forward(const Tensor &x) const {
    Tensor h = (x.matmul(w1_) + b1_).tanh();
    return (h.matmul(w2_) + b2_).sigmoid().reshape({-1});
  }

  // Plain SGD, as torch's: the update records no history (NoGradGuard), so
  // each parameter becomes a new leaf holding its new value.
  void sgd_step(double lr) {
    fusejit::NoGradGuard no_grad;
    for (Tensor *p : {&w1_, &b1_, &w2_, &b2_}) *p = (*p - lr * p->grad()).requires_grad_();
  }

 private:
  Tensor w1_, b1_, w2_, b2_;
};

// Mean binary cross-entropy of probabilities p against 0/1 labels y; eps
// keeps log away from 0 when a probability saturates.
inline Tensor bce(const Tensor &p, const Tensor &y) {
  const double eps = 1e-6;
  return -(y * (p + eps).log() + (1.0 - y) * (1.0 - p + eps).log()).mean();
}

inline double accuracy(const std::vector<float> &p, const std::vector<float> &y) {
  int64_t right = 0;
  for (size_t i = 0; i < p.size(); ++i) right += (p[i] > 0.5f) == (y[i] > 0.5f);
  return p.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(p.size());
}

// Full-batch training; calls `on_epoch` after each epoch and returns the
// last epoch's statistics.
inline EpochStats train(const Dataset &data, const Options &opt,
                        const std::function<void(const EpochStats &)> &on_epoch = {}) {
  // Features rescaled from [0, 1] to [-1, 1]: centred inputs put tanh in its
  // steep range, which plain SGD needs to converge in a few hundred steps.
  Tensor x = (Tensor::from_vector(data.x, {data.n, 2}) * 2.0 - 1.0).detach();
  Tensor y = Tensor::from_vector(data.y, {data.n});
  Model model(opt.hidden, opt.seed);
  EpochStats stats;
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    Tensor p = model.forward(x);
    Tensor loss = bce(p, y);
    loss.backward();  // realizes the loss with the gradients
    stats = {epoch, loss.item<float>(), accuracy(p.to_vector<float>(), data.y)};
    model.sgd_step(opt.lr);
    if (on_epoch) on_epoch(stats);
  }
  return stats;
}

}  // namespace mlp
