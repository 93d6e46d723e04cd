// Buffers: aligned, reference-counted, contiguous (row-major) storage for one
// value of the graph. Copying a Buffer shares the storage; `clone()` copies it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ir/dtype.h"
#include "ir/error.h"
#include "ir/node_value.h"
#include "ir/shape.h"

namespace fusejit {

// Raw bytes, 64-byte aligned so JIT kernels may use aligned vector loads.
class Storage : public NodeValue {
 public:
  static constexpr size_t kAlignment = 64;
  explicit Storage(size_t bytes);
  // The caller's memory (Tensor::from_blob), never freed here: the caller
  // keeps it alive while any buffer uses it, or hands `owner`, released
  // with the storage (a deleter, a file mapping).
  static std::shared_ptr<Storage> borrow(void *data, size_t bytes,
                                         std::shared_ptr<void> owner = nullptr);
  ~Storage() override;
  Storage(const Storage &) = delete;
  Storage &operator=(const Storage &) = delete;

  void *data() { return data_; }
  const void *data() const { return data_; }
  size_t bytes() const { return bytes_; }
  bool borrowed() const { return borrowed_; }

 private:
  Storage(void *data, size_t bytes) : data_(data), bytes_(bytes), borrowed_(true) {}

  void *data_ = nullptr;
  size_t bytes_ = 0;
  bool borrowed_ = false;
  std::shared_ptr<void> owner_;  // a borrowed storage's keep-alive
};

class Buffer {
 public:
  Buffer() = default;
  // Uninitialized storage for `numel(shape)` elements of `dtype`.
  Buffer(DType dtype, Shape shape);
  // Wraps existing storage, which must hold at least numel(shape) elements.
  Buffer(DType dtype, Shape shape, std::shared_ptr<Storage> storage);

  static Buffer zeros(DType dtype, Shape shape);
  template <typename T>
  static Buffer from_vector(const std::vector<T> &values, Shape shape);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void *raw() { return storage_ ? storage_->data() : nullptr; }
  const void *raw() const { return storage_ ? storage_->data() : nullptr; }
  const std::shared_ptr<Storage> &storage() const { return storage_; }

  // Typed access; throws ValueError if T is not the buffer's dtype.
  template <typename T>
  T *data();
  template <typename T>
  const T *data() const;

  // Element `i` (row-major ordinal) converted to double, whatever the dtype;
  // set stores `v` as convert_value (ir/dtype.h) holds it in the dtype.
  double get(int64_t i) const;
  void set(int64_t i, double v);

  // All elements converted to T.
  template <typename T>
  std::vector<T> to_vector() const;

  Buffer clone() const;

 private:
  void check_dtype(DType want) const;

  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::F32;
  Shape shape_;
  int64_t numel_ = 0;
};

template <typename T>
Buffer Buffer::from_vector(const std::vector<T> &values, Shape shape) {
  int64_t n = fusejit::numel(shape);
  FUSEJIT_USER_CHECK(static_cast<int64_t>(values.size()) == n, ShapeError,
                     "from_vector: ", values.size(), " values do not fill shape ", shape_str(shape),
                     " (", n, " elements)");
  Buffer b(dtype_of<T>(), std::move(shape));
  std::copy(values.begin(), values.end(), b.data<T>());
  return b;
}

template <typename T>
T *Buffer::data() {
  check_dtype(dtype_of<T>());
  return static_cast<T *>(raw());
}

template <typename T>
const T *Buffer::data() const {
  check_dtype(dtype_of<T>());
  return static_cast<const T *>(raw());
}

template <typename T>
std::vector<T> Buffer::to_vector() const {
  std::vector<T> out(static_cast<size_t>(numel_));
  if (dtype_ == dtype_of<T>()) {
    std::copy_n(static_cast<const T *>(raw()), numel_, out.begin());
  } else {
    for (int64_t i = 0; i < numel_; ++i) out[i] = static_cast<T>(get(i));
  }
  return out;
}

// Element `i` of `data`, an array of `dtype`, widened to double (exact for
// every value but int64s beyond 2^53).
double load_element(const void *data, DType dtype, int64_t i);

}  // namespace fusejit

namespace fusejit {
struct Node;

// The value attached to a node (see Node::attached), as a Buffer of the
// node's dtype and shape; an undefined Buffer if there is none.
Buffer attached_buffer(const Node &node);
// Attaches `value` (which must have the node's dtype and shape) to `node`.
void attach_buffer(const Node &node, const Buffer &value);
}  // namespace fusejit
