// The GEMM lowering of matmul kernels against the reference interpreter:
// every extent in {0, 1, 2, 3, 17, 33, 64, 129, 257} in each of M, N and K
// (packed and small paths, edge tiles), batches with broadcasting,
// transposed operands, f32 and f64, prologues and epilogues, the seed's
// zip-then-reduce form, Fast and Strict, and chunked runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "codegen/coalesce_dims.h"
#include "codegen/compile_kernel.h"
#include "codegen/gemm_blocking.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::input;
using ir::unary;

// Runs each kernel of `plan` over [0, parallel_extent) in `chunks` calls.
KernelRunner chunked_runner(const Plan &plan, Numerics numerics, int chunks) {
  return [&plan, numerics, chunks](size_t index, const std::vector<const Buffer *> &inputs,
                                   const std::vector<Buffer *> &outputs) {
    CompiledKernel c = compile_kernel(plan.kernels[index], numerics);
    std::vector<void *> buffers;
    for (const Buffer *b : inputs) buffers.push_back(const_cast<void *>(b->raw()));
    for (Buffer *b : outputs) buffers.push_back(b->raw());
    int64_t n = c.parallel_extent;
    for (int i = 0; i < chunks; ++i) c.fn(buffers.data(), n * i / chunks, n * (i + 1) / chunks);
  };
}

// The graph as the pipeline sees it: matmuls recognized, then fused.
Plan plan_of(const std::vector<NodeRef> &roots) {
  return fuse(optimize_graph(roots, Numerics::Fast));
}

int count_matmul_kernels(const Plan &plan) {
  int n = 0;
  for (const Kernel &k : plan.kernels) n += k.kind() == KernelKind::Matmul;
  return n;
}

int64_t reduction_length(const Plan &plan) {
  int64_t len = 1;
  for (const Kernel &k : plan.kernels)
    if (k.num_reduce) len = std::max(len, k.domain.back());
  return len;
}

void expect_close(const Buffer &got, const Buffer &want, double tol, const std::string &what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = got.get(i), b = want.get(i);
    ASSERT_NEAR(a, b, tol * (1 + std::fabs(b)))
        << what << " element " << i << " of " << want.numel();
  }
}

// Compiles `roots` (which must make `matmuls` matmul kernels) and compares
// with the interpreter in both numerics, in one run and in three chunks
// (which must agree bit for bit: the tiles do not depend on the split).
void expect_gemm_matches(const std::vector<NodeRef> &roots, int matmuls = 1) {
  Plan plan = plan_of(roots);
  ASSERT_EQ(count_matmul_kernels(plan), matmuls);
  Generator g(11);
  std::vector<Buffer> inputs;
  Bindings bindings;
  for (const Node *n : plan.input_nodes) {
    inputs.push_back(random_uniform(n->dtype, n->shape, g, -1, 1));
    bindings.emplace(n, inputs.back());
  }
  std::vector<Buffer> want = interpret(roots, bindings);
  double growth = std::sqrt(static_cast<double>(reduction_length(plan)));
  for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
    std::vector<Buffer> whole = execute_plan(plan, inputs, chunked_runner(plan, numerics, 1));
    std::vector<Buffer> split = execute_plan(plan, inputs, chunked_runner(plan, numerics, 3));
    for (size_t r = 0; r < want.size(); ++r) {
      double tol = (want[r].dtype() == DType::F32 ? 1e-5 : 1e-13) * (1 + growth);
      std::string what = std::string(numerics_name(numerics)) + " " +
                         type_str(want[r].dtype(), want[r].shape()) + "\n" +
                         print_kernel(plan.kernels.back());
      expect_close(whole[r], want[r], tol, what);
      EXPECT_EQ(std::memcmp(whole[r].raw(), split[r].raw(), whole[r].bytes()), 0)
          << what << " chunked";
    }
  }
}

const std::vector<int64_t> kExtents = {0, 1, 2, 3, 17, 33, 64, 129, 257};
const std::vector<DType> kDTypes = {DType::F32, DType::F64};

// Each extent once in each dim, against a rotating choice of the others.
TEST(Gemm, EveryExtentInEveryDim) {
  for (DType t : kDTypes)
    for (size_t i = 0; i < kExtents.size(); ++i) {
      int64_t e = kExtents[i], o1 = kExtents[(i + 4) % kExtents.size()],
              o2 = kExtents[(i + 7) % kExtents.size()];
      for (auto [m, n, k] : {std::tuple{e, o1, o2}, std::tuple{o2, e, o1}, std::tuple{o1, o2, e}}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " M " + std::to_string(m) + " N " +
                     std::to_string(n) + " K " + std::to_string(k));
        expect_gemm_matches({ir::matmul(input(t, {m, k}), input(t, {k, n}))});
      }
    }
}

