#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/dump.h"
#include "engine/explain.h"
#include "engine/grad_program.h"
#include "engine/pipeline.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "tools/commands.h"
#include "tools/dump_formats.h"
#include "tools/graphviz.h"

namespace fusejit::tool {

namespace {

bool is_graph_stage(Stage s) { return s == Stage::Graph || s == Stage::Optimized || s == Stage::Kernels; }

// Which formats each stage has: graphs have all three; LLVM IR and assembly
// are text.
void check_format(Stage stage, const DumpOptions &opts) {
  FUSEJIT_USER_CHECK(opts.format == "text" || is_graph_stage(stage), ValueError, "dump: --format ",
                     opts.format, " is not available for --stage ", opts.stage,
                     " (available: text; json and dot are for graph, optimized and kernels)");
  FUSEJIT_USER_CHECK(opts.png.empty() || is_graph_stage(stage), ValueError, "dump: --png is not available for --stage ",
                     opts.stage, " (it draws graph, optimized or kernels)");
}

std::string dot_of(const Program &p, Stage stage, const std::vector<std::string> &explain) {
  switch (stage) {
    case Stage::Graph: return program_dot(p, "graph", explain);
    case Stage::Optimized: return program_dot(optimized_program(p), "optimized", explain);
    default: return kernels_dot(kernels_view(p), explain);
  }
}

nlohmann::json json_of(const Program &p, Stage stage) {
  switch (stage) {
    case Stage::Graph: return program_json(p);
    case Stage::Optimized: return program_json(optimized_program(p));
    default: return kernels_json(kernels_view(p));
  }
}

}  // namespace

int dump_command(const DumpOptions &opts) {
  Program p = parse_program_file(opts.program);
  if (opts.grad) p = with_gradients(p);
  Stage stage = parse_stage(opts.stage);
  check_format(stage, opts);
  if (!opts.numerics.empty()) set_numerics(opts.numerics == "strict" ? Numerics::Strict : Numerics::Fast);
  std::vector<std::string> explain;
  if (opts.explain) explain = explain_fusion(p);

  if (!opts.png.empty()) {
    render_png(dot_of(p, stage, {}), opts.png);
    for (const std::string &line : explain) std::cout << "# explain: " << line << "\n";
    return 0;
  }
  if (opts.format == "dot") {
    std::cout << dot_of(p, stage, explain);
    return 0;
  }
  if (opts.format == "json") {
    nlohmann::json j = json_of(p, stage);
    if (opts.explain) j["explain"] = explain;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << dump(p, stage, opts.llvm_before_opt);
  for (const std::string &line : explain) std::cout << "# explain: " << line << "\n";
  return 0;
}

}  // namespace fusejit::tool
