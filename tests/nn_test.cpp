// fusejit::nn against torch's definitions computed here: Linear's shapes,
// initialization bounds and forward, parameter names, train/eval, mse_loss
// and its gradient; the engine's copy_ and scalar_tensor it stands on; and
// safetensors round trips, f16/bf16 conversion and bad files.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fusejit/fusejit.h>
#include <fusejit/nn.h>
#include <fusejit/optim.h>
#include <fusejit/row_ops.h>
#include <fusejit/serialize.h>

#include "engine/pipeline.h"

namespace fusejit {
namespace {

TEST(Nn, LinearHasTorchsShapesBoundsAndForward) {
  for (int64_t in : {1, 3, 17, 129}) {
    nn::Linear l(nn::LinearOptions(in, 5).seed(in));
    ASSERT_EQ(l.weight.shape(), (Shape{5, in}));
    ASSERT_EQ(l.bias.shape(), (Shape{5}));
    EXPECT_TRUE(l.weight.requires_grad() && l.weight.is_leaf());
    double bound = 1 / std::sqrt(static_cast<double>(in));
    std::vector<float> w = l.weight.to_vector<float>(), b = l.bias.to_vector<float>();
    for (float v : w) ASSERT_LE(std::abs(v), bound);
    for (float v : b) ASSERT_LE(std::abs(v), bound);
    Tensor x = Tensor::randn({3, in}, DType::F32, 9);
    std::vector<float> hx = x.to_vector<float>(), y = l.forward(x).to_vector<float>();
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t o = 0; o < 5; ++o) {
        double want = b[o];
        for (int64_t i = 0; i < in; ++i) want += hx[r * in + i] * w[o * in + i];
        ASSERT_NEAR(y[r * 5 + o], want, 1e-5 * (1 + std::abs(want))) << in;
      }
  }
  nn::Linear same(nn::LinearOptions(4, 2).seed(7)), again(nn::LinearOptions(4, 2).seed(7));
  EXPECT_EQ(same.weight.to_vector<float>(), again.weight.to_vector<float>()) << "seeded";
  EXPECT_FALSE(nn::Linear(nn::LinearOptions(4, 2).bias(false)).bias.defined());
  EXPECT_THROW(same.forward(Tensor::ones({3, 5})), ShapeError);
  EXPECT_THROW(nn::Linear(0, 3), ValueError);
}

TEST(Nn, SequentialNamesParametersAsTorch) {
  nn::Sequential model(nn::Flatten(), nn::Linear(12, 8), nn::ReLU(), nn::Linear(8, 3));
  std::vector<std::string> names;
  for (auto &[name, t] : model.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"1.weight", "1.bias", "3.weight", "3.bias"}));
  EXPECT_EQ(model.parameters().size(), 4u);
  EXPECT_EQ(model.forward(Tensor::randn({2, 3, 4}, DType::F32, 1)).shape(), (Shape{2, 3}));
  EXPECT_TRUE(model.is_training());
  model.eval();
  EXPECT_FALSE(model[1].is_training()) << "eval() reaches the children";
  model.train();
  EXPECT_TRUE(model[3].is_training());
}

TEST(Nn, MseLossAndItsGradientFollowTorch) {
  Tensor x = Tensor::randn({3, 17}, DType::F64, 1).requires_grad_();
  Tensor y = Tensor::randn({3, 17}, DType::F64, 2);
  std::vector<double> hx = x.to_vector<double>(), hy = y.to_vector<double>();
  double sum = 0;
  for (size_t i = 0; i < hx.size(); ++i) sum += (hx[i] - hy[i]) * (hx[i] - hy[i]);
  EXPECT_NEAR(nn::functional::mse_loss(x, y, nn::Reduction::Sum).item<double>(), sum, 1e-12);
  Tensor loss = nn::MSELoss()(x, y);
  loss.backward();
  EXPECT_NEAR(loss.item<double>(), sum / 51, 1e-12);
  std::vector<double> g = x.grad().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], 2 * (hx[i] - hy[i]) / 51, 1e-12);
  EXPECT_EQ(nn::functional::mse_loss(x, y, nn::Reduction::None).shape(), (Shape{3, 17}));
  EXPECT_THROW(nn::functional::mse_loss(x, Tensor::ones({4, 3, 17}, DType::F64)), ShapeError);
}

