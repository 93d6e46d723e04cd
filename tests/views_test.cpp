// Slices, flips, pads, cats, unfolds and the reshapes built from them: the
// fused kernels (kernel IR evaluator, JIT in strict and fast numerics) match
// the reference interpreter on odd shapes, broadcast and permuted inputs, f32
// and f64, and each view stays inside the kernel that reads it.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/pipeline.h"
#include "engine/plan_memory.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

using Build = std::function<std::vector<NodeRef>(DType)>;

void expect_close(const Buffer &got, const Buffer &want, double tol, const std::string &what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = got.get(i), b = want.get(i);
    if (a == b) continue;
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << what << " element " << i;
      continue;
    }
    ASSERT_NEAR(a, b, tol * (1 + std::fabs(b))) << what << " element " << i;
  }
}

// Runs `roots` four ways on the same seeded inputs and compares each with
// the interpreter: the fused plan on the kernel evaluator, its kernels
// compiled strict, and the whole pipeline in fast numerics.
void expect_matches(const std::vector<NodeRef> &roots, uint64_t seed = 1) {
  Plan plan = fuse(roots);
  plan_memory(plan);
  Generator g(seed);
  std::vector<Buffer> inputs;
  Bindings bindings;
  for (const Node *n : plan.input_nodes) {
    inputs.push_back(random_uniform(n->dtype, n->shape, g, -1.0, 1.0));
    bindings.emplace(n, inputs.back());
  }
  std::vector<Buffer> want = interpret(roots, bindings);
  std::vector<Buffer> evaluated = execute_plan(plan, inputs, evaluating_runner(plan));
  CompiledPlan strict;
  strict.plan = plan;
  for (const Kernel &k : plan.kernels)
    strict.kernels.push_back(strict.backend->compile(k, Numerics::Strict));
  std::vector<Buffer> jit = run_compiled(strict, inputs);
  ASSERT_EQ(want.size(), roots.size());
  for (size_t r = 0; r < want.size(); ++r) {
    double tol = want[r].dtype() == DType::F32 ? 1e-5 : 1e-12;
    std::string kernels;
    for (const Kernel &k : plan.kernels) kernels += print_kernel(k);
    expect_close(evaluated[r], want[r], tol,
                 "evaluator root " + std::to_string(r) + "\n" + kernels);
    expect_close(jit[r], want[r], tol, "strict JIT root " + std::to_string(r) + "\n" + kernels);
  }

  PreparedGraph fast = prepare(roots, Numerics::Fast);
  std::vector<Buffer> fast_inputs;
  for (const Node *n : fast.inputs) fast_inputs.push_back(bindings.at(n));
  std::vector<Buffer> fast_out = run_compiled(*fast.compiled, fast_inputs);
  for (size_t r = 0; r < want.size(); ++r)
    expect_close(fast_out[r], want[r], want[r].dtype() == DType::F32 ? 1e-4 : 1e-10,
                 "fast root " + std::to_string(r));
}

// Every case in f32 and f64.
void expect_matches_both(const Build &build) {
  for (DType t : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(t));
    expect_matches(build(t));
  }
}

NodeRef in(DType t, Shape s) { return ir::input(t, std::move(s)); }
NodeRef add(NodeRef a, NodeRef b) { return ir::binary(Op::Add, std::move(a), std::move(b)); }
NodeRef mul(NodeRef a, NodeRef b) { return ir::binary(Op::Mul, std::move(a), std::move(b)); }
NodeRef two(DType t) { return ir::constant(2.0, t); }
ir::IndexItem at(int64_t i) {
  ir::IndexItem it;
  it.kind = ir::IndexItem::Integer;
  it.index = i;
  return it;
}
ir::IndexItem range(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step = 1) {
  ir::IndexItem it;
  it.start = start, it.stop = stop, it.step = step;
  return it;
}

size_t kernels_of(const std::vector<NodeRef> &roots) { return fuse(roots).kernels.size(); }

TEST(Views, NumpySlicesWithNegativeIndicesAndSteps) {
  for (int64_t n : {1, 3, 17, 129}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef x = in(t, {n, 5});
      return std::vector<NodeRef>{
          mul(ir::index(x, {range(1, std::nullopt), range(std::nullopt, std::nullopt, -1)}),
              two(t)),
          mul(ir::index(x, {range(std::nullopt, std::nullopt, 3), at(2)}), two(t)),
          mul(ir::index(x, {range(-1, std::nullopt, -2), range(4, 0, -2)}), two(t)),
          mul(ir::index(x, {at(-1)}), two(t)),
          ir::index(x, {range(std::nullopt, std::nullopt, -1)}),
      };
    });
  }
}

