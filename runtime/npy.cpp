#include "runtime/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

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

// The magic, version and header length: at most this many bytes.
constexpr size_t kMaxPrefix = kMagic.size() + 2 + 4;

// Where the header text lies, from the first min(kMaxPrefix, total) bytes of
// a source of `total` bytes; the header must fit in the source.
struct HeaderSpan {
  size_t at = 0;
  size_t length = 0;
  size_t data_at() const { return at + length; }
};

HeaderSpan header_span(std::string_view head, uint64_t total, const std::string &what) {
  if (head.substr(0, kMagic.size()) != kMagic)
    fail(what, "not a .npy file: bad magic " + quote_bytes(head.substr(0, kMagic.size())) +
                   " (expected '\\x93NUMPY')");
  if (head.size() < kMagic.size() + 2)
    fail(what, "truncated header: file ends inside the version bytes");
  int major = static_cast<unsigned char>(head[6]), minor = static_cast<unsigned char>(head[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail(what, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (supported: 1.0, 2.0, 3.0)");
  size_t len_bytes = major == 1 ? 2 : 4;
  HeaderSpan span;
  span.at = kMagic.size() + 2 + len_bytes;
  if (head.size() < span.at) fail(what, "truncated header: file ends inside the header length");
  span.length = read_le(head, kMagic.size() + 2, len_bytes);
  if (span.length > total - span.at)
    fail(what, "truncated header: header length is " + std::to_string(span.length) +
                   " bytes, found " + std::to_string(total - span.at));
  return span;
}

// numpy's type codes for our dtypes: '<f4', '<f8', '<i4', '<i8', '|u1' and
// '|b1'; '=' (native) and '|' (no order) mean little-endian here.
const char *npy_kind(DType t) {
  switch (t) {
    case DType::F32:
      return "f4";
    case DType::F64:
      return "f8";
    case DType::I32:
      return "i4";
    case DType::I64:
      return "i8";
    case DType::U8:
      return "u1";
    case DType::Bool:
      return "b1";
  }
  return "";
}

std::string npy_descr(DType t) {
  return (dtype_size(t) == 1 ? "|" : "<") + std::string(npy_kind(t));
}

DType parse_descr(const std::string &descr, const std::string &what) {
  const std::string supported =
      " (supported: f32 '<f4', f64 '<f8', i32 '<i4', i64 '<i8', u8 '|u1', bool '|b1', "
      "little-endian)";
  std::string_view d(descr);
  char order = d.empty() ? '\0' : d[0];
  bool has_order = order == '<' || order == '>' || order == '=' || order == '|';
  std::string_view kind = has_order ? d.substr(1) : d;
  std::optional<DType> found;
  for (DType t : kAllDTypes)
    if (kind == npy_kind(t)) found = t;
  if (!found) fail(what, "unsupported dtype " + quote_bytes(d) + supported);
  bool little = order == '<' || (kLittleHost && order != '>') || dtype_size(*found) == 1;
  if (!little) fail(what, "big-endian dtype " + quote_bytes(d) + " is not supported" + supported);
  return *found;
}

// numpy writes bools as bytes 0 and 1; any other byte reads as true.
void normalize_bools(Buffer &b) {
  if (b.dtype() != DType::Bool) return;
  auto *p = static_cast<uint8_t *>(b.raw());
  for (int64_t i = 0; i < b.numel(); ++i) p[i] = p[i] != 0 ? 1 : 0;
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

// What the header describes, checked against the `found` bytes of data that
// follow it before anything is allocated, so a lying header cannot cause a
// huge allocation or a long read.
struct ArrayLayout {
  DType dtype;
  Shape shape;
  int64_t numel;
  size_t bytes;
};

ArrayLayout array_layout(std::string_view header, uint64_t found, const std::string &what) {
  NpyHeader h = parse_npy_header(header, what);
  DType dtype = parse_descr(h.descr, what);
  if (h.fortran_order) fail(what, "fortran_order is True: only C order is supported");
  int64_t n = checked_numel(h, what);
  size_t size = dtype_size(dtype);
  if (static_cast<uint64_t>(n) > INT64_MAX / size)
    fail(what, "shape " + h.shape_text + " needs more bytes than fit in int64");
  size_t need = static_cast<size_t>(n) * size;
  if (found < need)
    fail(what, "truncated: expected " + std::to_string(need) + " bytes of data, found " +
                   std::to_string(found));
  // Bytes after the array are ignored, as numpy's np.load ignores them.
  return {dtype, h.shape, n, need};
}

// In place: element order of little-endian data to the host's.
void to_native_order(void *data, size_t count, size_t size) {
  if constexpr (!kLittleHost) {
    auto *p = static_cast<unsigned char *>(data);
    for (size_t i = 0; i < count; ++i)
      for (size_t j = 0; j < size / 2; ++j) std::swap(p[i * size + j], p[i * size + size - 1 - j]);
  }
}

// Copies `count` little-endian elements of `size` bytes into native order.
void copy_from_little_endian(const char *src, void *dst, size_t count, size_t size) {
  if (count == 0) return;
  std::memcpy(dst, src, count * size);
  to_native_order(dst, count, size);
}

std::string errno_text() { return std::strerror(errno); }

struct FileCloser {
  void operator()(std::FILE *f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() { ::close(fd_); }
  Descriptor(const Descriptor &) = delete;
  Descriptor &operator=(const Descriptor &) = delete;

 private:
  int fd_;
};

// What a non-regular file is, for the message refusing it.
const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// Reads exactly `n` bytes into `dst`; a file that ends sooner (it shrank
// since fstat) is truncated.
void read_exact(int fd, char *dst, size_t n, const std::string &path) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::read(fd, dst + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "read error: " + errno_text());
    if (got == 0)
      fail(path, "truncated: the file ended after " + std::to_string(done) + " of " +
                     std::to_string(n) + " bytes");
    done += static_cast<size_t>(got);
  }
}

}  // namespace

Buffer parse_npy(std::string_view bytes, const std::string &what) {
  HeaderSpan span = header_span(bytes.substr(0, kMaxPrefix), bytes.size(), what);
  ArrayLayout a =
      array_layout(bytes.substr(span.at, span.length), bytes.size() - span.data_at(), what);
  Buffer b(a.dtype, a.shape);
  copy_from_little_endian(bytes.data() + span.data_at(), b.raw(), static_cast<size_t>(a.numel),
                          dtype_size(a.dtype));
  normalize_bools(b);
  return b;
}

std::string encode_npy(const Buffer &b) {
  FUSEJIT_USER_CHECK(b.defined(), ValueError, "encode_npy: the buffer holds no value");
  std::string header = format_npy_header(npy_descr(b.dtype()), b.shape());
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

// Only a regular file has a size to check the header against before reading:
// a device or pipe could stream without end (/dev/zero) or block. The open
// does not block on a FIFO that has no writer, so it can be refused.
Buffer read_npy(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open for reading: " + errno_text());
  Descriptor closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(path, "cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode))
    fail(path, std::string("is ") + file_kind(st.st_mode) +
                   ", not a regular file: a .npy input must be a file of known size");
  uint64_t total = static_cast<uint64_t>(st.st_size);

  std::string head(std::min<uint64_t>(total, kMaxPrefix), '\0');
  read_exact(fd, head.data(), head.size(), path);
  HeaderSpan span = header_span(head, total, path);
  std::string header(span.length, '\0');
  size_t in_head = head.size() - span.at;  // header (and data) bytes already read
  size_t header_in_head = std::min(in_head, span.length);
  header.replace(0, header_in_head, head, span.at, header_in_head);
  read_exact(fd, header.data() + header_in_head, span.length - header_in_head, path);

  ArrayLayout a = array_layout(header, total - span.data_at(), path);
  Buffer b(a.dtype, a.shape);
  // The data may start inside the bytes already read, when the header is short.
  size_t from_head = std::min(in_head - header_in_head, a.bytes);
  if (from_head > 0) std::memcpy(b.raw(), head.data() + span.data_at(), from_head);
  if (a.bytes > from_head)
    read_exact(fd, static_cast<char *>(b.raw()) + from_head, a.bytes - from_head, path);
  to_native_order(b.raw(), static_cast<size_t>(a.numel), dtype_size(a.dtype));
  normalize_bools(b);
  return b;
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
