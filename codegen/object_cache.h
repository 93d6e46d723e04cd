// Compiled kernel objects, kept in memory by module identifier (which the
// JIT sets to the cache key) and, given a directory, on disk so that later
// processes skip LLVM entirely. Disk entries are validated on every read
// (cache_file.h); an invalid one is deleted and the kernel compiled afresh.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <llvm/ExecutionEngine/ObjectCache.h>

#include "codegen/cache_file.h"

namespace fusejit {

class KernelObjectCache final : public llvm::ObjectCache {
 public:
  // Memory only if `dir` is nullopt or cannot be created.
  explicit KernelObjectCache(std::optional<std::filesystem::path> dir);

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

  std::optional<std::filesystem::path> dir_;
  std::mutex mutex_;  // guards objects_
  std::unordered_map<std::string, std::string> objects_;
  std::atomic<uint64_t> compiles_{0}, disk_hits_{0}, disk_rejects_{0},
      disk_writes_{0}, temp_counter_{0};
};

}  // namespace fusejit
