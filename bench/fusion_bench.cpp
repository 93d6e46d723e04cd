// Fusion benchmarks. Each fused graph is timed beside its anchors from the
// same run: a STREAM-style triad (what the memory system gives), Eigen's
// fused expression (what a C++ user would write), and the same graph with
// fusion off (one kernel per op, as eager execution runs it). Also: a cat
// of four tensors fused into its consumer, the JIT's compile latency (cold,
// memory cache, disk cache) and the dispatch overhead of a cached plan.
//
//   fusion_bench [--elements N] [--reps R] [--only views|argmax|embedding]
#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <vector>

#include "bench/bench_util.h"
#include "codegen/compile_kernel.h"
#include "codegen/jit_engine.h"
#include "engine/autodiff.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "engine/tensor.h"
#include "ir/graph.h"
#include "runtime/parallel_for.h"
#include "runtime/random.h"

using namespace fusejit;
using namespace fusejit::bench;
using ArrayMap = Eigen::Map<Eigen::ArrayXf>;

namespace {

NodeRef leaf(const Buffer &b) {
  NodeRef n = ir::input(b.dtype(), b.shape());
  attach_buffer(*n, b);
  return n;
}

double run_graph_seconds(const NodeRef &root, bool fusion, int reps) {
  PreparedGraph prepared = prepare({root}, Numerics::Fast, FuseOptions{.fusion = fusion});
  std::vector<Buffer> leaves = leaf_values(prepared.inputs, {});
  return time_min(reps, [&] {
    std::vector<Buffer> out = run_compiled(*prepared.compiled, leaves);
    keep(out[0].raw());
  });
}

// Runs an Eigen expression over [0, n) split into `threads` contiguous parts.
void eigen_parallel(int64_t n, int threads, const std::function<void(int64_t, int64_t)> &part) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) part(n * t / threads, n * (t + 1) / threads - n * t / threads);
}

// The bandwidth anchor: y = b + 3c over n floats on `threads` threads, in
// GB/s, printed as its own line.
double triad_anchor(int64_t n, int reps, int threads, const float *pb, const float *pc, float *py) {
  double triad = time_min(reps, [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) py[i] = pb[i] + 3.0f * pc[i];
  });
  double gbs = 12.0 * n / triad / 1e9;
  std::printf("  %-34s %10.3f GB/s   (2 loads + 1 store per element)\n", "triad anchor", gbs);
  return gbs;
}

void elementwise(int64_t n, int reps) {
  Generator g(1);
  Buffer a = random_uniform(DType::F32, {n}, g, -1, 1),
         b = random_uniform(DType::F32, {n}, g, -1, 1),
         c = random_uniform(DType::F32, {n}, g, -1, 1), y(DType::F32, {n});
  NodeRef na = leaf(a), nb = leaf(b), nc = leaf(c);
  auto op = [](Op o, NodeRef x, NodeRef z) { return ir::binary(o, std::move(x), std::move(z)); };
  NodeRef relu_axpb = ir::unary(Op::Relu, op(Op::Add, op(Op::Mul, na, nb), nc));
  // Eight ops: ((a*b + c)*a - b) / (c*c + 1), relu.
  NodeRef one = ir::constant(1.0, DType::F32);
  NodeRef chain = ir::unary(
      Op::Relu, op(Op::Div, op(Op::Sub, op(Op::Mul, op(Op::Add, op(Op::Mul, na, nb), nc), na), nb),
                   op(Op::Add, op(Op::Mul, nc, nc), one)));
  float *pa = a.data<float>(), *pb = b.data<float>(), *pc = c.data<float>(), *py = y.data<float>();

  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::printf("\nelementwise over %lld f32, %d thread(s)\n", static_cast<long long>(n), threads);
    double triad_gbs = triad_anchor(n, reps, threads, pb, pc, py);

    struct Case {
      const char *name;
      NodeRef root;
      std::function<void(int64_t, int64_t)> eigen;
    };
    Case cases[] = {
        {"relu(a*b + c)", relu_axpb,
         [&](int64_t s, int64_t len) {
           ArrayMap(py + s, len) =
               (ArrayMap(pa + s, len) * ArrayMap(pb + s, len) + ArrayMap(pc + s, len)).max(0.f);
         }},
        {"8-op chain", chain,
         [&](int64_t s, int64_t len) {
           ArrayMap A(pa + s, len), B(pb + s, len), C(pc + s, len);
           ArrayMap(py + s, len) = (((A * B + C) * A - B) / (C * C + 1.f)).max(0.f);
         }},
    };
    for (const Case &c : cases) {
      double fused = run_graph_seconds(c.root, true, reps);
      double unfused = run_graph_seconds(c.root, false, reps);
      double eigen = time_min(reps, [&] { eigen_parallel(n, threads, c.eigen); });
      double bytes = 16.0 * n;  // three inputs, one output
      std::string name = std::string(c.name) + " fused";
      report(name, bytes / fused / 1e9, "GB/s", "vs triad", triad_gbs);
      report(name, bytes / fused / 1e9, "GB/s", "vs Eigen", bytes / eigen / 1e9);
      report(name, bytes / fused / 1e9, "GB/s", "vs fusion off", bytes / unfused / 1e9);
    }
  }
}

