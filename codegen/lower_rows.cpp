// A row kernel as loops: for each row (the output dims, the first over the
// caller's [begin, end)), each phase's reduction is one pass over the row's
// points, then the outer (per row) instructions it enables, then one pass
// storing the per-point outputs, then the per-row outputs. The row is read
// once per pass; a row of up to a few hundred KiB stays in cache between
// passes, so memory sees it about once.
//
// A costly value a later pass computes again (softmax's exp(x - max) is
// summed in one pass and divided in the store pass) is kept instead: the
// first pass writes it to a row-long scratch on the stack and the later ones
// read it back from L1 or L2, so each point's exp runs once. The value is
// the same either way (one routine, the same operands), so the interpreter
// and the kernel evaluator, which recompute it, still agree bit for bit.
#include "codegen/lower_rows.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "codegen/counted_loop.h"
#include "codegen/fast_math.h"
#include "codegen/lower_kernel.h"
#include "codegen/lower_scalar.h"
#include "ir/error.h"
#include "ir/kernel_printer.h"
#include "ir/printer.h"

namespace fusejit {

namespace {

// As lower_kernel's: no sum accumulator takes more terms than this, so a
// long f32 row keeps its accuracy (blocks of the innermost row dim).
constexpr int64_t kRowSumBlock = 4096;

// Passes over rows at least this long stay rolled loops: unrolled fully,
// LLVM finds the passes load the same row and keeps it in registers
// across them, spilling most of it to the stack (layer norm ran at 0.77x
// its three separate kernels). Shorter rows unroll as LLVM sees fit.
constexpr int64_t kRolledRow = 256;

// The stack a kernel may take for kept values: rows longer than this (in
// total over the kept values) recompute them instead.
constexpr int64_t kKeptBytes = 128 * 1024;

// Ops worth a scratch store and load rather than computing again.
bool is_costly(Op op) {
  switch (op) {
    case Op::Exp:
    case Op::Log:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::Sqrt:
    case Op::Inv:
    case Op::Div:
    case Op::Pow:
      return true;
    default:
      return false;
  }
}

// Per instruction of a row kernel, the instruction of an earlier pass whose
// value it is, or -1: the later passes' recomputations of a costly value
// worth keeping. Only the outermost such value of a computation is kept
// (exp(x - m), not also x - m), and only while the scratch fits.
std::vector<int> kept_values(const Kernel &k) {
  const std::vector<Instr> &body = k.body;
  // Value numbers: inner instructions equal in kind, operands and access
  // (whatever their phase) get one number; outer ones are their own.
  std::vector<int> number(body.size());
  std::map<std::string, int> numbers;
  for (size_t i = 0; i < body.size(); ++i) {
    const Instr &in = body[i];
    std::string key;
    if (in.outer || in.kind == InstrKind::Reduced) {
      key = "#" + std::to_string(i);
    } else {
      key = std::to_string(static_cast<int>(in.kind)) + " " + op_name(in.op) + " " +
            dtype_name(in.dtype) + " " + std::to_string(in.input) + " " + format_float(in.value);
      if (!in.access.layers.empty()) key += " " + print_access(in.access, k.num_reduce);
      if (in.kind == InstrKind::Const) key += in.outer ? " o" : " i";
    }
    for (int a : in.args) key += " " + std::to_string(number.at(a));
    number[i] = numbers.emplace(key, static_cast<int>(numbers.size())).first->second;
  }
  // The first computation of each number: the earliest pass, then the
  // earliest instruction.
  std::map<int, int> first;
  for (size_t i = 0; i < body.size(); ++i) {
    const Instr &in = body[i];
    if (in.outer || in.kind == InstrKind::Const) continue;
    auto [it, fresh] = first.emplace(number[i], static_cast<int>(i));
    if (!fresh && in.phase < body[it->second].phase) it->second = static_cast<int>(i);
  }
  std::vector<bool> costly(body.size(), false);
  std::vector<int> source(body.size(), -1);
  for (size_t i = 0; i < body.size(); ++i) {
    const Instr &in = body[i];
    if (in.outer || in.kind == InstrKind::Const) continue;
    costly[i] = in.kind == InstrKind::Compute && is_costly(in.op);
    for (int a : in.args) costly[i] = costly[i] || costly[a];
    int from = first.at(number[i]);
    if (costly[i] && body[from].phase < in.phase) source[i] = from;
  }
  // Keep a recomputation only where something not itself recomputed reads
  // it: an instruction of its pass, a reduction or an output.
  std::vector<bool> read(body.size(), false);
  for (size_t i = 0; i < body.size(); ++i)
    if (source[i] < 0)
      for (int a : body[i].args) read[a] = true;
  for (const Reduction &r : k.rows) read[r.value] = true;
  for (const KernelOutput &o : k.outputs) read[o.instr] = true;
  int64_t row = numel(k.reduced_shape()), bytes = 0;
  std::set<int> stored;  // the sources given a scratch so far
  for (size_t i = 0; i < body.size(); ++i) {
    if (source[i] < 0) continue;
    if (!read[i]) {
      source[i] = -1;
    } else if (!stored.count(source[i])) {
      int64_t size = row * static_cast<int64_t>(dtype_size(body[i].dtype));
      if (bytes + size > kKeptBytes)
        source[i] = -1;
      else
        bytes += size, stored.insert(source[i]);
    }
  }
  return source;
}

class RowLowering {
 public:
  RowLowering(const Kernel &k, llvm::Module &module)
      : k_(k), module_(module), b_(module.getContext()) {}

