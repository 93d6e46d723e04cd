// Random well-typed `.fj` programs for differential testing of the JIT
// against the reference interpreter: elementwise chains over every op,
// broadcasts, views (permutes of inputs, reshapes of permuted views,
// expands), reductions with dims and keepdim, max and softmax over rows of
// exp/sigmoid/log (whose backward finds the max again by recomputing it),
// matmuls written with `@` and as zip-then-reduce, shapes with extents 0, 1,
// odd sizes and rows of 5 to 13 (a vector body and a tail), f32 and f64.
//
// Values stay finite and well conditioned on inputs in [-1, 1], so that
// the interpreter and a correct JIT agree within default_tolerance: ops
// with a restricted domain (log, sqrt, inv, pow, division) get a positive
// operand, magnitudes are squashed before they grow, and comparisons only
// see exact values (inputs and their views), whose ordering no rounding can
// flip.
#pragma once

#include <cstdint>

#include "ir/program.h"

namespace fusejit::difftest {

struct RandomProgramOptions {
  int min_ops = 2;
  int max_ops = 14;  // ops drawn, before the squashing ones added to them
  int max_rank = 4;
  int max_outputs = 3;
};

// The same seed gives the same program on every platform.
Program random_program(uint64_t seed, const RandomProgramOptions &options = {});

}  // namespace fusejit::difftest
