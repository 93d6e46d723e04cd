// The libtorch-shaped surface of Tensor: the names a libtorch user types
// (requires_grad/requires_grad_, transpose(d0, d1), t(), sizes(), to(),
// clone(), contiguous(), data_ptr, from_blob, NoGradGuard, <<) behave as
// theirs do. Mistakes with them are rows of tests/bad_input_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <thread>
#include <type_traits>

#include <fusejit/fusejit.h>

#include "ir/node.h"

namespace fusejit {
namespace {

// 0, 1, 2, ... in `dtype`, of `shape`.
Tensor iota(const Shape &shape, DType dtype) {
  std::vector<double> v(static_cast<size_t>(fusejit::numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  Tensor t = Tensor::from_vector<double>(v, shape);
  NoGradGuard no_grad;
  return t.to(dtype);
}

template <typename T>
std::vector<double> as_double(const Tensor &t) {
  std::vector<T> v = t.to_vector<T>();
  return std::vector<double>(v.begin(), v.end());
}

std::vector<double> values(const Tensor &t) {
  return t.dtype() == DType::F32 ? as_double<float>(t) : as_double<double>(t);
}

std::string printed(const Tensor &t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

class TensorApi : public ::testing::TestWithParam<DType> {};
INSTANTIATE_TEST_SUITE_P(BothDtypes, TensorApi, ::testing::Values(DType::F32, DType::F64),
                         [](const auto &info) { return std::string(dtype_name(info.param)); });

TEST_P(TensorApi, SizesSizeAndDimAreInt64) {
  Tensor x = Tensor::zeros({2, 3, 5}, GetParam());
  static_assert(std::is_same_v<decltype(x.dim()), int64_t>);
  static_assert(std::is_same_v<decltype(x.size(0)), int64_t>);
  EXPECT_EQ(x.dim(), 3);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.size(-1), 5);
  EXPECT_EQ(x.size(-3), 2);
  EXPECT_EQ(Tensor::scalar(1.0, GetParam()).dim(), 0);
}

TEST_P(TensorApi, TransposeSwapsTheTwoGivenDims) {
  Tensor x = iota({2, 3, 5}, GetParam());
  Tensor y = x.transpose(0, 2);
  EXPECT_EQ(y.sizes(), (Shape{5, 3, 2}));
  std::vector<double> got = values(y);
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k)
        EXPECT_EQ(got[(i * 3 + j) * 2 + k], static_cast<double>((k * 3 + j) * 5 + i));
  EXPECT_EQ(values(x.transpose(-1, 0)), got) << "negative dims count from the end";
  EXPECT_EQ(x.transpose(1, -2).sizes(), x.sizes()) << "a dim with itself is the identity";
  EXPECT_EQ(values(x.transpose(1, 1)), values(x));
  EXPECT_EQ(values(Tensor::scalar(4.0, GetParam()).transpose(0, -1)), (std::vector<double>{4}));
}

TEST_P(TensorApi, TTransposesAMatrixAndKeepsVectorsAndScalars) {
  Tensor m = iota({3, 2}, GetParam());
  EXPECT_EQ(m.t().sizes(), (Shape{2, 3}));
  EXPECT_EQ(values(m.t()), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  Tensor v = iota({7}, GetParam());
  EXPECT_EQ(values(v.t()), values(v));
  EXPECT_EQ(Tensor::scalar(2.0, GetParam()).t().dim(), 0);
}

TEST_P(TensorApi, ReciprocalAndItsGradient) {
  Tensor x = Tensor::from_vector<double>({-1, 0.25, 4}).to(GetParam()).requires_grad_();
  EXPECT_EQ(values(x.reciprocal()), (std::vector<double>{-1, 4, 0.25}));
  x.reciprocal().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{-1, -16, -1.0 / 16}));  // -1 / x^2
}

TEST_P(TensorApi, StopGradientKeepsTheValueAndStopsTheGradient) {
  Tensor x = Tensor::from_vector<double>({-1, 0.25, 4}).to(GetParam()).requires_grad_();
  EXPECT_EQ(values(x.stop_gradient()), values(x));
  (x.stop_gradient() * x).sum().backward();
  EXPECT_EQ(values(x.grad()), values(x));  // d/dx of c * x with c = x held constant
}

TEST(TensorApiTo, ConvertsBetweenDtypes) {
  Tensor x = Tensor::from_vector<float>({0.5f, -1.25f, 3.0f}, {3});
  Tensor y = x.to(DType::F64);
  EXPECT_EQ(y.dtype(), DType::F64);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0.5, -1.25, 3.0}));
  EXPECT_EQ(y.to(DType::F32).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(x.to(DType::F32).node(), x.node()) << "to() its own dtype is the tensor itself";
  Tensor w = Tensor::ones({2}).requires_grad_();
  NoGradGuard no_grad;
  EXPECT_EQ(w.to(DType::F64).to_vector<double>(), (std::vector<double>{1, 1}))
      << "converting a tracked tensor is allowed where no gradient is wanted";
}