// torch.nn.functional.cross_entropy's formula, computed here in doubles:
// loss_n = logsumexp(x_n) - x_n[t_n], and its gradient softmax(x_n) - e_t.
TEST(Nn, CrossEntropyAndNllLossFollowTorch) {
  for (int64_t classes : {1, 3, 17, 129}) {
    SCOPED_TRACE(classes);
    const int64_t rows = 5;
    Tensor x = Tensor::randn({rows, classes}, DType::F64, 3).requires_grad_();
    Tensor t = randint(0, classes, {rows}, DType::I64, 4);
    std::vector<double> hx = x.to_vector<double>();
    std::vector<int64_t> ht = t.to_vector<int64_t>();
    double total = 0;
    std::vector<double> grad(hx.size());
    for (int64_t r = 0; r < rows; ++r) {
      double m = -INFINITY, z = 0;
      for (int64_t c = 0; c < classes; ++c) m = std::max(m, hx[r * classes + c]);
      for (int64_t c = 0; c < classes; ++c) z += std::exp(hx[r * classes + c] - m);
      total += m + std::log(z) - hx[r * classes + ht[r]];
      for (int64_t c = 0; c < classes; ++c)
        grad[r * classes + c] =
            (std::exp(hx[r * classes + c] - m) / z - (c == ht[r] ? 1.0 : 0.0)) / rows;
    }
    Tensor loss = nn::cross_entropy(x, t);
    loss.backward();
    EXPECT_NEAR(loss.item<double>(), total / rows, 1e-12);
    std::vector<double> g = x.grad().to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], grad[i], 1e-12) << i;
    EXPECT_NEAR(nn::cross_entropy(x, t, nn::Reduction::Sum).item<double>(), total, 1e-11);
    EXPECT_EQ(nn::cross_entropy(x, t, nn::Reduction::None).sizes(), (Shape{rows}));
    // nll_loss of log-probabilities is the same; class probabilities too.
    EXPECT_NEAR(nn::nll_loss(log_softmax(x, 1), t).item<double>(), total / rows, 1e-12);
    Tensor probs = one_hot(t, classes, DType::F64);
    EXPECT_NEAR(nn::cross_entropy(x, probs).item<double>(), total / rows, 1e-12);
  }
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(nn::cross_entropy(x, Tensor::from_vector<int64_t>({0, 3}, {2})).item<float>(),
               IndexError)
      << "a label out of range, found where the loss is computed";
  EXPECT_THROW(nn::cross_entropy(x, Tensor::from_vector<int64_t>({0, 1, 2}, {3})), ShapeError);
  EXPECT_THROW(nn::nll_loss(Tensor::zeros({3}), Tensor::zeros({3}, DType::I64)), ShapeError);
}

