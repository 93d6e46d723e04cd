#include "ir/verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/parser.h"

namespace fusejit {
namespace {

// A node built by hand, bypassing the checked constructors: the only way
// to get a broken one.
std::shared_ptr<Node> raw(Op op, DType dtype, Shape shape, std::vector<NodeRef> args) {
  auto n = std::make_shared<Node>();
  n->op = op;
  n->dtype = dtype;
  n->shape = std::move(shape);
  n->args = std::move(args);
  return n;
}

// verify() must throw an InternalError whose message contains `needle`.
void expect_broken(const NodeRef &root, const std::string &needle) {
  try {
    verify({root});
    ADD_FAILURE() << "expected an InternalError";
  } catch (const InternalError &e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Verifier, ValidGraphsPass) {
  NodeRef a = ir::input(DType::F32, {2, 3, 1}, "a");
  NodeRef b = ir::input(DType::F32, {3, 2}, "b");
  NodeRef c = ir::reduce(Op::Sum, ir::binary(Op::Mul, a, b), {1}, true);
  NodeRef d = ir::matmul(ir::reshape(c, {2, 2}), ir::transpose(b));
  NodeRef e = ir::where(ir::binary(Op::Gt, d, ir::constant(0, DType::F32)), d,
                        ir::expand(ir::constant(1, DType::F32), {2, 3}));
  NodeRef f = ir::permute(ir::unary(Op::Exp, e), {1, 0});
  EXPECT_NO_THROW(verify({f, c}));
  EXPECT_NO_THROW(verify({ir::matmul(ir::input(DType::F64, {3}), ir::input(DType::F64, {3, 4}))}));
  EXPECT_NO_THROW(verify({}));
}

TEST(Verifier, EveryExampleProgramPasses) {
  std::filesystem::path dir = std::filesystem::path(FUSEJIT_SOURCE_DIR) / "examples" / "programs";
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".fj") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(verify(parse_program_file(entry.path().string()).output_nodes()));
  }
}

TEST(Verifier, WrongShapeNamesTheNode) {
  NodeRef a = ir::input(DType::F32, {2, 3});
  NodeRef b = ir::input(DType::F32, {3});
  NodeRef bad = raw(Op::Add, DType::F32, {3, 3}, {a, b});
  expect_broken(bad, "+ f32[3, 3] of (f32[2, 3], f32[3])");
  expect_broken(bad, "shape should be [2, 3]");
  // Found below a valid node as well.
  expect_broken(ir::unary(Op::Exp, bad), "shape should be [2, 3]");
}

TEST(Verifier, ShapeRuleThatCannotApply) {
  NodeRef a = ir::input(DType::F32, {2, 3});
  NodeRef b = ir::input(DType::F32, {2, 3});
  expect_broken(raw(Op::Matmul, DType::F32, {2, 3}, {a, b}), "inner dims differ");
  expect_broken(raw(Op::Reshape, DType::F32, {5}, {a}), "shape rule fails");
}

TEST(Verifier, ArityAndNulls) {
  NodeRef a = ir::input(DType::F32, {2});
  expect_broken(raw(Op::Add, DType::F32, {2}, {a}), "expected 2 args");
  expect_broken(raw(Op::Exp, DType::F32, {2}, {a, a}), "expected 1 args");
  expect_broken(raw(Op::Exp, DType::F32, {2}, {nullptr}), "null");
  EXPECT_THROW(verify({nullptr}), InternalError);
}

TEST(Verifier, Dtypes) {
  NodeRef a = ir::input(DType::F32, {2});
  NodeRef b = ir::input(DType::F64, {2});
  expect_broken(raw(Op::Add, DType::F32, {2}, {a, b}), "operand dtypes must be equal");
  expect_broken(raw(Op::Exp, DType::F64, {2}, {a}), "result dtype must be f32");
  expect_broken(raw(Op::Lt, DType::F32, {2}, {a, a}), "result dtype must be bool");
  expect_broken(raw(Op::Where, DType::F32, {2}, {b, a, b}), "where");
  // A where's condition may have another dtype than its values.
  EXPECT_NO_THROW(verify({ir::where(b, a, a)}));
}

TEST(Verifier, Attributes) {
  NodeRef x = ir::input(DType::F32, {2, 3, 4});
  auto unsorted = raw(Op::Sum, DType::F32, {4}, {x});
  unsorted->dims = {1, 0};
  expect_broken(unsorted, "not sorted and unique");
  auto out_of_range = raw(Op::Sum, DType::F32, {2, 3}, {x});
  out_of_range->dims = {3};
  expect_broken(out_of_range, "out of range");
  auto not_perm = raw(Op::Permute, DType::F32, {3, 3, 4}, {x});
  not_perm->dims = {1, 1, 2};
  expect_broken(not_perm, "not a permutation");
  auto stray = raw(Op::Exp, DType::F32, {2, 3, 4}, {x});
  stray->dims = {0};
  expect_broken(stray, "on an op that has none");
  auto tensor_const = raw(Op::Const, DType::F32, {2}, {});
  expect_broken(tensor_const, "scalar");
  auto no_id = raw(Op::Input, DType::F32, {2}, {});
  expect_broken(no_id, "without an id");
  auto negative = raw(Op::Input, DType::F32, {-2}, {});
  negative->id = 12345;
  expect_broken(negative, "negative extent");
}

}  // namespace
}  // namespace fusejit
