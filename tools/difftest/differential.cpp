#include "tools/difftest/differential.h"

#include <algorithm>

#include "engine/grad_program.h"
#include "engine/realize.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "runtime/compare.h"
#include "runtime/random.h"

namespace fusejit::difftest {

namespace {

// The inputs of `fusejit run` with the default seed 0: one stream per input.
InputValues seeded_inputs(const Program &p) {
  constexpr uint64_t kSeed = 0;
  InputValues values;
  for (size_t k = 0; k < p.inputs.size(); ++k) {
    const NodeRef &in = p.inputs[k];
    Generator g(kSeed * 0x9E3779B97F4A7C15ULL + k);
    values.emplace(in.get(), random_uniform(in->dtype, in->shape, g, -1.0, 1.0));
  }
  return values;
}

// The longest reduction behind `root` times the number of reductions: the
// same scale of tolerance `fusejit run --check` uses (tools/run_command.cpp).
int64_t reduction_scale(const NodeRef &root) {
  int64_t longest = 1, count = 0;
  for (const Node *n : topo_order({root})) {
    int64_t len = 1;
    if (n->kind() == OpKind::Reduce)
      for (int64_t d : n->dims) len *= n->args[0]->shape[d];
    else if (n->kind() == OpKind::Matmul)
      len = n->args[0]->shape.back();
    else
      continue;
    longest = std::max(longest, len);
    ++count;
  }
  return longest * std::max<int64_t>(count, 1);
}

CheckResult compare_outputs(const Program &p) {
  InputValues inputs = seeded_inputs(p);
  std::vector<NodeRef> roots = p.output_nodes();
  std::vector<Buffer> got = evaluate(roots, inputs);
  std::vector<Buffer> want = evaluate_reference(roots, inputs);
  for (size_t i = 0; i < roots.size(); ++i) {
    double tolerance = default_tolerance(want[i].dtype(), reduction_scale(roots[i]));
    Comparison c = compare_values(got[i], want[i], tolerance);
    if (!c.ok)
      return {CheckResult::Kind::Mismatch, "output " + p.outputs[i].first + " " +
                                               type_str(want[i].dtype(), want[i].shape()) + ": " +
                                               c.describe()};
  }
  return {};
}

}  // namespace

CheckResult check_program_text(const std::string &text, bool grad) {
  try {
    Program p = parse_program(text, "<random program>");
    return compare_outputs(grad ? with_gradients(p) : p);
  } catch (const std::exception &e) {
    return {CheckResult::Kind::Error, e.what()};
  }
}

CheckResult check_program(const Program &p, bool grad) {
  return check_program_text(print_program(p), grad);
}

}  // namespace fusejit::difftest
