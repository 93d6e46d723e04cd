// A 2 -> hidden -> 1 MLP (fusejit::nn) trained with full-batch SGD
// (fusejit::optim) on minitorch's synthetic 2-D datasets, through the
// public API only. Header-only so the
// example and the tests share one training loop.
#pragma once

#include <fusejit/fusejit.h>
#include <fusejit/nn.h>
#include <fusejit/optim.h>

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

// 2 -> hidden (tanh) -> 1 (sigmoid), as torch.nn layers. Each step builds
// the same graph (only the leaves' values differ), so a plan cache compiles
// it once.
class Model {
 public:
  Model(int64_t hidden, uint64_t seed)
      : net_(fusejit::nn::Linear(fusejit::nn::LinearOptions(2, hidden).seed(seed * 4)),
             fusejit::nn::Tanh(),
             fusejit::nn::Linear(fusejit::nn::LinearOptions(hidden, 1).seed(seed * 4 + 2)),
             fusejit::nn::Sigmoid()) {}

  // Probabilities of class 1, shape [n].
  Tensor forward(const Tensor &x) { return net_.forward(x).reshape({-1}); }
  std::vector<Tensor> parameters() const { return net_.parameters(); }

 private:
  fusejit::nn::Sequential net_;
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
  fusejit::optim::SGD sgd(model.parameters(), fusejit::optim::SGDOptions(opt.lr));
  EpochStats stats;
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    sgd.zero_grad();
    Tensor p = model.forward(x);
    Tensor loss = bce(p, y);
    loss.backward();
    // One plan: forward, backward, the update, and p for the accuracy.
    sgd.step({p});
    stats = {epoch, loss.item<float>(), accuracy(p.to_vector<float>(), data.y)};
    if (on_epoch) on_epoch(stats);
  }
  return stats;
}

}  // namespace mlp
