// Matmul benchmarks. fusejit's GEMM kernels beside OpenBLAS (sgemm/dgemm)
// and Eigen from the same run, on 1 and 2 threads: square sizes, skinny
// shapes, a fused relu(x @ w + b) against OpenBLAS plus a separate
// bias+relu pass, and the seed's zip-then-reduce form against `@` (the same
// kernel, the same time, none of the unfused n*k*m intermediate).
//
//   matmul_bench [--max N] [--shape MxKxN]   (--shape: that f32 case alone)
#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "codegen/compile_kernel.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "runtime/parallel_for.h"
#include "runtime/random.h"

extern "C" void openblas_set_num_threads(int);

using namespace fusejit;
using namespace fusejit::bench;

namespace {

NodeRef leaf(const Buffer &b) {
  NodeRef n = ir::input(b.dtype(), b.shape());
  attach_buffer(*n, b);
  return n;
}

double run_seconds(const NodeRef &root, int reps) {
  PreparedGraph prepared = prepare({root}, Numerics::Fast);
  std::vector<Buffer> leaves = leaf_values(prepared.inputs, {});
  return time_min(reps, [&] {
    std::vector<Buffer> out = run_compiled(*prepared.compiled, leaves);
    keep(out[0].raw());
  });
}

template <typename T>
using RowMajor = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

void blas_gemm(const Buffer &a, const Buffer &b, Buffer &c, int64_t m, int64_t k, int64_t n) {
  if (a.dtype() == DType::F32)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f,
                a.data<float>(), int(k), b.data<float>(), int(n), 0.0f, c.data<float>(), int(n));
  else
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0,
                a.data<double>(), int(k), b.data<double>(), int(n), 0.0, c.data<double>(), int(n));
}

template <typename T>
void eigen_gemm(const Buffer &a, const Buffer &b, Buffer &c, int64_t m, int64_t k, int64_t n) {
  RowMajor<T> A(const_cast<T *>(a.data<T>()), m, k), B(const_cast<T *>(b.data<T>()), k, n),
      C(c.data<T>(), m, n);
  C.noalias() = A * B;
}

int reps_for(double flops) { return std::clamp(int(2e10 / std::max(flops, 1.0)), 3, 50); }

// One shape, fusejit vs OpenBLAS vs Eigen, on the current thread count.
void gemm_case(DType t, int64_t m, int64_t k, int64_t n) {
  Generator g(1);
  Buffer a = random_uniform(t, {m, k}, g, -1, 1), b = random_uniform(t, {k, n}, g, -1, 1),
         c(t, {m, n});
  double flops = 2.0 * m * n * k;
  int reps = reps_for(flops);
  double ours = run_seconds(ir::matmul(leaf(a), leaf(b)), reps);
  double blas = time_min(reps, [&] { blas_gemm(a, b, c, m, k, n); });
  double eigen = time_min(reps, [&] {
    if (t == DType::F32)
      eigen_gemm<float>(a, b, c, m, k, n);
    else
      eigen_gemm<double>(a, b, c, m, k, n);
  });
  std::string name = std::string(dtype_name(t)) + " " + std::to_string(m) + "x" +
                     std::to_string(k) + "x" + std::to_string(n);
  report(name, flops / ours / 1e9, "GFLOP/s",
         t == DType::F32 ? "vs OpenBLAS sgemm" : "vs OpenBLAS dgemm", flops / blas / 1e9);
  report(name, flops / ours / 1e9, "GFLOP/s", "vs Eigen", flops / eigen / 1e9);
}

// relu(x @ w + b): one fused kernel against sgemm and a separate pass.
void epilogue_case(int64_t m, int64_t k, int64_t n, int threads) {
  Generator g(2);
  Buffer x = random_uniform(DType::F32, {m, k}, g, -1, 1),
         w = random_uniform(DType::F32, {k, n}, g, -1, 1),
         bias = random_uniform(DType::F32, {n}, g, -1, 1), c(DType::F32, {m, n});
  double flops = 2.0 * m * n * k;
  int reps = reps_for(flops);
  NodeRef y = ir::unary(Op::Relu, ir::binary(Op::Add, ir::matmul(leaf(x), leaf(w)), leaf(bias)));
  double ours = run_seconds(y, reps);
  float *pc = c.data<float>();
  const float *pb = bias.data<float>();
  double blas = time_min(reps, [&] {
    blas_gemm(x, w, c, m, k, n);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) pc[i * n + j] = std::max(pc[i * n + j] + pb[j], 0.0f);
  });
  report("relu(x@w+b) " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n),
         flops / ours / 1e9, "GFLOP/s", "vs sgemm + bias/relu", flops / blas / 1e9);
}

