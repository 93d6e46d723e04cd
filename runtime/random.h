// Seeded random fills. The draws are computed by hand from mt19937_64, so
// the same seed gives the same values with every standard library.
#pragma once

#include <cstdint>
#include <random>

#include "runtime/buffer.h"

namespace fusejit {

class Generator {
 public:
  explicit Generator(uint64_t seed) : engine_(seed) {}
  void seed(uint64_t s) { engine_.seed(s); }
  double uniform();  // [0, 1)
  double normal();   // mean 0, variance 1

 private:
  std::mt19937_64 engine_;
};

// Uniform in [lo, hi).
Buffer random_uniform(DType dtype, Shape shape, Generator &g, double lo = 0.0, double hi = 1.0);
Buffer random_normal(DType dtype, Shape shape, Generator &g);

// The value `fusejit run --seed SEED` gives the program's input number
// `index` (declaration order): floats uniform in [-1, 1), integers in
// -9..-1 and 1..9 (u8: 1..9), bools either, one stream per input so that
// adding an input does not change the others.
Buffer seeded_input(DType dtype, Shape shape, uint64_t seed, size_t index);

// The same stream for an integer input that indexes a dim of `extent` > 0
// elements (a gather's index): values in [0, extent).
Buffer seeded_indices(DType dtype, Shape shape, uint64_t seed, size_t index, int64_t extent);

}  // namespace fusejit
