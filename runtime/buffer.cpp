#include "runtime/buffer.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "runtime/storage_pool.h"

namespace fusejit {

Storage::Storage(size_t bytes) : bytes_(bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment, and a
  // non-null pointer keeps zero-sized buffers uniform.
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded);
  if (!data_) throw std::bad_alloc();
}

std::shared_ptr<Storage> Storage::borrow(void *data, size_t bytes, std::shared_ptr<void> owner) {
  std::shared_ptr<Storage> s(new Storage(data, bytes));
  s->owner_ = std::move(owner);
  return s;
}

Storage::~Storage() {
  if (!borrowed_) std::free(data_);
}

Buffer::Buffer(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), numel_(fusejit::numel(shape_)) {
  // A shape's element count fits int64, its byte count need not: unchecked,
  // it wraps to a small allocation that the first write overruns.
  FUSEJIT_USER_CHECK(numel_ <= PTRDIFF_MAX / static_cast<int64_t>(dtype_size(dtype_)), ValueError,
                     "cannot allocate ", type_str(dtype_, shape_), ": its size in bytes overflows");
  try {
    storage_ = acquire_storage(bytes());
  } catch (const std::bad_alloc &) {
    throw ValueError(detail::concat("cannot allocate ", type_str(dtype_, shape_), " (", bytes(),
                                    " bytes): out of memory"));
  }
}

Buffer::Buffer(DType dtype, Shape shape, std::shared_ptr<Storage> storage)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      numel_(fusejit::numel(shape_)) {
  FUSEJIT_INTERNAL_CHECK(storage_ && storage_->bytes() >= bytes(), "storage too small for ",
                         type_str(dtype_, shape_));
}

Buffer Buffer::zeros(DType dtype, Shape shape) {
  Buffer b(dtype, std::move(shape));
  std::memset(b.raw(), 0, b.bytes());
  return b;
}

void Buffer::check_dtype(DType want) const {
  FUSEJIT_USER_CHECK(want == dtype_, ValueError, "buffer of ", type_str(dtype_, shape_),
                     " read as ", dtype_name(want));
}

double load_element(const void *data, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::F32:
      return static_cast<const float *>(data)[i];
    case DType::F64:
      return static_cast<const double *>(data)[i];
    case DType::I32:
      return static_cast<const int32_t *>(data)[i];
    case DType::I64:
      return static_cast<double>(static_cast<const int64_t *>(data)[i]);
    case DType::U8:
      return static_cast<const uint8_t *>(data)[i];
    case DType::Bool:
      return static_cast<const uint8_t *>(data)[i] != 0 ? 1.0 : 0.0;
  }
  return 0;
}

double Buffer::get(int64_t i) const { return load_element(raw(), dtype_, i); }

void Buffer::set(int64_t i, double v) {
  switch (dtype_) {
    case DType::F32:
      static_cast<float *>(raw())[i] = static_cast<float>(v);
      return;
    case DType::F64:
      static_cast<double *>(raw())[i] = v;
      return;
    case DType::I32:
      static_cast<int32_t *>(raw())[i] = static_cast<int32_t>(wrap_integer(v));
      return;
    case DType::I64:
      static_cast<int64_t *>(raw())[i] = wrap_integer(v);
      return;
    case DType::U8:
      static_cast<uint8_t *>(raw())[i] = static_cast<uint8_t>(wrap_integer(v));
      return;
    case DType::Bool:
      static_cast<uint8_t *>(raw())[i] = v != 0 ? 1 : 0;
      return;
  }
}

Buffer Buffer::clone() const {
  Buffer b(dtype_, shape_);
  // An empty from_blob buffer may hold a null pointer, which memcpy must not get.
  if (bytes() != 0) std::memcpy(b.raw(), raw(), bytes());
  return b;
}

}  // namespace fusejit

#include "ir/node.h"

namespace fusejit {

Buffer attached_buffer(const Node &node) {
  auto v = node.attached();
  if (!v) return Buffer();
  // Storage is the only NodeValue (see ir/node_value.h).
  auto storage = std::const_pointer_cast<Storage>(std::static_pointer_cast<const Storage>(v));
  return Buffer(node.dtype, node.shape, std::move(storage));
}

void attach_buffer(const Node &node, const Buffer &value) {
  FUSEJIT_INTERNAL_CHECK(value.dtype() == node.dtype && value.shape() == node.shape, "attaching ",
                         type_str(value.dtype(), value.shape()), " to a node of ",
                         type_str(node.dtype, node.shape));
  node.attach(value.storage());
}

}  // namespace fusejit
