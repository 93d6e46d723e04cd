// Text views of what fusejit does with a tensor's graph, stage by stage.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace fusejit {

enum class Stage { Graph, Optimized, Kernels, Llvm, Asm };

const char *stage_name(Stage s);
// "graph" -> Stage::Graph, ...; a ValueError lists the valid names.
Stage parse_stage(const std::string &name);

// The graph that computes `t` as a `.fj` program with one output named `out`.
std::string dump(const Tensor &t, Stage stage = Stage::Graph);

}  // namespace fusejit
