#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/grad_program.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "runtime/compare.h"
#include "runtime/npy.h"
#include "runtime/random.h"
#include "tools/commands.h"
#include "tools/run_report.h"

namespace fusejit::tool {

namespace {

struct BoundInput {
  NodeRef node;
  std::string name;
  std::string source;  // a file path, or "random"
  Buffer value;
};

// Reads `--input NAME=FILE` values and generates the rest, in declaration order.
// The integer inputs that index a gather (index_select, one_hot, an
// embedding), through views and casts, with the smallest extent each
// indexes: generated values for them must be in bounds to run at all.
std::map<const Node *, int64_t> index_extents(const Program &p) {
  std::map<const Node *, int64_t> extents;
  std::set<const Node *> seen;
  std::vector<const Node *> work;
  for (const NodeRef &root : p.output_nodes()) work.push_back(root.get());
  while (!work.empty()) {
    const Node *n = work.back();
    work.pop_back();
    if (!seen.insert(n).second) continue;
    for (const NodeRef &a : n->args) work.push_back(a.get());
    if (n->op != Op::Gather) continue;
    const Node *index = n->args[1].get();
    while ((index->kind() == OpKind::View || index->op == Op::Cast) && index->args.size() == 1)
      index = index->args[0].get();
    if (index->op != Op::Input || !is_integer(index->dtype)) continue;
    int64_t extent = n->args[0]->shape.at(static_cast<size_t>(n->dims.at(0)));
    auto [at, fresh] = extents.emplace(index, extent);
    if (!fresh) at->second = std::min(at->second, extent);
  }
  return extents;
}

std::vector<BoundInput> bind_inputs(const Program &p, const RunOptions &opts) {
  std::map<std::string, std::string> files;
  std::string names;
  for (const NodeRef &in : p.inputs) names += (names.empty() ? "" : ", ") + in->name;
  for (const std::string &spec : opts.inputs) {
    size_t eq = spec.find('=');
    FUSEJIT_USER_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), ValueError,
                       "--input '", spec, "': expected NAME=FILE.npy");
    std::string name = spec.substr(0, eq);
    bool known = false;
    for (const NodeRef &in : p.inputs) known |= in->name == name;
    FUSEJIT_USER_CHECK(known, ValueError, "--input '", spec, "': the program has no input '", name,
                       "' (inputs: ", names, ")");
    FUSEJIT_USER_CHECK(files.emplace(name, spec.substr(eq + 1)).second, ValueError, "--input: '",
                       name, "' is given twice");
  }
  std::map<const Node *, int64_t> extents = index_extents(p);
  std::vector<BoundInput> bound;
  for (size_t k = 0; k < p.inputs.size(); ++k) {
    const NodeRef &in = p.inputs[k];
    auto file = files.find(in->name);
    if (file == files.end()) {
      auto extent = extents.find(in.get());
      Buffer value = extent != extents.end() && extent->second > 0
                         ? seeded_indices(in->dtype, in->shape, opts.seed, k, extent->second)
                         : seeded_input(in->dtype, in->shape, opts.seed, k);
      bound.push_back({in, in->name, "random", std::move(value)});
      continue;
    }
    Buffer value = read_npy(file->second);
    FUSEJIT_USER_CHECK(value.dtype() == in->dtype && value.shape() == in->shape, ShapeError,
                       "--input ", in->name, "=", file->second, ": the file holds ",
                       type_str(value.dtype(), value.shape()), " but the program declares ",
                       type_str(in->dtype, in->shape));
    bound.push_back({in, in->name, file->second, value});
  }
  return bound;
}

std::vector<KernelTiming> time_kernels(const CompiledPlan &compiled,
                                       const std::vector<Buffer> &leaves, int repeat, int threads) {
  std::vector<KernelTiming> times(compiled.plan.kernels.size());
  KernelRunner run = jit_runner(compiled, threads);
  KernelRunner timed = [&](size_t i, const std::vector<const Buffer *> &in,
                           const std::vector<Buffer *> &out) {
    auto start = std::chrono::steady_clock::now();
    run(i, in, out);
    times[i].seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  for (int r = 0; r < repeat; ++r) execute_plan(compiled.plan, leaves, timed);
  return times;
}

}  // namespace

