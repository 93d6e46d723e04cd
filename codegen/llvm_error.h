// The one place llvm::Error becomes a C++ exception. LLVM is built without
// exceptions, so nothing may be thrown through its frames: code called back
// by LLVM returns llvm::Error, and code called by us converts with these.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include <llvm/Support/Error.h>

#include "ir/error.h"

namespace fusejit {

// Throws CompileError("what: <LLVM's message>") if `error` is a failure.
inline void check_llvm(llvm::Error error, const std::string &what) {
  if (error) throw CompileError(what + ": " + llvm::toString(std::move(error)));
}

// The value of `expected`, or CompileError as check_llvm.
template <typename T>
T unwrap_llvm(llvm::Expected<T> expected, const std::string &what) {
  check_llvm(expected.takeError(), what);
  if constexpr (std::is_reference_v<T>) {
    return *expected;
  } else {
    return std::move(*expected);
  }
}

// For callbacks LLVM calls: a failure LLVM can carry back to its caller.
inline llvm::Error llvm_error(const std::string &message) {
  return llvm::make_error<llvm::StringError>(message, llvm::inconvertibleErrorCode());
}

}  // namespace fusejit