  void run(Numerics numerics) {
    b_.setFastMathFlags(fast_math_flags(numerics));
    KernelBody body = define_kernel_body(module_, k_, false);
    buffers_ = std::move(body.buffers);
    status_ = body.status;
    b_.SetInsertPoint(&body.fn->getEntryBlock());
    index_.assign(k_.domain.size(), b_.getInt64(0));
    reduced_.assign(k_.rows.size(), nullptr);
    if (numel(k_.domain) > 0) lower(body);
    b_.CreateRetVoid();
    define_abi_entry(module_, body.fn, k_.inputs.size() + k_.outputs.size());
  }

 private:
  llvm::Type *type_of(DType t) { return llvm_type(module_.getContext(), t); }

  void lower(const KernelBody &body) {
    llvm::IRBuilder<> entry(&body.fn->getEntryBlock(), body.fn->getEntryBlock().begin());
    kept_ = kept_values(k_);
    scratch_.assign(k_.body.size(), nullptr);
    int64_t row = numel(k_.reduced_shape());
    for (int from : kept_)
      if (from >= 0 && !scratch_[from])
        scratch_[from] = entry.CreateAlloca(type_of(k_.body[from].dtype), entry.getInt64(row),
                                            "kept_" + std::to_string(from));
    std::vector<llvm::AllocaInst *> total, block;
    for (size_t p = 0; p < k_.rows.size(); ++p) {
      llvm::Type *type = type_of(k_.body.at(k_.rows[p].value).dtype);
      total.push_back(entry.CreateAlloca(type, nullptr, "acc" + std::to_string(p)));
      block.push_back(entry.CreateAlloca(type, nullptr, "block" + std::to_string(p)));
    }
    std::vector<CountedLoop> rows;
    for (size_t d = 0; d < k_.num_output_dims(); ++d) {
      llvm::Value *lo = d == 0 ? body.begin : b_.getInt64(0);
      llvm::Value *hi = d == 0 ? body.end : b_.getInt64(uint64_t(k_.domain[d]));
      rows.emplace_back(b_, lo, hi, "row" + std::to_string(d));
      index_[d] = rows.back().index();
    }
    for (size_t p = 0; p < k_.rows.size(); ++p) {
      const Reduction &red = k_.rows[p];
      llvm::Type *type = type_of(k_.body.at(red.value).dtype);
      b_.CreateStore(identity(red.op, type), total[p]);
      int phase = static_cast<int>(p);
      auto fold = [&](llvm::AllocaInst *into, llvm::Value *v) {
        b_.CreateStore(combine(red.op, b_.CreateLoad(type, into), v), into);
      };
      walk_row(
          red.op == Op::Sum, [&] { b_.CreateStore(identity(red.op, type), block[p]); },
          [&] {
            emit_instrs(false, phase);
            fold(red.op == Op::Sum ? block[p] : total[p], values_.at(red.value));
          },
          [&] { fold(total[p], b_.CreateLoad(type, block[p])); });
      llvm::Value *r = b_.CreateLoad(type, total[p], "reduced" + std::to_string(p));
      if (red.scale != 1.0) r = b_.CreateFMul(r, llvm::ConstantFP::get(type, red.scale));
      reduced_[p] = r;
      emit_instrs(true, phase);
    }
    const int stores = static_cast<int>(k_.rows.size());
    bool per_point = false;
    for (const KernelOutput &o : k_.outputs) per_point |= !k_.body.at(o.instr).outer;
    if (per_point)
      walk_row(
          false, [] {},
          [&] {
            emit_instrs(false, stores);
            store(false);
          },
          [] {});
    for (size_t d = k_.num_output_dims(); d < k_.domain.size(); ++d) index_[d] = b_.getInt64(0);
    store(true);
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) it->close();
  }