// Large enough for several k blocks, m blocks and n panels on any host.
TEST(Gemm, SquareAndRaggedPackedSizes) {
  for (DType t : kDTypes)
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{257, 257, 257},
                           {129, 33, 600},
                           {64, 300, 129},
                           {17, 1100, 64},
                           {600, 17, 33}}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " M " + std::to_string(m) + " N " +
                   std::to_string(n) + " K " + std::to_string(k));
      expect_gemm_matches({ir::matmul(input(t, {m, k}), input(t, {k, n}))});
    }
}

TEST(Gemm, TransposedOperandsAreStrides) {
  for (DType t : kDTypes)
    for (int64_t e : {3, 33, 129}) {
      NodeRef at = input(t, {e + 64, e}), bt = input(t, {17, e + 64});
      expect_gemm_matches({ir::matmul(ir::transpose(at), ir::transpose(bt))});
      expect_gemm_matches({ir::matmul(input(t, {e, 257}), ir::transpose(input(t, {65, 257})))});
    }
}

// Negative strides: a lane's offset is negative, so its address
// arithmetic must not be `nuw` (it was: a @ flip(b, [1]) read out of
// bounds and came out wrong, as did the input gradient of every
// conv_transpose2d, whose kernel is flipped).
TEST(Gemm, FlippedOperandsAreNegativeStrides) {
  for (DType t : kDTypes)
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{12, 9, 2},
                           {64, 64, 64},
                           {33, 129, 17},
                           {257, 17, 300}}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " M " + std::to_string(m) + " N " +
                   std::to_string(n) + " K " + std::to_string(k));
      NodeRef a = input(t, {m, k}), b = input(t, {k, n});
      expect_gemm_matches({ir::matmul(a, ir::flip(b, {1}))});
      expect_gemm_matches({ir::matmul(ir::flip(a, {0, 1}), ir::flip(b, {0}))});
      expect_gemm_matches({ir::matmul(a, ir::flip(ir::transpose(input(t, {n, k})), {1}))});
    }
}

TEST(Gemm, BatchedWithBroadcastBatchDims) {
  for (DType t : kDTypes) {
    expect_gemm_matches({ir::matmul(input(t, {3, 1, 33, 64}), input(t, {2, 64, 17}))});
    expect_gemm_matches({ir::matmul(input(t, {2, 129, 33}), input(t, {33, 65}))});
    expect_gemm_matches({ir::matmul(input(t, {40, 20}), input(t, {4, 20, 3}))});
    NodeRef b = input(t, {2, 70, 64});
    expect_gemm_matches({ir::matmul(input(t, {2, 1, 129, 64}), ir::transpose(b))});
  }
}

TEST(Gemm, PrologueIsAppliedWhilePacking) {
  for (DType t : kDTypes)
    for (int64_t e : {2, 33, 129}) {
      NodeRef x = input(t, {e, 70}), w = input(t, {70, 65});
      expect_gemm_matches({ir::matmul(unary(Op::Relu, x), w)});
      // Both sides, a broadcast operand of the prologue, and tanh (a libm call).
      NodeRef s = input(t, {70});
      expect_gemm_matches({ir::matmul(binary(Op::Mul, unary(Op::Exp, x), s), unary(Op::Tanh, w))});
    }
}

TEST(Gemm, EpilogueIsAppliedToTheTiles) {
  for (DType t : kDTypes)
    for (int64_t e : {3, 64, 129}) {
      NodeRef x = input(t, {e, 100}), w = input(t, {100, 33}), b = input(t, {33});
      expect_gemm_matches({unary(Op::Relu, binary(Op::Add, ir::matmul(x, w), b))});
      // A longer chain with a bias per row, a scalar and tanh.
      NodeRef r = input(t, {e, 1});
      NodeRef y =
          unary(Op::Tanh, binary(Op::Mul, binary(Op::Sub, ir::matmul(unary(Op::Relu, x), w), r),
                                 ir::constant(0.5, t)));
      expect_gemm_matches({y});
    }
}

TEST(Gemm, SeedZipThenReduceForms) {
  for (DType t : kDTypes) {
    NodeRef a = input(t, {2, 3, 1}), b = input(t, {3, 2});
    expect_gemm_matches(
        {binary(Op::Add, unary(Op::Relu, ir::reduce(Op::Sum, binary(Op::Mul, a, b), {1})),
                ir::constant(0.5, t))});
    NodeRef p = input(t, {129, 65}), q = input(t, {65, 33});
    expect_gemm_matches({ir::reduce(
        Op::Sum, binary(Op::Mul, ir::reshape(p, {129, 65, 1}), ir::reshape(q, {1, 65, 33})), {1})});
    NodeRef p4 = input(t, {2, 33, 17}), q4 = input(t, {2, 17, 40});
    expect_gemm_matches({ir::reduce(
        Op::Sum, binary(Op::Mul, ir::reshape(p4, {2, 33, 17, 1}), ir::reshape(q4, {2, 1, 17, 40})),
        {2})});
  }
}

