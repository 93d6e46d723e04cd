// Environment-driven settings of the JIT. No LLVM here: this file is what
// the rest of fusejit can rely on without paying for LLVM's headers.
#include "codegen/jit.h"

#include <algorithm>
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
  throw ValueError(detail::concat("FUSEJIT_NUMERICS=", text,
                                  ": expected 'fast' or 'strict'"));
}

namespace {
// A variable set to the empty string counts as unset, as XDG asks.
std::optional<std::string> env(const char *name) {
  const char *value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
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
  if (auto capacity = env("FUSEJIT_KERNEL_CACHE"))
    options.max_kernels = std::max<size_t>(1, std::strtoull(capacity->c_str(), nullptr, 10));
  return options;
}

}  // namespace fusejit