TEST_P(TensorApi, CloneIsANewTensorAndDifferentiable) {
  Tensor w = iota({2, 3}, GetParam()).requires_grad_();
  Tensor c = w.clone();
  EXPECT_EQ(values(c), values(w));
  EXPECT_TRUE(c.requires_grad());
  EXPECT_FALSE(c.is_leaf()) << "a clone of a tracked tensor is computed from it";
  (c * 2.0).backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>(6, 2.0)));
  EXPECT_FALSE(c.grad().defined());

  Tensor u = iota({3}, GetParam());
  Tensor uc = u.clone();
  EXPECT_TRUE(uc.is_leaf());
  uc.requires_grad_();
  EXPECT_FALSE(u.requires_grad()) << "the clone's flag is its own";
}

TEST_P(TensorApi, CloneOfFromBlobMemoryIsACopy) {
  std::vector<double> mem{1, 2, 3};
  std::vector<float> memf{1, 2, 3};
  bool f32 = GetParam() == DType::F32;
  void *p = f32 ? static_cast<void *>(memf.data()) : static_cast<void *>(mem.data());
  Tensor blob = Tensor::from_blob(p, {3}, GetParam());
  Tensor c = blob.clone();
  if (f32)
    memf[0] = 100;
  else
    mem[0] = 100;
  EXPECT_EQ(values(c), (std::vector<double>{1, 2, 3})) << "later writes do not reach a clone";
  EXPECT_EQ(values(blob)[0], 100) << "but do reach the blob tensor itself";
}

TEST_P(TensorApi, ContiguousRealizesAViewIntoItsOwnStorage) {
  Tensor x = iota({3, 4}, GetParam());
  Tensor y = x.t();
  Tensor c = y.contiguous();
  EXPECT_TRUE(c.node()->attached()) << "contiguous() computes the value";
  EXPECT_EQ(c.sizes(), (Shape{4, 3}));
  EXPECT_EQ(values(c), values(x.transpose(0, 1)));
}

TEST(TensorApiDataPtr, PointsAtTheRealizedValueWithoutACopy) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = (x * 2.0).t();
  EXPECT_FALSE(y.node()->attached());
  const float *p = y.data_ptr<float>();
  EXPECT_EQ(std::vector<float>(p, p + 6), (std::vector<float>{2, 8, 4, 10, 6, 12}))
      << "realized, row-major";
  EXPECT_EQ(y.data_ptr<float>(), p) << "a second read is the same storage";
  EXPECT_EQ(Tensor::from_vector<double>({7}).data_ptr<double>()[0], 7.0);
}

TEST_P(TensorApi, FromBlobWrapsCallerMemoryWithoutACopy) {
  alignas(64) double mem[6] = {1, 2, 3, 4, 5, 6};
  alignas(64) float memf[6] = {1, 2, 3, 4, 5, 6};
  bool f32 = GetParam() == DType::F32;
  void *p = f32 ? static_cast<void *>(memf) : static_cast<void *>(mem);
  Tensor x = Tensor::from_blob(p, {2, 3}, GetParam());
  // Written before the first read of anything computed from it: seen.
  if (f32)
    memf[5] = 60;
  else
    mem[5] = 60;
  EXPECT_EQ(values(x.sum({1})), (std::vector<double>{6, 69}));
  const void *read = f32 ? static_cast<const void *>(x.data_ptr<float>())
                         : static_cast<const void *>(x.data_ptr<double>());
  EXPECT_EQ(read, p) << "no copy";
  // Flagging for gradients copies: a tracked value never changes under them.
  Tensor w = Tensor::from_blob(p, {2, 3}, GetParam()).requires_grad_();
  const void *flagged = f32 ? static_cast<const void *>(w.data_ptr<float>())
                            : static_cast<const void *>(w.data_ptr<double>());
  EXPECT_NE(flagged, p);
  EXPECT_EQ(values(w), values(x));
  // An empty blob needs no memory.
  Tensor empty = Tensor::from_blob(nullptr, {0, 3}, GetParam());
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_EQ(empty.clone().sizes(), (Shape{0, 3}));
  EXPECT_EQ(empty.sum({0}).sizes(), (Shape{3}));
}

