// Process-wide defaults, as libtorch's: what every realize() starts from
// unless told otherwise. The environment (FUSEJIT_NUMERICS,
// FUSEJIT_NUM_THREADS) gives the defaults these override.
#pragma once

namespace fusejit {

// Floating-point policy of compiled kernels.
enum class Numerics {
  Fast,    // `contract` (FMA) and `reassoc` (reordered reductions) allowed
  Strict,  // neither: results reproducible run to run and thread count to thread count
};

// The numerics of kernels compiled from now on.
void set_numerics(Numerics numerics);

// Threads compiled kernels run on (at least 1); 0 restores the default
// (FUSEJIT_NUM_THREADS, else every core).
void set_num_threads(int n);
int num_threads();

}  // namespace fusejit