void reductions(int64_t rows, int64_t cols, int reps) {
  Generator g(2);
  Buffer x = random_uniform(DType::F32, {rows, cols}, g, -1, 1);
  NodeRef nx = leaf(x);
  using RowMajor =
      Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  RowMajor m(x.data<float>(), rows, cols);
  Eigen::VectorXf out_rows(rows);
  Eigen::RowVectorXf out_cols(cols);
  double bytes = 4.0 * rows * cols;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::printf("\nreductions of f32[%lld, %lld], %d thread(s) (Eigen: 1 thread)\n",
                static_cast<long long>(rows), static_cast<long long>(cols), threads);
    struct Case {
      const char *name;
      NodeRef root;
      std::function<void()> eigen;
    };
    Case cases[] = {
        {"sum(x, 1)", ir::reduce(Op::Sum, nx, {1}), [&] { out_rows = m.rowwise().sum(); }},
        {"sum(x, 0)", ir::reduce(Op::Sum, nx, {0}), [&] { out_cols = m.colwise().sum(); }},
        {"sum(x)", ir::reduce(Op::Sum, nx, {}),
         [&] {
           volatile float s = m.sum();
           (void)s;
         }},
        {"max(x, 1)", ir::reduce(Op::Max, nx, {1}), [&] { out_rows = m.rowwise().maxCoeff(); }},
    };
    for (const Case &c : cases) {
      double fused = run_graph_seconds(c.root, true, reps);
      double eigen = time_min(reps, c.eigen);
      report(c.name, bytes / fused / 1e9, "GB/s", "vs Eigen", bytes / eigen / 1e9);
    }
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void compile_latency() {
  std::printf("\nJIT compile latency per kernel (median of 8 kernels)\n");
  Generator g(3);
  NodeRef a = leaf(random_uniform(DType::F32, {1024}, g)),
          b = leaf(random_uniform(DType::F32, {1024}, g));
  std::vector<NodeRef> graphs;
  for (int i = 0; i < 8; ++i)
    graphs.push_back(ir::unary(Op::Relu, ir::binary(Op::Add, ir::binary(Op::Mul, a, b),
                                                    ir::constant(1.0 + i, DType::F32))));
  auto time_prepare = [&](bool clear) {
    std::vector<double> ms;
    for (const NodeRef &root : graphs) {
      if (clear) clear_plan_cache();
      auto start = std::chrono::steady_clock::now();
      prepare({root}, Numerics::Fast);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    return median(ms);
  };
  double cold = time_prepare(false);
  double memory = time_prepare(true);
  // A new engine over the same cache directory: what a second process sees.
  JitEngine fresh(JitOptions::from_env());
  std::vector<double> disk;
  for (const NodeRef &root : graphs) {
    const Kernel &k = prepare({root}, Numerics::Fast).compiled->plan.kernels[0];
    auto start = std::chrono::steady_clock::now();
    compile_kernel(fresh, k, Numerics::Fast);
    disk.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  // A memory-cache hit of one kernel, beside its floor: computing the key
  // that finds it. Whatever a hit costs above the key is work it need not do.
  std::vector<double> hit_us, key_us;
  for (const NodeRef &root : graphs) {
    const Kernel &k = prepare({root}, Numerics::Fast).compiled->plan.kernels[0];
    hit_us.push_back(1e6 * time_min(200, [&] {
                       keep(reinterpret_cast<const void *>(compile_kernel(k, Numerics::Fast).fn));
                     }));
    key_us.push_back(1e6 *
                     time_min(200, [&] { keep(kernel_cache_key(k, Numerics::Fast).data()); }));
  }
  std::printf("  %-34s %10.3f ms       (target <= 10 ms)\n", "cold (LLVM O3 + codegen)", cold);
  std::printf("  %-34s %10.3f ms       (plan rebuilt, kernel from memory)\n", "memory cache",
              memory);
  std::printf("  %-34s %10.3f ms       (target <= 1 ms)\n", "disk cache (new engine)",
              median(disk));
  report("memory cache hit, one kernel", median(hit_us), "us", "vs its cache key alone",
         median(key_us), false);
}

// A two-layer MLP's training step (forward, loss, the four gradients) as
// one plan, compiled cold on 1 and on `threads` threads: the time before a
// training loop's first step. Each run uses a batch size no earlier run
// used, so every kernel is compiled, none found in a cache.
void plan_compile_wall(int threads) {
  auto step_graph = [](int64_t batch, Generator &g) {
    NodeRef x = leaf(random_uniform(DType::F32, {batch, 784}, g));
    NodeRef t = leaf(random_uniform(DType::F32, {batch, 10}, g));
    NodeRef w1 = leaf(random_uniform(DType::F32, {784, 128}, g));
    NodeRef b1 = leaf(random_uniform(DType::F32, {128}, g));
    NodeRef w2 = leaf(random_uniform(DType::F32, {128, 10}, g));
    NodeRef b2 = leaf(random_uniform(DType::F32, {10}, g));
    NodeRef h = ir::unary(Op::Relu, ir::binary(Op::Add, ir::matmul(x, w1), b1));
    NodeRef d = ir::binary(Op::Sub, ir::binary(Op::Add, ir::matmul(h, w2), b2), t);
    NodeRef loss = ir::reduce(Op::Mean, ir::binary(Op::Mul, d, d), {0, 1}, false);
    std::vector<NodeRef> roots = gradients(loss, {w1, b1, w2, b2});
    roots.insert(roots.begin(), loss);
    return roots;
  };
  Generator g(5);
  int64_t batch = 40;
  size_t kernels = 0;
  auto wall_ms = [&](int use_threads) {
    std::vector<double> ms;
    for (int rep = 0; rep < 5; ++rep) {
      std::vector<NodeRef> roots = step_graph(++batch, g);
      Options options = default_options();
      options.threads = use_threads;
      auto start = std::chrono::steady_clock::now();
      kernels = prepare(roots, options).compiled->kernels.size();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    return median(ms);
  };
  double one = wall_ms(1), many = wall_ms(threads);
  std::printf("\nMLP training step plan, cold compile wall time (median of 5)\n");
  char what[64];
  std::snprintf(what, sizeof what, "%zu kernels, %d threads", kernels, threads);
  report(what, many, "ms", "vs 1 thread", one, false);
}

void dispatch_overhead(int reps) {
  std::printf("\ndispatch of a cached plan (graph rebuilt each time, 8 elements)\n");
  std::vector<float> data(8, 0.5f);
  auto step = [&] {
    Tensor x = Tensor::from_vector(data, {8});
    std::vector<float> y = ((x * 2.0 + 1.0).relu()).to_vector<float>();
    keep(y.data());
  };
  double per_step = time_min(reps * 100, step);
  Tensor x = Tensor::from_vector(data, {8});
  PreparedGraph p = prepare({((x * 2.0 + 1.0).relu()).node()}, current_numerics());
  std::vector<Buffer> leaves = leaf_values(p.inputs, {});
  Buffer out(DType::F32, {8});
  void *ptrs[] = {leaves[0].raw(), out.raw()};
  CompiledKernel k =
      compile_kernel(p.compiled->plan.kernels[0], current_numerics());  // a memory hit
  double direct = time_min(reps * 100, [&] { k.fn(ptrs, 0, k.parallel_extent); });
  std::printf("  %-34s %10.3f us       (target <= 5 us per kernel)\n", "build + realize, 1 kernel",
              per_step * 1e6);
  std::printf("  %-34s %10.3f us       (anchor: the compiled function alone)\n",
              "direct kernel call", direct * 1e6);
}

}  // namespace

// cat([a, b, c, d], 0) * 2 over four 4M-float tensors: one kernel reading
// each source under its range, against the triad over as many elements.
void views(int reps) {
  const int64_t part = 4 << 20, n = 4 * part;
  Generator g(2);
  std::vector<Buffer> parts;
  std::vector<NodeRef> nodes;
  for (int i = 0; i < 4; ++i) {
    parts.push_back(random_uniform(DType::F32, {part}, g, -1, 1));
    nodes.push_back(leaf(parts.back()));
  }
  Buffer b = random_uniform(DType::F32, {n}, g, -1, 1),
         c = random_uniform(DType::F32, {n}, g, -1, 1), y(DType::F32, {n});
  float *pb = b.data<float>(), *pc = c.data<float>(), *py = y.data<float>();
  NodeRef root = ir::binary(Op::Mul, ir::cat(nodes, 0), ir::constant(2.0, DType::F32));
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::printf("\nviews over %lld f32, %d thread(s)\n", static_cast<long long>(n), threads);
    double triad_gbs = triad_anchor(n, reps, threads, pb, pc, py);
    double fused = run_graph_seconds(root, true, reps);
    report("cat of four 4M * 2 fused", 8.0 * n / fused / 1e9, "GB/s", "vs triad", triad_gbs);
  }
}

// argmax(x, 1) over 4096 x 4096 f32 (a max, then the first index that
// holds it: two reductions over the rows), against Eigen's row-wise
// maxCoeff(&index), what a C++ user would write. One thread: Eigen's loop
// is serial.
void argmax(int reps) {
  const int64_t rows = 4096, cols = 4096;
  Generator g(3);
  Buffer x = random_uniform(DType::F32, {rows, cols}, g, -1, 1);
  NodeRef root = Tensor(leaf(x)).argmax(1).node();
  set_num_threads(1);
  std::printf("\nargmax(x, 1) over f32[%lld, %lld], 1 thread\n", static_cast<long long>(rows),
              static_cast<long long>(cols));
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMajor> m(x.data<float>(), rows, cols);
  std::vector<int64_t> index(static_cast<size_t>(rows));
  double eigen = time_min(reps, [&] {
    for (int64_t r = 0; r < rows; ++r) {
      Eigen::Index at = 0;
      m.row(r).maxCoeff(&at);
      index[static_cast<size_t>(r)] = at;
    }
    keep(index.data());
  });
  double fused = run_graph_seconds(root, true, reps);
  double bytes = 4.0 * static_cast<double>(rows * cols);
  report("argmax(x, 1)", bytes / fused / 1e9, "GB/s", "vs Eigen maxCoeff", bytes / eigen / 1e9);
}

// An embedding lookup, index_select(table, 0, ids) * s, of 65,536 rows of a
// 50,000 x 512 f32 table: one kernel whose loads take their row from the
// ids (bounds-checked), against the loop a C++ user would write, which
// checks nothing. Both write a fresh output: the anchor allocates its own.
void embedding(int reps) {
  const int64_t rows = 50000, width = 512, lookups = 65536;
  Generator g(4);
  Buffer table = random_uniform(DType::F32, {rows, width}, g, -1, 1);
  std::vector<int64_t> id_values(static_cast<size_t>(lookups));
  for (int64_t &v : id_values) v = static_cast<int64_t>(g.uniform() * static_cast<double>(rows));
  Buffer ids = Buffer::from_vector<int64_t>(id_values, {lookups});
  NodeRef root = ir::binary(Op::Mul, ir::index_select(leaf(table), 0, leaf(ids)),
                            ir::constant(0.5, DType::F32));
  const float *pt = table.data<float>();
  double bytes = 8.0 * static_cast<double>(lookups * width) + 8.0 * static_cast<double>(lookups);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::printf("\nembedding lookup: %lld ids into f32[%lld, %lld], * 0.5, %d thread(s)\n",
                static_cast<long long>(lookups), static_cast<long long>(rows),
                static_cast<long long>(width), threads);
    double loop = time_min(reps, [&] {
      Buffer out(DType::F32, {lookups, width});
      float *po = out.data<float>();
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t i = 0; i < lookups; ++i) {
        const float *row = pt + id_values[static_cast<size_t>(i)] * width;
        float *o = po + i * width;
        for (int64_t j = 0; j < width; ++j) o[j] = row[j] * 0.5f;
      }
      keep(po);
    });
    double fused = run_graph_seconds(root, true, reps);
    report("index_select(table, 0, ids) * 0.5", bytes / fused / 1e9, "GB/s", "vs C++ loop",
           bytes / loop / 1e9);
  }
}

