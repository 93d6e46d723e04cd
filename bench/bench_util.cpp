#include "bench/bench_util.h"

namespace fusejit::bench {

void keep(const void *p) { asm volatile("" : : "r"(p) : "memory"); }

void report(const std::string &name, double value, const char *unit, const std::string &anchor,
            double anchor_value, bool higher_is_better) {
  double ratio = higher_is_better ? value / anchor_value : anchor_value / value;
  std::printf("  %-34s %10.3f %-8s | %-22s %10.3f %-8s  %6.2fx\n", name.c_str(), value, unit,
              anchor.c_str(), anchor_value, unit, ratio);
}

}  // namespace fusejit::bench
