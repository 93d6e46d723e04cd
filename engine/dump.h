// Text views of what fusejit does with a graph, stage by stage: the graph as
// built, after canonicalization, the fused kernels, and (with the JIT) the
// LLVM IR and assembly of each kernel.
#pragma once

#include <string>
#include <vector>

#include "engine/plan.h"
#include "engine/tensor.h"
#include "ir/program.h"

namespace fusejit {

enum class Stage { Graph, Optimized, Kernels, Llvm, Asm };

const char *stage_name(Stage s);
// "graph" -> Stage::Graph, ...; a ValueError lists the valid names.
Stage parse_stage(const std::string &name);

// The program after the graph passes (same inputs and output names);
// `notes` receives what matmul recognition found or missed.
Program optimized_program(const Program &p, std::vector<std::string> *notes = nullptr);

// The fused plan of a program, with a name for every buffer: inputs and
// outputs by their program names, intermediates tmp0, tmp1, ...
struct KernelsView {
  Plan plan;
  std::vector<std::string> buffer_names;
};
KernelsView kernels_view(const Program &p);
std::string kernels_text(const KernelsView &view);

// `p` at `stage`, as text. The llvm and asm stages show each kernel compiled
// with the current numerics (FUSEJIT_NUMERICS or set_numerics); llvm shows
// the IR after O3 unless `llvm_before_opt`.
std::string dump(const Program &p, Stage stage, bool llvm_before_opt = false);
// The graph computing `t`, as a program with one output.
std::string dump(const Tensor &t, Stage stage = Stage::Graph);

}  // namespace fusejit
