// Memory and disk storage of compiled objects (see object_cache.h). Every
// method here runs inside LLVM's frames or must not fail the compile, so
// disk problems are logged and turned into misses, never thrown.
#include "codegen/object_cache.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include "ir/log.h"

#include "codegen/jit.h"

namespace fusejit {

namespace fs = std::filesystem;

namespace {

// Kinds of disk cache trouble. Each is logged as a warning the first time
// in a process, then at debug level: a user learns of it without a flood.
enum class Trouble { Directory, Entry, Write, Count };

void report(Trouble kind, const std::string &message) {
  static std::atomic<bool> warned[size_t(Trouble::Count)];
  if (warned[size_t(kind)].exchange(true)) {
    logger().debug("{}", message);
  } else {
    logger().warn("{} (further such problems are logged at FUSEJIT_LOG=debug)", message);
  }
}

std::unique_ptr<CacheDirectory> open_disk(std::optional<fs::path> dir, uint64_t max_bytes) {
  if (!dir) return nullptr;
  if (max_bytes == 0) {
    logger().debug("jit: disk cache off: its size bound is 0");
    return nullptr;
  }
  OpenedCacheDirectory opened = CacheDirectory::open(*dir);
  if (!opened.dir)
    report(Trouble::Directory,
           "jit: disk cache off, kernels compile in memory only: " + opened.why);
  return std::move(opened.dir);
}

}  // namespace

KernelObjectCache::KernelObjectCache(std::optional<fs::path> dir, uint64_t max_bytes)
    : disk_(open_disk(std::move(dir), max_bytes)), max_bytes_(max_bytes) {
  if (disk_) dir_ = disk_->path();
}

fs::path KernelObjectCache::file_for(const std::string &key) const {
  return dir_ ? *dir_ / cache_file_name(key) : fs::path();
}

CacheIdentity KernelObjectCache::identity(const std::string &key) const {
  return {LLVM_VERSION_STRING, host_cpu_description(), key};
}

void KernelObjectCache::notifyObjectCompiled(const llvm::Module *module,
                                             llvm::MemoryBufferRef object) {
  ++compiles_;
  try {
    write_disk(module->getModuleIdentifier(),
               std::string_view(object.getBufferStart(), object.getBufferSize()));
  } catch (const std::exception &e) {
    logger().warn("jit: could not cache an object: {}", e.what());
  }
}

std::unique_ptr<llvm::MemoryBuffer> KernelObjectCache::getObject(const llvm::Module *) {
  return nullptr;
}

std::unique_ptr<llvm::MemoryBuffer> KernelObjectCache::load(const std::string &key) {
  try {
    std::optional<std::string> object = read_disk(key);
    if (!object) return nullptr;
    return llvm::MemoryBuffer::getMemBufferCopy(*object, key);
  } catch (const std::exception &e) {
    logger().warn("jit: could not read the object cache: {}", e.what());
    return nullptr;
  }
}

void KernelObjectCache::evict(const std::string &key) {
  if (disk_) disk_->remove(cache_file_name(key));
}

std::optional<std::string> KernelObjectCache::read_disk(const std::string &key) {
  if (!disk_) return std::nullopt;
  const std::string name = cache_file_name(key);
  CacheEntryRead read = disk_->read(name);
  if (read.outcome == CacheEntryRead::Outcome::Absent) return std::nullopt;
  if (read.outcome == CacheEntryRead::Outcome::Refused) {
    ++disk_rejects_;
    report(Trouble::Entry, "jit: refusing cache file " + file_for(key).string() + ": " + read.why);
    disk_->remove(name);  // never followed: a link goes, not its target
    return std::nullopt;
  }
  DecodedCacheEntry entry = decode_cache_entry(read.bytes, identity(key));
  if (!entry.ok()) {
    ++disk_rejects_;
    std::string message =
        "jit: ignoring corrupt cache file " + file_for(key).string() + ": " + entry.error;
    // Entries of another LLVM or CPU are expected after an upgrade.
    if (entry.foreign)
      logger().debug("{}", message);
    else
      report(Trouble::Entry, message);
    disk_->remove(name);  // the recompiled object replaces it
    return std::nullopt;
  }
  ++disk_hits_;
  logger().debug("jit: disk cache hit {}", key);
  return std::move(entry.payload);
}

void KernelObjectCache::write_disk(const std::string &key, std::string_view object) {
  if (!disk_) return;
  std::string bytes = encode_cache_entry(identity(key), object);
  std::string why = disk_->write(cache_file_name(key), bytes);
  if (!why.empty()) {
    report(Trouble::Write,
           "jit: could not write cache file " + file_for(key).string() + ": " + why);
    return;
  }
  ++disk_writes_;
  logger().debug("jit: wrote cache file {} ({} bytes)", file_for(key).string(), bytes.size());
  bound_disk(bytes.size());
}

// Called after each write. Evicts to 3/4 of the bound, not just under it,
// so that not every later write lists the directory again.
void KernelObjectCache::bound_disk(uint64_t written) {
  std::lock_guard lock(disk_mutex_);
  // The first write of a process counts what is there (which includes
  // `written`) and removes temporary files killed writers left behind.
  disk_bytes_ = disk_bytes_ ? *disk_bytes_ + written : disk_->sweep();
  if (*disk_bytes_ <= max_bytes_) return;
  uint64_t before = *disk_bytes_;
  disk_bytes_ = disk_->evict_to(max_bytes_ / 4 * 3);
  logger().debug(
      "jit: disk cache held {} bytes, more than its bound of {}: "
      "evicted the least recently used down to {}",
      before, max_bytes_, *disk_bytes_);
}

}  // namespace fusejit