// Conv2d against a direct loop over the definition; its init bounds and
// parameter names as torch's.
TEST(Nn, Conv2dMaxPool2dAndTheirShapes) {
  nn::Conv2d conv(nn::Conv2dOptions(3, 4, 3).padding(1).seed(5));
  EXPECT_EQ(conv.weight.sizes(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(conv.bias.sizes(), (Shape{4}));
  double bound = 1 / std::sqrt(27.0);
  for (float v : conv.weight.to_vector<float>()) ASSERT_LE(std::abs(v), bound);
  for (float v : conv.bias.to_vector<float>()) ASSERT_LE(std::abs(v), bound);
  Tensor x = Tensor::randn({2, 3, 5, 7}, DType::F32, 6);
  Tensor y = conv(x);
  ASSERT_EQ(y.sizes(), (Shape{2, 4, 5, 7}));
  std::vector<float> hx = x.to_vector<float>(), hw = conv.weight.to_vector<float>(),
                     hb = conv.bias.to_vector<float>(), hy = y.to_vector<float>();
  auto at = [&](int64_t n, int64_t c, int64_t i, int64_t j) -> double {
    if (i < 0 || i >= 5 || j < 0 || j >= 7) return 0;
    return hx[((n * 3 + c) * 5 + i) * 7 + j];
  };
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < 4; ++o)
      for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 7; ++j) {
          double want = hb[o];
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t ki = 0; ki < 3; ++ki)
              for (int64_t kj = 0; kj < 3; ++kj)
                want += at(n, c, i + ki - 1, j + kj - 1) * hw[((o * 3 + c) * 3 + ki) * 3 + kj];
          ASSERT_NEAR(hy[((n * 4 + o) * 5 + i) * 7 + j], want, 1e-5 * (1 + std::abs(want)));
        }
  nn::Sequential lenet(nn::Conv2d(1, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                       nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(256, 10));
  EXPECT_EQ(lenet(Tensor::zeros({3, 1, 28, 28})).sizes(), (Shape{3, 10}));
  std::vector<std::string> names;
  for (auto &[name, t] : lenet.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                                             "7.bias"}));
  EXPECT_THROW(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)), ValueError);
  Tensor p = nn::MaxPool2d(2)(Tensor::from_vector<float>({1, 5, 2, 0, 3, 4, 8, 7}, {1, 1, 2, 4}));
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{5, 8}));
}

TEST(Nn, DropoutZeroesAndScalesInTrainingOnly) {
  manual_seed(11);
  nn::Dropout drop(0.25);
  Tensor x = Tensor::ones({4000});
  std::vector<float> y = drop(x).to_vector<float>();
  int64_t zeros = 0;
  for (float v : y) {
    if (v == 0) {
      ++zeros;
      continue;
    }
    ASSERT_FLOAT_EQ(v, 1 / 0.75f);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 4000, 0.25, 0.03);
  drop.eval();
  EXPECT_EQ(drop(x).node(), x.node()) << "the identity in evaluation mode";
  EXPECT_THROW(nn::Dropout(1.0), ValueError);
}

// Debian's dataset-fashion-mnist (scripts/deps.sh installs it) as tensors.
// torch.nn.BatchNorm2d's formulas, computed here per channel over (n, h, w).
struct ChannelStats {
  std::vector<double> mean, var;  // var biased
};
ChannelStats channel_stats(const std::vector<float> &x, int64_t n, int64_t c, int64_t hw) {
  ChannelStats s{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
  const double count = static_cast<double>(n * hw);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) s.mean[ch] += x[(i * c + ch) * hw + p] / count;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        double d = x[(i * c + ch) * hw + p] - s.mean[ch];
        s.var[ch] += d * d / count;
      }
  return s;
}

