// Convolution benchmarks: fusejit's conv2d (a composition of pad, unfold,
// * and sum, compiled to an implicit-im2col GEMM or, under 8 output
// channels, one fused reduce kernel) beside what a C++
// engineer would write, im2col + OpenBLAS sgemm per image, from the same
// run, on 1 and 2 threads: LeNet's two layers, a 3x3 64->64, a 1x1
// 256->64 and a stride-2 3x3. Forward, then forward + backward (fusejit's
// input and weight gradients against sgemm for the weight gradient and
// sgemm + col2im for the input gradient).
//
//   conv_bench [--only NAME]
#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/autodiff.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/conv.h"
#include "ir/graph.h"
#include "runtime/random.h"

extern "C" void openblas_set_num_threads(int);

using namespace fusejit;
using namespace fusejit::bench;

namespace {

struct Layer {
  const char *name;
  int64_t n, cin, h, w, cout, k, stride, pad;
  int64_t oh() const { return (h + 2 * pad - k) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - k) / stride + 1; }
  double flops() const { return 2.0 * n * cout * oh() * ow() * cin * k * k; }
};

NodeRef leaf(const Buffer &b) {
  NodeRef n = ir::input(b.dtype(), b.shape());
  attach_buffer(*n, b);
  return n;
}

double run_seconds(const std::vector<NodeRef> &roots, int reps, size_t *kernels) {
  PreparedGraph prepared = prepare(roots, Numerics::Fast);
  *kernels = prepared.compiled->plan.kernels.size();
  std::vector<Buffer> leaves = leaf_values(prepared.inputs, {});
  return time_min(reps, [&] {
    std::vector<Buffer> out = run_compiled(*prepared.compiled, leaves);
    keep(out[0].raw());
  });
}

// col[(ci, ky, kx), (oy, ox)] of one image, zeros where the window leaves it.
void im2col(const Layer &l, const float *x, float *col) {
  const int64_t oh = l.oh(), ow = l.ow();
  for (int64_t ci = 0; ci < l.cin; ++ci)
    for (int64_t ky = 0; ky < l.k; ++ky)
      for (int64_t kx = 0; kx < l.k; ++kx) {
        float *row = col + ((ci * l.k + ky) * l.k + kx) * oh * ow;
        for (int64_t oy = 0; oy < oh; ++oy) {
          int64_t iy = oy * l.stride + ky - l.pad;
          for (int64_t ox = 0; ox < ow; ++ox) {
            int64_t ix = ox * l.stride + kx - l.pad;
            bool inside = iy >= 0 && iy < l.h && ix >= 0 && ix < l.w;
            row[oy * ow + ox] = inside ? x[(ci * l.h + iy) * l.w + ix] : 0.0f;
          }
        }
      }
}

// The inverse scatter: dx of one image from dcol.
void col2im(const Layer &l, const float *col, float *dx) {
  const int64_t oh = l.oh(), ow = l.ow();
  std::memset(dx, 0, sizeof(float) * size_t(l.cin * l.h * l.w));
  for (int64_t ci = 0; ci < l.cin; ++ci)
    for (int64_t ky = 0; ky < l.k; ++ky)
      for (int64_t kx = 0; kx < l.k; ++kx) {
        const float *row = col + ((ci * l.k + ky) * l.k + kx) * oh * ow;
        for (int64_t oy = 0; oy < oh; ++oy) {
          int64_t iy = oy * l.stride + ky - l.pad;
          if (iy < 0 || iy >= l.h) continue;
          for (int64_t ox = 0; ox < ow; ++ox) {
            int64_t ix = ox * l.stride + kx - l.pad;
            if (ix >= 0 && ix < l.w) dx[(ci * l.h + iy) * l.w + ix] += row[oy * ow + ox];
          }
        }
      }
}

int reps_for(double flops) { return std::clamp(int(5e9 / std::max(flops, 1.0)), 3, 30); }