TEST(Views, FlipsOfPermutedAndBroadcastInputs) {
  expect_matches_both([](DType t) {
    NodeRef x = in(t, {17, 3}), b = in(t, {3});
    NodeRef xt = ir::transpose(x);
    return std::vector<NodeRef>{add(ir::flip(xt, {0, 1}), ir::reshape(b, {3, 1})),
                                mul(ir::flip(ir::expand(b, {17, 3}), {1}), x),
                                ir::flip(add(x, b), {0})};
  });
}

TEST(Views, PadsOfInputsComputedValuesAndConstants) {
  for (int64_t n : {1, 3, 17, 129}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef x = in(t, {n, 3}), b = in(t, {3});
      NodeRef e = ir::unary(Op::Exp, x);
      return std::vector<NodeRef>{
          add(ir::pad(x, {{1, 2}, {0, 3}}, -1.5), two(t)),
          ir::pad(e, {{2, -1}, {-1, 1}}, 7.0),
          mul(ir::pad(ir::transpose(x), {{1, 1}, {0, 2}}), two(t)),
          add(ir::pad(ir::expand(b, {n, 3}), {{0, 1}, {1, 0}}, 3.0), two(t)),
          ir::pad(ir::pad(x, {{1, 0}, {0, 0}}, 5.0), {{0, 1}, {1, 1}}, -2.0),
          ir::pad(ir::full(1.5, t, {n, 2}), {{1, 1}, {1, 1}}),
      };
    });
  }
}

// A constant that is also an output is still a constant under a pad: it is
// selected where valid, not loaded, so the pad's fill shows around it. The
// gradient of an empty slice is this pad of a zero-size seed (fuzzer seed
// 9374 with --grad read 1 where 0 was due).
TEST(Views, PadsOfAConstantThatIsAlsoAnOutput) {
  expect_matches_both([](DType t) {
    NodeRef one = ir::constant(1.0, t);
    return std::vector<NodeRef>{
        one,
        ir::pad(ir::expand(one, {0, 2, 1}), {{0, 1}, {0, 0}, {0, 0}}),
        ir::pad(ir::expand(one, {3, 2}), {{1, 1}, {0, 2}}, -4.0),
    };
  });
}

TEST(Views, CatsAlongEveryDimOfComputedPermutedAndEmptySources) {
  for (int64_t n : {1, 3, 17}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef a = in(t, {n, 4}), b = in(t, {2, 4}), c = in(t, {4, n}), e = in(t, {0, 4});
      NodeRef d = ir::transpose(c);  // [n, 4]
      return std::vector<NodeRef>{
          mul(ir::cat({a, b, e, ir::unary(Op::Exp, a)}, 0), two(t)),
          add(ir::cat({a, d, a}, 1), two(t)),
          ir::cat({ir::flip(a, {0}), ir::pad(b, {{0, 0}, {1, -1}}, 9.0)}, -2),
          ir::stack({a, d}, 1),
          ir::stack({a, d}, 0),
      };
    });
  }
}

TEST(Views, ReshapesOfMaskedViewsAndSqueezes) {
  expect_matches_both([](DType t) {
    NodeRef x = in(t, {3, 1, 5});
    NodeRef p = ir::pad(x, {{1, 0}, {0, 0}, {2, 2}}, 4.0);  // [4, 1, 9]
    return std::vector<NodeRef>{
        ir::squeeze(p, 1),
        ir::unsqueeze(ir::squeeze(p), 0),
        mul(ir::flatten(p), two(t)),  // a masked reshape: another access layer
        ir::squeeze(x, 0),            // not of extent 1: x itself
        add(ir::flatten(ir::cat({x, x}, 2), 1, 2), two(t)),
    };
  });
}

TEST(Views, UnfoldsOverlapAndReduce) {
  for (int64_t n : {3, 17, 129}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef x = in(t, {2, n});
      NodeRef w = ir::unfold(x, 1, 3, 1);  // [2, n - 2, 3]
      return std::vector<NodeRef>{
          mul(w, two(t)),
          ir::reduce(Op::Sum, w, {2}),
          ir::reduce(Op::Max, ir::unfold(ir::pad(x, {{0, 0}, {1, 1}}, -1e9), 1, 3, 2), {2}),
          add(ir::unfold(ir::transpose(x), 0, 2, 2), two(t)),
      };
    });
  }
}