TEST(Nn, BatchNorm2dFollowsTorchInTrainingAndEvaluation) {
  const int64_t n = 3, c = 4, h = 5, w = 3, hw = h * w;
  const double eps = 1e-5, momentum = 0.1, count = static_cast<double>(n * hw);
  nn::BatchNorm2d bn(c);
  std::vector<std::string> keys;
  for (const auto &[name, t] : bn.state_dict()) keys.push_back(name);
  EXPECT_EQ(keys, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                            "num_batches_tracked"}));
  EXPECT_EQ(bn.parameters().size(), 2u);
  {
    NoGradGuard no_grad;
    bn.weight.copy_(Tensor::from_vector<float>({1.5f, -0.5f, 2.0f, 1.0f}, {c}));
    bn.bias.copy_(Tensor::from_vector<float>({0.25f, 0.0f, -1.0f, 0.5f}, {c}));
  }
  std::vector<float> wv = {1.5f, -0.5f, 2.0f, 1.0f}, bv = {0.25f, 0.0f, -1.0f, 0.5f};

  std::vector<double> want_mean(c, 0.0), want_var(c, 1.0);
  for (uint64_t step = 0; step < 2; ++step) {
    Tensor x = Tensor::randn({n, c, h, w}, DType::F32, 40 + step) * 2.0 + 0.5;
    std::vector<float> xv = x.to_vector<float>();
    std::vector<float> dy = Tensor::randn({n, c, h, w}, DType::F32, 50 + step).to_vector<float>();
    Tensor tx = x.detach().requires_grad_();
    Tensor y = bn(tx);
    (y * Tensor::from_vector<float>(dy, {n, c, h, w})).sum().backward();
    std::vector<float> got = y.to_vector<float>(), dx = tx.grad().to_vector<float>();
    ChannelStats s = channel_stats(xv, n, c, hw);
    for (int64_t ch = 0; ch < c; ++ch) {
      const double sigma = std::sqrt(s.var[ch] + eps);
      // dx = w / sigma * (dy - mean(dy) - xhat * mean(dy * xhat)), torch's backward.
      double mean_dy = 0, mean_dy_xhat = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < hw; ++p) {
          size_t at = static_cast<size_t>((i * c + ch) * hw + p);
          double xhat = (xv[at] - s.mean[ch]) / sigma;
          mean_dy += dy[at] / count;
          mean_dy_xhat += dy[at] * xhat / count;
        }
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < hw; ++p) {
          size_t at = static_cast<size_t>((i * c + ch) * hw + p);
          double xhat = (xv[at] - s.mean[ch]) / sigma;
          EXPECT_NEAR(got[at], xhat * wv[ch] + bv[ch], 1e-4) << "y, channel " << ch;
          EXPECT_NEAR(dx[at], wv[ch] / sigma * (dy[at] - mean_dy - xhat * mean_dy_xhat), 1e-4)
              << "dx, channel " << ch;
        }
      want_mean[ch] = (1 - momentum) * want_mean[ch] + momentum * s.mean[ch];
      want_var[ch] = (1 - momentum) * want_var[ch] + momentum * s.var[ch] * count / (count - 1);
    }
    std::vector<float> rm = bn.running_mean.to_vector<float>(),
                       rv = bn.running_var.to_vector<float>();
    for (int64_t ch = 0; ch < c; ++ch) {
      EXPECT_NEAR(rm[ch], want_mean[ch], 1e-5) << "running_mean after step " << step;
      EXPECT_NEAR(rv[ch], want_var[ch], 1e-5) << "running_var after step " << step;
    }
    EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), static_cast<int64_t>(step + 1));
  }

  bn.eval();
  Tensor x = Tensor::randn({2, c, 2, 2}, DType::F32, 60);
  std::vector<float> xv = x.to_vector<float>(), got = bn(x).to_vector<float>();
  for (size_t at = 0; at < xv.size(); ++at) {
    size_t ch = (at / 4) % static_cast<size_t>(c);
    double want = (xv[at] - want_mean[ch]) / std::sqrt(want_var[ch] + eps) * wv[ch] + bv[ch];
    EXPECT_NEAR(got[at], want, 1e-4) << "eval, element " << at;
  }
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 2) << "evaluation moves no statistic";

  EXPECT_THROW(bn(Tensor::zeros({2, 3, 4, 4})), ShapeError);
  bn.train();
  EXPECT_THROW(bn(Tensor::zeros({1, c, 1, 1})), ValueError);
  EXPECT_THROW(nn::BatchNorm2d(0), ValueError);
}

