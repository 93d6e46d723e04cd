#include "runtime/npy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "ir/error.h"

namespace fusejit {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("fusejit_npy_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string &name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// A .npy file built by hand: magic, version, length, the header text
// padded to 64 bytes as numpy pads it, then `data`.
std::string npy_bytes(const std::string &dict, const std::string &data = "", int major = 1,
                      int minor = 0) {
  size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  size_t prefix = 8 + len_bytes;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  for (size_t i = 0; i < len_bytes; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string raw_f32(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(float));
}

std::string raw_f64(const std::vector<double> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(double));
}

// Runs `f`, expects an IOError, and returns its message.
template <typename F>
std::string io_error_of(F f) {
  try {
    f();
  } catch (const IOError &e) {
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected IOError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected IOError, nothing thrown";
  return "";
}

#define EXPECT_MENTIONS(msg, part) \
  EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg) << "\nexpected: " << (part)

std::string parse_error(const std::string &bytes) {
  return io_error_of([&] { parse_npy(bytes, "x.npy"); });
}

Buffer iota(DType dtype, Shape shape) {
  Buffer b(dtype, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i) b.set(i, 0.5 * static_cast<double>(i) - 3.25);
  return b;
}

void expect_same(const Buffer &a, const Buffer &b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.get(i), b.get(i)) << "element " << i;
}

// ---- round trips and the layout numpy expects ----

TEST(Npy, RoundTripsEveryShapeInMemory) {
  for (DType t : kAllDTypes)
    for (const Shape &s : {Shape{}, Shape{0}, Shape{3}, Shape{2, 3, 4}, Shape{2, 0, 5}}) {
      SCOPED_TRACE(type_str(t, s));
      Buffer b = iota(t, s);
      expect_same(parse_npy(encode_npy(b), "mem"), b);
    }
}

TEST(Npy, RoundTripsThroughAFile) {
  TempDir dir;
  for (DType t : kAllDTypes) {
    Buffer b = iota(t, {2, 3, 4});
    std::string path = dir.file(std::string(dtype_name(t)) + ".npy");
    write_npy(path, b);
    expect_same(read_npy(path), b);
  }
}

TEST(Npy, WritesVersion1WithHeaderPaddedTo64) {
  std::string bytes = encode_npy(iota(DType::F32, {3}));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), std::string("\x93NUMPY", 6));
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9])
                                                                 << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  std::string header = bytes.substr(10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 0), 0u)
      << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_len + 3 * sizeof(float));
  EXPECT_NE(encode_npy(iota(DType::F64, {})).find("'shape': (), }"), std::string::npos);
}

// ---- what the reader accepts ----

TEST(Npy, ReadsHandBuiltFilesOfEachVersion) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  for (int major : {1, 2, 3}) {
    Buffer b = parse_npy(npy_bytes(dict, raw_f64({1.5, -2}), major), "v.npy");
    EXPECT_EQ(b.dtype(), DType::F64);
    EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1.5, -2}));
  }
}

TEST(Npy, AcceptsNativeOrderAndHeaderVariants) {
  // '=' and '|' are native order (little-endian on the hosts we run on);
  // key order, quotes, spacing and Python 2's long suffix do not matter.
  Buffer a = parse_npy(
      npy_bytes("{'descr': '=f4', 'fortran_order': False, 'shape': (2, 1), }", raw_f32({1, 2})),
      "a.npy");
  EXPECT_EQ(a.shape(), (Shape{2, 1}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2}));
  Buffer b = parse_npy(
      npy_bytes("{\"shape\":(3L,),\"fortran_order\":False,\"descr\":\"|f4\"}", raw_f32({1, 2, 3})),
      "b.npy");
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{1, 2, 3}));
  Buffer scalar = parse_npy(
      npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", raw_f64({7})), "s.npy");
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.get(0), 7.0);
}

TEST(Npy, ZeroSizeArrayNeedsNoData) {
  Buffer b =
      parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 0), }"), "z.npy");
  EXPECT_EQ(b.shape(), (Shape{4, 0}));
  EXPECT_EQ(b.numel(), 0);
}

// ---- numpy itself, when it is installed ----

