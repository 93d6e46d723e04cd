// fusejit::optim against torch's update formulas, computed here on the host
// from the same gradients: SGD (momentum, dampening, Nesterov, weight
// decay), Adam and AdamW over several steps with their state, the
// schedules, clip_grad_norm_, and a step that compiles nothing after the
// first (one plan per step).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include <fusejit/fusejit.h>
#include <fusejit/nn.h>
#include <fusejit/optim.h>

#include "engine/pipeline.h"

namespace fusejit {
namespace {

using Vec = std::vector<double>;

// A quadratic loss with a known gradient: L = sum(c * p + p^2 / 2), so
// dL/dp = c + p (c differs per element, so no two gradients agree).
struct Problem {
  Shape shape;
  Tensor p, c;
  Vec host_p, host_c;
  Problem(Shape s, uint64_t seed) : shape(std::move(s)) {
    p = Tensor::randn(shape, DType::F64, seed).requires_grad_();
    c = Tensor::randn(shape, DType::F64, seed + 100);
    host_p = p.to_vector<double>();
    host_c = c.to_vector<double>();
  }
  Tensor loss() const { return (c * p + p * p * 0.5).sum(); }
  Vec grad() const {
    Vec g(host_p.size());
    for (size_t i = 0; i < g.size(); ++i) g[i] = host_c[i] + host_p[i];
    return g;
  }
};

void expect_near(const Vec &got, const Vec &want, double tol, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << what << " at " << i;
}

// Runs `steps` steps of `opt` on problems of shapes 1, 3x17 and 129, and of
// `reference` (torch's formula: (p, g, step, state) -> new p) on the host.
void check(
    const std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)> &make,
    const std::function<void(Vec &p, const Vec &g, int step, std::vector<Vec> &state)> &reference,
    int steps = 4) {
  std::vector<Problem> problems{Problem({1}, 1), Problem({3, 17}, 2), Problem({129}, 3)};
  std::vector<Tensor> params;
  for (Problem &pr : problems) params.push_back(pr.p);
  std::unique_ptr<optim::Optimizer> opt = make(params);
  std::vector<std::vector<Vec>> state(problems.size());
  for (int s = 1; s <= steps; ++s) {
    opt->zero_grad();
    Tensor loss = problems[0].loss() + problems[1].loss() + problems[2].loss();
    loss.backward();
    opt->step();
    for (size_t k = 0; k < problems.size(); ++k) {
      Problem &pr = problems[k];
      Vec g = pr.grad();
      reference(pr.host_p, g, s, state[k]);
      expect_near(pr.p.to_vector<double>(), pr.host_p, 1e-12,
                  "step " + std::to_string(s) + ", parameter " + std::to_string(k));
    }
  }
  EXPECT_EQ(opt->steps(), steps);
}

struct SgdCase {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};

class SgdFormula : public testing::TestWithParam<SgdCase> {};

TEST_P(SgdFormula, MatchesTorch) {
  SgdCase k = GetParam();
  check(
      [&](std::vector<Tensor> params) {
        optim::SGDOptions o(k.lr);
        o.momentum = k.momentum, o.dampening = k.dampening, o.weight_decay = k.weight_decay;
        o.nesterov = k.nesterov;
        return std::make_unique<optim::SGD>(std::move(params), o);
      },
      [&](Vec &p, const Vec &grad, int step, std::vector<Vec> &state) {
        // torch/optim/sgd.py, _single_tensor_sgd.
        Vec g = grad;
        for (size_t i = 0; i < p.size(); ++i) g[i] += k.weight_decay * p[i];
        if (k.momentum != 0) {
          if (state.empty()) {
            state.push_back(g);
          } else {
            for (size_t i = 0; i < p.size(); ++i)
              state[0][i] = k.momentum * state[0][i] + (1 - k.dampening) * g[i];
          }
          for (size_t i = 0; i < p.size(); ++i)
            g[i] = k.nesterov ? g[i] + k.momentum * state[0][i] : state[0][i];
        }
        for (size_t i = 0; i < p.size(); ++i) p[i] -= k.lr * g[i];
      });
}

INSTANTIATE_TEST_SUITE_P(Optim, SgdFormula,
                         testing::Values(SgdCase{0.1, 0, 0, 0, false},
                                         SgdCase{0.05, 0.9, 0, 0, false},
                                         SgdCase{0.05, 0.9, 0.3, 0.01, false},
                                         SgdCase{0.02, 0.8, 0, 0.1, true}));

struct AdamCase {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
};

class AdamFormula : public testing::TestWithParam<AdamCase> {};

TEST_P(AdamFormula, MatchesTorch) {
  AdamCase k = GetParam();
  check(
      [&](std::vector<Tensor> params) -> std::unique_ptr<optim::Optimizer> {
        if (k.decoupled) {
          optim::AdamWOptions o(k.lr);
          o.beta1 = k.beta1, o.beta2 = k.beta2, o.eps = k.eps, o.weight_decay = k.weight_decay;
          return std::make_unique<optim::AdamW>(std::move(params), o);
        }
        optim::AdamOptions o(k.lr);
        o.beta1 = k.beta1, o.beta2 = k.beta2, o.eps = k.eps, o.weight_decay = k.weight_decay;
        return std::make_unique<optim::Adam>(std::move(params), o);
      },
      [&](Vec &p, const Vec &grad, int step, std::vector<Vec> &state) {
        // torch/optim/adam.py and adamw.py, _single_tensor_adam(w).
        if (state.empty()) state = {Vec(p.size(), 0.0), Vec(p.size(), 0.0)};
        Vec &m = state[0], &v = state[1];
        double bc1 = 1 - std::pow(k.beta1, step), bc2 = 1 - std::pow(k.beta2, step);
        for (size_t i = 0; i < p.size(); ++i) {
          double g = grad[i];
          if (k.decoupled)
            p[i] *= 1 - k.lr * k.weight_decay;
          else
            g += k.weight_decay * p[i];
          m[i] = k.beta1 * m[i] + (1 - k.beta1) * g;
          v[i] = k.beta2 * v[i] + (1 - k.beta2) * g * g;
          double denom = std::sqrt(v[i]) / std::sqrt(bc2) + k.eps;
          p[i] -= k.lr / bc1 * m[i] / denom;
        }
      });
}

INSTANTIATE_TEST_SUITE_P(Optim, AdamFormula,
                         testing::Values(AdamCase{1e-3, 0.9, 0.999, 1e-8, 0, false},
                                         AdamCase{0.05, 0.8, 0.99, 1e-6, 0.1, false},
                                         AdamCase{1e-2, 0.9, 0.999, 1e-8, 0.01, true},
                                         AdamCase{0.1, 0.5, 0.9, 1e-3, 0.2, true}));

TEST(Optim, AdamStateFollowsTorchAcrossSteps) {
  Problem pr({3, 17}, 7);
  optim::Adam opt({pr.p}, optim::AdamOptions(0.01));
  EXPECT_TRUE(opt.state(pr.p).empty()) << "no state before the first update";
  Vec m(pr.host_p.size(), 0), v(pr.host_p.size(), 0);
  for (int s = 1; s <= 3; ++s) {
    opt.zero_grad();
    pr.loss().backward();
    opt.step();
    Vec g = pr.grad();
    double bc1 = 1 - std::pow(0.9, s), bc2 = 1 - std::pow(0.999, s);
    for (size_t i = 0; i < g.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      pr.host_p[i] -= 0.01 / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + 1e-8);
    }
    std::map<std::string, Tensor> state = opt.state(pr.p);
    ASSERT_EQ(state.size(), 2u);
    expect_near(state.at("exp_avg").to_vector<double>(), m, 1e-12, "exp_avg");
    expect_near(state.at("exp_avg_sq").to_vector<double>(), v, 1e-12, "exp_avg_sq");
  }
  EXPECT_THROW(opt.state(Tensor::ones({2})), ValueError);
}

