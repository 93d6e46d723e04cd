#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "fusejit/data.h"
#include "fusejit/error.h"

namespace fusejit::data {
namespace {

// Dims above this are taken for a corrupt header rather than allocated.
constexpr int64_t kMaxBytes = int64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile_s *f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::string &path, const std::string &why) {
  throw IOError("idx: " + path + ": " + why);
}

// Reads up to n bytes; returns how many were read (fewer at the end).
size_t read_some(gzFile_s *f, const std::string &path, uint8_t *out, size_t n) {
  size_t done = 0;
  while (done < n) {
    // gzread takes an unsigned count; read in slices that fit it.
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    int got = gzread(f, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char *msg = gzerror(f, &code);
      fail(path, std::string("not a readable gzip or IDX file (") + msg + ")");
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

uint32_t big_endian_u32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

bool known_type(uint8_t code) {
  switch (code) {
    case 0x08:
    case 0x09:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x0E:
      return true;
    default:  // a byte from the file, not one of our enums
      return false;
  }
}

void to_host_order(std::vector<uint8_t> &bytes, size_t width) {
  if (width == 1 || std::endian::native == std::endian::big) return;
  for (size_t i = 0; i + width <= bytes.size(); i += width)
    std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                 bytes.begin() + static_cast<std::ptrdiff_t>(i + width));
}

std::string hex(unsigned v) {
  static const char *digits = "0123456789abcdef";
  std::string s = "0x";
  s += digits[(v >> 4) & 15];
  s += digits[v & 15];
  return s;
}

}  // namespace

const char *idx_type_name(IdxType t) {
  switch (t) {
    case IdxType::U8:
      return "u8";
    case IdxType::I8:
      return "i8";
    case IdxType::I16:
      return "i16";
    case IdxType::I32:
      return "i32";
    case IdxType::F32:
      return "f32";
    case IdxType::F64:
      return "f64";
  }
  return "?";
}

size_t idx_type_size(IdxType t) {
  switch (t) {
    case IdxType::U8:
    case IdxType::I8:
      return 1;
    case IdxType::I16:
      return 2;
    case IdxType::I32:
    case IdxType::F32:
      return 4;
    case IdxType::F64:
      return 8;
  }
  return 1;
}

int64_t IdxArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

IdxArray read_idx(const std::string &path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));

  std::array<uint8_t, 4> magic{};
  if (read_some(f.get(), path, magic.data(), 4) != 4)
    fail(path, "shorter than an IDX header (4 bytes)");
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, "bad magic " + hex(magic[0]) + " " + hex(magic[1]) +
                   " (an IDX file starts with 0x00 0x00)");
  if (!known_type(magic[2]))
    fail(path, "unknown element type code " + hex(magic[2]) +
                   " (IDX knows 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)");
  IdxArray a;
  a.type = static_cast<IdxType>(magic[2]);
  unsigned rank = magic[3];
  if (rank == 0) fail(path, "zero dims");

  std::vector<uint8_t> dims(4 * size_t{rank});
  if (read_some(f.get(), path, dims.data(), dims.size()) != dims.size())
    fail(path, "truncated header: " + std::to_string(rank) + " dims announced");
  const size_t width = idx_type_size(a.type);
  int64_t bytes = static_cast<int64_t>(width);
  for (unsigned d = 0; d < rank; ++d) {
    int64_t extent = big_endian_u32(&dims[4 * d]);
    a.shape.push_back(extent);
    if (extent != 0 && bytes > kMaxBytes / extent)
      fail(path, "dims describe more than " + std::to_string(kMaxBytes) + " bytes");
    bytes *= extent;
  }

  // Grown as data arrives, so a header that lies about its size fails on
  // the missing bytes instead of allocating them first.
  const size_t want = static_cast<size_t>(bytes);
  size_t have = 0;
  while (have < want) {
    size_t step = std::min<size_t>(want - have, size_t{64} << 20);
    a.bytes.resize(have + step);
    size_t got = read_some(f.get(), path, a.bytes.data() + have, step);
    have += got;
    if (got < step)
      fail(path, "truncated: the dims say " + std::to_string(want) + " data bytes, the file has " +
                     std::to_string(have));
  }
  uint8_t extra = 0;
  if (read_some(f.get(), path, &extra, 1) != 0)
    fail(path,
         "trailing bytes after the " + std::to_string(want) + " data bytes the dims describe");
  to_host_order(a.bytes, width);
  return a;
}

ImageDataset read_mnist_family(const std::string &dir, bool train, std::optional<int64_t> limit) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.type != IdxType::U8 || images.shape.size() != 3)
    fail(images_path, std::string("holds ") + idx_type_name(images.type) + " with " +
                          std::to_string(images.shape.size()) +
                          " dims, not u8 images [N, rows, cols]");
  if (labels.type != IdxType::U8 || labels.shape.size() != 1)
    fail(labels_path, std::string("holds ") + idx_type_name(labels.type) + " with " +
                          std::to_string(labels.shape.size()) + " dims, not u8 labels [N]");
  int64_t n = images.shape[0];
  if (labels.shape[0] != n)
    fail(labels_path, std::to_string(labels.shape[0]) + " labels for the " + std::to_string(n) +
                          " images of " + images_path);
  if (limit) n = std::min(n, std::max<int64_t>(*limit, 0));
  const int64_t pixels = images.shape[1] * images.shape[2];
  images.bytes.resize(static_cast<size_t>(n * pixels));
  ImageDataset out;
  out.images = Tensor::from_vector<uint8_t>(images.bytes, {n, 1, images.shape[1], images.shape[2]});
  out.labels = Tensor::from_vector<int64_t>(
      std::vector<int64_t>(labels.bytes.begin(), labels.bytes.begin() + n), {n});
  return out;
}

}  // namespace fusejit::data
