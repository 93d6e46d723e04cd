#include "ir/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ir/error.h"

namespace fusejit {
namespace {

Program parse(const std::string &src) { return parse_program(src, "t.fj"); }

// The node bound to `name` (the first binding of that name).
NodeRef bound(const Program &p, const std::string &name) {
  for (const auto &[n, node] : p.bindings)
    if (n == name) return node;
  ADD_FAILURE() << "no binding " << name;
  return nullptr;
}

// `prelude` declares inputs; `expr` is bound to `r`, which is the output.
NodeRef parse_expr(const std::string &prelude, const std::string &expr) {
  Program p = parse(prelude + "r = " + expr + "\nout r\n");
  return p.outputs.at(0).second;
}

const std::string kXY = "x = input f32[2, 3]\ny = input f32[2, 3]\n";

std::vector<std::string> lines_of(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\n') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// Parsing `src` must throw a ParseError at line:col whose message contains
// `needle`, followed by the offending source line and a caret under col.
void expect_error(const std::string &src, int line, int col, const std::string &needle) {
  SCOPED_TRACE(src);
  try {
    parse(src);
    ADD_FAILURE() << "expected a ParseError";
  } catch (const ParseError &e) {
    std::string msg = e.what();
    std::string prefix = "t.fj:" + std::to_string(line) + ":" + std::to_string(col) + ": error: ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
    std::vector<std::string> got = lines_of(msg);
    ASSERT_EQ(got.size(), 3u) << msg;
    EXPECT_NE(got[0].find(needle), std::string::npos) << msg;
    std::vector<std::string> src_lines = lines_of(src);
    std::string want_line =
        line - 1 < static_cast<int>(src_lines.size()) ? src_lines[line - 1] : "";
    EXPECT_EQ(got[1], want_line) << msg;
    EXPECT_EQ(got[2], std::string(col - 1, ' ') + "^") << msg;
  }
}

TEST(Parser, SeedExample) {
  Program p = parse(
      "# the seed's example\n"
      "a = input f32[2, 3, 1]\n"
      "b = input f32[3, 2]\n"
      "c = sum(a * b, 1)          # f32[2, 2]\n"
      "d = relu(c) + 0.5\n"
      "out d\n");
  ASSERT_EQ(p.inputs.size(), 2u);
  NodeRef a = p.inputs[0], b = p.inputs[1];
  EXPECT_TRUE(a->is(Op::Input));
  EXPECT_EQ(a->name, "a");
  EXPECT_EQ(a->shape, (Shape{2, 3, 1}));
  EXPECT_EQ(b->shape, (Shape{3, 2}));
  ASSERT_EQ(p.bindings.size(), 4u);
  EXPECT_EQ(p.bindings[0].first, "a");
  EXPECT_EQ(p.bindings[3].first, "d");

  NodeRef c = bound(p, "c");
  EXPECT_TRUE(c->is(Op::Sum));
  EXPECT_EQ(c->dims, (std::vector<int64_t>{1}));
  EXPECT_FALSE(c->keepdim);
  EXPECT_EQ(c->shape, (Shape{2, 2}));
  EXPECT_TRUE(c->args[0]->is(Op::Mul));
  EXPECT_EQ(c->args[0]->shape, (Shape{2, 3, 2}));
  EXPECT_EQ(c->args[0]->args[0], a);

  ASSERT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.outputs[0].first, "d");
  NodeRef d = p.outputs[0].second;
  EXPECT_TRUE(d->is(Op::Add));
  EXPECT_TRUE(d->args[0]->is(Op::Relu));
  EXPECT_TRUE(d->args[1]->is(Op::Const));
  EXPECT_EQ(d->args[1]->value, 0.5);
  EXPECT_EQ(d->dtype, DType::F32);
}

TEST(Parser, InputsOfEveryKind) {
  Program p = parse("s = input f32[]\nz = input f64[0, 4]\nout s, z\n");
  EXPECT_EQ(p.inputs[0]->shape, Shape{});
  EXPECT_EQ(p.inputs[0]->dtype, DType::F32);
  EXPECT_EQ(p.inputs[1]->shape, (Shape{0, 4}));
  EXPECT_EQ(p.inputs[1]->dtype, DType::F64);
  // Two inputs of one type are still two values.
  Program q = parse("a = input f32[2]\nb = input f32[2]\nout a, b\n");
  EXPECT_NE(q.inputs[0], q.inputs[1]);
}

TEST(Parser, UnaryFunctions) {
  const std::pair<const char *, Op> cases[] = {
      {"neg", Op::Neg},   {"exp", Op::Exp},         {"log", Op::Log},
      {"relu", Op::Relu}, {"sigmoid", Op::Sigmoid}, {"tanh", Op::Tanh},
      {"sqrt", Op::Sqrt}, {"abs", Op::Abs},         {"inv", Op::Inv}};
  for (auto [name, op] : cases) {
    NodeRef r = parse_expr(kXY, std::string(name) + "(x)");
    EXPECT_TRUE(r->is(op)) << name;
    EXPECT_EQ(r->shape, (Shape{2, 3})) << name;
  }
}

TEST(Parser, BinaryOpsInfixAndCalls) {
  const std::pair<const char *, Op> cases[] = {{"x + y", Op::Add},
                                               {"x - y", Op::Sub},
                                               {"x * y", Op::Mul},
                                               {"x / y", Op::Div},
                                               {"x < y", Op::Lt},
                                               {"x > y", Op::Gt},
                                               {"x == y", Op::Eq},
                                               {"maximum(x, y)", Op::Maximum},
                                               {"minimum(x, y)", Op::Minimum},
                                               {"pow(x, y)", Op::Pow}};
  for (auto [src, op] : cases) {
    NodeRef r = parse_expr(kXY, src);
    EXPECT_TRUE(r->is(op)) << src;
    EXPECT_EQ(r->shape, (Shape{2, 3})) << src;
    EXPECT_EQ(r->args[0]->name, "x") << src;
    EXPECT_EQ(r->args[1]->name, "y") << src;
  }
}

TEST(Parser, WhereBroadcasts) {
  NodeRef r = parse_expr("c = input f32[3]\n" + kXY, "where(c, x, y)");
  EXPECT_TRUE(r->is(Op::Where));
  EXPECT_EQ(r->shape, (Shape{2, 3}));
  // A condition of another dtype is cast to bool (nonzero is true).
  EXPECT_TRUE(r->args[0]->is(Op::Cast));
  EXPECT_EQ(r->args[0]->dtype, DType::Bool);
  EXPECT_EQ(r->args[0]->args[0]->name, "c");
}

TEST(Parser, Reductions) {
  std::string x = "x = input f32[2, 3, 4]\n";
  struct Case {
    const char *src;
    Op op;
    std::vector<int64_t> dims;
    bool keepdim;
    Shape shape;
  } cases[] = {
      {"sum(x)", Op::Sum, {0, 1, 2}, false, {}},
      {"sum(x, 1)", Op::Sum, {1}, false, {2, 4}},
      {"sum(x, [0, 2])", Op::Sum, {0, 2}, false, {3}},
      {"sum(x, -1)", Op::Sum, {2}, false, {2, 3}},
      {"max(x, [2, -3])", Op::Max, {0, 2}, false, {3}},
      {"mean(x, 1, keepdim=true)", Op::Mean, {1}, true, {2, 1, 4}},
      {"mean(x, [1], keepdim=false)", Op::Mean, {1}, false, {2, 4}},
      {"max(x, keepdim=true)", Op::Max, {0, 1, 2}, true, {1, 1, 1}},
  };
  for (const Case &c : cases) {
    NodeRef r = parse_expr(x, c.src);
    EXPECT_TRUE(r->is(c.op)) << c.src;
    EXPECT_EQ(r->dims, c.dims) << c.src;
    EXPECT_EQ(r->keepdim, c.keepdim) << c.src;
    EXPECT_EQ(r->shape, c.shape) << c.src;
  }
}

TEST(Parser, Views) {
  std::string x = "x = input f32[2, 3, 4]\nv = input f32[3, 1]\n";
  NodeRef r = parse_expr(x, "reshape(x, [4, -1])");
  EXPECT_TRUE(r->is(Op::Reshape));
  EXPECT_EQ(r->shape, (Shape{4, 6}));
  r = parse_expr(x, "permute(x, [2, 0, 1])");
  EXPECT_TRUE(r->is(Op::Permute));
  EXPECT_EQ(r->dims, (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(r->shape, (Shape{4, 2, 3}));
  r = parse_expr(x, "transpose(x)");
  EXPECT_TRUE(r->is(Op::Permute));
  EXPECT_EQ(r->dims, (std::vector<int64_t>{0, 2, 1}));
  r = parse_expr(x, "expand(v, [2, 3, 4])");
  EXPECT_TRUE(r->is(Op::Expand));
  EXPECT_EQ(r->shape, (Shape{2, 3, 4}));
}

TEST(Parser, MatmulInfixAndCallAreOneNode) {
  Program p = parse(
      "a = input f32[5, 1, 4, 8]\nb = input f32[3, 8, 2]\n"
      "c = a @ b\nd = matmul(a, b)\nout c, d\n");
  NodeRef c = p.outputs[0].second;
  EXPECT_TRUE(c->is(Op::Matmul));
  EXPECT_EQ(c->shape, (Shape{5, 3, 4, 2}));
  EXPECT_EQ(c, p.outputs[1].second);
}

TEST(Parser, LiteralsTakeTheOtherOperandsDtype) {
  std::string x64 = "x = input f64[2]\n";
  NodeRef r = parse_expr(x64, "x + 1");
  EXPECT_EQ(r->dtype, DType::F64);
  EXPECT_EQ(r->args[1]->dtype, DType::F64);
  // Through nested literal-only subexpressions and names bound to them.
  r = parse_expr(x64 + "k = 2 * 3\n", "x * k");
  EXPECT_EQ(r->args[1]->dtype, DType::F64);
  EXPECT_TRUE(r->args[1]->is(Op::Mul));
  // where: x and y decide, and integer literals alone are i64, as
  // torch.where(cond, 1, 0); the condition is bool.
  r = parse_expr(x64, "where(x > 0, 1, 0)");
  EXPECT_EQ(r->args[1]->dtype, DType::I64);
  EXPECT_EQ(r->args[2]->dtype, DType::I64);
  r = parse_expr(x64, "where(x > 0, 1.5, 0)");
  EXPECT_EQ(r->dtype, DType::F32);
  r = parse_expr(x64, "where(1, x, 0)");
  EXPECT_EQ(r->args[0]->dtype, DType::Bool);
  EXPECT_EQ(r->dtype, DType::F64);
  // Only literals: torch's default for their kind, i64 for integers, f32
  // for floats.
  Program p = parse("k = 2 * 3\nout k\n");
  EXPECT_EQ(p.outputs[0].second->dtype, DType::I64);
  EXPECT_TRUE(p.outputs[0].second->is(Op::Mul));
  EXPECT_EQ(bound(p, "k")->dtype, DType::I64);
  EXPECT_EQ(parse("k = 2 * 3.0\nout k\n").outputs[0].second->dtype, DType::F32);
  // An integer tensor keeps its dtype beside an integer literal and is f32
  // beside a float one.
  std::string i32 = "x = input i32[2]\n";
  EXPECT_EQ(parse_expr(i32, "x + 1")->dtype, DType::I32);
  EXPECT_EQ(parse_expr(i32, "x + 1.5")->dtype, DType::F32);
  EXPECT_EQ(parse_expr(i32, "x / 2")->dtype, DType::F32);
  EXPECT_EQ(parse_expr(i32, "x // 2")->dtype, DType::I32);
  EXPECT_EQ(parse_expr(i32, "x < 2")->dtype, DType::Bool);
  EXPECT_EQ(parse_expr("x = input u8[2]\ny = input f64[2]\n", "x * y")->dtype, DType::F64);
}

TEST(Parser, UnaryMinusFoldsIntoLiteralsOnly) {
  NodeRef r = parse_expr(kXY, "x * -1");
  EXPECT_TRUE(r->args[1]->is(Op::Const));
  EXPECT_EQ(r->args[1]->value, -1);
  r = parse_expr(kXY, "x * neg(1)");
  EXPECT_TRUE(r->args[1]->is(Op::Neg));
  r = parse_expr(kXY, "-x");
  EXPECT_TRUE(r->is(Op::Neg));
  r = parse_expr(kXY, "x - -(2)");
  EXPECT_TRUE(r->is(Op::Sub));
  EXPECT_EQ(r->args[1]->value, -2);
}

TEST(Parser, NumberSpellings) {
  const std::pair<const char *, double> cases[] = {
      {"0.5", 0.5},    {"2", 2},    {"1e-3", static_cast<float>(1e-3)}, {".25", 0.25}, {"2.", 2},
      {"1e+10", 1e10}, {"3E2", 300}};
  for (auto [src, want] : cases) {
    NodeRef r = parse_expr(kXY, std::string("x + ") + src);
    EXPECT_EQ(r->args[1]->value, want) << src;
  }
  NodeRef r = parse_expr(kXY, "x + inf");
  EXPECT_TRUE(std::isinf(r->args[1]->value));
  r = parse_expr(kXY, "x + -inf");
  EXPECT_LT(r->args[1]->value, 0);
  r = parse_expr(kXY, "x + nan");
  EXPECT_TRUE(std::isnan(r->args[1]->value));
}

TEST(Parser, Precedence) {
  std::string abcd =
      "a = input f32[2, 2]\nb = input f32[2, 2]\nc = input f32[2, 2]\nd = input f32[2, 2]\n";
  NodeRef r = parse_expr(abcd, "a + b * c");
  EXPECT_TRUE(r->is(Op::Add));
  EXPECT_TRUE(r->args[1]->is(Op::Mul));
  r = parse_expr(abcd, "a - b - c");  // left-associative
  EXPECT_TRUE(r->is(Op::Sub));
  EXPECT_TRUE(r->args[0]->is(Op::Sub));
  EXPECT_EQ(r->args[1]->name, "c");
  r = parse_expr(abcd, "(a + b) * c");
  EXPECT_TRUE(r->is(Op::Mul));
  EXPECT_TRUE(r->args[0]->is(Op::Add));
  r = parse_expr(abcd, "-a * b");  // unary minus binds tighter
  EXPECT_TRUE(r->is(Op::Mul));
  EXPECT_TRUE(r->args[0]->is(Op::Neg));
  r = parse_expr(abcd, "a @ b * c");  // @ is at the level of * and /
  EXPECT_TRUE(r->is(Op::Mul));
  EXPECT_TRUE(r->args[0]->is(Op::Matmul));
  r = parse_expr(abcd, "a + b @ c");
  EXPECT_TRUE(r->is(Op::Add));
  EXPECT_TRUE(r->args[1]->is(Op::Matmul));
  r = parse_expr(abcd, "a + b < c * d");  // comparisons are lowest
  EXPECT_TRUE(r->is(Op::Lt));
  EXPECT_TRUE(r->args[0]->is(Op::Add));
  EXPECT_TRUE(r->args[1]->is(Op::Mul));
  r = parse_expr(abcd, "(a < b) == c");
  EXPECT_TRUE(r->is(Op::Eq));
}

TEST(Parser, CommentsBlankLinesAndCrlf) {
  Program p = parse(
      "# header\n\n   # indented comment\r\nx = input f32[2] # trailing\r\n\n"
      "y = x + 1#no space\nout y");
  EXPECT_EQ(p.outputs[0].second->shape, (Shape{2}));
}

TEST(Parser, AliasesAndSeveralOutLines) {
  Program p = parse("x = input f32[2]\ny = exp(x)\nz = y\nout y\nout z, x\n");
  ASSERT_EQ(p.outputs.size(), 3u);
  EXPECT_EQ(p.outputs[0].second, p.outputs[1].second);
  EXPECT_EQ(p.outputs[1].first, "z");
  EXPECT_EQ(p.outputs[2].second, p.inputs[0]);
}

TEST(Parser, ParseFile) {
  Program p = parse_program_file(std::string(FUSEJIT_SOURCE_DIR) + "/examples/programs/seed.fj");
  EXPECT_EQ(p.outputs.at(0).first, "d");
  EXPECT_THROW(parse_program_file("/nonexistent/x.fj"), IOError);
}

// ---- errors ----

TEST(ParserErrors, Names) {
  expect_error("a = input f32[2]\nc = a + q\nout c\n", 2, 9, "unknown name 'q'");
  expect_error("a = input f32[2]\nb = exp(a)\n  a = exp(b)\nout a\n", 3, 3,
               "'a' is already defined at 1:1");
  expect_error("a = input f32[2]\nout q\n", 2, 5, "unknown name 'q'");
  expect_error("a = input f32[2]\nout a, a\n", 2, 8, "'a' is already an output");
  expect_error("a = input f32[2]\nc = foo(a)\nout c\n", 2, 5, "unknown function 'foo'");
  expect_error("out = input f32[2]\n", 1, 5, "expected a name after 'out'");
  expect_error("input = 1\n", 1, 1, "'input' is a reserved word");
  expect_error("a = input f32[2]\nout a,\n", 2, 7, "expected a name after ','");
}

TEST(ParserErrors, NoOut) {
  expect_error("a = input f32[2]\nb = exp(a)\n", 2, 11, "program has no `out`");
  expect_error("a = input f32[2]", 1, 17, "program has no `out`");
  expect_error("", 1, 1, "program has no `out`");
}

TEST(ParserErrors, ArgumentCounts) {
  expect_error("a = input f32[2]\nc = exp(a, a)\nout c\n", 2, 5, "'exp' takes 1 argument, got 2");
  expect_error("a = input f32[2]\nc = where(a, a)\nout c\n", 2, 5,
               "'where' takes 3 arguments, got 2");
  expect_error("a = input f32[2]\nc = sum()\nout c\n", 2, 5, "'sum' takes 1 to 3 arguments, got 0");
  expect_error("a = input f32[2]\nc = reshape(a)\nout c\n", 2, 5, "'reshape' takes 2 arguments");
  expect_error("a = input f32[2]\nc = pow(a)\nout c\n", 2, 5, "'pow' takes 2 arguments, got 1");
  expect_error("a = input f32[2]\nc = reshape(a, 2)\nout c\n", 2, 16,
               "expected a list of integers");
  expect_error("a = input f32[2]\nc = sum(a, 0.5)\nout c\n", 2, 12, "expected a dim");
  expect_error("a = input f32[2]\nc = sum(a, keepdim=true, 0)\nout c\n", 2, 26,
               "keepdim= must be the last argument");
  expect_error("a = input f32[2]\nc = exp(keepdim=true)\nout c\n", 2, 9, "no keepdim= argument");
}

TEST(ParserErrors, KeepdimMustBeBool) {
  expect_error("a = input f32[2]\nc = sum(a, 0, keepdim=1)\nout c\n", 2, 23,
               "keepdim must be true or false, got '1'");
  expect_error("a = input f32[2]\nc = sum(a, keepdim=yes)\nout c\n", 2, 20, "got 'yes'");
}

TEST(ParserErrors, DtypesAndShapes) {
  expect_error("a = input i16[2]\nout a\n", 1, 11, "unknown dtype 'i16'");
  expect_error("a = input [2]\nout a\n", 1, 11, "expected a dtype");
  expect_error("a = input f32 2\nout a\n", 1, 15, "expected '['");
  expect_error("a = input f32[2,]\nout a\n", 1, 17, "expected an integer, got ']'");
  expect_error("a = input f32[2 3]\nout a\n", 1, 17, "expected ',' or ']'");
  expect_error("a = input f32[2.5]\nout a\n", 1, 15, "expected an integer, got '2.5'");
  expect_error("a = input f32[2\nout a\n", 1, 16, "got end of line");
  expect_error("a = input f32[-1]\nout a\n", 1, 11, "negative extent -1");
  expect_error("a = input f32[9223372036854775807, 2]\nout a\n", 1, 11, "int64");
  expect_error("a = input f32[99999999999999999999]\nout a\n", 1, 15,
               "integer '99999999999999999999' is out of range");
}

TEST(ParserErrors, Tokens) {
  expect_error("a = input f32[2]\nc = a $ a\nout c\n", 2, 7, "unexpected character '$'");
  expect_error("a = input f32[2]\nc = a \x01\nout c\n", 2, 7, "unexpected character '\\x01'");
  expect_error("a = input f32[2]\nc = a a\nout c\n", 2, 7, "expected end of line, got 'a'");
  expect_error("a = input f32[2]\nc = * a\nout c\n", 2, 5, "expected an expression, got '*'");
  expect_error("a = input f32[2]\nc = \nout c\n", 2, 5, "expected an expression, got end of line");
  expect_error("a = input f32[2]\n= a\n", 2, 1, "expected a statement");
  expect_error("a = input f32[2]\nc a\n", 2, 3, "expected '=' after 'c'");
  expect_error("a = input f32[2]\nc = a + 2x\nout c\n", 2, 9, "malformed number '2x'");
  expect_error("a = input f32[2]\nc = a + 1e\nout c\n", 2, 9, "malformed number '1e'");
  expect_error("a = input f32[2]\nc = a + 1e999\nout c\n", 2, 9, "number '1e999' is out of range");
  expect_error("a = input f32[2]\nc = a < a < a\nout c\n", 2, 11, "comparisons do not chain");
  expect_error("a = input f32[2]\nc = input + a\nout c\n", 2, 11, "expected a dtype");
  expect_error("a = input f32[2]\nc = out + a\nout c\n", 2, 5, "unexpected 'out'");
}

TEST(ParserErrors, MissingParen) {
  expect_error("a = input f32[2]\nc = (a + a\nout c\n", 2, 11,
               "expected ')' to match the '(' at 2:5");
  expect_error("a = input f32[2]\nc = exp(a\nout c\n", 2, 10, "expected ',' or ')'");
  expect_error("a = input f32[2]\nc = sum(a, [0\nout c\n", 2, 14, "expected ',' or ']'");
}

TEST(ParserErrors, ShapeErrorsPointAtTheExpression) {
  std::string ab = "a = input f32[2]\nb = input f32[3]\n";
  expect_error(ab + "c = exp(a) + b\nout c\n", 3, 12, "cannot broadcast shapes [2] and [3]");
  expect_error(ab + "c = sum(a, 3)\nout c\n", 3, 5, "dim 3 is out of range");
  expect_error(ab + "c = sum(a, [0, 0])\nout c\n", 3, 5, "repeated");
  expect_error(ab + "c = where(a, b, b)\nout c\n", 3, 5, "[2]");
  expect_error(ab + "c = reshape(a, [4])\nout c\n", 3, 5, "cannot reshape f32[2]");
  expect_error(ab + "c = reshape(a, [-1, -1])\nout c\n", 3, 5, "more than one -1");
  expect_error(ab + "c = permute(a, [1])\nout c\n", 3, 5, "permute");
  expect_error(ab + "c = expand(a, [3])\nout c\n", 3, 5, "cannot expand f32[2]");
  expect_error("a = input f32[2, 3]\nb = input f32[4, 5]\nc = a @ b\nout c\n", 3, 7,
               "matmul: inner dims differ: f32[2, 3] @ f32[4, 5]");
  expect_error("a = input f32[2, 2]\nb = input f64[2, 2]\nc = a @ b\nout c\n", 3, 7, "f32[2, 2]");
  expect_error("a = input i32[2]\nc = mean(a)\nout c\n", 2, 5, "mean: not defined for i32[2]");
  expect_error("k = sum(2, 0)\nout k\n", 1, 5, "out of range");
}

TEST(ParserErrors, CaretKeepsTabs) {
  try {
    parse("a = input f32[2]\n\tc = a + q\nout c\n");
    FAIL();
  } catch (const ParseError &e) {
    EXPECT_EQ(lines_of(e.what()).at(2), "\t        ^");
  }
}

TEST(ParserErrors, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "a = input f32[2]\nc = " + std::string(100000, '(') + "a\nout c\n";
  expect_error(deep, 2, 5 + 256, "nested too deeply");
  std::string minus = "a = input f32[2]\nc = " + std::string(100000, '-') + "a\nout c\n";
  EXPECT_THROW(parse(minus), ParseError);
  std::string calls;
  for (int i = 0; i < 10000; ++i) calls += "exp(";
  EXPECT_THROW(parse("a = input f32[2]\nc = " + calls + "a\nout c\n"), ParseError);
}

TEST(ParserErrors, LongChainsParse) {
  std::string chain = "a = input f32[2]\nc = a";
  for (int i = 0; i < 50000; ++i) chain += " + a";
  Program p = parse(chain + "\nout c\n");
  EXPECT_TRUE(p.outputs[0].second->is(Op::Add));
}

// Every mutation of a valid program parses or throws ParseError: nothing
// else escapes, nothing crashes.
TEST(ParserErrors, MutationsOnlyThrowParseErrors) {
  const std::string base =
      "a = input f32[2, 3, 1]\nb = input f32[3, 2]\nc = sum(a * b, [1], keepdim=true)\n"
      "d = where(c > 0, reshape(c, [-1, 2]), -1e-3) @ transpose(b)\nout d\n";
  const char replacements[] = {'(', ')', '[',  ']', ',', '-', '@', '=', '1', '0',
                               'x', ' ', '\n', '#', '.', 'e', '<', '9', '\0'};
  int parsed = 0, failed = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    for (char r : replacements) {
      for (int erase = 0; erase < 2; ++erase) {
        std::string s = base;
        if (erase)
          s.erase(i, 1);
        else
          s[i] = r;
        try {
          parse(s);
          ++parsed;
        } catch (const ParseError &) {
          ++failed;
        } catch (const std::exception &e) {
          ADD_FAILURE() << "non-ParseError " << e.what() << " for:\n" << s;
        }
      }
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace fusejit
