// How often each pass has run in this process: counters the tests read to
// show that one dump or realize runs each pass of the pipeline once.
#pragma once

#include <cstdint>

namespace fusejit {

enum class Pass { Canonicalize, RecognizeMatmul, Fuse, PlanMemory };

struct PassStats {
  uint64_t canonicalize = 0;  // the pipeline runs it twice: before and after recognize_matmul
  uint64_t recognize_matmul = 0;
  uint64_t fuse = 0;
  uint64_t plan_memory = 0;
};

// Called by each pass's entry point.
void count_pass_run(Pass pass);
PassStats pass_stats();

}  // namespace fusejit