// A training step through a batch norm is one plan: the running statistics
// are computed in the plan of the optimizer's step and settle for free.
TEST(Nn, BatchNorm2dStatisticsJoinTheStepsPlan) {
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(2, 4, 3).seed(1)), nn::BatchNorm2d(4),
                       nn::ReLU(), nn::Flatten(),
                       nn::Linear(nn::LinearOptions(4 * 4 * 4, 3).seed(2)));
  optim::SGDOptions options(0.05);
  options.momentum = 0.9;
  optim::SGD opt(model.parameters(), options);
  auto step = [&](uint64_t seed) {
    Tensor x = Tensor::randn({8, 2, 6, 6}, DType::F32, seed);
    Tensor labels = randint(0, 3, {8}, DType::I64, seed + 1);
    opt.zero_grad();
    nn::cross_entropy(model(x), labels).backward();
    opt.step();
  };
  step(70);
  step(72);
  PipelineStats before = pipeline_stats();
  step(74);
  PipelineStats after = pipeline_stats();
  EXPECT_EQ(after.plan_hits + after.plan_misses, before.plan_hits + before.plan_misses + 1)
      << "one plan per step";
  EXPECT_EQ(after.plan_misses, before.plan_misses) << "and compiled before";
  const nn::Module &bn = model[1];
  NamedTensors buffers = bn.named_buffers();
  ASSERT_EQ(buffers.size(), 3u);
  EXPECT_EQ(buffers[2].second.item<int64_t>(), 3);
  EXPECT_EQ(pipeline_stats().plan_hits + pipeline_stats().plan_misses,
            after.plan_hits + after.plan_misses)
      << "reading the statistics runs nothing";
  std::vector<std::string> keys;
  for (const auto &[name, t] : model.state_dict()) keys.push_back(name);
  EXPECT_EQ(keys, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                            "1.running_mean", "1.running_var",
                                            "1.num_batches_tracked", "4.weight", "4.bias"}));
}

