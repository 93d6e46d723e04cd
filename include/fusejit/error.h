// The error types fusejit throws at its API boundary. Messages name the
// values involved: "matmul: inner dims differ: f32[4, 3] @ f32[5, 2]".
#pragma once

#include <stdexcept>
#include <string>

namespace fusejit {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Shapes, axes or dtypes that do not fit the operation (the caller's fault).
struct ShapeError : Error {
  using Error::Error;
};

// A malformed `.fj` program; the message is `FILE:LINE:COL: error: ...`
// followed by the offending line and a caret.
struct ParseError : Error {
  using Error::Error;
};

// A file that cannot be read or written, or holds something other than what
// was asked for (a `.npy` of another dtype, a truncated file).
struct IOError : Error {
  using Error::Error;
};

// Any other misuse of the API: backward() with nothing to differentiate,
// reading an element type the tensor does not hold, ...
struct ValueError : Error {
  using Error::Error;
};

// An index outside the extent it indexes: a gather's or index_select's
// index, a one_hot label (torch raises IndexError or a RuntimeError there).
struct IndexError : ValueError {
  using ValueError::ValueError;
};

// LLVM refused to compile or link a kernel.
struct CompileError : Error {
  using Error::Error;
};

// A broken invariant inside fusejit (our fault, never the caller's).
struct InternalError : Error {
  using Error::Error;
};

}  // namespace fusejit
