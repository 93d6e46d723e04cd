// Lowering the kernel IR to LLVM: every op, reduction, view and matmul run
// through the JIT and compared with the reference interpreter; Strict
// reproducibility; chunked runs; the kernel cache key; and what the
// optimized code looks like. Uses codegen/ only through LLVM-free headers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "codegen/coalesce_dims.h"
#include "codegen/compile_kernel.h"
#include "codegen/vector_math.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "ir/check_stats.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "runtime/interpreter.h"
#include "runtime/kernel_eval.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using ir::binary;
using ir::input;
using ir::reduce;
using ir::unary;
namespace fs = std::filesystem;

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
    // A kernel with integer // or % reads a status byte after its buffers
    // (codegen/lower_kernel.h); the cases here never divide by zero.
    uint8_t status = 0;
    buffers.push_back(&status);
    int64_t n = c.parallel_extent;
    for (int i = 0; i < chunks; ++i) c.fn(buffers.data(), n * i / chunks, n * (i + 1) / chunks);
    ASSERT_EQ(status, 0) << "a kernel reported a division by zero";
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
      std::string what = std::string(numerics_name(numerics)) + " root " + std::to_string(r) + " " +
                         type_str(want[r].dtype(), want[r].shape()) + "\n";
      for (const Kernel &k : plan.kernels) what += print_kernel(k);
      expect_close(got[r], want[r], tol, what);
    }
  }
}

const std::vector<Op> kUnaryOps = {Op::Neg,  Op::Exp,  Op::Log, Op::Relu, Op::Sigmoid,
                                   Op::Tanh, Op::Sqrt, Op::Abs, Op::Inv};
const std::vector<Op> kBinaryOps = {Op::Add, Op::Sub, Op::Mul,     Op::Div,     Op::Lt,
                                    Op::Gt,  Op::Eq,  Op::Maximum, Op::Minimum, Op::Pow};
const std::vector<DType> kDTypes = {DType::F32, DType::F64};

// log, sqrt and pow want positive operands; inv and div stay away from 0.
bool wants_positive(Op op) {
  return op == Op::Log || op == Op::Sqrt || op == Op::Pow || op == Op::Inv || op == Op::Div;
}

TEST(Lower, EveryUnaryOp) {
  for (DType t : kDTypes)
    for (Op op : kUnaryOps)
      for (const Shape &shape : {Shape{1}, Shape{3, 17}, Shape{129, 3}, Shape{}}) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, shape));
        NodeRef y = unary(op, input(t, shape));
        if (wants_positive(op))
          expect_jit_matches({y}, 0.1, 2.0);
        else
          expect_jit_matches({y}, -3.0, 3.0);
      }
}

TEST(Lower, EveryBinaryOpWithBroadcastAndPermutedOperands) {
  for (DType t : kDTypes)
    for (Op op : kBinaryOps) {
      SCOPED_TRACE(std::string(op_name(op)) + " " + dtype_name(t));
      double lo = wants_positive(op) ? 0.1 : -1.0, hi = wants_positive(op) ? 2.0 : 1.0;
      expect_jit_matches({binary(op, input(t, {3, 17}), input(t, {3, 17}))}, lo, hi);
      expect_jit_matches({binary(op, input(t, {129, 3}), input(t, {3}))}, lo, hi);
      expect_jit_matches({binary(op, input(t, {1}), input(t, {17, 1}))}, lo, hi);
      expect_jit_matches({binary(op, ir::permute(input(t, {17, 3}), {1, 0}), input(t, {3, 1}))}, lo,
                         hi);
      // Rounded inputs make Eq true sometimes.
      NodeRef a = input(t, {17, 129}), b = input(t, {129});
      NodeRef ra = binary(Op::Mul, unary(Op::Relu, binary(Op::Sub, a, b)), b);
      expect_jit_matches({binary(op, ra, unary(Op::Relu, b))}, lo, hi);
    }
}

const std::vector<DType> kIntegerDTypes = {DType::I32, DType::I64, DType::U8};
const std::vector<std::pair<Shape, Shape>> kOperandShapes = {
    {{3, 17}, {17}}, {{129}, {129}}, {{1}, {}}, {{17, 1}, {1, 3}}};

