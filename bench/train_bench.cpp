// Training benchmarks. A full SGD step (forward, backward, update) of a
// 784-256-10 MLP at batch 64 through fusejit, beside the same step written
// by hand with Eigen; and a matmul's backward (two GEMMs on transposed
// views) beside its forward.
//
// And an epoch of that MLP built from fusejit::nn, its optimizer (SGD, Adam)
// fused into each step's plan, against SGD realized per parameter.
//
//   train_bench [--reps R] [--batches N]
#include <Eigen/Core>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <fusejit/nn.h>
#include <fusejit/optim.h>

#include "bench/bench_util.h"
#include "engine/autodiff.h"
#include "engine/realize.h"
#include "engine/tensor.h"
#include "ir/graph.h"
#include "runtime/parallel_for.h"

using namespace fusejit;
using namespace fusejit::bench;

namespace {

constexpr int64_t kBatch = 64, kIn = 784, kHidden = 256, kOut = 10;
constexpr double kLr = 0.05;

struct Params {
  Tensor w1, b1, w2, b2;
};

// Mean softmax cross-entropy of logits z [B, C] against one-hot y.
Tensor cross_entropy(const Tensor &z, const Tensor &y) {
  Tensor m = z.max({1}, true);
  Tensor lse = (z - m).exp().sum({1}, true).log() + m;
  return (lse - (z * y).sum({1}, true)).mean();
}

float fusejit_step(Params &p, const Tensor &x, const Tensor &y) {
  Tensor h = (x.matmul(p.w1) + p.b1).relu();
  Tensor loss = cross_entropy(h.matmul(p.w2) + p.b2, y);
  loss.backward();
  for (Tensor *w : {&p.w1, &p.b1, &p.w2, &p.b2})
    *w = (*w - kLr * w->grad()).detach().requires_grad_();
  return loss.item<float>();
}

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = Eigen::RowVectorXf;

struct EigenMlp {
  Matrix w1, w2;
  Row b1, b2;

  // The same step, with the gradients derived by hand.
  float step(const Matrix &x, const Matrix &y) {
    Matrix h = ((x * w1).rowwise() + b1).cwiseMax(0.f);
    Matrix z = (h * w2).rowwise() + b2;
    Eigen::VectorXf m = z.rowwise().maxCoeff();
    Matrix e = (z.colwise() - m).array().exp().matrix();
    Eigen::VectorXf s = e.rowwise().sum();
    Matrix softmax = e.array().colwise() / s.array();
    float loss = ((s.array().log() + m.array()) - (z.array() * y.array()).rowwise().sum()).mean();
    Matrix dz = (softmax - y) / float(kBatch);
    Matrix dh = (dz * w2.transpose()).array() * (h.array() > 0.f).cast<float>();
    w2 -= kLr * (h.transpose() * dz);
    b2 -= kLr * dz.colwise().sum();
    w1 -= kLr * (x.transpose() * dh);
    b1 -= kLr * dh.colwise().sum();
    return loss;
  }
};

void training_step(int reps) {
  Tensor x = Tensor::rand({kBatch, kIn}, DType::F32, 1);
  std::vector<float> onehot(kBatch * kOut, 0.f);
  for (int64_t i = 0; i < kBatch; ++i) onehot[i * kOut + i % kOut] = 1.f;
  Tensor y = Tensor::from_vector(onehot, {kBatch, kOut});
  auto init = [](const Shape &s, uint64_t seed, double scale) {
    return (Tensor::randn(s, DType::F32, seed) * scale).detach().requires_grad_();
  };
  Params p{init({kIn, kHidden}, 2, 0.05), init({kHidden}, 3, 0.0), init({kHidden, kOut}, 4, 0.05),
           init({kOut}, 5, 0.0)};
  EigenMlp e{Matrix::Map(p.w1.to_vector<float>().data(), kIn, kHidden),
             Matrix::Map(p.w2.to_vector<float>().data(), kHidden, kOut), Row::Zero(kHidden),
             Row::Zero(kOut)};
  Matrix ex = Matrix::Map(x.to_vector<float>().data(), kBatch, kIn);
  Matrix ey = Matrix::Map(onehot.data(), kBatch, kOut);

  std::printf("\nSGD step of a %lld-%lld-%lld MLP, batch %lld, f32 (Eigen on as many threads)\n",
              (long long)kIn, (long long)kHidden, (long long)kOut, (long long)kBatch);
  float lf = 0, le = 0;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Eigen::setNbThreads(threads);
    double tf = time_min(reps, [&] { lf = fusejit_step(p, x, y); });
    double te = time_min(reps, [&] { le = e.step(ex, ey); });
    std::printf("  %d thread(s): ", threads);
    report("step (forward + backward + SGD)", tf * 1e3, "ms", "vs hand-written Eigen", te * 1e3,
           false);
  }
  std::printf("  (losses after the timed steps: fusejit %.4f, Eigen %.4f)\n", lf, le);
}

