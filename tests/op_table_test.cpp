// The op list in ir/node.h against everything derived from it: each op's
// spelling, arity, call or infix form, and a node of it built, verified,
// printed, parsed back, interpreted and differentiated.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "engine/autodiff.h"
#include "ir/fj_functions.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "runtime/interpreter.h"

namespace fusejit {
namespace {

// One node of `op` over inputs x, y (f32[2, 3]) and m (f32[3, 4]). A new op
// needs its case here: the compiler asks for it.
NodeRef sample(Op op, const NodeRef &x, const NodeRef &y, const NodeRef &m) {
  switch (op) {
    case Op::Input:
      return x;
    case Op::Const:
      return ir::constant(2.5, DType::F32);
    case Op::Iota:
      return ir::iota(3);
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      return ir::unary(op, x);
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      return ir::cast(x, DType::F64);
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      return ir::binary(op, x, y);
    case Op::Where:
      return ir::where(ir::binary(Op::Lt, x, y), x, y);
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      return ir::reduce(op, x, {1});
    case Op::Reshape:
      return ir::reshape(x, {3, 2});
    case Op::Permute:
      return ir::permute(x, {1, 0});
    case Op::Expand:
      return ir::expand(ir::reshape(x, {2, 1, 3}), {2, 4, 3});
    case Op::Slice:
      return ir::slice(x, {1, 2}, {1, -2}, {1, 2});
    case Op::Pad:
      return ir::pad(x, {{1, 0}, {0, 2}}, -1.5);
    case Op::Cat:
      return ir::cat({x, y, x}, 1);
    case Op::Unfold:
      return ir::unfold(x, 1, 2, 1);
    case Op::Gather:  // indices 0 and 1 of dim 1
      return ir::gather(x, 1, ir::cast(ir::binary(Op::Lt, x, y), DType::I64));
    case Op::Matmul:
      return ir::matmul(x, m);
  }
  return nullptr;
}

struct Inputs {
  NodeRef x = ir::input(DType::F32, {2, 3}, "x");
  NodeRef y = ir::input(DType::F32, {2, 3}, "y");
  NodeRef m = ir::input(DType::F32, {3, 4}, "m");
};

Program program_of(const Inputs &in, const NodeRef &r) {
  Program p;
  p.inputs = {in.x, in.y, in.m};
  p.bindings = {{"x", in.x}, {"y", in.y}, {"m", in.m}};
  p.outputs = {{"r", r}};
  return p;
}

TEST(OpTable, EnumFollowsTheRows) {
  ASSERT_EQ(std::size(kAllOps), static_cast<size_t>(Op::Matmul) + 1);
  for (size_t i = 0; i < std::size(kAllOps); ++i) EXPECT_EQ(static_cast<size_t>(kAllOps[i]), i);
}

TEST(OpTable, SpellingsAndInfixOperatorsAreUnique) {
  std::set<std::string> names, infixes;
  for (Op op : kAllOps) {
    EXPECT_NE(*op_name(op), '\0') << static_cast<int>(op);
    EXPECT_TRUE(names.insert(op_name(op)).second) << op_name(op);
    if (is_infix(op)) {
      EXPECT_TRUE(infixes.insert(op_infix(op)).second) << op_infix(op);
    }
  }
}

TEST(OpTable, InfixIsTheOperatorsNotTheEnumOrder) {
  std::set<Op> infix;
  for (Op op : kAllOps)
    if (is_infix(op)) infix.insert(op);
  EXPECT_EQ(infix, (std::set<Op>{Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Lt, Op::Gt, Op::Eq, Op::Le,
                                 Op::Ge, Op::Ne, Op::FloorDiv, Op::Mod, Op::Matmul}));
  EXPECT_STREQ(op_infix(Op::Matmul), "@");
  EXPECT_STREQ(op_infix(Op::Maximum), "");
}

TEST(OpTable, EverySpellingParsesBackToItsOp) {
  for (Op op : kAllOps) {
    SCOPED_TRACE(op_name(op));
    std::optional<fj::Callee> callee = fj::lookup_function(op_name(op));
    EXPECT_EQ(callee.has_value(), has_call_form(op));
    if (callee) {
      EXPECT_EQ(callee->op, op);
    }
    EXPECT_EQ(has_call_form(op), (op_kind(op) != OpKind::Leaf || op == Op::Iota) &&
                                     std::strcmp(op_name(op), op_infix(op)) != 0);
    if (is_infix(op)) {
      EXPECT_EQ(fj::lookup_infix(op_infix(op)), op);
    }
  }
  EXPECT_EQ(fj::lookup_infix("maximum"), std::nullopt);
  EXPECT_EQ(fj::lookup_function("+"), std::nullopt);
}

// Each op built, checked, printed and read back: the printed line uses the
// op's form from the table, and printing the parse gives the same text.
TEST(OpTable, EveryOpRoundTripsThroughTheTextFormat) {
  Inputs in;
  for (Op op : kAllOps) {
    SCOPED_TRACE(op_name(op));
    NodeRef r = sample(op, in.x, in.y, in.m);
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->op, op);
    if (op_arity(op) == kVariadic) {
      EXPECT_GE(r->args.size(), 1u);
    } else {
      EXPECT_EQ(r->args.size(), op_arity(op));
    }
    EXPECT_EQ(r->kind(), op_kind(op));
    EXPECT_NO_THROW(verify({r}));
    EXPECT_EQ(ir::infer_shape(*r), r->shape);
    if (op != Op::Input && op != Op::Const) {
      EXPECT_EQ(ir::with_args(*r, r->args), r);
    }

    std::string text = print_program(program_of(in, r));
    std::string form = is_infix(op)        ? std::string(" ") + op_infix(op) + " "
                       : has_call_form(op) ? std::string(op_name(op)) + "("
                       : op == Op::Input   ? std::string("input f32")
                                           : std::string("2.5");
    EXPECT_NE(text.find(form), std::string::npos) << text;
    Program q = parse_program(text, "op.fj");
    ASSERT_EQ(q.outputs.size(), 1u);
    EXPECT_EQ(q.outputs[0].second->op, op) << text;
    EXPECT_EQ(q.outputs[0].second->shape, r->shape);
    EXPECT_EQ(print_program(q), text);
  }
}

// Every op has reference semantics and a derivative rule.
TEST(OpTable, EveryOpInterpretsAndDifferentiates) {
  Inputs in;
  Bindings b;
  for (const NodeRef &n : {in.x, in.y, in.m}) {
    Buffer v(n->dtype, n->shape);
    for (int64_t i = 0; i < v.numel(); ++i) v.set(i, 0.25 * static_cast<double>(i + 1));
    b[n.get()] = v;
  }
  for (Op op : kAllOps) {
    SCOPED_TRACE(op_name(op));
    NodeRef r = sample(op, in.x, in.y, in.m);
    std::vector<Buffer> out = interpret({r}, b);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape(), r->shape);
    NodeRef loss = ir::reduce(Op::Sum, r, {});
    std::vector<NodeRef> g = gradients(loss, {in.x});
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0]->shape, in.x->shape);
    EXPECT_NO_THROW(verify(g));
    EXPECT_EQ(interpret(g, b).at(0).shape(), in.x->shape);
  }
}

}  // namespace
}  // namespace fusejit
