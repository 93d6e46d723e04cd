// The on-disk format of one cached object file. A cache file is only ever a
// hint: whatever it holds is checked against what the reader expects, and
// any mismatch makes the reader compile afresh.
//
// Layout (integers little-endian):
//   8 bytes  magic "FJITOBJ\0"
//   u32      format version (kCacheFormatVersion)
//   u32      length + bytes of the LLVM version ("19.1.7")
//   u32      length + bytes of host_cpu_description()
//   u32      length + bytes of the cache key
//   u64      payload length
//   u64      FNV-1a 64 of the payload (codegen/fnv1a.h)
//   payload  the relocatable object, exactly `payload length` bytes, then EOF
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fusejit {

inline constexpr uint32_t kCacheFormatVersion = 1;
// The first bytes of every entry: eviction deletes only files that start so.
inline constexpr std::string_view kCacheMagic{"FJITOBJ\0", 8};

// Everything an object depends on besides its module: files that disagree
// on any of these are foreign and never loaded.
struct CacheIdentity {
  std::string llvm_version;
  std::string host_cpu;
  std::string key;
};

std::string encode_cache_entry(const CacheIdentity &identity, std::string_view payload);

struct DecodedCacheEntry {
  std::string payload;
  std::string error;  // empty when the entry is valid; else why it is not
  // The entry is intact but made by another format, LLVM or host CPU: to be
  // expected after an upgrade, unlike damage.
  bool foreign = false;
  bool ok() const { return error.empty(); }
};

DecodedCacheEntry decode_cache_entry(std::string_view file, const CacheIdentity &expected);

// A file name for `key`: the key itself when it is a short [A-Za-z0-9._-]
// string, else a sanitized prefix plus a hash (the header's key field
// catches the collisions the hash might have), always ending in ".o".
std::string cache_file_name(std::string_view key);

}  // namespace fusejit
