#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/realize.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "runtime/npy.h"
#include "runtime/random.h"
#include "tools/commands.h"

namespace fusejit::tool {

namespace {

// Outputs with at most this many elements are printed in full.
constexpr int64_t kPrintLimit = 256;

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// numpy-style nested brackets, row-major.
void format_values(const Buffer &b, size_t dim, int64_t &i, std::ostringstream &os) {
  if (dim == b.shape().size()) {
    os << format_number(b.get(i++));
    return;
  }
  os << "[";
  for (int64_t k = 0; k < b.shape()[dim]; ++k) {
    if (k) os << (dim + 1 == b.shape().size() ? ", " : ",\n" + std::string(dim + 1, ' '));
    format_values(b, dim + 1, i, os);
  }
  os << "]";
}

std::string format_buffer(const Buffer &b) {
  if (b.numel() > kPrintLimit)
    return "(" + std::to_string(b.numel()) + " elements; use --out to write them)";
  std::ostringstream os;
  int64_t i = 0;
  format_values(b, 0, i, os);
  return os.str();
}

struct BoundInput {
  NodeRef node;
  std::string name;
  std::string source;  // a file path, or "random"
  Buffer value;
};

// Reads `--input NAME=FILE` values and generates the rest, in declaration order.
std::vector<BoundInput> bind_inputs(const Program &p, const RunOptions &opts) {
  std::map<std::string, std::string> files;
  for (const std::string &spec : opts.inputs) {
    size_t eq = spec.find('=');
    FUSEJIT_USER_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), ValueError,
                       "--input '", spec, "': expected NAME=FILE.npy");
    std::string name = spec.substr(0, eq);
    bool known = false;
    std::string names;
    for (const NodeRef &in : p.inputs) {
      known |= in->name == name;
      names += (names.empty() ? "" : ", ") + in->name;
    }
    FUSEJIT_USER_CHECK(known, ValueError, "--input '", spec, "': the program has no input '", name,
                       "' (inputs: ", names, ")");
    FUSEJIT_USER_CHECK(files.emplace(name, spec.substr(eq + 1)).second, ValueError,
                       "--input: '", name, "' is given twice");
  }
  std::vector<BoundInput> bound;
  for (size_t k = 0; k < p.inputs.size(); ++k) {
    const NodeRef &in = p.inputs[k];
    auto file = files.find(in->name);
    if (file == files.end()) {
      // One stream per input, so adding an input does not change the others.
      Generator g(opts.seed * 0x9E3779B97F4A7C15ULL + k);
      bound.push_back({in, in->name, "random", random_uniform(in->dtype, in->shape, g, -1.0, 1.0)});
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

nlohmann::json buffer_json(const std::string &name, const Buffer &b) {
  nlohmann::json j = {{"name", name}, {"dtype", dtype_name(b.dtype())}, {"shape", b.shape()}};
  if (b.numel() <= kPrintLimit) {
    nlohmann::json values = nlohmann::json::array();
    for (int64_t i = 0; i < b.numel(); ++i) {
      double v = b.get(i);
      // JSON has no NaN or infinity; they are written as strings.
      values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(format_number(v)));
    }
    j["values"] = values;
  }
  return j;
}

}  // namespace

int run_command(const RunOptions &opts) {
  Program p = parse_program_file(opts.program);
  std::vector<BoundInput> inputs = bind_inputs(p, opts);
  InputValues values;
  for (const BoundInput &in : inputs) values.emplace(in.node.get(), in.value);
  std::vector<Buffer> outputs = evaluate(p.output_nodes(), values);

  std::vector<std::string> files(outputs.size());
  if (!opts.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.out_dir, ec);
    FUSEJIT_USER_CHECK(!ec, IOError, "--out ", opts.out_dir, ": cannot create directory: ",
                       ec.message());
    for (size_t i = 0; i < outputs.size(); ++i) {
      files[i] = (std::filesystem::path(opts.out_dir) / (p.outputs[i].first + ".npy")).string();
      write_npy(files[i], outputs[i]);
    }
  }

  if (opts.format == "json") {
    nlohmann::json j = {{"program", opts.program}, {"seed", opts.seed}};
    for (const BoundInput &in : inputs) {
      nlohmann::json ji = buffer_json(in.name, in.value);
      ji["source"] = in.source;
      j["inputs"].push_back(ji);
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      nlohmann::json jo = buffer_json(p.outputs[i].first, outputs[i]);
      if (!files[i].empty()) jo["file"] = files[i];
      j["outputs"].push_back(jo);
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (const BoundInput &in : inputs) {
    std::string source = in.source == "random" ? "random, seed " + std::to_string(opts.seed)
                                               : in.source;
    std::cout << "input " << in.name << " " << type_str(in.value.dtype(), in.value.shape())
              << " (" << source << ") =\n" << format_buffer(in.value) << "\n";
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::cout << "output " << p.outputs[i].first << " "
              << type_str(outputs[i].dtype(), outputs[i].shape());
    if (!files[i].empty()) std::cout << " -> " << files[i];
    std::cout << " =\n" << format_buffer(outputs[i]) << "\n";
  }
  return 0;
}

}  // namespace fusejit::tool
