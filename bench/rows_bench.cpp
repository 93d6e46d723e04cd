// Row kernels (engine/fuse_rows.h) against their anchors, measured in the
// same run: the traffic limit (the row read once and the result written
// once, at the bandwidth of a STREAM-style triad), the multi-kernel form
// (row fusion off: each reduction its own kernel) and a hand-written C++
// loop per row (what a performance engineer writes without a library).
//
//   rows_bench [--reps R] [--threads T] [--large]
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/autodiff.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "engine/tensor.h"
#include "ir/graph.h"
#include "ir/row_ops.h"
#include "runtime/parallel_for.h"
#include "runtime/random.h"

using namespace fusejit;
using namespace fusejit::bench;

namespace {

NodeRef leaf(const Buffer &b) {
  NodeRef n = ir::input(b.dtype(), b.shape());
  attach_buffer(*n, b);
  return n;
}

struct Timed {
  double seconds;
  size_t kernels;
};

Timed run_seconds(const std::vector<NodeRef> &roots, bool rows, int reps) {
  PreparedGraph prepared =
      prepare(roots, Numerics::Fast, FuseOptions{.fusion = true, .rows = rows});
  std::vector<Buffer> leaves = leaf_values(prepared.inputs, {});
  double s = time_min(reps, [&] {
    std::vector<Buffer> out = run_compiled(*prepared.compiled, leaves);
    keep(out[0].raw());
  });
  return {s, prepared.compiled->plan.kernels.size()};
}

// GB/s of y = b + 3c over n floats.
double triad_gbs(int64_t n, int reps, int threads) {
  std::vector<float> b(n, 1.0f), c(n, 2.0f), y(n);
  double s = time_min(reps, [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = b[i] + 3.0f * c[i];
  });
  keep(y.data());
  return 12.0 * n / s / 1e9;
}

// Hand-written loops per row, rows split across threads.
void per_row(int64_t rows, int threads, const std::function<void(int64_t)> &row) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) row(r);
}

void softmax_loop(const float *x, float *y, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += y[i] = std::exp(x[i] - m);
  float inv = 1.0f / s;
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void layer_norm_loop(const float *x, float *y, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  float mean = s / static_cast<float>(n), v = 0;
  for (int64_t i = 0; i < n; ++i) v += (x[i] - mean) * (x[i] - mean);
  float inv = 1.0f / std::sqrt(v / static_cast<float>(n) + 1e-5f);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv;
}

float logsumexp_loop(const float *x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return std::log(s) + m;
}

void shape(int64_t rows, int64_t cols, int threads, int reps) {
  set_num_threads(threads);
  Generator g(1);
  Buffer xb = random_uniform(DType::F32, {rows, cols}, g, -4, 4);
  NodeRef x = leaf(xb);
  const float *px = xb.data<float>();
  std::vector<float> y(static_cast<size_t>(rows * cols));
  const int64_t n = rows * cols;
  double triad = triad_gbs(n, reps, threads);
  std::printf("\n[%lld, %lld] f32, %d thread(s): triad %.2f GB/s\n", static_cast<long long>(rows),
              static_cast<long long>(cols), threads, triad);
  struct RowCase {
    const char *name;
    NodeRef root;
    double bytes;  // read x once, write the result once
    std::function<void(int64_t)> loop;
  };
  std::vector<RowCase> cases{
      {"softmax", ir::softmax(x, 1), 8.0 * n,
       [&](int64_t r) { softmax_loop(px + r * cols, y.data() + r * cols, cols); }},
      {"layer_norm", ir::layer_norm(x, {1}, nullptr, nullptr, 1e-5), 8.0 * n,
       [&](int64_t r) { layer_norm_loop(px + r * cols, y.data() + r * cols, cols); }},
      {"logsumexp", ir::logsumexp(x, {1}, false), 4.0 * n + 4.0 * rows,
       [&](int64_t r) { y[r] = logsumexp_loop(px + r * cols, cols); }},
  };
  for (const RowCase &op : cases) {
    Timed fused = run_seconds({op.root}, true, reps), multi = run_seconds({op.root}, false, reps);
    double loop = time_min(reps, [&] { per_row(rows, threads, op.loop); });
    keep(y.data());
    double limit = op.bytes / (triad * 1e9);
    std::string name = std::string(op.name) + " (" + std::to_string(fused.kernels) + " kernel)";
    std::printf(
        "  %-28s %8.3f ms | traffic limit %6.3f ms %5.2fx | multi-kernel (%zu) %7.3f ms "
        "%5.2fx | C++ loop %7.3f ms %5.2fx\n",
        name.c_str(), fused.seconds * 1e3, limit * 1e3, limit / fused.seconds, multi.kernels,
        multi.seconds * 1e3, multi.seconds / fused.seconds, loop * 1e3, loop / fused.seconds);
  }
  // Forward and backward: the gradient of sum(y * w), w fixed.
  Buffer wb = random_uniform(DType::F32, {rows, cols}, g, -1, 1);
  NodeRef w = leaf(wb);
  for (const char *name : {"softmax", "layer_norm"}) {
    NodeRef xi = ir::input(DType::F32, {rows, cols}, "x");
    attach_buffer(*xi, xb);
    NodeRef y = std::strcmp(name, "softmax") == 0 ? ir::softmax(xi, 1)
                                                  : ir::layer_norm(xi, {1}, nullptr, nullptr, 1e-5);
    NodeRef loss = ir::reduce(Op::Sum, ir::binary(Op::Mul, y, w), {});
    std::vector<NodeRef> roots{y, gradients(loss, {xi})[0]};
    Timed fused = run_seconds(roots, true, reps), multi = run_seconds(roots, false, reps);
    // x and w read, y and dx written, once.
    double limit = 16.0 * n / (triad * 1e9);
    std::string label = std::string(name) + " fwd+bwd (" + std::to_string(fused.kernels) + ")";
    std::printf(
        "  %-28s %8.3f ms | traffic limit %6.3f ms %5.2fx | multi-kernel (%zu) %7.3f ms "
        "%5.2fx\n",
        label.c_str(), fused.seconds * 1e3, limit * 1e3, limit / fused.seconds, multi.kernels,
        multi.seconds * 1e3, multi.seconds / fused.seconds);
  }
}

}  // namespace

int main(int argc, char **argv) {
  int reps = 10, threads = 0;
  bool large = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--large")) large = true;
  }
  std::printf("fusejit row kernel benchmarks (%d cores); ratios > 1 favour fusejit\n",
              omp_get_num_procs());
  for (int t : {1, 2}) {
    if (threads && t != threads) continue;
    shape(4096, 1024, t, reps);
    if (large) {
      shape(16384, 2048, t, reps);
      shape(512, 65536, t, reps);
    }
  }
  return 0;
}
