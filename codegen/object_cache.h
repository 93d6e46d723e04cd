// Compiled kernel objects on disk, by module identifier (which the JIT
// sets to the cache key), so that later processes skip LLVM entirely. Disk entries are loaded only
// if trusted (cache_dir.h) and valid (cache_file.h); any other is deleted and the kernel compiled
// afresh. The disk holds at most `max_bytes` of entries, the least recently used evicted first.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <llvm/ExecutionEngine/ObjectCache.h>

#include "codegen/cache_dir.h"
#include "codegen/cache_file.h"

namespace fusejit {

class KernelObjectCache final : public llvm::ObjectCache {
 public:
  // Memory only if `dir` is nullopt, cannot be created or is not trusted
  // (which is logged), or if `max_bytes` is 0.
  KernelObjectCache(std::optional<std::filesystem::path> dir, uint64_t max_bytes);

  // Called by LLVM after codegen: writes the object to disk.
  void notifyObjectCompiled(const llvm::Module *module, llvm::MemoryBufferRef object) override;

  // Called by LLVM before codegen: always null. The JIT links cached
  // objects itself (load) and only compiles modules no cache holds.
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module *module) override;

  // The object of `key` from a valid disk entry, or null. Kept nowhere
  // else: once linked, the JIT's copy is the only one in memory.
  std::unique_ptr<llvm::MemoryBuffer> load(const std::string &key);

  // Forgets `key` on disk: its object did not link.
  void evict(const std::string &key);

  // The directory in use; nullopt when disk caching is off.
  const std::optional<std::filesystem::path> &dir() const { return dir_; }
  std::filesystem::path file_for(const std::string &key) const;

  uint64_t compiles() const { return compiles_; }
  uint64_t disk_hits() const { return disk_hits_; }
  uint64_t disk_rejects() const { return disk_rejects_; }
  uint64_t disk_writes() const { return disk_writes_; }

 private:
  CacheIdentity identity(const std::string &key) const;
  std::optional<std::string> read_disk(const std::string &key);
  void write_disk(const std::string &key, std::string_view object);

  void bound_disk(uint64_t written);

  std::unique_ptr<CacheDirectory> disk_;
  std::optional<std::filesystem::path> dir_;  // disk_'s path
  uint64_t max_bytes_;
  std::mutex disk_mutex_;  // guards disk_bytes_
  // Bytes of entries on disk as last counted plus what this process wrote
  // since; unknown until this process first writes, which sweeps first.
  std::optional<uint64_t> disk_bytes_;
  std::atomic<uint64_t> compiles_{0}, disk_hits_{0}, disk_rejects_{0}, disk_writes_{0};
};

}  // namespace fusejit