// u8 inputs drawn from [-60, 60] wrap to 196..255 and 0..60.
TEST(Lower, IntegerArithmeticComparisonsAndLogicalOps) {
  for (DType t : kIntegerDTypes)
    for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Maximum, Op::Minimum, Op::Lt, Op::Gt, Op::Eq,
                  Op::Le, Op::Ge, Op::Ne, Op::LogicalAnd, Op::LogicalOr})
      for (const auto &[a, b] : kOperandShapes) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, a) + " " + type_str(t, b));
        expect_jit_matches({binary(op, input(t, a), input(t, b))}, -60.0, 60.0);
      }
}

// Past their range, integer +, -, * and negation wrap, in the interpreter as
// in JIT code: a cube of 2e9 or a product of 7e18s. (The interpreter's i64
// values are doubles, so i64 cases overflow in the last op only.)
TEST(Lower, IntegerArithmeticWrapsOnOverflow) {
  for (Op op : {Op::Add, Op::Sub, Op::Mul})
    for (const auto &[a, b] : kOperandShapes) {
      SCOPED_TRACE(std::string(op_name(op)) + " " + shape_str(a) + " " + shape_str(b));
      NodeRef x = input(DType::I32, a), y = input(DType::I32, b);
      NodeRef cube = binary(Op::Mul, binary(Op::Mul, x, x), x);
      expect_jit_matches({unary(Op::Neg, binary(op, cube, binary(Op::Mul, y, y)))}, -2e9, 2e9);
      NodeRef p = input(DType::I64, a), q = input(DType::I64, b);
      expect_jit_matches({binary(op, p, q)}, -7e18, 7e18);
      expect_jit_matches({unary(Op::Neg, binary(op, p, q))}, -7e18, 7e18);
    }
}

// Python's rounding toward minus infinity, for every sign of either operand.
TEST(Lower, FloorDivideAndModuloOfEveryDtype) {
  for (DType t : {DType::I32, DType::I64, DType::U8, DType::F32, DType::F64})
    for (Op op : {Op::FloorDiv, Op::Mod})
      for (const auto &[a, b] : kOperandShapes) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, a) + " " + type_str(t, b));
        NodeRef y = input(t, b);
        NodeRef nonzero = ir::where(binary(Op::Eq, y, ir::constant(0, t)), ir::constant(7, t), y);
        expect_jit_matches({binary(op, input(t, a), nonzero)}, -60.0, 60.0);
      }
}

// Every dtype to every other, from values with fractions, out of every
// integer range, and of both signs.
TEST(Lower, CastsBetweenEveryPairOfDtypes) {
  for (DType from : kAllDTypes)
    for (DType to : kAllDTypes)
      for (const Shape &shape : {Shape{1}, Shape{3, 17}, Shape{129}}) {
        SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to) + " " +
                     shape_str(shape));
        expect_jit_matches({ir::cast(input(from, shape), to)}, -7e9, 7e9);
        expect_jit_matches({ir::cast(input(from, shape), to)}, -3.0, 3.0);
      }
}

TEST(Lower, UnaryOpsOfIntegersAndRoundingOfFloats) {
  for (DType t : kIntegerDTypes)
    for (Op op : {Op::Neg, Op::Abs, Op::Relu, Op::Floor, Op::LogicalNot, Op::Exp, Op::Sqrt})
      for (const Shape &shape : {Shape{1}, Shape{3, 17}, Shape{129}}) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, shape));
        expect_jit_matches({unary(op, input(t, shape))}, -60.0, 60.0);
      }
  for (DType t : kDTypes)
    for (Op op : {Op::Floor, Op::Ceil, Op::Round, Op::LogicalNot})
      for (const Shape &shape : {Shape{1}, Shape{3, 17}, Shape{129}}) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, shape));
        expect_jit_matches({unary(op, input(t, shape))}, -3.0, 3.0);
      }
}

