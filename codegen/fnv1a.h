// FNV-1a, 64 bits: the checksum of disk cache entries, their file names'
// hash, and the base of kernel cache keys. Fast and stable across builds;
// not for anything an adversary chooses to collide.
#pragma once

#include <cstdint>
#include <string_view>

namespace fusejit {

inline constexpr uint64_t kFnv1aBasis = 0xcbf29ce484222325ULL;

inline uint64_t fnv1a64(std::string_view bytes, uint64_t basis = kFnv1aBasis) {
  uint64_t hash = basis;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace fusejit
