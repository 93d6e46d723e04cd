// The header of a `.npy` file: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed without evaluating anything, and formatted the way numpy writes it.
#pragma once

#include <string>
#include <string_view>

#include "ir/shape.h"

namespace fusejit {

struct NpyHeader {
  std::string descr;  // the dtype string, e.g. "<f4"
  bool fortran_order = false;
  Shape shape;             // extents as written: may be negative, checked by the caller
  std::string shape_text;  // the shape as it appears in the header, for messages
};

// Parses the dict; exactly the keys descr, fortran_order and shape. Throws an
// IOError prefixed with `what` if the text is anything else.
NpyHeader parse_npy_header(std::string_view text, const std::string &what);

// The dict numpy writes for an array of `descr` and `shape` (no padding).
std::string format_npy_header(const std::string &descr, const Shape &shape);

// `bytes` for an error message: printable ASCII kept, the rest escaped as
// \xNN, cut at `max_chars`.
std::string escape_bytes(std::string_view bytes, size_t max_chars = 48);
// The same in single quotes.
std::string quote_bytes(std::string_view bytes, size_t max_chars = 48);

}  // namespace fusejit