TEST(Lower, IntegerAndBoolReductions) {
  for (DType t : kIntegerDTypes)
    for (Op op : {Op::Sum, Op::Prod, Op::Max, Op::Min, Op::Any, Op::All})
      for (const std::vector<int64_t> &dims :
           {std::vector<int64_t>{1}, std::vector<int64_t>{0}, std::vector<int64_t>{}}) {
        SCOPED_TRACE(std::string(op_name(op)) + " " + type_str(t, {17, 129}));
        // Small values keep the products inside i64; sums of u8 are i64.
        expect_jit_matches({reduce(op, input(t, {17, 129}), dims)}, -2.0, 3.0);
      }
  // Bools made by a comparison: any, all and counting sums.
  NodeRef b = binary(Op::Lt, input(DType::F32, {3, 129}), ir::constant(0.5, DType::F32));
  for (Op op : {Op::Sum, Op::Any, Op::All, Op::Max, Op::Min})
    expect_jit_matches({reduce(op, b, {1}), reduce(op, b, {})});
}

TEST(Lower, WhereWithConditionsOfEitherDtype) {
  for (DType t : kDTypes) {
    NodeRef a = input(t, {17, 3}), b = input(t, {3}), x = input(t, {17, 3}), y = input(t, {1, 3});
    expect_jit_matches({ir::where(binary(Op::Lt, a, b), x, y)});
    expect_jit_matches({ir::where(unary(Op::Relu, a), x, unary(Op::Exp, y))});
    DType other = t == DType::F32 ? DType::F64 : DType::F32;
    expect_jit_matches(
        {ir::where(unary(Op::Relu, input(other, {129, 1})), input(t, {129, 17}), input(t, {17}))});
  }
}

TEST(Lower, SumMaxMeanOverDimsWithAndWithoutKeepdim) {
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {-1}, {0, 2}, {1, 2}};
  for (DType t : kDTypes)
    for (Op op : {Op::Sum, Op::Max, Op::Mean})
      for (const auto &dims : dim_sets)
        for (bool keepdim : {false, true}) {
          SCOPED_TRACE(std::string(op_name(op)) + " " + dtype_name(t) + " keepdim " +
                       std::to_string(keepdim) + " dims " + std::to_string(dims.size()));
          expect_jit_matches({reduce(op, input(t, {17, 3, 129}), dims, keepdim)});
          expect_jit_matches({reduce(op, unary(Op::Exp, input(t, {1, 17, 3})), dims, keepdim)});
        }
}

TEST(Lower, ReductionsWithPrologueAndEpilogue) {
  for (DType t : kDTypes) {
    NodeRef x = input(t, {129, 17}), b = input(t, {17});
    NodeRef s = unary(Op::Sigmoid, binary(Op::Add, reduce(Op::Sum, binary(Op::Mul, x, b), {0}), b));
    expect_jit_matches({s});
    NodeRef m = unary(Op::Tanh, reduce(Op::Mean, ir::permute(x, {1, 0}), {1}));
    expect_jit_matches({m});
    // softmax: the max is broadcast back, so it is materialized.
    NodeRef mx = reduce(Op::Max, x, {-1}, true);
    NodeRef e = unary(Op::Exp, binary(Op::Sub, x, mx));
    expect_jit_matches({binary(Op::Div, e, reduce(Op::Sum, e, {-1}, true))});
  }
}

TEST(Lower, ViewsReshapePermuteExpand) {
  for (DType t : kDTypes) {
    NodeRef a = input(t, {3, 17}), b = input(t, {17, 1});
    NodeRef y = binary(Op::Mul, ir::permute(a, {1, 0}), b);           // (17, 3)
    NodeRef z = ir::reshape(ir::transpose(unary(Op::Exp, y)), {51});  // needs div/mod
    NodeRef w = reduce(Op::Mean, ir::expand(ir::reshape(b, {1, 17}), {4, 17}), {0});
    expect_jit_matches({y, z, w});
    // A reshape of a permuted input read directly, then reduced.
    NodeRef c = input(t, {129, 3, 17});
    NodeRef r = ir::reshape(ir::permute(c, {2, 0, 1}), {17 * 3, 129});
    expect_jit_matches({r, reduce(Op::Sum, r, {1}), reduce(Op::Max, r, {0}, true)});
    NodeRef e = ir::expand(ir::reshape(input(t, {3}), {3, 1}), {17, 3, 129});
    expect_jit_matches({binary(Op::Add, e, input(t, {129}))});
  }
}

