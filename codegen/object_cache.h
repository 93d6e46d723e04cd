// Compiled kernel objects, kept in memory by module identifier (which the
// JIT sets to the cache key) and, given a directory, on disk so that later
// processes skip LLVM entirely. Disk entries are loaded only if trusted
// (cache_dir.h) and valid (cache_file.h); any other is deleted and the
// kernel compiled afresh. The disk holds at most `max_bytes` of entries,
// the least recently used evicted first.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <llvm/ExecutionEngine/ObjectCache.h>

#include "codegen/cache_dir.h"
#include "codegen/cache_file.h"

namespace fusejit {

class KernelObjectCache final : public llvm::ObjectCache {
 public:
  // Memory only if `dir` is nullopt, cannot be created or is not trusted
  // (which is logged), or if `max_bytes` is 0.
  KernelObjectCache(std::optional<std::filesystem::path> dir,
                    uint64_t max_bytes);

  // Called by LLVM after codegen: keeps the object, writes it to disk.
  void notifyObjectCompiled(const llvm::Module *module,
                            llvm::MemoryBufferRef object) override;

  // Called by LLVM before codegen: the object for the module's key, from
  // memory or a valid disk entry, or null to make LLVM compile.
  std::unique_ptr<llvm::MemoryBuffer> getObject(
      const llvm::Module *module) override;

  // True if an object for `key` is now in memory, loading it from disk if
  // needed; lets the JIT skip the O3 pipeline for cached kernels.
  bool load(const std::string &key);

  // Forgets `key` in memory and on disk: its object did not link.
  void evict(const std::string &key);
  // Forgets `key` in memory only: its kernel was unloaded.
  void forget(const std::string &key);

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
  std::mutex mutex_;  // guards objects_
  std::unordered_map<std::string, std::string> objects_;
  std::mutex disk_mutex_;  // guards disk_bytes_
  // Bytes of entries on disk as last counted plus what this process wrote
  // since; unknown until this process first writes, which sweeps first.
  std::optional<uint64_t> disk_bytes_;
  std::atomic<uint64_t> compiles_{0}, disk_hits_{0}, disk_rejects_{0},
      disk_writes_{0};
};

}  // namespace fusejit