TEST(Data, FashionMnistAsTensorsAndBatchesAsSlices) {
  if (!std::filesystem::exists(std::string(data::kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/deps.sh installs it)";
  data::ImageDataset test = data::read_mnist_family(data::kFashionMnistDir, false);
  EXPECT_EQ(test.images.sizes(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(test.images.dtype(), DType::U8);
  EXPECT_EQ(test.labels.sizes(), (Shape{10000}));
  EXPECT_EQ(test.labels.dtype(), DType::I64);
  // 1000 of each class, counted in the graph.
  Tensor counts = one_hot(test.labels, 10).sum({0});
  EXPECT_EQ(counts.to_vector<int64_t>(), std::vector<int64_t>(10, 1000));
  data::ImageDataset few = data::read_mnist_family(data::kFashionMnistDir, true, 100);
  EXPECT_EQ(few.size(), 100);
  Tensor batch = few.images.narrow(0, 96, 64 - 60);
  EXPECT_EQ(batch.sizes(), (Shape{4, 1, 28, 28}));
  EXPECT_THROW(data::read_mnist_family("/nonexistent", true), IOError);
}

TEST(Nn, BackwardIsLazyAndOnePlanWithTheLoss) {
  Tensor w = Tensor::randn({17, 3}, DType::F32, 1).requires_grad_();
  Tensor b = Tensor::randn({3}, DType::F32, 2).requires_grad_();
  Tensor x = Tensor::randn({5, 17}, DType::F32, 3);
  Tensor loss = (x.matmul(w) + b).relu().sum();
  PipelineStats before = pipeline_stats();
  loss.backward();
  PipelineStats after = pipeline_stats();
  EXPECT_EQ(after.plan_hits + after.plan_misses, before.plan_hits + before.plan_misses)
      << "backward() runs nothing";
  w.grad().realize();
  after = pipeline_stats();
  EXPECT_EQ(after.plan_hits + after.plan_misses, before.plan_hits + before.plan_misses + 1);
  b.grad().to_vector<float>();
  loss.item<float>();
  EXPECT_EQ(pipeline_stats().plan_hits + pipeline_stats().plan_misses,
            after.plan_hits + after.plan_misses)
      << "the other grad and the loss came with the first";
}

TEST(Nn, CopyUpdatesTheLeafForEveryHandleInOnePlan) {
  Tensor p = Tensor::from_vector(std::vector<float>{1, 2, 3}), q = Tensor::zeros({2});
  // A second handle of the same leaf is what this test is about.
  Tensor alias = p;  // NOLINT(performance-unnecessary-copy-initialization)
  Tensor view = p.reshape({3, 1});
  Tensor before = p * 2;
  before.realize();
  {
    NoGradGuard no_grad;
    p.copy_(p + 10);
    q.copy_(Tensor::scalar(4.0));  // broadcast
  }
  PipelineStats s = pipeline_stats();
  realize({p, q});
  EXPECT_EQ(pipeline_stats().plan_hits + pipeline_stats().plan_misses,
            s.plan_hits + s.plan_misses + 1);
  EXPECT_EQ(alias.to_vector<float>(), (std::vector<float>{11, 12, 13})) << "copies share it";
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{1, 2, 3})) << "earlier views keep theirs";
  EXPECT_EQ(before.to_vector<float>(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ((p * 2).to_vector<float>(), (std::vector<float>{22, 24, 26}));

  Tensor w = Tensor::ones({2}).requires_grad_();
  EXPECT_THROW(w.copy_(Tensor::zeros({2})), ValueError) << "needs a NoGradGuard";
  EXPECT_THROW(((w * 2)).copy_(Tensor::zeros({2})), ValueError) << "not a leaf";
  EXPECT_THROW(p.copy_(Tensor::zeros({3}, DType::F64)), ValueError) << "another dtype";
  EXPECT_THROW(p.copy_(Tensor::zeros({4})), ShapeError);
}

TEST(Nn, ScalarTensorIsARunTimeValue) {
  Tensor x = Tensor::randn({3, 17}, DType::F32, 1);
  (x * scalar_tensor(2.0)).realize();
  PipelineStats before = pipeline_stats();
  for (double v : {3.0, -1.5, 0.25}) {
    std::vector<float> got = (x * scalar_tensor(v)).to_vector<float>();
    EXPECT_FLOAT_EQ(got[5], static_cast<float>(x.to_vector<float>()[5] * v));
  }
  EXPECT_EQ(pipeline_stats().plan_misses, before.plan_misses);
  EXPECT_EQ(scalar_tensor(0.5, DType::F64).item<double>(), 0.5);
}

std::string temp_path(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("fusejit_nn_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(Safetensors, RoundTripsAModel) {
  nn::Sequential model(nn::Linear(nn::LinearOptions(17, 9).seed(1)), nn::ReLU(),
                       nn::Linear(nn::LinearOptions(9, 3).seed(3)));
  std::string path = temp_path("model.safetensors");
  NamedTensors extra = model.state_dict();
  extra.emplace_back("scalar", Tensor::scalar(2.5, DType::F64));
  extra.emplace_back("empty", Tensor::zeros({0, 3}));
  save(extra, path);
  NamedTensors back = load(path);
  ASSERT_EQ(back.size(), extra.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].first, extra[i].first);
    EXPECT_EQ(back[i].second.shape(), extra[i].second.shape());
    EXPECT_EQ(back[i].second.dtype(), extra[i].second.dtype());
  }
  EXPECT_EQ(back[0].second.to_vector<float>(),
            model.named_parameters()[0].second.to_vector<float>());
  EXPECT_EQ(back[4].second.item<double>(), 2.5);

  nn::Sequential other(nn::Linear(17, 9), nn::ReLU(), nn::Linear(9, 3));
  back.resize(4);
  other.load_state_dict(back);
  Tensor x = Tensor::randn({5, 17}, DType::F32, 8);
  EXPECT_EQ(other.forward(x).to_vector<float>(), model.forward(x).to_vector<float>());
  std::remove(path.c_str());

  NamedTensors wrong = back;
  wrong[0].first = "9.weight";
  EXPECT_THROW(other.load_state_dict(wrong), ValueError);
  wrong = back;
  wrong[1].second = Tensor::zeros({4});
  EXPECT_THROW(other.load_state_dict(wrong), ShapeError);
  EXPECT_THROW(save({{"a", Tensor::ones({1})}, {"a", Tensor::ones({1})}}, path), ValueError);
}

// Writes a safetensors file byte by byte: header text then data.
void write_raw(const std::string &path, const std::string &header, const std::string &data) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char *>(&n), 8);
  out << header << data;
}

std::string bytes16(std::initializer_list<uint16_t> values) {
  std::string s;
  for (uint16_t v : values) s.append(reinterpret_cast<const char *>(&v), 2);
  return s;
}

TEST(Safetensors, HalfAndBfloatLoadAsF32) {
  std::string path = temp_path("half.safetensors");
  // f16: 1, -2, 0.5, 65504 (the largest), 2^-24 (the smallest subnormal), inf;
  // bf16: 1, -3.5.
  write_raw(
      path,
      R"({"__metadata__":{"format":"pt"},"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]}})",
      bytes16({0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x3f80, 0xc060}));
  NamedTensors t = load(path);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].first, "h");
  EXPECT_EQ(t[0].second.dtype(), DType::F32);
  EXPECT_EQ(t[0].second.to_vector<float>(),
            (std::vector<float>{1, -2, 0.5, 65504, std::ldexp(1.f, -24), INFINITY}));
  EXPECT_EQ(t[1].second.to_vector<float>(), (std::vector<float>{1, -3.5}));
  std::remove(path.c_str());
}

