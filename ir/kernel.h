// The kernel IR: what one fused loop nest computes. The fusion pass turns the
// graph into a list of kernels; codegen lowers each to one LLVM function.
//
// A kernel iterates over `domain`: the output dims first (in the output's
// order), then `num_reduce` reduced dims. Its body is a list of scalar
// instructions in SSA form (an instruction's args are earlier instructions).
// "Inner" instructions run at every domain point; "outer" ones run once per
// output point, after the reduction (the epilogue). Elementwise kernels have
// no reduced dims and every instruction is inner.
//
// A row kernel (KernelKind::Row) walks rows instead: its domain is
// [rows... | row...], and per row it runs phases in order. Phase p < rows.size()
// is one pass over the row's points evaluating the inner instructions of
// phase p and folding rows[p].value; after it, the outer instructions of
// phase p run once per row (they may read Reduced values of phases <= p).
// The last phase, rows.size(), evaluates its inner instructions at every
// point and writes the inner outputs (row-major over the whole domain); the
// outer outputs are written once per row. Inner instructions may read outer
// ones of earlier phases (the row's max inside exp(x - max)).
//
// Loads read an input buffer through an Access, which is how views (permute,
// expand, reshape, slice, flip, pad, cat, unfold, gather) cost no copy: see
// AccessLayer. Outputs are written contiguously (row-major over the output
// dims).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/node.h"

namespace fusejit {

// An index is valid in [lo, hi); outside it a masked load reads nothing.
struct ValidRange {
  int64_t lo = 0, hi = 0;
  bool operator==(const ValidRange &o) const { return lo == o.lo && hi == o.hi; }
};

// How a load finds its element. Start from the domain index; each layer
// forms p = offset + sum(index[d] * strides[d]). The last layer's p is the
// element's position in the buffer; for an earlier layer, p is unravelled
// (row-major) into the next layer's shape to give that layer's index. One
// layer is a plain strided access; a second appears only when a reshape
// cannot be expressed with strides (a reshape of a permuted or padded view).
// Strides may be negative (flips); the offset is where index 0 starts.
//
// A layer may restrict each index to a range (`valid`, empty for none; a
// pad or a cat source): the point is valid iff every layer's index is in
// its ranges, and a load at an invalid point reads no memory and yields its
// fill value.
//
// A gather adds a term to p whose index is a value, not a domain index: the
// integer instruction `instr`, computed at the same domain point, indexes a
// dim of `extent` elements `stride` apart. A value outside [0, extent) is an
// IndexError (the kernel reads nothing there and reports it); one outside
// `valid` (the gathered dim was padded) makes the point invalid.
struct GatherTerm {
  int instr = -1;
  int64_t stride = 0;
  int64_t extent = 0;
  ValidRange valid;
  bool operator==(const GatherTerm &o) const {
    return instr == o.instr && stride == o.stride && extent == o.extent && valid == o.valid;
  }
  bool masks() const { return valid.lo > 0 || valid.hi < extent; }
};

struct AccessLayer {
  Shape shape;  // layers[0].shape is the kernel's domain
  Strides strides;
  int64_t offset = 0;
  std::vector<ValidRange> valid;  // per dim, or empty: every index valid
  std::vector<GatherTerm> gathers;

  // Whether dim d restricts its index (more than [0, extent)).
  bool masks(size_t d) const {
    return !valid.empty() && (valid[d].lo > 0 || valid[d].hi < shape[d]);
  }
  bool masked() const {
    for (size_t d = 0; d < valid.size(); ++d)
      if (masks(d)) return true;
    return false;
  }
};

struct Access {
  std::vector<AccessLayer> layers;
  // One strided layer, no gathers: the position is affine in the domain index.
  bool is_affine() const { return layers.size() == 1 && layers[0].gathers.empty(); }
  bool masked() const {
    for (const AccessLayer &l : layers) {
      if (l.masked()) return true;
      for (const GatherTerm &g : l.gathers)
        if (g.masks()) return true;
    }
    return false;
  }
  bool gathers() const {
    for (const AccessLayer &l : layers)
      if (!l.gathers.empty()) return true;
    return false;
  }
};

// A Compute applies a graph op (unary, binary or where: op_kind tells which)
// to its args. Valid: 1 where its access's ranges hold and 0 elsewhere, in
// its dtype (the condition of the select that joins the sources of a cat or
// pads a computed value); it reads no buffer. Iota: the position its access
// reaches, in its dtype, or `value` where the access is invalid (the element
// of an arange there); it reads no buffer either. A Load or Iota whose
// access gathers lists the gathered instructions in `args`.
enum class InstrKind { Load, Const, Compute, Reduced, Valid, Iota };

struct Instr {
  InstrKind kind = InstrKind::Const;
  Op op = Op::Const;  // Compute: the graph op it computes
  DType dtype = DType::F32;
  std::vector<int> args;  // earlier instructions
  int input = -1;         // Load: index into Kernel::inputs
  Access access;          // Load, Valid
  double value = 0;       // Const; Load: what a masked load yields where invalid
  bool outer = false;     // evaluated once per output point (epilogue)
  // A row kernel's phase: the pass an inner instruction runs in, the phase
  // after which an outer one is computed; Reduced: whose result it is.
  int phase = 0;

