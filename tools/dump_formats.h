// The JSON and DOT forms of the dump stages that are graphs: the program as
// parsed or optimized (a node per value), and the fused kernels (a cluster
// per kernel around the ops it computes, buffers between the clusters).
// Values are named as the text stages print them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/dump.h"
#include "ir/program.h"

namespace fusejit::tool {

// Every value of the program in print order (inputs, then topological),
// each with an id: its printed name, or c0, c1, ... for an inlined constant.
std::vector<std::pair<const Node *, std::string>> program_ids(const Program &p);

// {"nodes": [{"id", "op", "dtype", "shape", "args", "attributes"}...],
//  "outputs": [{"name", "node"}...]}; constants are nodes too.
nlohmann::json program_json(const Program &p);
// DESIGN.md's kernels object, plus dtype, domain, the values each kernel
// computes, the buffers and the fusion notes.
nlohmann::json kernels_json(const KernelsView &view);

// `comments` (the --explain lines) go in `//` comments before the closing brace.
std::string program_dot(const Program &p, const std::string &title,
                        const std::vector<std::string> &comments);
std::string kernels_dot(const KernelsView &view, const std::vector<std::string> &comments);

// "name", with `"` and `\` escaped, for DOT ids and labels.
std::string dot_quote(const std::string &s);
// A value's label in the pictures: its name and op ("d\n+"), with constant
// operands inline ("d\n+ 0.5") when constants are not nodes of their own.
std::string op_label(const Node &n, const std::string &name, bool inline_constants = true);

}  // namespace fusejit::tool