  // Loops over the row's points (the reduced dims, row-major), calling
  // `point` at each. With `blocked`, the innermost dim runs in blocks of
  // kRowSumBlock, `open` and `close` around each block.
  void walk_row(bool blocked, const std::function<void()> &open, const std::function<void()> &point,
                const std::function<void()> &close) {
    size_t first = k_.num_output_dims(), last = k_.domain.size() - 1;
    std::vector<CountedLoop> loops;
    for (size_t d = first; d < last; ++d) {
      loops.emplace_back(b_, b_.getInt64(0), b_.getInt64(uint64_t(k_.domain[d])),
                         "r" + std::to_string(d - first));
      index_[d] = loops.back().index();
    }
    int64_t extent = k_.domain[last];
    std::string name = "r" + std::to_string(last - first);
    if (blocked && extent > kRowSumBlock) {
      int64_t blocks = (extent + kRowSumBlock - 1) / kRowSumBlock;
      CountedLoop block(b_, b_.getInt64(0), b_.getInt64(uint64_t(blocks)), name + ".block");
      llvm::Value *start =
          b_.CreateMul(block.index(), b_.getInt64(uint64_t(kRowSumBlock)), "", true, true);
      llvm::Value *next = b_.CreateAdd(start, b_.getInt64(uint64_t(kRowSumBlock)), "", true, true);
      llvm::Value *end = b_.CreateSelect(b_.CreateICmpSLT(next, b_.getInt64(uint64_t(extent))),
                                         next, b_.getInt64(uint64_t(extent)), name + ".end");
      open();
      CountedLoop inner(b_, start, end, name);
      index_[last] = inner.index();
      point();
      if (extent >= kRolledRow) inner.keep_rolled();
      inner.close();
      close();
      block.close();
    } else {
      if (blocked) open();
      CountedLoop inner(b_, b_.getInt64(0), b_.getInt64(uint64_t(extent)), name);
      index_[last] = inner.index();
      point();
      if (extent >= kRolledRow) inner.keep_rolled();
      inner.close();
      if (blocked) close();
    }
    for (auto it = loops.rbegin(); it != loops.rend(); ++it) it->close();
    // The loops' indices do not reach past them: per-row loads after the
    // pass read the row at its first point.
    for (size_t d = first; d <= last; ++d) index_[d] = b_.getInt64(0);
  }

  static llvm::Value *identity(Op op, llvm::Type *type) {
    return op == Op::Max ? llvm::ConstantFP::getInfinity(type, true)
                         : llvm::ConstantFP::get(type, 0.0);
  }
  llvm::Value *combine(Op op, llvm::Value *a, llvm::Value *v) {
    return op == Op::Max ? b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, v)
                         : b_.CreateFAdd(a, v);
  }