void layer_case(const Layer &l) {
  Generator g(1);
  Buffer x = random_uniform(DType::F32, {l.n, l.cin, l.h, l.w}, g, -1, 1);
  Buffer w = random_uniform(DType::F32, {l.cout, l.cin, l.k, l.k}, g, -1, 1);
  Buffer dy = random_uniform(DType::F32, {l.n, l.cout, l.oh(), l.ow()}, g, -1, 1);
  const int64_t kk = l.cin * l.k * l.k, pixels = l.oh() * l.ow();
  std::vector<float> col(size_t(kk * pixels)), y(size_t(l.n * l.cout * pixels));
  std::vector<float> dw(size_t(l.cout * kk)), dx(size_t(l.n * l.cin * l.h * l.w));
  const float *px = x.data<float>(), *pw = w.data<float>(), *pdy = dy.data<float>();

  ir::ConvParams p;
  p.stride = {l.stride};
  p.padding = {l.pad};
  NodeRef nx = leaf(x), nw = leaf(w);
  NodeRef out = ir::conv(nx, nw, nullptr, p);
  int reps = reps_for(l.flops());
  size_t fwd_kernels = 0, bwd_kernels = 0;
  double ours = run_seconds({out}, reps, &fwd_kernels);
  double blas = time_min(reps, [&] {
    for (int64_t n = 0; n < l.n; ++n) {
      im2col(l, px + n * l.cin * l.h * l.w, col.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(l.cout), int(pixels), int(kk),
                  1.0f, pw, int(kk), col.data(), int(pixels), 0.0f, y.data() + n * l.cout * pixels,
                  int(pixels));
    }
  });
  report(std::string(l.name) + " fwd", l.flops() / ours / 1e9, "GFLOP/s", "vs im2col+sgemm",
         l.flops() / blas / 1e9);

  // Backward: dx and dw (each as many flops as the forward).
  std::vector<NodeRef> grads = gradients(out, {nx, nw}, leaf(dy));
  double ours_bwd = run_seconds(grads, reps, &bwd_kernels);
  double blas_bwd = time_min(reps, [&] {
    for (int64_t n = 0; n < l.n; ++n) {
      const float *dyn = pdy + n * l.cout * pixels;
      im2col(l, px + n * l.cin * l.h * l.w, col.data());
      // dw += dy[n] (cout x pixels) . col^T (pixels x kk)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(l.cout), int(kk), int(pixels), 1.0f,
                  dyn, int(pixels), col.data(), int(pixels), n == 0 ? 0.0f : 1.0f, dw.data(),
                  int(kk));
      // dcol = w^T (kk x cout) . dy[n] (cout x pixels), then col2im
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kk), int(pixels), int(l.cout), 1.0f,
                  pw, int(kk), dyn, int(pixels), 0.0f, col.data(), int(pixels));
      col2im(l, col.data(), dx.data() + n * l.cin * l.h * l.w);
    }
  });
  report(std::string(l.name) + " bwd (dx, dw)", 2 * l.flops() / ours_bwd / 1e9, "GFLOP/s",
         "vs sgemm+col2im", 2 * l.flops() / blas_bwd / 1e9);
  std::printf("  %-34s %zu forward, %zu backward\n", "  kernels", fwd_kernels, bwd_kernels);
}

}  // namespace

int main(int argc, char **argv) {
  // As matmul_bench: passive waiting, so fusejit's idle threads do not
  // starve OpenBLAS's (libgomp reads it only at startup).
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
  }
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  std::string cache =
      std::filesystem::temp_directory_path() / ("fusejit-convbench-" + std::to_string(getpid()));
  setenv("FUSEJIT_CACHE_DIR", cache.c_str(), 1);
  const std::vector<Layer> layers = {
      {"lenet1 64x1x28x28 k5 ->6", 64, 1, 28, 28, 6, 5, 1, 0},
      {"lenet2 64x6x12x12 k5 ->16", 64, 6, 12, 12, 16, 5, 1, 0},
      {"3x3 8x64x56x56 ->64", 8, 64, 56, 56, 64, 3, 1, 1},
      {"1x1 8x256x28x28 ->64", 8, 256, 28, 28, 64, 1, 1, 0},
      {"3x3/2 8x64x56x56 ->128", 8, 64, 56, 56, 128, 3, 2, 1},
  };
  std::printf("fusejit conv2d benchmarks (%d cores, f32, NCHW); ratios > 1 favour fusejit\n",
              omp_get_num_procs());
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    openblas_set_num_threads(threads);
    std::printf("\n%d thread(s)\n", threads);
    for (const Layer &l : layers)
      if (only.empty() || std::string(l.name).find(only) != std::string::npos) layer_case(l);
  }
  std::filesystem::remove_all(cache);
  return 0;
}
