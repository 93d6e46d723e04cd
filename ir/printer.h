// Deterministic printing of the graph as a `.fj` program: one line per node
// in topological order, `# dtype[shape]` on every value, floats as %.9g.
// The output parses back to the same graph (up to input identity).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/program.h"

namespace fusejit {

// A float as every dump prints it: %.9g, which spells every f32 exactly and
// lexes back as a `.fj` number ("1e+10", "inf", "nan").
std::string format_float(double v);

// Uses the program's binding names where it has them, `t0, t1, ...` elsewhere.
std::string print_program(const Program &p);

// The name print_program gives each value that has a line, in print order
// (inputs, then topological), so other views of the program (JSON, DOT,
// `--explain`) can point at the same values. Constants are inlined by the
// printer and have no name unless they are outputs.
std::vector<std::pair<const Node *, std::string>> value_names(const Program &p);

}  // namespace fusejit
