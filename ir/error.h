// The error types (public, in the installed header) and the checks that
// throw them, for fusejit's own code.
#pragma once

#include <sstream>
#include <string>

#include <fusejit/error.h>

namespace fusejit {

namespace detail {
template <typename... Args>
std::string concat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace fusejit

// user_assert: the caller's fault; internal_assert: ours. Both throw.
#define FUSEJIT_USER_CHECK(cond, ErrorType, ...)                          \
  do {                                                                    \
    if (!(cond)) throw ErrorType(::fusejit::detail::concat(__VA_ARGS__)); \
  } while (0)

#define FUSEJIT_INTERNAL_CHECK(cond, ...)                                              \
  do {                                                                                 \
    if (!(cond))                                                                       \
      throw ::fusejit::InternalError(::fusejit::detail::concat(                        \
          __FILE__, ":", __LINE__, ": internal error: ", #cond, ": ", ##__VA_ARGS__)); \
  } while (0)
