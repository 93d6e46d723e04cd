#include "engine/optimize.h"

#include "engine/canonicalize.h"
#include "engine/log.h"
#include "engine/recognize_matmul.h"
#include "ir/printer.h"
#include "ir/program.h"
#include "ir/verifier.h"

namespace fusejit {

namespace {

void after_pass(const char *pass, const std::vector<NodeRef> &roots) {
  verify(roots);
  if (!spdlog::should_log(spdlog::level::trace)) return;
  Program p;
  for (size_t i = 0; i < roots.size(); ++i) p.outputs.push_back({"r" + std::to_string(i), roots[i]});
  spdlog::trace("after {}:\n{}", pass, print_program(p));
}

}  // namespace

std::vector<NodeRef> optimize_graph(const std::vector<NodeRef> &roots, Numerics numerics,
                                    std::vector<std::string> *notes) {
  init_logging();
  after_pass("building", roots);
  std::vector<NodeRef> g = canonicalize(roots, numerics);
  after_pass("canonicalize", g);
  g = recognize_matmul(g, notes);
  after_pass("recognize_matmul", g);
  g = canonicalize(g, numerics);
  after_pass("canonicalize", g);
  return g;
}

}  // namespace fusejit
