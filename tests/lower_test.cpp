// Lowering the kernel IR to LLVM: every op, reduction, view and matmul run
// through the JIT and compared with the reference interpreter; Strict
// reproducibility; chunked runs; the kernel cache key; and what the
// optimized code looks like. Uses codegen/ only through LLVM-free headers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "codegen/compile_kernel.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::input;
using ir::reduce;
using ir::unary;

// Runs each kernel of `plan` compiled by the JIT over [0, parallel_extent),
// split into `chunks` calls.
KernelRunner jit_runner(const Plan &plan, Numerics numerics, int chunks = 1) {
  return [&plan, numerics, chunks](size_t index, const std::vector<const Buffer *> &inputs,
                                   const std::vector<Buffer *> &outputs) {
    CompiledKernel c = compile_kernel(plan.kernels[index], numerics);
    ASSERT_NE(c.fn, nullptr);
    std::vector<void *> buffers;
    for (const Buffer *b : inputs) buffers.push_back(const_cast<void *>(b->raw()));
    for (Buffer *b : outputs) buffers.push_back(b->raw());
    int64_t n = c.parallel_extent;
    for (int i = 0; i < chunks; ++i) c.fn(buffers.data(), n * i / chunks, n * (i + 1) / chunks);
  };
}

// The longest reduction in the plan: rounding error grows with it.
int64_t longest_reduction(const Plan &plan) {
  int64_t len = 1;
  for (const Kernel &k : plan.kernels)
    len = std::max(len, numel(Shape(k.domain.end() - k.num_reduce, k.domain.end())));
  return len;
}

struct Inputs {
  std::vector<Buffer> buffers;
  Bindings bindings;
};

Inputs random_inputs(const Plan &plan, uint64_t seed, double lo, double hi) {
  Generator g(seed);
  Inputs in;
  for (const Node *n : plan.input_nodes) {
    in.buffers.push_back(random_uniform(n->dtype, n->shape, g, lo, hi));
    in.bindings.emplace(n, in.buffers.back());
  }
  return in;
}

void expect_close(const Buffer &got, const Buffer &want, double tol, const std::string &what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = got.get(i), b = want.get(i);
    if (a == b) continue;  // also equal infinities
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << what << " element " << i << ": " << a;
      continue;
    }
    ASSERT_NEAR(a, b, tol * (1 + std::fabs(b))) << what << " element " << i;
  }
}

// Fuses `roots`, runs the plan through the JIT in both numerics and compares
// with the interpreter, with tolerances scaled to dtype and reduction length.
void expect_jit_matches(const std::vector<NodeRef> &roots, double lo = -1.0, double hi = 1.0,
                        uint64_t seed = 1) {
  Plan plan = fuse(roots);
  Inputs in = random_inputs(plan, seed, lo, hi);
  std::vector<Buffer> want = interpret(roots, in.bindings);
  double growth = 1 + std::sqrt(static_cast<double>(longest_reduction(plan)));
  for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
    std::vector<Buffer> got = execute_plan(plan, in.buffers, jit_runner(plan, numerics));
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      double tol = (want[r].dtype() == DType::F32 ? 1e-5 : 1e-12) * growth;
      std::string what = std::string(numerics_name(numerics)) + " root " + std::to_string(r) +
                         " " + type_str(want[r].dtype(), want[r].shape()) + "\n";
      for (const Kernel &k : plan.kernels) what += print_kernel(k);
      expect_close(got[r], want[r], tol, what);
    }
  }
}

const std::vector<Op> kUnaryOps = {Op::Neg,  Op::Exp,  Op::Log, Op::Relu, Op::Sigmoid,
                                   Op::Tanh, Op::Sqrt, Op::Abs, Op::Inv};
const std::vector<Op> kBinaryOps = {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Lt,
                                    Op::Gt,  Op::Eq,  Op::Maximum, Op::Minimum, Op::Pow};
const std::vector<DType> kDTypes = {DType::F32, DType::F64};

// log, sqrt and pow want positive operands; inv and div stay away from 0.
bool wants_positive(Op op) {
  return op == Op::Log || op == Op::Sqrt || op == Op::Pow || op == Op::Inv || op == Op::Div;
}

TEST(Lower, EveryUnaryOp) {
  for (DType t : kDTypes)
    for (Op op : kUnaryOps)
      for (Shape shape : {Shape{1}, Shape{3, 17}, Shape{129, 3}, Shape{}}) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, shape));
        NodeRef y = unary(op, input(t, shape));
        if (wants_positive(op)) expect_jit_matches({y}, 0.1, 2.0);
        else expect_jit_matches({y}, -3.0, 3.0);
      }
}

}  // namespace
}  // namespace fusejit
