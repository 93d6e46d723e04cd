// Deterministic printing of the graph as a `.fj` program: one line per node
// in topological order, `# dtype[shape]` on every value, floats as %.9g.
// The output parses back to the same graph (up to input identity).
#pragma once

#include <string>

#include "ir/program.h"

namespace fusejit {

// Uses the program's binding names where it has them, `t0, t1, ...` elsewhere.
std::string print_program(const Program &p);

}  // namespace fusejit
