// The graph passes, in a straight line, each followed by the verifier and a
// trace log of the IR: canonicalize, recognize_matmul, canonicalize again
// (the views the recognizer adds often simplify). What `dump --stage
// optimized` shows and what fusion starts from.
#pragma once

#include <string>
#include <vector>

#include "codegen/jit.h"
#include "ir/node.h"

namespace fusejit {

// `notes` (if given) receives one line per matmul recognized or missed.
// `numerics` decides which identities canonicalize may apply.
std::vector<NodeRef> optimize_graph(const std::vector<NodeRef> &roots, Numerics numerics,
                                    std::vector<std::string> *notes = nullptr);

}  // namespace fusejit
