#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/shape.h"

namespace fusejit {
namespace {

TEST(Shape, BroadcastFollowsNumpy) {
  EXPECT_EQ(shape_broadcast({1}, {5, 5}), (Shape{5, 5}));
  EXPECT_EQ(shape_broadcast({5, 5}, {1}), (Shape{5, 5}));
  EXPECT_EQ(shape_broadcast({1, 5, 5}, {5, 5}), (Shape{1, 5, 5}));
  EXPECT_EQ(shape_broadcast({5, 1, 5, 1}, {1, 5, 1, 5}), (Shape{5, 5, 5, 5}));
  EXPECT_EQ(shape_broadcast({}, {3}), (Shape{3}));
  EXPECT_EQ(shape_broadcast({2, 3, 1}, {3, 2}), (Shape{2, 3, 2}));
}

TEST(Shape, BroadcastMismatchNamesBothShapes) {
  try {
    shape_broadcast({5, 2}, {5}, "add");
    FAIL() << "expected ShapeError";
  } catch (const ShapeError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("[5, 2]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
  }
  EXPECT_THROW(shape_broadcast({5, 7, 5, 1}, {1, 5, 1, 5}), ShapeError);
}

TEST(Shape, BroadcastIndexMapsStretchedDimsToZero) {
  int64_t big[] = {2, 3};
  int64_t out[2] = {-1, -1};
  broadcast_index(big, {5, 5}, {1}, out);
  EXPECT_EQ(out[0], 0);
  broadcast_index(big, {5, 5}, {5, 1}, out);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 0);
}

TEST(Shape, IndexAndPositionRoundTrip) {
  Shape s{3, 1, 4};
  Strides st = contiguous_strides(s);
  EXPECT_EQ(st, (Strides{4, 4, 1}));
  for (int64_t i = 0; i < numel(s); ++i) {
    Index idx(s.size());
    ordinal_to_index(i, s, idx.data());
    EXPECT_EQ(index_to_position(idx.data(), st), i);
  }
}

TEST(Shape, NumelRejectsOverflowAndNegative) {
  EXPECT_EQ(numel({}), 1);
  EXPECT_EQ(numel({0, 5}), 0);
  EXPECT_THROW(numel({INT64_MAX, 2}), ShapeError);
  EXPECT_THROW(numel({0, INT64_MAX, 2}), ShapeError) << "overflow is an error beside a 0 too";
  EXPECT_THROW(numel({-1, 2}), ShapeError);
}

TEST(Shape, NormalizeDims) {
  EXPECT_EQ(normalize_dim(-1, 3, "sum"), 2);
  EXPECT_THROW(normalize_dim(3, 3, "sum"), ShapeError);
  EXPECT_EQ(normalize_dims({2, 0}, 3, "sum"), (std::vector<int64_t>{0, 2}));
  EXPECT_THROW(normalize_dims({1, -2}, 3, "sum"), ShapeError);
}

}  // namespace
}  // namespace fusejit
