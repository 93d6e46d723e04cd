#include "runtime/random.h"

#include <cmath>

namespace fusejit {

double Generator::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  // Box-Muller; 1 - u keeps the log's argument in (0, 1].
  double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Buffer random_uniform(DType dtype, Shape shape, Generator &g, double lo, double hi) {
  Buffer b(dtype, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i) b.set(i, lo + (hi - lo) * g.uniform());
  return b;
}

Buffer random_normal(DType dtype, Shape shape, Generator &g) {
  Buffer b(dtype, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i) b.set(i, g.normal());
  return b;
}

namespace {

Generator input_stream(uint64_t seed, size_t index) {
  return Generator(seed * 0x9E3779B97F4A7C15ULL + index);
}

}  // namespace

Buffer seeded_input(DType dtype, Shape shape, uint64_t seed, size_t index) {
  Generator g = input_stream(seed, index);
  if (is_floating(dtype)) return random_uniform(dtype, std::move(shape), g, -1.0, 1.0);
  Buffer b(dtype, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i) {
    // Small integers, never 0, so that a generated divisor of // or % is
    // valid; u8 is unsigned, and bools take either value.
    auto k = static_cast<int64_t>(g.uniform() * 18);  // 0..17
    int64_t v = dtype == DType::Bool ? k % 2
                : dtype == DType::U8 ? 1 + k / 2
                : k < 9              ? k - 9
                                     : k - 8;
    b.set(i, static_cast<double>(v));
  }
  return b;
}

Buffer seeded_indices(DType dtype, Shape shape, uint64_t seed, size_t index, int64_t extent) {
  Generator g = input_stream(seed, index);
  Buffer b(dtype, std::move(shape));
  for (int64_t i = 0; i < b.numel(); ++i)
    b.set(i, std::floor(g.uniform() * static_cast<double>(extent)));
  return b;
}

}  // namespace fusejit
