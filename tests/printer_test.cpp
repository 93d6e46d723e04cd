#include "ir/printer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/verifier.h"

namespace fusejit {
namespace {

std::string print_source(const std::string &src) { return print_program(parse_program(src)); }

// print -> parse -> print gives the same text.
void expect_round_trip(const std::string &printed) {
  Program again = parse_program(printed, "printed.fj");
  verify(again.output_nodes());
  EXPECT_EQ(print_program(again), printed);
}

TEST(Printer, SeedExample) {
  std::string printed = print_source(
      "a = input f32[2, 3, 1]\n"
      "b = input f32[3, 2]\n"
      "c = sum(a * b, 1)          # f32[2, 2]\n"
      "d = relu(c) + 0.5\n"
      "out d\n");
  EXPECT_EQ(printed,
            "a = input f32[2, 3, 1]\n"
            "b = input f32[3, 2]\n"
            "t0 = a * b  # f32[2, 3, 2]\n"
            "c = sum(t0, [1])  # f32[2, 2]\n"
            "t1 = relu(c)  # f32[2, 2]\n"
            "d = t1 + 0.5  # f32[2, 2]\n"
            "out d\n");
  expect_round_trip(printed);
}

TEST(Printer, EveryExampleProgramRoundTrips) {
  std::filesystem::path dir = std::filesystem::path(FUSEJIT_SOURCE_DIR) / "examples" / "programs";
  int files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".fj") continue;
    SCOPED_TRACE(entry.path().string());
    Program p = parse_program_file(entry.path().string());
    verify(p.output_nodes());
    expect_round_trip(print_program(p));
    ++files;
  }
  EXPECT_GE(files, 8);
}

TEST(Printer, HashConsingMakesEqualExpressionsOneNode) {
  Program p = parse_program("a = input f32[2]\nb = input f32[2]\nc = a + b\nd = a + b\nout c, d\n");
  EXPECT_EQ(p.outputs[0].second, p.outputs[1].second);
  std::string printed = print_program(p);
  // One line computes a + b; the second output name is an alias of it.
  EXPECT_EQ(printed,
            "a = input f32[2]\n"
            "b = input f32[2]\n"
            "c = a + b  # f32[2]\n"
            "d = c  # f32[2]\n"
            "out c, d\n");
  expect_round_trip(printed);
}

TEST(Printer, EveryOpForm) {
  std::string printed = print_source(
      "x = input f32[2, 3]\n"
      "y = permute(expand(reshape(x, [3, 2, 1]), [3, 2, 4]), [2, 0, 1])\n"
      "z = max(y, [0, -1], keepdim=true)\n"
      "w = where(x > 0, pow(x, 2), -x) @ transpose(x)\n"
      "out z, w\n");
  EXPECT_EQ(printed,
            "x = input f32[2, 3]\n"
            "t0 = reshape(x, [3, 2, 1])  # f32[3, 2, 1]\n"
            "t1 = expand(t0, [3, 2, 4])  # f32[3, 2, 4]\n"
            "y = permute(t1, [2, 0, 1])  # f32[4, 3, 2]\n"
            "z = max(y, [0, 2], keepdim=true)  # f32[1, 3, 1]\n"
            "t2 = x > 0  # bool[2, 3]\n"
            "t3 = pow(x, 2)  # f32[2, 3]\n"
            "t4 = neg(x)  # f32[2, 3]\n"
            "t5 = where(t2, t3, t4)  # f32[2, 3]\n"
            "t6 = permute(x, [1, 0])  # f32[3, 2]\n"
            "w = t5 @ t6  # f32[2, 2]\n"
            "out z, w\n");
  expect_round_trip(printed);
}

TEST(Printer, LiteralsReLexAsNumbers) {
  std::string printed = print_source(
      "x = input f32[2]\n"
      "y = (x - -0.5) * 1e10 + 3e-20 / x\n"
      "z = maximum(y, -inf) + minimum(y, inf) * nan + neg(-1) + pow(x, -0)\n"
      "out z\n");
  EXPECT_NE(printed.find("x - (-0.5)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("* 1e+10"), std::string::npos) << printed;
  EXPECT_NE(printed.find("2.9999999e-20 / x"), std::string::npos) << printed;
  EXPECT_NE(printed.find("maximum(y, -inf)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("* nan"), std::string::npos) << printed;
  // A float constant with an integer value prints with a point, so that it
  // re-lexes as a float literal and keeps its dtype.
  EXPECT_NE(printed.find("neg(-1.0)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("pow(x, -0)"), std::string::npos) << printed;
  expect_round_trip(printed);
}

TEST(Printer, ConstantOutputsAndLiteralOnlyOps) {
  std::string printed = print_source("c = 0.5\nk = 2 * -3\nout c, k\n");
  EXPECT_EQ(printed,
            "c = 0.5  # f32[]\n"
            "k = 2 * (-3)  # i64[]\n"
            "out c, k\n");
  expect_round_trip(printed);
  // An f64 literal-only op keeps its dtype when a typed operand uses it...
  printed = print_source("x = input f64[2]\ny = x * (2 + 3)\nout y\n");
  expect_round_trip(printed);
  // ...but an f64 literal-only output has no way to say f64 and reads back as f32.
  Program p;
  p.outputs.emplace_back("k", ir::constant(2, DType::F64));
  EXPECT_EQ(print_program(p), "k = 2.0  # f64[]\nout k\n");
  EXPECT_EQ(parse_program(print_program(p)).outputs[0].second->dtype, DType::F32);
}

// A literal-only binding used in f64 and also output (in f32) is two nodes;
// printing must still be idempotent.
TEST(Printer, LiteralOnlyBindingUsedInBothDtypes) {
  std::string printed = print_source("x = input f64[2]\nk = log(0.1)\ny = x * k\nout y, k\n");
  EXPECT_EQ(printed,
            "x = input f64[2]\n"
            "t0 = log(0.1)  # f64[]\n"
            "y = x * t0  # f64[2]\n"
            "k = log(0.100000001)  # f32[]\n"
            "out y, k\n");
  expect_round_trip(printed);
}

TEST(Printer, NamesForGraphsBuiltThroughTheApi) {
  NodeRef a = ir::input(DType::F32, {2});
  NodeRef b = ir::input(DType::F32, {2}, "t0");  // a name the printer would otherwise generate
  NodeRef c = ir::unary(Op::Exp, ir::binary(Op::Add, a, b));
  Program p;
  p.inputs = {a, b};
  p.outputs.emplace_back("result", c);
  std::string printed = print_program(p);
  EXPECT_EQ(printed,
            "x0 = input f32[2]\n"
            "t0 = input f32[2]\n"
            "t1 = x0 + t0  # f32[2]\n"
            "result = exp(t1)  # f32[2]\n"
            "out result\n");
  expect_round_trip(printed);
}

TEST(Printer, InputsOnlyReachedFromOutputsAreDeclared) {
  NodeRef a = ir::input(DType::F64, {3}, "a");
  Program p;
  p.outputs.emplace_back("s", ir::reduce(Op::Sum, a, {}));
  EXPECT_EQ(print_program(p), "a = input f64[3]\ns = sum(a, [0])  # f64[]\nout s\n");
}

}  // namespace
}  // namespace fusejit