TEST(Lower, MatmulBatchedBroadcastAndTransposed) {
  for (DType t : kDTypes)
    for (int64_t n : {1, 3, 17, 129}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " n " + std::to_string(n));
      NodeRef a = input(t, {2, 1, n, 3}), b = input(t, {5, 3, 17}), bias = input(t, {17});
      expect_jit_matches({unary(Op::Relu, binary(Op::Add, ir::matmul(a, b), bias))});
      NodeRef at = input(t, {129, n}), bt = input(t, {17, 129});
      expect_jit_matches({ir::matmul(ir::transpose(at), ir::transpose(bt))});
      expect_jit_matches({ir::matmul(input(t, {n, 129}), input(t, {129, n}))});
    }
}

// Values where NaN, infinities and signed zeros decide the result; the JIT
// must give the interpreter's answer exactly (and relu's sign of zero).
TEST(Lower, SpecialValuesExactly) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const std::vector<double> values = {nan, inf, -inf, -0.0, 0.0, 1.0, -1.0, 0.5};
  const int64_t n = static_cast<int64_t>(values.size());
  for (DType t : kDTypes) {
    NodeRef a = input(t, {n, 1}), b = input(t, {n});
    std::vector<NodeRef> roots = {unary(Op::Relu, b),
                                  unary(Op::Exp, b),
                                  unary(Op::Abs, b),
                                  unary(Op::Neg, b),
                                  ir::where(a, b, binary(Op::Sub, b, b)),
                                  reduce(Op::Max, b, {}),
                                  reduce(Op::Sum, a, {})};
    for (Op op : {Op::Maximum, Op::Minimum, Op::Lt, Op::Gt, Op::Eq, Op::Add, Op::Mul})
      roots.push_back(binary(op, a, b));
    Plan plan = fuse(roots);
    Buffer av(t, {n, 1}), bv(t, {n});
    for (int64_t i = 0; i < n; ++i) av.set(i, values[i]), bv.set(i, values[i]);
    std::vector<Buffer> want = interpret(roots, {{a.get(), av}, {b.get(), bv}});
    std::vector<Buffer> ins;
    for (const Node *node : plan.input_nodes) ins.push_back(node == a.get() ? av : bv);
    for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
      std::vector<Buffer> got = execute_plan(plan, ins, jit_runner(plan, numerics));
      for (size_t r = 0; r < roots.size(); ++r)
        for (int64_t i = 0; i < want[r].numel(); ++i) {
          double x = got[r].get(i), y = want[r].get(i);
          SCOPED_TRACE("root " + std::to_string(r) + " element " + std::to_string(i));
          // Fast's exp is libmvec's, within a few ulp of libm's rather than
          // equal: exact only where the result is inf, 0 or 1.
          bool within_ulps = numerics == Numerics::Fast && roots[r]->is(Op::Exp) &&
                             std::isfinite(y) && y != 0 && y != 1;
          if (std::isnan(y))
            EXPECT_TRUE(std::isnan(x)) << x;
          else if (within_ulps)
            EXPECT_NEAR(x, y, std::abs(y) * (t == DType::F32 ? 1e-6 : 1e-14));
          else
            EXPECT_EQ(x, y);
        }
      EXPECT_FALSE(std::signbit(got[0].get(3))) << "relu(-0.0) is +0.0";
    }
  }
}

// Empty outputs do nothing; an empty reduction gives init * scale.
TEST(Lower, EmptyDomains) {
  for (DType t : kDTypes) {
    NodeRef e = input(t, {0, 4});
    expect_jit_matches({reduce(Op::Sum, e, {0}), reduce(Op::Max, e, {0}), reduce(Op::Mean, e, {0}),
                        unary(Op::Exp, e), reduce(Op::Sum, e, {1})});
    NodeRef s = input(t, {});
    expect_jit_matches({binary(Op::Mul, s, ir::full(2.0, t, {3})), unary(Op::Exp, s)});
  }
}