TEST(TensorApiRequiresGrad, GetterAndInPlaceSetter) {
  Tensor w = Tensor::rand({3});
  EXPECT_FALSE(w.requires_grad());
  Tensor same = w.requires_grad_();
  EXPECT_TRUE(w.requires_grad()) << "requires_grad_ flags in place";
  EXPECT_TRUE(same.requires_grad()) << "and returns the tensor";
  EXPECT_TRUE((w * 2.0 + 1.0).exp().requires_grad()) << "computed from a flagged leaf";
  EXPECT_FALSE((Tensor::rand({3}) * 2.0).requires_grad());
  EXPECT_FALSE((w < 0.5).requires_grad()) << "comparisons carry no history, as torch's";
  w.requires_grad_(false);
  EXPECT_FALSE(w.requires_grad());
  EXPECT_FALSE((w * 2.0).requires_grad());
}

TEST(TensorApiNoGrad, OpsUnderTheGuardRecordNoHistory) {
  Tensor w = Tensor::ones({2}).requires_grad_();
  EXPECT_TRUE(is_grad_enabled());
  Tensor y;
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(is_grad_enabled());
    y = w * 3.0;
    { NoGradGuard nested; }
    EXPECT_FALSE(is_grad_enabled()) << "an inner guard restores the outer state";
    EXPECT_TRUE(w.requires_grad()) << "the leaf keeps its flag";
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    bool other_thread_enabled = false;
    std::thread([&] { other_thread_enabled = is_grad_enabled(); }).join();
    EXPECT_TRUE(other_thread_enabled) << "the guard is per thread";
  }
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3, 3}));
  EXPECT_THROW(y.backward(), ValueError) << "nothing recorded, nothing to differentiate";
  EXPECT_TRUE((w * 3.0).requires_grad());
}

TEST(TensorApiNoGrad, AnOptimizerStepUnderTheGuard) {
  Tensor w = Tensor::from_vector<double>({1, 2}).requires_grad_();
  (w * w).backward();  // grad 2w
  {
    NoGradGuard no_grad;
    w = (w - 0.25 * w.grad()).detach().requires_grad_();
  }
  EXPECT_EQ(w.to_vector<double>(), (std::vector<double>{0.5, 1}));
  EXPECT_TRUE(w.is_leaf() && w.requires_grad());
}

TEST(TensorApiSettings, ReachableFromTheOneHeader) {
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(0);
  EXPECT_GE(num_threads(), 1);
  set_numerics(Numerics::Strict);
  EXPECT_EQ((Tensor::ones({3}) * 2.0).sum().item<float>(), 6.0f);
  set_numerics(Numerics::Fast);
}

