// canonicalize's identities: in strict numerics only those exact in IEEE
// arithmetic for every x, signed zeros and NaN included; in fast numerics
// also x + 0 and x - (-0), which ignore the sign of zero.
#include "engine/canonicalize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include <fusejit/fusejit.h>

#include "engine/pipeline.h"
#include "ir/graph.h"
#include "scoped_defaults.h"

namespace fusejit {
namespace {

// Whether canonicalize under `numerics` replaces `op(x, c)` (or `op(c, x)`
// when `c_first`) by x itself.
bool folds(Op op, double c, Numerics numerics, bool c_first = false) {
  NodeRef x = ir::input(DType::F32, {3}, "x");
  NodeRef k = ir::constant(c, DType::F32);
  NodeRef n = c_first ? ir::binary(op, k, x) : ir::binary(op, x, k);
  return canonicalize({n}, numerics)[0] == x;
}

TEST(Canonicalize, StrictKeepsOnlyIeeeExactIdentities) {
  const Numerics s = Numerics::Strict;
  EXPECT_FALSE(folds(Op::Add, 0.0, s)) << "-0 + 0 is +0, not x";
  EXPECT_FALSE(folds(Op::Add, 0.0, s, true)) << "0 + -0 is +0, not x";
  EXPECT_TRUE(folds(Op::Add, -0.0, s));
  EXPECT_TRUE(folds(Op::Add, -0.0, s, true));
  EXPECT_TRUE(folds(Op::Sub, 0.0, s));
  EXPECT_FALSE(folds(Op::Sub, -0.0, s)) << "-0 - (-0) is +0, not x";
  EXPECT_TRUE(folds(Op::Mul, 1.0, s));
  EXPECT_TRUE(folds(Op::Mul, 1.0, s, true));
  EXPECT_TRUE(folds(Op::Div, 1.0, s));
  EXPECT_FALSE(folds(Op::Sub, 0.0, s, true)) << "0 - x is not x";
  EXPECT_FALSE(folds(Op::Div, 1.0, s, true)) << "1 / x is not x";
}

TEST(Canonicalize, FastIgnoresTheSignOfZero) {
  const Numerics f = Numerics::Fast;
  EXPECT_TRUE(folds(Op::Add, 0.0, f));
  EXPECT_TRUE(folds(Op::Add, 0.0, f, true));
  EXPECT_TRUE(folds(Op::Add, -0.0, f));
  EXPECT_TRUE(folds(Op::Sub, 0.0, f));
  EXPECT_TRUE(folds(Op::Sub, -0.0, f));
  EXPECT_TRUE(folds(Op::Mul, 1.0, f));
}

// Through realize(): -0.0 + 0 is +0.0 in strict numerics, as IEEE says, and
// x + (-0.0) keeps -0.0.
TEST(Canonicalize, StrictNegativeZeroPlusZeroIsPositiveZero) {
  std::optional<ScopedDefaults> strict(std::in_place, Numerics::Strict);
  Tensor x = Tensor::from_vector<float>({-0.0f, 2.0f});
  std::vector<float> plus_zero = (x + 0.0).to_vector<float>();
  std::vector<float> zero_plus = (0.0 + x).to_vector<float>();
  std::vector<float> minus_neg_zero = (x - (-0.0)).to_vector<float>();
  std::vector<float> plus_neg_zero = (x + (-0.0)).to_vector<float>();
  strict.reset();
  EXPECT_FALSE(std::signbit(plus_zero[0]));
  EXPECT_FALSE(std::signbit(zero_plus[0]));
  EXPECT_FALSE(std::signbit(minus_neg_zero[0]));
  EXPECT_TRUE(std::signbit(plus_neg_zero[0]));
  EXPECT_EQ(plus_zero[1], 2.0f);
}

}  // namespace
}  // namespace fusejit
