#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/dump.h"
#include "engine/pipeline.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "tools/commands.h"

namespace fusejit::tool {

namespace {

// The kernels stage as the JSON object of DESIGN.md, plus each buffer.
nlohmann::json kernels_json(const KernelsView &view) {
  const Plan &plan = view.plan;
  nlohmann::json j;
  j["kernels"] = nlohmann::json::array();
  for (const Kernel &k : plan.kernels) {
    nlohmann::json jk = {{"name", k.name},
                         {"kind", kernel_kind_name(k.kind)},
                         {"dtype", dtype_name(k.dtype)},
                         {"ops", k.ops},
                         {"domain", k.domain},
                         {"reduced_dims", k.num_reduce}};
    jk["inputs"] = nlohmann::json::array();
    for (const KernelInput &in : k.inputs) jk["inputs"].push_back(view.buffer_names[in.buffer]);
    jk["outputs"] = nlohmann::json::array();
    for (const KernelOutput &out : k.outputs) jk["outputs"].push_back(view.buffer_names[out.buffer]);
    j["kernels"].push_back(jk);
  }
  j["buffers"] = nlohmann::json::array();
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlanBuffer &pb = plan.buffers[b];
    const char *role = pb.role == PlanBuffer::Role::Input    ? "input"
                       : pb.role == PlanBuffer::Role::Output ? "output"
                                                             : "temp";
    j["buffers"].push_back({{"name", view.buffer_names[b]},
                            {"role", role},
                            {"dtype", dtype_name(pb.dtype)},
                            {"shape", pb.shape},
                            {"bytes", pb.bytes()}});
  }
  j["intermediate_bytes"] = plan.intermediate_bytes;
  j["unfused_intermediate_bytes"] = plan.unfused_intermediate_bytes;
  j["notes"] = plan.notes;
  return j;
}

}  // namespace

int dump_command(const DumpOptions &opts) {
  Program p = parse_program_file(opts.program);
  Stage stage = parse_stage(opts.stage);
  if (!opts.numerics.empty()) set_numerics(opts.numerics == "strict" ? Numerics::Strict : Numerics::Fast);
  if (opts.format == "text") {
    std::cout << dump(p, stage, opts.llvm_before_opt);
    return 0;
  }
  if (opts.format == "json" && stage == Stage::Kernels) {
    std::cout << kernels_json(kernels_view(p)).dump(2) << "\n";
    return 0;
  }
  throw ValueError("dump: --format " + opts.format + " is not available for --stage " + opts.stage +
                   " (available: text for every stage, json for kernels)");
}

}  // namespace fusejit::tool
