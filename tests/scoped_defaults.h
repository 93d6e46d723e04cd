// Sets the process-wide default numerics and thread count for one test and
// puts the previous ones back however the test ends (a failed ASSERT
// returns early), so no test leaks its settings into the next.
#pragma once

#include "engine/options.h"
#include "runtime/parallel_for.h"

namespace fusejit {

class ScopedDefaults {
 public:
  explicit ScopedDefaults(Numerics numerics, int threads = 0) : saved_(default_options()) {
    set(numerics, threads);
  }
  ~ScopedDefaults() {
    set_numerics(saved_.numerics);
    set_num_threads(saved_.threads);
  }
  ScopedDefaults(const ScopedDefaults &) = delete;
  ScopedDefaults &operator=(const ScopedDefaults &) = delete;

  // threads 0: the default from before this scope.
  void set(Numerics numerics, int threads = 0) {
    set_numerics(numerics);
    set_num_threads(threads > 0 ? threads : saved_.threads);
  }
  void set_threads(int threads) { set_num_threads(threads > 0 ? threads : saved_.threads); }

 private:
  Options saved_;
};

}  // namespace fusejit