TEST(Optim, ParametersWithoutAGradAreLeftAlone) {
  Problem a({5}, 11), b({4}, 12);
  optim::SGD opt({a.p, b.p}, optim::SGDOptions(0.5));
  a.loss().backward();
  opt.step();
  expect_near(b.p.to_vector<double>(), b.host_p, 0, "untouched");
  Vec g = a.grad();
  for (size_t i = 0; i < g.size(); ++i) a.host_p[i] -= 0.5 * g[i];
  expect_near(a.p.to_vector<double>(), a.host_p, 1e-12, "updated");
}

// A training step of an MLP: forward, backward, Adam's update of every
// parameter and the loss read after the step. The first step compiles; the
// second and third are one plan each, from the cache, compiling nothing.
// Batches of a data set: each full batch is a narrow of the same tensors, so
// every step after the first reuses its plan (the batch's offset is not
// part of it); the last, partial batch is one more plan.
TEST(Optim, BatchesOfADataSetShareOnePlan) {
  nn::Sequential model(nn::Linear(nn::LinearOptions(17, 3).seed(1)));
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1));
  Tensor x = Tensor::randn({23, 17}, DType::F32, 4), y = Tensor::randn({23, 3}, DType::F32, 5);
  PipelineStats first;
  for (int64_t at = 0, step = 0; at < 23; at += 5, ++step) {
    int64_t n = std::min<int64_t>(5, 23 - at);
    opt.zero_grad();
    Tensor loss = nn::functional::mse_loss(model.forward(x.narrow(0, at, n)), y.narrow(0, at, n));
    loss.backward();
    opt.step();
    if (step == 0) first = pipeline_stats();
  }
  EXPECT_EQ(pipeline_stats().plan_misses, first.plan_misses + 1) << "only the partial batch";
  EXPECT_EQ(pipeline_stats().plan_hits, first.plan_hits + 3);
}