// An epoch of the same MLP (fusejit::nn) over `batches` batches of 64 read
// in place from one host array (from_blob: no copy), with the optimizer
// fused into the step's plan (one realize per step), beside the same SGD
// written per parameter (backward, then one realize per parameter update).
double epoch(const std::vector<float> &images, const std::vector<float> &onehot, int64_t batches,
             const char *how) {
  nn::Sequential model(nn::Linear(nn::LinearOptions(kIn, kHidden).seed(11)), nn::ReLU(),
                       nn::Linear(nn::LinearOptions(kHidden, kOut).seed(13)));
  std::vector<Tensor> params = model.parameters();
  std::unique_ptr<optim::Optimizer> opt;
  if (!std::strcmp(how, "adam"))
    opt = std::make_unique<optim::Adam>(params, optim::AdamOptions(1e-3));
  else
    opt = std::make_unique<optim::SGD>(params, optim::SGDOptions(kLr));
  auto run = [&] {
    for (int64_t b = 0; b < batches; ++b) {
      auto *x = const_cast<float *>(images.data() + b * kBatch * kIn);
      auto *y = const_cast<float *>(onehot.data() + b * kBatch * kOut);
      Tensor loss = cross_entropy(model.forward(Tensor::from_blob(x, {kBatch, kIn})),
                                  Tensor::from_blob(y, {kBatch, kOut}));
      if (!std::strcmp(how, "per-parameter")) {
        loss.backward();
        NoGradGuard no_grad;
        for (const Tensor &p : params) {
          p.copy_(p - kLr * p.grad()).realize();  // the first computes every grad and the loss
          p.zero_grad();
        }
        keep(loss.data_ptr<float>());
        continue;
      }
      opt->zero_grad();
      loss.backward();
      opt->step();
      keep(loss.data_ptr<float>());
    }
  };
  return time_min(3, run);
}

void training_epoch(int64_t batches) {
  std::vector<float> images(static_cast<size_t>(batches * kBatch * kIn));
  std::vector<float> onehot(static_cast<size_t>(batches * kBatch * kOut), 0.f);
  Tensor r = Tensor::rand({batches * kBatch, kIn}, DType::F32, 21);
  images = r.to_vector<float>();
  for (int64_t i = 0; i < batches * kBatch; ++i) onehot[i * kOut + (i * 7) % kOut] = 1.f;
  std::printf("\nan epoch of %lld batches of %lld, the %lld-%lld-%lld MLP (fusejit::nn)\n",
              (long long)batches, (long long)kBatch, (long long)kIn, (long long)kHidden,
              (long long)kOut);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    double per = epoch(images, onehot, batches, "per-parameter");
    double sgd = epoch(images, onehot, batches, "sgd");
    double adam = epoch(images, onehot, batches, "adam");
    std::printf("  %d thread(s): ", threads);
    report("SGD fused (1 plan a step)", sgd * 1e3, "ms", "per-parameter SGD", per * 1e3, false);
    std::printf("  %d thread(s): ", threads);
    report("Adam fused (1 plan a step)", adam * 1e3, "ms", "per-parameter SGD", per * 1e3, false);
  }
}

void matmul_backward(int reps) {
  std::printf(
      "\nmatmul [%lld, %lld] @ [%lld, %lld]: backward (dA = dC Bt, dB = At dC) vs forward\n",
      (long long)kBatch, (long long)kIn, (long long)kIn, (long long)kHidden);
  Tensor a = Tensor::rand({kBatch, kIn}, DType::F32, 6),
         b = Tensor::rand({kIn, kHidden}, DType::F32, 7);
  Tensor dc = Tensor::rand({kBatch, kHidden}, DType::F32, 8);
  NodeRef c = ir::matmul(a.node(), b.node());
  std::vector<NodeRef> grads = gradients(c, {a.node(), b.node()}, dc.node());
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    double forward = time_min(reps, [&] { keep(evaluate({c}, {})[0].raw()); });
    double backward = time_min(reps, [&] { keep(evaluate(grads, {})[0].raw()); });
    std::printf(
        "  %d thread(s): forward %.3f ms, backward %.3f ms: %.2fx the forward (target <= 2.2x)\n",
        threads, forward * 1e3, backward * 1e3, backward / forward);
  }
}

}  // namespace

int main(int argc, char **argv) {
  int reps = 20;
  int64_t epoch_batches = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batches")) epoch_batches = std::atoll(argv[i + 1]);
  }
  std::printf("fusejit training benchmarks; ratios > 1 favour fusejit\n");
  training_step(reps);
  training_epoch(epoch_batches);
  matmul_backward(reps);
  return 0;
}
