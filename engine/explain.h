// `fusejit dump --explain`: why fusion drew each kernel boundary where it
// did, which values are recomputed rather than stored, and where each matmul
// came from (written with `@`, recognized in a zip-then-reduce, or a near
// miss and what broke the pattern). Values are named as the graph stage
// prints them, so a user can find each one in the program.
#pragma once

#include <string>
#include <vector>

#include "engine/dump.h"
#include "ir/program.h"

namespace fusejit {

// One line per value a kernel writes (who reads it, and the fusion rule
// that stopped it there, as a [tag]) and one per kernel writing several, then
// one per recomputed value, then one per matmul or near miss. Deterministic: kernel order, then
// print order. Reads only the view: it runs no pass.
std::vector<std::string> explain_fusion(const KernelsView &view);
// The same for a program (one run of the pipeline).
std::vector<std::string> explain_fusion(const Program &p,
                                        const Options &options = default_options());

// "name (op dtype[shape])", or "(op dtype[shape])" for a value without a name.
std::string value_label(const std::unordered_map<const Node *, std::string> &names, const Node &n);

}  // namespace fusejit
