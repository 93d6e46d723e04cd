// Data sets for training: the IDX files of the MNIST family, read from
// gzip (or plain) files with zlib.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fusejit/tensor.h>

namespace fusejit::data {

// The element types an IDX file can hold, by their type code in the header.
enum class IdxType : uint8_t {
  U8 = 0x08,
  I8 = 0x09,
  I16 = 0x0B,
  I32 = 0x0C,
  F32 = 0x0D,
  F64 = 0x0E
};

const char *idx_type_name(IdxType t);
size_t idx_type_size(IdxType t);

// One IDX array: its dims and its elements in row-major order, converted
// from the file's big-endian order to the host's.
struct IdxArray {
  IdxType type = IdxType::U8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t numel() const;
};

// Reads an IDX file, gzip-compressed or not (zlib reads both). Throws
// IOError naming the path and what is wrong: a missing file, a bad magic
// number, an unknown type code, fewer or more data bytes than the dims say.
IdxArray read_idx(const std::string &path);

// Where Debian's dataset-fashion-mnist puts its files.
inline constexpr const char *kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// An image data set as tensors: images u8 [N, 1, rows, cols] (the bytes of
// the file, no conversion) and labels i64 [N]. A batch is a slice of both:
// images.narrow(0, start, size), which copies nothing.
struct ImageDataset {
  Tensor images, labels;
  int64_t size() const { return labels.size(0); }
};

// DIR/train-images-idx3-ubyte.gz and DIR/train-labels-idx1-ubyte.gz (or
// the t10k- files when not `train`), the first `limit` examples if given.
// An IOError names a file that is missing or malformed, or images and
// labels whose counts differ.
ImageDataset read_mnist_family(const std::string &dir, bool train,
                               std::optional<int64_t> limit = std::nullopt);

}  // namespace fusejit::data
