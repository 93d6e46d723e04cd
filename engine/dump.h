// Text views of what fusejit does with a graph, stage by stage: the graph as
// built, after canonicalization, the fused kernels, and (with the JIT) the
// LLVM IR and assembly of each kernel. Stage and dump(Tensor) are public
// (fusejit/dump.h); the views behind them are fusejit's own.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <fusejit/dump.h>

#include "engine/fuse.h"
#include "engine/plan.h"
#include "engine/tensor.h"
#include "ir/program.h"

namespace fusejit {

// The program after the graph passes (same inputs and output names). Each
// value is bound to the name the graph stage prints for the value it came
// from; values the passes created get tN names the graph stage does not use.
// `notes` receives what matmul recognition found or missed.
Program optimized_program(const Program &p, std::vector<std::string> *notes = nullptr);

// The values the graph stage prints a line for (ir/printer.h value_names),
// each with its name, by owning reference, in print order.
std::vector<std::pair<NodeRef, std::string>> named_values(const Program &p);

// The fused plan of a program, with a name for every buffer: inputs and
// outputs by their program names, intermediates tmp0, tmp1, ... `trace`
// points into `optimized`, whose values `value_names` names as the
// optimized stage prints them.
struct KernelsView {
  Plan plan;
  std::vector<std::string> buffer_names;
  Program optimized;
  FuseTrace trace;
  std::unordered_map<const Node *, std::string> value_names;
};
KernelsView kernels_view(const Program &p);
std::string kernels_text(const KernelsView &view);

// `p` at `stage`, as text. The llvm and asm stages show each kernel compiled
// with the current numerics (FUSEJIT_NUMERICS or set_numerics); llvm shows
// the IR after O3 unless `llvm_before_opt`.
std::string dump(const Program &p, Stage stage, bool llvm_before_opt = false);

}  // namespace fusejit
