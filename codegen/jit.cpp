// Environment-driven settings of the JIT. No LLVM here: this file is what
// the rest of fusejit can rely on without paying for LLVM's headers.
#include "codegen/jit.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ir/error.h"

namespace fusejit {

const char *numerics_name(Numerics numerics) {
  return numerics == Numerics::Strict ? "strict" : "fast";
}

Numerics numerics_from_env() {
  const char *value = std::getenv("FUSEJIT_NUMERICS");
  std::string_view text = value ? value : "";
  if (text.empty() || text == "fast") return Numerics::Fast;
  if (text == "strict") return Numerics::Strict;
  throw ValueError(detail::concat("FUSEJIT_NUMERICS=", text, ": expected 'fast' or 'strict'"));
}

namespace {
// A variable set to the empty string counts as unset, as XDG asks.
std::optional<std::string> env(const char *name) {
  const char *value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

uint64_t bytes_from_megabytes(const std::string &megabytes) {
  constexpr uint64_t kMaxMegabytes = UINT64_MAX >> 20;
  uint64_t value = 0;
  bool ok = true;
  for (char c : megabytes) {
    ok = ok && c >= '0' && c <= '9' && value <= (kMaxMegabytes - uint64_t(c - '0')) / 10;
    if (ok) value = value * 10 + uint64_t(c - '0');
  }
  if (!ok)
    throw ValueError(
        detail::concat("FUSEJIT_CACHE_MAX_MB=", megabytes,
                       ": expected a whole number of megabytes (0 turns the disk cache off)"));
  return value << 20;
}
}  // namespace

JitOptions JitOptions::from_env() {
  JitOptions options;
  if (auto dir = env("FUSEJIT_CACHE_DIR")) {
    options.cache_dir = *dir;
  } else if (auto xdg = env("XDG_CACHE_HOME")) {
    options.cache_dir = *xdg + "/fusejit";
  } else if (auto home = env("HOME")) {
    options.cache_dir = *home + "/.cache/fusejit";
  }
  if (auto megabytes = env("FUSEJIT_CACHE_MAX_MB"))
    options.cache_max_bytes = bytes_from_megabytes(*megabytes);
  if (auto capacity = env("FUSEJIT_KERNEL_CACHE"))
    options.max_kernels = std::max<size_t>(1, std::strtoull(capacity->c_str(), nullptr, 10));
  return options;
}

}  // namespace fusejit