TEST(TensorApiUndefined, MessagesSayWhichTensorAndWhy) {
  auto message = [](const std::function<void()> &f) {
    try {
      f();
    } catch (const ValueError &e) {
      return std::string(e.what());
    }
    return std::string("(no ValueError)");
  };
  Tensor w = Tensor::zeros({2, 3}).requires_grad_();
  std::string m = message([&] { w.grad().sum(); });
  EXPECT_NE(m.find("sum: "), std::string::npos) << m;
  EXPECT_NE(m.find("grad() of leaf f32[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("no backward()"), std::string::npos) << m;
  m = message([&] { Tensor::ones({2}) * Tensor(); });
  EXPECT_NE(m.find("*: the right operand is undefined"), std::string::npos) << m;
  EXPECT_NE(m.find("default-constructed"), std::string::npos) << m;
  m = message([&] { (w * 2.0).grad().item<float>(); });
  EXPECT_NE(m.find("non-leaf"), std::string::npos) << m;
  EXPECT_EQ(printed(w.grad()), "[ Tensor (undefined) ]");
}

TEST(TensorApiPrint, ValuesAsLibtorchPrintsThem) {
  EXPECT_EQ(printed(Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})),
            " 1  2  3\n 4  5  6\n[ CPUFloatType{2,3} ]");
  EXPECT_EQ(printed(Tensor::from_vector<float>({0.5f, 1.25f, -2.0f})),
            " 0.5000\n 1.2500\n-2.0000\n[ CPUFloatType{3} ]");
  EXPECT_EQ(printed(Tensor::scalar(3.5, DType::F64)), "3.5\n[ CPUDoubleType{} ]");
  EXPECT_EQ(printed(iota({2, 2, 2}, DType::F64) + 1.0),
            "(1,.,.) = \n  1  2\n  3  4\n\n(2,.,.) = \n  5  6\n  7  8\n[ CPUDoubleType{2,2,2} ]");
  EXPECT_EQ(printed(Tensor::zeros({0})), "[ CPUFloatType{0} ]");
  EXPECT_EQ(printed(Tensor::zeros({2, 0})), "[ CPUFloatType{2,0} ]");
  EXPECT_EQ(printed(Tensor::from_vector<double>({1000000.5, 2000000})),
            "1e+06 *\n 1.0000\n 2.0000\n[ CPUDoubleType{2} ]");
  EXPECT_EQ(printed(Tensor::from_vector<double>({1e-5, 1})),
            " 1.0000e-05\n 1.0000e+00\n[ CPUDoubleType{2} ]");
  std::ostringstream os;
  os << Tensor::from_vector<double>({0.5}) << ' ' << 0.1;
  EXPECT_EQ(os.str().substr(os.str().size() - 4), " 0.1") << "the stream's format is restored";
}

TEST(TensorApiPrint, WideMatricesSplitIntoColumnBlocks) {
  std::string s =
      printed(iota({2, 30}, DType::F32) + 100.0);  // width 4 and a space each: 16 a line
  EXPECT_EQ(s.rfind("Columns 1 to 16", 0), 0u) << s;
  EXPECT_NE(s.find("\nColumns 17 to 30 116  117"), std::string::npos) << s;
  EXPECT_EQ(printed(iota({1, 17}, DType::F32)).find("Columns 17 to 17"), std::string::npos);
  EXPECT_NE(printed(iota({1, 41}, DType::F32)).find("\nColumns 41 to 41 40\n"), std::string::npos)
      << "a last block of one column still says 'to'";
}

}  // namespace
}  // namespace fusejit