TEST(Optim, AStepIsOnePlanAndLaterStepsCompileNothing) {
  nn::Sequential model(nn::Linear(nn::LinearOptions(17, 9).seed(1)), nn::ReLU(),
                       nn::Linear(nn::LinearOptions(9, 3).seed(3)));
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-2));
  Tensor x = Tensor::randn({5, 17}, DType::F32, 4), y = Tensor::randn({5, 3}, DType::F32, 5);
  float losses[3];
  PipelineStats at[4];
  at[0] = pipeline_stats();
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    Tensor loss = nn::functional::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    at[s + 1] = pipeline_stats();
    losses[s] = loss.item<float>();  // realized by the step: no plan
    EXPECT_EQ(pipeline_stats().plan_hits + pipeline_stats().plan_misses,
              at[s + 1].plan_hits + at[s + 1].plan_misses)
        << "the loss was realized with the step";
  }
  EXPECT_EQ(at[1].plan_hits + at[1].plan_misses, at[0].plan_hits + at[0].plan_misses + 1)
      << "the first step is one plan";
  for (int s : {2, 3}) {
    EXPECT_EQ(at[s].plan_misses, at[s - 1].plan_misses) << "step " << s;
    EXPECT_EQ(at[s].plan_hits, at[s - 1].plan_hits + 1) << "step " << s;
    EXPECT_EQ(at[s].kernels_compiled, at[s - 1].kernels_compiled) << "step " << s;
  }
  EXPECT_LT(losses[2], losses[0]) << "Adam lowers the loss";
}