// An elementwise kernel whose innermost dim is masked (cat, pad) runs one
// loop per piece between the masks' edges; more pieces than the lowering
// splits into keep the checks. Shapes 1, 3, 17, 129, and a crop.
TEST(Lower, MaskedPiecesOfTheInnerDimMatchTheInterpreter) {
  for (DType t : kDTypes) {
    SCOPED_TRACE(dtype_name(t));
    NodeRef a = input(t, {1}), c = input(t, {3, 17}), d = input(t, {3, 129});
    expect_jit_matches({binary(Op::Mul, ir::cat({a, a, input(t, {3})}, 0), a)});
    expect_jit_matches({binary(Op::Add, ir::cat({c, d, c}, 1), ir::constant(2, t))});
    expect_jit_matches({unary(Op::Exp, ir::pad(d, {{1, 2}, {5, -7}}, 0.5))});
    std::vector<NodeRef> many(9, c);
    expect_jit_matches({binary(Op::Mul, ir::cat(many, 1), ir::constant(2, t))});
  }
}

// Splitting [0, parallel_extent) into chunks computes the same thing: bit
// for bit in Strict. Fast may not: where a row lands (vector body or scalar
// remainder) decides between libmvec and libm, or the association of a
// reduction the vectorizer spread across rows.
TEST(Lower, ChunkedRunsGiveTheSameResults) {
  for (DType t : kDTypes) {
    NodeRef x = input(t, {129, 17}), b = input(t, {17});
    std::vector<NodeRef> roots = {
        unary(Op::Exp, binary(Op::Add, x, b)), reduce(Op::Sum, binary(Op::Mul, x, b), {1}),
        ir::matmul(x, ir::transpose(x)), ir::reshape(ir::transpose(x), {17 * 129}),
        // one loop per masked piece, cut again at the chunks' edges
        ir::cat({ir::reshape(x, {129 * 17}), ir::pad(b, {{3, 5}}, 1.0)}, 0)};
    Plan plan = fuse(roots);
    Inputs in = random_inputs(plan, 7, -1, 1);
    for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
      std::vector<Buffer> whole = execute_plan(plan, in.buffers, jit_runner(plan, numerics, 1));
      for (int chunks : {2, 3}) {
        std::vector<Buffer> split =
            execute_plan(plan, in.buffers, jit_runner(plan, numerics, chunks));
        for (size_t r = 0; r < roots.size(); ++r) {
          std::string what = std::string(numerics_name(numerics)) + " root " + std::to_string(r) +
                             " in " + std::to_string(chunks) + " chunks";
          if (numerics == Numerics::Strict)
            EXPECT_EQ(std::memcmp(whole[r].raw(), split[r].raw(), whole[r].bytes()), 0) << what;
          else
            expect_close(split[r], whole[r], t == DType::F32 ? 1e-4 : 1e-12, what);
        }
      }
    }
  }
}

TEST(Lower, StrictIsReproducibleAndSumsInOrder) {
  NodeRef x = input(DType::F32, {4097});
  NodeRef s = reduce(Op::Sum, x, {});
  Plan plan = fuse({s});
  Inputs in = random_inputs(plan, 3, -1, 1);
  Buffer first = execute_plan(plan, in.buffers, jit_runner(plan, Numerics::Strict))[0];
  Buffer second = execute_plan(plan, in.buffers, jit_runner(plan, Numerics::Strict))[0];
  EXPECT_EQ(std::memcmp(first.raw(), second.raw(), first.bytes()), 0);
  volatile float acc = 0;  // volatile: keep the compiler from reordering the sum
  const float *data = in.buffers[0].data<float>();
  for (int i = 0; i < 4097; ++i) acc = acc + data[i];
  EXPECT_EQ(first.data<float>()[0], acc);
}

Kernel single_kernel(const NodeRef &root) {
  Plan plan = fuse({root});
  EXPECT_EQ(plan.kernels.size(), 1u);
  return plan.kernels.at(0);
}

TEST(Lower, KernelWithTwoOutputsMatchesTheEvaluator) {
  NodeRef x = input(DType::F64, {17, 3});
  Plan plan = fuse({unary(Op::Exp, unary(Op::Neg, x))});
  Kernel k = plan.kernels.at(0);
  k.outputs.push_back({99, 1});  // also write the negation
  Generator g(5);
  Buffer in = random_uniform(DType::F64, {17, 3}, g, -1, 1);
  Buffer want0(DType::F64, {17, 3}), want1(DType::F64, {17, 3});
  eval_kernel(k, {&in}, {&want0, &want1});
  Buffer got0(DType::F64, {17, 3}), got1(DType::F64, {17, 3});
  CompiledKernel c = compile_kernel(k, Numerics::Strict);
  void *buffers[] = {in.raw(), got0.raw(), got1.raw()};
  c.fn(buffers, 0, c.parallel_extent);
  expect_close(got0, want0, 1e-12, "exp");
  expect_close(got1, want1, 0, "neg");
}

