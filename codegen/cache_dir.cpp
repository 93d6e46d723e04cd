// The disk cache's directory and its trust checks (see cache_dir.h).
#include "codegen/cache_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "codegen/cache_file.h"

namespace fusejit {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) { return std::strerror(error); }

// Closes a descriptor on every path out of a scope.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor &) = delete;
  Descriptor &operator=(const Descriptor &) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Why a file or directory with status `st` may have been written by someone
// other than the effective user, or "".
std::string foreign_writer(const struct stat &st) {
  if (st.st_uid != ::geteuid())
    return "owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " +
           std::to_string(::geteuid()) + ")";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return std::string("mode ") + mode + " lets other users write to it";
  }
  return "";
}

// Why an entry with status `st` (not following links) is not loaded, or "".
std::string untrusted_entry(const struct stat &st) {
  if (S_ISLNK(st.st_mode)) return "it is a symbolic link";
  if (S_ISFIFO(st.st_mode)) return "it is a FIFO, not a regular file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "it is a device, not a regular file";
  if (!S_ISREG(st.st_mode)) return "it is not a regular file";
  if (std::string why = foreign_writer(st); !why.empty()) return why;
  if (uint64_t(st.st_size) > kMaxCacheEntryBytes)
    return std::to_string(st.st_size) + " bytes, more than the " +
           std::to_string(kMaxCacheEntryBytes) + " a cache entry may hold";
  return "";
}

// `mkdir -p` that creates each missing directory mode 0700 (as XDG asks of
// $XDG_CACHE_HOME), whatever the umask would allow.
std::string make_private_directories(const fs::path &path) {
  fs::path prefix;
  for (const fs::path &part : path) {
    prefix /= part;
    struct stat st;
    if (::stat(prefix.c_str(), &st) == 0) continue;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create " + prefix.string() + ": " + errno_text(errno);
  }
  return "";
}

// Writers add ".tmp.<pid>.<random>" to the entry's name.
bool is_temp_name(std::string_view name) { return name.find(".o.tmp.") != std::string_view::npos; }

bool is_entry_name(std::string_view name) { return name.ends_with(".o") && !is_temp_name(name); }

std::string random_suffix() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(engine()));
  return hex;
}

struct Listed {
  std::string name;
  struct stat st;
};

// The entries and temporary files in the directory `dirfd`, with their
// status (links not followed). Opened afresh: a duplicate descriptor would
// share its read position with concurrent listings.
std::vector<Listed> list(int dirfd) {
  std::vector<Listed> found;
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return found;
  DIR *dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return found;
  }
  while (const dirent *e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (!is_temp_name(name) && !is_entry_name(name)) continue;
    Listed listed{std::string(name), {}};
    if (::fstatat(dirfd, e->d_name, &listed.st, AT_SYMLINK_NOFOLLOW) == 0)
      found.push_back(std::move(listed));
  }
  ::closedir(dir);
  return found;
}

bool older(const struct stat &a, const struct stat &b) {
  if (a.st_mtim.tv_sec != b.st_mtim.tv_sec) return a.st_mtim.tv_sec < b.st_mtim.tv_sec;
  return a.st_mtim.tv_nsec < b.st_mtim.tv_nsec;
}

// Whether the regular file `name` starts as cache entries do: eviction
// must not delete a user's own `.o` files in a directory shared with them.
bool starts_with_magic(int dirfd, const std::string &name) {
  Descriptor fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  char head[kCacheMagic.size()];
  return ::pread(fd.get(), head, sizeof head, 0) == ssize_t(sizeof head) &&
         std::string_view(head, sizeof head) == kCacheMagic;
}

}  // namespace

CacheDirectory::CacheDirectory(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}

CacheDirectory::~CacheDirectory() { ::close(fd_); }

OpenedCacheDirectory CacheDirectory::open(const fs::path &path) {
  auto refuse = [&](const std::string &why) {
    return OpenedCacheDirectory{nullptr, path.string() + ": " + why};
  };
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return refuse(errno_text(errno));
    if (std::string why = make_private_directories(path); !why.empty()) return {nullptr, why};
    if (::lstat(path.c_str(), &st) != 0) return refuse(errno_text(errno));
  }
  // Someone else's link could lead anywhere; one's own is a choice made.
  if (S_ISLNK(st.st_mode) && st.st_uid != ::geteuid())
    return refuse("a symbolic link owned by uid " + std::to_string(st.st_uid) +
                  ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return refuse(errno_text(errno));
  // The directory opened is the one checked, whatever the path does later.
  if (::fstat(fd.get(), &st) != 0) return refuse(errno_text(errno));
  if (std::string why = foreign_writer(st); !why.empty()) {
    // Earlier versions created it as the umask allowed, often 0775.
    if (st.st_uid == ::geteuid()) why += " (chmod 700 makes it usable)";
    return refuse(why);
  }
  return {std::unique_ptr<CacheDirectory>(new CacheDirectory(path, fd.release())), ""};
}

