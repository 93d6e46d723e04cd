// What fusejit does with a tensor's graph, stage by stage, as text: the graph
// as built, after the graph passes, the fused kernels, and each kernel's LLVM
// IR and assembly. `fusejit dump --stage` prints the same for a .fj program.
#pragma once

#include <string>

#include <fusejit/tensor.h>

namespace fusejit {

enum class Stage { Graph, Optimized, Kernels, Llvm, Asm };

const char *stage_name(Stage s);
// "graph" -> Stage::Graph, ...; a ValueError lists the valid names.
Stage parse_stage(const std::string &name);

// The graph computing `t`, as a program with one output, at `stage`.
std::string dump(const Tensor &t, Stage stage = Stage::Graph);

}  // namespace fusejit
