// Trains a 2 -> hidden -> 1 MLP (tanh, sigmoid, binary cross-entropy,
// full-batch SGD) on one of minitorch's synthetic datasets and prints loss,
// accuracy and a progress bar per epoch.
//
//   train_mlp --dataset xor --epochs 500 --hidden 10 --lr 1 --seed 1 --points 100
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "mlp.h"

namespace {

struct Args {
  std::string dataset = "xor";
  int64_t points = 100;
  mlp::Options opt;
};

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr,
               "train_mlp: %s\nusage: train_mlp [--dataset simple|diag|split|xor|circle|spiral]"
               " [--epochs N] [--hidden H] [--lr LR] [--seed S] [--points N]\n",
               why.c_str());
  std::exit(2);
}

Args parse(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage("missing value after " + flag);
    std::string value = argv[++i];
    try {
      if (flag == "--dataset")
        a.dataset = value;
      else if (flag == "--epochs")
        a.opt.epochs = std::stoi(value);
      else if (flag == "--hidden")
        a.opt.hidden = std::stoll(value);
      else if (flag == "--lr")
        a.opt.lr = std::stod(value);
      else if (flag == "--seed")
        a.opt.seed = std::stoull(value);
      else if (flag == "--points")
        a.points = std::stoll(value);
      else
        usage("unknown flag " + flag);
    } catch (const std::logic_error &) {
      usage(std::string("bad value '").append(value).append("' for ").append(flag));
    }
  }
  if (a.opt.epochs < 1 || a.opt.hidden < 1 || a.points < 2) usage("values must be positive");
  return a;
}

void print_epoch(const mlp::EpochStats &s, int epochs) {
  const int width = 30;
  int done = static_cast<int>(static_cast<int64_t>(s.epoch) * width / epochs);
  std::string bar(done, '#');
  bar.resize(width, '.');
  std::printf("epoch %5d/%d [%s] loss %.4f  accuracy %5.1f%%\n", s.epoch, epochs, bar.c_str(),
              s.loss, 100.0 * s.accuracy);
}

}  // namespace

int main(int argc, char **argv) {
  Args args = parse(argc, argv);
  try {
    mlp::Dataset data = mlp::make_dataset(args.dataset, args.points, args.opt.seed);
    std::printf("dataset %s: %lld points, hidden %lld, lr %g, %d epochs\n", args.dataset.c_str(),
                static_cast<long long>(data.n), static_cast<long long>(args.opt.hidden),
                args.opt.lr, args.opt.epochs);
    mlp::EpochStats last = mlp::train(
        data, args.opt, [&](const mlp::EpochStats &s) { print_epoch(s, args.opt.epochs); });
    std::printf("final: loss %.4f  accuracy %.1f%%\n", last.loss, 100.0 * last.accuracy);
  } catch (const fusejit::Error &e) {
    std::fprintf(stderr, "train_mlp: %s\n", e.what());
    return 2;
  }
  return 0;
}
