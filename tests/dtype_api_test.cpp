// Integer and boolean tensors through the C++ API, against the values
// PyTorch gives: promotion (tensor with tensor, tensor with a Scalar),
// comparisons and logical ops giving bool, Python's // and %, rounding,
// the integer reductions, clamp, masked_fill, the *_like constants and
// to(). Each result is read through the JIT (realize runs the pipeline).
// The JIT against the interpreter, op by op on odd shapes, is
// tests/lower_test.cpp (Lower.Integer*); mistakes are rows of
// tests/bad_input_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

#include <fusejit/fusejit.h>

namespace fusejit {
namespace {

Tensor i32(const std::vector<int32_t> &v) {
  return Tensor::from_vector<int32_t>(v, {static_cast<int64_t>(v.size())});
}
Tensor i64(const std::vector<int64_t> &v) {
  return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}
Tensor u8(const std::vector<uint8_t> &v) {
  return Tensor::from_vector<uint8_t>(v, {static_cast<int64_t>(v.size())});
}
Tensor f32(const std::vector<float> &v) {
  return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size())});
}
Tensor boolean(const std::vector<bool> &v) {
  return Tensor::from_vector<bool>(v, {static_cast<int64_t>(v.size())});
}

TEST(DTypeApi, TensorsOfTwoDtypesComputeInTheWiderOne) {
  EXPECT_EQ((i32({1, 2}) + i64({3, 4})).dtype(), DType::I64);
  EXPECT_EQ((u8({1, 2}) + i32({3, 4})).dtype(), DType::I32);
  EXPECT_EQ((boolean({true, false}) + u8({3, 4})).dtype(), DType::U8);
  EXPECT_EQ((i64({1, 2}) * f32({0.5f, 2})).dtype(), DType::F32);
  Tensor mixed = f32({0.5f, 1}) + Tensor::ones({2}, DType::F64);
  EXPECT_EQ(mixed.dtype(), DType::F64);
  EXPECT_EQ(mixed.to_vector<double>(), (std::vector<double>{1.5, 2}));
  EXPECT_EQ((i32({1, 2}) + i64({3, 4})).to_vector<int64_t>(), (std::vector<int64_t>{4, 6}));
}

TEST(DTypeApi, AScalarTakesTheTensorsDtypeUnlessOfAWiderKind) {
  Tensor x = i32({1, -2, 3});
  EXPECT_EQ((x + 2).dtype(), DType::I32);
  EXPECT_EQ((x + 2).to_vector<int32_t>(), (std::vector<int32_t>{3, 0, 5}));
  EXPECT_EQ((2 * x).to_vector<int32_t>(), (std::vector<int32_t>{2, -4, 6}));
  EXPECT_EQ((x + 2.5).dtype(), DType::F32);
  EXPECT_EQ((x + 2.5).to_vector<float>(), (std::vector<float>{3.5f, 0.5f, 5.5f}));
  EXPECT_EQ((u8({250, 3}) + 10).dtype(), DType::U8);
  EXPECT_EQ((u8({250, 3}) + 10).to_vector<uint8_t>(), (std::vector<uint8_t>{4, 13}))
      << "u8 arithmetic wraps, as torch's";
  EXPECT_EQ((boolean({true, false}) + 1).dtype(), DType::I64);
  EXPECT_EQ((Tensor::ones({2}, DType::F64) * 3).dtype(), DType::F64);
  EXPECT_EQ((f32({1, 2}) * 3).dtype(), DType::F32);
}

TEST(DTypeApi, IntegerDivisionIsTrueDivisionInF32) {
  Tensor q = i32({7, -7, 1}) / 2;
  EXPECT_EQ(q.dtype(), DType::F32);
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{3.5f, -3.5f, 0.5f}));
  EXPECT_EQ((i64({3}) / i64({4})).to_vector<float>(), (std::vector<float>{0.75f}));
}