int run_command(const RunOptions &opts) {
  Program p = parse_program_file(opts.program);
  // The gradients are more outputs of the same graph: one plan computes
  // forward and backward, and --check, --out and --repeat cover them too.
  if (opts.grad) p = with_gradients(p);
  Options options = default_options();
  if (!opts.numerics.empty())
    options.numerics = opts.numerics == "strict" ? Numerics::Strict : Numerics::Fast;
  if (opts.threads > 0) options.threads = opts.threads;
  std::vector<BoundInput> inputs = bind_inputs(p, opts);
  InputValues values;
  for (const BoundInput &in : inputs) values.emplace(in.node.get(), in.value);

  std::vector<NodeRef> roots = p.output_nodes();
  PreparedGraph prepared = prepare(roots, options);
  std::vector<Buffer> leaves = leaf_values(prepared.inputs, values);
  std::vector<Buffer> outputs = run_compiled(*prepared.compiled, leaves, options.threads);
  std::vector<KernelTiming> times;
  if (opts.repeat > 0)
    times = time_kernels(*prepared.compiled, leaves, opts.repeat, options.threads);

  std::vector<Comparison> checks;
  bool failed = false;
  if (opts.check) {
    std::vector<Buffer> want = evaluate_reference(roots, values);
    for (size_t i = 0; i < outputs.size(); ++i) {
      checks.push_back(compare_values(outputs[i], want[i], tolerance_for(roots[i])));
      failed |= !checks.back().ok;
    }
  }

  std::vector<std::string> files(outputs.size());
  if (!opts.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.out_dir, ec);
    FUSEJIT_USER_CHECK(!ec, IOError, "--out ", opts.out_dir,
                       ": cannot create directory: ", ec.message());
    for (size_t i = 0; i < outputs.size(); ++i) {
      files[i] = (std::filesystem::path(opts.out_dir) / (p.outputs[i].first + ".npy")).string();
      write_npy(files[i], outputs[i]);
    }
  }

  const std::vector<Kernel> &kernels = prepared.compiled->plan.kernels;
  if (opts.format == "json") {
    nlohmann::json j = {{"program", opts.program},
                        {"seed", opts.seed},
                        {"numerics", numerics_name(options.numerics)},
                        {"threads", options.threads},
                        {"kernels", kernels.size()}};
    for (const BoundInput &in : inputs) {
      nlohmann::json ji = buffer_json(in.name, in.value);
      ji["source"] = in.source;
      j["inputs"].push_back(ji);
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      nlohmann::json jo = buffer_json(p.outputs[i].first, outputs[i]);
      if (!files[i].empty()) jo["file"] = files[i];
      if (opts.check)
        jo["check"] = {{"ok", checks[i].ok},
                       {"worst_error", checks[i].worst_error},
                       {"worst_index", checks[i].worst_index}};
      j["outputs"].push_back(jo);
    }
    for (size_t i = 0; i < times.size(); ++i)
      j["timing"].push_back(timing_json(kernels[i], times[i]));
    std::cout << j.dump(2) << "\n";
    return failed ? 1 : 0;
  }
  for (const BoundInput &in : inputs) {
    std::string source =
        in.source == "random" ? "random, seed " + std::to_string(opts.seed) : in.source;
    std::cout << "input " << in.name << " " << type_str(in.value.dtype(), in.value.shape()) << " ("
              << source << ") =\n"
              << format_buffer(in.value) << "\n";
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::cout << "output " << p.outputs[i].first << " "
              << type_str(outputs[i].dtype(), outputs[i].shape());
    if (!files[i].empty()) std::cout << " -> " << files[i];
    std::cout << " =\n" << format_buffer(outputs[i]) << "\n";
    if (opts.check)
      std::cout << "check " << p.outputs[i].first << ": " << (checks[i].ok ? "ok" : "MISMATCH")
                << " (" << checks[i].describe() << ")\n";
  }
  if (!times.empty()) {
    std::cout << "timing over " << opts.repeat << " run(s), " << options.threads << " thread(s), "
              << numerics_name(options.numerics) << " numerics:\n";
    for (size_t i = 0; i < times.size(); ++i)
      std::cout << "  " << timing_text(kernels[i], times[i]) << "\n";
  }
  return failed ? 1 : 0;
}

}  // namespace fusejit::tool