CacheEntryRead CacheDirectory::read(const std::string &name) const {
  using Outcome = CacheEntryRead::Outcome;
  auto refuse = [](std::string why) {
    return CacheEntryRead{Outcome::Refused, "", std::move(why)};
  };
  // Checked before opening as well: opening a device can act on it.
  struct stat st;
  if (::fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? CacheEntryRead{} : refuse(errno_text(errno));
  if (std::string why = untrusted_entry(st); !why.empty()) return refuse(why);
  Descriptor fd(::openat(fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return {};
    return refuse(errno == ELOOP ? "it is a symbolic link" : errno_text(errno));
  }
  // The file may have been replaced since: what counts is the one opened.
  if (::fstat(fd.get(), &st) != 0) return refuse(errno_text(errno));
  if (std::string why = untrusted_entry(st); !why.empty()) return refuse(why);
  std::string bytes(size_t(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return refuse("read: " + errno_text(errno));
    if (n == 0) break;  // shrank meanwhile: decoding reports it truncated
    done += size_t(n);
  }
  bytes.resize(done);
  // A use: eviction removes the least recently used entries first. Failing
  // to record it only makes the entry look older.
  ::futimens(fd.get(), nullptr);
  return {Outcome::Loaded, std::move(bytes), ""};
}

std::string CacheDirectory::write(const std::string &name, std::string_view bytes) const {
  std::string temp;
  int error = 0;
  Descriptor fd(-1);
  for (int attempt = 0; attempt < 8 && fd.get() < 0; ++attempt) {
    temp = name + ".tmp." + std::to_string(::getpid()) + "." + random_suffix();
    fd.reset(
        ::openat(fd_, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    error = errno;
    if (fd.get() < 0 && error != EEXIST) break;
  }
  if (fd.get() < 0) return "cannot create a temporary file: " + errno_text(error);
  std::string why;
  for (size_t done = 0; done < bytes.size() && why.empty();) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      why = "write: " + errno_text(errno);
    else
      done += size_t(n);
  }
  if (::close(fd.release()) != 0 && why.empty()) why = "close: " + errno_text(errno);
  if (why.empty() && ::renameat(fd_, temp.c_str(), fd_, name.c_str()) != 0)
    why = "rename: " + errno_text(errno);
  if (!why.empty()) ::unlinkat(fd_, temp.c_str(), 0);
  return why;
}

void CacheDirectory::remove(const std::string &name) const {
  // An entry that stays is replaced by the next write of its key anyway.
  ::unlinkat(fd_, name.c_str(), 0);
}

uint64_t CacheDirectory::sweep() const {
  uint64_t bytes = 0;
  std::time_t now = std::time(nullptr);
  for (const Listed &file : list(fd_)) {
    if (is_entry_name(file.name)) {
      if (S_ISREG(file.st.st_mode)) bytes += uint64_t(file.st.st_size);
    } else if (!S_ISDIR(file.st.st_mode) && now - file.st.st_mtim.tv_sec > kOrphanSeconds) {
      ::unlinkat(fd_, file.name.c_str(), 0);
    }
  }
  return bytes;
}

uint64_t CacheDirectory::evict_to(uint64_t target) const {
  std::vector<Listed> entries;
  uint64_t bytes = 0;
  for (Listed &file : list(fd_)) {
    if (!is_entry_name(file.name) || !S_ISREG(file.st.st_mode)) continue;
    bytes += uint64_t(file.st.st_size);
    entries.push_back(std::move(file));
  }
  std::sort(entries.begin(), entries.end(), [](const Listed &a, const Listed &b) {
    return older(a.st, b.st) || (!older(b.st, a.st) && a.name < b.name);
  });
  for (const Listed &entry : entries) {
    if (bytes <= target) break;
    if (!starts_with_magic(fd_, entry.name)) continue;
    if (::unlinkat(fd_, entry.name.c_str(), 0) == 0) bytes -= uint64_t(entry.st.st_size);
  }
  return bytes;
}

}  // namespace fusejit
