// The JIT's settings and its disk cache entry format.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "codegen/cache_file.h"
#include "codegen/jit.h"
#include "ir/error.h"

namespace fusejit {
namespace {

TEST(JitCacheFile, RoundTrips) {
  CacheIdentity id{"19.1.7", "cpu +a,+b", "key"};
  DecodedCacheEntry entry = decode_cache_entry(encode_cache_entry(id, "obj"), id);
  EXPECT_TRUE(entry.ok()) << entry.error;
  EXPECT_EQ(entry.payload, "obj");
}

TEST(JitCacheFile, EveryTruncationAndEveryFlippedByteIsRejected) {
  CacheIdentity id{"19.1.7", "cpu +a,+b", "key"};
  std::string valid = encode_cache_entry(id, "some object bytes");
  for (size_t n = 0; n < valid.size(); ++n)
    EXPECT_FALSE(decode_cache_entry(valid.substr(0, n), id).ok()) << n;
  EXPECT_FALSE(decode_cache_entry(valid + "x", id).ok());
  for (size_t i = 0; i < valid.size(); ++i) {
    std::string bad = valid;
    bad[i] ^= 0x04;
    EXPECT_FALSE(decode_cache_entry(bad, id).ok()) << "byte " << i;
  }
}

TEST(JitCacheFile, ForeignIdentityIsRejectedWithAReason) {
  CacheIdentity id{"19.1.7", "cpu +a", "key"};
  std::string file = encode_cache_entry(id, "obj");
  EXPECT_NE(decode_cache_entry(file, {"18.1.0", "cpu +a", "key"}).error.find("LLVM"),
            std::string::npos);
  EXPECT_NE(decode_cache_entry(file, {"19.1.7", "cpu +b", "key"}).error.find("CPU"),
            std::string::npos);
  EXPECT_NE(decode_cache_entry(file, {"19.1.7", "cpu +a", "k2"}).error.find("key"),
            std::string::npos);
}

TEST(JitCacheFile, NamesAreSafe) {
  EXPECT_EQ(cache_file_name("abc-1.2_3"), "abc-1.2_3.o");
  std::string odd = cache_file_name("../a b/c");
  EXPECT_EQ(odd.find('/'), std::string::npos) << odd;
  EXPECT_NE(odd, cache_file_name("../a b/d"));
}

TEST(JitNumerics, FromEnvironment) {
  const char *saved = std::getenv("FUSEJIT_NUMERICS");
  std::string restore = saved ? saved : "";
  ::unsetenv("FUSEJIT_NUMERICS");
  EXPECT_EQ(numerics_from_env(), Numerics::Fast);
  ::setenv("FUSEJIT_NUMERICS", "strict", 1);
  EXPECT_EQ(numerics_from_env(), Numerics::Strict);
  ::setenv("FUSEJIT_NUMERICS", "fast", 1);
  EXPECT_EQ(numerics_from_env(), Numerics::Fast);
  ::setenv("FUSEJIT_NUMERICS", "fsat", 1);
  EXPECT_THROW(numerics_from_env(), ValueError);
  if (saved) ::setenv("FUSEJIT_NUMERICS", restore.c_str(), 1);
  else ::unsetenv("FUSEJIT_NUMERICS");
}

}  // namespace
}  // namespace fusejit
