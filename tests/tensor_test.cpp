#include <gtest/gtest.h>

#include <cmath>

#include <fusejit/fusejit.h>

#include "ir/node.h"

namespace fusejit {
namespace {

TEST(Tensor, BuildingComputesNothingAndReadingCachesTheValue) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3, 1});
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor d = (a * b).sum({1}).relu() + 0.5;
  EXPECT_EQ(d.shape(), (Shape{2, 2}));
  EXPECT_FALSE(d.node()->attached()) << "building a tensor must compute nothing";
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{4.5f, 5.5f, 10.5f, 11.5f}));
  auto cached = d.node()->attached();
  ASSERT_TRUE(cached);
  d.to_vector<float>();
  EXPECT_EQ(d.node()->attached(), cached) << "a second read must not recompute";
}

TEST(Tensor, IdenticalExpressionsShareOneNode) {
  Tensor a = Tensor::rand({3, 4});
  Tensor b = Tensor::rand({4});
  EXPECT_EQ((a + b).exp().node(), (a + b).exp().node());
  EXPECT_NE((a + b).node(), (b + a).node());
}

TEST(Tensor, Factories) {
  EXPECT_EQ(Tensor::zeros({2, 2}).to_vector<float>(), (std::vector<float>(4, 0.f)));
  EXPECT_EQ(Tensor::ones({3}, DType::F64).to_vector<double>(), (std::vector<double>(3, 1.0)));
  EXPECT_EQ(Tensor::full({2}, 7.5).to_vector<float>(), (std::vector<float>{7.5f, 7.5f}));
  EXPECT_EQ(Tensor::scalar(2.0, DType::F64).item<double>(), 2.0);
  std::vector<float> r1 = Tensor::rand({100}, DType::F32, 42).to_vector<float>();
  std::vector<float> r2 = Tensor::rand({100}, DType::F32, 42).to_vector<float>();
  EXPECT_EQ(r1, r2) << "the same seed gives the same values";
  for (float v : r1) EXPECT_TRUE(v >= 0.f && v < 1.f) << v;
  std::vector<double> n = Tensor::randn({10000}, DType::F64, 7).to_vector<double>();
  double mean = 0, var = 0;
  for (double v : n) mean += v / n.size();
  for (double v : n) var += (v - mean) * (v - mean) / n.size();
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(var, 1.0, 0.05);
}

