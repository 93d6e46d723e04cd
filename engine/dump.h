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
#include "engine/options.h"
#include "engine/plan.h"
#include "engine/recognize_matmul.h"
#include "engine/tensor.h"
#include "ir/program.h"

namespace fusejit {

// The program after the graph passes (same inputs and output names). Each
// value is bound to the name the graph stage prints for the value it came
// from; values the passes created get tN names the graph stage does not use.
Program optimized_program(const Program &p, const Options &options = default_options());

// The values the graph stage prints a line for (ir/printer.h value_names),
// each with its name, by owning reference, in print order.
std::vector<std::pair<NodeRef, std::string>> named_values(const Program &p);

// Every stage of a program from one run of the pipeline (engine/pipeline.h),
// named for the printers: the fused plan, with a name for every buffer
// (inputs and outputs by their program names, intermediates tmp0, tmp1, ...);
// the optimized program, whose values `value_names` names as the optimized
// stage prints them (`trace` points into it); and what --explain reads
// about matmuls. The same options as `run`'s give the same plan.
struct KernelsView {
  Plan plan;
  std::vector<std::string> buffer_names;
  Program optimized;
  FuseTrace trace;
  std::unordered_map<const Node *, std::string> value_names;
  Numerics numerics = Numerics::Fast;
  // The kernels stage's notes (matmuls recognized or missed, materialized values).
  std::vector<std::string> notes;
  // What recognize_matmul decided, about the canonical graph (the first
  // canonicalize's); each graph-stage name (named_values order) with its
  // value there; the canonical outputs. Held by reference, as decisions point in.
  std::vector<MatmulDecision> matmuls;
  std::vector<std::pair<NodeRef, std::string>> canonical_names;
  std::vector<NodeRef> canonical_outputs;
};
KernelsView kernels_view(const Program &p, const Options &options = default_options());
std::string kernels_text(const KernelsView &view);
// Each kernel of the view's plan as LLVM IR or host assembly, compiled with
// the view's numerics.
std::string kernels_code_text(const KernelsView &view, DumpStage what);

// `p` at `stage`, as text. The llvm and asm stages show each kernel compiled
// with the options' numerics; llvm shows the IR after O3 unless `llvm_before_opt`.
std::string dump(const Program &p, Stage stage, bool llvm_before_opt = false,
                 const Options &options = default_options());

}  // namespace fusejit