static int run(int argc, char **argv) {
  int64_t n = 16 << 20;
  int reps = 10;
  const char *only = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--elements")) n = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  // A fresh disk cache, so "cold" is cold and the disk numbers are ours.
  std::string cache =
      std::filesystem::temp_directory_path() / ("fusejit-bench-" + std::to_string(getpid()));
  setenv("FUSEJIT_CACHE_DIR", cache.c_str(), 1);
  std::printf("fusejit fusion benchmarks (%d cores); ratios > 1 favour fusejit\n",
              omp_get_num_procs());
  if (only && !std::strcmp(only, "views")) {
    views(reps);
  } else if (only && !std::strcmp(only, "argmax")) {
    argmax(reps);
  } else if (only && !std::strcmp(only, "embedding")) {
    embedding(reps);
  } else {
    elementwise(n, reps);
    reductions(4096, 4096, reps);
    views(reps);
    argmax(reps);
    embedding(reps);
    compile_latency();
    plan_compile_wall(num_threads());
    dispatch_overhead(reps);
  }
  std::filesystem::remove_all(cache);
  return 0;
}

int main(int argc, char **argv) {
  // A failed run (a bad flag, a compile error) says why instead of aborting.
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "fusion_bench: %s\n", e.what());
    return 1;
  }
}