TEST(DTypeApi, FloorDivideAndRemainderRoundTowardMinusInfinity) {
  Tensor a = i32({7, -7, 7, -7, 0}), b = i32({2, 2, -2, -2, 3});
  EXPECT_EQ(floor_divide(a, b).to_vector<int32_t>(), (std::vector<int32_t>{3, -4, -4, 3, 0}));
  EXPECT_EQ((a % b).to_vector<int32_t>(), (std::vector<int32_t>{1, 1, -1, -1, 0}));
  EXPECT_EQ(remainder(a, 3).to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 1, 2, 0}));
  Tensor f = f32({-7.5f, 7.5f});
  EXPECT_EQ((f % 2).to_vector<float>(), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_EQ(floor_divide(f, 2).to_vector<float>(), (std::vector<float>{-4, 3}));
}

TEST(DTypeApi, IntegerDivisionByZeroIsAValueErrorNamingTheValues) {
  Tensor a = i32({4, 5, 6}), b = i32({1, 0, 0});
  try {
    floor_divide(a, b).realize();
    FAIL() << "no error";
  } catch (const ValueError &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("division by zero"), std::string::npos) << m;
    EXPECT_NE(m.find("5 // 0"), std::string::npos) << "the first such element: " << m;
  }
  EXPECT_THROW((a % b).realize(), ValueError);
  // Floats divide by zero as IEEE does.
  EXPECT_TRUE(std::isinf(floor_divide(f32({1}), 0).item<float>()));
}

