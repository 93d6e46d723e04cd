// The graph passes, in a straight line, each followed by the verifier and a
// trace log of the IR: canonicalize, recognize_matmul, canonicalize again
// (the views the recognizer adds often simplify). What `dump --stage
// optimized` shows and what fusion starts from.
#pragma once

#include <vector>

#include "codegen/jit.h"
#include "engine/recognize_matmul.h"
#include "ir/node.h"

namespace fusejit {

// Each stage's roots, in the order of the roots given.
struct OptimizedGraph {
  std::vector<NodeRef> canonical;       // after the first canonicalize
  std::vector<NodeRef> optimized;       // after all of them
  std::vector<MatmulDecision> matmuls;  // what recognize_matmul decided, about `canonical`
};

// `numerics` decides which identities canonicalize may apply.
OptimizedGraph optimize_graph_stages(const std::vector<NodeRef> &roots, Numerics numerics);
// The optimized roots alone.
std::vector<NodeRef> optimize_graph(const std::vector<NodeRef> &roots, Numerics numerics);

}  // namespace fusejit