// The zip-then-reduce form and `@` compile to the same kernel.
TEST(Gemm, ZipThenReduceIsTheSameKernelAsMatmul) {
  NodeRef a = input(DType::F32, {129, 65}), b = input(DType::F32, {65, 33});
  Plan zipped = plan_of({ir::reduce(
      Op::Sum, binary(Op::Mul, ir::reshape(a, {129, 65, 1}), ir::reshape(b, {1, 65, 33})), {1})});
  Plan direct = plan_of({ir::matmul(a, b)});
  ASSERT_EQ(zipped.kernels.size(), 1u);
  ASSERT_EQ(direct.kernels.size(), 1u);
  EXPECT_EQ(kernel_cache_key(zipped.kernels[0], Numerics::Fast),
            kernel_cache_key(direct.kernels[0], Numerics::Fast));
  EXPECT_EQ(zipped.intermediate_bytes, 0);
}

// Strict sums each k block of an output element's terms in order from +0.0
// without contraction, then the block sums in order (lower_gemm.cpp), so it
// equals that loop bit for bit.
TEST(Gemm, StrictEqualsTheBlockedLoopBitForBit) {
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{3, 5, 7}, {129, 65, 600}}) {
    NodeRef a = input(DType::F32, {m, k}), b = input(DType::F32, {k, n});
    Plan plan = plan_of({ir::matmul(a, b)});
    Generator g(5);
    Buffer av = random_uniform(DType::F32, {m, k}, g, -1, 1),
           bv = random_uniform(DType::F32, {k, n}, g, -1, 1);
    std::vector<Buffer> ins;
    for (const Node *node : plan.input_nodes) ins.push_back(node == a.get() ? av : bv);
    Buffer got = execute_plan(plan, ins, chunked_runner(plan, Numerics::Strict, 2))[0];
    const float *pa = av.data<float>(), *pb = bv.data<float>();
    int64_t kc = gemm_blocking(plan.kernels.at(0)).kc;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        volatile float acc = 0;  // volatile: no reordering, no contraction
        for (int64_t p0 = 0; p0 < k; p0 += kc) {
          volatile float block = 0;
          for (int64_t p = p0; p < std::min(k, p0 + kc); ++p) {
            volatile float prod = pa[i * k + p] * pb[p * n + j];
            block = block + prod;
          }
          acc = p0 == 0 ? block : acc + block;
        }
        ASSERT_EQ(got.data<float>()[i * n + j], acc) << i << ", " << j;
      }
  }
}

// The m/n/k structure survives dim coalescing, even with unit extents.
TEST(Gemm, CoalescingKeepsMatmulDomains) {
  Plan plan = plan_of({ir::matmul(input(DType::F32, {1, 1, 5}), input(DType::F32, {5, 1}))});
  ASSERT_EQ(plan.kernels.size(), 1u);
  EXPECT_EQ(coalesce_dims(plan.kernels[0]).kernel.domain, plan.kernels[0].domain);
}

TEST(Gemm, BlockingFollowsTheVectorWidth) {
  Plan plan =
      plan_of({ir::matmul(input(DType::F32, {1024, 1024}), input(DType::F32, {1024, 1024}))});
  const Kernel &k = plan.kernels.at(0);
  GemmBlocking avx2 = gemm_blocking(k, "znver3 +avx,+avx2,+fma,+sse2");
  EXPECT_EQ(avx2.lanes, 8);
  EXPECT_EQ(avx2.mr, 6);
  EXPECT_EQ(avx2.nr, 16);
  EXPECT_TRUE(avx2.packed);
  EXPECT_EQ(avx2.kc * avx2.nr * 4, 16 << 10) << "the B micro-panel fills half of L1";
  EXPECT_EQ(avx2.mc % avx2.mr, 0);
  EXPECT_EQ(avx2.parallel_extent(), (1024 + 5) / 6);
  GemmBlocking avx512 = gemm_blocking(k, "skylake-avx512 +avx,+avx2,+avx512f,+fma");
  EXPECT_EQ(avx512.nr, 32);
  EXPECT_EQ(avx512.mr, 14);
  // Zen 4 has AVX-512 but 256-bit FMA units: the 256-bit tile is faster.
  EXPECT_EQ(gemm_blocking(k, "znver4 +avx,+avx2,+avx512f,+fma").nr, 16);
  EXPECT_EQ(gemm_blocking(k, "x86-64 +sse2").nr, 8);
  // Wide and short: the columns are split.
  Plan wide = plan_of({ir::matmul(input(DType::F64, {8, 64}), input(DType::F64, {64, 4096}))});
  GemmBlocking w = gemm_blocking(wide.kernels.at(0), "znver3 +avx,+avx2,+fma");
  EXPECT_TRUE(w.split_columns);
  EXPECT_EQ(w.parallel_extent(), 4096 / 8);
  Plan small = plan_of({ir::matmul(input(DType::F64, {8, 8}), input(DType::F64, {8, 8}))});
  EXPECT_FALSE(gemm_blocking(small.kernels.at(0)).packed);
}

}  // namespace
}  // namespace fusejit