namespace fusejit {
namespace {

using indexing::None;
using indexing::Slice;

std::vector<double> vals(const Tensor &t) {
  NoGradGuard no_grad;
  return t.to(DType::F64).to_vector<double>();
}

Tensor counting(const Shape &shape) {
  std::vector<double> v(static_cast<size_t>(fusejit::numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return Tensor::from_vector<double>(v, shape);
}

// libtorch's slicing spellings give libtorch's values.
TEST(TensorViews, SliceNarrowSelectAndIndexAsLibtorch) {
  Tensor x = counting({3, 4});
  EXPECT_EQ(vals(x.slice(1, 1, 3)), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(vals(x.slice(0, -2, std::nullopt, 1)), (std::vector<double>{4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(vals(x.slice(1, 0, 100, 3)), (std::vector<double>{0, 3, 4, 7, 8, 11}));
  EXPECT_EQ(vals(x.narrow(0, -1, 1)), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(x.select(1, -1).sizes(), (Shape{3}));
  EXPECT_EQ(vals(x.select(1, -1)), (std::vector<double>{3, 7, 11}));
  Tensor y = counting({3, 4, 5}).index({Slice(1, 3), Slice(), 2});
  EXPECT_EQ(y.sizes(), (Shape{2, 4}));
  EXPECT_EQ(vals(y)[0], 22);
  Tensor z = x.index({Slice(None, None, 2), 1});
  EXPECT_EQ(vals(z), (std::vector<double>{1, 9}));
  EXPECT_EQ(x.index({None, Slice(1)}).sizes(), (Shape{1, 2, 4}));
  EXPECT_EQ(vals(x.flip({0, 1}))[0], 11);
}

// An embedding lookup and its gradient, as torch's: rows of the table at
// the ids, and each row's gradient summed into the table row it came from.
TEST(TensorViews, IndexSelectAndGatherAsTorchWithTheirGradients) {
  Tensor table = counting({5, 3}).requires_grad_();
  Tensor ids = Tensor::from_vector<int64_t>({4, 0, 4, 2}, {4});
  Tensor e = table.index_select(0, ids);
  EXPECT_EQ(e.sizes(), (Shape{4, 3}));
  EXPECT_EQ(vals(e), (std::vector<double>{12, 13, 14, 0, 1, 2, 12, 13, 14, 6, 7, 8}));
  Tensor w = counting({4, 3});
  (e * w).sum().backward();
  // Row 4 gets the gradients of lookups 0 and 2 (w rows 0 and 2), row 0 of
  // lookup 1, row 2 of lookup 3; rows 1 and 3 nothing.
  EXPECT_EQ(vals(table.grad()),
            (std::vector<double>{3, 4, 5, 0, 0, 0, 9, 10, 11, 0, 0, 0, 6, 8, 10}));

  Tensor x = counting({2, 3}).requires_grad_();
  Tensor idx = Tensor::from_vector<int32_t>({2, 2, 0, 1}, {2, 2});
  Tensor g = gather(x, 1, idx);
  EXPECT_EQ(vals(g), (std::vector<double>{2, 2, 3, 4}));
  g.sum().backward();
  EXPECT_EQ(vals(x.grad()), (std::vector<double>{0, 0, 2, 1, 1, 0}));
  EXPECT_EQ(vals(index_select(counting({3}), 0, Tensor::from_vector<int64_t>({2}, {}))),
            (std::vector<double>{2}));
  EXPECT_THROW(table.index_select(0, Tensor::from_vector<int64_t>({5}, {1})).sum().item<double>(),
               IndexError);
  EXPECT_THROW(x.gather(1, Tensor::zeros({2, 2})), ShapeError) << "a float index";
}

// scatter_add and index_add give torch's sums, checked against loops over
// the values on odd sizes, in f32, f64 and i64, with gradients: x's is the
// output's, src's the output's read back through the index (a gather).
TEST(TensorViews, ScatterAddAndIndexAddAsTorchWithTheirGradients) {
  Tensor x = counting({3, 2});
  Tensor idx = Tensor::from_vector<int64_t>({2, 0, 2, 2}, {2, 2});
  Tensor src = counting({2, 3}) + 100.0;  // wider than the index: only [:, :2] is read
  // out[idx[i][j]][j] += src[i][j]
  EXPECT_EQ(vals(x.scatter_add(0, idx, src)), (std::vector<double>{0, 102, 2, 3, 207, 109}));
  EXPECT_EQ(vals(index_add(x, 0, Tensor::from_vector<int32_t>({1, 1}, {2}), counting({2, 2}))),
            (std::vector<double>{0, 1, 4, 7, 4, 5}));
  EXPECT_EQ(vals(scatter_add(Tensor::zeros({4}, DType::I64), 0,
                             Tensor::from_vector<int64_t>({3, 3, 0}, {3}),
                             Tensor::from_vector<int64_t>({5, 6, 7}, {3}))),
            (std::vector<double>{7, 0, 0, 11}));

  for (int64_t n : {1, 3, 17, 129}) {
    SCOPED_TRACE(n);
    for (DType t : {DType::F32, DType::F64}) {
      SCOPED_TRACE(dtype_name(t));
      const int64_t rows = 5, k = n + 2;
      Tensor base = Tensor::randn({rows, n}, t).requires_grad_();
      Tensor from = Tensor::randn({k, n}, t).requires_grad_();
      std::vector<int64_t> where(static_cast<size_t>(k * n));
      for (size_t i = 0; i < where.size(); ++i) where[i] = static_cast<int64_t>((i * 7 + 3) % rows);
      Tensor index = Tensor::from_vector<int64_t>(where, {k, n});
      Tensor out = base.scatter_add(0, index, from);
      Tensor w = Tensor::randn({rows, n}, t);
      (out * w).sum().backward();

      std::vector<double> want = vals(base), b = vals(from), wv = vals(w);
      std::vector<double> from_grad(b.size());
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < n; ++j) {
          size_t at = static_cast<size_t>(i * n + j);
          size_t to = static_cast<size_t>(where[at] * n + j);
          want[to] += b[at];
          from_grad[at] = wv[to];
        }
      double tol = t == DType::F32 ? 1e-4 : 1e-12;
      std::vector<double> got = vals(out);
      for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << i;
      EXPECT_EQ(vals(base.grad()), wv);
      std::vector<double> fg = vals(from.grad());
      for (size_t i = 0; i < fg.size(); ++i) ASSERT_NEAR(fg[i], from_grad[i], tol) << i;
    }
  }
  EXPECT_THROW(vals(x.scatter_add(0, Tensor::from_vector<int64_t>({3}, {1, 1}), src)), IndexError);
  EXPECT_THROW(vals(x.index_add(1, Tensor::from_vector<int64_t>({-1}, {1}), counting({3, 1}))),
               IndexError);
}

// A narrow of realized, untracked data along its leading dims is that data:
// the rows share its storage (a batch of a data set is no copy, and every
// batch of one size binds to the same plan). Tracked or strided narrows stay
// graph slices, so gradients still reach the whole tensor.
TEST(TensorViews, NarrowOfRealizedDataSharesItsStorage) {
  Tensor x = counting({6, 4});
  const double *base = x.data_ptr<double>();
  Tensor rows = x.narrow(0, 2, 3);
  EXPECT_EQ(rows.data_ptr<double>(), base + 8);
  EXPECT_EQ(vals(rows), (std::vector<double>{8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
  EXPECT_EQ(vals(rows.narrow(0, 1, 1)), (std::vector<double>{12, 13, 14, 15}));
  EXPECT_EQ(vals(x.narrow(0, 6, 0)), std::vector<double>{});
  Tensor one = counting({1, 3, 2});
  EXPECT_EQ(one.narrow(1, 1, 2).data_ptr<double>(), one.data_ptr<double>() + 2);
  EXPECT_EQ(vals(x.narrow(1, 1, 2)),
            (std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}));

  Tensor p = counting({4, 2}).requires_grad_();
  (p.narrow(0, 1, 2) * 3.0).sum().backward();
  EXPECT_EQ(vals(p.grad()), (std::vector<double>{0, 0, 3, 3, 3, 3, 0, 0}));
}

TEST(TensorViews, PadTakesLibtorchsFlatListLastDimFirst) {
  Tensor x = counting({2, 2});
  Tensor p = pad(x, {1, 0, 0, 1}, -1.0);  // last dim (1, 0), then dim 0 (0, 1)
  EXPECT_EQ(p.sizes(), (Shape{3, 3}));
  EXPECT_EQ(vals(p), (std::vector<double>{-1, 0, 1, -1, 2, 3, -1, -1, -1}));
  EXPECT_EQ(vals(pad(x, {-1, 0})), (std::vector<double>{1, 3}));
}

TEST(TensorViews, CatStackSplitChunkAndTheReshapes) {
  Tensor a = counting({2, 3}), b = counting({1, 3}) + 10.0;
  EXPECT_EQ(vals(cat({a, b}, 0)), (std::vector<double>{0, 1, 2, 3, 4, 5, 10, 11, 12}));
  EXPECT_EQ(stack({a, a}, 2).sizes(), (Shape{2, 3, 2}));
  std::vector<Tensor> parts = split(counting({5}), 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(vals(parts[2]), (std::vector<double>{4}));
  std::vector<Tensor> chunks = chunk(counting({5}), 3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].sizes(), (Shape{2}));
  EXPECT_EQ(a.unsqueeze(1).sizes(), (Shape{2, 1, 3}));
  EXPECT_EQ(a.unsqueeze(1).squeeze().sizes(), (Shape{2, 3}));
  EXPECT_EQ(a.squeeze(0).sizes(), (Shape{2, 3}));
  EXPECT_EQ(a.unsqueeze(0).flatten(1).sizes(), (Shape{1, 6}));
  Tensor w = counting({5}).unfold(0, 2, 2);
  EXPECT_EQ(w.sizes(), (Shape{2, 2}));
  EXPECT_EQ(vals(w), (std::vector<double>{0, 1, 2, 3}));
}

TEST(TensorViews, GradientsFlowThroughCatAndPad) {
  Tensor a = counting({2}).requires_grad_(), b = counting({3}).requires_grad_();
  (pad(cat({a, b}), {1, 1}, 5.0) * 2.0).backward();
  EXPECT_EQ(vals(a.grad()), (std::vector<double>{2, 2}));
  EXPECT_EQ(vals(b.grad()), (std::vector<double>{2, 2, 2}));
}

}  // namespace
}  // namespace fusejit
