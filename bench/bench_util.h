// Small helpers the benchmarks share: timing by the minimum of repeated runs
// and a fixed-width report line.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace fusejit::bench {

// The fastest of `reps` runs of f (after one warm-up run), in seconds.
template <typename F>
double time_min(int reps, F &&f) {
  f();
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    f();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = s < best ? s : best;
  }
  return best;
}

// Keeps the compiler from optimizing a computed value away.
void keep(const void *p);

// "  name   value unit | anchor value unit  ratio x"
void report(const std::string &name, double value, const char *unit, const std::string &anchor,
            double anchor_value, bool higher_is_better = true);

}  // namespace fusejit::bench
