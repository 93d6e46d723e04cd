// Trains an MLP (784-256-10) or LeNet-5 on Fashion-MNIST, from Debian's
// dataset-fashion-mnist, and prints a progress line per epoch and the test
// accuracy, as a libtorch user would write it: the data set is a tensor,
// a batch is a slice of it, and each step (forward, backward, the
// optimizer's update) is one plan, compiled once.
//
//   fashion_mnist --model mlp --epochs 2 --batch 64 --lr 1e-3 --optimizer adam
//   fashion_mnist --model lenet --epochs 5 --limit 2000 --threads 1
//   fashion_mnist --model mlp --epochs 1 --save-init init.safetensors
//
// --save-init writes the initial parameters (safetensors, named as
// named_parameters(): "1.weight", ...) so that another framework can start
// from the same weights; bench/train_vs_torch.sh does that with PyTorch.
// --shuffle draws the batches of each epoch from a new permutation (seeded
// by --seed), read through index_select: every batch still binds to one plan.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include <fusejit/fusejit.h>

namespace {

using fusejit::Tensor;
namespace nn = fusejit::nn;
namespace optim = fusejit::optim;

struct Args {
  std::string model = "mlp";
  std::string optimizer = "adam";
  std::string data = fusejit::data::kFashionMnistDir;
  std::string save_init;  // empty: don't
  bool shuffle = false;
  int epochs = 2;
  int64_t batch = 64;
  double lr = 1e-3;
  int threads = 0;  // every core
  int64_t limit = -1;
  uint64_t seed = 0;
};

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr,
               "fashion_mnist: %s\nusage: fashion_mnist [--model mlp|lenet] [--epochs N] "
               "[--batch B] [--lr LR] [--optimizer sgd|adam] [--threads N] [--limit N] "
               "[--seed S] [--data DIR] [--save-init PATH] [--shuffle]\n",
               why.c_str());
  std::exit(2);
}

Args parse(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--shuffle") {
      a.shuffle = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + flag);
    std::string value = argv[++i];
    try {
      if (flag == "--model")
        a.model = value;
      else if (flag == "--optimizer")
        a.optimizer = value;
      else if (flag == "--data")
        a.data = value;
      else if (flag == "--save-init")
        a.save_init = value;
      else if (flag == "--epochs")
        a.epochs = std::stoi(value);
      else if (flag == "--batch")
        a.batch = std::stoll(value);
      else if (flag == "--lr")
        a.lr = std::stod(value);
      else if (flag == "--threads")
        a.threads = std::stoi(value);
      else if (flag == "--limit")
        a.limit = std::stoll(value);
      else if (flag == "--seed")
        a.seed = std::stoull(value);
      else
        usage("unknown flag " + flag);
    } catch (const std::logic_error &) {
      usage(std::string("bad value '").append(value).append("' for ").append(flag));
    }
  }
  if (a.model != "mlp" && a.model != "lenet") usage("--model is mlp or lenet, not " + a.model);
  if (a.optimizer != "sgd" && a.optimizer != "adam")
    usage("--optimizer is sgd or adam, not " + a.optimizer);
  if (a.epochs < 1 || a.batch < 1 || !(a.lr > 0) || a.threads < 0) usage("values must be positive");
  return a;
}

nn::Sequential make_model(const std::string &name, uint64_t seed) {
  if (name == "mlp")
    return nn::Sequential(nn::Flatten(), nn::Linear(nn::LinearOptions(784, 256).seed(seed)),
                          nn::ReLU(), nn::Linear(nn::LinearOptions(256, 10).seed(seed + 2)));
  // LeNet-5: 28x28 -> conv 5x5 (6) 24x24 -> pool 12x12 -> conv 5x5 (16) 8x8
  // -> pool 4x4 -> 256 -> 120 -> 84 -> 10.
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).seed(seed)), nn::ReLU(),
                        nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(6, 16, 5).seed(seed + 2)),
                        nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                        nn::Linear(nn::LinearOptions(256, 120).seed(seed + 4)), nn::ReLU(),
                        nn::Linear(nn::LinearOptions(120, 84).seed(seed + 6)), nn::ReLU(),
                        nn::Linear(nn::LinearOptions(84, 10).seed(seed + 8)));
}

