// Encoding and validation of disk cache entries (see cache_file.h).
#include "codegen/cache_file.h"

#include <cstdio>

#include "codegen/fnv1a.h"

namespace fusejit {

namespace {

void put_u32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

void put_u64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

void put_string(std::string &out, std::string_view s) {
  put_u32(out, uint32_t(s.size()));
  out.append(s);
}

// Reads fields front to back; any read past the end marks it truncated and
// yields zeros, so decoding can go on and report one clear reason.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool truncated() const { return truncated_; }
  size_t remaining() const { return rest_.size(); }

  std::string_view bytes(size_t n) {
    if (n > rest_.size()) {
      truncated_ = true;
      rest_ = {};
      return {};
    }
    std::string_view head = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return head;
  }

  uint64_t uint(int width) {
    std::string_view b = bytes(size_t(width));
    uint64_t v = 0;
    for (size_t i = 0; i < b.size(); ++i) v |= uint64_t(uint8_t(b[i])) << (8 * i);
    return v;
  }

  std::string_view string() { return bytes(size_t(uint(4))); }

 private:
  std::string_view rest_;
  bool truncated_ = false;
};

std::string mismatch(const char *field, std::string_view got, std::string_view want) {
  return std::string(field) + " is '" + std::string(got) + "', expected '" + std::string(want) +
         "'";
}

bool is_plain_name(std::string_view key) {
  if (key.empty() || key.size() > 120 || key.front() == '.') return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string encode_cache_entry(const CacheIdentity &identity, std::string_view payload) {
  std::string out(kCacheMagic);
  put_u32(out, kCacheFormatVersion);
  put_string(out, identity.llvm_version);
  put_string(out, identity.host_cpu);
  put_string(out, identity.key);
  put_u64(out, payload.size());
  put_u64(out, fnv1a64(payload));
  out.append(payload);
  return out;
}

DecodedCacheEntry decode_cache_entry(std::string_view file, const CacheIdentity &expected) {
  Reader in(file);
  DecodedCacheEntry result;
  auto fail = [&](std::string why) {
    result.error = in.truncated() ? "truncated" : std::move(why);
    return result;
  };
  if (in.bytes(kCacheMagic.size()) != kCacheMagic) return fail("bad magic");
  uint32_t version = uint32_t(in.uint(4));
  auto foreign = [&](std::string why) {
    result.foreign = !in.truncated();
    return fail(std::move(why));
  };
  if (version != kCacheFormatVersion) return foreign("format version " + std::to_string(version));
  std::string_view llvm = in.string();
  if (llvm != expected.llvm_version)
    return foreign(mismatch("LLVM version", llvm, expected.llvm_version));
  std::string_view cpu = in.string();
  if (cpu != expected.host_cpu) return foreign("built for another host CPU");
  std::string_view key = in.string();
  if (key != expected.key) return fail(mismatch("key", key, expected.key));
  uint64_t length = in.uint(8);
  uint64_t checksum = in.uint(8);
  if (in.truncated()) return fail("");
  if (length != in.remaining())
    return fail("payload is " + std::to_string(in.remaining()) + " bytes, header says " +
                std::to_string(length));
  std::string_view payload = in.bytes(size_t(length));
  if (fnv1a64(payload) != checksum) return fail("checksum mismatch");
  result.payload = std::string(payload);
  return result;
}

std::string cache_file_name(std::string_view key) {
  if (is_plain_name(key)) return std::string(key) + ".o";
  std::string name;
  for (char c : key.substr(0, 64)) name.push_back(is_plain_name({&c, 1}) ? c : '_');
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(key)));
  return name + "-" + hash + ".o";
}

}  // namespace fusejit