TEST(Tensor, ArithmeticBroadcastsLikeNumpy) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3}, {3, 1});
  Tensor b = Tensor::from_vector<double>({10, 20}, {2});
  EXPECT_EQ((a + b).to_vector<double>(), (std::vector<double>{11, 21, 12, 22, 13, 23}));
  EXPECT_EQ((a * b - 1.0).shape(), (Shape{3, 2}));
  EXPECT_EQ((2.0 / a).to_vector<double>(), (std::vector<double>{2, 1, 2.0 / 3}));
  EXPECT_EQ((a < 2.5).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((a == 2.0).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(where(a > 1.5, a, -a).to_vector<double>(), (std::vector<double>{-1, 2, 3}));
  EXPECT_EQ(a.pow(2.0).to_vector<double>(), (std::vector<double>{1, 4, 9}));
  EXPECT_EQ(maximum(a, Tensor::full({1}, 2.0, DType::F64)).to_vector<double>(),
            (std::vector<double>{2, 2, 3}));
}

TEST(Tensor, UnaryOps) {
  Tensor x = Tensor::from_vector<double>({-1.0, 0.25, 4.0});
  EXPECT_EQ(x.relu().to_vector<double>(), (std::vector<double>{0, 0.25, 4}));
  EXPECT_EQ(x.abs().to_vector<double>(), (std::vector<double>{1, 0.25, 4}));
  EXPECT_EQ((-x).to_vector<double>(), (std::vector<double>{1, -0.25, -4}));
  EXPECT_EQ(x.reciprocal().to_vector<double>(), (std::vector<double>{-1, 4, 0.25}));
  EXPECT_DOUBLE_EQ(x.exp().to_vector<double>()[2], std::exp(4.0));
  EXPECT_DOUBLE_EQ(x.sigmoid().to_vector<double>()[0], 1 / (1 + std::exp(1.0)));
  EXPECT_DOUBLE_EQ(x.tanh().to_vector<double>()[1], std::tanh(0.25));
  EXPECT_DOUBLE_EQ(x.abs().sqrt().log().to_vector<double>()[2], std::log(2.0));
}

TEST(Tensor, ReductionsWithDimsAndKeepdim) {
  Tensor x = Tensor::from_vector<float>({1, 5, 3, 4, 2, 6}, {2, 3});
  EXPECT_EQ(x.sum().item<float>(), 21.f);
  EXPECT_EQ(x.sum({1}).to_vector<float>(), (std::vector<float>{9, 12}));
  EXPECT_EQ(x.sum({0}, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(x.max({-1}).to_vector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(x.mean({0}).to_vector<float>(), (std::vector<float>{2.5f, 3.5f, 4.5f}));
}

TEST(Tensor, ViewsOnPermutedData) {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(x.t().to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.permute({1, 0}).reshape({6}).to_vector<float>(),
            (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.reshape({3, -1}).shape(), (Shape{3, 2}));
  EXPECT_EQ(x.sum({0}).expand({2, 3}).to_vector<float>(), (std::vector<float>{3, 5, 7, 3, 5, 7}));
}

TEST(Tensor, MatmulMatchesZipThenReduce) {
  Tensor a = Tensor::rand({4, 3}, DType::F64, 1);
  Tensor b = Tensor::rand({3, 5}, DType::F64, 2);
  std::vector<double> m = matmul(a, b).to_vector<double>();
  std::vector<double> z =
      (a.reshape({4, 3, 1}) * b.reshape({1, 3, 5})).sum({1}).to_vector<double>();
  ASSERT_EQ(m.size(), z.size());
  for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], z[i], 1e-12);
  // numpy's 1-D rules.
  EXPECT_EQ(Tensor::rand({3}).matmul(Tensor::rand({3, 5})).shape(), (Shape{5}));
  EXPECT_EQ(Tensor::rand({4, 3}).matmul(Tensor::rand({3})).shape(), (Shape{4}));
  EXPECT_EQ(Tensor::rand({2, 1, 4, 3}).matmul(Tensor::rand({5, 3, 2})).shape(),
            (Shape{2, 5, 4, 2}));
}

template <typename E, typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E &e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Tensor, BadInputsGiveTypedErrorsNamingTheValues) {
  Tensor a = Tensor::rand({4, 3});
  EXPECT_NE(error_of<ShapeError>([&] {
              matmul(a, Tensor::rand({5, 2}));
            }).find("matmul: inner dims differ: f32[4, 3] @ f32[5, 2]"),
            std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a + Tensor::rand({5}); }).find("[4, 3]"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a.sum({2}); }).find("dim 2"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a.reshape({5, 2}); }).find("[5, 2]"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a.permute({0, 0}); }).find("[0, 0]"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a.expand({4, 5}); }).find("[4, 5]"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] {
              matmul(a, Tensor::rand({3, 2}, DType::F64));
            }).find("f64[3, 2]"),
            std::string::npos);
  EXPECT_NE(error_of<ValueError>([&] { a.to_vector<double>(); }).find("f32[4, 3]"),
            std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] { a.item<float>(); }).find("12 elements"), std::string::npos);
  EXPECT_NE(error_of<ShapeError>([&] {
              Tensor::from_vector<float>({1, 2, 3}, {2, 2});
            }).find("[2, 2]"),
            std::string::npos);
  EXPECT_THROW(Tensor().exp(), ValueError);
}

TEST(Tensor, DumpPrintsTheGraphAsAProgram) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3, 1});
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  std::string text = dump((a * b).sum({1}), Stage::Graph);
  EXPECT_NE(text.find("input f32[2, 3, 1]"), std::string::npos) << text;
  EXPECT_NE(text.find("sum("), std::string::npos) << text;
  EXPECT_NE(text.find("\nout t1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace fusejit
