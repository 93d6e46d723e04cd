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
  InputValues values;
  for (size_t k = 0; k < p.inputs.size(); ++k)
    values.emplace(p.inputs[k].get(), seeded_input(p.inputs[k]->dtype, p.inputs[k]->shape, 0, k));
  return values;
}

CheckResult compare_outputs(const Program &p) {
  InputValues inputs = seeded_inputs(p);
  std::vector<NodeRef> roots = p.output_nodes();
  std::vector<Buffer> got = evaluate(roots, inputs);
  std::vector<Buffer> want = evaluate_reference(roots, inputs);
  for (size_t i = 0; i < roots.size(); ++i) {
    Comparison c = compare_values(got[i], want[i], tolerance_for(roots[i]));
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
