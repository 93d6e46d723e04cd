#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/dump.h"
#include "engine/explain.h"
#include "engine/grad_program.h"
#include "engine/pipeline.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "tools/commands.h"
#include "tools/dump_formats.h"
#include "tools/graphviz.h"

namespace fusejit::tool {

namespace {

bool is_graph_stage(Stage s) {
  return s == Stage::Graph || s == Stage::Optimized || s == Stage::Kernels;
}

// Which formats each stage has: graphs have all three; LLVM IR and assembly
// are text.
void check_format(Stage stage, const DumpOptions &opts) {
  FUSEJIT_USER_CHECK(opts.format == "text" || is_graph_stage(stage), ValueError, "dump: --format ",
                     opts.format, " is not available for --stage ", opts.stage,
                     " (available: text; json and dot are for graph, optimized and kernels)");
  FUSEJIT_USER_CHECK(opts.png.empty() || is_graph_stage(stage), ValueError,
                     "dump: --png is not available for --stage ", opts.stage,
                     " (it draws graph, optimized or kernels)");
}

Numerics numerics_option(const std::string &name) {
  return name == "strict" ? Numerics::Strict : Numerics::Fast;
}

// What the stage shows, from one run of the pipeline (`view`, made when the
// stage or --explain needs the plan) or the graph passes alone.
struct Shown {
  const Program &program;
  Stage stage;
  const Options &options;
  const std::optional<KernelsView> &view;

  Program optimized() const { return view ? view->optimized : optimized_program(program, options); }
};

std::string dot_of(const Shown &s, const std::vector<std::string> &explain) {
  switch (s.stage) {
    case Stage::Graph:
      return program_dot(s.program, "graph", explain);
    case Stage::Optimized:
      return program_dot(s.optimized(), "optimized", explain);
    default:
      return kernels_dot(*s.view, explain);
  }
}

nlohmann::json json_of(const Shown &s) {
  switch (s.stage) {
    case Stage::Graph:
      return program_json(s.program);
    case Stage::Optimized:
      return program_json(s.optimized());
    default:
      return kernels_json(*s.view);
  }
}

std::string text_of(const Shown &s, bool llvm_before_opt) {
  switch (s.stage) {
    case Stage::Graph:
      return print_program(s.program);
    case Stage::Optimized:
      return print_program(s.optimized());
    case Stage::Kernels:
      return kernels_text(*s.view);
    case Stage::Llvm:
      return kernels_code_text(*s.view,
                               llvm_before_opt ? DumpStage::LlvmIr : DumpStage::OptimizedLlvmIr);
    case Stage::Asm:
      return kernels_code_text(*s.view, DumpStage::Assembly);
  }
  return "";
}

}  // namespace

int dump_command(const DumpOptions &opts) {
  Program p = parse_program_file(opts.program);
  if (opts.grad) p = with_gradients(p);
  Stage stage = parse_stage(opts.stage);
  check_format(stage, opts);
  // The options `run` would compile with: the same plan.
  Options options = default_options();
  if (!opts.numerics.empty()) options.numerics = numerics_option(opts.numerics);
  std::optional<KernelsView> view;
  if (opts.explain || (stage != Stage::Graph && stage != Stage::Optimized))
    view = kernels_view(p, options);
  std::vector<std::string> explain;
  if (opts.explain) explain = explain_fusion(*view);
  Shown shown{p, stage, options, view};

  if (!opts.png.empty()) {
    render_png(dot_of(shown, {}), opts.png);
    for (const std::string &line : explain) std::cout << "# explain: " << line << "\n";
    return 0;
  }
  if (opts.format == "dot") {
    std::cout << dot_of(shown, explain);
    return 0;
  }
  if (opts.format == "json") {
    nlohmann::json j = json_of(shown);
    if (opts.explain) j["explain"] = explain;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << text_of(shown, opts.llvm_before_opt);
  for (const std::string &line : explain) std::cout << "# explain: " << line << "\n";
  return 0;
}

}  // namespace fusejit::tool