TEST(Views, ReductionsAndMatmulsReadViewsDirectly) {
  expect_matches_both([](DType t) {
    NodeRef a = in(t, {5, 7}), b = in(t, {9, 4}), c = in(t, {5});
    NodeRef ap = ir::pad(a, {{0, 0}, {1, 1}});                             // [5, 9]
    NodeRef bc = ir::cat({b, ir::index(b, {range(std::nullopt, 3)})}, 0);  // [12, 4]
    return std::vector<NodeRef>{
        ir::reduce(Op::Sum, ap, {1}),
        ir::reduce(Op::Sum, ir::flip(a, {0}), {0}),
        ir::matmul(ap, b),
        ir::matmul(ir::pad(ap, {{0, 0}, {0, 3}}), bc),
        add(ir::matmul(a, ir::index(bc, {range(1, 8)})),
            ir::reshape(ir::pad(c, {{0, 0}}, 0.0), {5, 1})),
    };
  });
}

// No view is ever a kernel of its own: each is addressing in its consumer.
TEST(Views, FuseIntoTheirConsumer) {
  NodeRef a = in(DType::F32, {4, 5}), b = in(DType::F32, {3, 5});
  EXPECT_EQ(kernels_of({mul(ir::cat({a, b}, 0), two(DType::F32))}), 1u);
  EXPECT_EQ(kernels_of({add(ir::pad(a, {{1, 1}, {0, 2}}), two(DType::F32))}), 1u);
  EXPECT_EQ(kernels_of({add(ir::flip(ir::index(a, {range(1, 3)}), {1}), two(DType::F32))}), 1u);
  EXPECT_EQ(kernels_of({ir::reduce(Op::Sum, ir::unfold(a, 1, 2, 1), {2})}), 1u);
  Plan p = fuse({mul(ir::cat({a, b}, 0), two(DType::F32))});
  EXPECT_EQ(p.intermediate_bytes, 0);
}

TEST(Views, AccessesPrintOffsetsNegativeStridesAndRanges) {
  NodeRef a = in(DType::F32, {4, 5});
  Plan p = fuse({add(ir::pad(ir::flip(a, {1}), {{1, 0}, {0, 0}}, 2.0), two(DType::F32))});
  ASSERT_EQ(p.kernels.size(), 1u);
  std::string text = print_kernel(p.kernels[0]);
  EXPECT_NE(text.find("load in0 [5, -1] + -1 if [1:5, :] else 2"), std::string::npos) << text;
}

// The bounds proof takes negative strides and ranges into account.
TEST(Views, VerifierProvesMaskedAndReversedAccessesInBounds) {
  Kernel k;
  k.name = "k";
  k.domain = {6};
  k.inputs = {{0, DType::F32, {4}}};
  Instr load = Instr::load(0, Access{{AccessLayer{{6}, {-1}, 4, {{1, 5}}, {}}}}, DType::F32, false);
  k.body.push_back(load);
  k.outputs = {{1, 0}};
  EXPECT_NO_THROW(verify_kernel(k));
  k.body[0].access.layers[0].valid = {{0, 5}};  // reads position 4 of 4
  EXPECT_THROW(verify_kernel(k), InternalError);
  k.body[0].access.layers[0].valid.clear();
  EXPECT_THROW(verify_kernel(k), InternalError);
}

// Indices in [0, n) computed in the graph from a float input in [-1, 1]:
// spread over the extent, with Python's % folding the negative ones.
NodeRef indices(DType t, const Shape &s, int64_t n, DType index_dtype = DType::I64) {
  NodeRef q = ir::cast(ir::unary(Op::Round, mul(in(t, s), ir::constant(50, t))), index_dtype);
  return ir::binary(Op::Mod, q, ir::constant(static_cast<double>(n), index_dtype));
}

TEST(Views, GathersReadAtComputedAddresses) {
  for (int64_t n : {1, 3, 17, 129}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef x = in(t, {n, 5});
      NodeRef pt = ir::permute(in(t, {5, n}), {1, 0});
      return std::vector<NodeRef>{
          mul(ir::index_select(x, 0, indices(t, {7}, n)), two(t)),
          ir::index_select(pt, 1, indices(t, {3}, 5, DType::I32)),
          ir::gather(x, 1, indices(t, {n, 3}, 5)),
          ir::gather(x, 0, indices(t, {4, 2}, n)),
          // Of a padded tensor: indices into the padding read its fill.
          ir::gather(ir::pad(x, {{0, 0}, {2, 1}}, -3.0), 1, indices(t, {n, 6}, 8)),
          // Of a computed value, under a reduction, by a broadcast index.
          ir::reduce(Op::Sum, ir::gather(ir::unary(Op::Exp, x), 0, indices(t, {9, 5}, n)), {0}),
          ir::gather(x, 1, ir::expand(indices(t, {1, 4}, 5), {n, 4})),
          // Through a reshape strides cannot express (a second layer).
          ir::index_select(ir::reshape(ir::permute(x, {1, 0}), {5 * n}), 0,
                           indices(t, {11}, 5 * n)),
          // By an arange, and as a matmul's operand.
          ir::index_select(x, 0,
                           ir::binary(Op::Mod, ir::iota(6), ir::constant(double(n), DType::I64))),
          ir::matmul(ir::index_select(x, 0, indices(t, {3}, n)), in(t, {5, 2})),
          // Scatters: reductions over index == arange, of a permuted source
          // and under an elementwise consumer.
          ir::scatter_add(x, 0, indices(t, {n, 4}, n), pt),
          mul(ir::index_add(x, 1, indices(t, {2}, 5, DType::I32), in(t, {n, 2})), two(t)),
      };
    });
  }
}