// Bytes to floats in [0, 1], in the graph: the cast fuses into the first layer.
Tensor pixels(const Tensor &images) { return images.to(fusejit::DType::F32) / 255.0; }

double test_accuracy(nn::Sequential &model, const fusejit::data::ImageDataset &test) {
  fusejit::NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0;
  const int64_t batch = 1000;
  for (int64_t at = 0; at < test.size(); at += batch) {
    int64_t n = std::min(batch, test.size() - at);
    Tensor predicted = model(pixels(test.images.narrow(0, at, n))).argmax(1);
    correct += (predicted == test.labels.narrow(0, at, n)).sum().item<int64_t>();
  }
  model.train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(test.size());
}

void progress(int epoch, int epochs, int64_t done, int64_t total, double loss, double seconds) {
  const int width = 30;
  int filled = static_cast<int>(done * width / std::max<int64_t>(total, 1));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::printf("\repoch %d/%d [%s] %lld/%lld  loss %.4f  %.0f images/s", epoch, epochs, bar.c_str(),
              static_cast<long long>(done), static_cast<long long>(total), loss,
              static_cast<double>(done) / std::max(seconds, 1e-9));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
  Args args = parse(argc, argv);
  try {
    fusejit::set_num_threads(args.threads);
    fusejit::manual_seed(args.seed);
    fusejit::data::ImageDataset train = fusejit::data::read_mnist_family(
        args.data, true, args.limit >= 0 ? std::optional<int64_t>(args.limit) : std::nullopt);
    fusejit::data::ImageDataset test = fusejit::data::read_mnist_family(args.data, false);
    nn::Sequential model = make_model(args.model, args.seed);
    if (!args.save_init.empty()) fusejit::save(model.named_parameters(), args.save_init);
    std::unique_ptr<optim::Optimizer> opt;
    if (args.optimizer == "adam")
      opt = std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions(args.lr));
    else
      opt = std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions(args.lr));
    std::printf("%s on %lld training images, %lld test images; batch %lld, %s lr %g\n",
                args.model.c_str(), static_cast<long long>(train.size()),
                static_cast<long long>(test.size()), static_cast<long long>(args.batch),
                args.optimizer.c_str(), args.lr);
    std::mt19937_64 shuffler(args.seed);
    std::vector<int64_t> order(static_cast<size_t>(train.size()));
    auto train_start = std::chrono::steady_clock::now();
    for (int epoch = 1; epoch <= args.epochs; ++epoch) {
      auto start = std::chrono::steady_clock::now();
      double loss_sum = 0;
      int64_t steps = 0;
      std::iota(order.begin(), order.end(), int64_t{0});
      if (args.shuffle) std::shuffle(order.begin(), order.end(), shuffler);
      // The epoch's order as data: a batch's ids are a narrow of it, which
      // shares its storage, so every full batch is the same plan.
      Tensor perm = Tensor::from_vector<int64_t>(order, {train.size()});
      for (int64_t at = 0; at < train.size(); at += args.batch) {
        int64_t n = std::min(args.batch, train.size() - at);
        Tensor images = train.images.narrow(0, at, n), labels = train.labels.narrow(0, at, n);
        if (args.shuffle) {
          Tensor ids = perm.narrow(0, at, n);
          images = train.images.index_select(0, ids), labels = train.labels.index_select(0, ids);
        }
        Tensor x = pixels(images);
        Tensor loss = nn::cross_entropy(model(x), labels);
        opt->zero_grad();
        loss.backward();
        opt->step({loss});  // one plan: forward, backward, update, and the loss
        loss_sum += loss.item<float>();
        ++steps;
        std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
        if (steps % 20 == 0 || at + n == train.size())
          progress(epoch, args.epochs, at + n, train.size(), loss_sum / static_cast<double>(steps),
                   t.count());
      }
      std::printf("\n");
    }
    std::chrono::duration<double> train_time = std::chrono::steady_clock::now() - train_start;
    std::printf("train time: %.3f s\n", train_time.count());
    std::printf("test accuracy: %.2f%%\n", test_accuracy(model, test));
  } catch (const fusejit::Error &e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 2;
  }
  return 0;
}