// A Python that imports numpy: the one on PATH may be a separate install
// without it, while the system one has it.
std::string numpy_python() {
  for (std::string py : {"python3", "/usr/bin/python3"})
    if (std::system((py + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

TEST(Npy, AgreesWithNumpy) {
  std::string py = numpy_python();
  if (py.empty()) GTEST_SKIP() << "python3 with numpy is not installed";
  TempDir dir;
  std::string theirs = dir.file("theirs.npy"), ours = dir.file("ours.npy");
  std::string make = py + " -c \"import numpy as np; np.save('" + theirs +
                     "', (np.arange(24, dtype=np.float32) * 0.5 - 3).reshape(2, 3, 4))\"";
  ASSERT_EQ(std::system(make.c_str()), 0);
  Buffer b = read_npy(theirs);
  ASSERT_EQ(b.dtype(), DType::F32);
  ASSERT_EQ(b.shape(), (Shape{2, 3, 4}));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(b.get(i), 0.5 * static_cast<double>(i) - 3);

  // numpy reads what we write, bit for bit the same array.
  write_npy(ours, iota(DType::F64, {3, 2}));
  std::string check = py + " -c \"import numpy as np; a = np.load('" + ours +
                      "'); assert a.dtype == np.float64 and a.shape == (3, 2), a; "
                      "assert (a.ravel() == np.arange(6) * 0.5 - 3.25).all(), a\"";
  EXPECT_EQ(std::system(check.c_str()), 0);
  // And the bytes numpy writes for the same array are the bytes we write.
  std::string same = dir.file("same.npy");
  std::string resave =
      py + " -c \"import numpy as np; np.save('" + same + "', np.load('" + ours + "'))\"";
  ASSERT_EQ(std::system(resave.c_str()), 0);
  std::ifstream in(same, std::ios::binary);
  std::string numpy_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(numpy_bytes, encode_npy(iota(DType::F64, {3, 2})));

  // numpy's integer and bool arrays read as the dtype of the same name.
  std::string ints = dir.file("ints.npy");
  std::string save_ints = py + " -c \"import numpy as np; np.save('" + ints +
                          "', np.array([[-3, 7]], dtype=np.int32))\"";
  ASSERT_EQ(std::system(save_ints.c_str()), 0);
  Buffer i = read_npy(ints);
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{-3, 7}));
  for (DType t : {DType::I64, DType::U8, DType::Bool}) {
    std::string path = dir.file(std::string(dtype_name(t)) + ".npy");
    write_npy(path, iota(t, {5}));
    std::string np_name = t == DType::I64 ? "int64" : t == DType::U8 ? "uint8" : "bool_";
    std::string load = py;
    load += " -c \"import numpy as np; a = np.load('" + path + "'); assert a.dtype == np.";
    load += np_name + " and a.shape == (5,), a\"";
    EXPECT_EQ(std::system(load.c_str()), 0) << dtype_name(t);
  }
}

// ---- each bad input is an IOError naming the file and the value ----

const std::string kF4Dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

TEST(NpyErrors, BadMagic) {
  std::string msg = parse_error("PK\x03\x04 this is a zip file");
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "bad magic 'PK\\x03\\x04 t'");
  EXPECT_MENTIONS(parse_error(""), "bad magic ''");
}

TEST(NpyErrors, UnsupportedVersion) {
  std::string msg = parse_error(npy_bytes(kF4Dict, raw_f32({1, 2}), 4, 0));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "unsupported .npy version 4.0");
  EXPECT_MENTIONS(parse_error(npy_bytes(kF4Dict, raw_f32({1, 2}), 1, 1)), "version 1.1");
}

TEST(NpyErrors, TruncatedHeader) {
  std::string whole = npy_bytes(kF4Dict, raw_f32({1, 2}));
  EXPECT_MENTIONS(parse_error(whole.substr(0, 7)), "truncated header");
  EXPECT_MENTIONS(parse_error(whole.substr(0, 9)), "truncated header");
  std::string msg = parse_error(whole.substr(0, 40));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "truncated header: header length is 118 bytes, found 30");
}

TEST(NpyErrors, HeaderNotADict) {
  std::string msg = parse_error(npy_bytes("[1, 2, 3]"));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "header is not a dict: '[1, 2, 3]");
}

TEST(NpyErrors, MissingAndUnexpectedKeys) {
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False}")),
                  "missing key 'shape'");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr': '<f4', 'shape': (1,)}")),
                  "missing key 'fortran_order'");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'fortran_order': False, 'shape': (1,)}")),
                  "missing key 'descr'");
  EXPECT_MENTIONS(
      parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}")),
      "unexpected key 'x'");
}

TEST(NpyErrors, MalformedHeaderValues) {
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}")),
                  "fortran_order 0 is not True or False");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': 3}")),
                  "shape 3 is not a tuple");
  EXPECT_MENTIONS(
      parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a')}")),
      "shape (2, 'a') holds 'a'");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr': '<f4'")), "expected ',' or '}'");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'descr: '<f4'}")), "x.npy");
  EXPECT_MENTIONS(parse_error(npy_bytes("{'shape': " + std::string(1000, '('))), "nests deeper");
}

