// What the disk cache trusts (codegen/cache_dir.h): each test plants what
// another user or a killed process could leave in or around the cache
// directory, and checks that it is neither loaded nor followed and that
// the kernel still runs, compiled afresh. Also the cache's size bound.
// (Corrupt and foreign entries: tests/jit_test.cpp.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

#include "codegen/cache_dir.h"
#include "codegen/cache_file.h"
#include "codegen/jit.h"
#include "codegen/jit_engine.h"
#include "codegen/sample_kernels.h"
#include "file_bytes.h"
#include "ir/error.h"

namespace fusejit {
namespace {

namespace fs = std::filesystem;

// The uid and gid a file "of another user" gets (nobody/nogroup).
constexpr uid_t kOtherUser = 65534;
constexpr gid_t kOtherGroup = 65534;

// Sets a file's (or a link's own) mtime to `seconds_ago` before now.
void age(const fs::path &path, int seconds_ago) {
  struct timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

mode_t mode_of(const fs::path &path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// saxpy in Strict numerics is exact: every element must match.
void check_saxpy(const CompiledFunction &fn) {
  ASSERT_NE(fn.address, nullptr);
  std::vector<float> x(37), y(37);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = 0.5f * float(i) - 4.0f;
    y[i] = 1.0f / float(i + 1);
  }
  std::vector<float> want(y.size());
  for (size_t i = 0; i < y.size(); ++i) want[i] = 3.0f * x[i] + y[i];
  fn.as<SaxpyFn>()(x.data(), y.data(), 3.0f, int64_t(x.size()));
  for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], want[i]) << i;
}

// A scratch directory per test: the cache is `cache_` inside it, and
// planted targets live beside the cache.
class DiskCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("fusejit-disk-cache-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cache_ = dir_ / "cache";
  }
  void TearDown() override { fs::remove_all(dir_); }

  JitOptions options(uint64_t max_bytes = uint64_t(512) << 20) const {
    JitOptions options;
    options.cache_dir = cache_.string();
    options.cache_max_bytes = max_bytes;
    return options;
  }

  // A valid disk entry for `key`, written by an engine of its own.
  fs::path write_entry(const std::string &key) {
    JitEngine writer(options());
    check_saxpy(compile_sample_saxpy(writer, Numerics::Strict, key));
    EXPECT_EQ(writer.stats().disk_writes, 1u);
    return writer.cache_file(key);
  }

  // A new engine must refuse the entry for `key`, compile it afresh, run
  // it, and replace the planted thing by a regular file of its own.
  void expect_refused_and_recompiled(const std::string &key) {
    JitEngine engine(options());
    CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Strict, key);
    EXPECT_EQ(fn.source, CodeSource::Compiled);
    JitStats stats = engine.stats();
    EXPECT_EQ(stats.disk_hits, 0u);
    EXPECT_EQ(stats.disk_rejects, 1u);
    EXPECT_EQ(stats.disk_writes, 1u);
    check_saxpy(fn);
    fs::path entry = engine.cache_file(key);
    struct stat st;
    ASSERT_EQ(::lstat(entry.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_uid, ::geteuid());
  }

  // With the directory refused, the kernel compiles in memory only.
  void expect_directory_refused() {
    JitEngine engine(options());
    EXPECT_FALSE(engine.cache_dir().has_value());
    CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Strict, "k");
    EXPECT_EQ(fn.source, CodeSource::Compiled);
    EXPECT_EQ(engine.stats().disk_hits, 0u);
    EXPECT_EQ(engine.stats().disk_writes, 0u);
    check_saxpy(fn);
  }

  fs::path dir_, cache_;
};

// Planting another user's file or a device needs root (CI runs as root).
#define FUSEJIT_SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown or mknod"

TEST_F(DiskCacheTest, SymlinkEntryIsNotFollowed) {
  // The link leads to a valid entry: only refusing links keeps it out.
  fs::path entry = write_entry("k");
  fs::path target = dir_ / "elsewhere.o";
  fs::rename(entry, target);
  fs::create_symlink(target, entry);
  std::string before = read_bytes(target);
  expect_refused_and_recompiled("k");
  EXPECT_EQ(read_bytes(target), before);
}

