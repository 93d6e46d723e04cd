// The host device: a DeviceBuffer's owner is the Storage it points into.
#include "runtime/device.h"

#include "runtime/storage_pool.h"

namespace fusejit {

namespace {

DeviceBuffer share(const std::shared_ptr<Storage> &storage) {
  FUSEJIT_INTERNAL_CHECK(storage != nullptr, "host device: an undefined buffer");
  return {storage->data(), storage->bytes(), storage};
}

class HostDevice final : public Device {
 public:
  const char *name() const override { return "host"; }

  DeviceBuffer allocate(DType dtype, const Shape &shape) override {
    return share(Buffer(dtype, shape).storage());  // Buffer checks the size
  }

  DeviceBuffer allocate_bytes(size_t bytes) override { return share(acquire_storage(bytes)); }

  DeviceBuffer to_device(const Buffer &host) override { return share(host.storage()); }

  Buffer to_host(const DeviceBuffer &buffer, DType dtype, const Shape &shape) override {
    return Buffer(dtype, shape, std::static_pointer_cast<Storage>(buffer.owner));
  }
};

}  // namespace

Device &host_device() {
  static HostDevice device;
  return device;
}

}  // namespace fusejit