TEST(Lower, InconsistentKernelIsAnInternalError) {
  Kernel k = single_kernel(unary(Op::Exp, input(DType::F32, {17, 3})));
  Kernel unknown_input = k;
  unknown_input.body[0].input = 3;
  EXPECT_THROW(compile_kernel(unknown_input, Numerics::Fast), InternalError);
  // A layer that leaves the next layer's shape cannot be unravelled.
  Kernel r = single_kernel(ir::reshape(ir::transpose(input(DType::F32, {6, 5})), {30}));
  ASSERT_EQ(r.body[0].access.layers.size(), 2u);
  r.body[0].access.layers[0].offset = 1;
  EXPECT_THROW(compile_kernel(r, Numerics::Fast), InternalError);
  // A compute's args must be its op's arity, and its op elementwise.
  Kernel extra_arg = k;
  extra_arg.body.back().args.push_back(0);
  EXPECT_THROW(compile_kernel(extra_arg, Numerics::Fast), InternalError);
  Kernel not_elementwise = k;
  not_elementwise.body.back().op = Op::Sum;
  EXPECT_THROW(compile_kernel(not_elementwise, Numerics::Fast), InternalError);
  // A reduction must name an inner instruction.
  Kernel bad_reduction = single_kernel(ir::reduce(Op::Sum, input(DType::F32, {4, 3}), {1}, false));
  bad_reduction.reduction->value = static_cast<int>(bad_reduction.body.size());
  EXPECT_THROW(compile_kernel(bad_reduction, Numerics::Fast), InternalError);
}

TEST(Lower, CoalescesDimsEveryLoadWalksAsOne) {
  Plan plan = fuse({binary(Op::Add, input(DType::F32, {17, 3, 5}), input(DType::F32, {5}))});
  CoalescedKernel c = coalesce_dims(plan.kernels.at(0));
  EXPECT_EQ(c.kernel.domain, (Shape{51, 5}));
  EXPECT_EQ(c.parallel_scale, 3);
  Plan sum = fuse({reduce(Op::Sum, input(DType::F32, {4, 17, 3}), {1, 2})});
  CoalescedKernel r = coalesce_dims(sum.kernels.at(0));
  EXPECT_EQ(r.kernel.domain, (Shape{4, 51}));
  EXPECT_EQ(r.kernel.num_reduce, 1u);
}

TEST(Lower, CacheKeyIgnoresNamesAndBufferNumbers) {
  Kernel k = single_kernel(
      binary(Op::Mul, unary(Op::Exp, input(DType::F32, {17, 3})), ir::constant(0.5, DType::F32)));
  Kernel renumbered = k;
  renumbered.name = "k7";
  renumbered.inputs[0].buffer += 5;
  renumbered.outputs[0].buffer += 9;
  EXPECT_EQ(kernel_cache_key(k, Numerics::Fast), kernel_cache_key(renumbered, Numerics::Fast));
  EXPECT_NE(kernel_cache_key(k, Numerics::Fast), kernel_cache_key(k, Numerics::Strict));
  Kernel other_constant = k;
  for (Instr &in : other_constant.body)
    if (in.kind == InstrKind::Const) in.value = 0.5 + 1e-12;  // equal under %.9g
  EXPECT_NE(kernel_cache_key(k, Numerics::Fast), kernel_cache_key(other_constant, Numerics::Fast));
  std::string key = kernel_cache_key(k, Numerics::Fast);
  EXPECT_EQ(key.size(), 33u);
  EXPECT_EQ(key.find_first_not_of("k0123456789abcdef"), std::string::npos) << key;
}

