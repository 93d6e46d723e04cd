// The random-program generator and the reducer behind `fusejit fuzz`: every
// generated program is well typed and round-trips through `.fj`, the same
// seed gives the same program, and the reducer shrinks a failure to its core.
#include <gtest/gtest.h>

#include <set>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "tools/difftest/differential.h"
#include "tools/difftest/random_program.h"
#include "tools/difftest/reduce_program.h"

namespace fusejit::difftest {
namespace {

bool has_op(const Program &p, Op op) {
  for (const Node *n : topo_order(p.output_nodes()))
    if (n->is(op)) return true;
  return false;
}

TEST(RandomProgram, SameSeedSameProgram) {
  for (uint64_t seed : {0, 1, 77})
    EXPECT_EQ(print_program(random_program(seed)), print_program(random_program(seed)));
  EXPECT_NE(print_program(random_program(1)), print_program(random_program(2)));
}

TEST(RandomProgram, ProgramsAreWellTypedAndRoundTrip) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    Program p = random_program(seed);
    std::string text = print_program(p);
    ASSERT_NO_THROW(verify(p.output_nodes())) << text;
    Program q = parse_program(text, "seed" + std::to_string(seed));
    EXPECT_EQ(print_program(q), text) << "seed " << seed;
  }
}

// Every op and every kind of view shows up within a few hundred seeds.
TEST(RandomProgram, CoversEveryOp) {
  std::set<Op> seen;
  bool zero_extent = false, f32 = false, f64 = false;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Program p = random_program(seed);
    for (const Node *n : topo_order(p.output_nodes())) {
      seen.insert(n->op);
      for (int64_t d : n->shape) zero_extent |= d == 0;
      (n->dtype == DType::F32 ? f32 : f64) = true;
    }
  }
#define FUSEJIT_EXPECT_SEEN(name, spelling, ...) EXPECT_TRUE(seen.count(Op::name)) << spelling;
  FUSEJIT_OPS(FUSEJIT_EXPECT_SEEN)
#undef FUSEJIT_EXPECT_SEEN
  EXPECT_TRUE(zero_extent && f32 && f64);
}

// The pattern behind wrong fast-numerics gradients: a max over a row of 5
// to 13 (a vector body and a tail) of exp, sigmoid or log.
TEST(RandomProgram, DrawsMaxesOfTranscendentalsOverRowsWithATail) {
  int found = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    bool has = false;
    Program p = random_program(seed);
    for (const Node *n : topo_order(p.output_nodes())) {
      if (!n->is(Op::Max) || n->args[0]->rank() == 0) continue;
      const NodeRef &f = n->args[0];
      int64_t row = f->shape.back();
      has |= (f->is(Op::Exp) || f->is(Op::Sigmoid) || f->is(Op::Log)) && row >= 5 && row <= 13;
    }
    found += has;
  }
  EXPECT_GE(found, 15) << "of 300 seeds";
}

// A stand-in bug: "any program with an exp in it fails". The reducer must
// strip everything else away and shrink the shapes to ones.
TEST(ReduceProgram, ShrinksToTheFailingOp) {
  Program p;
  uint64_t seed = 0;
  do p = random_program(++seed, {.min_ops = 8, .max_ops = 12});
  while (!has_op(p, Op::Exp) || program_ops(p) < 8);
  auto fails = [](const Program &q) { return has_op(q, Op::Exp); };
  Program r = reduce_program(p, fails);
  EXPECT_TRUE(fails(r));
  EXPECT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(program_ops(r), 1u) << print_program(r);
  EXPECT_LE(program_input_elements(r), 1) << print_program(r);
  EXPECT_NO_THROW(parse_program(print_program(r)));
}

TEST(ReduceProgram, KeepsAProgramNothingSmallerFails) {
  Program p = random_program(3);
  Program r = reduce_program(p, [](const Program &) { return false; });
  EXPECT_EQ(print_program(r), print_program(p));
}

TEST(Differential, AgreeingProgramPasses) {
  CheckResult r =
      check_program_text("a = input f32[3, 5]\nb = input f32[5, 2]\nc = relu(a @ b)\nout c\n");
  EXPECT_EQ(r.kind, CheckResult::Kind::Pass) << r.message;
}

TEST(Differential, UnparsableProgramIsAnError) {
  CheckResult r = check_program_text("a = input f32[3\nout a\n");
  EXPECT_EQ(r.kind, CheckResult::Kind::Error);
  EXPECT_NE(r.message.find("error"), std::string::npos) << r.message;
}

// End to end with a real failure: an input no memory holds makes the
// check an error; the reducer keeps the cause and drops everything else.
TEST(Differential, AnErrorIsReducedToItsCause) {
  Program p = parse_program(
      "a = input f32[3, 5]\n"
      "huge = input f32[100000000000000]\n"
      "b = exp(a) * 2\n"
      "c = sum(huge)\n"
      "d = sum(b, 1) + c\n"
      "out b, d\n");
  CheckResult first = check_program(p);
  ASSERT_EQ(first.kind, CheckResult::Kind::Error);
  EXPECT_NE(first.message.find("f32[100000000000000]"), std::string::npos) << first.message;
  Program r = reduce_program(
      p, [](const Program &q) { return check_program(q).kind == CheckResult::Kind::Error; });
  EXPECT_EQ(r.outputs.size(), 1u) << print_program(r);
  EXPECT_LE(program_ops(r), 2u) << print_program(r);  // r0 + sum(huge)
  EXPECT_EQ(check_program(r).kind, CheckResult::Kind::Error);
}

}  // namespace
}  // namespace fusejit::difftest