TEST(Optim, StepLRAndCosineAnnealingFollowTorch) {
  Problem pr({2}, 1);
  optim::SGD sgd({pr.p}, optim::SGDOptions(0.1));
  optim::StepLR step_lr(sgd, 3, 0.5);
  for (int e = 1; e <= 7; ++e) {
    step_lr.step();
    EXPECT_DOUBLE_EQ(sgd.lr(), 0.1 * std::pow(0.5, e / 3)) << "epoch " << e;
  }
  optim::SGD other({pr.p}, optim::SGDOptions(0.2));
  optim::CosineAnnealingLR cosine(other, 5, 0.01);
  for (int e = 1; e <= 5; ++e) {
    cosine.step();
    double want = 0.01 + (0.2 - 0.01) * (1 + std::cos(std::numbers::pi * e / 5)) / 2;
    EXPECT_NEAR(other.lr(), want, 1e-15) << "epoch " << e;
  }
  EXPECT_NEAR(other.lr(), 0.01, 1e-15) << "eta_min at T_max";
  EXPECT_THROW(optim::StepLR(sgd, 0), ValueError);
}

TEST(Optim, ANewLearningRateCompilesNothing) {
  Problem pr({3, 17}, 21);
  optim::SGD opt({pr.p}, optim::SGDOptions(0.1));
  opt.zero_grad();
  pr.loss().backward();
  opt.step();
  PipelineStats before = pipeline_stats();
  for (double lr : {0.05, 0.01, 0.3}) {
    opt.set_lr(lr);
    opt.zero_grad();
    pr.loss().backward();
    opt.step();
  }
  EXPECT_EQ(pipeline_stats().plan_misses, before.plan_misses);
  EXPECT_EQ(pipeline_stats().kernels_compiled, before.kernels_compiled);
}

TEST(Optim, ClipGradNormFollowsTorch) {
  Problem a({3, 17}, 31), b({129}, 32);
  for (double max_norm : {0.5, 1e6}) {
    a.p.zero_grad(), b.p.zero_grad();
    (a.loss() + b.loss()).backward();
    Vec ga = a.grad(), gb = b.grad();
    double total = 0;
    for (double g : ga) total += g * g;
    for (double g : gb) total += g * g;
    total = std::sqrt(total);
    double coef = std::min(1.0, max_norm / (total + 1e-6));
    Tensor norm = nn::clip_grad_norm_({a.p, b.p}, max_norm);
    EXPECT_NEAR(norm.item<double>(), total, 1e-9 * total);
    for (double &g : ga) g *= coef;
    for (double &g : gb) g *= coef;
    expect_near(a.p.grad().to_vector<double>(), ga, 1e-12, "clipped a");
    expect_near(b.p.grad().to_vector<double>(), gb, 1e-12, "clipped b");
  }
  a.p.zero_grad(), b.p.zero_grad();
  (a.loss() + b.loss()).backward();
  Vec ga = a.grad(), gb = b.grad();
  double inf = 0;
  for (double g : ga) inf = std::max(inf, std::abs(g));
  for (double g : gb) inf = std::max(inf, std::abs(g));
  EXPECT_NEAR(nn::clip_grad_norm_({a.p, b.p}, 0.1, INFINITY).item<double>(), inf, 1e-12);
  EXPECT_THROW(nn::clip_grad_norm_({a.p}, -1.0), ValueError);
}

TEST(Optim, BadOptionsAreValueErrors) {
  Problem pr({2}, 1);
  optim::SGDOptions nesterov(0.1);
  nesterov.nesterov = true;
  EXPECT_THROW(optim::SGD({pr.p}, nesterov), ValueError);
  EXPECT_THROW(optim::SGD({pr.p}, optim::SGDOptions(-1)), ValueError);
  optim::AdamOptions betas;
  betas.beta1 = 1.0;
  EXPECT_THROW(optim::Adam({pr.p}, betas), ValueError);
  EXPECT_THROW(optim::SGD({Tensor::ones({2})}, optim::SGDOptions(0.1)), ValueError)
      << "a parameter must require grad";
}

}  // namespace
}  // namespace fusejit