  static Instr load(int input, Access access, DType dtype, bool outer) {
    Instr i;
    i.kind = InstrKind::Load;
    i.input = input, i.access = std::move(access), i.dtype = dtype, i.outer = outer;
    return i;
  }
  static Instr valid(Access access, DType dtype, bool outer) {
    Instr i;
    i.kind = InstrKind::Valid;
    i.access = std::move(access), i.dtype = dtype, i.outer = outer;
    return i;
  }
  static Instr iota(Access access, DType dtype, bool outer) {
    Instr i;
    i.kind = InstrKind::Iota;
    i.access = std::move(access), i.dtype = dtype, i.outer = outer;
    return i;
  }
  static Instr constant(double value, DType dtype, bool outer) {
    Instr i;
    i.kind = InstrKind::Const;
    i.value = value, i.dtype = dtype, i.outer = outer;
    return i;
  }
  static Instr compute(Op op, DType dtype, std::vector<int> args, bool outer) {
    Instr i;
    i.kind = InstrKind::Compute;
    i.op = op, i.dtype = dtype, i.args = std::move(args), i.outer = outer;
    return i;
  }
  // The reduction's result, in the epilogue.
  static Instr reduced(DType dtype) {
    Instr i;
    i.kind = InstrKind::Reduced;
    i.dtype = dtype, i.outer = true;
    return i;
  }
};

enum class KernelKind { Elementwise, Reduce, Matmul, Row };
const char *kernel_kind_name(KernelKind k);  // "elementwise", "reduce", "matmul", "row"

// Buffers are numbered by the plan that owns the kernel.
struct KernelInput {
  int buffer;
  DType dtype;
  Shape shape;  // the buffer's own (contiguous) shape
};

struct KernelOutput {
  int buffer;
  int instr;  // the value written; outer in a reduce kernel
};

// What a reduce or matmul kernel folds over its reduced dims.
struct Reduction {
  int value = -1;      // the inner instruction reduced
  Op op = Op::Sum;     // Sum or Max; a Mean is a Sum whose result is
  double scale = 1.0;  // multiplied by scale (1/n)
  // A matmul: value is the product of an A and a B load, lowered as a GEMM.
  bool contraction = false;
};

struct Kernel {
  std::string name;  // deterministic: k0, k1, ... in execution order
  DType dtype = DType::F32;
  Shape domain;
  size_t num_reduce = 0;
  std::optional<Reduction> reduction;  // none in an elementwise kernel
  std::vector<Reduction> rows;         // a row kernel's reductions, in phase order
  std::vector<KernelInput> inputs;
  std::vector<Instr> body;
  std::vector<KernelOutput> outputs;
  // The graph ops folded into this kernel, in order, for dumps.
  std::vector<Op> ops;

  KernelKind kind() const {
    if (!rows.empty()) return KernelKind::Row;
    if (!reduction) return KernelKind::Elementwise;
    return reduction->contraction ? KernelKind::Matmul : KernelKind::Reduce;
  }
  size_t num_output_dims() const { return domain.size() - num_reduce; }
  Shape output_shape() const { return Shape(domain.begin(), domain.end() - num_reduce); }
  // The reduced dims' extents: a reduction's terms, a row kernel's row.
  Shape reduced_shape() const { return Shape(domain.end() - num_reduce, domain.end()); }
  // The elements output j writes: the output shape's, or the whole domain's
  // for a value computed at every point (elementwise kernels, a row
  // kernel's last phase).
  int64_t output_numel(size_t j) const {
    return body.at(outputs.at(j).instr).outer ? numel(output_shape()) : numel(domain);
  }
};

// The spellings of the kernel's ops, for dumps ("exp", "sum", "matmul", ...).
std::vector<std::string> kernel_op_names(const Kernel &k);

// Checks the kernel's internal consistency (SSA order, access ranks, that
// every load stays inside its buffer); throws InternalError.
void verify_kernel(const Kernel &k);
// The rules of a row kernel's phases (ir/kernel_rows.cpp); verify_kernel
// calls it for KernelKind::Row.
void verify_row_phases(const Kernel &k);

}  // namespace fusejit
