#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "fusejit/data.h"
#include "fusejit/error.h"

namespace fusejit::data {
namespace {

namespace fs = std::filesystem;

class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("fusejit_idx_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `bytes` gzip-compressed (or plain) and returns the path.
  std::string write(const std::string &name, const std::string &bytes, bool gzip = true) const {
    std::string path = (dir_ / name).string();
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
                static_cast<int>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    return path;
  }

  fs::path dir_;
};

// The header: two zero bytes, the type code, the rank, then each dim as a
// big-endian u32.
std::string header(uint8_t type, std::initializer_list<uint32_t> dims) {
  std::string h = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  return h;
}

std::string message_of(const std::string &path) {
  try {
    read_idx(path);
  } catch (const IOError &e) {
    return e.what();
  }
  return "(no IOError)";
}

TEST_F(IdxFiles, ReadsBytesWithTheirDims) {
  std::string data;
  for (int i = 0; i < 2 * 3 * 4; ++i) data += static_cast<char>(i * 10);
  IdxArray a = read_idx(write("a.gz", header(0x08, {2, 3, 4}) + data));
  EXPECT_EQ(a.type, IdxType::U8);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.numel(), 24);
  ASSERT_EQ(a.bytes.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(a.bytes[i], static_cast<uint8_t>(i * 10)) << i;
}

TEST_F(IdxFiles, WideElementsAreConvertedFromBigEndian) {
  // i32 values 1 and -2, then f32 1.5 (0x3fc00000), written big-endian.
  std::string ints = header(0x0C, {2}) + std::string("\x00\x00\x00\x01\xff\xff\xff\xfe", 8);
  IdxArray a = read_idx(write("i.gz", ints));
  ASSERT_EQ(a.bytes.size(), 8u);
  int32_t v[2];
  std::memcpy(v, a.bytes.data(), 8);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], -2);

  IdxArray f = read_idx(write("f.gz", header(0x0D, {1}) + std::string("\x3f\xc0\x00\x00", 4)));
  float x = 0;
  std::memcpy(&x, f.bytes.data(), 4);
  EXPECT_EQ(f.type, IdxType::F32);
  EXPECT_EQ(x, 1.5f);
}

TEST_F(IdxFiles, PlainFilesReadAsWellAsGzip) {
  IdxArray a = read_idx(write("plain.idx", header(0x08, {3}) + "abc", /*gzip=*/false));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(std::string(a.bytes.begin(), a.bytes.end()), "abc");
}

TEST_F(IdxFiles, BadFilesAreIOErrorsNamingPathAndProblem) {
  std::string missing = (dir_ / "nope.gz").string();
  EXPECT_NE(message_of(missing).find("nope.gz: cannot open"), std::string::npos)
      << message_of(missing);

  std::string magic = write("magic.gz", std::string("\x01\x00\x08\x01", 4) + std::string(4, '\0'));
  EXPECT_NE(message_of(magic).find("bad magic 0x01 0x00"), std::string::npos) << message_of(magic);

  std::string type = write("type.gz", header(0x07, {1}) + "x");
  EXPECT_NE(message_of(type).find("unknown element type code 0x07"), std::string::npos)
      << message_of(type);

  std::string shortfile = write("short.gz", header(0x08, {10, 10}) + "abc");
  EXPECT_NE(message_of(shortfile).find("the dims say 100 data bytes, the file has 3"),
            std::string::npos)
      << message_of(shortfile);

  std::string trailing = write("trailing.gz", header(0x08, {2}) + "abc");
  EXPECT_NE(message_of(trailing).find("trailing bytes after the 2 data bytes"), std::string::npos)
      << message_of(trailing);

  // A header claiming about 2^64 bytes fails without allocating them.
  std::string huge = write("huge.gz", header(0x0E, {0xffffffffu, 0xffffffffu}));
  EXPECT_NE(message_of(huge).find("dims describe more than"), std::string::npos)
      << message_of(huge);

  std::string empty = write("empty.gz", "");
  EXPECT_NE(message_of(empty).find("shorter than an IDX header"), std::string::npos)
      << message_of(empty);
}

// Debian's dataset-fashion-mnist, which scripts/deps.sh installs.
TEST(FashionMnistFiles, TheDebianDataSetReadsWithItsDims) {
  const std::string root = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(root + "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/deps.sh installs it)";
  IdxArray images = read_idx(root + "t10k-images-idx3-ubyte.gz");
  IdxArray labels = read_idx(root + "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(images.shape, (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_EQ(labels.shape, (std::vector<int64_t>{10000}));
  std::vector<int> counts(10, 0);
  for (uint8_t l : labels.bytes) {
    ASSERT_LT(l, 10);
    ++counts[l];
  }
  for (int c : counts) EXPECT_EQ(c, 1000);  // the test split is balanced
}

}  // namespace
}  // namespace fusejit::data
