// Where a plan's buffers live while its kernels run, and how values move
// there and back. Kernels take buffers by address; on the host that is a
// pointer into the storage pool, on a GPU it would be a device pointer, and
// engine/ only ever holds DeviceBuffers, so it never assumes which.
#pragma once

#include <cstddef>
#include <memory>

#include "ir/dtype.h"
#include "ir/shape.h"
#include "runtime/buffer.h"

namespace fusejit {

// Memory on one device. Copies share it; `owner` keeps it allocated.
struct DeviceBuffer {
  void *address = nullptr;  // what the device's kernels take
  size_t bytes = 0;
  std::shared_ptr<void> owner;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const char *name() const = 0;

  // Uninitialized memory for a value of `dtype` and `shape`; ValueError
  // naming the type if its size overflows or the device has no room.
  virtual DeviceBuffer allocate(DType dtype, const Shape &shape) = 0;
  // `bytes` of uninitialized memory, for temps to share (Plan::slot_bytes).
  virtual DeviceBuffer allocate_bytes(size_t bytes) = 0;

  // `host`'s value on the device; the host device shares it (no copy).
  virtual DeviceBuffer to_device(const Buffer &host) = 0;
  // The value of `dtype` and `shape` at the start of `buffer`, as a host
  // Buffer; the host device shares it (no copy).
  virtual Buffer to_host(const DeviceBuffer &buffer, DType dtype, const Shape &shape) = 0;
};

// This process's memory: buffers come from the storage pool
// (runtime/storage_pool.h), and moving them is free.
Device &host_device();

}  // namespace fusejit
