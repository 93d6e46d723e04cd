// The directory of the disk cache, and what of it may be trusted. An entry
// is machine code this process will run, so nothing anyone else could have
// written is ever read:
//   - the directory must be owned by the effective user and writable by no
//     one else; missing directories are created mode 0700;
//   - an entry must be a regular file (never a symbolic link, FIFO or
//     device), owned by the effective user, not group/other-writable, and
//     at most kMaxCacheEntryBytes long.
// The checksum in cache_file.h only catches damage; these rules are what
// keeps planted objects out.
//
// The directory is opened once; every later access goes through its
// descriptor (openat and friends, never following links), so replacing the
// path afterwards cannot redirect reads, writes or deletions.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace fusejit {

inline constexpr uint64_t kMaxCacheEntryBytes = uint64_t(64) << 20;
// A temporary file this old is left by a killed writer: a live one renames
// its file within milliseconds.
inline constexpr std::time_t kOrphanSeconds = 10 * 60;

// What reading one entry found.
struct CacheEntryRead {
  enum class Outcome {
    Absent,   // no entry: a plain miss
    Loaded,   // `bytes` holds the whole file
    Refused,  // not trusted or not readable; `why` says which
  };
  Outcome outcome = Outcome::Absent;
  std::string bytes;
  std::string why;
};

class CacheDirectory;

struct OpenedCacheDirectory {
  std::unique_ptr<CacheDirectory> dir;  // null if the directory is unusable
  std::string why;                      // then: why
};

class CacheDirectory {
 public:
  // `path`, created with its missing parents (mode 0700) if absent. A
  // symbolic link there is followed only if the effective user owns the
  // link; the directory reached must pass the checks above either way.
  static OpenedCacheDirectory open(const std::filesystem::path &path);

  ~CacheDirectory();
  CacheDirectory(const CacheDirectory &) = delete;
  CacheDirectory &operator=(const CacheDirectory &) = delete;

  const std::filesystem::path &path() const { return path_; }

  // The entry `name` (a plain file name), read only if it is trusted. A
  // loaded entry's mtime is set to now: eviction goes by least recent use.
  CacheEntryRead read(const std::string &name) const;

  // Replaces `name` atomically by `bytes` through a new 0600 temporary
  // file (O_EXCL, so nothing planted at its name is followed); readers see
  // the old entry or the new one. Returns why not, or "" on success.
  std::string write(const std::string &name, std::string_view bytes) const;

  // Deletes the directory entry `name` (a link itself, never its target).
  void remove(const std::string &name) const;

  // Deletes orphaned temporary files; returns the bytes the entries hold.
  uint64_t sweep() const;

  // Deletes the least recently used entries (oldest mtime first; only
  // files that begin with kCacheMagic) until at most `target` bytes are
  // left; returns the bytes left.
  uint64_t evict_to(uint64_t target) const;

 private:
  CacheDirectory(std::filesystem::path path, int fd);

  std::filesystem::path path_;
  int fd_;
};

}  // namespace fusejit
