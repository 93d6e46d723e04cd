#include "engine/optimize.h"

#include "engine/canonicalize.h"
#include "ir/log.h"
#include "ir/printer.h"
#include "ir/program.h"
#include "ir/verifier.h"

namespace fusejit {

namespace {

void after_pass(const char *pass, const std::vector<NodeRef> &roots) {
  verify(roots);
  if (!logger().should_log(spdlog::level::trace)) return;
  Program p;
  for (size_t i = 0; i < roots.size(); ++i)
    p.outputs.emplace_back("r" + std::to_string(i), roots[i]);
  logger().trace("after {}:\n{}", pass, print_program(p));
}

}  // namespace

OptimizedGraph optimize_graph_stages(const std::vector<NodeRef> &roots, Numerics numerics) {
  OptimizedGraph out;
  after_pass("building", roots);
  out.canonical = canonicalize(roots, numerics);
  after_pass("canonicalize", out.canonical);
  std::vector<NodeRef> g = recognize_matmul(out.canonical, &out.matmuls);
  after_pass("recognize_matmul", g);
  out.optimized = canonicalize(g, numerics);
  after_pass("canonicalize", out.optimized);
  return out;
}

std::vector<NodeRef> optimize_graph(const std::vector<NodeRef> &roots, Numerics numerics) {
  return optimize_graph_stages(roots, numerics).optimized;
}

}  // namespace fusejit
