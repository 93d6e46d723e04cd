// Reading and writing numpy's `.npy` files: little-endian f32, f64, i32, i64,
// u8 and bool arrays in
// C order, any shape. Anything else is an IOError naming the file and the
// offending value; the reader never reads past its input, whatever it holds.
#pragma once

#include <string>
#include <string_view>

#include "runtime/buffer.h"

namespace fusejit {

// Reads a `.npy` file of format version 1.0, 2.0 or 3.0. Only a regular file
// (not a pipe or device: an IOError naming what it is), and only as many
// bytes as its header describes, once the file's size shows it holds them.
Buffer read_npy(const std::string &path);
// Writes `b` as a version 1.0 file (2.0 if the header needs it), as numpy does.
void write_npy(const std::string &path, const Buffer &b);

// The same on bytes in memory; `what` names the source in error messages.
Buffer parse_npy(std::string_view bytes, const std::string &what);
std::string encode_npy(const Buffer &b);

}  // namespace fusejit
