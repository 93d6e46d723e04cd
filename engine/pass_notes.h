// How the passes' decisions read as text. The passes return data (fuse's
// FuseTrace, recognize_matmul's MatmulDecision); every sentence about them is
// worded here: the notes the kernels stage prints and the log shows, and the
// reasons `--explain` gives (a longer form, naming values as the graph prints).
#pragma once

#include <string>
#include <vector>

#include "engine/fuse.h"
#include "engine/recognize_matmul.h"

namespace fusejit {

// "M 2, K 3, N 4" with ", batch B" when `batch` is shown.
std::string matmul_extents(int64_t m, int64_t k, int64_t n, int64_t batch, bool show_batch);

// The extents of a match, or what broke the pattern of a near miss:
// "the zip is '+', not '*'".
std::string matmul_detail(const MatmulDecision &d);

// "matmul from sum f32[2, 2] of * f32[2, 3, 2]: M 2, K 3, N 2", or
// "not a matmul: sum ... of ...: <detail>".
std::string matmul_note(const MatmulDecision &d);

// One note per value fusion materialized for a reason other than being an
// output: "tanh f32[5, 7] is materialized: it has 2 consumers and ...".
std::vector<std::string> fusion_notes(const FuseTrace &trace);

// The short tag of a reason: "root", "shared", "size-limit", ...
const char *fusion_reason_tag(FuseReason r);

// What `--explain` says after the tag, given how it names the value's
// consumer, the kernels reading the value, and the kernel that already
// computes the consumer (EpilogueTaken).
struct FusionNames {
  std::string consumer;
  std::string readers;
  std::string consumer_kernel;
};
std::string fusion_reason(const FuseTrace::Materialized &m, const FusionNames &names);

}  // namespace fusejit
