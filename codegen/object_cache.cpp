// Memory and disk storage of compiled objects (see object_cache.h). Every
// method here runs inside LLVM's frames or must not fail the compile, so
// I/O problems are logged and turned into misses, never thrown.
#include "codegen/object_cache.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <llvm/Config/llvm-config.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <spdlog/spdlog.h>

#include "codegen/jit.h"

namespace fusejit {

namespace fs = std::filesystem;

namespace {

std::optional<fs::path> usable_dir(std::optional<fs::path> dir) {
  if (!dir) return std::nullopt;
  std::error_code ec;
  fs::create_directories(*dir, ec);
  if (ec || !fs::is_directory(*dir)) {
    spdlog::debug("jit: disk cache disabled: cannot create {}: {}",
                  dir->string(), ec ? ec.message() : "not a directory");
    return std::nullopt;
  }
  return dir;
}

std::optional<std::string> read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(bytes).str();
}

}  // namespace

KernelObjectCache::KernelObjectCache(std::optional<fs::path> dir)
    : dir_(usable_dir(std::move(dir))) {}

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
    const std::string &key = module->getModuleIdentifier();
    std::string_view bytes(object.getBufferStart(), object.getBufferSize());
    {
      std::lock_guard lock(mutex_);
      objects_.insert_or_assign(key, std::string(bytes));
    }
    write_disk(key, bytes);
  } catch (const std::exception &e) {
    spdlog::warn("jit: could not cache an object: {}", e.what());
  }
}

std::unique_ptr<llvm::MemoryBuffer> KernelObjectCache::getObject(
    const llvm::Module *module) {
  try {
    const std::string &key = module->getModuleIdentifier();
    if (!load(key)) return nullptr;
    std::lock_guard lock(mutex_);
    return llvm::MemoryBuffer::getMemBufferCopy(objects_.at(key), key);
  } catch (const std::exception &e) {
    spdlog::warn("jit: could not read the object cache: {}", e.what());
    return nullptr;
  }
}

bool KernelObjectCache::load(const std::string &key) {
  {
    std::lock_guard lock(mutex_);
    if (objects_.count(key)) return true;
  }
  std::optional<std::string> object = read_disk(key);
  if (!object) return false;
  std::lock_guard lock(mutex_);
  objects_.try_emplace(key, std::move(*object));
  return true;
}

void KernelObjectCache::evict(const std::string &key) {
  {
    std::lock_guard lock(mutex_);
    objects_.erase(key);
  }
  std::error_code ec;
  if (dir_) fs::remove(file_for(key), ec);
}

void KernelObjectCache::forget(const std::string &key) {
  std::lock_guard lock(mutex_);
  objects_.erase(key);
}

std::optional<std::string> KernelObjectCache::read_disk(const std::string &key) {
  if (!dir_) return std::nullopt;
  fs::path path = file_for(key);
  std::optional<std::string> file = read_file(path);
  if (!file) return std::nullopt;  // absent (or unreadable): a plain miss
  DecodedCacheEntry entry = decode_cache_entry(*file, identity(key));
  if (!entry.ok()) {
    ++disk_rejects_;
    spdlog::debug("jit: ignoring corrupt cache file {}: {}", path.string(),
                  entry.error);
    std::error_code ec;
    fs::remove(path, ec);  // the recompiled object replaces it
    return std::nullopt;
  }
  ++disk_hits_;
  spdlog::debug("jit: disk cache hit {}", key);
  return std::move(entry.payload);
}

void KernelObjectCache::write_disk(const std::string &key,
                                   std::string_view object) {
  if (!dir_) return;
  fs::path path = file_for(key);
  // A unique temporary renamed over the entry: readers in other processes
  // see the old file or the new one, never half of one.
  fs::path temp = path;
  temp += ".tmp." + std::to_string(::getpid()) + "." +
          std::to_string(temp_counter_++);
  std::string bytes = encode_cache_entry(identity(key), object);
  bool written = false;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    written = bool(out);
  }
  std::error_code ec;
  if (written) fs::rename(temp, path, ec);
  if (!written || ec) {
    fs::remove(temp, ec);
    spdlog::debug("jit: could not write cache file {}", path.string());
    return;
  }
  ++disk_writes_;
  spdlog::debug("jit: wrote cache file {} ({} bytes)", path.string(),
                bytes.size());
}

}  // namespace fusejit
