#include "runtime/npy.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/npy_header.h"

namespace fusejit {

namespace {

// The file starts with "\x93NUMPY", a major and a minor version byte, then
// the header length: 2 bytes little-endian in version 1, 4 bytes in 2 and 3
// (3 only allows a UTF-8 header, which changes nothing for the keys we read).
constexpr std::string_view kMagic("\x93NUMPY", 6);
constexpr size_t kAlign = 64;  // numpy pads magic + length + header to this
constexpr bool kLittleHost = std::endian::native == std::endian::little;

[[noreturn]] void fail(const std::string &what, const std::string &msg) {
  throw IOError(what + ": " + msg);
}

uint32_t read_le(std::string_view bytes, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= uint32_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

// Returns the header text and sets `data_at` to where the array data starts.
std::string_view split_header(std::string_view bytes, const std::string &what, size_t &data_at) {
  if (bytes.substr(0, kMagic.size()) != kMagic)
    fail(what, "not a .npy file: bad magic " + quote_bytes(bytes.substr(0, kMagic.size())) +
                   " (expected '\\x93NUMPY')");
  if (bytes.size() < kMagic.size() + 2)
    fail(what, "truncated header: file ends inside the version bytes");
  int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail(what, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (supported: 1.0, 2.0, 3.0)");
  size_t len_bytes = major == 1 ? 2 : 4;
  size_t prefix = kMagic.size() + 2 + len_bytes;
  if (bytes.size() < prefix) fail(what, "truncated header: file ends inside the header length");
  size_t header_len = read_le(bytes, kMagic.size() + 2, len_bytes);
  if (header_len > bytes.size() - prefix)
    fail(what, "truncated header: header length is " + std::to_string(header_len) +
                   " bytes, found " + std::to_string(bytes.size() - prefix));
  data_at = prefix + header_len;
  return bytes.substr(prefix, header_len);
}

// '<f4' and '<f8'; '=' (native) and '|' (no order) mean little-endian here.
DType parse_descr(const std::string &descr, const std::string &what) {
  const std::string supported = " (supported: f32 '<f4' and f64 '<f8', little-endian)";
  std::string_view d(descr);
  char order = d.empty() ? '\0' : d[0];
  bool has_order = order == '<' || order == '>' || order == '=' || order == '|';
  std::string_view kind = has_order ? d.substr(1) : d;
  if (kind != "f4" && kind != "f8") fail(what, "unsupported dtype " + quote_bytes(d) + supported);
  bool little = order == '<' || (kLittleHost && order != '>');
  if (!little) fail(what, "big-endian dtype " + quote_bytes(d) + " is not supported" + supported);
  return kind == "f4" ? DType::F32 : DType::F64;
}

// Extents must be non-negative and the product of the non-zero ones fit in
// int64 (as numpy requires); checked before anything is allocated.
int64_t checked_numel(const NpyHeader &h, const std::string &what) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : h.shape) {
    if (d < 0) fail(what, "negative extent " + std::to_string(d) + " in shape " + h.shape_text);
    if (d == 0) {
      zero = true;
      continue;
    }
    if (n > INT64_MAX / d)
      fail(what, "shape " + h.shape_text + " has more elements than fit in int64");
    n *= d;
  }
  return zero ? 0 : n;
}

// Copies `count` little-endian elements of `size` bytes into native order.
void copy_from_little_endian(const char *src, void *dst, size_t count, size_t size) {
  std::memcpy(dst, src, count * size);
  if constexpr (!kLittleHost) {
    auto *p = static_cast<unsigned char *>(dst);
    for (size_t i = 0; i < count; ++i)
      for (size_t j = 0; j < size / 2; ++j) std::swap(p[i * size + j], p[i * size + size - 1 - j]);
  }
}

std::string errno_text() { return std::strerror(errno); }

struct FileCloser {
  void operator()(std::FILE *f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

Buffer parse_npy(std::string_view bytes, const std::string &what) {
  size_t data_at = 0;
  NpyHeader h = parse_npy_header(split_header(bytes, what, data_at), what);
  DType dtype = parse_descr(h.descr, what);
  if (h.fortran_order) fail(what, "fortran_order is True: only C order is supported");
  int64_t n = checked_numel(h, what);
  size_t size = dtype_size(dtype);
  size_t found = bytes.size() - data_at;
  if (static_cast<uint64_t>(n) > INT64_MAX / size)
    fail(what, "shape " + h.shape_text + " needs more bytes than fit in int64");
  size_t need = static_cast<size_t>(n) * size;
  // Checked before allocating, so a lying header cannot cause a huge allocation.
  if (found < need)
    fail(what, "truncated: expected " + std::to_string(need) + " bytes of data, found " +
                   std::to_string(found));
  // Bytes after the array are ignored, as numpy's np.load ignores them.
  Buffer b(dtype, h.shape);
  copy_from_little_endian(bytes.data() + data_at, b.raw(), static_cast<size_t>(n), size);
  return b;
}

std::string encode_npy(const Buffer &b) {
  FUSEJIT_USER_CHECK(b.defined(), ValueError, "encode_npy: the buffer holds no value");
  std::string header = format_npy_header(b.dtype() == DType::F32 ? "<f4" : "<f8", b.shape());
  // Version 1.0 unless the padded header does not fit its 2-byte length.
  auto padded_size = [&](size_t prefix) {
    return (prefix + header.size() + 1 + kAlign - 1) / kAlign * kAlign - prefix;
  };
  size_t prefix = kMagic.size() + 4;
  int major = 1;
  if (padded_size(prefix) > 0xffff) {
    prefix = kMagic.size() + 6;
    major = 2;
  }
  size_t padded = padded_size(prefix);
  header.append(padded - header.size() - 1, ' ');
  header += '\n';

  std::string out(kMagic);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - kMagic.size() - 2; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;
  size_t at = out.size();
  out.resize(at + b.bytes());
  // Little-endian to little-endian is a copy; the same swap serves both ways.
  copy_from_little_endian(static_cast<const char *>(b.raw()), out.data() + at,
                          static_cast<size_t>(b.numel()), dtype_size(b.dtype()));
  return out;
}

Buffer read_npy(const std::string &path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, "cannot open for reading: " + errno_text());
  std::string bytes;
  char chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) bytes.append(chunk, got);
  if (std::ferror(f.get())) fail(path, "read error: " + errno_text());
  return parse_npy(bytes, path);
}

void write_npy(const std::string &path, const Buffer &b) {
  std::string bytes = encode_npy(b);
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) fail(path, "cannot open for writing: " + errno_text());
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    fail(path, "write error: " + errno_text());
  // A full disk may only show when the buffered data is flushed.
  if (std::fclose(f.release()) != 0) fail(path, "write error: " + errno_text());
}

}  // namespace fusejit