// sum(a.view(m,k,1) * b.view(1,k,n), 1) against a @ b.
void seed_case(int64_t m, int64_t k, int64_t n) {
  Generator g(3);
  Buffer a = random_uniform(DType::F32, {m, k}, g, -1, 1),
         b = random_uniform(DType::F32, {k, n}, g, -1, 1);
  NodeRef na = leaf(a), nb = leaf(b);
  NodeRef zipped = ir::reduce(
      Op::Sum, ir::binary(Op::Mul, ir::reshape(na, {m, k, 1}), ir::reshape(nb, {1, k, n})), {1});
  NodeRef direct = ir::matmul(na, nb);
  PreparedGraph pz = prepare({zipped}, Numerics::Fast), pd = prepare({direct}, Numerics::Fast);
  const Plan &plan = pz.compiled->plan;
  bool same = plan.kernels.size() == 1 && pd.compiled->plan.kernels.size() == 1 &&
              kernel_cache_key(plan.kernels[0], Numerics::Fast) ==
                  kernel_cache_key(pd.compiled->plan.kernels[0], Numerics::Fast);
  double flops = 2.0 * m * n * k;
  int reps = reps_for(flops);
  double tz = run_seconds(zipped, reps), td = run_seconds(direct, reps);
  std::string shape = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
  report("zip-then-reduce " + shape, flops / tz / 1e9, "GFLOP/s", "vs a @ b", flops / td / 1e9);
  std::printf("  %-34s %s (%zu kernel(s))\n", "  same kernel as a @ b", same ? "yes" : "NO",
              plan.kernels.size());
  std::printf("  %-34s %10.3f MB | unfused %10.3f MB\n", "  intermediate bytes",
              plan.intermediate_bytes / 1e6, plan.unfused_intermediate_bytes / 1e6);
}

}  // namespace

int main(int argc, char **argv) {
  // fusejit's OpenMP threads spin after each kernel by default and starve
  // OpenBLAS's own threads (measured: 2-thread sgemm at half speed), so
  // everything runs with passive waiting; libgomp reads it only at startup.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
  }
  int64_t max_size = 2048;
  long long sm = 0, sk = 0, sn = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--max")) max_size = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--shape")) std::sscanf(argv[i + 1], "%lldx%lldx%lld", &sm, &sk, &sn);
  }
  std::string cache =
      std::filesystem::temp_directory_path() / ("fusejit-mmbench-" + std::to_string(getpid()));
  setenv("FUSEJIT_CACHE_DIR", cache.c_str(), 1);
  std::printf(
      "fusejit matmul benchmarks (%d cores, OMP_WAIT_POLICY=%s); shapes M x K x N; ratios > 1 "
      "favour fusejit\n",
      omp_get_num_procs(), std::getenv("OMP_WAIT_POLICY"));
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    openblas_set_num_threads(threads);
    Eigen::setNbThreads(threads);
    std::printf("\n%d thread(s)\n", threads);
    if (sm > 0) {
      gemm_case(DType::F32, sm, sk, sn);
      continue;
    }
    for (int64_t s = 64; s <= max_size; s *= 2) gemm_case(DType::F32, s, s, s);
    for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{4096, 64, 4096},
                           {64, 4096, 4096},
                           {4096, 4096, 64}})
      gemm_case(DType::F32, m, k, n);
    for (int64_t s = 256; s <= std::min<int64_t>(max_size, 1024); s *= 2)
      gemm_case(DType::F64, s, s, s);
    epilogue_case(1024, 1024, 1024, threads);
    epilogue_case(4096, 256, 1024, threads);
    seed_case(512, 512, 512);
  }
  std::filesystem::remove_all(cache);
  return 0;
}
