#include "engine/options.h"

#include <atomic>

#include "runtime/parallel_for.h"

namespace fusejit {

namespace {

// -1: not set, FUSEJIT_NUMERICS decides.
std::atomic<int> numerics_default{-1};

}  // namespace

Numerics current_numerics() {
  int set = numerics_default.load();
  if (set >= 0) return static_cast<Numerics>(set);
  static const Numerics from_env = numerics_from_env();
  return from_env;
}

void set_numerics(Numerics numerics) { numerics_default.store(static_cast<int>(numerics)); }

Options default_options() {
  Options options;
  options.numerics = current_numerics();
  options.threads = num_threads();
  return options;
}

}  // namespace fusejit
