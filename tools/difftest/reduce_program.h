// Delta debugging of a failing program: shrinks it while a predicate keeps
// failing, so that a bug report is the smallest `.fj` that still shows it.
#pragma once

#include <functional>

#include "ir/program.h"

namespace fusejit::difftest {

// Repeats, until no edit keeps `fails` true or `max_checks` predicate calls
// are spent: drop an output; replace a subexpression by a fresh input of its
// type, or by one of its own operands of the same type; shrink an extent
// everywhere it occurs (to 1, then to half). Returns the smallest program
// found; `p` itself if nothing smaller fails.
Program reduce_program(const Program &p, const std::function<bool(const Program &)> &fails,
                       int max_checks = 400);

// The number of non-leaf nodes the outputs of `p` depend on, and the sum of
// the element counts of its inputs: what reduce_program makes smaller.
size_t program_ops(const Program &p);
int64_t program_input_elements(const Program &p);

}  // namespace fusejit::difftest