  // The inner instructions of `phase` at the current point, or its outer
  // (per row) ones.
  void emit_instrs(bool outer, int phase) {
    values_.resize(k_.body.size(), nullptr);
    llvm::Value *at = nullptr;  // the point's place in a kept value's scratch
    auto scratch = [&](int from) {
      if (!at) at = row_position();
      llvm::Type *type = type_of(k_.body[from].dtype);
      return b_.CreateInBoundsGEP(type, scratch_[from], at);
    };
    for (size_t i = 0; i < k_.body.size(); ++i) {
      const Instr &in = k_.body[i];
      if (in.kind == InstrKind::Const) {
        values_[i] = emit_constant(type_of(in.dtype), in.value);
        continue;
      }
      if (in.outer != outer || in.phase != phase) continue;
      int from = outer ? -1 : kept_[i];
      values_[i] = from >= 0 ? b_.CreateLoad(type_of(in.dtype), scratch(from)) : emit_instr(in);
    }
    if (outer) return;
    for (size_t i = 0; i < k_.body.size(); ++i)
      if (scratch_[i] && k_.body[i].phase == phase)
        b_.CreateStore(values_[i], scratch(static_cast<int>(i)));
  }

  // The current point's row-major position within its row.
  llvm::Value *row_position() {
    Strides strides = contiguous_strides(k_.domain);
    for (size_t d = 0; d < k_.num_output_dims(); ++d) strides[d] = 0;
    return emit_position(b_, Access{{AccessLayer{k_.domain, strides, 0, {}, {}}}}, index_);
  }

  llvm::Value *emit_instr(const Instr &in) {
    switch (in.kind) {
      case InstrKind::Load:
        return emit_load(b_, type_of(in.dtype), buffers_.at(in.input),
                         numel(k_.inputs.at(in.input).shape), in.access, index_, in.value,
                         gathered());
      case InstrKind::Iota:
        return emit_iota(b_, type_of(in.dtype), in, index_, gathered());
      case InstrKind::Valid:
        return emit_valid(b_, type_of(in.dtype), in, index_, gathered());
      case InstrKind::Reduced:
        return reduced_.at(static_cast<size_t>(in.phase));
      case InstrKind::Const:
      case InstrKind::Compute:
        break;
    }
    std::vector<llvm::Value *> args;
    for (int a : in.args) args.push_back(values_.at(a));
    return emit_compute(b_, in, args, arg_dtypes(k_, in), status_);
  }

  // The values a gathering access indexes by: the instructions emitted so far.
  GatherValues gathered() {
    return {[this](int i) { return values_.at(static_cast<size_t>(i)); }, status_};
  }

  // The per-point outputs (row-major over the domain) or the per-row ones
  // (row-major over the output dims).
  void store(bool outer) {
    Shape rows = k_.output_shape();
    Strides strides = outer ? contiguous_strides(rows) : contiguous_strides(k_.domain);
    strides.resize(k_.domain.size(), 0);
    Access at{{AccessLayer{k_.domain, strides, 0, {}, {}}}};
    llvm::Value *p = nullptr;
    for (size_t j = 0; j < k_.outputs.size(); ++j) {
      if (k_.body.at(k_.outputs[j].instr).outer != outer) continue;
      if (!p) p = emit_position(b_, at, index_);
      llvm::Value *v = values_.at(k_.outputs[j].instr);
      llvm::Value *out = buffers_.at(k_.inputs.size() + j);
      b_.CreateStore(v, b_.CreateInBoundsGEP(v->getType(), out, p));
    }
  }

  const Kernel &k_;
  llvm::Module &module_;
  llvm::IRBuilder<> b_;
  std::vector<llvm::Value *> buffers_;
  llvm::Value *status_ = nullptr;            // the kernel's status slot, or null
  std::vector<llvm::Value *> index_;         // the current domain point, one i64 per dim
  std::vector<llvm::Value *> values_;        // per instruction, once emitted
  std::vector<llvm::Value *> reduced_;       // per phase, once reduced
  std::vector<int> kept_;                    // per instruction: kept_values
  std::vector<llvm::AllocaInst *> scratch_;  // per kept instruction, its row
};

}  // namespace

void lower_rows(const Kernel &k, Numerics numerics, llvm::Module &module) {
  FUSEJIT_INTERNAL_CHECK(k.kind() == KernelKind::Row, "lower_rows: ", k.name,
                         " is not a row kernel");
  RowLowering(k, module).run(numerics);
}

}  // namespace fusejit