TEST(Views, OneHotAndArgmaxAreComparisonsWithAnArange) {
  for (int64_t n : {1, 3, 17, 129}) {
    SCOPED_TRACE(n);
    expect_matches_both([n](DType t) {
      NodeRef x = in(t, {4, n});
      return std::vector<NodeRef>{
          ir::cast(ir::arg_extreme(x, 1, false, true), t),
          ir::cast(ir::arg_extreme(x, std::nullopt, false, false), t),
          mul(ir::one_hot(indices(t, {4}, n), n, t), x),
          ir::cast(ir::arange(3, 3 + 2 * n, 2), t),
      };
    });
  }
}

// An index out of bounds is an IndexError naming it, wherever the kernel
// runs: the interpreter, the kernel evaluator and the JIT (which reports
// through its status slot, then names the first such point).
TEST(Views, AGatherOutOfBoundsIsAnIndexError) {
  NodeRef x = in(DType::F32, {4, 3});
  NodeRef ids = in(DType::I64, {5});
  NodeRef y = mul(ir::index_select(x, 0, ids), two(DType::F32));
  Buffer xv = Buffer::zeros(DType::F32, {4, 3});
  for (int64_t bad : {4, -1, 1000}) {
    SCOPED_TRACE(bad);
    Buffer iv = Buffer::from_vector<int64_t>({0, 3, bad, 1, bad}, {5});
    EXPECT_THROW(interpret({y}, {{x.get(), xv}, {ids.get(), iv}}), IndexError);
    Plan plan = fuse({y});
    plan_memory(plan);
    std::vector<Buffer> inputs;
    for (const Node *n : plan.input_nodes) inputs.push_back(n == x.get() ? xv : iv);
    EXPECT_THROW(execute_plan(plan, inputs, evaluating_runner(plan)), IndexError);
    PreparedGraph jit = prepare({y}, Numerics::Fast);
    std::vector<Buffer> jit_inputs;
    for (const Node *n : jit.inputs) jit_inputs.push_back(n == x.get() ? xv : iv);
    for (int threads : {1, 2}) {
      try {
        run_compiled(*jit.compiled, jit_inputs, threads);
        ADD_FAILURE() << "no error";
      } catch (const IndexError &e) {
        std::string m = e.what();
        EXPECT_NE(m.find("index " + std::to_string(bad) + " is out of bounds for a dim of 4"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("domain index [2, 0]"), std::string::npos) << m;
      }
    }
  }
  EXPECT_THROW(ir::gather(x, 0, in(DType::F32, {4, 3})), ShapeError) << "a float index";
  EXPECT_THROW(ir::gather(x, 0, in(DType::I64, {4})), ShapeError) << "another rank";
  EXPECT_THROW(ir::gather(x, 0, in(DType::I64, {2, 5})), ShapeError) << "wider than x in dim 1";
  EXPECT_THROW(ir::gather(x, 2, in(DType::I64, {4, 3})), ShapeError) << "no dim 2";
  EXPECT_THROW(ir::index_select(x, 0, in(DType::I64, {2, 2})), ShapeError) << "a 2-D index";
  EXPECT_THROW(ir::gather(in(DType::F32, {0, 3}), 0, in(DType::I64, {1, 3})), IndexError);
}

TEST(Views, AccessesPrintTheirGatheredIndices) {
  NodeRef x = in(DType::F32, {5, 17});
  Plan plan = fuse({ir::index_select(x, 0, in(DType::I64, {7}))});
  ASSERT_EQ(plan.kernels.size(), 1u);
  EXPECT_NE(print_kernel(plan.kernels[0]).find("load in1 [0, 1] + %0 * 17 of 5"), std::string::npos)
      << print_kernel(plan.kernels[0]);
}

}  // namespace
}  // namespace fusejit
