#include "engine/dump.h"

#include "ir/printer.h"

namespace fusejit {

namespace {
constexpr const char *kStageNames[] = {"graph", "optimized", "kernels", "llvm", "asm"};
}

const char *stage_name(Stage s) { return kStageNames[static_cast<int>(s)]; }

Stage parse_stage(const std::string &name) {
  for (int i = 0; i < 5; ++i)
    if (name == kStageNames[i]) return static_cast<Stage>(i);
  throw ValueError("unknown stage '" + name + "' (expected graph, optimized, kernels, llvm or asm)");
}

std::string dump(const Tensor &t, Stage stage) {
  if (stage != Stage::Graph)
    throw ValueError(std::string("dump: stage '") + stage_name(stage) +
                     "' needs the JIT pipeline, which this build does not have yet");
  Program p;
  p.outputs.push_back({"out", t.node()});
  return print_program(p);
}

}  // namespace fusejit