TEST(Safetensors, BadFilesAreIOErrorsNamingTheValues) {
  std::string path = temp_path("bad.safetensors");
  auto expect_error = [&](const std::string &contains) {
    try {
      load(path);
      ADD_FAILURE() << "no error; wanted one with '" << contains << "'";
    } catch (const IOError &e) {
      EXPECT_NE(std::string(e.what()).find(contains), std::string::npos) << e.what();
    }
  };
  { std::ofstream(path, std::ios::binary) << "abc"; }
  expect_error("3 bytes");
  write_raw(path, "{\"a\":", "");
  expect_error("not JSON");
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = 1000;
    out.write(reinterpret_cast<const char *>(&n), 8);
  }
  expect_error("header length 1000");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
            std::string(12, 0));
  expect_error("12 bytes for F32[2, 2], which needs 16");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "");
  expect_error("do not fit the 0 data bytes");
  write_raw(path, R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", std::string(8, 0));
  expect_error("dtype I64");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, 0));
  expect_error("entry 'a'");
  write_raw(path, R"([1, 2])", "");
  expect_error("not a JSON object");
  std::remove(path.c_str());
  EXPECT_THROW(load(path), IOError) << "a missing file";
}

// A model written by PyTorch (tests/nn/torch_model.py, where python3-torch
// is installed) loads into the same nn model and gives PyTorch's outputs.
TEST(Safetensors, LoadsAModelWrittenByTorch) {
  std::string dir = temp_path("torch");
  std::filesystem::create_directories(dir);
  // Debian's interpreter, where python3-torch installs, before one on PATH.
  std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::string cmd = python + " " FUSEJIT_SOURCE_DIR "/tests/nn/torch_model.py " + dir;
  int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "python3-torch is not installed: the PyTorch exchange is not checked";
  }
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd;
  nn::Sequential model(nn::Linear(17, 9), nn::ReLU(), nn::Linear(9, 3));
  model.load_state_dict(load(dir + "/model.safetensors"));
  NamedTensors io = load(dir + "/io.safetensors");
  ASSERT_EQ(io.size(), 2u);
  std::vector<float> got = model.forward(io[0].second).to_vector<float>();
  std::vector<float> want = io[1].second.to_vector<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fusejit