TEST(NpyErrors, UnsupportedDtype) {
  std::string msg = parse_error(
      npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", std::string(4, '\0')));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "unsupported dtype '<i2'");
  for (const char *t : {"f32", "f64", "i32", "i64", "u8", "bool"}) EXPECT_MENTIONS(msg, t);
  // A structured dtype is named by its text.
  EXPECT_MENTIONS(
      parse_error(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}")),
      "unsupported dtype '[('a', '<f4')]'");
}

TEST(NpyErrors, BigEndian) {
  std::string msg = parse_error(
      npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "big-endian dtype '>f8'");
}

TEST(NpyErrors, FortranOrder) {
  std::string msg = parse_error(npy_bytes(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", raw_f32({1, 2, 3, 4})));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "fortran_order is True: only C order is supported");
}

TEST(NpyErrors, TruncatedData) {
  std::string msg = parse_error(npy_bytes(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", std::string(20, '\0')));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "truncated: expected 48 bytes of data, found 20");
}

TEST(NpyErrors, NegativeShape) {
  std::string msg =
      parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }"));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "negative extent -1 in shape (2, -1)");
}

TEST(NpyErrors, OverflowingShapeIsAnErrorNotAnAllocation) {
  std::string msg = parse_error(
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"));
  EXPECT_MENTIONS(msg, "x.npy");
  EXPECT_MENTIONS(msg, "shape (4294967296, 4294967296) has more elements than fit in int64");
  // Fits int64 as a count, not as a byte size.
  EXPECT_MENTIONS(parse_error(npy_bytes(
                      "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}")),
                  "needs more bytes than fit in int64");
  // Fits everything, but the file does not hold it: nothing is allocated.
  EXPECT_MENTIONS(
      parse_error(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}")),
      "truncated: expected 8000000000000 bytes of data, found 0");
  EXPECT_MENTIONS(
      parse_error(
          npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}")),
      "too large");
}

TEST(NpyErrors, UnreadableAndUnwritablePaths) {
  TempDir dir;
  std::string missing = dir.file("missing.npy");
  std::string msg = io_error_of([&] { read_npy(missing); });
  EXPECT_MENTIONS(msg, missing);
  EXPECT_MENTIONS(msg, "No such file or directory");

  std::string unwritable = dir.file("no/such/dir/out.npy");
  msg = io_error_of([&] { write_npy(unwritable, iota(DType::F32, {2})); });
  EXPECT_MENTIONS(msg, unwritable);
  EXPECT_MENTIONS(msg, "No such file or directory");
}

// A pipe or device has no size to check the header against, and may stream
// without end (/dev/zero) or block (a FIFO with no writer): refused, naming
// what it is, before anything is read.
TEST(NpyErrors, FifosAndDevicesAreRefusedBeforeReading) {
  TempDir dir;
  std::string fifo = dir.file("fifo.npy");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string msg = io_error_of([&] { read_npy(fifo); });
  EXPECT_MENTIONS(msg, fifo);
  EXPECT_MENTIONS(msg, "is a FIFO (pipe), not a regular file");
  msg = io_error_of([] { read_npy("/dev/zero"); });
  EXPECT_MENTIONS(msg, "/dev/zero: is a character device, not a regular file");
  msg = io_error_of([&] { read_npy(dir.file("")); });
  EXPECT_MENTIONS(msg, "is a directory, not a regular file");
}

// A header claiming more data than the file holds is refused from the file's
// size, before the data is allocated or read.
TEST(NpyErrors, FileClaimingMoreThanItHoldsIsRefusedBeforeAllocating) {
  TempDir dir;
  std::string path = dir.file("claim.npy");
  std::ofstream(path, std::ios::binary) << npy_bytes(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}", raw_f64({1, 2}));
  std::string msg = io_error_of([&] { read_npy(path); });
  EXPECT_MENTIONS(msg, path);
  EXPECT_MENTIONS(msg, "truncated: expected 8000000000000 bytes of data, found 16");
}

// Read from a file, every prefix of a valid file (and the file with bytes
// after its data) gives what the same bytes give in memory.
TEST(NpyErrors, FileReadsAgreeWithParsingInMemory) {
  TempDir dir;
  std::string path = dir.file("x.npy");
  std::string good = encode_npy(iota(DType::F64, {2, 3}));
  auto outcome = [&](auto read) {
    try {
      Buffer b = read();
      return "values " + std::to_string(b.numel()) + " " + std::to_string(b.get(b.numel() - 1));
    } catch (const IOError &e) {
      return std::string(e.what());
    }
  };
  std::ofstream(path, std::ios::binary) << good + "trailing bytes";
  EXPECT_EQ(outcome([&] { return read_npy(path); }), "values 6 " + std::to_string(-0.75));
  for (size_t n = 0; n <= good.size(); ++n) {
    std::string bytes = good.substr(0, n);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    EXPECT_EQ(outcome([&] { return read_npy(path); }),
              outcome([&] { return parse_npy(bytes, path); }))
        << "prefix of " << n << " bytes";
  }
}

// Every prefix and many random corruptions of a valid file either parse or
// throw IOError; nothing crashes and nothing else escapes.
TEST(NpyErrors, GarbageNeverCrashes) {
  std::string good = encode_npy(iota(DType::F64, {2, 3}));
  auto survives = [](const std::string &bytes) {
    try {
      parse_npy(bytes, "fuzz.npy");
    } catch (const IOError &) {
    }
  };
  for (size_t n = 0; n <= good.size(); ++n) EXPECT_NO_THROW(survives(good.substr(0, n))) << n;
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      bytes[rng() % std::min<size_t>(bytes.size(), 80)] = static_cast<char>(rng());
    EXPECT_NO_THROW(survives(bytes)) << trial;
  }
}

}  // namespace
}  // namespace fusejit