TEST_F(DiskCacheTest, FifoEntryIsNotRead) {
  fs::path entry = write_entry("k");
  fs::remove(entry);
  ASSERT_EQ(::mkfifo(entry.c_str(), 0600), 0);
  expect_refused_and_recompiled("k");  // reading it would block forever
}

TEST_F(DiskCacheTest, DeviceEntryIsNotRead) {
  FUSEJIT_SKIP_UNLESS_ROOT();
  fs::path entry = write_entry("k");
  fs::remove(entry);
  // /dev/zero's numbers: reading it would never end.
  ASSERT_EQ(::mknod(entry.c_str(), S_IFCHR | 0600, ::makedev(1, 5)), 0)
      << "creating a device needs root";
  expect_refused_and_recompiled("k");
}

TEST_F(DiskCacheTest, EntryOfAnotherUserIsRefused) {
  FUSEJIT_SKIP_UNLESS_ROOT();
  fs::path entry = write_entry("k");
  ASSERT_EQ(::chown(entry.c_str(), kOtherUser, kOtherGroup), 0) << "giving a file away needs root";
  expect_refused_and_recompiled("k");
}

TEST_F(DiskCacheTest, EntryOthersCanWriteIsRefused) {
  for (mode_t mode : {0664, 0646, 0666}) {
    SCOPED_TRACE(mode);
    fs::remove_all(cache_);
    fs::path entry = write_entry("k");
    ASSERT_EQ(::chmod(entry.c_str(), mode), 0);
    expect_refused_and_recompiled("k");
    EXPECT_EQ(mode_of(entry) & 022, 0u);
  }
}

TEST_F(DiskCacheTest, OversizedEntryIsRefusedUnread) {
  fs::path entry = write_entry("k");
  // Sparse: no disk space, but a read would have to fill that much memory.
  ASSERT_EQ(::truncate(entry.c_str(), off_t(kMaxCacheEntryBytes + 1)), 0);
  OpenedCacheDirectory opened = CacheDirectory::open(cache_);
  ASSERT_TRUE(opened.dir) << opened.why;
  CacheEntryRead read = opened.dir->read(entry.filename());
  EXPECT_EQ(read.outcome, CacheEntryRead::Outcome::Refused);
  EXPECT_NE(read.why.find(std::to_string(kMaxCacheEntryBytes + 1)), std::string::npos) << read.why;
  EXPECT_TRUE(read.bytes.empty());
  expect_refused_and_recompiled("k");
}

TEST_F(DiskCacheTest, DirectoryOthersCanWriteIsRefused) {
  for (mode_t mode : {0777, 0770, 01777}) {
    SCOPED_TRACE(mode);
    fs::path entry = write_entry("k");
    std::string before = read_bytes(entry);
    ASSERT_EQ(::chmod(cache_.c_str(), mode), 0);
    expect_directory_refused();
    EXPECT_EQ(read_bytes(entry), before);  // neither used nor replaced
    fs::remove_all(cache_);
  }
}

TEST_F(DiskCacheTest, DirectoryOfAnotherUserIsRefused) {
  FUSEJIT_SKIP_UNLESS_ROOT();
  write_entry("k");
  ASSERT_EQ(::chown(cache_.c_str(), kOtherUser, kOtherGroup), 0);
  expect_directory_refused();
}

TEST_F(DiskCacheTest, MissingDirectoriesAreCreatedPrivate) {
  mode_t umask_before = ::umask(022);
  cache_ = dir_ / "a" / "b";
  JitEngine engine(options());
  ::umask(umask_before);
  ASSERT_TRUE(engine.cache_dir().has_value());
  EXPECT_EQ(mode_of(dir_ / "a"), 0700u);
  EXPECT_EQ(mode_of(cache_), 0700u);
  CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Strict, "k");
  check_saxpy(fn);
  EXPECT_EQ(mode_of(engine.cache_file("k")) & 077, 0u);
}

