#include "engine/pass_notes.h"

namespace fusejit {

namespace {

std::string describe(const Node &n) {
  return std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape);
}

// The sentences both forms share.
std::string shared_expensive(const FuseTrace::Materialized &m) {
  return "it has " + std::to_string(m.consumers) + " consumers and recomputing it would cost " +
         std::to_string(m.cost) + " ops in each (limit " + std::to_string(kRecomputeOps) + ")";
}
std::string size_limit(const FuseTrace::Materialized &m) {
  return "its expression has " + std::to_string(m.cost) + " ops, more than one kernel folds (" +
         std::to_string(kMaxKernelOps) + ")";
}
std::string broadcasts(const std::string &consumer) {
  return "its consumer " + consumer + " broadcasts it";
}

// The short form of why a value ends its kernel; "" when the note says nothing
// (an output, fusion off, or a reduction with no consumer to share).
std::string fusion_note_reason(const FuseTrace::Materialized &m) {
  switch (m.reason) {
    case FuseReason::Root:
    case FuseReason::FusionOff:
      return "";
    case FuseReason::SharedExpensive:
      return shared_expensive(m);
    case FuseReason::SizeLimit:
      return size_limit(m);
    case FuseReason::ReduceShared:
      return m.consumers > 1 ? "its value has " + std::to_string(m.consumers) + " consumers" : "";
    case FuseReason::ReduceBroadcast:
      return broadcasts(describe(*m.consumer)) + ", so it needs the whole result first";
    case FuseReason::ReduceIntoReduce:
    case FuseReason::ViewAfterReduce:
    case FuseReason::EpilogueTaken:
      return "its consumer " + describe(*m.consumer) +
             " is not an elementwise op it can take as epilogue";
  }
  return "";
}

}  // namespace

std::string matmul_extents(int64_t m, int64_t k, int64_t n, int64_t batch, bool show_batch) {
  return "M " + std::to_string(m) + ", K " + std::to_string(k) + ", N " + std::to_string(n) +
         (show_batch ? ", batch " + std::to_string(batch) : "");
}

std::string matmul_detail(const MatmulDecision &d) {
  switch (d.miss) {
    case MatmulMiss::None:
      return matmul_extents(d.m, d.k, d.n, d.batch, d.has_batch);
    case MatmulMiss::ZipNotMul:
      return std::string("the zip is '") + op_name(d.zip_op) + "', not '*'";
    case MatmulMiss::ReducedDimBroadcast:
      return "the reduced dim " + std::to_string(d.dim) + " is broadcast in one operand";
    case MatmulMiss::DimBroadcastInBoth:
      return "dim " + std::to_string(d.dim) + " is broadcast in both operands";
    case MatmulMiss::NothingReduced:
      return "it reduces no dim";
    case MatmulMiss::NarrowContraction:
      return "a contraction over " + std::to_string(d.reduced_dims) + " dims with " +
             matmul_extents(d.m, d.k, d.n, d.batch, d.has_batch) + ": M or N is below " +
             std::to_string(kNarrow) + ", where a reduction is faster";
    case MatmulMiss::BatchedDot:
      return "every dim belongs to both operands: a batched dot product, not a matmul";
  }
  return "";
}

std::string matmul_note(const MatmulDecision &d) {
  std::string what = describe(*d.sum) + " of " + describe(*d.sum->args[0]);
  return (d.found() ? "matmul from " : "not a matmul: ") + what + ": " + matmul_detail(d);
}

std::vector<std::string> fusion_notes(const FuseTrace &trace) {
  std::vector<std::string> notes;
  for (const FuseTrace::Materialized &m : trace.materialized) {
    std::string why = fusion_note_reason(m);
    if (why.empty()) continue;
    bool epilogue = m.anchor && m.anchor != m.value;
    notes.push_back(describe(*m.value) +
                    (epilogue ? " (epilogue of " + describe(*m.anchor) + ")" : "") +
                    " is materialized: " + why);
  }
  return notes;
}

const char *fusion_reason_tag(FuseReason r) {
  switch (r) {
    case FuseReason::Root:
      return "root";
    case FuseReason::SharedExpensive:
      return "shared";
    case FuseReason::SizeLimit:
      return "size-limit";
    case FuseReason::ReduceShared:
      return "shared-reduction";
    case FuseReason::ReduceBroadcast:
      return "reduce-then-broadcast";
    case FuseReason::ReduceIntoReduce:
      return "reduce-into-reduce";
    case FuseReason::ViewAfterReduce:
      return "view-after-reduce";
    case FuseReason::EpilogueTaken:
      return "epilogue-taken";
    case FuseReason::FusionOff:
      return "fusion-off";
  }
  return "?";
}

std::string fusion_reason(const FuseTrace::Materialized &m, const FusionNames &names) {
  switch (m.reason) {
    case FuseReason::Root:
      return "a program output" + (names.readers.empty()
                                       ? std::string()
                                       : ", stored once and read back by " + names.readers);
    case FuseReason::SharedExpensive:
      return shared_expensive(m);
    case FuseReason::SizeLimit:
      return size_limit(m);
    case FuseReason::ReduceShared:
      return "it has " + std::to_string(m.consumers) +
             " consumers, and a reduction's result is stored rather than recomputed in each";
    case FuseReason::ReduceBroadcast:
      return broadcasts(names.consumer) + ", so the whole reduction must finish first";
    case FuseReason::ReduceIntoReduce:
      return "it feeds the prologue of the reduction " + names.consumer +
             ", and a kernel holds one reduction";
    case FuseReason::ViewAfterReduce:
      return "its consumer " + names.consumer +
             " reorders it, and an epilogue takes only elementwise ops and reshapes (which keep "
             "the row-major order)";
    case FuseReason::EpilogueTaken:
      return "its consumer " + names.consumer +
             " is already the epilogue of another reduction, in " + names.consumer_kernel;
    case FuseReason::FusionOff:
      return "fusion is off: every op is its own kernel";
  }
  return "?";
}

}  // namespace fusejit