TEST(Lower, SameKernelTwiceHitsTheMemoryCache) {
  JitEngine jit(JitOptions{std::nullopt});
  Kernel k = single_kernel(unary(Op::Tanh, input(DType::F64, {3, 129})));
  Kernel renumbered = k;
  renumbered.name = "k3";
  renumbered.inputs[0].buffer = 41;
  CompiledKernel first = compile_kernel(jit, k, Numerics::Fast);
  CompiledKernel second = compile_kernel(jit, renumbered, Numerics::Fast);
  EXPECT_EQ(first.code.source, CodeSource::Compiled);
  EXPECT_EQ(second.code.source, CodeSource::MemoryCache);
  EXPECT_EQ(first.fn, second.fn);
  JitStats stats = jit.stats();
  EXPECT_EQ(stats.compiles, 1u);
  EXPECT_EQ(stats.memory_hits, 1u);
}

// A hit in memory or on disk links the kernel without lowering (or
// verifying) it again, and still knows how the kernel splits its work.
TEST(Lower, CacheHitsNeitherLowerNorVerify) {
  fs::path dir =
      fs::temp_directory_path() / ("fusejit-lazy-lowering-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  JitOptions options{dir.string()};
  NodeRef a = input(DType::F32, {40, 33}), b = input(DType::F32, {33, 70});
  Plan matmul = fuse(optimize_graph({ir::matmul(a, b)}, Numerics::Fast));
  ASSERT_EQ(matmul.kernels.size(), 1u);
  ASSERT_EQ(matmul.kernels[0].kind(), KernelKind::Matmul);
  std::vector<Kernel> kernels{single_kernel(unary(Op::Exp, input(DType::F32, {17, 3}))),
                              matmul.kernels[0]};
  std::vector<int64_t> extents;
  {
    JitEngine jit(options);
    for (const Kernel &k : kernels) {
      CompiledKernel cold = compile_kernel(jit, k, Numerics::Fast);
      EXPECT_EQ(cold.code.source, CodeSource::Compiled);
      extents.push_back(cold.parallel_extent);
    }
    EXPECT_EQ(jit.stats().lowerings, 2u);
    for (size_t i = 0; i < kernels.size(); ++i) {
      CompiledKernel hit = compile_kernel(jit, kernels[i], Numerics::Fast);
      EXPECT_EQ(hit.code.source, CodeSource::MemoryCache);
      EXPECT_EQ(hit.parallel_extent, extents[i]);
    }
    EXPECT_EQ(jit.stats().lowerings, 2u);
  }
  JitEngine fresh(options);  // what a second process sees
  for (size_t i = 0; i < kernels.size(); ++i) {
    CompiledKernel disk = compile_kernel(fresh, kernels[i], Numerics::Fast);
    EXPECT_EQ(disk.code.source, CodeSource::DiskCache);
    EXPECT_EQ(disk.parallel_extent, extents[i]);
  }
  EXPECT_EQ(fresh.stats().disk_hits, 2u);
  EXPECT_EQ(fresh.stats().lowerings, 0u);
  EXPECT_EQ(fresh.stats().compiles, 0u);
  // The linked object computes the matmul.
  Generator g(9);
  Buffer x = random_uniform(DType::F32, a->shape, g, -1, 1),
         y = random_uniform(DType::F32, b->shape, g, -1, 1);
  Buffer got(DType::F32, {40, 70}), want(DType::F32, {40, 70});
  eval_kernel(kernels[1], {&x, &y}, {&want});
  CompiledKernel c = compile_kernel(fresh, kernels[1], Numerics::Fast);
  void *buffers[] = {x.raw(), y.raw(), got.raw()};
  c.fn(buffers, 0, c.parallel_extent);
  expect_close(got, want, 1e-5, "matmul from disk");
  fs::remove_all(dir);
}

// Fusing, lowering and compiling a kernel whose key both caches miss
// checks the kernel once and its LLVM module once; a hit checks neither.
TEST(Lower, ACompiledKernelIsVerifiedOnce) {
  JitOptions options;
  options.cache_dir = std::nullopt;
  JitEngine jit(options);
  NodeRef x = input(DType::F32, {23, 5});
  CheckStats before = check_stats();
  Plan plan = fuse(optimize_graph({reduce(Op::Sum, unary(Op::Exp, x), {1})}, Numerics::Fast));
  ASSERT_EQ(plan.kernels.size(), 1u);
  CompiledKernel cold = compile_kernel(jit, plan.kernels[0], Numerics::Fast);
  ASSERT_EQ(cold.code.source, CodeSource::Compiled);
  CheckStats compiled = check_stats();
  EXPECT_EQ(compiled.kernel - before.kernel, 1u);
  EXPECT_EQ(compiled.llvm_module - before.llvm_module, 1u);
  CompiledKernel hit = compile_kernel(jit, plan.kernels[0], Numerics::Fast);
  ASSERT_EQ(hit.code.source, CodeSource::MemoryCache);
  EXPECT_EQ(check_stats().kernel, compiled.kernel);
  EXPECT_EQ(check_stats().llvm_module, compiled.llvm_module);
}

bool host_has(const std::string &feature) {
  return host_cpu_description().find("+" + feature + ",") != std::string::npos ||
         host_cpu_description().ends_with("+" + feature);
}

TEST(Lower, ContiguousElementwiseVectorizes) {
  Kernel k = single_kernel(binary(Op::Add, input(DType::F32, {64, 128}), input(DType::F32, {128})));
  std::string ir = dump_kernel(k, Numerics::Strict, DumpStage::OptimizedLlvmIr);
  if (!host_has("avx2") && !host_has("avx512f")) GTEST_SKIP() << "no 256-bit vectors on this host";
  EXPECT_TRUE(ir.find("<8 x float>") != std::string::npos ||
              ir.find("<16 x float>") != std::string::npos)
      << ir;
}

TEST(Lower, StrictNeverContractsToFma) {
  Kernel sum = single_kernel(reduce(
      Op::Sum, binary(Op::Mul, input(DType::F32, {64, 128}), input(DType::F32, {128})), {1}));
  Kernel mm = single_kernel(ir::matmul(input(DType::F32, {64, 128}), input(DType::F32, {128, 32})));
  for (const Kernel *k : {&sum, &mm})
    EXPECT_EQ(dump_kernel(*k, Numerics::Strict, DumpStage::Assembly).find("vfmadd"),
              std::string::npos);
  if (!host_has("fma")) GTEST_SKIP() << "no FMA on this host";
  EXPECT_NE(dump_kernel(mm, Numerics::Fast, DumpStage::Assembly).find("vfmadd"), std::string::npos);
}

TEST(Lower, FastExpCallsVectorMathWhereAvailable) {
  Kernel k = single_kernel(unary(Op::Exp, input(DType::F32, {64, 128})));
  std::string fast = dump_kernel(k, Numerics::Fast, DumpStage::OptimizedLlvmIr);
  std::string strict = dump_kernel(k, Numerics::Strict, DumpStage::OptimizedLlvmIr);
  EXPECT_EQ(strict.find("_ZGV"), std::string::npos) << "Strict must not call libmvec";
  if (!host_has("avx2")) GTEST_SKIP() << "libmvec's 8-wide variants need AVX2";
  EXPECT_NE(fast.find("_ZGVdN8v_expf"), std::string::npos) << fast;
}

// tanh is not in LLVM 19's libmvec table; a libm call per element was 20x
// slower than the 8-wide routine.
TEST(Lower, FastTanhCallsVectorMathWhereAvailable) {
  for (DType dtype : {DType::F32, DType::F64}) {
    Kernel k = single_kernel(unary(Op::Tanh, input(dtype, {64, 128})));
    std::string fast = dump_kernel(k, Numerics::Fast, DumpStage::OptimizedLlvmIr);
    std::string strict = dump_kernel(k, Numerics::Strict, DumpStage::OptimizedLlvmIr);
    EXPECT_EQ(strict.find("_ZGV"), std::string::npos) << "Strict must not call libmvec";
    if (!host_has("avx2") || !vector_tanh_available())
      GTEST_SKIP() << "needs AVX2 and a libmvec with tanh (glibc 2.35)";
    EXPECT_NE(fast.find(dtype == DType::F32 ? "_ZGVdN8v_tanhf" : "_ZGVdN4v_tanh"),
              std::string::npos)
        << fast;
  }
}

}  // namespace
}  // namespace fusejit