// The documented choice: a link one made oneself is followed (the cache
// may live on another disk); a link of another user's is not.
TEST_F(DiskCacheTest, OwnSymlinkToTheDirectoryIsFollowed) {
  fs::path real = dir_ / "real";
  std::swap(cache_, real);
  write_entry("k");
  std::swap(cache_, real);
  fs::create_directory_symlink(real, cache_);
  JitEngine engine(options());
  ASSERT_TRUE(engine.cache_dir().has_value());
  CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Strict, "k");
  EXPECT_EQ(fn.source, CodeSource::DiskCache);
  check_saxpy(fn);
}

TEST_F(DiskCacheTest, SymlinkToTheDirectoryOfAnotherUserIsRefused) {
  FUSEJIT_SKIP_UNLESS_ROOT();
  fs::path real = dir_ / "real";
  std::swap(cache_, real);
  write_entry("k");
  std::swap(cache_, real);
  fs::create_directory_symlink(real, cache_);
  ASSERT_EQ(::lchown(cache_.c_str(), kOtherUser, kOtherGroup), 0);
  expect_directory_refused();
}

TEST_F(DiskCacheTest, SymlinkAtATemporaryNameIsNotFollowed) {
  fs::path entry = write_entry("k");
  fs::remove(entry);
  fs::path victim = dir_ / "victim";
  write_bytes(victim, "precious");
  // Where a writer that names its temporary file by pid and a counter
  // would write.
  for (int n = 0; n < 8; ++n) {
    fs::path temp = entry;
    temp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n);
    fs::create_symlink(victim, temp);
  }
  {
    JitEngine engine(options());
    check_saxpy(compile_sample_saxpy(engine, Numerics::Strict, "k"));
    EXPECT_EQ(engine.stats().disk_writes, 1u);
  }
  EXPECT_EQ(read_bytes(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(entry));
  JitEngine reader(options());
  CompiledFunction fn = compile_sample_saxpy(reader, Numerics::Strict, "k");
  EXPECT_EQ(fn.source, CodeSource::DiskCache);
  check_saxpy(fn);
}

TEST_F(DiskCacheTest, OrphanedTemporaryFilesAreRemovedOnFirstWrite) {
  fs::create_directories(cache_);
  fs::permissions(cache_, fs::perms::owner_all);
  fs::path victim = dir_ / "victim";
  write_bytes(victim, "precious");
  fs::path orphan = cache_ / "a.o.tmp.4242.0";
  fs::path orphan_link = cache_ / "b.o.tmp.4243.ffff";
  fs::path live = cache_ / "c.o.tmp.4244.1";  // a writer may be busy with it
  fs::path other = cache_ / "notes.txt";
  write_bytes(orphan, "half an object");
  fs::create_symlink(victim, orphan_link);
  write_bytes(live, "half an object");
  write_bytes(other, "not ours");
  age(orphan, 3600);
  age(orphan_link, 3600);
  age(other, 3600);
  JitEngine engine(options());
  check_saxpy(compile_sample_saxpy(engine, Numerics::Strict, "k"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(orphan)));
  EXPECT_FALSE(fs::exists(fs::symlink_status(orphan_link)));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(read_bytes(victim), "precious");
}

// A directory where the entry belongs can be neither read nor replaced.
TEST_F(DiskCacheTest, AnEntryThatCannotBeWrittenLeavesTheKernelRunning) {
  fs::path entry = write_entry("k");
  fs::remove(entry);
  fs::create_directories(entry / "inside");
  JitEngine engine(options());
  CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Strict, "k");
  EXPECT_EQ(fn.source, CodeSource::Compiled);
  // Refused whenever looked up (before O3 and before codegen), as it stays.
  EXPECT_GE(engine.stats().disk_rejects, 1u);
  EXPECT_EQ(engine.stats().disk_writes, 0u);
  check_saxpy(fn);
  EXPECT_TRUE(fs::is_directory(entry / "inside"));
  for (const auto &file : fs::directory_iterator(cache_))  // no temporary left
    EXPECT_EQ(file.path(), entry);
}