TEST(DTypeApi, ComparisonsAndLogicalOpsGiveBool) {
  Tensor x = i32({1, 2, 3}), y = i32({3, 2, 1});
  EXPECT_EQ((x < y).dtype(), DType::Bool);
  EXPECT_EQ((x < y).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ((x <= y).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((x >= 2).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ((x != y).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ((f32({0.5f, 2}) == 2).to_vector<bool>(), (std::vector<bool>{false, true}));
  Tensor p = x > 1, q = y > 1;
  EXPECT_EQ(logical_and(p, q).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(logical_or(p, q).to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(logical_not(p).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(logical_not(f32({0, 3})).to_vector<bool>(), (std::vector<bool>{true, false}))
      << "nonzero is true";
}

TEST(DTypeApi, WhereTakesABoolConditionAndPromotes) {
  Tensor c = i32({1, 5, 3}) > 2;
  EXPECT_EQ(where(c, 1.0, 0).dtype(), DType::F32);
  EXPECT_EQ(where(c, 1.0, 0).to_vector<float>(), (std::vector<float>{0, 1, 1}));
  EXPECT_EQ(where(c, 7, 0).dtype(), DType::I64);
  Tensor w = where(c, i32({1, 2, 3}), f32({-1, -2, -3}));
  EXPECT_EQ(w.dtype(), DType::F32);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{-1, 2, 3}));
}

TEST(DTypeApi, RoundingHalfToEvenAndIntegersUnchanged) {
  Tensor f = f32({-2.5f, -1.5f, -0.4f, 0.5f, 1.5f, 2.7f});
  EXPECT_EQ(f.floor().to_vector<float>(), (std::vector<float>{-3, -2, -1, 0, 1, 2}));
  EXPECT_EQ(f.ceil().to_vector<float>(), (std::vector<float>{-2, -1, -0.0f, 1, 2, 3}));
  EXPECT_EQ(f.round().to_vector<float>(), (std::vector<float>{-2, -2, -0.0f, 0, 2, 3}));
  Tensor x = i32({-3, 4});
  EXPECT_EQ(x.floor().dtype(), DType::I32);
  EXPECT_EQ(x.round().to_vector<int32_t>(), (std::vector<int32_t>{-3, 4}));
  EXPECT_EQ(x.abs().to_vector<int32_t>(), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ((-x).to_vector<int32_t>(), (std::vector<int32_t>{3, -4}));
  EXPECT_EQ(x.exp().dtype(), DType::F32) << "exp of an integer computes in f32";
}

TEST(DTypeApi, ReductionsOfIntegersAndBools) {
  Tensor x = Tensor::from_vector<int32_t>({1, -2, 3, 4, 5, -6}, {2, 3});
  EXPECT_EQ(x.sum().dtype(), DType::I64) << "sums of integers are i64, as torch's";
  EXPECT_EQ(x.sum().item<int64_t>(), 5);
  EXPECT_EQ(x.sum({1}).to_vector<int64_t>(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(x.prod({0}).to_vector<int64_t>(), (std::vector<int64_t>{4, -10, -18}));
  EXPECT_EQ(x.max({1}).to_vector<int32_t>(), (std::vector<int32_t>{3, 5}));
  EXPECT_EQ(x.min({1}, true).sizes(), (Shape{2, 1}));
  EXPECT_EQ(x.min({1}).to_vector<int32_t>(), (std::vector<int32_t>{-2, -6}));
  Tensor b = x > 0;
  EXPECT_EQ(b.sum().item<int64_t>(), 4) << "a count of the true elements";
  EXPECT_EQ(b.any({1}).to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ(b.all({1}).to_vector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_EQ(b.all({0}).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_TRUE(f32({0, 0.5f}).any().item<bool>());
  EXPECT_FALSE(f32({0, 0.5f}).all().item<bool>());
  EXPECT_EQ(f32({2, -3}).prod().item<float>(), -6);
  EXPECT_EQ(f32({2, -3}).min().item<float>(), -3);
}

TEST(DTypeApi, ClampMaskedFillAndTheLikeConstants) {
  Tensor x = i32({-5, 0, 5});
  EXPECT_EQ(x.clamp(-1, 1).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(clamp(x, std::nullopt, 2).to_vector<int32_t>(), (std::vector<int32_t>{-5, 0, 2}));
  EXPECT_EQ(x.clamp(0.5).dtype(), DType::F32) << "a float bound promotes, as torch.clamp";
  Tensor f = f32({1, 2, 3});
  EXPECT_EQ(f.masked_fill(x > 0, -1).to_vector<float>(), (std::vector<float>{1, 2, -1}));
  Tensor m = Tensor::from_vector<bool>({true, false}, {2, 1});
  Tensor g = Tensor::ones({2, 3}).masked_fill(m, 0);
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(zeros_like(x).dtype(), DType::I32);
  EXPECT_EQ(zeros_like(x).to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(ones_like(x, DType::Bool).to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(full_like(f, 2.5).to_vector<float>(), (std::vector<float>{2.5f, 2.5f, 2.5f}));
}

TEST(DTypeApi, ToConvertsLazilyAsTorchDoes) {
  Tensor f = f32({3.7f, -3.7f, 0.0f, 1e10f, -1e10f, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_EQ(f.to(DType::I32).to_vector<int32_t>(),
            (std::vector<int32_t>{3, -3, 0, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0}))
      << "toward zero, saturating, NaN to 0";
  EXPECT_EQ(f.to(DType::Bool).to_vector<bool>(),
            (std::vector<bool>{true, true, false, true, true, true}));
  EXPECT_EQ(i32({300, -1}).to(DType::U8).to_vector<uint8_t>(), (std::vector<uint8_t>{44, 255}))
      << "integer to integer wraps";
  EXPECT_EQ(boolean({true, false}).to(DType::F64).to_vector<double>(), (std::vector<double>{1, 0}));
}

TEST(DTypeApi, ToIsDifferentiableBetweenFloatDtypes) {
  Tensor x = f32({1, 2}).requires_grad_();
  Tensor y = x.to(DType::F64);
  EXPECT_TRUE(y.requires_grad());
  (y * y).sum().backward();
  EXPECT_EQ(x.grad().dtype(), DType::F32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4}));
  EXPECT_FALSE(x.to(DType::I32).requires_grad()) << "no gradient flows into an integer";
}

TEST(DTypeApi, ArangeEyeRandintAndOneHot) {
  EXPECT_EQ(arange(4).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(arange(2, 9, 3).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(arange(3, 0, -1, DType::F32).to_vector<float>(), (std::vector<float>{3, 2, 1}));
  EXPECT_EQ(arange(0).numel(), 0);
  EXPECT_THROW(arange(0, 3, 0), ValueError);
  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  std::vector<int64_t> r = randint(-2, 3, {1000}, DType::I64, 5).to_vector<int64_t>();
  std::vector<int> seen(5);
  for (int64_t v : r) {
    ASSERT_GE(v, -2);
    ASSERT_LT(v, 3);
    ++seen[static_cast<size_t>(v + 2)];
  }
  for (int n : seen) EXPECT_GT(n, 150) << "every value drawn";
  EXPECT_EQ(randint(0, 9, {4}, DType::I32, 7).to_vector<int32_t>(),
            randint(0, 9, {4}, DType::I32, 7).to_vector<int32_t>())
      << "seeded";
  Tensor oh = one_hot(i32({2, 0}), 3);
  EXPECT_EQ(oh.dtype(), DType::I64);
  EXPECT_EQ(oh.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(one_hot(i32({1}), 2, DType::F32).to_vector<float>(), (std::vector<float>{0, 1}));
  // The labels are checked where the one-hot values are computed.
  Tensor bad = one_hot(i64({0, 5, 1}), 3);
  try {
    bad.to_vector<int64_t>();
    FAIL() << "no error";
  } catch (const IndexError &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("index 5 is out of bounds for a dim of 3 elements"), std::string::npos) << m;
  }
  EXPECT_THROW(one_hot(i64({-1}), 3).to_vector<int64_t>(), IndexError);
  EXPECT_THROW(one_hot(f32({1}), 2), ShapeError);
}

TEST(DTypeApi, ArgmaxAndArgminAsTorch) {
  Tensor x = Tensor::from_vector<float>({1, 7, 7, -2, 0, 3}, {2, 3});
  EXPECT_EQ(x.argmax(1).dtype(), DType::I64);
  EXPECT_EQ(x.argmax(1).to_vector<int64_t>(), (std::vector<int64_t>{1, 2})) << "first on ties";
  EXPECT_EQ(x.argmin(1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(x.argmax(0).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(x.argmax(-1, true).sizes(), (Shape{2, 1}));
  EXPECT_EQ(x.argmax().item<int64_t>(), 1) << "the flat index";
  EXPECT_EQ(x.argmin().item<int64_t>(), 3);
  EXPECT_EQ(x.argmax(std::nullopt, true).sizes(), (Shape{1, 1}));
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(f32({1, nan, 5, nan}).argmax().item<int64_t>(), 1) << "NaN is the largest, as torch";
  EXPECT_EQ(f32({1, nan, -5}).argmin().item<int64_t>(), 1);
  EXPECT_EQ(i32({3, 9, 9}).argmax().item<int64_t>(), 1);
  Tensor g = Tensor::randn({4, 5}, DType::F32, 1).requires_grad_();
  EXPECT_FALSE(g.argmax(1).requires_grad()) << "an index has no gradient";
  EXPECT_THROW(Tensor::zeros({2, 0}).argmax(1), ShapeError);
  EXPECT_THROW(x.argmax(2), ShapeError);
}

TEST(DTypeApi, IntegerTensorsPrintAsLibtorch) {
  std::ostringstream os;
  os << i64({1, 2});
  EXPECT_NE(os.str().find("CPULongType{2}"), std::string::npos) << os.str();
  std::ostringstream bs;
  bs << boolean({true});
  EXPECT_NE(bs.str().find("CPUBoolType{1}"), std::string::npos) << bs.str();
}

}  // namespace
}  // namespace fusejit