TEST_F(DiskCacheTest, OverItsBoundTheLeastRecentlyUsedEntriesGo) {
  std::vector<fs::path> entries;
  uint64_t largest = 0;
  for (int i = 0; i < 5; ++i) {
    entries.push_back(write_entry("lru-" + std::to_string(i)));
    largest = std::max<uint64_t>(largest, fs::file_size(entries.back()));
  }
  for (int i = 0; i < 5; ++i) age(entries[size_t(i)], 3600 * (10 - i));
  fs::path users = cache_ / "mine.o";  // not an entry: never evicted
  write_bytes(users, "a user's own object");
  age(users, 3600 * 20);

  // Room for four entries; eviction leaves three.
  const uint64_t bound = largest * 9 / 2;
  JitEngine engine(options(bound));
  CompiledFunction hit = compile_sample_saxpy(engine, Numerics::Strict, "lru-0");
  EXPECT_EQ(hit.source, CodeSource::DiskCache);  // now the most recent
  check_saxpy(hit);
  check_saxpy(compile_sample_saxpy(engine, Numerics::Strict, "lru-5"));

  EXPECT_TRUE(fs::exists(entries[0]));
  for (int i : {1, 2, 3}) EXPECT_FALSE(fs::exists(entries[size_t(i)])) << i;
  EXPECT_TRUE(fs::exists(entries[4]));
  EXPECT_TRUE(fs::exists(engine.cache_file("lru-5")));
  EXPECT_TRUE(fs::exists(users));
  uint64_t total = 0;
  for (const auto &file : fs::directory_iterator(cache_)) total += file.file_size();
  EXPECT_LE(total, bound);
}

TEST_F(DiskCacheTest, BoundOfZeroTurnsTheDiskCacheOff) {
  JitEngine engine(options(0));
  EXPECT_FALSE(engine.cache_dir().has_value());
  check_saxpy(compile_sample_saxpy(engine, Numerics::Strict, "k"));
  EXPECT_FALSE(fs::exists(cache_));
}

// Entries of another LLVM, CPU or format are expected after an upgrade and
// logged at debug level only; damage is a warning.
TEST(DiskCacheEntry, ForeignIsToldApartFromDamaged) {
  CacheIdentity mine{"19.1.7", "cpu +a", "key"};
  CacheIdentity llvm{"18.1.8", "cpu +a", "key"}, cpu{"19.1.7", "cpu +b", "key"};
  for (const CacheIdentity &other : {llvm, cpu}) {
    DecodedCacheEntry entry = decode_cache_entry(encode_cache_entry(other, "obj"), mine);
    EXPECT_FALSE(entry.ok());
    EXPECT_TRUE(entry.foreign) << entry.error;
  }
  std::string valid = encode_cache_entry(mine, "some object bytes");
  std::string flipped = valid;
  flipped.back() ^= 1;
  for (const std::string &damaged : {flipped, valid.substr(0, 14), std::string("junk")}) {
    DecodedCacheEntry entry = decode_cache_entry(damaged, mine);
    EXPECT_FALSE(entry.ok());
    EXPECT_FALSE(entry.foreign) << entry.error;
  }
}

// Restores an environment variable when it goes out of scope.
class ScopedEnv {
 public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char *name_;
  std::optional<std::string> old_;
};

TEST(DiskCacheBound, ReadFromTheEnvironmentInMegabytes) {
  {
    ScopedEnv unset("FUSEJIT_CACHE_MAX_MB", nullptr);
    EXPECT_EQ(JitOptions::from_env().cache_max_bytes, uint64_t(512) << 20);
  }
  {
    ScopedEnv set("FUSEJIT_CACHE_MAX_MB", "12");
    EXPECT_EQ(JitOptions::from_env().cache_max_bytes, uint64_t(12) << 20);
  }
  {
    ScopedEnv zero("FUSEJIT_CACHE_MAX_MB", "0");
    EXPECT_EQ(JitOptions::from_env().cache_max_bytes, 0u);
  }
}

TEST(DiskCacheBound, AnythingButAWholeNumberIsAValueErrorNamingIt) {
  for (const char *bad : {"lots", "-1", "1.5", "12MB", " 12", "99999999999999999999"}) {
    SCOPED_TRACE(bad);
    ScopedEnv set("FUSEJIT_CACHE_MAX_MB", bad);
    try {
      JitOptions::from_env();
      ADD_FAILURE() << "no error";
    } catch (const ValueError &e) {
      EXPECT_NE(std::string(e.what()).find(std::string("FUSEJIT_CACHE_MAX_MB=") + bad),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace fusejit
